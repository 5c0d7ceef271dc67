#include "config/command_line.hpp"

#include <gtest/gtest.h>

#include <functional>

#include "config/options.hpp"
#include "unit/config/parse_helpers.hpp"

namespace outpost::config {
namespace {

using namespace std::chrono_literals;
using testing::FakeTokenReader;
using testing::kBase;
using testing::parse;
using testing::with_base;
using Outcome = ParseResult::Outcome;

AgentConfig run_config(const ParseResult& result) {
  EXPECT_EQ(result.outcome, Outcome::kRun) << result.text;
  return result.config;
}

// One option, one value, and what it must produce: checked through the
// command line, the environment (every AGENT_* alias) and an options file.
struct OptionCase {
  std::string name;   // long name without dashes
  std::string value;  // empty for a flag
  std::function<void(const AgentConfig&)> check;
};

std::vector<OptionCase> option_cases() {
  return {
      {"url", "https://other.example.com:8443/api",
       [](const AgentConfig& c) { EXPECT_EQ(c.url, "https://other.example.com:8443/api"); }},
      {"instance-api-url", "https://third.example.com/api",
       [](const AgentConfig& c) { EXPECT_EQ(c.url, "https://third.example.com/api"); }},
      {"max-concurrency", "7",
       [](const AgentConfig& c) {
         EXPECT_EQ(c.max_concurrency, 7);
         EXPECT_TRUE(c.max_concurrency_set);
       }},
      {"health-addr", "127.0.0.1:9090",
       [](const AgentConfig& c) { EXPECT_EQ(c.health_addr, "127.0.0.1:9090"); }},
      {"log-level", "debug",
       [](const AgentConfig& c) { EXPECT_EQ(c.log_level, LogLevel::kDebug); }},
      {"log-format", "text",
       [](const AgentConfig& c) { EXPECT_EQ(c.log_format, LogFormat::kText); }},
      {"sources-file", "/etc/outpost/sources.yaml",
       [](const AgentConfig& c) { EXPECT_EQ(c.sources_file, "/etc/outpost/sources.yaml"); }},
      {"allow-hosts", "db.internal, *.corp.example,10.0.0.0/8",
       [](const AgentConfig& c) {
         EXPECT_EQ(c.allow_hosts,
                   (std::vector<std::string>{"db.internal", "*.corp.example", "10.0.0.0/8"}));
       }},
      {"ca-file", "/etc/outpost/ca.pem",
       [](const AgentConfig& c) { EXPECT_EQ(c.ca_file, "/etc/outpost/ca.pem"); }},
      {"proxy", "http://proxy.internal:3128",
       [](const AgentConfig& c) { EXPECT_EQ(c.proxy, "http://proxy.internal:3128"); }},
      {"allow-insecure-http", "", [](const AgentConfig& c) { EXPECT_TRUE(c.allow_insecure_http); }},
      {"shutdown-grace", "45s", [](const AgentConfig& c) { EXPECT_EQ(c.shutdown_grace, 45s); }},
      {"job-timeout", "1m30s", [](const AgentConfig& c) { EXPECT_EQ(c.job_timeout, 90s); }},
      {"max-rate", "2.5", [](const AgentConfig& c) { EXPECT_DOUBLE_EQ(c.max_rate, 2.5); }},
      {"backoff-strategy", "linear-jitter",
       [](const AgentConfig& c) { EXPECT_EQ(c.backoff, BackoffStrategy::kLinearJitter); }},
      {"backoff-cap", "2m", [](const AgentConfig& c) { EXPECT_EQ(c.backoff_cap, 2min); }},
      {"max-retries", "5", [](const AgentConfig& c) { EXPECT_EQ(c.max_retries, 5); }},
      {"health-interval", "500ms",
       [](const AgentConfig& c) { EXPECT_EQ(c.health_interval, 500ms); }},
      {"max-per-source", "3", [](const AgentConfig& c) { EXPECT_EQ(c.max_per_source, 3); }},
      {"max-result-rows", "1000",
       [](const AgentConfig& c) { EXPECT_EQ(c.max_result_rows, 1000u); }},
      {"max-result-bytes", "10MiB",
       [](const AgentConfig& c) { EXPECT_EQ(c.max_result_bytes, 10u * 1024 * 1024); }},
      {"require-secret-refs", "", [](const AgentConfig& c) { EXPECT_TRUE(c.require_secret_refs); }},
      {"audit-log", "/var/log/outpost/audit.jsonl",
       [](const AgentConfig& c) { EXPECT_EQ(c.audit_log, "/var/log/outpost/audit.jsonl"); }},
  };
}

MapEnvironment env_with_files() {
  MapEnvironment env;
  env.files["/etc/outpost/sources.yaml"] = "sources: {}\n";
  env.files["/etc/outpost/ca.pem"] = "-----BEGIN CERTIFICATE-----\n";
  return env;
}

TEST(CommandLine, EveryOptionOnTheCommandLine) {
  for (const auto& option : option_cases()) {
    SCOPED_TRACE(option.name);
    std::vector<std::string> extra{"--" + option.name};
    if (!option.value.empty()) extra.push_back(option.value);
    option.check(run_config(parse(with_base(extra), env_with_files())));
  }
}

TEST(CommandLine, EveryOptionAsEqualsForm) {
  for (const auto& option : option_cases()) {
    if (option.value.empty()) continue;
    SCOPED_TRACE(option.name);
    option.check(
        run_config(parse(with_base({"--" + option.name + "=" + option.value}), env_with_files())));
  }
}

TEST(CommandLine, EveryOptionFromTheEnvironment) {
  for (const auto& option : option_cases()) {
    SCOPED_TRACE(option.name);
    MapEnvironment env = env_with_files();
    env.variables[env_name(option.name)] = option.value.empty() ? "true" : option.value;
    // The URL cases must not pass --url, which would beat the environment.
    const bool is_url = option.name.find("url") != std::string::npos;
    const std::vector<std::string> args =
        is_url ? std::vector<std::string>{"--token", "example-token-1234"} : kBase;
    option.check(run_config(parse(args, env)));
  }
}

TEST(CommandLine, EveryOptionFromAnOptionsFile) {
  for (const auto& option : option_cases()) {
    SCOPED_TRACE(option.name);
    MapEnvironment env = env_with_files();
    env.files["opts.cmd"] = "# one option\n--" + option.name +
                            (option.value.empty() ? "" : " \"" + option.value + "\"") + "\n";
    option.check(run_config(parse(with_base({"@opts.cmd"}), env)));
  }
}

TEST(CommandLine, ShortNames) {
  const AgentConfig config =
      run_config(parse({"-u", "https://cp.example.com/api", "-t", "example-token-1234"}));
  EXPECT_EQ(config.url, "https://cp.example.com/api");
  EXPECT_EQ(config.token, "example-token-1234");
  const AgentConfig attached =
      run_config(parse({"-uhttps://cp.example.com/api", "-texample-token-1234"}));
  EXPECT_EQ(attached, config);
}

TEST(CommandLine, TokenLongAliases) {
  for (const std::string name : {"--token", "--instance-access-token"}) {
    const auto config =
        run_config(parse({"--url", "https://cp.example.com/api", name, "tok-abcd"}));
    EXPECT_EQ(config.token, "tok-abcd") << name;
  }
}

TEST(CommandLine, EnvironmentNamesComeFromEveryLongName) {
  std::vector<std::string> names;
  for (const auto& spec : option_specs()) {
    for (const auto& name : long_names(spec)) names.push_back(env_name(name));
  }
  for (const std::string expected : {"AGENT_INSTANCE_ACCESS_TOKEN",
                                     "AGENT_INSTANCE_API_URL",
                                     "AGENT_URL",
                                     "AGENT_TOKEN",
                                     "AGENT_TOKEN_FILE",
                                     "AGENT_MAX_CONCURRENCY",
                                     "AGENT_HEALTH_ADDR",
                                     "AGENT_LOG_LEVEL",
                                     "AGENT_LOG_FORMAT",
                                     "AGENT_SOURCES_FILE",
                                     "AGENT_ALLOW_HOSTS",
                                     "AGENT_CA_FILE",
                                     "AGENT_CLIENT_CERT",
                                     "AGENT_CLIENT_KEY",
                                     "AGENT_PROXY",
                                     "AGENT_ALLOW_INSECURE_HTTP",
                                     "AGENT_SHUTDOWN_GRACE",
                                     "AGENT_JOB_TIMEOUT",
                                     "AGENT_MAX_RATE",
                                     "AGENT_BACKOFF_STRATEGY",
                                     "AGENT_BACKOFF_CAP",
                                     "AGENT_MAX_RETRIES",
                                     "AGENT_HEALTH_INTERVAL",
                                     "AGENT_MAX_PER_SOURCE",
                                     "AGENT_MAX_RESULT_ROWS",
                                     "AGENT_MAX_RESULT_BYTES",
                                     "AGENT_REQUIRE_SECRET_REFS",
                                     "AGENT_AUDIT_LOG"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
  }
}

TEST(CommandLine, TokenFromEveryEnvironmentAlias) {
  for (const std::string variable : {"AGENT_TOKEN", "AGENT_INSTANCE_ACCESS_TOKEN"}) {
    MapEnvironment env;
    env.variables[variable] = "env-token-5678\n";  // a Secret value often ends in a new line
    const auto config = run_config(parse({"--url", "https://cp.example.com/api"}, env));
    EXPECT_EQ(config.token, "env-token-5678") << variable;
  }
}

TEST(CommandLine, DefaultsMatchAgentConfig) {
  AgentConfig expected;
  expected.url = "https://cp.example.com/api";
  expected.control_plane = common::parse_url(expected.url).value();
  expected.token = "example-token-1234";
  EXPECT_EQ(run_config(parse(kBase)), expected);
}

TEST(CommandLine, ControlPlaneUrlIsParsedOnce) {
  const AgentConfig config = run_config(
      parse({"--url", "HTTPS://CP.Example.com:8443/tenant/api/", "--token", "tok-1234"}));
  EXPECT_EQ(config.url, "HTTPS://CP.Example.com:8443/tenant/api/");  // as given
  EXPECT_EQ(config.control_plane.scheme, "https");
  EXPECT_EQ(config.control_plane.host, "cp.example.com");
  EXPECT_EQ(config.control_plane.port, 8443);
  EXPECT_EQ(config.control_plane.path, "/tenant/api");
  EXPECT_EQ(run_config(parse({"--url", "http://[::1]/api", "--token", "tok-1234"}))
                .control_plane.redacted(),
            "http://[::1]:80/api");
}

TEST(CommandLine, CommandLineBeatsEnvironmentBeatsDefaults) {
  MapEnvironment env;
  env.variables["AGENT_LOG_LEVEL"] = "debug";
  env.variables["AGENT_JOB_TIMEOUT"] = "5m";
  const auto config = run_config(parse(with_base({"--log-level", "error"}), env));
  EXPECT_EQ(config.log_level, LogLevel::kError);  // command line wins
  EXPECT_EQ(config.job_timeout, 5min);            // environment beats the default
  EXPECT_EQ(config.shutdown_grace, 30s);          // default
}

TEST(CommandLine, CommandLineAliasBeatsEnvironmentAlias) {
  MapEnvironment env;
  env.variables["AGENT_INSTANCE_API_URL"] = "https://env.example.com/api";
  const auto config =
      run_config(parse({"-u", "https://cli.example.com/api", "-t", "tok-1234"}, env));
  EXPECT_EQ(config.url, "https://cli.example.com/api");
}

TEST(CommandLine, LaterArgumentsWin) {
  MapEnvironment env;
  env.files["opts"] = "--log-level debug";
  EXPECT_EQ(run_config(parse(with_base({"@opts", "--log-level", "warn"}), env)).log_level,
            LogLevel::kWarn);
  EXPECT_EQ(run_config(parse(with_base({"--log-level", "warn", "@opts"}), env)).log_level,
            LogLevel::kDebug);
  EXPECT_EQ(run_config(parse(with_base({"--max-retries", "1", "--max-retries", "9"}))).max_retries,
            9);
}

TEST(CommandLine, AllowHostsEntriesWithPortsSocketsAndDsnsKeepTheirCase) {
  const auto config = run_config(parse(with_base(
      {"--allow-hosts",
       "db.internal:5432, *.corp.example:5432-5439,10.0.0.0/8:5432-5439,[2001:db8::1]:5432,"
       "[fd00::/8]:5432,fd00::/8,unix:/var/run/PostgreSQL,unix:@pg,dsn:Reporting,,"})));
  EXPECT_EQ(config.allow_hosts,
            (std::vector<std::string>{"db.internal:5432", "*.corp.example:5432-5439",
                                      "10.0.0.0/8:5432-5439", "[2001:db8::1]:5432",
                                      "[fd00::/8]:5432", "fd00::/8", "unix:/var/run/PostgreSQL",
                                      "unix:@pg", "dsn:Reporting"}));
}

TEST(CommandLine, CommandLineTokenBeatsEnvironmentTokenFile) {
  MapEnvironment env;
  env.variables["AGENT_TOKEN_FILE"] = "/does/not/exist";
  EXPECT_EQ(run_config(parse(kBase, env)).token, "example-token-1234");
}

TEST(CommandLine, CommandLineTokenFileBeatsEnvironmentToken) {
  MapEnvironment env;
  env.variables["AGENT_TOKEN"] = "env-token-5678";
  env.files["/run/secrets/outpost/token"] = "  file-token-9012 \n";
  const auto config = run_config(parse(
      {"--url", "https://cp.example.com/api", "--token-file", "/run/secrets/outpost/token"}, env));
  EXPECT_EQ(config.token, "file-token-9012");
  EXPECT_EQ(config.token_file, "/run/secrets/outpost/token");
}

TEST(CommandLine, TokenFileFromTheEnvironment) {
  MapEnvironment env;
  env.variables["AGENT_URL"] = "https://cp.example.com/api";
  env.variables["AGENT_TOKEN_FILE"] = "secret/token";
  env.files["secret/token"] = "\tfile-token-9012\r\n";
  EXPECT_EQ(run_config(parse({}, env)).token, "file-token-9012");
}

TEST(CommandLine, BareTokenFlagReadsFromTheTokenReader) {
  FakeTokenReader reader;
  reader.token = "prompted-token-3456";
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"--url", "https://cp.example.com/api", "--token"},
                                             {"--token", "--url", "https://cp.example.com/api"},
                                             {"-t", "-u", "https://cp.example.com/api"},
                                             {"--instance-access-token", "--log-level", "info",
                                              "-u", "https://cp.example.com/api"}}) {
    const auto result = parse_command_line(args, MapEnvironment{}, reader);
    EXPECT_EQ(run_config(result).token, "prompted-token-3456");
  }
  EXPECT_EQ(reader.calls, 4);
}

