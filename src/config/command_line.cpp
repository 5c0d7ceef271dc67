// The only translation unit that includes CLI11 (it is slow to compile).
#include "config/command_line.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <optional>

#include "config/options.hpp"
#include "config/options_file.hpp"
#include "config/validation.hpp"

namespace outpost::config {
namespace {

// What CLI11 stores for a bare --token: a value no real token can have (it
// holds control characters, which validate_token rejects anyway).
constexpr std::string_view kPromptMarker = "\x01prompt\x01";
constexpr std::string_view kTokenNames = "-t,--token,--instance-access-token";
constexpr std::string_view kTokenFileNames = "--token-file";

std::string primary_name(const OptionSpec& spec) {
  return "--" + long_names(spec).front();
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string unknown_option_message(const std::string& arg) {
  const std::string name = arg.substr(0, arg.find('='));
  std::string message = "unknown option '" + name + "'";
  const std::string bare = name.substr(name.find_first_not_of('-'));
  std::string best;
  std::size_t best_distance = 3;
  for (const auto& spec : option_specs()) {
    for (const auto& candidate : long_names(spec)) {
      const std::size_t distance = edit_distance(bare, candidate);
      if (distance < best_distance) {
        best_distance = distance;
        best = candidate;
      }
    }
  }
  if (!best.empty()) message += "; did you mean --" + best + "?";
  return message + " (run outpost-agent --help to list every option)";
}

bool is_token_option(std::string_view arg) {
  return arg == "-t" || arg == "--token" || arg == "--instance-access-token";
}

// The value of an option from the environment: any of its AGENT_* names, which
// must agree when several are set. Empty variables count as unset.
std::optional<RawValue> from_environment(const OptionSpec& spec, const Environment& env) {
  std::optional<RawValue> found;
  for (const auto& name : long_names(spec)) {
    const std::string variable = env_name(name);
    auto value = env.variable(variable);
    if (!value) continue;
    std::string text = trim(*value);
    if (text.empty()) continue;
    if (found && found->text != text) {
      throw ConfigError(found->origin + " and " + variable +
                        " are both set, to different values; set only one of them");
    }
    if (!found) found = RawValue{std::move(text), variable};
  }
  return found;
}

std::optional<RawValue> from_command_line(const CLI::Option* option, const OptionSpec& spec) {
  if (option->count() == 0) return std::nullopt;
  std::string text = option->results().back();
  if (text != kPromptMarker) text = trim(text);
  return RawValue{std::move(text), primary_name(spec)};
}

const OptionSpec& find_spec(std::string_view names) {
  for (const auto& spec : option_specs()) {
    if (spec.names == names) return spec;
  }
  throw std::logic_error("option table lacks " + std::string(names));
}

// A token becomes an HTTP header value: no white space or control characters.
void validate_token(const std::string& token, const std::string& origin) {
  const bool bad = std::any_of(token.begin(), token.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7f;
  });
  if (bad) {
    throw ConfigError("the access token from " + origin +
                      " contains white space or control characters; check for a stray quote, "
                      "line break or a second word");
  }
}

class Parser {
 public:
  Parser(const Environment& env, TokenReader& reader) : env_(env), reader_(reader) {}

  ParseResult run(const std::vector<std::string>& raw_args) {
    ParseResult result;
    try {
      std::string error;
      auto args = expand_options_files(raw_args, env_, &error);
      if (!args) throw ConfigError(error);
      args_ = std::move(*args);
      collect_token_candidates();
      if (auto text = parse_cli()) {
        result.outcome = ParseResult::Outcome::kPrintAndExit;
        result.text = std::move(*text);
        return result;
      }
      apply_options(result.config);
      resolve_token(result.config);
      result.warnings = validate_config(result.config, env_);
      result.outcome = ParseResult::Outcome::kRun;
    } catch (const ConfigError& e) {
      result = ParseResult{};
      result.text = scrub(e.what());
    }
    return result;
  }

