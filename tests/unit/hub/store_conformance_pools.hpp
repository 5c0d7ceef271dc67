#pragma once

// JobStore conformance, part 2: pools, routing by pool, the source lifecycle
// and jobs stored already failed. Include after store_conformance.hpp in the
// same .cpp (it adds tests to the StoreConformance fixture).

#include <map>

#include "store_conformance.hpp"

namespace outpost::hub::testing {

TEST_P(StoreConformance, TheDefaultPoolExistsAndPoolNamesAreUnique) {
  auto pools = store_->list_pools();
  ASSERT_EQ(pools.size(), 1u);
  EXPECT_EQ(pools[0].id, kDefaultPool);
  EXPECT_EQ(pools[0].name, kDefaultPoolName);
  auto eu = store_->create_pool("eu-vpc", now());
  ASSERT_TRUE(eu);
  EXPECT_TRUE(eu->id.starts_with("pool_"));
  EXPECT_NE(eu->id, kDefaultPool);
  EXPECT_EQ(eu->name, "eu-vpc");
  EXPECT_EQ(eu->created_at, now());
  EXPECT_FALSE(store_->create_pool("eu-vpc", now()));   // taken
  EXPECT_FALSE(store_->create_pool("default", now()));  // the default pool's name
  auto us = store_->create_pool("us-vpc", now());
  ASSERT_TRUE(us);
  EXPECT_NE(us->id, eu->id);
  pools = store_->list_pools();
  ASSERT_EQ(pools.size(), 3u);
  EXPECT_EQ(pools[0].id, kDefaultPool);
  EXPECT_EQ(pools[1].id, eu->id);
  EXPECT_EQ(pools[2].id, us->id);
  auto got = store_->get_pool(eu->id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->name, "eu-vpc");
  EXPECT_TRUE(store_->get_pool(std::string(kDefaultPool)));
  EXPECT_FALSE(store_->get_pool("pool_nope"));
}

TEST_P(StoreConformance, AClaimNeverReturnsAJobOfAnotherPool) {
  const std::vector<std::string> pools{std::string(kDefaultPool), "pool_a", "pool_b", "pool_idle"};
  std::map<std::string, int> created;
  for (int i = 0; i < 60; ++i) {
    const auto& pool = pools[static_cast<std::size_t>(i * 7 % 4)];
    add_job(pool);
    ++created[pool];
  }
  // Claimants of three pools ask for more than their pool holds; pool_idle has none.
  for (int round = 0; round < 3; ++round) {
    for (std::size_t p = 0; p < 3; ++p) {
      for (const auto& job : claim(50, "i-" + pools[p], pools[p])) {
        EXPECT_EQ(job.pool_id, pools[p]) << job.id;
        --created[pools[p]];
      }
    }
  }
  for (std::size_t p = 0; p < 3; ++p) EXPECT_EQ(created[pools[p]], 0) << pools[p];
  auto c = store_->counts(now());
  EXPECT_EQ(c.queue_depth["pool_idle"], static_cast<std::uint64_t>(created["pool_idle"]));
  EXPECT_GT(created["pool_idle"], 0);
  EXPECT_TRUE(claim(50, "i-x", "pool_nope").empty());
}

TEST_P(StoreConformance, AgentsOnlineCountsOnePoolsRecentInstances) {
  InstanceUpdate u;
  u.token_id = "tok_1";
  u.pool_id = "pool_a";
  u.instance_id = "i-old";
  store_->upsert_instance(u, now());
  advance(std::chrono::minutes(1));
  u.instance_id = "i-new";
  store_->upsert_instance(u, now());
  u.instance_id = "i-other";
  u.pool_id = "pool_b";
  store_->upsert_instance(u, now());
  EXPECT_EQ(store_->agents_online("pool_a", now() - std::chrono::seconds(30)), 1u);
  EXPECT_EQ(store_->agents_online("pool_a", now() - std::chrono::minutes(2)), 2u);
  EXPECT_EQ(store_->agents_online("pool_b", now()), 1u);
  EXPECT_EQ(store_->agents_online(std::string(kDefaultPool), now() - std::chrono::hours(1)), 0u);
}

TEST_P(StoreConformance, UpdateSourceChangesOnlyTheGivenFields) {
  auto s = store_->create_source(
      {"warehouse", "postgres", std::string(kDefaultPool), Json{{"host", "db"}}}, now());
  SourcePatch rename;
  rename.name = "dwh";
  auto a = store_->update_source(s.id, rename);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->name, "dwh");
  EXPECT_EQ(a->config, (Json{{"host", "db"}}));
  EXPECT_EQ(a->pool_id, kDefaultPool);
  EXPECT_EQ(a->type, "postgres");
  SourcePatch move;
  move.config = Json{{"host", "db2"}, {"port", 5433}};
  move.pool_id = "pool_eu";
  auto b = store_->update_source(s.id, move);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->name, "dwh");
  EXPECT_EQ(b->config, (Json{{"host", "db2"}, {"port", 5433}}));
  EXPECT_EQ(b->pool_id, "pool_eu");
  EXPECT_EQ(b->created_at, s.created_at);
  auto again = store_->get_source(s.id);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->config, b->config);
  EXPECT_FALSE(store_->update_source("src_nope", rename));
}