TEST(CommandLine, TokenReaderIsNotUsedWhenAValueIsGiven) {
  FakeTokenReader reader;
  reader.token = "unused";
  (void)parse_command_line(kBase, MapEnvironment{}, reader);
  EXPECT_EQ(reader.calls, 0);
}

TEST(CommandLine, HealthAddrForms) {
  EXPECT_EQ(run_config(parse(with_base({"--health-addr", "off"}))).health_addr, "off");
  EXPECT_EQ(run_config(parse(with_base({"--health-addr", ":9100"}))).health_addr, "0.0.0.0:9100");
  EXPECT_EQ(run_config(parse(with_base({"--health-addr", "[::]:8080"}))).health_addr, "[::]:8080");
  EXPECT_EQ(run_config(parse(with_base({"--health-addr", "127.0.0.1:0"}))).health_addr,
            "127.0.0.1:0");
}

TEST(CommandLine, SubMillisecondDurationsRoundUp) {
  EXPECT_EQ(run_config(parse(with_base({"--health-interval", "500us"}))).health_interval, 1ms);
  EXPECT_EQ(run_config(parse(with_base({"--shutdown-grace", "0"}))).shutdown_grace, 0ms);
}

TEST(CommandLine, FlagsAcceptExplicitBooleans) {
  EXPECT_FALSE(run_config(parse(with_base({"--require-secret-refs=false"}))).require_secret_refs);
  MapEnvironment env;
  env.variables["AGENT_REQUIRE_SECRET_REFS"] = "0";
  EXPECT_FALSE(run_config(parse(kBase, env)).require_secret_refs);
  env.variables["AGENT_REQUIRE_SECRET_REFS"] = "yes";
  EXPECT_TRUE(run_config(parse(kBase, env)).require_secret_refs);
}

