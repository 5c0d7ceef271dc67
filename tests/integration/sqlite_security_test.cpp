// SQLite connector hardening (issue 14), in process against files the test
// makes: --sqlite-dirs (paths, links, `..`, the same answer for a file
// outside whether it exists or not), the authorizer (pragmas, ATTACH,
// load_extension, fts3_tokenizer, transaction control) and the memory cap
// (SQLITE_LIMIT_LENGTH and RowWriter::fits against the runtime's own sink).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>

#include "runtime/part_streamer.hpp"
#include "sqlite/sqlite_connector.hpp"
#include "support/collecting_sink.hpp"
#include "support/process.hpp"

namespace outpost::test {
namespace {

using connectors::sqlite::SqliteConnector;
using nlohmann::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr std::uint64_t kMiB = 1024 * 1024;

void make_db(const fs::path& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  const std::string message = err != nullptr ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << message;
}

/// Keeps uploaded parts' sizes only.
class CountingUploader final : public runtime::PartUploader {
 public:
  runtime::UploadStatus upload(std::uint64_t, std::string ndjson) override {
    bytes += ndjson.size();
    ++parts;
    return runtime::UploadStatus::kOk;
  }
  std::uint64_t bytes = 0;
  int parts = 0;
};

class SqliteSecurity : public ::testing::Test {
 protected:
  void SetUp() override {
    allowed_ = fs::canonical(allowed_dir_.path());
    outside_ = fs::canonical(outside_dir_.path());
    policy_.sqlite_dirs = {allowed_.string()};
    db_ = allowed_ / "app.db";
    make_db(db_,
            "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT); "
            "INSERT INTO items(name) VALUES ('a'), ('b'), ('c'); "
            "CREATE INDEX items_name ON items(name);");
    make_db(outside_ / "secret.db", "CREATE TABLE s(v); INSERT INTO s VALUES ('top secret');");
  }

  [[nodiscard]] Job job(const std::string& path, JobType type = JobType::kTestConnection,
                        json params = json::object()) const {
    Job j;
    j.id = "job_sec";
    j.type = type;
    j.timeout = 30s;
    j.source.type = "sqlite";
    j.source.config = {{"path", path}};
    outpost::test::set_params(j, params);
    return j;
  }

  JobResult run(const Job& j, ResultSink& sink) {
    CancelToken cancel;
    JobContext ctx{j, sink, cancel, guard_, Clock::now() + j.timeout, policy_};
    return connector_.run(ctx);
  }
  JobResult open(const std::string& path) {
    CollectingSink sink;
    return run(job(path), sink);
  }
  JobResult query(const std::string& sql, CollectingSink& sink) {
    return run(job(db_.string(), JobType::kQuery, {{"sql", sql}}), sink);
  }
  JobResult query(const std::string& sql) {
    CollectingSink sink;
    return query(sql, sink);
  }

  /// Runs `sql` through the runtime's PartStreamer with these limits.
  struct Streamed {
    JobResult result;
    runtime::PartStreamer::Finished finished;
  };
  Streamed stream(const std::string& sql, runtime::StreamLimits limits) {
    CountingUploader up;
    CancelToken cancel;
    runtime::PartStreamer sink(JobType::kQuery, limits, up, cancel);
    const auto j = job(db_.string(), JobType::kQuery, {{"sql", sql}});
    JobContext ctx{j, sink, cancel, guard_, Clock::now() + j.timeout, policy_};
    Streamed out{connector_.run(ctx), {}};
    out.finished = sink.finish();
    return out;
  }

  static std::string text(const JobResult& r) {
    return r.error ? std::string(to_string(r.error->code)) + ": " + r.error->message : "no error";
  }