 private:
  // Returns the text to print for --help / --version, else nullopt.
  std::optional<std::string> parse_cli() {
    app_.set_help_flag("-h,--help");
    app_.set_version_flag("--version", std::string("version"));
    app_.allow_extras(true);
    app_.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    for (const auto& spec : option_specs()) {
      CLI::Option* option = spec.kind == ValueKind::kFlag
                                ? app_.add_flag(std::string(spec.names))
                                : app_.add_option(std::string(spec.names));
      if (spec.kind == ValueKind::kOptionalValue) {
        option->expected(0, 1)->default_str(std::string(kPromptMarker));
      }
      options_.push_back(option);
    }
    std::vector<std::string> reversed(args_.rbegin(), args_.rend());
    try {
      app_.parse(reversed);
    } catch (const CLI::CallForHelp&) {
      return help_text();
    } catch (const CLI::CallForVersion&) {
      return version_text();
    } catch (const CLI::ArgumentMismatch& e) {
      const std::string what = e.what();
      const std::string name = what.substr(0, what.find(':'));
      for (const auto& spec : option_specs()) {
        const auto names = long_names(spec);
        if (std::find(names.begin(), names.end(), name.substr(name.find_first_not_of('-'))) !=
                names.end() ||
            spec.names.starts_with(name + ",")) {
          throw ConfigError("option " + name + " needs a value (" + std::string(spec.value_name) +
                            "); see outpost-agent --help");
        }
      }
      throw ConfigError("invalid arguments: " + what + " (see outpost-agent --help)");
    } catch (const CLI::ParseError& e) {
      throw ConfigError(std::string("invalid arguments: ") + e.what() +
                        " (see outpost-agent --help)");
    }
    report_extras();
    return std::nullopt;
  }

  // Every string that may be the token, gathered before anything can fail, so
  // that scrub() can remove it from whatever error comes next.
  void collect_token_candidates() {
    for (std::size_t i = 0; i < args_.size(); ++i) {
      const std::string& arg = args_[i];
      // A following option name (bare --token) is not a candidate.
      if (is_token_option(arg) && i + 1 < args_.size() && !args_[i + 1].starts_with("--")) {
        candidates_.push_back(args_[i + 1]);
      }
      const auto equals = arg.find('=');
      if (equals != std::string::npos && is_token_option(arg.substr(0, equals))) {
        candidates_.push_back(arg.substr(equals + 1));
      }
      if (arg.size() > 2 && arg.starts_with("-t") && arg[2] != '=') {
        candidates_.push_back(arg.substr(2));
      }
    }
    for (const auto& name : long_names(find_spec(kTokenNames))) {
      if (auto value = env_.variable(env_name(name))) candidates_.push_back(trim(*value));
    }
  }

  void report_extras() {
    const auto extras = app_.remaining();
    for (const auto& extra : extras) {
      if (extra.size() < 2 || extra.front() != '-') continue;
      // "--token -abc": CLI11 takes a value starting with '-' for an option;
      // never echo what may be the token.
      const auto at = std::find(args_.begin(), args_.end(), extra);
      if (at != args_.begin() && at != args_.end() && is_token_option(*(at - 1))) {
        throw ConfigError(
            "the value after --token starts with '-' and was read as an option; write "
            "--token=VALUE, or better --token-file PATH");
      }
      throw ConfigError(unknown_option_message(extra));
    }
    if (!extras.empty()) {
      const std::string& extra = extras.front();
      std::string message = "unexpected argument '" + extra + "': every value needs its option";
      if (extra.find("://") != std::string::npos) message += ", e.g. --url " + extra;
      throw ConfigError(message + "; options files are given as @FILE (see outpost-agent --help)");
    }
  }

