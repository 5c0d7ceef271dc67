// HubService: construction, claims and the long-poll waiters of this
// process, wake-ups, and the lease and retention timers.
#include <algorithm>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "service.hpp"
#include "service_timers.hpp"
#include "util.hpp"

namespace outpost::hub {

namespace asio = boost::asio;

struct HubService::Waiter {
  std::uint64_t id = 0;
  std::string token_id;
  std::string pool_id;
  std::string instance_id;
  int capacity = 1;
  ClaimReply reply;
  std::unique_ptr<asio::steady_timer> timer;
  bool in_flight = false;         // a store claim for it is under way (no lock held)
  bool expired = false;           // its wait ended (or a newer claim superseded it) while in flight
  std::optional<Answer> revoked;  // its token was revoked while in flight
};

namespace {

Answer no_jobs() {
  return Answer::ok(Json{{"jobs", Json::array()}});
}

}  // namespace

HubService::HubService(asio::any_io_executor io, asio::any_io_executor store_exec,
                       std::shared_ptr<JobStore> store, StoreOptions options,
                       std::shared_ptr<const Clock> clock, std::shared_ptr<HubMetrics> metrics)
    : io_(std::move(io)),
      store_exec_(std::move(store_exec)),
      store_(std::move(store)),
      options_(options),
      clock_(clock ? std::move(clock) : std::make_shared<SystemClock>()),
      metrics_(metrics ? std::move(metrics) : std::make_shared<HubMetrics>()),
      timers_(std::make_unique<Timers>(io_)) {}

HubService::~HubService() = default;

void HubService::start() {
  std::weak_ptr<HubService> weak = shared_from_this();
  store_->on_jobs_available([weak](const std::string& pool_id) {
    if (auto self = weak.lock()) self->on_wakeup(pool_id);
  });
  asio::post(store_exec_, [weak] {
    auto self = weak.lock();
    if (!self) return;
    try {
      self->arm_sweep(self->store_->next_lease_expiry());
    } catch (const StoreUnavailable&) {
      self->arm_sweep(std::nullopt);
    }
  });
  arm_retention();
  arm_scheduler(clock_->now());
}

void HubService::shutdown() {
  std::lock_guard lock(mu_);
  shut_down_ = true;
  for (auto& w : waiters_) {
    if (!w->in_flight) answer_waiter(w, no_jobs());
    w->expired = true;
  }
  std::erase_if(waiters_, [](const auto& w) { return !w->in_flight; });
  timers_->sweep.cancel();
  timers_->retention.cancel();
  timers_->sweep_due.reset();
  timers_->scheduler.cancel();
  timers_->scheduler_due.reset();
  end_probes();
}

void HubService::on_wakeup(const std::string& pool_id) {
  // Called by the store, possibly on its own thread: count the wake-up (a
  // claim racing with it re-checks), then serve the pool's waiters where
  // store calls may block.
  {
    std::lock_guard lock(mu_);
    ++wake_gen_[pool_id];
    const bool anyone = std::any_of(waiters_.begin(), waiters_.end(),
                                    [&](const auto& w) { return w->pool_id == pool_id; });
    if (!anyone || shut_down_) return;
  }
  std::weak_ptr<HubService> weak = shared_from_this();
  asio::post(store_exec_, [weak, pool_id] {
    if (auto self = weak.lock()) self->serve_waiters(pool_id);
  });
}

Json HubService::leased_job_json(const JobRecord& job) const {
  return Json{
      {"id", job.id},
      {"type", job.type},
      {"attempt", job.attempt},
      {"created_at", rfc3339(job.created_at)},
      {"timeout_ms", job.timeout_ms},
      {"lease", {{"token", job.lease->token}, {"expires_at", rfc3339(job.lease->expires_at)}}},
      {"source", job.source},
      {"params", job.params}};
}

void HubService::log_claimed(const std::vector<JobRecord>& jobs, const std::string& instance_id) {
  metrics_->claim(jobs.empty() ? "empty" : "jobs");
  std::optional<SystemTime> earliest;
  for (const auto& job : jobs) {
    metrics_->job_wait(job.started_at.value_or(job.created_at) - job.created_at);
    log_.info("job claimed",
              {{"job_id", job.id}, {"attempt", job.attempt}, {"instance_id", instance_id}});
    if (job.lease && (!earliest || job.lease->expires_at < *earliest)) {
      earliest = job.lease->expires_at;
    }
  }
  if (earliest) {
    std::lock_guard lock(mu_);
    if (timers_->sweep_due && *earliest >= *timers_->sweep_due) return;
  }
  if (earliest) arm_sweep(earliest);
}

void HubService::claim(const TokenRecord& token, const ClaimParams& params, ClaimReply reply) {
  const auto wait =
      std::min(std::chrono::milliseconds(params.wait_ms.value_or(options_.poll_wait.count())),
               options_.max_wait);
  touch(token);
  store_->upsert_instance(
      InstanceUpdate{params.instance_id, token.id, token.pool_id, {}, {}, {}, {}, {}, {}},
      clock_->now());
  std::uint64_t generation = 0;
  {
    std::lock_guard lock(mu_);
    // A newer claim from the same instance supersedes an older one: the agent
    // keeps one outstanding, so the older one belongs to a request it gave up on.
    for (auto it = waiters_.begin(); it != waiters_.end(); ++it) {
      if ((*it)->instance_id != params.instance_id) continue;
      (*it)->expired = true;
      if (!(*it)->in_flight) {
        answer_waiter(*it, no_jobs());
        waiters_.erase(it);
      }
      break;
    }
    if (shut_down_) return reply.send(no_jobs());
    generation = wake_gen_[token.pool_id];
  }
  std::vector<JobRecord> jobs;
  try {
    jobs = store_->claim(
        {token.pool_id, params.instance_id, params.capacity, options_.lease_ttl, clock_->now()});
  } catch (const StoreUnavailable&) {
    metrics_->claim("error");
    throw;
  }
  if (!jobs.empty() || wait.count() == 0) {
    log_claimed(jobs, params.instance_id);
    Json list = Json::array();
    for (const auto& job : jobs) list.push_back(leased_job_json(job));
    return reply.send(Answer::ok(Json{{"jobs", std::move(list)}}));
  }
  add_waiter(token, params, std::move(reply), wait, generation);
}

void HubService::add_waiter(const TokenRecord& token, const ClaimParams& params, ClaimReply reply,
                            std::chrono::milliseconds wait, std::uint64_t generation) {
  auto w = std::make_shared<Waiter>();
  std::weak_ptr<HubService> weak = shared_from_this();
  std::weak_ptr<Waiter> weak_w = w;
  auto end_wait = [weak, weak_w] {
    auto self = weak.lock();
    auto waiter = weak_w.lock();
    if (!self || !waiter) return;
    std::lock_guard relock(self->mu_);
    waiter->expired = true;
    if (waiter->in_flight) return;  // the claim under way answers it
    self->answer_waiter(waiter, no_jobs());
    self->waiters_.remove(waiter);
  };
  bool missed_wakeup = false;
  {
    std::lock_guard lock(mu_);
    if (shut_down_) return reply.send(no_jobs());
    w->id = next_waiter_++;
    w->token_id = token.id;
    w->pool_id = token.pool_id;
    w->instance_id = params.instance_id;
    w->capacity = params.capacity;
    w->reply = std::move(reply);
    w->timer = std::make_unique<asio::steady_timer>(io_, wait);
    // Armed under the lock: answer_waiter() cancels the timer from other
    // threads under the same lock, and an Asio timer takes no concurrent calls.
    w->timer->async_wait([end_wait](boost::system::error_code ec) {
      if (!ec) end_wait();
    });
    waiters_.push_back(w);
    missed_wakeup = wake_gen_[token.pool_id] != generation;
  }
  if (w->reply.on_gone) w->reply.on_gone(end_wait);
  if (missed_wakeup) on_wakeup(token.pool_id);
}

void HubService::end_waiters_of(const std::string& token_id) {
  // Long polls held open with a revoked token end now, with the 401 they
  // would get if they asked again.
  const auto unauthorized =
      Answer::error(Answer::Kind::kUnauthorized, "unauthorized", "the access token was revoked");
  std::lock_guard lock(mu_);
  touched_.erase(token_id);
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    auto& w = *it;
    if (w->token_id != token_id) {
      ++it;
    } else if (w->in_flight) {
      w->revoked = unauthorized;  // answered when its claim returns
      ++it;
    } else {
      answer_waiter(w, unauthorized);
      it = waiters_.erase(it);
    }
  }
}

