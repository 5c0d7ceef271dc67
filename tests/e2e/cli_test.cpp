// The agent binary as an operator meets it: --help, --version, usage errors
// with exit status 2, the token from a pipe, options files and AGENT_*
// variables, and the token kept out of output and out of /proc/PID/cmdline.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <sstream>

#include "support/process.hpp"

namespace outpost::test {
namespace {

using namespace std::chrono_literals;

constexpr auto kExitDeadline = 20s;
const std::string kToken = "e2e-secret-token-4f9a";

struct Outcome {
  int status = -1;
  std::string out;
  std::string err;
};

Outcome run_agent(std::vector<std::string> args,
                  std::vector<std::pair<std::string, std::string>> env = {},
                  std::optional<std::string> stdin_text = std::nullopt,
                  std::filesystem::path working_dir = {}) {
  args.insert(args.begin(), agent_binary());
  Process process({std::move(args), std::move(env), std::move(stdin_text), std::move(working_dir)});
  const auto status = process.wait(kExitDeadline);
  EXPECT_TRUE(status.has_value()) << "the agent did not exit";
  return {status.value_or(-1), process.stdout_text(), process.stderr_text()};
}

// One line on stderr, prefixed with the program name, never the token.
void expect_one_error_line(const Outcome& outcome) {
  EXPECT_EQ(outcome.status, 2) << outcome.err;
  ASSERT_FALSE(outcome.err.empty());
  EXPECT_EQ(outcome.err.rfind("outpost-agent: ", 0), 0u) << outcome.err;
  EXPECT_EQ(outcome.err.find('\n'), outcome.err.size() - 1) << outcome.err;
  EXPECT_EQ(outcome.err.find(kToken), std::string::npos) << outcome.err;
  EXPECT_EQ(outcome.out.find(kToken), std::string::npos) << outcome.out;
}

TEST(AgentCli, HelpExitsZeroAndListsOptionsWithEnvAndDefaults) {
  const Outcome outcome = run_agent({"--help"});
  EXPECT_EQ(outcome.status, 0);
  for (const std::string needle :
       {"--url", "--instance-api-url", "AGENT_INSTANCE_API_URL", "--token-file", "AGENT_TOKEN_FILE",
        "--max-result-bytes", "default: 0.0.0.0:8080", "default: exponential-jitter"}) {
    EXPECT_NE(outcome.out.find(needle), std::string::npos) << needle;
  }
  EXPECT_TRUE(outcome.err.empty()) << outcome.err;
}

TEST(AgentCli, VersionExitsZero) {
  const Outcome outcome = run_agent({"--version"});
  EXPECT_EQ(outcome.status, 0);
  EXPECT_EQ(outcome.out.rfind("outpost-agent ", 0), 0u) << outcome.out;
  EXPECT_NE(outcome.out.find("commit: "), std::string::npos);
  EXPECT_NE(outcome.out.find("build type: "), std::string::npos);
}

TEST(AgentCli, NoArgumentsNamesTheMissingUrlAndToken) {
  const Outcome outcome = run_agent({});
  expect_one_error_line(outcome);
  EXPECT_NE(outcome.err.find("missing the control plane URL and the access token"),
            std::string::npos)
      << outcome.err;
}

TEST(AgentCli, UsageErrorsExitTwoWithOneLine) {
  const std::vector<std::vector<std::string>> cases{
      {"--bogus"},
      {"--url", "https://cp.example.com/api", "--token", kToken, "--job-timeout", "10"},
      {"--url", "ftp://cp.example.com/api", "--token", kToken},
      {"--url", "http://cp.example.com/api", "--token", kToken},
      {"--url", "https://cp.example.com/api", "--token", kToken, "--max-retries", "-1"},
      {"--url", "https://cp.example.com/api", "--token", kToken, "--backoff-strategy", "x"},
      {"--url", "https://cp.example.com/api", "--token-file", "/nonexistent/token"},
      {"--token", kToken, "--bogus", kToken},
      {"@/nonexistent/options.cmd"},
  };
  for (const auto& args : cases) {
    SCOPED_TRACE(args.front());
    expect_one_error_line(run_agent(args));
  }
}

TEST(AgentCli, TokenFromAPipeIsReadWithoutAPrompt) {
  // Plain http to a remote host fails validation after the token is read: the
  // agent must have consumed stdin (no hang) and not echo what it read.
  const Outcome outcome =
      run_agent({"--url", "http://cp.example.com/api", "--token"}, {}, kToken + "\n");
  expect_one_error_line(outcome);
  EXPECT_NE(outcome.err.find("refusing plain http"), std::string::npos) << outcome.err;
  EXPECT_EQ(outcome.err.find("Access token"), std::string::npos) << "prompted on a pipe";
}

TEST(AgentCli, BareTokenWithEmptyStdinIsAUsageError) {
  const Outcome outcome = run_agent({"--url", "https://cp.example.com/api", "--token"}, {}, "");
  expect_one_error_line(outcome);
  EXPECT_NE(outcome.err.find("no token was read from standard input"), std::string::npos)
      << outcome.err;
}

TEST(AgentCli, AuditVerifySubcommandIsDispatched) {
  const Outcome usage = run_agent({"audit-verify"});
  EXPECT_EQ(usage.status, 2);
  EXPECT_NE(usage.err.find("usage: outpost-agent audit-verify PATH"), std::string::npos)
      << usage.err;
  const Outcome missing = run_agent({"audit-verify", "/nonexistent/audit.jsonl"});
  EXPECT_EQ(missing.status, 2);
  TempDir dir;
  std::ofstream(dir.path() / "audit.jsonl").flush();
  const Outcome empty = run_agent({"audit-verify", (dir.path() / "audit.jsonl").string()});
  EXPECT_EQ(empty.status, 0) << empty.out << empty.err;
  EXPECT_NE(empty.out.find("ok: 0 lines"), std::string::npos) << empty.out;
}

// Starts the agent against a closed loopback port with debug logs and waits
// for the "configuration loaded" line; returns that line's text.
std::string loaded_configuration(std::vector<std::string> args,
                                 std::vector<std::pair<std::string, std::string>> env,
                                 const std::filesystem::path& working_dir = {}) {
  args.insert(args.begin(), agent_binary());
  Process process({std::move(args), std::move(env), std::nullopt, working_dir});
  EXPECT_TRUE(process.wait_for_output("configuration loaded", kExitDeadline))
      << process.stdout_text() << process.stderr_text();
  std::istringstream lines(process.stdout_text());
  std::string line;
  while (std::getline(lines, line)) {
    if (line.find("configuration loaded") != std::string::npos) break;
  }
  // The token must be gone from the command line the kernel shows.
  std::ifstream cmdline("/proc/" + std::to_string(process.pid()) + "/cmdline");
  const std::string shown((std::istreambuf_iterator<char>(cmdline)), {});
  EXPECT_EQ(shown.find(kToken), std::string::npos) << "token visible in /proc/PID/cmdline";
  process.signal(SIGTERM);
  process.wait(kExitDeadline);
  EXPECT_EQ(process.stdout_text().find(kToken), std::string::npos) << process.stdout_text();
  EXPECT_EQ(process.stderr_text().find(kToken), std::string::npos) << process.stderr_text();
  return line;
}

TEST(AgentCli, FlagsEnvironmentAndOptionsFileReachTheSameConfiguration) {
  const std::string url = "http://127.0.0.1:" + std::to_string(free_port()) + "/api";
  const std::vector<std::string> common{"--log-level", "debug", "--health-addr", "off"};

  std::vector<std::string> flags{"--url", url, "--token", kToken};
  flags.insert(flags.end(), common.begin(), common.end());
  const std::string from_flags = loaded_configuration(flags, {});
  ASSERT_NE(from_flags.find(url), std::string::npos) << from_flags;

  const std::string from_env = loaded_configuration({}, {{"AGENT_INSTANCE_API_URL", url},
                                                         {"AGENT_INSTANCE_ACCESS_TOKEN", kToken},
                                                         {"AGENT_LOG_LEVEL", "debug"},
                                                         {"AGENT_HEALTH_ADDR", "off"}});

  TempDir dir;
  std::ofstream(dir.path() / ".options.cmd")
      << "# seed-style options file\n--url " << url << "\n--token \"" << kToken << "\"\n"
      << "--log-level debug --health-addr off\n";
  const std::string from_file = loaded_configuration({"@.options.cmd"}, {}, dir.path());

  // Same line apart from the timestamp.
  const auto strip_ts = [](const std::string& line) { return line.substr(line.find("\"level\"")); };
  EXPECT_EQ(strip_ts(from_env), strip_ts(from_flags));
  EXPECT_EQ(strip_ts(from_file), strip_ts(from_flags));
}

}  // namespace
}  // namespace outpost::test