  void apply_options(AgentConfig& config) {
    const auto specs = option_specs();
    for (std::size_t i = 0; i < specs.size(); ++i) {
      const OptionSpec& spec = specs[i];
      std::optional<RawValue> value = from_command_line(options_[i], spec);
      if (!value) value = from_environment(spec, env_);
      if (spec.apply == nullptr) {  // token and token file: resolve_token()
        if (value && spec.names == kTokenNames) token_ = value;
        if (value && spec.names == kTokenFileNames) token_file_ = value;
        continue;
      }
      if (!value) continue;
      if (value->text.empty() && spec.names != "--allow-hosts") {
        throw ConfigError(value->origin + " needs a value (" + std::string(spec.value_name) +
                          "); see outpost-agent --help");
      }
      spec.apply(config, *value);
    }
  }

  void resolve_token(AgentConfig& config) {
    const bool token_from_cli = token_ && token_->origin.starts_with("--");
    const bool file_from_cli = token_file_ && token_file_->origin.starts_with("--");
    // The command line wins over the environment for the token as a whole.
    if (token_from_cli && !file_from_cli) token_file_.reset();
    if (file_from_cli && !token_from_cli) token_.reset();
    if (token_ && token_file_) {
      throw ConfigError("both " + token_->origin + " and " + token_file_->origin +
                        " are given; keep only one way to pass the access token");
    }
    if (config.url.empty()) {
      throw ConfigError(token_ || token_file_
                            ? "missing the control plane URL: pass --url https://HOST/api "
                              "(or set AGENT_URL)"
                            : "missing the control plane URL and the access token: pass --url "
                              "https://HOST/api and --token-file PATH (or set AGENT_URL and "
                              "AGENT_TOKEN)");
    }
    if (token_file_) {
      config.token_file = token_file_->text;
      const FileRead read = env_.read_file(config.token_file);
      if (!read.content) {
        throw ConfigError("cannot read the token file '" + config.token_file + "' (" +
                          token_file_->origin + "): " + read.error +
                          "; check the path and its permissions");
      }
      config.token = trim(*read.content);
      candidates_.push_back(config.token);
      if (config.token.empty()) {
        throw ConfigError("the token file '" + config.token_file +
                          "' is empty; put the access "
                          "token in it");
      }
      validate_token(config.token, "the token file '" + config.token_file + "'");
      return;
    }
    if (!token_) {
      throw ConfigError(
          "missing the access token: pass --token-file PATH, set AGENT_TOKEN, or "
          "pass --token to be prompted for it");
    }
    if (token_->text == kPromptMarker) {
      std::string error;
      auto token = reader_.read_token(&error);
      if (!token) throw ConfigError(error);
      config.token = std::move(*token);
      candidates_.push_back(config.token);
    } else if (token_->text.empty()) {
      throw ConfigError(token_->origin +
                        " was given an empty value; pass the access token, or "
                        "--token alone to be prompted for it");
    } else {
      config.token = token_->text;
    }
    validate_token(config.token, token_->origin);
  }

  // Belt and braces: no error line may carry a token, whichever way it came.
  std::string scrub(std::string text) const {
    for (const auto& secret : candidates_) {
      if (secret.size() < 4) continue;  // too short to tell from ordinary words
      constexpr std::string_view kMask = "[REDACTED]";
      for (auto pos = text.find(secret); pos != std::string::npos;
           pos = text.find(secret, pos + kMask.size())) {
        text.replace(pos, secret.size(), kMask);
      }
    }
    return text;
  }

  const Environment& env_;
  TokenReader& reader_;
  CLI::App app_{"outpost-agent", "outpost-agent"};
  std::vector<CLI::Option*> options_;
  std::vector<std::string> args_;
  std::optional<RawValue> token_;
  std::optional<RawValue> token_file_;
  std::vector<std::string> candidates_;
};

}  // namespace

ParseResult parse_command_line(const std::vector<std::string>& args, const Environment& env,
                               TokenReader& token_reader) {
  Parser parser(env, token_reader);
  return parser.run(args);
}

}  // namespace outpost::config
