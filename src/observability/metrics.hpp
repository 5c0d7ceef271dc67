#pragma once

#include <chrono>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

namespace outpost::obs {

/// The agent's Prometheus metrics (agent-cli.md "Local endpoints"), on a
/// registry of its own, serialised in the text exposition format.
///
/// Thread safety: every member may be called from any thread.
class Metrics {
 public:
  explicit Metrics(std::string_view version);
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  /// outpost_jobs_total{type,connector,status} and outpost_job_duration_seconds.
  void job_finished(std::string_view type, std::string_view connector, std::string_view status,
                    std::chrono::duration<double> duration);
  /// Creates zero series of outpost_jobs_total (succeeded, failed) and of the
  /// duration histogram for a connector and job type, so every name of the
  /// contract is on /metrics before the first job.
  void declare_job_series(std::string_view type, std::string_view connector);
  /// outpost_jobs_running.
  void set_running(int running);
  /// outpost_claims_total{result}: "jobs", "empty" or "error".
  void claim(std::string_view result);
  /// outpost_control_plane_errors_total{kind}.
  void control_plane_error(std::string_view kind);
  /// Creates zero series for these error kinds, so the family is visible
  /// (and rate() works) before the first error.
  void declare_control_plane_error_kinds(std::initializer_list<std::string_view> kinds);
  /// outpost_stale_results_total (409 on a lease: a result that was dropped).
  void stale_result();
  /// outpost_last_contact_timestamp_seconds: a successful control-plane answer now.
  void contact();
  /// outpost_ready (1/0) as seen by the health checker.
  void set_ready(bool ready);

  /// The whole registry in Prometheus text format.
  [[nodiscard]] std::string serialize() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace outpost::obs
