// The scheduling core of the hub: the claimable queue, long-poll waiters,
// leases and their expiry. Agent calls live in store_agent.cpp, admin calls
// in store_admin.cpp.
#include "store.hpp"

#include <algorithm>

namespace outpost::hub {

namespace asio = boost::asio;
using std::chrono::steady_clock;

Store::Store(asio::any_io_executor executor, StoreOptions options)
    : executor_(std::move(executor)), options_(options), lease_timer_(executor_) {}

Store::~Store() = default;

std::optional<std::string> Store::authenticate_agent(std::string_view token) const {
  if (token.empty()) return std::nullopt;
  const std::string hash = sha256(token);
  std::lock_guard lock(mu_);
  auto it = token_by_hash_.find(hash);
  if (it == token_by_hash_.end()) return std::nullopt;
  const Token& t = tokens_.at(it->second);
  if (!constant_time_equal(hash, t.hash) || t.revoked) return std::nullopt;
  return t.id;
}

Store::Instance& Store::touch_instance(const std::string& token_id,
                                       const std::string& instance_id) {
  auto [it, inserted] = instances_.try_emplace(instance_id);
  Instance& inst = it->second;
  const auto now = std::chrono::system_clock::now();
  if (inserted) {
    inst.instance_id = instance_id;
    inst.first_seen = now;
  }
  inst.token_id = token_id;
  inst.last_seen = now;
  return inst;
}

std::string Store::agent_id_for(const std::string& token_id) const {
  // One agent per token: the instances sharing a token are its replicas.
  return "agt_" + token_id.substr(token_id.find('_') + 1);
}

std::int64_t Store::leased_count(const std::string& instance_id) const {
  std::int64_t n = 0;
  for (const auto& [id, job] : jobs_) {
    if (job.status == JobStatus::kRunning && job.lease && job.lease->instance_id == instance_id)
      ++n;
  }
  return n;
}

Store::Job* Store::find_job(const std::string& id) {
  auto it = jobs_.find(id);
  return it == jobs_.end() ? nullptr : &it->second;
}

const Store::Job* Store::find_job(const std::string& id) const {
  auto it = jobs_.find(id);
  return it == jobs_.end() ? nullptr : &it->second;
}

void Store::enqueue(Job& job) {
  job.status = JobStatus::kScheduled;
  job.lease.reset();
  ready_.emplace(job.seq, job.id);
}

Json Store::lease_job(Job& job, const std::string& instance_id) {
  const auto now = std::chrono::system_clock::now();
  job.status = JobStatus::kRunning;
  ++job.attempt;
  job.agent_instance = instance_id;
  job.started_at = rfc3339(now);
  job.progress.reset();
  job.parts.clear();  // parts of an earlier attempt are not this attempt's
  job.lease = Lease{"l_" + random_hex(16), steady_clock::now() + options_.lease_ttl,
                    now + options_.lease_ttl, instance_id};
  track_lease(job);
  return Json{
      {"id", job.id},
      {"type", job.type},
      {"attempt", job.attempt},
      {"created_at", rfc3339(job.created_at)},
      {"timeout_ms", job.timeout_ms},
      {"lease", {{"token", job.lease->token}, {"expires_at", rfc3339(job.lease->expires_wall)}}},
      {"source", job.source},
      {"params", job.params}};
}

std::vector<Json> Store::take_jobs(const std::string& instance_id, int capacity) {
  std::vector<Json> out;
  while (!ready_.empty() && static_cast<int>(out.size()) < capacity) {
    auto node = ready_.extract(ready_.begin());
    Job* job = find_job(node.mapped());
    if (job == nullptr || job->status != JobStatus::kScheduled) continue;
    out.push_back(lease_job(*job, instance_id));
    log_.info("job claimed",
              {{"job_id", job->id}, {"attempt", job->attempt}, {"instance_id", instance_id}});
  }
  return out;
}

void Store::claim(const std::string& token_id, const Json& body, std::string_view header_instance,
                  http::Responder respond) {
  auto instance_id = opt_string(body, "instance_id").value_or(std::string(header_instance));
  if (instance_id.empty()) {
    throw BadRequest{"missing_field", "instance_id is required (body or X-Outpost-Instance)"};
  }
  const auto capacity = opt_int(body, "capacity", 1, 100'000);
  if (!capacity)
    throw BadRequest{"missing_field", "field 'capacity' (an integer >= 1) is required"};
  const auto wait_ms = opt_int(body, "wait_ms", 0, INT32_MAX)
                           .value_or(static_cast<std::int64_t>(options_.poll_wait.count()));
  const auto wait = std::min(std::chrono::milliseconds(wait_ms), options_.max_wait);

  std::lock_guard lock(mu_);
  touch_instance(token_id, instance_id);
  // A newer claim from the same instance supersedes an older one: the agent
  // keeps one outstanding, so the older one belongs to a request it gave up on.
  for (auto& w : waiters_) {
    if (w.instance_id == instance_id) {
      finish_waiter(w.id, json_reply(200, Json{{"jobs", Json::array()}}));
      break;
    }
  }
  auto jobs =
      shut_down_ ? std::vector<Json>{} : take_jobs(instance_id, static_cast<int>(*capacity));
  if (!jobs.empty() || wait.count() == 0 || shut_down_) {
    respond(json_reply(200, Json{{"jobs", std::move(jobs)}}));
    return;
  }
  Waiter& w = waiters_.emplace_back();
  w.id = next_waiter_++;
  w.token_id = token_id;
  w.instance_id = instance_id;
  w.capacity = static_cast<int>(*capacity);
  w.respond = respond;
  w.timer = std::make_unique<asio::steady_timer>(executor_, wait);
  std::weak_ptr<Store> weak = shared_from_this();
  w.timer->async_wait([weak, id = w.id](boost::system::error_code ec) {
    if (ec) return;
    if (auto self = weak.lock()) {
      std::lock_guard relock(self->mu_);
      self->finish_waiter(id, json_reply(200, Json{{"jobs", Json::array()}}));
    }
  });
  respond.on_peer_gone([weak, id = w.id] {
    if (auto self = weak.lock()) {
      std::lock_guard relock(self->mu_);
      auto it = std::find_if(self->waiters_.begin(), self->waiters_.end(),
                             [id](const Waiter& x) { return x.id == id; });
      if (it != self->waiters_.end()) {
        it->timer->cancel();
        self->waiters_.erase(it);
      }
    }
  });
}

void Store::finish_waiter(std::uint64_t waiter_id, http::Response response) {
  auto it = std::find_if(waiters_.begin(), waiters_.end(),
                         [waiter_id](const Waiter& w) { return w.id == waiter_id; });
  if (it == waiters_.end()) return;
  it->timer->cancel();
  it->respond(std::move(response));
  waiters_.erase(it);
}

void Store::dispatch() {
  // Oldest waiter first; each takes up to its capacity, so agents and the
  // instances sharing a token are served in the order they asked.
  while (!ready_.empty() && !waiters_.empty()) {
    Waiter& w = waiters_.front();
    if (w.respond.peer_gone()) {
      w.timer->cancel();
      waiters_.pop_front();
      continue;
    }
    auto jobs = take_jobs(w.instance_id, w.capacity);
    if (jobs.empty()) break;  // only stale queue entries were left
    finish_waiter(w.id, json_reply(200, Json{{"jobs", std::move(jobs)}}));
  }
}

void Store::track_lease(Job& job) {
  expiries_.emplace(job.lease->expires, job.id);
  if (!lease_timer_at_ || job.lease->expires < *lease_timer_at_) arm_lease_timer();
}

void Store::untrack_lease(Job& job) {
  if (job.lease) expiries_.erase({job.lease->expires, job.id});
}

void Store::arm_lease_timer() {
  if (expiries_.empty() || shut_down_) {
    lease_timer_at_.reset();
    lease_timer_.cancel();
    return;
  }
  const auto at = expiries_.begin()->first;
  if (lease_timer_at_ && *lease_timer_at_ == at) return;
  lease_timer_at_ = at;
  lease_timer_.expires_at(at);
  std::weak_ptr<Store> weak = shared_from_this();
  lease_timer_.async_wait([weak](boost::system::error_code ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->on_lease_timer();
  });
}

void Store::on_lease_timer() {
  std::lock_guard lock(mu_);
  lease_timer_at_.reset();
  const auto now = steady_clock::now();
  bool requeued = false;
  while (!expiries_.empty() && expiries_.begin()->first <= now) {
    auto id = expiries_.begin()->second;
    expiries_.erase(expiries_.begin());
    if (Job* job = find_job(id)) {
      requeued = requeued || job->status == JobStatus::kRunning;
      expire(*job);
    }
  }
  arm_lease_timer();
  if (requeued) dispatch();
}

void Store::expire(Job& job) {
  const std::string instance = job.lease ? job.lease->instance_id : std::string();
  job.lease.reset();
  if (job.status != JobStatus::kRunning) return;  // a cancelled job's lease just ends
  ++job.expiries;
  if (job.expiries >= options_.max_attempts) {
    job.status = JobStatus::kFailed;
    job.finished_at = rfc3339(std::chrono::system_clock::now());
    job.error = Json{{"code", "agent_lost"},
                     {"message", "the lease expired " + std::to_string(job.expiries) +
                                     " times without a result"},
                     {"retryable", false}};
    log_.warn("job failed: agent lost",
              {{"job_id", job.id}, {"attempt", job.attempt}, {"instance_id", instance}});
    return;
  }
  log_.warn("lease expired; job claimable again",
            {{"job_id", job.id}, {"attempt", job.attempt}, {"instance_id", instance}});
  enqueue(job);
}

void Store::shutdown() {
  std::lock_guard lock(mu_);
  shut_down_ = true;
  while (!waiters_.empty()) {
    finish_waiter(waiters_.front().id, json_reply(200, Json{{"jobs", Json::array()}}));
  }
  lease_timer_.cancel();
  lease_timer_at_.reset();
}

Store::Stats Store::stats() const {
  std::lock_guard lock(mu_);
  Stats s;
  for (const auto& [id, job] : jobs_) {
    switch (job.status) {
      case JobStatus::kScheduled: ++s.scheduled; break;
      case JobStatus::kRunning: ++s.running; break;
      case JobStatus::kSucceeded: ++s.succeeded; break;
      case JobStatus::kFailed: ++s.failed; break;
      case JobStatus::kCancelled: ++s.cancelled; break;
    }
  }
  s.waiters = waiters_.size();
  return s;
}

}  // namespace outpost::hub
