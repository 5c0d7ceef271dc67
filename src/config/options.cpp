#include "config/options.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

#include "config/duration.hpp"
#include "config/size.hpp"
#include "config/validation.hpp"
#include "outpost_version.hpp"

namespace outpost::config {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

[[noreturn]] void bad_value(const RawValue& value, const std::string& problem) {
  throw ConfigError("invalid value for " + value.origin + ": " + problem);
}

std::int64_t parse_integer(const RawValue& value, std::int64_t min, std::int64_t max,
                           std::string_view zero_hint = {}) {
  std::string_view text = value.text;
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (!text.empty() && text.front() == '-') {
    std::string msg = value.origin + " must not be negative (got " + value.text + ")";
    if (!zero_hint.empty()) msg += "; " + std::string(zero_hint);
    throw ConfigError(msg);
  }
  std::int64_t number = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (text.empty() || ec == std::errc::invalid_argument || end != text.data() + text.size()) {
    bad_value(value, "'" + value.text + "' is not a whole number");
  }
  if (ec == std::errc::result_out_of_range || number > max) {
    bad_value(value, "'" + value.text + "' is too large (at most " + std::to_string(max) + ")");
  }
  if (number < min) {
    bad_value(value, "'" + value.text + "' is too small (at least " + std::to_string(min) + ")");
  }
  return number;
}

std::chrono::milliseconds parse_ms(const RawValue& value, bool allow_zero) {
  std::string error;
  const auto parsed = parse_duration(value.text, &error);
  if (!parsed) bad_value(value, error);
  if (!allow_zero && parsed->count() == 0) bad_value(value, "the duration must be more than 0");
  // Whole milliseconds, rounded up so that "500us" does not become "no time at all".
  return std::chrono::ceil<std::chrono::milliseconds>(*parsed);
}

template <typename Enum, std::size_t N>
Enum parse_choice(const RawValue& value, std::string_view what,
                  const std::array<std::pair<std::string_view, Enum>, N>& choices) {
  const std::string wanted = lower(value.text);
  for (const auto& [name, choice] : choices) {
    if (wanted == name) return choice;
  }
  std::string valid;
  for (const auto& [name, choice] : choices) {
    if (name == "warning") continue;  // an alias, not worth listing
    valid += valid.empty() ? std::string(name) : ", " + std::string(name);
  }
  throw ConfigError("unknown " + std::string(what) + " '" + value.text + "' for " + value.origin +
                    "; use one of: " + valid);
}

double parse_rate(const RawValue& value) {
  if (!value.text.empty() && value.text.front() == '-') {
    throw ConfigError(value.origin + " must not be negative (got " + value.text +
                      "); use 0 for no limit");
  }
  double rate = 0;
  const auto [end, ec] =
      std::from_chars(value.text.data(), value.text.data() + value.text.size(), rate);
  if (value.text.empty() || ec != std::errc() || end != value.text.data() + value.text.size() ||
      !std::isfinite(rate)) {
    bad_value(value, "'" + value.text + "' is not a number of jobs per second (e.g. 5 or 0.5)");
  }
  return rate;
}

std::uint64_t parse_result_bytes(const RawValue& value) {
  std::string error;
  const auto bytes = parse_size(value.text, &error);
  if (!bytes) bad_value(value, error);
  if (*bytes == 0) bad_value(value, "the size must be more than 0");
  return *bytes;
}

constexpr std::array<std::pair<std::string_view, BackoffStrategy>, 5> kBackoffNames{{
    {"linear", BackoffStrategy::kLinear},
    {"linear-jitter", BackoffStrategy::kLinearJitter},
    {"exponential", BackoffStrategy::kExponential},
    {"exponential-jitter", BackoffStrategy::kExponentialJitter},
    {"fallback", BackoffStrategy::kFallback},
}};
constexpr std::array<std::pair<std::string_view, LogLevel>, 6> kLevelNames{{
    {"trace", LogLevel::kTrace},
    {"debug", LogLevel::kDebug},
    {"info", LogLevel::kInfo},
    {"warn", LogLevel::kWarn},
    {"warning", LogLevel::kWarn},
    {"error", LogLevel::kError},
}};
constexpr std::array<std::pair<std::string_view, LogFormat>, 2> kFormatNames{{
    {"json", LogFormat::kJson},
    {"text", LogFormat::kText},
}};

constexpr std::int64_t kIntMax = std::numeric_limits<int>::max();

// The option table. Defaults shown here must match AgentConfig's initialisers
// (a unit test parses an empty command line and compares).
constexpr std::array kSpecs{
    OptionSpec{"-u,--url,--instance-api-url", "URL", ValueKind::kValue, "(required)",
               "control plane API URL, e.g. https://control.example.com/api",
               [](AgentConfig& c, const RawValue& v) { c.url = v.text; }},
    OptionSpec{"-t,--token,--instance-access-token", "[TOKEN]", ValueKind::kOptionalValue,
               "(required unless --token-file)",
               "access token; as a bare flag it is prompted for without echo on a terminal, "
               "or read as one line from standard input",
               nullptr},
    OptionSpec{"--token-file", "PATH", ValueKind::kValue, "",
               "read the token from a file (e.g. a Kubernetes Secret mount); white space trimmed",
               nullptr},
    OptionSpec{"--max-concurrency", "N", ValueKind::kValue,
               "sized from the container: 4 per CPU core, 2 to 64", "jobs run at once",
               [](AgentConfig& c, const RawValue& v) {
                 c.max_concurrency = static_cast<int>(parse_integer(v, 1, 4096));
                 c.max_concurrency_set = true;
               }},
    OptionSpec{"--health-addr", "HOST:PORT", ValueKind::kValue, "0.0.0.0:8080",
               "where /healthz, /readyz and /metrics are served; 'off' disables",
               [](AgentConfig& c, const RawValue& v) { c.health_addr = normalize_health_addr(v); }},
    OptionSpec{"--log-level", "LEVEL", ValueKind::kValue, "info",
               "trace, debug, info, warn or error",
               [](AgentConfig& c, const RawValue& v) {
                 c.log_level = parse_choice(v, "log level", kLevelNames);
               }},
    OptionSpec{"--log-format", "FORMAT", ValueKind::kValue, "json", "json or text",
               [](AgentConfig& c, const RawValue& v) {
                 c.log_format = parse_choice(v, "log format", kFormatNames);
               }},
    OptionSpec{"--sources-file", "PATH", ValueKind::kValue, "",
               "operator-defined sources that jobs may name with {\"ref\": NAME}",
               [](AgentConfig& c, const RawValue& v) { c.sources_file = v.text; }},
    OptionSpec{"--allow-hosts", "LIST", ValueKind::kValue, "(no restriction)",
               "comma-separated host names, *.suffix patterns, IP addresses and CIDR "
               "blocks, each with an optional :PORT or :FIRST-LAST ([IPv6]:PORT), plus "
               "unix:/socket/path and dsn:NAME entries, that data-source connections may use",
               [](AgentConfig& c, const RawValue& v) { c.allow_hosts = parse_allow_hosts(v); }},
    OptionSpec{"--ca-file", "PATH", ValueKind::kValue, "",
               "extra CA bundle (PEM) for the control plane's TLS",
               [](AgentConfig& c, const RawValue& v) { c.ca_file = v.text; }},
    OptionSpec{"--client-cert", "PATH", ValueKind::kValue, "",
               "client certificate (PEM) for mutual TLS to the control plane",
               [](AgentConfig& c, const RawValue& v) { c.client_cert = v.text; }},
    OptionSpec{"--client-key", "PATH", ValueKind::kValue, "", "private key (PEM) of --client-cert",
               [](AgentConfig& c, const RawValue& v) { c.client_key = v.text; }},
    OptionSpec{"--proxy", "URL", ValueKind::kValue, "(HTTPS_PROXY / https_proxy)",
               "HTTP(S) proxy for the control plane; NO_PROXY is honoured",
               [](AgentConfig& c, const RawValue& v) { c.proxy = validate_proxy_url(v); }},
    OptionSpec{"--allow-insecure-http", "", ValueKind::kFlag, "off",
               "permit a plain-http control plane URL that is not loopback",
               [](AgentConfig& c, const RawValue& v) { c.allow_insecure_http = parse_bool(v); }},
    OptionSpec{"--shutdown-grace", "DURATION", ValueKind::kValue, "30s",
               "how long SIGTERM waits for running jobs before releasing them",
               [](AgentConfig& c, const RawValue& v) { c.shutdown_grace = parse_ms(v, true); }},
    OptionSpec{"--job-timeout", "DURATION", ValueKind::kValue, "10m",
               "the agent's own cap on one job, whatever the control plane asks",
               [](AgentConfig& c, const RawValue& v) { c.job_timeout = parse_ms(v, false); }},
    OptionSpec{"--max-rate", "N", ValueKind::kValue, "0 (unlimited)",
               "most jobs started per second (decimals allowed)",
               [](AgentConfig& c, const RawValue& v) { c.max_rate = parse_rate(v); }},
    OptionSpec{"--backoff-strategy", "NAME", ValueKind::kValue, "exponential-jitter",
               "linear, linear-jitter, exponential, exponential-jitter or fallback",
               [](AgentConfig& c, const RawValue& v) {
                 c.backoff = parse_choice(v, "backoff strategy", kBackoffNames);
               }},
    OptionSpec{"--backoff-cap", "DURATION", ValueKind::kValue, "60s",
               "longest wait between two attempts to reach the control plane",
               [](AgentConfig& c, const RawValue& v) { c.backoff_cap = parse_ms(v, false); }},
    OptionSpec{"--max-retries", "N", ValueKind::kValue, "0 (forever)",
               "retries after a failed attempt to reach the control plane before exiting "
               "(1 = one retry)",
               [](AgentConfig& c, const RawValue& v) {
                 c.max_retries =
                     static_cast<int>(parse_integer(v, 0, kIntMax, "use 0 to retry forever"));
               }},
    OptionSpec{"--health-interval", "DURATION", ValueKind::kValue, "10s",
               "how often the agent checks that it is still connected and alive",
               [](AgentConfig& c, const RawValue& v) { c.health_interval = parse_ms(v, false); }},
    OptionSpec{"--max-per-source", "N", ValueKind::kValue, "0 (no cap)",
               "most jobs running at once against one source",
               [](AgentConfig& c, const RawValue& v) {
                 c.max_per_source =
                     static_cast<int>(parse_integer(v, 0, kIntMax, "use 0 for no cap"));
               }},
    OptionSpec{"--max-result-rows", "N", ValueKind::kValue, "1000000",
               "most rows one job may send back; beyond it the result is truncated",
               [](AgentConfig& c, const RawValue& v) {
                 c.max_result_rows =
                     static_cast<std::uint64_t>(parse_integer(v, 1, std::int64_t{1} << 53));
               }},
    OptionSpec{
        "--max-result-bytes", "SIZE", ValueKind::kValue, "256MiB",
        "most bytes one job may send back (B, KiB, MiB, GiB, kB, MB, GB)",
        [](AgentConfig& c, const RawValue& v) { c.max_result_bytes = parse_result_bytes(v); }},
    OptionSpec{"--require-secret-refs", "", ValueKind::kFlag, "off",
               "refuse jobs whose source config holds a literal password, key or token",
               [](AgentConfig& c, const RawValue& v) { c.require_secret_refs = parse_bool(v); }},
    OptionSpec{
        "--allow-privileged-logins", "", ValueKind::kFlag, "off",
        "run query and metadata jobs even on database logins that can do more than "
        "read (superuser, file or program roles, write grants); off, such jobs fail "
        "with permission_denied",
        [](AgentConfig& c, const RawValue& v) { c.allow_privileged_logins = parse_bool(v); }},
    OptionSpec{"--sqlite-dirs", "LIST", ValueKind::kValue, "(none: SQLite files refused)",
               "comma-separated directories under which SQLite database files may be opened",
               [](AgentConfig& c, const RawValue& v) { c.sqlite_dirs = parse_dir_list(v); }},
    OptionSpec{"--secret-dirs", "LIST", ValueKind::kValue, "/run/secrets,/var/run/secrets",
               "comma-separated directories that ${file:...} secret references may read under",
               [](AgentConfig& c, const RawValue& v) { c.secret_dirs = parse_dir_list(v); }},
    OptionSpec{"--secret-env", "LIST", ValueKind::kValue, "(none)",
               "comma-separated environment variable names (or PREFIX*) that ${env:...} secret "
               "references may read",
               [](AgentConfig& c, const RawValue& v) { c.secret_env = parse_env_name_list(v); }},
    OptionSpec{"--no-gzip", "", ValueKind::kFlag, "off",
               "send results uncompressed even when the control plane accepts gzip (fast "
               "local links, where CPU matters more than bytes)",
               [](AgentConfig& c, const RawValue& v) { c.no_gzip = parse_bool(v); }},
    OptionSpec{"--audit-log", "PATH", ValueKind::kValue, "(none)",
               "append one hash-chained JSON line per executed statement",
               [](AgentConfig& c, const RawValue& v) { c.audit_log = v.text; }},
};

// Appends `text` indented by 6 and wrapped at 80 columns.
void append_wrapped(std::string& out, std::string_view text) {
  constexpr std::size_t kIndent = 6;
  constexpr std::size_t kWidth = 80;
  std::size_t column = 0;
  while (!text.empty()) {
    const auto space = text.find(' ');
    const std::string_view word = text.substr(0, space);
    text = space == std::string_view::npos ? std::string_view{} : text.substr(space + 1);
    if (column > 0 && column + 1 + word.size() > kWidth) {
      out.push_back('\n');
      column = 0;
    }
    if (column == 0) {
      out.append(kIndent, ' ');
      column = kIndent;
    } else {
      out.push_back(' ');
      ++column;
    }
    out.append(word);
    column += word.size();
  }
  out.push_back('\n');
}

}  // namespace

