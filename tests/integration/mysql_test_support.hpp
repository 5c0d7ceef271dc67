#pragma once
// Helpers for the MySQL/ODBC connector tests: an egress guard for loopback
// servers, sinks that collect or count rows, and a one-call job runner.

#include <netdb.h>
#include <sys/socket.h>

#include <charconv>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "outpost/connector.hpp"
#include "support/collecting_sink.hpp"

namespace outpost::test {

/// Resolves names with getaddrinfo and permits every address, or refuses all
/// (egress_denied) when constructed with `deny = true`.
class TestNetworkGuard final : public NetworkGuard {
 public:
  explicit TestNetworkGuard(bool deny = false) : deny_(deny) {}
  [[nodiscard]] ResolvedHost resolve(std::string_view host, std::uint16_t) const override {
    ResolvedHost out;
    if (deny_) {
      out.error = JobError{ErrorCode::kEgressDenied, "test guard denies " + std::string(host)};
      return out;
    }
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* list = nullptr;
    if (getaddrinfo(std::string(host).c_str(), nullptr, &hints, &list) != 0) {
      out.error = JobError{ErrorCode::kUnreachable, "cannot resolve " + std::string(host), true};
      return out;
    }
    for (auto* ai = list; ai != nullptr; ai = ai->ai_next) {
      char text[NI_MAXHOST];
      if (getnameinfo(ai->ai_addr, ai->ai_addrlen, text, sizeof text, nullptr, 0, NI_NUMERICHOST) ==
          0) {
        out.addresses.emplace_back(text);
      }
    }
    freeaddrinfo(list);
    ++resolve_calls;
    return out;
  }
  [[nodiscard]] std::optional<JobError> check_local_socket(std::string_view) const override {
    if (deny_) return JobError{ErrorCode::kEgressDenied, "test guard denies sockets"};
    return std::nullopt;
  }
  [[nodiscard]] std::optional<JobError> check_dsn(std::string_view) const override {
    if (deny_) return JobError{ErrorCode::kEgressDenied, "test guard denies DSNs"};
    return std::nullopt;
  }
  mutable int resolve_calls = 0;

 private:
  bool deny_;
};

/// Keeps every row (parsed back from the RowWriter's JSON text) and table.
class CollectingRows final : public ResultSink {
 public:
  explicit CollectingRows(std::size_t max_rows = std::numeric_limits<std::size_t>::max())
      : max_rows_(max_rows) {}
  void set_columns(std::vector<Column> c) override {
    columns = std::move(c);
    columns_set = true;
  }
  RowWriter& begin_row() override {
    buffer_.clear();
    writer_.open();
    return writer_;
  }
  bool end_row() override {
    writer_.close();
    lines.push_back(buffer_);
    if (rows.size() >= max_rows_) {
      truncated = true;
      return false;
    }
    rows.push_back(nlohmann::json::parse(buffer_));
    return true;
  }
  bool add_table(const Table& table) override {
    if (tables.size() >= max_rows_) {
      truncated = true;
      return false;
    }
    tables.push_back(to_json(table));
    return true;
  }
  [[nodiscard]] std::uint64_t count() const override { return rows.size() + tables.size(); }

  /// The table object named schema.name, or null.
  [[nodiscard]] nlohmann::json table(const std::string& schema, const std::string& name) const {
    for (const auto& t : tables) {
      if (t["schema"] == schema && t["name"] == name) return t;
    }
    return nullptr;
  }

  std::vector<Column> columns;
  bool columns_set = false;
  std::vector<nlohmann::json> rows;
  std::vector<std::string> lines;  // raw text of every row, as a part would carry it
  std::vector<nlohmann::json> tables;
  bool truncated = false;

 private:
  std::size_t max_rows_;
  std::string buffer_;
  RowWriter writer_{buffer_};
};

/// Counts rows without keeping them: the row's first value (an integer id) is
/// summed as a checksum, and the bytes of every row are totalled.
class CountingRows final : public ResultSink {
 public:
  void set_columns(std::vector<Column> c) override { columns = std::move(c); }
  RowWriter& begin_row() override {
    buffer_.clear();
    writer_.open();
    return writer_;
  }
  bool end_row() override {
    writer_.close();
    ++rows;
    bytes += buffer_.size();
    std::uint64_t id = 0;
    const std::size_t skip = buffer_.size() > 1 && buffer_[1] == '"' ? 2 : 1;  // "123" or 123
    std::from_chars(buffer_.data() + skip, buffer_.data() + buffer_.size(), id);
    id_sum += id;
    return true;
  }
  bool add_table(const Table&) override { return true; }
  [[nodiscard]] std::uint64_t count() const override { return rows; }

  std::vector<Column> columns;
  std::uint64_t rows = 0;
  std::uint64_t bytes = 0;
  std::uint64_t id_sum = 0;

 private:
  std::string buffer_;
  RowWriter writer_{buffer_};
};

/// Runs one job on `connector` with a fresh cancel token unless one is given.
inline JobResult run_job(Connector& connector, const Job& job, ResultSink& sink,
                         const NetworkGuard& guard, CancelToken* token = nullptr) {
  CancelToken local;
  JobContext ctx{job, sink, token != nullptr ? *token : local, guard,
                 std::chrono::steady_clock::now() + job.timeout};
  return connector.run(ctx);
}

/// False in sanitizer builds: ASan's quarantine keeps freed memory resident
/// (256 MiB by default), so RSS says nothing about the code's own footprint.
/// The row count and checksum are still checked there; the memory bound is
/// checked in the plain build.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kRssIsMeaningful = false;
#else
inline constexpr bool kRssIsMeaningful = true;
#endif

/// Peak resident set size of this process in KiB (VmHWM).
inline std::uint64_t self_peak_rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6));
  }
  return 0;
}

}  // namespace outpost::test
