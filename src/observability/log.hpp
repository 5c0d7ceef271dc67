#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include "config/config.hpp"

namespace outpost::obs {

using config::LogLevel;

/// One structured field of a log line (`job_id`, `attempt`, `duration_ms`, …).
using LogValue = std::variant<std::string_view, std::int64_t, double, bool>;
struct Field {
  std::string_view key;
  LogValue value;

  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, bool v) : key(k), value(v) {}
  Field(std::string_view k, double v) : key(k), value(v) {}
  template <typename I>
  requires std::is_integral_v<I> &&(!std::is_same_v<I, bool>)Field(std::string_view k, I v)
      : key(k), value(static_cast<std::int64_t>(v)) {}
};
using Fields = std::initializer_list<Field>;

struct LogOptions {
  LogLevel level = LogLevel::kInfo;
  config::LogFormat format = config::LogFormat::kJson;
};

/// Sets up the process-wide sink (stdout, JSON lines or text) once at start.
/// Until called, lines go to stdout as JSON at info level.
void init_logging(const LogOptions& options);

/// Registers a secret (the access token, a resolved secret reference, a proxy
/// password): from then on it is replaced by "[REDACTED]" in every message and
/// field of every log line, whatever the caller passes in. Thread safe.
void add_secret(std::string secret);

/// Replaces every registered secret in `text` (also used for error lines that
/// go to stderr and for job error messages sent to the control plane).
std::string redact(std::string_view text);

/// A named logger ("runtime", "claim", "hub", …). Cheap to copy; thread safe.
/// Each line is one JSON object: ts (RFC 3339, UTC, ms), level, logger, msg,
/// then the fields in the order given.
class Logger {
 public:
  explicit Logger(std::string name) : name_(std::move(name)) {}

  [[nodiscard]] bool enabled(LogLevel level) const noexcept;
  void log(LogLevel level, std::string_view msg, Fields fields = {}) const;

  void trace(std::string_view msg, Fields f = {}) const { log(LogLevel::kTrace, msg, f); }
  void debug(std::string_view msg, Fields f = {}) const { log(LogLevel::kDebug, msg, f); }
  void info(std::string_view msg, Fields f = {}) const { log(LogLevel::kInfo, msg, f); }
  void warn(std::string_view msg, Fields f = {}) const { log(LogLevel::kWarn, msg, f); }
  void error(std::string_view msg, Fields f = {}) const { log(LogLevel::kError, msg, f); }

 private:
  std::string name_;
};

}  // namespace outpost::obs
