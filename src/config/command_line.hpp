#pragma once

#include <string>
#include <vector>

#include "config/config.hpp"
#include "config/environment.hpp"
#include "config/token_reader.hpp"

namespace outpost::config {

/// What the command line asks for: run with a configuration, print a text and
/// exit 0 (--help, --version), or stop with a usage error (exit 2).
struct ParseResult {
  enum class Outcome { kRun, kPrintAndExit, kUsageError };

  Outcome outcome = Outcome::kUsageError;
  AgentConfig config;  ///< complete and validated when outcome == kRun
  /// kPrintAndExit: the text for standard output. kUsageError: one line for
  /// standard error saying what is wrong and how to fix it (never the token).
  std::string text;
  /// kRun: hints to log once logging is set up (e.g. a URL without /api).
  std::vector<std::string> warnings;

  [[nodiscard]] int exit_code() const { return outcome == Outcome::kUsageError ? 2 : 0; }
};

/// Parses the agent's arguments (without argv[0]) as agent-cli.md specifies:
/// @FILE expansion, every option by long and short name, AGENT_* variables
/// (command line > environment > defaults), the token from --token,
/// --token-file or `token_reader` (bare --token), then validation.
/// Never throws for bad input.
ParseResult parse_command_line(const std::vector<std::string>& args, const Environment& env,
                               TokenReader& token_reader);

}  // namespace outpost::config