void HubService::answer_waiter(const std::shared_ptr<Waiter>& w, Answer answer) {
  w->timer->cancel();
  if (answer.kind == Answer::Kind::kOk && answer.body.contains("jobs") &&
      answer.body["jobs"].empty()) {
    metrics_->claim("empty");
  }
  w->reply.send(std::move(answer));
}

void HubService::serve_waiters(const std::string& pool_id) {
  // Oldest waiter of the pool first; each takes up to its capacity, so agents
  // are served in the order they asked. No lock is held during the claim.
  for (;;) {
    std::shared_ptr<Waiter> w;
    {
      std::lock_guard lock(mu_);
      if (shut_down_) return;
      for (auto& candidate : waiters_) {
        if (candidate->pool_id == pool_id && !candidate->in_flight && !candidate->expired) {
          w = candidate;
          break;
        }
      }
      if (!w) return;
      w->in_flight = true;
    }
    std::vector<JobRecord> jobs;
    try {
      jobs =
          store_->claim({pool_id, w->instance_id, w->capacity, options_.lease_ttl, clock_->now()});
    } catch (const StoreUnavailable& e) {
      metrics_->store_error();
      log_.warn("claim for a waiting agent failed", {{"error", e.what()}});
    }
    const bool served = !jobs.empty();
    finish_serve(w, std::move(jobs));
    if (!served) return;
  }
}

