#include "metrics.hpp"

#include <mutex>
#include <set>
#include <sstream>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace outpost::hub {

namespace pm = prometheus;

struct HubMetrics::Impl {
  std::shared_ptr<pm::Registry> registry = std::make_shared<pm::Registry>();
  pm::Family<pm::Gauge>& queue_depth =
      pm::BuildGauge()
          .Name("outpost_hub_queue_depth")
          .Help("Scheduled jobs waiting for an agent, by pool (read from the store)")
          .Register(*registry);
  pm::Family<pm::Gauge>& jobs = pm::BuildGauge()
                                    .Name("outpost_hub_jobs")
                                    .Help("Jobs in the store, by status")
                                    .Register(*registry);
  pm::Family<pm::Gauge>& agents_online =
      pm::BuildGauge()
          .Name("outpost_hub_agents_online")
          .Help("Agent instances seen within three heartbeat intervals, by pool")
          .Register(*registry);
  pm::Family<pm::Counter>& claims = pm::BuildCounter()
                                        .Name("outpost_hub_claims_total")
                                        .Help("Claims answered by this hub, by result")
                                        .Register(*registry);
  pm::Histogram& job_wait =
      pm::BuildHistogram()
          .Name("outpost_hub_job_wait_seconds")
          .Help("Time from a job's creation to the claim that leased it")
          .Register(*registry)
          .Add({}, pm::Histogram::BucketBoundaries{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
                                                   5, 10, 30, 60, 300, 900, 3600});
  pm::Family<pm::Counter>& http = pm::BuildCounter()
                                      .Name("outpost_hub_http_requests_total")
                                      .Help("HTTP requests answered, by route pattern and status")
                                      .Register(*registry);
  pm::Counter& store_errors = pm::BuildCounter()
                                  .Name("outpost_hub_store_errors_total")
                                  .Help("Store operations that failed (store unavailable)")
                                  .Register(*registry)
                                  .Add({});
  std::mutex mu;  // serialises gauge updates of concurrent scrapes
  std::set<std::string> pools_seen;
};

HubMetrics::HubMetrics() : impl_(std::make_unique<Impl>()) {
  for (const char* r : {"jobs", "empty", "error"}) impl_->claims.Add({{"result", r}});
  impl_->queue_depth.Add({{"pool", "pool_default"}});
  impl_->agents_online.Add({{"pool", "pool_default"}});
  impl_->pools_seen.insert("pool_default");
  // The family is on the page before the first request (a family without a
  // series is not serialised).
  impl_->http.Add({{"route", "/healthz"}, {"code", "200"}});
}

HubMetrics::~HubMetrics() = default;

void HubMetrics::claim(std::string_view result) {
  impl_->claims.Add({{"result", std::string(result)}}).Increment();
}

void HubMetrics::job_wait(std::chrono::duration<double> wait) {
  impl_->job_wait.Observe(std::max(0.0, wait.count()));
}

void HubMetrics::http_request(std::string_view route, int code) {
  impl_->http.Add({{"route", std::string(route)}, {"code", std::to_string(code)}}).Increment();
}

void HubMetrics::store_error() {
  impl_->store_errors.Increment();
}

std::string HubMetrics::serialize(const StoreCounts& counts) {
  std::lock_guard lock(impl_->mu);
  for (const auto& [pool, n] : counts.queue_depth) impl_->pools_seen.insert(pool);
  for (const auto& [pool, n] : counts.agents_online) impl_->pools_seen.insert(pool);
  // A pool that emptied reports 0 rather than vanishing from the page.
  for (const auto& pool : impl_->pools_seen) {
    auto q = counts.queue_depth.find(pool);
    auto a = counts.agents_online.find(pool);
    impl_->queue_depth.Add({{"pool", pool}})
        .Set(q == counts.queue_depth.end() ? 0.0 : static_cast<double>(q->second));
    impl_->agents_online.Add({{"pool", pool}})
        .Set(a == counts.agents_online.end() ? 0.0 : static_cast<double>(a->second));
  }
  for (const auto& [status, n] : counts.jobs_by_status) {
    impl_->jobs.Add({{"status", status}}).Set(static_cast<double>(n));
  }
  std::ostringstream out;
  pm::TextSerializer{}.Serialize(out, impl_->registry->Collect());
  return out.str();
}

}  // namespace outpost::hub
