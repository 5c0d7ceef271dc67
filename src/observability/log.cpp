#include "observability/log.hpp"

#include <spdlog/logger.h>
#include <spdlog/sinks/base_sink.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <memory>
#include <mutex>

#include "observability/log_output.hpp"
#include "observability/redaction.hpp"
#include "outpost/row_writer.hpp"

namespace outpost::obs {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::atomic<config::LogFormat> g_format{config::LogFormat::kJson};

/// The one spdlog sink: writes each (already formatted) line to stdout, or to
/// the test output. base_sink's mutex serialises lines across threads.
class LineSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  void set_output(LogOutput output) {
    std::lock_guard lock(mutex_);
    output_ = std::move(output);
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    const std::string_view line(msg.payload.data(), msg.payload.size());
    if (output_) {
      output_(line);
      return;
    }
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
    // One flush per line: a collector or a test waiting for a line must see
    // it now, not when a buffer fills.
    std::fflush(stdout);
  }
  void flush_() override { std::fflush(stdout); }

 private:
  LogOutput output_;
};

struct Backend {
  std::shared_ptr<LineSink> sink = std::make_shared<LineSink>();
  spdlog::logger logger{"outpost", sink};
  Backend() {
    logger.set_level(spdlog::level::trace);  // filtering happens before formatting
  }
};

Backend& backend() {
  static Backend instance;
  return instance;
}

std::string_view level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace: return "trace";
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

spdlog::level::level_enum to_spdlog(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace: return spdlog::level::trace;
    case LogLevel::kDebug: return spdlog::level::debug;
    case LogLevel::kInfo: return spdlog::level::info;
    case LogLevel::kWarn: return spdlog::level::warn;
    case LogLevel::kError: return spdlog::level::err;
  }
  return spdlog::level::info;
}

// RFC 3339 in UTC with milliseconds: 2026-01-31T12:34:56.789Z.
void append_timestamp(std::string& out) {
  const auto now = std::chrono::system_clock::now();
  const auto seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  std::array<char, 32> buffer{};
  const auto length = std::strftime(buffer.data(), buffer.size(), "%Y-%m-%dT%H:%M:%S", &utc);
  out.append(buffer.data(), length);
  std::array<char, 8> ms{};
  std::snprintf(ms.data(), ms.size(), ".%03dZ", static_cast<int>(millis));
  out.append(ms.data());
}

template <typename Number>
void append_number(std::string& out, Number value) {
  std::array<char, 32> buffer{};
  const auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  out.append(buffer.data(), ec == std::errc() ? end : buffer.data());
}

void append_json_text(std::string& out, std::string_view text) {
  if (!has_secrets()) {
    RowWriter::append_json_string(out, text);
    return;
  }
  RowWriter::append_json_string(out, redact(text));
}

void append_json_value(std::string& out, const LogValue& value) {
  if (const auto* text = std::get_if<std::string_view>(&value)) {
    append_json_text(out, *text);
  } else if (const auto* integer = std::get_if<std::int64_t>(&value)) {
    append_number(out, *integer);
  } else if (const auto* real = std::get_if<double>(&value)) {
    // JSON has no NaN or infinities: spell them as strings.
    if (std::isnan(*real)) {
      out.append("\"NaN\"");
    } else if (std::isinf(*real)) {
      out.append(*real > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    } else {
      append_number(out, *real);
    }
  } else {
    out.append(std::get<bool>(value) ? "true" : "false");
  }
}

bool is_reserved_key(std::string_view key) {
  return key == "ts" || key == "level" || key == "logger" || key == "msg";
}

std::string json_line(std::string_view logger, LogLevel level, std::string_view msg,
                      std::initializer_list<Field> fields) {
  std::string out;
  out.reserve(96 + msg.size() + fields.size() * 24);
  out.append("{\"ts\":\"");
  append_timestamp(out);
  out.append("\",\"level\":\"").append(level_name(level)).append("\",\"logger\":");
  append_json_text(out, logger);
  out.append(",\"msg\":");
  append_json_text(out, msg);
  for (const auto& field : fields) {
    out.push_back(',');
    // A field may not shadow the line's own keys: "msg" becomes "_msg".
    append_json_text(
        out, is_reserved_key(field.key) ? "_" + std::string(field.key) : std::string(field.key));
    out.push_back(':');
    append_json_value(out, field.value);
  }
  out.push_back('}');
  return out;
}

// Text form: one line per entry whatever the message holds, so control
// characters are escaped; values with blanks or quotes are JSON-quoted.
void append_text_escaped(std::string& out, std::string_view text) {
  const std::string redacted = has_secrets() ? redact(text) : std::string(text);
  for (const char c : redacted) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\n') {
      out.append("\\n");
    } else if (c == '\r') {
      out.append("\\r");
    } else if (c == '\t') {
      out.append("\\t");
    } else if (u < 0x20 || u == 0x7f) {
      std::array<char, 8> hex{};
      std::snprintf(hex.data(), hex.size(), "\\x%02x", u);
      out.append(hex.data());
    } else {
      out.push_back(c);
    }
  }
}

std::string text_line(std::string_view logger, LogLevel level, std::string_view msg,
                      std::initializer_list<Field> fields) {
  std::string out;
  append_timestamp(out);
  std::string upper(level_name(level));
  for (char& c : upper) c = static_cast<char>(c - 'a' + 'A');
  upper.resize(5, ' ');
  out.append(" ").append(upper).append(" ");
  append_text_escaped(out, logger);
  out.append(": ");
  append_text_escaped(out, msg);
  for (const auto& field : fields) {
    out.push_back(' ');
    append_text_escaped(out, field.key);
    out.push_back('=');
    const auto* text = std::get_if<std::string_view>(&field.value);
    const bool plain = text != nullptr && !text->empty() &&
                       text->find_first_of(" \"=\\") == std::string_view::npos &&
                       std::none_of(text->begin(), text->end(),
                                    [](char c) { return static_cast<unsigned char>(c) < 0x20; });
    if (text != nullptr && plain) {
      append_text_escaped(out, *text);
    } else {
      append_json_value(out, field.value);
    }
  }
  return out;
}

}  // namespace

void init_logging(const LogOptions& options) {
  g_level.store(static_cast<int>(options.level), std::memory_order_relaxed);
  g_format.store(options.format, std::memory_order_relaxed);
}

void set_log_output(LogOutput output) {
  backend().sink->set_output(std::move(output));
}

std::string format_log_line(config::LogFormat format, std::string_view logger, LogLevel level,
                            std::string_view msg, std::initializer_list<Field> fields) {
  return format == config::LogFormat::kJson ? json_line(logger, level, msg, fields)
                                            : text_line(logger, level, msg, fields);
}

bool Logger::enabled(LogLevel level) const noexcept {
  return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

void Logger::log(LogLevel level, std::string_view msg, Fields fields) const {
  if (!enabled(level)) return;  // fast path: nothing is formatted below the level
  const std::string line =
      format_log_line(g_format.load(std::memory_order_relaxed), name_, level, msg, fields);
  backend().logger.log(to_spdlog(level), spdlog::string_view_t(line.data(), line.size()));
}

}  // namespace outpost::obs