  TempDir allowed_dir_;
  TempDir outside_dir_;
  fs::path allowed_;
  fs::path outside_;
  fs::path db_;
  SqliteConnector connector_;
  AllowingNetworkGuard guard_;
  OperatorPolicy policy_;
};

TEST_F(SqliteSecurity, AFileInsideTheDirsOpens) {
  const auto r = open(db_.string());
  ASSERT_TRUE(r.ok()) << text(r);
  // Also through `..` and a link that stay inside.
  fs::create_directory(allowed_ / "sub");
  fs::create_symlink(db_, allowed_ / "sub" / "link.db");
  EXPECT_TRUE(open((allowed_ / "sub" / ".." / "app.db").string()).ok());
  EXPECT_TRUE(open((allowed_ / "sub" / "link.db").string()).ok());
}

TEST_F(SqliteSecurity, TheSourcesFileOptInKeyIsAcceptedAndChangesNothing) {
  // A sources-file source may carry allow_privileged_login; SQLite has no
  // logins, so the key is accepted and the file still opens read-only.
  auto j = job(db_.string(), JobType::kQuery, {{"sql", "DELETE FROM items"}});
  j.source.config[kAllowPrivilegedLoginKey] = true;
  CollectingSink sink;
  const auto r = run(j, sink);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->code, ErrorCode::kReadOnlyViolation) << text(r);
}

TEST_F(SqliteSecurity, WithoutSqliteDirsEveryFileIsRefused) {
  policy_.sqlite_dirs.clear();
  const auto r = open(db_.string());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->code, ErrorCode::kPermissionDenied) << text(r);
  EXPECT_NE(r.error->message.find("--sqlite-dirs"), std::string::npos);
}

TEST_F(SqliteSecurity, OutsideIsOneAnswerWhetherTheFileExistsOrNot) {
  const auto existing = open((outside_ / "secret.db").string());
  const auto missing = open((outside_ / "missing.db").string());
  const auto missing_dir = open((outside_ / "no" / "such" / "dir.db").string());
  const auto etc = open("/etc/passwd");
  for (const auto* r : {&existing, &missing, &missing_dir, &etc}) {
    ASSERT_FALSE(r->ok());
    EXPECT_EQ(r->error->code, ErrorCode::kPermissionDenied) << text(*r);
    EXPECT_EQ(r->error->message, existing.error->message);
    EXPECT_EQ(r->error->message.find(outside_.string()), std::string::npos);
  }
  EXPECT_FALSE(fs::exists(outside_ / "missing.db"));
}

TEST_F(SqliteSecurity, DotDotAndLinksCannotLeaveTheDirs) {
  const auto reference = open((outside_ / "secret.db").string());
  ASSERT_FALSE(reference.ok());
  fs::create_symlink(outside_ / "secret.db", allowed_ / "link.db");
  fs::create_symlink(outside_, allowed_ / "linkdir");
  fs::create_symlink(outside_ / "gone.db", allowed_ / "dangling.db");
  // Up to the root, then down into the other directory.
  const std::string dotdot =
      allowed_.string() + "/../../../../../../.." + outside_.string() + "/secret.db";
  for (const std::string& path :
       {dotdot, (allowed_ / "link.db").string(), (allowed_ / "linkdir" / "secret.db").string(),
        (allowed_ / "linkdir" / "missing.db").string(), (allowed_ / "dangling.db").string()}) {
    const auto r = open(path);
    ASSERT_FALSE(r.ok()) << path;
    EXPECT_EQ(r.error->code, ErrorCode::kPermissionDenied) << path << ": " << text(r);
    EXPECT_EQ(r.error->message, reference.error->message) << path;
  }
}

TEST_F(SqliteSecurity, MissingFileInsideIsUnreachableAndNotCreated) {
  const auto r = open((allowed_ / "nope.db").string());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->code, ErrorCode::kUnreachable) << text(r);
  EXPECT_FALSE(fs::exists(allowed_ / "nope.db"));
}

TEST_F(SqliteSecurity, UrisRelativePathsAndMemoryAreRefused) {
  for (const std::string& path :
       {"file:" + db_.string() + "?mode=rwc",
        "FILE:" + (allowed_ / "new.db").string() + "?mode=rwc",
        "file:" + (allowed_ / "x.db").string() + "?vfs=unix-none&immutable=1",
        std::string(":memory:"), std::string("app.db"),
        std::string("/") + std::string(1, '\0') + "x"}) {
    const auto r = open(path);
    ASSERT_FALSE(r.ok()) << path;
    EXPECT_EQ(r.error->code, ErrorCode::kInvalidJob) << path << ": " << text(r);
  }
  EXPECT_FALSE(fs::exists(allowed_ / "new.db"));
  EXPECT_FALSE(fs::exists(allowed_ / "x.db"));
}