bool parse_bool(const RawValue& value) {
  const std::string text = lower(value.text);
  if (text == "true" || text == "1" || text == "yes" || text == "on") return true;
  if (text == "false" || text == "0" || text == "no" || text == "off") return false;
  bad_value(value, "'" + value.text + "' is not a boolean; use true or false");
}

std::span<const OptionSpec> option_specs() {
  return kSpecs;
}

std::vector<std::string> long_names(const OptionSpec& spec) {
  std::vector<std::string> names;
  std::string_view rest = spec.names;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const std::string_view name = rest.substr(0, comma);
    if (name.substr(0, 2) == "--") names.emplace_back(name.substr(2));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  }
  return names;
}

std::string env_name(std::string_view long_name) {
  std::string out = "AGENT_";
  for (char c : long_name) {
    out.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  return out;
}

std::string help_text() {
  std::string out =
      "Usage: outpost-agent [OPTIONS] [@FILE ...]\n"
      "       outpost-agent audit-verify PATH\n"
      "       outpost-agent healthcheck [HOST:PORT]\n\n"
      "Runs jobs from an Outpost control plane against databases in this network,\n"
      "connecting out over HTTPS only.\n\n"
      "Every option can also be set with the environment variables shown (the\n"
      "command line wins). @FILE reads more arguments from FILE: words split on\n"
      "white space, quotes group words, a line starting with # is a comment.\n\n"
      "audit-verify PATH checks an --audit-log file's hash chain. healthcheck GETs\n"
      "/healthz (the container HEALTHCHECK): HOST:PORT, else OUTPOST_HEALTHCHECK_ADDR,\n"
      "--health-addr of PID 1, AGENT_HEALTH_ADDR, 0.0.0.0:8080; exit 0 when healthy.\n\n"
      "Options:\n";
  for (const auto& spec : kSpecs) {
    std::string names;
    std::string_view rest = spec.names;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      names += (names.empty() ? "" : ", ") + std::string(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    }
    out += "  " + names;
    if (!spec.value_name.empty()) out += " " + std::string(spec.value_name);
    out += "\n";
    std::string details;
    if (!spec.default_text.empty()) details = "default: " + std::string(spec.default_text) + "; ";
    details += "env:";
    const auto names_list = long_names(spec);
    for (std::size_t i = 0; i < names_list.size(); ++i) {
      details += (i == 0 ? " " : ", ") + env_name(names_list[i]);
    }
    append_wrapped(out, spec.help);
    append_wrapped(out, details);
  }
  out +=
      "  -h, --help\n      print this help and exit\n"
      "  --version\n      print the version, commit and build type and exit\n\n"
      "Durations take a unit: 150ms, 10s, 1m30s, 2h (ns, us, \xC2\xB5s, ms, s, m, h).\n"
      "Exit status: 0 clean stop, 1 fatal error, 2 usage or configuration error,\n"
      "3 refused by the control plane at start-up.\n"
      "Documentation: docs/configuration.md\n";
  return out;
}

std::string version_text() {
  return std::string("outpost-agent ") + build::kVersion + "\ncommit: " + build::kGitCommit +
         "\nbuild type: " + build::kBuildType + "\n";
}

}  // namespace outpost::config
