#include "sqlite/sqlite_config.hpp"

#include <sqlite3.h>

#include <nlohmann/json.hpp>

#include "common/source_config.hpp"
#include "outpost/policy.hpp"

namespace outpost::connectors::sqlite {

SqliteConfig parse_config(const nlohmann::json& config) {
  SqliteConfig out;
  common::ConfigReader reader(config, "sqlite source config");
  // allow_privileged_login may come with a sources-file source; SQLite has
  // no logins, so it changes nothing here.
  reader.allow_only({"path", "busy_timeout_ms", kAllowPrivilegedLoginKey});
  const auto path = reader.string("path");
  const auto busy = reader.integer("busy_timeout_ms", 0, 600'000);
  if (!reader.error() && (!path || path->empty()))
    reader.fail("sqlite source config: \"path\" is required");
  if (!reader.error() && sqlite3_strnicmp(path->c_str(), "file:", 5) == 0) {
    reader.fail("sqlite source config: \"path\" must be a file path, not a file: URI");
  }
  if (reader.error()) {
    out.error = JobError{ErrorCode::kInvalidJob, *reader.error(), false};
    return out;
  }
  out.path = *path;
  if (busy) out.busy_timeout_ms = static_cast<int>(*busy);
  return out;
}

}  // namespace outpost::connectors::sqlite
