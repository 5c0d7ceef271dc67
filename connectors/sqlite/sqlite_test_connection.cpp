// test_connection: opens the file read-only and reads its header.
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "common/text_format.hpp"
#include "sqlite/sqlite_jobs.hpp"

namespace outpost::connectors::sqlite {
namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

JobResult run_test_connection(Database& db, JobContext& ctx, std::int64_t open_ms) {
  (void)ctx;
  const auto start = Clock::now();
  std::optional<JobError> error;
  // Reading sqlite_schema makes SQLite read the file header: a file that is
  // not a database fails here, not at the first real job.
  auto stmt = db.prepare("SELECT sqlite_version(), (SELECT count(*) FROM sqlite_schema)", error);
  if (!stmt) return failed(std::move(*error));
  const int rc = sqlite3_step(stmt.get());
  if (rc != SQLITE_ROW) return failed(db.error_for(rc));
  const std::string version = reinterpret_cast<const char*>(sqlite3_column_text(stmt.get(), 0));
  const auto objects = sqlite3_column_int64(stmt.get(), 1);
  const auto latency = common::elapsed_ms(start);
  return JobResult::success({{"ok", true},
                             {"server_version", "SQLite " + version},
                             {"latency_ms", latency},
                             {"connect_ms", open_ms},
                             {"database", std::filesystem::path(db.path()).filename().string()},
                             {"schema_objects", objects},
                             {"read_only", true},
                             {"role_can_write", false}});
}

}  // namespace outpost::connectors::sqlite
