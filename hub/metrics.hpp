#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "store/records.hpp"

namespace outpost::hub {

/// The hub's Prometheus series (hub-v2.md §5) on a registry of their own.
/// Counters and the wait histogram are kept up to date as things happen;
/// the gauges (queue depth, jobs by status, agents online) are read from the
/// store at scrape time, so every hub serving one store reports the same
/// truth and nothing drifts after a restart.
///
/// Thread safety: every member may be called from any thread.
class HubMetrics {
 public:
  HubMetrics();
  ~HubMetrics();
  HubMetrics(const HubMetrics&) = delete;
  HubMetrics& operator=(const HubMetrics&) = delete;

  /// outpost_hub_claims_total{result}: "jobs", "empty" or "error".
  void claim(std::string_view result);
  /// outpost_hub_job_wait_seconds: from creation to the claim that leased it.
  void job_wait(std::chrono::duration<double> wait);
  /// outpost_hub_http_requests_total{route,code}; `route` is the pattern.
  void http_request(std::string_view route, int code);
  /// outpost_hub_store_errors_total.
  void store_error();

  /// Every series in the text format, with the gauges set from `counts`.
  [[nodiscard]] std::string serialize(const StoreCounts& counts);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace outpost::hub