TEST_F(SqliteSecurity, PragmasOutsideTheReadOnlyListAreRefused) {
  for (const char* sql :
       {"PRAGMA temp_store_directory = '/tmp'", "PRAGMA temp_store_directory",
        "PRAGMA data_store_directory = '/tmp'", "PRAGMA writable_schema = ON",
        "PRAGMA soft_heap_limit = 1", "PRAGMA hard_heap_limit = 1", "PRAGMA threads = 8",
        "PRAGMA optimize", "PRAGMA wal_checkpoint", "PRAGMA mmap_size = 1000000",
        "PRAGMA integrity_check", "SELECT * FROM pragma_compile_options"}) {
    const auto r = query(sql);
    ASSERT_FALSE(r.ok()) << sql;
    EXPECT_EQ(r.error->code, ErrorCode::kPermissionDenied) << sql << ": " << text(r);
    EXPECT_NE(r.error->message.find("PRAGMA"), std::string::npos) << sql << ": " << text(r);
  }
  for (const char* sql : {"PRAGMA journal_mode = WAL", "PRAGMA query_only = OFF",
                          "PRAGMA user_version = 9", "PRAGMA foreign_keys = ON"}) {
    const auto r = query(sql);
    ASSERT_FALSE(r.ok()) << sql;
    EXPECT_EQ(r.error->code, ErrorCode::kReadOnlyViolation) << sql << ": " << text(r);
  }
  EXPECT_FALSE(fs::exists(allowed_ / "app.db-wal"));
  for (const char* sql : {"PRAGMA table_info(items)", "SELECT * FROM pragma_index_list('items')",
                          "PRAGMA user_version", "SELECT * FROM json_each('[1,2]')"}) {
    const auto r = query(sql);
    EXPECT_TRUE(r.ok()) << sql << ": " << text(r);
  }
}

TEST_F(SqliteSecurity, AttachTransactionsAndDangerousFunctionsAreRefused) {
  for (const std::string& sql :
       {"ATTACH DATABASE '" + (outside_ / "secret.db").string() + "' AS s",
        "ATTACH DATABASE '" + (allowed_ / "new.db").string() + "' AS n",
        std::string("DETACH DATABASE main"), std::string("BEGIN"), std::string("SAVEPOINT x"),
        std::string("SELECT load_extension('/usr/lib/x86_64-linux-gnu/libsqlite3.so.0')"),
        std::string("SELECT fts3_tokenizer('simple')"),
        std::string("SELECT hex(fts3_tokenizer('simple'))")}) {
    CollectingSink sink;
    const auto r = query(sql, sink);
    ASSERT_FALSE(r.ok()) << sql;
    EXPECT_EQ(r.error->code, ErrorCode::kPermissionDenied) << sql << ": " << text(r);
    EXPECT_TRUE(sink.rows().empty()) << sql;
  }
  EXPECT_FALSE(fs::exists(allowed_ / "new.db"));
}

TEST_F(SqliteSecurity, WritesAreReadOnlyViolationsAndChangeNothing) {
  for (const char* sql :
       {"DELETE FROM items", "INSERT INTO items(name) VALUES ('x')", "UPDATE items SET name = 'z'",
        "DROP TABLE items", "ANALYZE", "CREATE TEMP VIEW v AS SELECT 1", "REINDEX", "VACUUM",
        "UPDATE sqlite_master SET sql = 'x'"}) {
    const auto r = query(sql);
    ASSERT_FALSE(r.ok()) << sql;
    EXPECT_TRUE(r.error->code == ErrorCode::kReadOnlyViolation ||
                r.error->code == ErrorCode::kPermissionDenied)
        << sql << ": " << text(r);
  }
  const auto copy = outside_ / "copy.db";
  const auto vacuum = query("VACUUM INTO '" + copy.string() + "'");
  ASSERT_FALSE(vacuum.ok());
  EXPECT_EQ(vacuum.error->code, ErrorCode::kReadOnlyViolation) << text(vacuum);
  EXPECT_FALSE(fs::exists(copy));
  CollectingSink rows;
  ASSERT_TRUE(query("SELECT group_concat(name) FROM items", rows).ok());
  EXPECT_EQ(rows.rows()[0][0], "a,b,c");
}

