// Every usage error: exit status 2 and one line that says what is wrong and
// how to fix it, never carrying the token.
#include "config/command_line.hpp"

#include <gtest/gtest.h>

#include "unit/config/parse_helpers.hpp"

namespace outpost::config {
namespace {

using testing::FakeTokenReader;
using testing::kBase;
using testing::parse;
using testing::with_base;

constexpr std::string_view kToken = "example-token-1234";

// Parses, expects a usage error, checks it is one line without the token.
std::string usage_error(const std::vector<std::string>& args, const MapEnvironment& env = {}) {
  const ParseResult result = parse(args, env);
  EXPECT_EQ(result.outcome, ParseResult::Outcome::kUsageError);
  EXPECT_EQ(result.exit_code(), 2);
  EXPECT_FALSE(result.text.empty());
  EXPECT_EQ(result.text.find('\n'), std::string::npos) << result.text;
  EXPECT_EQ(result.text.find(kToken), std::string::npos) << result.text;
  return result.text;
}

#define EXPECT_CONTAINS(haystack, needle) \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos) << "in: " << (haystack)

TEST(UsageErrors, NoArgumentsNamesBothUrlAndToken) {
  const std::string error = usage_error({});
  EXPECT_CONTAINS(error, "missing the control plane URL and the access token");
  EXPECT_CONTAINS(error, "--url");
  EXPECT_CONTAINS(error, "AGENT_TOKEN");
}

TEST(UsageErrors, MissingUrl) {
  const std::string error = usage_error({"--token", std::string(kToken)});
  EXPECT_CONTAINS(error, "missing the control plane URL:");
  EXPECT_CONTAINS(error, "--url https://HOST/api");
}

TEST(UsageErrors, MissingToken) {
  EXPECT_CONTAINS(usage_error({"--url", "https://cp.example.com/api"}),
                  "missing the access token: pass --token-file PATH, set AGENT_TOKEN");
}

TEST(UsageErrors, UnknownOptionWithSuggestion) {
  EXPECT_CONTAINS(usage_error(with_base({"--bogus"})), "unknown option '--bogus'");
  const std::string error = usage_error(with_base({"--max-concurency", "3"}));
  EXPECT_CONTAINS(error, "unknown option '--max-concurency'; did you mean --max-concurrency?");
  EXPECT_CONTAINS(error, "--help");
  EXPECT_CONTAINS(usage_error(with_base({"-x"})), "unknown option '-x'");
}

TEST(UsageErrors, UnknownOptionNeverEchoesItsValue) {
  const std::string error =
      usage_error({"--url", "https://cp.example.com/api", "--tokne=" + std::string(kToken)});
  EXPECT_CONTAINS(error, "unknown option '--tokne'; did you mean --token?");
}

TEST(UsageErrors, TokenStartingWithDashIsNotEchoed) {
  const ParseResult result =
      parse({"--url", "https://cp.example.com/api", "--token", "-secretvalue"});
  EXPECT_EQ(result.exit_code(), 2);
  EXPECT_EQ(result.text.find("secretvalue"), std::string::npos) << result.text;
  EXPECT_CONTAINS(result.text, "--token=VALUE");
}

TEST(UsageErrors, StrayArgument) {
  const std::string error = usage_error({"https://cp.example.com/api", "--token", "t-1234"});
  EXPECT_CONTAINS(error, "unexpected argument 'https://cp.example.com/api'");
  EXPECT_CONTAINS(error, "e.g. --url https://cp.example.com/api");
}

TEST(UsageErrors, OptionWithoutValue) {
  EXPECT_CONTAINS(usage_error({"--token", "t-1234", "--url"}), "option --url needs a value (URL)");
  EXPECT_CONTAINS(usage_error(with_base({"--job-timeout"})),
                  "option --job-timeout needs a value (DURATION)");
  EXPECT_CONTAINS(usage_error(with_base({"--sources-file="})), "--sources-file needs a value");
}

TEST(UsageErrors, UrlNotHttp) {
  EXPECT_CONTAINS(usage_error({"--url", "ftp://cp.example.com/api", "--token", "t-1234"}),
                  "the scheme 'ftp' is not supported; use https://");
  EXPECT_CONTAINS(usage_error({"--url", "cp.example.com/api", "--token", "t-1234"}),
                  "not an absolute URL");
  EXPECT_CONTAINS(usage_error({"--url", "https:///api", "--token", "t-1234"}),
                  "the host name is missing");
  EXPECT_CONTAINS(usage_error({"--url", "https://cp.example.com:99999/api", "--token", "t-1234"}),
                  "port '99999' is not a number from 1 to 65535");
  EXPECT_CONTAINS(usage_error({"--url", "https://cp.example.com/api?x=1", "--token", "t-1234"}),
                  "query");
}

TEST(UsageErrors, UrlWithCredentialsIsRefusedWithoutEchoingThem) {
  const std::string error =
      usage_error({"--url", "https://user:hunter22@cp.example.com/api", "--token", "t-1234"});
  EXPECT_CONTAINS(error, "must not carry credentials");
  EXPECT_EQ(error.find("hunter22"), std::string::npos);
}

TEST(UsageErrors, PlainHttpToRemoteHostNeedsTheFlag) {
  const std::string error =
      usage_error({"--url", "http://cp.example.com/api", "--token", "t-1234"});
  EXPECT_CONTAINS(error, "refusing plain http to 'cp.example.com'");
  EXPECT_CONTAINS(error, "--allow-insecure-http");
}

TEST(UsageErrors, BadDuration) {
  EXPECT_CONTAINS(usage_error(with_base({"--job-timeout", "10"})),
                  "invalid value for --job-timeout: duration '10' has no unit; write e.g. 10s");
  EXPECT_CONTAINS(usage_error(with_base({"--shutdown-grace", "soon"})),
                  "invalid value for --shutdown-grace");
  EXPECT_CONTAINS(usage_error(with_base({"--health-interval", "0s"})), "must be more than 0");
  EXPECT_CONTAINS(usage_error(with_base({"--backoff-cap", "-1s"})), "negative");
}

TEST(UsageErrors, BadDurationFromTheEnvironmentNamesTheVariable) {
  MapEnvironment env;
  env.variables["AGENT_JOB_TIMEOUT"] = "forever";
  EXPECT_CONTAINS(usage_error(kBase, env), "invalid value for AGENT_JOB_TIMEOUT");
}

TEST(UsageErrors, NegativeNumbers) {
  EXPECT_CONTAINS(usage_error(with_base({"--max-retries", "-1"})),
                  "--max-retries must not be negative (got -1); use 0 to retry forever");
  EXPECT_CONTAINS(usage_error(with_base({"--max-concurrency=-2"})),
                  "--max-concurrency must not be negative");
  EXPECT_CONTAINS(usage_error(with_base({"--max-rate", "-0.5"})),
                  "--max-rate must not be negative");
  EXPECT_CONTAINS(usage_error(with_base({"--max-per-source=-3"})), "must not be negative");
  EXPECT_CONTAINS(usage_error(with_base({"--max-result-bytes=-1"})), "negative");
}

TEST(UsageErrors, BadNumbers) {
  EXPECT_CONTAINS(usage_error(with_base({"--max-concurrency", "many"})),
                  "'many' is not a whole number");
  EXPECT_CONTAINS(usage_error(with_base({"--max-concurrency", "0"})), "too small (at least 1)");
  EXPECT_CONTAINS(usage_error(with_base({"--max-retries", "99999999999"})), "too large");
  EXPECT_CONTAINS(usage_error(with_base({"--max-rate", "fast"})),
                  "not a number of jobs per second");
  EXPECT_CONTAINS(usage_error(with_base({"--max-result-bytes", "lots"})), "invalid size");
}

TEST(UsageErrors, UnknownBackoffStrategyListsTheValidOnes) {
  EXPECT_CONTAINS(usage_error(with_base({"--backoff-strategy", "random"})),
                  "unknown backoff strategy 'random' for --backoff-strategy; use one of: linear, "
                  "linear-jitter, exponential, exponential-jitter, fallback");
}

TEST(UsageErrors, UnknownLogLevelAndFormat) {
  EXPECT_CONTAINS(usage_error(with_base({"--log-level", "loud"})),
                  "use one of: trace, debug, info, warn, error");
  EXPECT_CONTAINS(usage_error(with_base({"--log-format", "xml"})), "use one of: json, text");
}

TEST(UsageErrors, UnreadableTokenFile) {
  const std::string error =
      usage_error({"--url", "https://cp.example.com/api", "--token-file", "/run/secrets/none"});
  EXPECT_CONTAINS(error,
                  "cannot read the token file '/run/secrets/none' (--token-file): No such "
                  "file or directory");
}

TEST(UsageErrors, EmptyTokenFile) {
  MapEnvironment env;
  env.files["empty"] = " \n";
  EXPECT_CONTAINS(
      usage_error({"--url", "https://cp.example.com/api", "--token-file", "empty"}, env),
      "the token file 'empty' is empty");
}

TEST(UsageErrors, TokenWithInnerBlankIsRefusedWithoutEcho) {
  MapEnvironment env;
  env.files["two-words"] = "example-token-1234 example-token-1234\n";
  const std::string error =
      usage_error({"--url", "https://cp.example.com/api", "--token-file", "two-words"}, env);
  EXPECT_CONTAINS(error, "contains white space or control characters");
}

TEST(UsageErrors, TokenAndTokenFileTogether) {
  MapEnvironment env;
  env.files["t"] = "other";
  EXPECT_CONTAINS(usage_error(with_base({"--token-file", "t"}), env),
                  "both --token and --token-file are given");
  MapEnvironment both_env;
  both_env.variables["AGENT_TOKEN"] = std::string(kToken);
  both_env.variables["AGENT_TOKEN_FILE"] = "t";
  EXPECT_CONTAINS(usage_error({"--url", "https://cp.example.com/api"}, both_env),
                  "both AGENT_TOKEN and AGENT_TOKEN_FILE are given");
}

TEST(UsageErrors, EmptyTokenValue) {
  EXPECT_CONTAINS(usage_error({"--url", "https://cp.example.com/api", "--token", ""}),
                  "--token was given an empty value");
}

TEST(UsageErrors, BareTokenWithNothingOnStdin) {
  FakeTokenReader reader;  // no token
  const ParseResult result = parse_command_line({"--url", "https://cp.example.com/api", "--token"},
                                                MapEnvironment{}, reader);
  EXPECT_EQ(result.exit_code(), 2);
  EXPECT_EQ(result.text, "no token on standard input");
}

TEST(UsageErrors, DisagreeingEnvironmentAliases) {
  MapEnvironment env;
  env.variables["AGENT_URL"] = "https://a.example.com/api";
  env.variables["AGENT_INSTANCE_API_URL"] = "https://b.example.com/api";
  env.variables["AGENT_TOKEN"] = std::string(kToken);
  EXPECT_CONTAINS(usage_error({}, env),
                  "AGENT_URL and AGENT_INSTANCE_API_URL are both set, to different values");
}

TEST(UsageErrors, DisagreeingTokenAliasesDoNotEchoEitherToken) {
  MapEnvironment env;
  env.variables["AGENT_URL"] = "https://a.example.com/api";
  env.variables["AGENT_TOKEN"] = std::string(kToken);
  env.variables["AGENT_INSTANCE_ACCESS_TOKEN"] = "second-token-5678";
  const std::string error = usage_error({}, env);
  EXPECT_CONTAINS(error, "are both set, to different values");
  EXPECT_EQ(error.find("second-token-5678"), std::string::npos);
}

TEST(UsageErrors, ClientCertNeedsKey) {
  MapEnvironment env;
  env.files["c.pem"] = "cert";
  EXPECT_CONTAINS(usage_error(with_base({"--client-cert", "c.pem"}), env),
                  "--client-cert needs --client-key");
  EXPECT_CONTAINS(usage_error(with_base({"--client-key", "c.pem"}), env),
                  "--client-key needs --client-cert");
}

TEST(UsageErrors, UnreadableFiles) {
  EXPECT_CONTAINS(usage_error(with_base({"--ca-file", "/nope/ca.pem"})),
                  "cannot read --ca-file '/nope/ca.pem'");
  EXPECT_CONTAINS(usage_error(with_base({"--sources-file", "/nope/sources.yaml"})),
                  "cannot read --sources-file");
}

TEST(UsageErrors, BadHealthAddr) {
  EXPECT_CONTAINS(usage_error(with_base({"--health-addr", "8080"})), "has no port");
  EXPECT_CONTAINS(usage_error(with_base({"--health-addr", "0.0.0.0:http"})),
                  "is not a number from 0 to 65535");
  EXPECT_CONTAINS(usage_error(with_base({"--health-addr", "bad host:80"})),
                  "is not an IP address or host name");
}

TEST(UsageErrors, BadAllowHostsEntry) {
  EXPECT_CONTAINS(usage_error(with_base({"--allow-hosts", "db.internal,10.0.0.0/33"})),
                  "invalid entry '10.0.0.0/33' in --allow-hosts");
  EXPECT_CONTAINS(usage_error(with_base({"--allow-hosts", "*"})), "invalid entry '*'");
}

// The same parser as the guard (security/allowlist.hpp): each bad entry
// fails at start with exit 2, one line naming it and saying why.
TEST(UsageErrors, BadAllowHostsPortsSocketsAndDsns) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"db.internal:99999", "invalid port"},
      {"db.internal:0", "invalid port"},
      {"db.internal:5433-5432", "first port is larger"},
      {"10.0.0.0/8:5432-", "invalid port"},
      {"[10.0.0.1]:5432", "brackets"},
      {"[fd00::/8]5432", "after the ']'"},
      {"fe80::1%eth0", "zone id"},
      {"127.1", "four decimal numbers"},
      {"2130706433", "four decimal numbers"},
      {"0x7f.0.0.1/8", "four decimal numbers"},
      {"unix:var/run/postgresql", "absolute socket path"},
      {"dsn:a;b", "data source name"},
  };
  for (const auto& [entry, why] : cases) {
    const std::string error = usage_error(with_base({"--allow-hosts", "db.internal, " + entry}));
    EXPECT_CONTAINS(error, "invalid entry '" + entry + "' in --allow-hosts");
    EXPECT_CONTAINS(error, why);
  }
}

