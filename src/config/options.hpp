#pragma once

#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace outpost::config {

/// A configuration value that cannot be used; the message is one line that
/// says what is wrong and how to fix it (never containing the token).
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// One option's raw text and where it came from ("--job-timeout" or
/// "AGENT_JOB_TIMEOUT"), for error messages.
struct RawValue {
  std::string text;
  std::string origin;
};

enum class ValueKind {
  kValue,          ///< --name VALUE
  kFlag,           ///< --name (or --name=true/false; env: true/false/1/0/yes/no/on/off)
  kOptionalValue,  ///< --name [VALUE] (the token)
};

/// One row of the option table: the single source of the parser's options,
/// of the AGENT_* variable names and of the --help text.
struct OptionSpec {
  std::string_view names;  ///< CLI11 style: "-u,--url,--instance-api-url"
  std::string_view value_name;
  ValueKind kind;
  std::string_view default_text;  ///< shown by --help; empty = none
  std::string_view help;
  /// Converts and stores the value; throws ConfigError. nullptr for options
  /// handled by the parser itself (the token and the token file).
  void (*apply)(AgentConfig& config, const RawValue& value);
};

/// Every option of agent-cli.md plus --backoff-cap, except --help and --version.
std::span<const OptionSpec> option_specs();

/// The long names of `spec` without dashes ("url", "instance-api-url").
std::vector<std::string> long_names(const OptionSpec& spec);

/// "AGENT_" + long name upper-cased with '-' turned into '_'.
std::string env_name(std::string_view long_name);

/// The usage text printed by --help.
std::string help_text();

/// The text printed by --version: "outpost-agent <semver>", commit, build type.
std::string version_text();

/// Parses "true/false/1/0/yes/no/on/off" (case-insensitive); throws ConfigError.
bool parse_bool(const RawValue& value);

}  // namespace outpost::config