void HubService::finish_serve(const std::shared_ptr<Waiter>& w, std::vector<JobRecord> jobs) {
  const bool gone = w->reply.gone && w->reply.gone();
  if (!jobs.empty() && (gone || w->revoked)) {
    release_unsent(jobs);  // nobody will receive them: hand them out again
    jobs.clear();
  }
  if (!jobs.empty()) log_claimed(jobs, w->instance_id);
  std::lock_guard lock(mu_);
  w->in_flight = false;
  if (!jobs.empty()) {
    Json list = Json::array();
    for (const auto& job : jobs) list.push_back(leased_job_json(job));
    answer_waiter(w, Answer::ok(Json{{"jobs", std::move(list)}}));
  } else if (w->revoked) {
    answer_waiter(w, *w->revoked);
  } else if (w->expired || gone || shut_down_) {
    answer_waiter(w, no_jobs());
  } else {
    return;  // keeps waiting
  }
  waiters_.remove(w);
}

void HubService::release_unsent(const std::vector<JobRecord>& jobs) {
  for (const auto& job : jobs) {
    try {
      store_->release(job.id, job.lease->token, clock_->now());
    } catch (const StoreUnavailable&) {
      metrics_->store_error();  // the lease expires and the job is handed out again
    }
  }
}

std::size_t HubService::sweep_leases() {
  std::size_t total = 0;
  for (;;) {
    auto ended = store_->expire_leases(clock_->now(), options_.max_attempts, 500);
    for (const auto& e : ended) {
      if (e.new_status == JobStatus::kFailed) {
        probe_job_finished(e.job_id);
        log_.warn("job failed: agent lost",
                  {{"job_id", e.job_id}, {"attempt", e.attempt}, {"instance_id", e.instance_id}});
      } else if (e.new_status == JobStatus::kScheduled) {
        log_.warn("lease expired; job claimable again",
                  {{"job_id", e.job_id}, {"attempt", e.attempt}, {"instance_id", e.instance_id}});
      }
    }
    total += ended.size();
    if (ended.size() < 500) return total;
  }
}

void HubService::arm_sweep(std::optional<SystemTime> due) {
  const SystemTime now = clock_->now();
  const SystemTime latest = now + options_.sweep_interval;
  const SystemTime at = due ? std::min(*due, latest) : latest;
  std::lock_guard lock(mu_);
  if (shut_down_) return;
  timers_->sweep_due = at;
  timers_->sweep.expires_after(std::max(at - now, SystemTime::duration::zero()));
  std::weak_ptr<HubService> weak = shared_from_this();
  timers_->sweep.async_wait([weak](boost::system::error_code ec) {
    if (ec) return;
    auto self = weak.lock();
    if (!self) return;
    asio::post(self->store_exec_, [weak] {
      auto me = weak.lock();
      if (!me) return;
      std::optional<SystemTime> next;
      try {
        me->sweep_leases();
        next = me->store_->next_lease_expiry();
      } catch (const StoreUnavailable& e) {
        me->metrics_->store_error();
        me->log_.warn("lease sweep failed; retrying", {{"error", e.what()}});
      }
      me->arm_sweep(next);
    });
  });
}

std::size_t HubService::run_retention() {
  const SystemTime now = clock_->now();
  std::size_t total = 0;
  for (;;) {
    // One small batch per store call, so claims interleave with the deletes.
    const std::size_t n =
        store_->purge_finished_before(now - options_.retain, options_.retention_batch);
    total += n;
    if (n < options_.retention_batch) break;
  }
  store_->purge_instances_before(now - options_.retain);
  if (total > 0) log_.info("retention deleted finished jobs", {{"jobs", total}});
  return total;
}

void HubService::arm_retention() {
  std::lock_guard lock(mu_);
  if (shut_down_) return;
  timers_->retention.expires_after(options_.retention_interval);
  std::weak_ptr<HubService> weak = shared_from_this();
  timers_->retention.async_wait([weak](boost::system::error_code ec) {
    if (ec) return;
    auto self = weak.lock();
    if (!self) return;
    asio::post(self->store_exec_, [weak] {
      auto me = weak.lock();
      if (!me) return;
      try {
        me->run_retention();
      } catch (const StoreUnavailable& e) {
        me->metrics_->store_error();
        me->log_.warn("retention failed; retrying later", {{"error", e.what()}});
      }
      me->arm_retention();
    });
  });
}

}  // namespace outpost::hub
