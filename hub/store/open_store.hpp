#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "store/job_store.hpp"

namespace outpost::hub {

/// Which store the hub uses (hub-v2.md §1).
struct StoreConfig {
  /// "memory" or "postgres://USER@HOST:PORT/DB[?param=value…]".
  std::string url = "memory";
  /// From --store-password-file / OUTPOST_HUB_STORE_PASSWORD_FILE (trailing
  /// newline removed). Never logged, never put in a URL or on a command line.
  std::string password;
  /// Connections a shared store may open; also the size of the hub's store
  /// thread pool.
  std::size_t connections = 4;
};

/// True for "memory" (and an empty url).
[[nodiscard]] bool is_memory_store(const StoreConfig& config) noexcept;

/// Opens the configured store, migrating its schema first where it has one.
/// Throws StoreUnavailable when the store cannot be reached and
/// std::invalid_argument for a malformed URL or an unknown scheme.
[[nodiscard]] std::unique_ptr<JobStore> open_store(const StoreConfig& config);

/// Creates or migrates the store's schema, then returns (outpost-hub migrate).
/// A no-op for the memory store. Throws like open_store.
void migrate_store(const StoreConfig& config);

}  // namespace outpost::hub
