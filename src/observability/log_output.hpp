#pragma once

#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>

#include "observability/log.hpp"

namespace outpost::obs {

/// Receives each finished log line (without its trailing new line).
using LogOutput = std::function<void(std::string_view line)>;

/// Sends every log line to `output` instead of standard output; an empty
/// function restores standard output. Lines are delivered one at a time
/// (never concurrently). Meant for tests and for embedding the agent.
void set_log_output(LogOutput output);

/// Builds one log line exactly as Logger::log would write it (redaction
/// included), without writing it. `format` selects JSON or text.
std::string format_log_line(config::LogFormat format, std::string_view logger, LogLevel level,
                            std::string_view msg, std::initializer_list<Field> fields);

}  // namespace outpost::obs
