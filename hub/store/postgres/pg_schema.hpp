#pragma once

#include <string>

#include "store/postgres/pg_connection.hpp"

namespace outpost::hub::pg {

/// What migrate() did.
struct MigrationReport {
  int from_version = 0;  ///< schema version found
  int to_version = 0;    ///< schema version now
  int applied = 0;       ///< migrations this call applied (0 when another hub did them)
};

/// The newest schema version this build knows.
int latest_schema_version() noexcept;

/// Brings the schema up to latest_schema_version(), forward only. Holds a
/// session advisory lock for the whole run, so hubs starting together
/// migrate once: the first applies, the others wait and then find nothing
/// to do. Each migration runs in its own transaction together with its row
/// in `schema_migrations`. A database whose schema is newer than this build
/// is refused (an older hub must not write a newer schema's tables).
/// Throws StoreUnavailable / StatementError / std::runtime_error.
MigrationReport migrate(Connection& conn);

}  // namespace outpost::hub::pg
