#include "store/open_store.hpp"

#include <stdexcept>

#include "store/memory_store.hpp"
#include "store/postgres/postgres_store.hpp"

namespace outpost::hub {

namespace {

bool is_postgres_url(const std::string& url) {
  return url.starts_with("postgres://") || url.starts_with("postgresql://");
}

[[noreturn]] void unknown_store(const StoreConfig& config) {
  // The URL is not echoed: it might carry a password.
  (void)config;
  throw std::invalid_argument(
      "--store must be 'memory' or postgres://USER@HOST:PORT/DB (postgresql:// also accepted)");
}

}  // namespace

bool is_memory_store(const StoreConfig& config) noexcept {
  return config.url.empty() || config.url == "memory";
}

std::unique_ptr<JobStore> open_store(const StoreConfig& config) {
  if (is_memory_store(config)) return std::make_unique<MemoryStore>();
  if (is_postgres_url(config.url)) {
    return postgres::open_postgres_store(config);
  }
  unknown_store(config);
}

void migrate_store(const StoreConfig& config) {
  if (is_memory_store(config)) return;  // nothing to migrate
  if (is_postgres_url(config.url)) {
    postgres::migrate_postgres_store(config);
    return;
  }
  unknown_store(config);
}

}  // namespace outpost::hub