TEST(CommandLine, MutualTlsPair) {
  MapEnvironment env;
  env.files["c.pem"] = "cert";
  env.files["k.pem"] = "key";
  const auto config =
      run_config(parse(with_base({"--client-cert", "c.pem", "--client-key", "k.pem"}), env));
  EXPECT_EQ(config.client_cert, "c.pem");
  EXPECT_EQ(config.client_key, "k.pem");
}

TEST(CommandLine, LoopbackHttpNeedsNoFlag) {
  for (const std::string url : {"http://127.0.0.1:8080/api", "http://localhost/api",
                                "http://[::1]:9000/api", "http://127.1.2.3/api"}) {
    EXPECT_EQ(parse({"--url", url, "--token", "tok-1234"}).outcome, Outcome::kRun) << url;
  }
  EXPECT_EQ(
      parse({"--url", "http://cp.example.com/api", "--token", "tok-1234", "--allow-insecure-http"})
          .outcome,
      Outcome::kRun);
}

TEST(CommandLine, LocalhostSubdomainIsNotLoopback) {
  // DNS decides where api.localhost goes: plain http there needs the flag.
  const auto result = parse({"--url", "http://api.localhost/api", "--token", "tok-1234"});
  EXPECT_EQ(result.outcome, Outcome::kUsageError);
  EXPECT_NE(result.text.find("--allow-insecure-http"), std::string::npos) << result.text;
}

