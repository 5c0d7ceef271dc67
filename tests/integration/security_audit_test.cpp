// The audit log on disk: write, continue, verify, and every kind of tampering.
#include "security/audit_log.hpp"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/process.hpp"

namespace outpost::security {
namespace {

std::vector<std::string> read_lines(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

void write_lines(const std::filesystem::path& path, const std::vector<std::string>& lines) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  for (const auto& line : lines) out << line << '\n';
}

struct Verdict {
  int status;
  std::string output;
};

Verdict verify(const std::filesystem::path& path) {
  std::ostringstream out;
  const int status = verify_audit_log(path.string(), out);
  return {status, out.str()};
}

AuditRecord statement(int i) {
  return {"job_" + std::to_string(i),
          1,
          "warehouse",
          "SELECT secret_column FROM t WHERE id = " + std::to_string(i),
          static_cast<std::uint64_t>(i * 10),
          static_cast<std::uint64_t>(i * 100),
          "succeeded"};
}

class AuditIntegration : public ::testing::Test {
 protected:
  void SetUp() override {
    AuditLog log(path_.string());
    for (int i = 1; i <= 5; ++i) log.record(statement(i));
  }
  test::TempDir dir_;
  std::filesystem::path path_ = dir_.path() / "audit.jsonl";
};

TEST_F(AuditIntegration, IntactLogVerifies) {
  const auto verdict = verify(path_);
  EXPECT_EQ(verdict.status, 0);
  EXPECT_EQ(verdict.output, "ok: 5 lines\n");
}

TEST_F(AuditIntegration, LinesCarryTheContractFieldsAndNoStatementText) {
  const auto lines = read_lines(path_);
  ASSERT_EQ(lines.size(), 5u);
  const auto first = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(first["job_id"], "job_1");
  EXPECT_EQ(first["attempt"], 1);
  EXPECT_EQ(first["source"], "warehouse");
  EXPECT_EQ(first["rows"], 10);
  EXPECT_EQ(first["bytes"], 100);
  EXPECT_EQ(first["outcome"], "succeeded");
  EXPECT_EQ(first["statement_sha256"], sha256_hex("SELECT secret_column FROM t WHERE id = 1"));
  EXPECT_EQ(first["prev"], std::string(kAuditGenesis));
  EXPECT_TRUE(first["time"].get<std::string>().ends_with("Z"));
  const auto second = nlohmann::json::parse(lines[1]);
  EXPECT_EQ(second["prev"], sha256_hex(lines[0]));
  for (const auto& line : lines) EXPECT_EQ(line.find("secret_column"), std::string::npos);
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(AuditIntegration, ReopeningContinuesTheChain) {
  {
    AuditLog log(path_.string());
    log.record(statement(6));
    log.record(statement(7));
  }
  EXPECT_EQ(verify(path_).output, "ok: 7 lines\n");
}

TEST_F(AuditIntegration, EditedLineIsReported) {
  auto lines = read_lines(path_);
  const auto at = lines[2].find("\"rows\":30");
  ASSERT_NE(at, std::string::npos);
  lines[2].replace(at, 9, "\"rows\":3");
  write_lines(path_, lines);
  const auto verdict = verify(path_);
  EXPECT_EQ(verdict.status, 1);
  EXPECT_EQ(verdict.output.rfind("line 3: ", 0), 0u) << verdict.output;
}

TEST_F(AuditIntegration, EditedLineWithRecomputedHashIsCaughtByTheNextLine) {
  auto lines = read_lines(path_);
  auto record = nlohmann::ordered_json::parse(lines[2]);
  record["rows"] = 0;
  record.erase("hash");
  std::string body = record.dump();
  body.pop_back();
  lines[2] = body + ",\"hash\":\"" + sha256_hex(body) + "\"}";
  write_lines(path_, lines);
  const auto verdict = verify(path_);
  EXPECT_EQ(verdict.status, 1);
  EXPECT_EQ(verdict.output.rfind("line 4: prev does not match line 3", 0), 0u) << verdict.output;
}

TEST_F(AuditIntegration, EditedLastLineIsReported) {
  auto lines = read_lines(path_);
  lines[4].replace(lines[4].find("succeeded"), 9, "failed");
  write_lines(path_, lines);
  EXPECT_EQ(verify(path_).output.rfind("line 5: ", 0), 0u);
}

TEST_F(AuditIntegration, DeletedLineIsReported) {
  auto lines = read_lines(path_);
  lines.erase(lines.begin() + 2);
  write_lines(path_, lines);
  const auto verdict = verify(path_);
  EXPECT_EQ(verdict.status, 1);
  EXPECT_EQ(verdict.output.rfind("line 3: ", 0), 0u) << verdict.output;
}

TEST_F(AuditIntegration, DeletedFirstLineIsReported) {
  auto lines = read_lines(path_);
  lines.erase(lines.begin());
  write_lines(path_, lines);
  const auto verdict = verify(path_);
  EXPECT_EQ(verdict.status, 1);
  EXPECT_EQ(verdict.output.rfind("line 1: prev is not the genesis", 0), 0u) << verdict.output;
}

TEST_F(AuditIntegration, SwappedLinesAreReported) {
  auto lines = read_lines(path_);
  std::swap(lines[1], lines[2]);
  write_lines(path_, lines);
  const auto verdict = verify(path_);
  EXPECT_EQ(verdict.status, 1);
  EXPECT_EQ(verdict.output.rfind("line 2: ", 0), 0u) << verdict.output;
}

TEST_F(AuditIntegration, GarbageLineIsReported) {
  auto lines = read_lines(path_);
  lines.insert(lines.begin() + 3, "not json");
  write_lines(path_, lines);
  EXPECT_EQ(verify(path_).output, "line 4: not a JSON object\n");
}

TEST_F(AuditIntegration, IncompleteLastLineIsReportedAndRefusedOnOpen) {
  {
    std::ofstream out(path_, std::ios::binary | std::ios::app);
    out << "{\"time\":\"2026";
  }
  const auto verdict = verify(path_);
  EXPECT_EQ(verdict.status, 1);
  EXPECT_EQ(verdict.output.rfind("line 6: incomplete", 0), 0u) << verdict.output;
  EXPECT_THROW(AuditLog log(path_.string()), std::runtime_error);
}

TEST_F(AuditIntegration, SecondWriterIsRefused) {
  AuditLog first(path_.string());
  try {
    AuditLog second(path_.string());
    FAIL() << "two writers on one audit log";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("in use"), std::string::npos) << e.what();
  }
}

TEST_F(AuditIntegration, UnreadableFileReturnsTwo) {
  EXPECT_EQ(verify(dir_.path() / "missing.jsonl").status, 2);
  EXPECT_EQ(verify(dir_.path()).status, 2);
}

TEST(AuditLogConcurrency, ParallelWritersKeepOneValidChain) {
  test::TempDir dir;
  const auto path = dir.path() / "audit.jsonl";
  {
    AuditLog log(path.string());
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&log, t] {
        for (int i = 0; i < 200; ++i) log.record(statement(t * 1000 + i));
      });
    }
    for (auto& thread : threads) thread.join();
  }
  EXPECT_EQ(verify(path).output, "ok: 1600 lines\n");
}

TEST(AuditLogEdgeCases, EmptyLogAndHostileJobIds) {
  test::TempDir dir;
  const auto path = dir.path() / "audit.jsonl";
  {
    AuditLog log(path.string());
    EXPECT_EQ(verify(path).output, "ok: 0 lines\n");
    AuditRecord record = statement(1);
    record.job_id = "job\n\"},{\"forged\":1 \xff\xfe";  // newline, quotes, invalid UTF-8
    log.record(record);
    log.record(statement(2));
  }
  EXPECT_EQ(read_lines(path).size(), 2u);
  EXPECT_EQ(verify(path).output, "ok: 2 lines\n");
}

}  // namespace
}  // namespace outpost::security
