// The JobStore conformance suite (tests/unit/hub/store_conformance.hpp) on
// the PostgreSQL store: each test gets a fresh database on a throwaway cluster.
#include "unit/hub/store_conformance.hpp"
#include "unit/hub/store_conformance_pools.hpp"
#include "unit/hub/store_conformance_schedules.hpp"

#include "hub_pg_support.hpp"
#include "store/postgres/postgres_store.hpp"

namespace outpost::hub::testing {
namespace {

std::unique_ptr<JobStore> make_postgres_store() {
  // The databases live until the process exits (one per test, dropped with
  // the cluster).
  static std::vector<std::unique_ptr<test::pgstore::StoreEnv>> envs;
  auto& env = *envs.emplace_back(std::make_unique<test::pgstore::StoreEnv>());
  StoreConfig c;
  c.url = env.url();
  c.password = env.password();
  c.connections = 4;
  return postgres::open_postgres_store(c);
}

std::string factory_name(const ::testing::TestParamInfo<StoreFactory>& param) {
  return param.param.name;
}

INSTANTIATE_TEST_SUITE_P(Postgres, StoreConformance,
                         ::testing::Values(StoreFactory{"postgres", make_postgres_store}),
                         factory_name);
INSTANTIATE_TEST_SUITE_P(Postgres, RetryScheduleConformance,
                         ::testing::Values(StoreFactory{"postgres", make_postgres_store}),
                         factory_name);

}  // namespace
}  // namespace outpost::hub::testing