TEST(CommandLine, UrlWithoutApiSuffixIsAWarningNotAnError) {
  const auto result = parse({"--url", "https://cp.example.com", "--token", "tok-1234"});
  ASSERT_EQ(result.outcome, Outcome::kRun) << result.text;
  ASSERT_EQ(result.warnings.size(), 1u);
  EXPECT_NE(result.warnings[0].find("does not end in /api"), std::string::npos);
  EXPECT_TRUE(
      parse({"--url", "https://cp.example.com/api/", "--token", "tok-1234"}).warnings.empty());
}

TEST(CommandLine, HelpListsEveryOptionWithEnvAndDefault) {
  const auto result = parse({"--help"});
  ASSERT_EQ(result.outcome, Outcome::kPrintAndExit);
  EXPECT_EQ(result.exit_code(), 0);
  for (const auto& spec : option_specs()) {
    for (const auto& name : long_names(spec)) {
      EXPECT_NE(result.text.find("--" + name), std::string::npos) << name;
      EXPECT_NE(result.text.find(env_name(name)), std::string::npos) << name;
    }
    if (!spec.default_text.empty()) {
      EXPECT_NE(result.text.find("default: " + std::string(spec.default_text)), std::string::npos)
          << spec.names;
    }
  }
  EXPECT_NE(result.text.find("-u, --url"), std::string::npos);
  EXPECT_NE(result.text.find("-t, --token"), std::string::npos);
  EXPECT_NE(result.text.find("--version"), std::string::npos);
  // The subcommands main() dispatches before option parsing.
  EXPECT_NE(result.text.find("outpost-agent audit-verify PATH"), std::string::npos);
  EXPECT_NE(result.text.find("outpost-agent healthcheck [HOST:PORT]"), std::string::npos);
  EXPECT_EQ(parse({"-h"}).text, result.text);
  // Help wins even with other (even unknown) arguments around it.
  EXPECT_EQ(parse({"--bogus", "--help"}).outcome, Outcome::kPrintAndExit);
}

