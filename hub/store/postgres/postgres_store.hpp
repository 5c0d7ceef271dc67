#pragma once

// The PostgreSQL store's entry points for open_store.cpp (no libpq here).

#include <memory>

#include "store/open_store.hpp"

namespace outpost::hub::postgres {

/// Connects to the store of `config.url` with `config.password`, migrates
/// its schema (under an advisory lock: hubs starting together migrate once)
/// and starts its LISTEN thread. Throws std::invalid_argument for a
/// malformed URL or one that carries a password, StoreUnavailable when the
/// server cannot be reached (the message names host and port, never the
/// password).
[[nodiscard]] std::unique_ptr<JobStore> open_postgres_store(const StoreConfig& config);

/// Migrates the schema only (outpost-hub migrate). Throws like open_postgres_store.
void migrate_postgres_store(const StoreConfig& config);

}  // namespace outpost::hub::postgres
