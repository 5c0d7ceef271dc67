// HubService: the synchronous Test connection (hub-v2.md §4). The request
// creates a test_connection job and waits for it without holding a thread:
// a timer re-reads the job at most every kRecheck (a result taken by another
// hub of a shared store), and a result this hub accepts answers at once.
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "service.hpp"
#include "util.hpp"

namespace outpost::hub {

namespace asio = boost::asio;

namespace {

using K = Answer::Kind;

constexpr std::int64_t kDefaultWaitMs = 30'000;
constexpr std::int64_t kMaxWaitMs = 120'000;
constexpr std::chrono::milliseconds kRecheck{250};

}  // namespace

struct HubService::Probe {
  std::string job_id;
  std::chrono::steady_clock::time_point deadline;
  std::function<void(Answer)> send;
  std::unique_ptr<asio::steady_timer> timer;
  bool answered = false;
};

struct HubService::Probes {
  std::unordered_map<std::string, std::shared_ptr<Probe>> by_job;
};

void HubService::test_source(const std::string& id, const Json& body,
                             std::function<void(Answer)> send) {
  std::int64_t wait_ms = kDefaultWaitMs;
  if (body.contains("wait_ms") && !body["wait_ms"].is_null()) {
    const auto& v = body["wait_ms"];
    if (!v.is_number_integer() || v.get<std::int64_t>() < 0 || v.get<std::int64_t>() > kMaxWaitMs) {
      throw BadRequest{"invalid_field", "field 'wait_ms' must be an integer from 0 to 120000"};
    }
    wait_ms = v.get<std::int64_t>();
  }
  const auto source = store_->get_source(id);
  if (!source) {
    return send(Answer::error(K::kNotFound, "source_not_found", "no source with id '" + id + "'"));
  }
  NewJob job;
  job.type = "test_connection";
  job.pool_id = source->pool_id;
  job.source_id = source->id;
  job.source = Json{{"id", source->id},
                    {"name", source->name},
                    {"type", source->type},
                    {"config", source->config}};
  // Long enough for a slow login even when the caller waits less (202 → poll the job).
  job.timeout_ms = std::max<std::int64_t>(wait_ms, 30'000);
  const SystemTime now = clock_->now();
  if (agents_online(source->pool_id) == 0) {
    // Nobody could run it: fail it now instead of leaving it queued.
    const Json error{{"code", "no_agent"},
                     {"message", "no agent of pool '" + source->pool_id + "' is online"},
                     {"retryable", false}};
    const auto rec = store_->create_failed_job(job, error, now);
    log_.info("test connection: no agent online",
              {{"job_id", rec.id}, {"source_id", id}, {"pool_id", rec.pool_id}});
    return send(get_job(rec.id));
  }
  const auto rec = store_->create_job(job, now);
  log_.info("test connection scheduled", {{"job_id", rec.id}, {"source_id", id}});
  auto p = std::make_shared<Probe>();
  p->job_id = rec.id;
  p->deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  p->send = std::move(send);
  p->timer = std::make_unique<asio::steady_timer>(io_);
  {
    std::lock_guard lock(mu_);
    if (shut_down_) {
      p->answered = true;
    } else {
      if (!probes_) probes_ = std::make_shared<Probes>();
      probes_->by_job[rec.id] = p;
    }
  }
  if (p->answered) return p->send(Answer::of(K::kAccepted, Json{{"id", rec.id}}));
  check_probe(p);  // a result may have arrived already
  arm_probe(p);
}

void HubService::check_probe(const std::shared_ptr<Probe>& p) {
  std::optional<JobRecord> job;
  try {
    job = store_->get_job(p->job_id);
  } catch (const StoreUnavailable& e) {
    metrics_->store_error();
    log_.warn("test connection: reading the job failed",
              {{"job_id", p->job_id}, {"error", e.what()}});
  }
  if (job && is_finished(job->status)) {
    Answer view;
    try {
      view = get_job(p->job_id);
    } catch (const StoreUnavailable&) {
      return;  // the next check tries again
    }
    return finish_probe(p, std::move(view));
  }
  if (std::chrono::steady_clock::now() >= p->deadline) {
    finish_probe(p, Answer::of(K::kAccepted, Json{{"id", p->job_id}}));
  }
}

void HubService::arm_probe(const std::shared_ptr<Probe>& p) {
  std::lock_guard lock(mu_);
  if (p->answered) return;
  const auto left = p->deadline - std::chrono::steady_clock::now();
  p->timer->expires_after(std::clamp<std::chrono::steady_clock::duration>(
      left, std::chrono::steady_clock::duration::zero(), kRecheck));
  std::weak_ptr<HubService> weak = shared_from_this();
  // Armed under mu_, like a waiter's timer: finish_probe cancels it from other threads.
  p->timer->async_wait([weak, p](boost::system::error_code ec) {
    if (ec) return;
    auto self = weak.lock();
    if (!self) return;
    asio::post(self->store_exec_, [weak, p] {
      if (auto me = weak.lock()) {
        me->check_probe(p);
        me->arm_probe(p);
      }
    });
  });
}

void HubService::finish_probe(const std::shared_ptr<Probe>& p, Answer answer) {
  {
    std::lock_guard lock(mu_);
    if (p->answered) return;
    p->answered = true;
    p->timer->cancel();
    if (probes_) probes_->by_job.erase(p->job_id);
  }
  p->send(std::move(answer));
}

void HubService::probe_job_finished(const std::string& job_id) {
  std::shared_ptr<Probe> p;
  {
    std::lock_guard lock(mu_);
    if (!probes_) return;
    const auto it = probes_->by_job.find(job_id);
    if (it == probes_->by_job.end()) return;
    p = it->second;
  }
  std::weak_ptr<HubService> weak = shared_from_this();
  asio::post(store_exec_, [weak, p] {
    if (auto self = weak.lock()) self->check_probe(p);
  });
}

void HubService::end_probes() {
  // mu_ held by shutdown(): answer what is waiting with the job's id.
  if (!probes_) return;
  for (auto& [id, p] : probes_->by_job) {
    p->answered = true;
    p->timer->cancel();
    p->send(Answer::of(K::kAccepted, Json{{"id", id}}));
  }
  probes_->by_job.clear();
}

}  // namespace outpost::hub
