#pragma once

// Test doubles of the connector SDK's runtime side (not of any database):
// a ResultSink that keeps or counts what a connector produces, and
// NetworkGuards that allow loopback or refuse everything.

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "outpost/cancel.hpp"
#include "outpost/job.hpp"
#include "outpost/network_guard.hpp"
#include "outpost/result_sink.hpp"

namespace outpost::test {

/// A ResultSink that parses every row (so a connector producing invalid JSON
/// fails the test) and keeps rows and tables in memory, or — with
/// keep_rows = false — only counts them and hands each row's text to on_row,
/// for results too large to keep.
class CollectingSink final : public ResultSink {
 public:
  struct Options {
    bool keep_rows = true;
    /// Like the runtime's cap: the row past it is refused and truncated() set.
    std::optional<std::uint64_t> max_rows;
    /// When set and cancelled, end_row()/add_table() return false (as the runtime's sink does).
    const CancelToken* cancel = nullptr;
    /// Called with each accepted row's JSON text.
    std::function<void(std::string_view)> on_row;
  };

  CollectingSink() : CollectingSink(Options{}) {}
  explicit CollectingSink(Options options) : options_(std::move(options)), writer_(buffer_) {}

  void set_columns(std::vector<Column> columns) override;
  RowWriter& begin_row() override;
  [[nodiscard]] bool end_row() override;
  [[nodiscard]] bool add_table(const Table& table) override;
  [[nodiscard]] bool add_record(const nlohmann::json& record) override;
  [[nodiscard]] std::uint64_t count() const override { return count_; }

  [[nodiscard]] const std::vector<Column>& columns() const noexcept { return columns_; }
  [[nodiscard]] int set_columns_calls() const noexcept { return set_columns_calls_; }
  [[nodiscard]] const std::vector<nlohmann::json>& rows() const noexcept { return rows_; }
  [[nodiscard]] const std::vector<nlohmann::json>& tables() const noexcept { return tables_; }
  /// query_log records, in order.
  [[nodiscard]] const std::vector<nlohmann::json>& records() const noexcept { return records_; }
  [[nodiscard]] bool truncated() const noexcept { return truncated_; }
  /// Bytes of row JSON accepted.
  [[nodiscard]] std::uint64_t bytes() const noexcept { return bytes_; }
  /// The table object named schema.name, or nullptr.
  [[nodiscard]] const nlohmann::json* table(std::string_view schema, std::string_view name) const;
  /// Index of the named column, or -1.
  [[nodiscard]] int column_index(std::string_view name) const;

 private:
  Options options_;
  std::string buffer_;
  RowWriter writer_;
  std::vector<Column> columns_;
  int set_columns_calls_ = 0;
  std::vector<nlohmann::json> rows_;
  std::vector<nlohmann::json> tables_;
  std::vector<nlohmann::json> records_;
  std::uint64_t count_ = 0;
  std::uint64_t bytes_ = 0;
  bool truncated_ = false;
  bool in_row_ = false;
};

/// Sets `job.query` / `job.metadata` from the params' wire form for a job of
/// `job.type`, exactly as the runtime does (parse_job_params). Params the
/// runtime would refuse throw std::invalid_argument with its message: a
/// connector never sees them.
void set_params(Job& job, const nlohmann::json& params);

/// Allows every host, resolving names with getaddrinfo (tests use loopback
/// only). Counts resolve() calls.
class AllowingNetworkGuard final : public NetworkGuard {
 public:
  [[nodiscard]] ResolvedHost resolve(std::string_view host, std::uint16_t port) const override;
  [[nodiscard]] std::optional<JobError> check_local_socket(std::string_view path) const override;
  [[nodiscard]] std::optional<JobError> check_dsn(std::string_view name) const override;
  mutable std::atomic<int> resolve_calls{0};
};

/// Refuses every host and socket with egress_denied, as --allow-hosts would.
class DenyingNetworkGuard final : public NetworkGuard {
 public:
  [[nodiscard]] ResolvedHost resolve(std::string_view host, std::uint16_t port) const override;
  [[nodiscard]] std::optional<JobError> check_local_socket(std::string_view path) const override;
  [[nodiscard]] std::optional<JobError> check_dsn(std::string_view name) const override;
  mutable std::atomic<int> resolve_calls{0};
};

}  // namespace outpost::test
