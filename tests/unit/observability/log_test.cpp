#include "observability/log.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "observability/log_output.hpp"
#include "observability/redaction.hpp"

namespace outpost::obs {
namespace {

using config::LogFormat;
using nlohmann::json;

/// Captures every line for one test and restores stdout and the defaults after.
class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    clear_secrets_for_testing();
    init_logging({LogLevel::kTrace, LogFormat::kJson});
    set_log_output([this](std::string_view line) {
      std::lock_guard lock(mutex_);
      lines_.emplace_back(line);
    });
  }
  void TearDown() override {
    set_log_output({});
    init_logging({});
    clear_secrets_for_testing();
  }
  std::vector<std::string> lines() {
    std::lock_guard lock(mutex_);
    return lines_;
  }
  json only_line() {
    const auto all = lines();
    EXPECT_EQ(all.size(), 1u);
    if (all.empty()) return json::object();
    EXPECT_EQ(all[0].find('\n'), std::string::npos);
    return json::parse(all[0]);  // throws (fails the test) if not valid JSON
  }

  std::mutex mutex_;
  std::vector<std::string> lines_;
};

TEST_F(LogTest, JsonLineHasTheStandardKeysFirst) {
  Logger("runtime").info("agent started", {{"job_id", "j-1"}, {"attempt", 2}});
  const auto all = lines();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].rfind("{\"ts\":\"", 0), 0u) << all[0];
  const json line = json::parse(all[0]);
  EXPECT_EQ(line["level"], "info");
  EXPECT_EQ(line["logger"], "runtime");
  EXPECT_EQ(line["msg"], "agent started");
  EXPECT_EQ(line["job_id"], "j-1");
  EXPECT_EQ(line["attempt"], 2);
  EXPECT_LT(all[0].find("\"msg\""), all[0].find("\"job_id\""));
}

TEST_F(LogTest, TimestampIsRfc3339UtcWithMilliseconds) {
  Logger("t").info("x");
  const std::string ts = only_line()["ts"];
  ASSERT_EQ(ts.size(), 24u) << ts;  // 2026-01-31T12:34:56.789Z
  EXPECT_EQ(ts[4], '-');
  EXPECT_EQ(ts[10], 'T');
  EXPECT_EQ(ts[19], '.');
  EXPECT_EQ(ts.back(), 'Z');
}

TEST_F(LogTest, HostileMessagesStayValidJson) {
  const std::string hostile =
      std::string("quote \" backslash \\ new\nline tab\t cr\r bell\x07 nul") + '\0' +
      " del\x7f é 漢字 🚀 bad\xff\xfe utf8 \xc3";
  Logger("t").warn(hostile, {{"error", hostile}, {"key \"odd\"\n", "v"}});
  const json line = only_line();
  EXPECT_EQ(line["level"], "warn");
  const std::string msg = line["msg"];
  EXPECT_NE(msg.find("quote \" backslash \\ new\nline"), std::string::npos);
  EXPECT_NE(msg.find("é 漢字 🚀"), std::string::npos);
  EXPECT_NE(msg.find("\xEF\xBF\xBD"), std::string::npos);  // invalid bytes became U+FFFD
  EXPECT_EQ(line["error"], line["msg"]);
  EXPECT_TRUE(line.contains("key \"odd\"\n"));
}

TEST_F(LogTest, FieldTypes) {
  Logger("t").info("types", {{"i", std::int64_t{-5}},
                             {"u", 7u},
                             {"d", 1.5},
                             {"b", true},
                             {"nan", std::numeric_limits<double>::quiet_NaN()},
                             {"inf", -std::numeric_limits<double>::infinity()},
                             {"big", std::int64_t{9'007'199'254'740'993}}});
  const json line = only_line();
  EXPECT_EQ(line["i"], -5);
  EXPECT_EQ(line["u"], 7);
  EXPECT_EQ(line["d"], 1.5);
  EXPECT_EQ(line["b"], true);
  EXPECT_EQ(line["nan"], "NaN");
  EXPECT_EQ(line["inf"], "-Infinity");
  EXPECT_EQ(line["big"].get<std::int64_t>(), 9'007'199'254'740'993);
}

TEST_F(LogTest, FieldsCannotShadowTheLineKeys) {
  Logger("t").info("real", {{"msg", "fake"}, {"level", "fake"}});
  const json line = only_line();
  EXPECT_EQ(line["msg"], "real");
  EXPECT_EQ(line["level"], "info");
  EXPECT_EQ(line["_msg"], "fake");
  EXPECT_EQ(line["_level"], "fake");
}

TEST_F(LogTest, LevelFilter) {
  init_logging({LogLevel::kWarn, LogFormat::kJson});
  const Logger log("t");
  EXPECT_FALSE(log.enabled(LogLevel::kInfo));
  EXPECT_TRUE(log.enabled(LogLevel::kWarn));
  log.trace("no");
  log.debug("no");
  log.info("no");
  log.warn("yes");
  log.error("yes");
  const auto all = lines();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(json::parse(all[0])["level"], "warn");
  EXPECT_EQ(json::parse(all[1])["level"], "error");
}

TEST_F(LogTest, TextFormatIsOneReadableLine) {
  init_logging({LogLevel::kInfo, LogFormat::kText});
  Logger("claim").info("job received\nsecond line",
                       {{"job_id", "j-7"}, {"source", "my db"}, {"attempt", 1}, {"ok", false}});
  const auto all = lines();
  ASSERT_EQ(all.size(), 1u);
  const std::string& line = all[0];
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(line[10], 'T');
  EXPECT_NE(line.find(" INFO  claim: job received\\nsecond line job_id=j-7 source=\"my db\" "
                      "attempt=1 ok=false"),
            std::string::npos)
      << line;
}

TEST_F(LogTest, SecretNeverReachesALine) {
  const std::string token = "example-token-abcdef";
  add_secret(token);
  const Logger log("runtime");
  log.info(token);
  log.info("token is " + token + ".", {{"token", token}, {"header", "Bearer " + token}});
  log.error("x", {{token, 1}});
  init_logging({LogLevel::kInfo, LogFormat::kText});
  log.info("text " + token, {{"v", token}});
  Logger(token).info("logger name");
  const auto all = lines();
  ASSERT_EQ(all.size(), 5u);
  for (const auto& line : all) {
    EXPECT_EQ(line.find(token), std::string::npos) << line;
    EXPECT_NE(line.find("[REDACTED]"), std::string::npos) << line;
  }
  const json second = json::parse(all[1]);
  EXPECT_EQ(second["msg"], "token is [REDACTED].");
  EXPECT_EQ(second["header"], "Bearer [REDACTED]");
}

TEST_F(LogTest, ConcurrentLinesAreWholeAndAllThere) {
  constexpr int kThreads = 8;
  constexpr int kLines = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t] {
      const Logger log("worker");
      for (int i = 0; i < kLines; ++i) log.info("line", {{"thread", t}, {"i", i}});
    });
  }
  for (auto& thread : threads) thread.join();
  const auto all = lines();
  ASSERT_EQ(all.size(), static_cast<std::size_t>(kThreads * kLines));
  for (const auto& line : all) EXPECT_EQ(json::parse(line)["msg"], "line");
}

TEST(LogFormatting, FormatLogLineMatchesWhatIsWritten) {
  const std::string line =
      format_log_line(LogFormat::kJson, "x", LogLevel::kError, "m", {{"k", "v"}});
  const json parsed = json::parse(line);
  EXPECT_EQ(parsed["level"], "error");
  EXPECT_EQ(parsed["k"], "v");
}

}  // namespace
}  // namespace outpost::obs
