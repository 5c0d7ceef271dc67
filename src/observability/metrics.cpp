#include "observability/metrics.hpp"

#include <sstream>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace outpost::obs {

struct Metrics::Impl {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Family<prometheus::Counter>& jobs =
      prometheus::BuildCounter()
          .Name("outpost_jobs_total")
          .Help("Jobs finished, by job type, connector and final status")
          .Register(*registry);
  prometheus::Family<prometheus::Histogram>& duration =
      prometheus::BuildHistogram()
          .Name("outpost_job_duration_seconds")
          .Help("Wall-clock duration of jobs from start to result")
          .Register(*registry);
  prometheus::Gauge& running = prometheus::BuildGauge()
                                   .Name("outpost_jobs_running")
                                   .Help("Jobs currently claimed and not yet finished")
                                   .Register(*registry)
                                   .Add({});
  prometheus::Family<prometheus::Counter>& claims =
      prometheus::BuildCounter()
          .Name("outpost_claims_total")
          .Help("Claim requests, by result (jobs, empty, error)")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& errors = prometheus::BuildCounter()
                                                        .Name("outpost_control_plane_errors_total")
                                                        .Help("Failed control-plane calls, by kind")
                                                        .Register(*registry);
  prometheus::Counter& stale = prometheus::BuildCounter()
                                   .Name("outpost_stale_results_total")
                                   .Help("Results or parts refused with 409 (lease lost)")
                                   .Register(*registry)
                                   .Add({});
  prometheus::Gauge& last_contact =
      prometheus::BuildGauge()
          .Name("outpost_last_contact_timestamp_seconds")
          .Help("Unix time of the last successful answer from the control plane")
          .Register(*registry)
          .Add({});
  prometheus::Gauge& ready = prometheus::BuildGauge()
                                 .Name("outpost_ready")
                                 .Help("1 when /readyz answers 200")
                                 .Register(*registry)
                                 .Add({});
  prometheus::Family<prometheus::Gauge>& build =
      prometheus::BuildGauge()
          .Name("outpost_build_info")
          .Help("Build information; the value is always 1")
          .Register(*registry);
};

Metrics::Metrics(std::string_view version) : impl_(std::make_unique<Impl>()) {
  impl_->build.Add({{"version", std::string(version)}}).Set(1);
  // Zero series so that dashboards and tests see the names before any event.
  for (const char* r : {"jobs", "empty", "error"}) impl_->claims.Add({{"result", r}});
}

Metrics::~Metrics() = default;

namespace {
const prometheus::Histogram::BucketBoundaries& duration_buckets() {
  static const prometheus::Histogram::BucketBoundaries kBuckets{
      0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600};
  return kBuckets;
}
}  // namespace

void Metrics::declare_job_series(std::string_view type, std::string_view connector) {
  for (const char* status : {"succeeded", "failed"}) {
    impl_->jobs.Add(
        {{"type", std::string(type)}, {"connector", std::string(connector)}, {"status", status}});
  }
  impl_->duration.Add({{"type", std::string(type)}}, duration_buckets());
}

void Metrics::job_finished(std::string_view type, std::string_view connector,
                           std::string_view status, std::chrono::duration<double> duration) {
  impl_->jobs
      .Add({{"type", std::string(type)},
            {"connector", std::string(connector)},
            {"status", std::string(status)}})
      .Increment();
  impl_->duration.Add({{"type", std::string(type)}}, duration_buckets()).Observe(duration.count());
}

void Metrics::set_running(int running) {
  impl_->running.Set(running);
}

void Metrics::claim(std::string_view result) {
  impl_->claims.Add({{"result", std::string(result)}}).Increment();
}

void Metrics::control_plane_error(std::string_view kind) {
  impl_->errors.Add({{"kind", std::string(kind)}}).Increment();
}

void Metrics::declare_control_plane_error_kinds(std::initializer_list<std::string_view> kinds) {
  for (auto kind : kinds) impl_->errors.Add({{"kind", std::string(kind)}});
}

void Metrics::stale_result() {
  impl_->stale.Increment();
}

void Metrics::contact() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  impl_->last_contact.Set(std::chrono::duration<double>(now).count());
}

void Metrics::set_ready(bool ready) {
  impl_->ready.Set(ready ? 1 : 0);
}

std::string Metrics::serialize() const {
  std::ostringstream out;
  prometheus::TextSerializer{}.Serialize(out, impl_->registry->Collect());
  return out.str();
}

}  // namespace outpost::obs