TEST(UsageErrors, BadProxyDoesNotEchoItsPassword) {
  const std::string error = usage_error(with_base({"--proxy", "socks5://u:pw-secret@p:1080"}));
  EXPECT_CONTAINS(error, "invalid value for --proxy");
  EXPECT_EQ(error.find("pw-secret"), std::string::npos);
}

TEST(UsageErrors, OptionsFileProblems) {
  EXPECT_CONTAINS(usage_error({"@missing.cmd"}), "cannot read options file 'missing.cmd'");
  MapEnvironment env;
  env.files["loop.cmd"] = "@loop.cmd";
  EXPECT_CONTAINS(usage_error({"@loop.cmd"}, env), "options file cycle");
}

TEST(UsageErrors, TokenNeverAppearsWhateverFails) {
  // The token sits in every argument list; each one fails for another reason.
  const std::string token(kToken);
  const std::vector<std::vector<std::string>> cases{
      {"--token", token, "--bogus"},
      {"--token", token, "--url", "http://cp.example.com/api"},
      {"--token", token, "--url", "https://cp.example.com/api", token},
      {"-t" + token, "--url", "ftp://" + token + "/api"},
      {"--token=" + token, "--job-timeout", token},
      {"--url", "https://cp.example.com/api", "--token", token, "--log-level", token},
      {"--url", "https://cp.example.com/api", "--token", token, "--allow-hosts", token + "/99"},
  };
  for (const auto& args : cases) usage_error(args);
  MapEnvironment env;
  env.variables["AGENT_TOKEN"] = token;
  usage_error({"--url", "http://" + token + "/api"}, env);
  usage_error({"--url", "https://cp.example.com/api", "--max-retries", token}, env);
}

}  // namespace
}  // namespace outpost::config
