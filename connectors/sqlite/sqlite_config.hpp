#pragma once

// Private to the SQLite connector: a source's config, read strictly.

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>

#include "outpost/errors.hpp"

namespace outpost::connectors::sqlite {

inline constexpr int kDefaultBusyTimeoutMs = 5000;

/// A `sqlite` source: {"path": "/data/x.db", "busy_timeout_ms": 5000}.
struct SqliteConfig {
  std::string path;  ///< as given; resolve_database_path() decides if it may be opened
  int busy_timeout_ms = kDefaultBusyTimeoutMs;
  std::optional<JobError> error;  ///< set: invalid_job naming the field
};

/// Reads the source config; unknown keys, a missing path or a file: URI are
/// refused.
SqliteConfig parse_config(const nlohmann::json& config);

}  // namespace outpost::connectors::sqlite
