// The issue-20 catalog test: a metadata job over a 100,000-table SQLite
// database, through the runtime's PartStreamer (the path a real job takes
// to the control plane), must deliver every table with its columns while
// the process's memory grows by less than a stated bound. No time bound.
//
// The bound (kBoundMiB) covers what the job holds: SQLite's parsed schema of
// the 100,000 tables (SQLite keeps it per connection), its
// sorter for the name order, one table's pragma look-ups, and two parts of
// NDJSON (256 KiB each). A connector that gathered the catalog before
// sending it would hold ~25 MB of NDJSON plus its JSON objects and pass it.
//
// What is measured: in a plain build, the growth of the peak RSS (VmHWM)
// over the peak before the job. Under ASan/TSan RSS is the sanitizer's
// (shadow memory, ASan's quarantine of freed blocks), so there the live heap
// (__sanitizer_get_current_allocated_bytes) is sampled at every part upload
// and its growth bounded instead. The database is built by a forked child,
// so its own schema parse never counts in this process.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "runtime/part_streamer.hpp"
#include "sqlite/sqlite_connector.hpp"
#include "support/collecting_sink.hpp"
#include "support/process.hpp"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define OUTPOST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define OUTPOST_SANITIZED 1
#endif
#endif
#ifdef OUTPOST_SANITIZED
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
#endif

namespace outpost::test {
namespace {

using connectors::sqlite::SqliteConnector;
using nlohmann::json;
using namespace std::chrono_literals;

constexpr int kTables = 100'000;
constexpr std::uint64_t kBoundMiB = 96;

// Peak RSS (VmHWM) in KiB.
std::uint64_t peak_rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6));
  }
  return 0;
}

// The live heap in bytes where a sanitizer keeps count, else 0.
std::uint64_t live_heap() {
#ifdef OUTPOST_SANITIZED
  return __sanitizer_get_current_allocated_bytes();
#else
  return 0;
#endif
}

// Builds the catalog: 100,000 CREATE TABLE statements cost O(n^2) in SQLite
// (each re-reads sqlite_schema by a full scan: >20 min of CPU under load),
// so t000000 is created for real and the others are written into
// sqlite_schema directly (writable_schema) sharing its empty root page. A
// reader parses every entry as a real table; nothing reads their pages.
// Every tenth table has a fourth column. Returns the error text, or "".
std::string build_catalog(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) return "cannot open " + path;
  const std::string sql =
      "BEGIN; CREATE TABLE t000000 (id INTEGER PRIMARY KEY, name TEXT NOT NULL, at TEXT, code "
      "TEXT); PRAGMA writable_schema = ON; "
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " +
      std::to_string(kTables - 1) +
      ") INSERT INTO sqlite_schema (type, name, tbl_name, rootpage, sql) "
      "SELECT 'table', printf('t%06d', i), printf('t%06d', i), "
      "(SELECT rootpage FROM sqlite_schema WHERE name = 't000000'), "
      "'CREATE TABLE ' || printf('t%06d', i) || ' (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
      "at TEXT' || CASE WHEN i % 10 = 0 THEN ', code TEXT)' ELSE ')' END FROM n; "
      "PRAGMA writable_schema = OFF; COMMIT;";
  char* err = nullptr;
  std::string error;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    error = err != nullptr ? err : "error";
  }
  sqlite3_free(err);
  sqlite3_close(db);
  return error;
}

// Checks each part's tables and samples the live heap as parts land.
class CheckingUploader final : public runtime::PartUploader {
 public:
  runtime::UploadStatus upload(std::uint64_t, std::string ndjson) override {
    peak_heap = std::max(peak_heap, live_heap());
    for (std::size_t at = 0; at < ndjson.size();) {
      const auto end = ndjson.find('\n', at);
      const auto table = json::parse(ndjson.substr(at, end - at));
      const auto& name = table["name"].get_ref<const std::string&>();
      const int i = std::stoi(name.substr(1));
      const std::size_t want_columns = i % 10 == 0 ? 4 : 3;
      if (i >= 0 && i < kTables && !seen[static_cast<std::size_t>(i)] &&
          table["columns"].size() == want_columns && table["primary_key"] == json::array({"id"})) {
        seen[static_cast<std::size_t>(i)] = true;
        ++good;
      } else {
        ++bad;
        if (first_bad.empty()) first_bad = table.dump();
      }
      at = end + 1;
    }
    return runtime::UploadStatus::kOk;
  }
  std::vector<bool> seen = std::vector<bool>(kTables, false);
  std::uint64_t good = 0;
  std::uint64_t bad = 0;
  std::string first_bad;
  std::uint64_t peak_heap = 0;
};

TEST(SqliteCatalog, HundredThousandTablesStreamWithinTheMemoryBound) {
  TempDir dir;
  const std::string path = (dir.path() / "wide.db").string();
  const auto started = std::chrono::steady_clock::now();
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const std::string error = build_catalog(path);
    if (!error.empty()) std::fprintf(stderr, "build_catalog: %s\n", error.c_str());
    _exit(error.empty() ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "building the catalog failed";
  const double build_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  Job j;
  j.id = "job_wide";
  j.type = JobType::kMetadata;
  j.timeout = 600s;
  j.source.type = "sqlite";
  j.source.config = {{"path", path}};
  set_params(j, json::object());
  OperatorPolicy policy;
  policy.sqlite_dirs = {std::filesystem::canonical(dir.path()).string()};
  AllowingNetworkGuard guard;
  CancelToken cancel;
  CheckingUploader uploader;
  SqliteConnector connector;

  const std::uint64_t rss_before = peak_rss_kib();
  const std::uint64_t heap_before = live_heap();
  const auto job_started = std::chrono::steady_clock::now();
  runtime::PartStreamer sink(JobType::kMetadata, {256 * 1024, 1'000'000, 1ull << 30}, uploader,
                             cancel);
  JobContext ctx{j, sink, cancel, guard, std::chrono::steady_clock::now() + j.timeout, policy};
  const JobResult r = connector.run(ctx);
  const auto finished = sink.finish();
  const std::uint64_t rss_growth_kib = peak_rss_kib() - rss_before;
  const std::uint64_t heap_growth = uploader.peak_heap - std::min(uploader.peak_heap, heap_before);
  const double job_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - job_started).count();

  ASSERT_TRUE(r.ok()) << to_string(r.error->code) << ": " << r.error->message;
  ASSERT_FALSE(finished.error) << finished.error->message;
  EXPECT_FALSE(finished.fields.value("truncated", false)) << finished.fields.dump();
  EXPECT_EQ(uploader.bad, 0u) << uploader.first_bad;
  EXPECT_EQ(uploader.good, static_cast<std::uint64_t>(kTables));
  EXPECT_GT(finished.parts, 10u);  // it streamed: not one result held and sent at the end
  std::printf(
      "sqlite catalog: %d tables built in %.1f s, streamed in %.1f s in %llu parts; peak RSS "
      "growth %llu KiB, live-heap growth at part uploads %llu KiB (sanitized builds only); "
      "bound %llu MiB\n",
      kTables, build_s, job_s, static_cast<unsigned long long>(finished.parts),
      static_cast<unsigned long long>(rss_growth_kib),
      static_cast<unsigned long long>(heap_growth / 1024),
      static_cast<unsigned long long>(kBoundMiB));
#ifdef OUTPOST_SANITIZED
  EXPECT_LT(heap_growth, kBoundMiB << 20);
#else
  EXPECT_LT(rss_growth_kib, kBoundMiB << 10);
#endif
}

}  // namespace
}  // namespace outpost::test
