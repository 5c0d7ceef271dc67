#include "store/postgres/postgres_store.hpp"

#include "observability/log.hpp"
#include "store/postgres/pg_config.hpp"
#include "store/postgres/pg_schema.hpp"
#include "store/postgres/pg_store.hpp"

namespace outpost::hub::postgres {

std::unique_ptr<JobStore> open_postgres_store(const StoreConfig& config) {
  auto params = pg::parse_store_url(config.url, config.password);
  // Belt and braces: should any message ever carry it, the log redacts it.
  if (!config.password.empty()) obs::add_secret(config.password);
  return std::make_unique<pg::PostgresStore>(std::move(params), config.connections);
}

void migrate_postgres_store(const StoreConfig& config) {
  auto params = pg::parse_store_url(config.url, config.password);
  if (!config.password.empty()) obs::add_secret(config.password);
  pg::Connection conn(params);
  const auto report = pg::migrate(conn);
  obs::Logger("hub.store")
      .info(report.applied > 0 ? "store schema migrated" : "store schema up to date",
            {{"store", params.display},
             {"from_version", report.from_version},
             {"to_version", report.to_version},
             {"applied", report.applied}});
}

}  // namespace outpost::hub::postgres