TEST_P(StoreConformance, DeleteSourceCancelsItsUnfinishedJobsOnly) {
  auto s =
      store_->create_source({"a", "postgres", std::string(kDefaultPool), Json::object()}, now());
  auto other =
      store_->create_source({"b", "postgres", std::string(kDefaultPool), Json::object()}, now());
  auto done = add_job(std::string(kDefaultPool), s.id);
  auto running = add_job(std::string(kDefaultPool), s.id);
  auto waiting = add_job(std::string(kDefaultPool), s.id);
  auto kept = add_job(std::string(kDefaultPool), other.id);
  auto first = claim(2);
  ASSERT_EQ(first.size(), 2u);
  ASSERT_EQ(finish(first[0]).kind, FinishOutcome::Kind::kAccepted);  // `done`
  advance(std::chrono::seconds(1));
  auto n = store_->delete_source(s.id, now());
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 2u);
  EXPECT_FALSE(store_->get_source(s.id));
  EXPECT_EQ(store_->list_sources().size(), 1u);
  EXPECT_EQ(store_->get_job(done.id)->status, JobStatus::kSucceeded);
  for (const auto& id : {running.id, waiting.id}) {
    auto job = store_->get_job(id);
    ASSERT_TRUE(job);
    EXPECT_EQ(job->status, JobStatus::kCancelled) << id;
    EXPECT_EQ(job->finished_at, now());
    ASSERT_TRUE(job->error);
    EXPECT_EQ((*job->error)["code"], "cancelled");
  }
  EXPECT_EQ(store_->get_job(running.id)->attempts.back().status, "cancelled");
  // The running job's agent learns it at its next heartbeat.
  auto renew = store_->renew(running.id, first[1].lease->token, std::chrono::seconds(10), now(),
                             std::nullopt);
  EXPECT_EQ(renew.kind, RenewOutcome::Kind::kCancelRequested);
  auto rest = claim(10);
  ASSERT_EQ(rest.size(), 1u);  // only the other source's job is left
  EXPECT_EQ(rest[0].id, kept.id);
  EXPECT_FALSE(store_->delete_source(s.id, now()));
}

TEST_P(StoreConformance, AJobStoredFailedIsNeverClaimable) {
  NewJob j;
  j.type = "test_connection";
  j.pool_id = "pool_eu";
  j.source = Json{{"ref", "warehouse"}};
  auto job = store_->create_failed_job(j, Json{{"code", "no_agent"}, {"message", "none"}}, now());
  EXPECT_EQ(job.status, JobStatus::kFailed);
  EXPECT_EQ(job.pool_id, "pool_eu");
  auto got = store_->get_job(job.id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, JobStatus::kFailed);
  EXPECT_EQ(got->finished_at, now());
  EXPECT_EQ((*got->error)["code"], "no_agent");
  EXPECT_EQ(got->attempt, 0);
  EXPECT_TRUE(claim(10, "i-1", "pool_eu").empty());
  EXPECT_EQ(store_->counts(now()).queue_depth["pool_eu"], 0u);
  EXPECT_EQ(store_->cancel(job.id, now()).kind, CancelOutcome::Kind::kFinished);
}

}  // namespace outpost::hub::testing