TEST(CommandLine, VersionNamesTheProgramCommitAndBuildType) {
  const auto result = parse({"--version"});
  ASSERT_EQ(result.outcome, Outcome::kPrintAndExit);
  EXPECT_EQ(result.text.rfind("outpost-agent ", 0), 0u) << result.text;
  EXPECT_NE(result.text.find("\ncommit: "), std::string::npos);
  EXPECT_NE(result.text.find("\nbuild type: "), std::string::npos);
}

// Acceptance: environment only, an options file in the seed style, and flags
// reach the same configuration.
TEST(CommandLine, EnvironmentOptionsFileAndFlagsAgree) {
  const std::vector<std::string> flags{"--url", "https://cp.example.com/api", "--token",
                                       "example-token"};
  const AgentConfig from_flags = run_config(parse(flags));

  MapEnvironment env;
  env.variables["AGENT_INSTANCE_API_URL"] = "https://cp.example.com/api";
  env.variables["AGENT_INSTANCE_ACCESS_TOKEN"] = "example-token";
  EXPECT_EQ(run_config(parse({}, env)), from_flags);

  MapEnvironment files;
  files.files[".options.cmd"] =
      "# Outpost agent options\n--url https://cp.example.com/api\n--token \"example-token\"\n";
  EXPECT_EQ(run_config(parse({"@.options.cmd"}, files)), from_flags);

  MapEnvironment short_env;
  short_env.variables["AGENT_URL"] = "https://cp.example.com/api";
  short_env.variables["AGENT_TOKEN"] = "example-token";
  EXPECT_EQ(run_config(parse({}, short_env)), from_flags);
}

}  // namespace
}  // namespace outpost::config