TEST_F(SqliteSecurity, MetadataStillReadsColumnsThroughTheAuthorizer) {
  CollectingSink sink;
  const auto r = run(job(db_.string(), JobType::kMetadata), sink);
  ASSERT_TRUE(r.ok()) << text(r);
  const json* items = sink.table("main", "items");
  ASSERT_NE(items, nullptr);
  EXPECT_EQ((*items)["columns"].size(), 2u);
}

// Class 8: what SQLite may build is bounded by the result's byte budget.

TEST_F(SqliteSecurity, AHugeComputedValueUnderA1MiBBudgetIsTruncatedNotBuilt) {
  for (const char* sql : {"SELECT 1 UNION ALL SELECT zeroblob(200000000)",
                          "SELECT 1 UNION ALL SELECT randomblob(200000000)",
                          "SELECT 1 UNION ALL SELECT replace(hex(zeroblob(400000)), '0', '00')"}) {
    const auto s = stream(sql, {4 * kMiB, 1000, kMiB});
    ASSERT_TRUE(s.result.ok()) << sql << ": " << text(s.result);
    EXPECT_FALSE(s.finished.error) << sql << ": " << s.finished.error->message;
    EXPECT_EQ(s.finished.fields["truncated"], true) << sql;
    EXPECT_EQ(s.finished.fields["rows"], json::parse("[[1]]")) << sql;
  }
}

TEST_F(SqliteSecurity, AStoredValueLargerThanTheBudgetLeftIsDroppedBeforeConversion) {
  make_db(db_,
          "CREATE TABLE big(id INTEGER, b BLOB, t TEXT); "
          "INSERT INTO big VALUES (1, randomblob(500000), NULL), "
          "(2, randomblob(500000), NULL), (3, NULL, printf('%.*c', 3000000, 'y')), (4, "
          "zeroblob(3000000), NULL);");
  // 500 kB of blob is ~667 kB of base64: one fits 1 MiB, the second does not.
  const auto blobs = stream("SELECT id, b FROM big WHERE b IS NOT NULL", {4 * kMiB, 1000, kMiB});
  ASSERT_TRUE(blobs.result.ok()) << text(blobs.result);
  EXPECT_EQ(blobs.finished.fields["truncated"], true);
  EXPECT_EQ(blobs.finished.fields["row_count"], 1);
  // 3 MB of text is past SQLITE_LIMIT_LENGTH (1 MiB): SQLite refuses to read it.
  const auto text_value = stream("SELECT id, t FROM big WHERE id = 3", {4 * kMiB, 1000, kMiB});
  ASSERT_TRUE(text_value.result.ok()) << text(text_value.result);
  EXPECT_EQ(text_value.finished.fields["truncated"], true);
  EXPECT_EQ(text_value.finished.fields["row_count"], 0);
  // A blob's length and any value's type need no copy of it: those still work.
  const auto length =
      stream("SELECT id, length(b), typeof(b) FROM big WHERE id = 4", {4 * kMiB, 1000, kMiB});
  ASSERT_TRUE(length.result.ok()) << text(length.result);
  EXPECT_EQ(length.finished.fields["rows"], json::parse(R"([[4,3000000,"blob"]])"));
}

TEST_F(SqliteSecurity, OneValueLargerThanAPartWithinALargerBudgetIsResultTooLarge) {
  const auto s = stream("SELECT zeroblob(3000000)", {kMiB, 1000, 256 * kMiB});
  ASSERT_TRUE(s.result.ok()) << text(s.result);
  ASSERT_TRUE(s.finished.error);
  EXPECT_EQ(s.finished.error->code, ErrorCode::kResultTooLarge);
}

TEST_F(SqliteSecurity, ValuesWithinTheBudgetAreUnchanged) {
  const auto s = stream("SELECT length(x), x FROM (SELECT printf('%.*c', 300000, 'z') AS x)",
                        {4 * kMiB, 1000, kMiB});
  ASSERT_TRUE(s.result.ok()) << text(s.result);
  EXPECT_EQ(s.finished.fields["truncated"], false);
  ASSERT_EQ(s.finished.fields["rows"].size(), 1u);
  EXPECT_EQ(s.finished.fields["rows"][0][0], 300000);
  EXPECT_EQ(s.finished.fields["rows"][0][1], std::string(300000, 'z'));
}

}  // namespace
}  // namespace outpost::test
