// The JobStore conformance suite on the in-memory store.
#include "store/memory_store.hpp"

#include "store_conformance.hpp"
#include "store_conformance_pools.hpp"
#include "store_conformance_schedules.hpp"

namespace outpost::hub::testing {
namespace {

INSTANTIATE_TEST_SUITE_P(Memory, StoreConformance,
                         ::testing::Values(StoreFactory{
                             "memory", [] { return std::make_unique<MemoryStore>(); }}),
                         store_name);
INSTANTIATE_TEST_SUITE_P(Memory, RetryScheduleConformance,
                         ::testing::Values(StoreFactory{
                             "memory", [] { return std::make_unique<MemoryStore>(); }}),
                         store_name);

}  // namespace
}  // namespace outpost::hub::testing
