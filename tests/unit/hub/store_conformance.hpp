#pragma once

// The JobStore conformance suite: every store implementation must pass it.
// Include this header in exactly one .cpp of a test binary and instantiate:
//
//   INSTANTIATE_TEST_SUITE_P(Memory, StoreConformance,
//       ::testing::Values(StoreFactory{"memory", [] { return std::make_unique<MemoryStore>(); }}),
//       store_name);
//
// `make` must return an empty store each time. Times are whole milliseconds
// (what the hub's clocks produce), so stores keeping microseconds compare equal.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "clock.hpp"
#include "store/job_store.hpp"
#include "util.hpp"

namespace outpost::hub::testing {

struct StoreFactory {
  std::string name;
  std::function<std::unique_ptr<JobStore>()> make;
};

/// Prints a store parameter as its name (GoogleTest otherwise dumps its bytes
/// into every test's listed name).
inline void PrintTo(const StoreFactory& f, std::ostream* os) {
  *os << f.name;
}

/// Names instances after StoreFactory::name (pass as the last argument of
/// INSTANTIATE_TEST_SUITE_P).
inline std::string store_name(const ::testing::TestParamInfo<StoreFactory>& param) {
  return param.param.name;
}

class StoreConformance : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override {
    store_ = GetParam().make();
    ASSERT_TRUE(store_ != nullptr);
  }

  SystemTime now() const { return clock_.now(); }
  void advance(std::chrono::milliseconds d) { clock_.advance(d); }

  JobRecord add_job(const std::string& pool = std::string(kDefaultPool),
                    std::optional<std::string> source_id = std::nullopt) {
    NewJob j;
    j.type = "query";
    j.pool_id = pool;
    j.source_id = std::move(source_id);
    j.source = Json{{"ref", "warehouse"}};
    j.params = Json{{"sql", "select 1"}};
    j.timeout_ms = 5000;
    return store_->create_job(j, now());
  }

  std::vector<JobRecord> claim(int n, const std::string& instance = "i-1",
                               const std::string& pool = std::string(kDefaultPool),
                               std::chrono::milliseconds ttl = std::chrono::seconds(10)) {
    return store_->claim({pool, instance, n, ttl, now()});
  }

  FinishOutcome finish(const JobRecord& job, std::uint64_t parts = 0,
                       JobStatus status = JobStatus::kSucceeded) {
    FinishRequest f;
    f.job_id = job.id;
    f.lease_token = job.lease->token;
    f.status = status;
    f.result = Json{{"row_count", 1}};
    if (status == JobStatus::kFailed) f.error = Json{{"code", "query_failed"}};
    f.parts = parts;
    f.finished_at = now();
    f.now = now();
    return store_->finish(f);
  }

  std::vector<std::string> rows(const std::string& id, std::uint64_t offset, std::uint64_t limit) {
    std::vector<std::string> out;
    auto n = store_->read_rows(id, offset, limit, [&](std::string_view line) {
      out.emplace_back(line);
      return true;
    });
    EXPECT_TRUE(n.has_value());
    if (n) {
      EXPECT_EQ(*n, out.size());
    }
    return out;
  }

  ManualClock clock_{SystemTime(std::chrono::milliseconds(1'800'000'000'000))};
  std::unique_ptr<JobStore> store_;
};

TEST_P(StoreConformance, CreatedJobsReadBackScheduledInCreationOrder) {
  auto a = add_job();
  advance(std::chrono::milliseconds(5));
  auto b = add_job("pool_b", "src_9");
  EXPECT_NE(a.id, b.id);
  EXPECT_LT(a.seq, b.seq);
  auto got = store_->get_job(b.id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, JobStatus::kScheduled);
  EXPECT_EQ(got->pool_id, "pool_b");
  EXPECT_EQ(got->source_id, std::optional<std::string>("src_9"));
  EXPECT_EQ(got->source, (Json{{"ref", "warehouse"}}));
  EXPECT_EQ(got->params, (Json{{"sql", "select 1"}}));
  EXPECT_EQ(got->timeout_ms, 5000);
  EXPECT_EQ(got->created_at, now());
  EXPECT_EQ(got->attempt, 0);
  EXPECT_FALSE(got->lease);
  EXPECT_FALSE(store_->get_job("job_does_not_exist"));
}

TEST_P(StoreConformance, ClaimLeasesOldestFirstAndEachJobOnce) {
  auto a = add_job();
  auto b = add_job();
  auto c = add_job();
  auto first = claim(2);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].id, a.id);
  EXPECT_EQ(first[1].id, b.id);
  for (const auto& j : first) {
    EXPECT_EQ(j.status, JobStatus::kRunning);
    EXPECT_EQ(j.attempt, 1);
    ASSERT_TRUE(j.lease);
    EXPECT_EQ(j.lease->expires_at, now() + std::chrono::seconds(10));
    EXPECT_EQ(j.lease->instance_id, "i-1");
    ASSERT_EQ(j.attempts.size(), 1u);
    EXPECT_EQ(j.attempts[0].status, "running");
  }
  EXPECT_NE(first[0].lease->token, first[1].lease->token);
  auto second = claim(5, "i-2");
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].id, c.id);
  EXPECT_TRUE(claim(5).empty());
  EXPECT_EQ(store_->next_lease_expiry(), now() + std::chrono::seconds(10));
}

TEST_P(StoreConformance, ClaimHandsOutOnlyJobsOfTheClaimantsPool) {
  add_job("pool_a");
  auto b = add_job("pool_b");
  auto got = claim(10, "i-1", "pool_b");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].id, b.id);
  EXPECT_TRUE(claim(10, "i-1", "pool_c").empty());
}

TEST_P(StoreConformance, RenewExtendsTheLeaseAndKeepsProgress) {
  add_job();
  auto job = claim(1).at(0);
  advance(std::chrono::seconds(4));
  auto r =
      store_->renew(job.id, job.lease->token, std::chrono::seconds(10), now(), Json{{"rows", 7}});
  ASSERT_EQ(r.kind, RenewOutcome::Kind::kRenewed);
  EXPECT_EQ(r.lease->token, job.lease->token);
  EXPECT_EQ(r.lease->expires_at, now() + std::chrono::seconds(10));
  EXPECT_EQ(store_->get_job(job.id)->progress, (Json{{"rows", 7}}));
  EXPECT_EQ(store_->renew(job.id, "l_wrong", std::chrono::seconds(10), now(), {}).kind,
            RenewOutcome::Kind::kConflict);
  EXPECT_EQ(store_->renew("job_nope", "l_x", std::chrono::seconds(10), now(), {}).kind,
            RenewOutcome::Kind::kNotFound);
  // The renewed lease does not expire at the old time.
  advance(std::chrono::seconds(7));
  EXPECT_TRUE(store_->expire_leases(now(), 3, 100).empty());
}

TEST_P(StoreConformance, ExpiredLeasesRequeueThenFailAsAgentLost) {
  add_job();
  auto first = claim(1).at(0);
  advance(std::chrono::seconds(9));
  EXPECT_TRUE(store_->expire_leases(now(), 2, 100).empty());
  advance(std::chrono::seconds(1));
  auto ended = store_->expire_leases(now(), 2, 100);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].job_id, first.id);
  EXPECT_EQ(ended[0].new_status, JobStatus::kScheduled);
  EXPECT_EQ(ended[0].instance_id, "i-1");
  EXPECT_FALSE(store_->next_lease_expiry());
  auto second = claim(1, "i-2").at(0);
  EXPECT_EQ(second.attempt, 2);
  EXPECT_NE(second.lease->token, first.lease->token);
  advance(std::chrono::seconds(10));
  ended = store_->expire_leases(now(), 2, 100);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].new_status, JobStatus::kFailed);
  auto job = store_->get_job(first.id);
  EXPECT_EQ(job->status, JobStatus::kFailed);
  EXPECT_EQ(job->error->value("code", ""), "agent_lost");
  EXPECT_EQ(job->finished_at, now());
  ASSERT_EQ(job->attempts.size(), 2u);
  EXPECT_EQ(job->attempts[0].status, "expired");
  EXPECT_TRUE(claim(1).empty());
}

TEST_P(StoreConformance, ExpireLeasesHonoursTheBatchSize) {
  for (int i = 0; i < 5; ++i) add_job();
  ASSERT_EQ(claim(5).size(), 5u);
  advance(std::chrono::seconds(11));
  EXPECT_EQ(store_->expire_leases(now(), 3, 2).size(), 2u);
  EXPECT_EQ(store_->expire_leases(now(), 3, 2).size(), 2u);
  EXPECT_EQ(store_->expire_leases(now(), 3, 2).size(), 1u);
  EXPECT_TRUE(store_->expire_leases(now(), 3, 2).empty());
  EXPECT_EQ(claim(10).size(), 5u);
}

TEST_P(StoreConformance, AnOldLeaseIsFencedOffWithConflict) {
  add_job();
  auto old_lease = claim(1).at(0);
  advance(std::chrono::seconds(11));
  store_->expire_leases(now(), 3, 100);
  auto current = claim(1, "i-2").at(0);
  EXPECT_EQ(store_->put_part(old_lease.id, old_lease.lease->token, 0, "{\"a\":1}\n").kind,
            PartOutcome::Kind::kConflict);
  EXPECT_EQ(finish(old_lease).kind, FinishOutcome::Kind::kConflict);
  EXPECT_EQ(store_->release(old_lease.id, old_lease.lease->token, now()).kind,
            ReleaseOutcome::Kind::kConflict);
  EXPECT_EQ(finish(current).kind, FinishOutcome::Kind::kAccepted);
  // Finished by the current lease: the old one still conflicts.
  EXPECT_EQ(finish(old_lease).kind, FinishOutcome::Kind::kConflict);
  EXPECT_EQ(store_->get_job(current.id)->status, JobStatus::kSucceeded);
}

TEST_P(StoreConformance, PartsAndResultsAreIdempotentPerLease) {
  add_job();
  auto job = claim(1).at(0);
  const auto& token = job.lease->token;
  EXPECT_EQ(store_->put_part(job.id, token, 0, "{\"n\":1}\n").kind, PartOutcome::Kind::kAccepted);
  EXPECT_EQ(store_->put_part(job.id, token, 0, "{\"n\":1}\n").kind, PartOutcome::Kind::kAccepted);
  auto missing = finish(job, 2);
  EXPECT_EQ(missing.kind, FinishOutcome::Kind::kMissingPart);
  EXPECT_EQ(missing.missing_part, 1u);
  EXPECT_EQ(store_->get_job(job.id)->status, JobStatus::kRunning);
  EXPECT_EQ(store_->put_part(job.id, token, 1, "{\"n\":2}\n").kind, PartOutcome::Kind::kAccepted);
  auto done = finish(job, 2);
  ASSERT_EQ(done.kind, FinishOutcome::Kind::kAccepted);
  ASSERT_TRUE(done.job);
  EXPECT_EQ(done.job->part_count, 2u);
  EXPECT_FALSE(done.job->lease);
  EXPECT_EQ(finish(job, 2).kind, FinishOutcome::Kind::kDuplicate);
  EXPECT_EQ(store_->put_part(job.id, token, 1, "{\"n\":2}\n").kind, PartOutcome::Kind::kDuplicate);
  EXPECT_EQ(store_->put_part(job.id, "l_other", 1, "{}\n").kind, PartOutcome::Kind::kConflict);
  EXPECT_EQ(rows(job.id, 0, 10), (std::vector<std::string>{"{\"n\":1}", "{\"n\":2}"}));
  auto stored = store_->get_job(job.id);
  EXPECT_EQ(stored->result, (Json{{"row_count", 1}}));
  EXPECT_EQ(stored->finished_at, now());
  ASSERT_EQ(stored->attempts.size(), 1u);
  EXPECT_EQ(stored->attempts[0].status, "succeeded");
}

TEST_P(StoreConformance, TheAgentsTimesAreHeldInsideTheLease) {
  using std::chrono::hours;
  using std::chrono::milliseconds;
  const auto claim_time = [&] {
    add_job();
    return now();
  };
  // A clock far behind and far ahead: started at the claim, finished now.
  auto t0 = claim_time();
  auto job = claim(1).at(0);
  advance(milliseconds(40));
  FinishRequest f;
  f.job_id = job.id;
  f.lease_token = job.lease->token;
  f.status = JobStatus::kSucceeded;
  f.started_at = t0 - hours(1);
  f.finished_at = now() + hours(1);
  f.now = now();
  ASSERT_EQ(store_->finish(f).kind, FinishOutcome::Kind::kAccepted);
  auto stored = store_->get_job(job.id);
  EXPECT_EQ(stored->started_at, t0);
  EXPECT_EQ(stored->finished_at, now());
  EXPECT_EQ(stored->attempts.at(0).finished_at, now());
  // Times inside the lease are kept; a finish before the start is the start.
  t0 = claim_time();
  job = claim(1).at(0);
  advance(milliseconds(40));
  f.job_id = job.id;
  f.lease_token = job.lease->token;
  f.started_at = t0 + milliseconds(10);
  f.finished_at = t0 + milliseconds(5);
  f.now = now();
  ASSERT_EQ(store_->finish(f).kind, FinishOutcome::Kind::kAccepted);
  stored = store_->get_job(job.id);
  EXPECT_EQ(stored->started_at, t0 + milliseconds(10));
  EXPECT_EQ(stored->finished_at, t0 + milliseconds(10));
  // No times reported: the claim and now.
  t0 = claim_time();
  job = claim(1).at(0);
  advance(milliseconds(40));
  f.job_id = job.id;
  f.lease_token = job.lease->token;
  f.started_at.reset();
  f.finished_at.reset();
  f.now = now();
  ASSERT_EQ(store_->finish(f).kind, FinishOutcome::Kind::kAccepted);
  stored = store_->get_job(job.id);
  EXPECT_EQ(stored->started_at, t0);
  EXPECT_EQ(stored->finished_at, now());
}

TEST_P(StoreConformance, AFailedResultKeepsItsError) {
  add_job();
  auto job = claim(1).at(0);
  ASSERT_EQ(finish(job, 0, JobStatus::kFailed).kind, FinishOutcome::Kind::kAccepted);
  auto stored = store_->get_job(job.id);
  EXPECT_EQ(stored->status, JobStatus::kFailed);
  EXPECT_EQ(stored->error->value("code", ""), "query_failed");
}

TEST_P(StoreConformance, ReadRowsServesAnyWindowAcrossParts) {
  add_job();
  auto job = claim(1).at(0);
  const auto& token = job.lease->token;
  store_->put_part(job.id, token, 1, "3\n4\n5\n");
  store_->put_part(job.id, token, 0, "0\n1\n2\n");
  store_->put_part(job.id, token, 2, "6\n");
  store_->put_part(job.id, token, 3, "99\n");  // beyond the announced count: dropped
  ASSERT_EQ(finish(job, 3).kind, FinishOutcome::Kind::kAccepted);
  EXPECT_EQ(rows(job.id, 0, 100), (std::vector<std::string>{"0", "1", "2", "3", "4", "5", "6"}));
  EXPECT_EQ(rows(job.id, 2, 3), (std::vector<std::string>{"2", "3", "4"}));
  EXPECT_EQ(rows(job.id, 6, 3), (std::vector<std::string>{"6"}));
  EXPECT_TRUE(rows(job.id, 7, 3).empty());
  EXPECT_TRUE(rows(job.id, 1, 0).empty());
  EXPECT_FALSE(store_->read_rows("job_nope", 0, 1, [](std::string_view) { return true; }));
  // A sink that stops early stops the read.
  int seen = 0;
  store_->read_rows(job.id, 0, 100, [&](std::string_view) { return ++seen < 4; });
  EXPECT_EQ(seen, 4);
  std::vector<std::uint64_t> seqs;
  EXPECT_TRUE(store_->read_parts(job.id, [&](std::uint64_t seq, std::string_view) {
    seqs.push_back(seq);
    return true;
  }));
  EXPECT_EQ(seqs, (std::vector<std::uint64_t>{0, 1, 2}));
}

TEST_P(StoreConformance, AReclaimedJobStartsWithoutTheEarlierAttemptsParts) {
  add_job();
  auto first = claim(1).at(0);
  store_->put_part(first.id, first.lease->token, 0, "\"old\"\n");
  advance(std::chrono::seconds(11));
  store_->expire_leases(now(), 3, 100);
  auto second = claim(1).at(0);
  store_->put_part(second.id, second.lease->token, 0, "\"new\"\n");
  ASSERT_EQ(finish(second, 1).kind, FinishOutcome::Kind::kAccepted);
  EXPECT_EQ(rows(second.id, 0, 10), (std::vector<std::string>{"\"new\""}));
}

TEST_P(StoreConformance, ReleaseRequeuesWithoutCountingAnAttempt) {
  add_job();
  auto job = claim(1).at(0);
  EXPECT_EQ(store_->release(job.id, "l_wrong", now()).kind, ReleaseOutcome::Kind::kConflict);
  EXPECT_EQ(store_->release(job.id, job.lease->token, now()).kind, ReleaseOutcome::Kind::kReleased);
  auto stored = store_->get_job(job.id);
  EXPECT_EQ(stored->status, JobStatus::kScheduled);
  EXPECT_EQ(stored->attempt, 0);
  EXPECT_FALSE(stored->lease);
  auto again = claim(1).at(0);
  EXPECT_EQ(again.attempt, 1);
  EXPECT_EQ(store_->release("job_nope", "l_x", now()).kind, ReleaseOutcome::Kind::kNotFound);
}

TEST_P(StoreConformance, CancelEndsScheduledJobsAndTellsTheLeaseHolder) {
  auto scheduled = add_job();
  auto running_spec = add_job();
  (void)running_spec;
  auto out = store_->cancel(scheduled.id, now());
  EXPECT_EQ(out.kind, CancelOutcome::Kind::kCancelled);
  auto running = claim(5);
  ASSERT_EQ(running.size(), 1u);  // the cancelled job is not handed out
  const auto& job = running[0];
  EXPECT_EQ(store_->cancel(job.id, now()).kind, CancelOutcome::Kind::kCancelled);
  EXPECT_EQ(store_->cancel(job.id, now()).kind, CancelOutcome::Kind::kCancelled);  // idempotent
  auto r = store_->renew(job.id, job.lease->token, std::chrono::seconds(10), now(), {});
  EXPECT_EQ(r.kind, RenewOutcome::Kind::kCancelRequested);
  EXPECT_EQ(store_->renew(job.id, "l_other", std::chrono::seconds(10), now(), {}).kind,
            RenewOutcome::Kind::kGone);
  EXPECT_EQ(store_->put_part(job.id, job.lease->token, 0, "1\n").kind, PartOutcome::Kind::kGone);
  EXPECT_EQ(finish(job).kind, FinishOutcome::Kind::kGone);
  EXPECT_EQ(store_->release(job.id, job.lease->token, now()).kind, ReleaseOutcome::Kind::kGone);
  auto stored = store_->get_job(job.id);
  EXPECT_EQ(stored->status, JobStatus::kCancelled);
  EXPECT_EQ(stored->error->value("code", ""), "cancelled");
  EXPECT_EQ(stored->finished_at, now());
  // The lease of a cancelled job just ends.
  advance(std::chrono::seconds(11));
  auto ended = store_->expire_leases(now(), 3, 100);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].new_status, JobStatus::kCancelled);
  EXPECT_EQ(store_->renew(job.id, job.lease->token, std::chrono::seconds(10), now(), {}).kind,
            RenewOutcome::Kind::kGone);
  EXPECT_EQ(store_->cancel("job_nope", now()).kind, CancelOutcome::Kind::kNotFound);
}

TEST_P(StoreConformance, CancelRefusesAFinishedJob) {
  add_job();
  auto job = claim(1).at(0);
  finish(job);
  auto out = store_->cancel(job.id, now());
  EXPECT_EQ(out.kind, CancelOutcome::Kind::kFinished);
  EXPECT_EQ(out.status, JobStatus::kSucceeded);
}

TEST_P(StoreConformance, RetentionDeletesOldFinishedJobsInBatches) {
  for (int i = 0; i < 5; ++i) add_job();
  auto old_jobs = claim(5);
  for (auto& job : old_jobs) {
    store_->put_part(job.id, job.lease->token, 0, "1\n");
    finish(job, 1);
  }
  const auto finished_at = now();
  auto keep_running = add_job();
  advance(std::chrono::hours(2));
  add_job();
  auto fresh = claim(2);  // keep_running and the new one
  ASSERT_EQ(fresh.size(), 2u);
  finish(fresh[1]);  // finished now: too young to delete
  const auto cutoff = finished_at + std::chrono::hours(1);
  EXPECT_EQ(store_->purge_finished_before(cutoff, 2), 2u);
  EXPECT_EQ(store_->purge_finished_before(cutoff, 2), 2u);
  EXPECT_EQ(store_->purge_finished_before(cutoff, 2), 1u);
  EXPECT_EQ(store_->purge_finished_before(cutoff, 2), 0u);
  EXPECT_TRUE(store_->get_job(keep_running.id));
  EXPECT_TRUE(store_->get_job(fresh[1].id));
  EXPECT_EQ(store_->list_jobs({}, 100, std::nullopt).jobs.size(), 2u);
  for (const auto& job : old_jobs) {
    EXPECT_FALSE(store_->get_job(job.id));
    EXPECT_FALSE(store_->read_rows(job.id, 0, 1, [](std::string_view) { return true; }));
  }
}

TEST_P(StoreConformance, ListJobsPagesNewestFirstWithFilters) {
  std::vector<JobRecord> jobs;
  for (int i = 0; i < 7; ++i) {
    jobs.push_back(add_job(i % 2 ? "pool_odd" : std::string(kDefaultPool),
                           i < 3 ? std::optional<std::string>("src_1") : std::nullopt));
  }
  auto p1 = store_->list_jobs({}, 3, std::nullopt);
  ASSERT_EQ(p1.jobs.size(), 3u);
  EXPECT_TRUE(p1.more);
  EXPECT_EQ(p1.jobs[0].id, jobs[6].id);
  EXPECT_EQ(p1.jobs[2].id, jobs[4].id);
  auto p2 = store_->list_jobs({}, 3, p1.jobs.back().seq);
  ASSERT_EQ(p2.jobs.size(), 3u);
  EXPECT_EQ(p2.jobs[0].id, jobs[3].id);
  auto p3 = store_->list_jobs({}, 3, p2.jobs.back().seq);
  ASSERT_EQ(p3.jobs.size(), 1u);
  EXPECT_EQ(p3.jobs[0].id, jobs[0].id);
  EXPECT_FALSE(p3.more);
  auto exact = store_->list_jobs({}, 7, std::nullopt);
  EXPECT_EQ(exact.jobs.size(), 7u);
  EXPECT_FALSE(exact.more);

  JobFilter by_pool;
  by_pool.pool_id = "pool_odd";
  auto odd = store_->list_jobs(by_pool, 100, std::nullopt);
  ASSERT_EQ(odd.jobs.size(), 3u);
  EXPECT_EQ(odd.jobs[0].id, jobs[5].id);
  JobFilter by_source;
  by_source.source_id = "src_1";
  EXPECT_EQ(store_->list_jobs(by_source, 100, std::nullopt).jobs.size(), 3u);
  claim(1);  // jobs[0] runs
  JobFilter by_status;
  by_status.status = JobStatus::kRunning;
  auto running = store_->list_jobs(by_status, 100, std::nullopt);
  ASSERT_EQ(running.jobs.size(), 1u);
  EXPECT_EQ(running.jobs[0].id, jobs[0].id);
}

TEST_P(StoreConformance, TokensAreFoundByHashRevokedAndTouched) {
  const std::string hash = sha256("opt_secret");
  auto t = store_->create_token({"prod", "pool_eu", hash}, now());
  EXPECT_FALSE(t.id.empty());
  EXPECT_EQ(t.pool_id, "pool_eu");
  auto found = store_->find_token_by_hash(hash);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->id, t.id);
  EXPECT_EQ(found->name, "prod");
  EXPECT_EQ(found->hash, hash);
  EXPECT_FALSE(found->revoked);
  EXPECT_FALSE(found->last_used_at);
  EXPECT_FALSE(store_->find_token_by_hash(sha256("other")));
  advance(std::chrono::seconds(3));
  store_->touch_token(t.id, now());
  EXPECT_EQ(store_->find_token_by_hash(hash)->last_used_at, now());
  EXPECT_TRUE(store_->revoke_token(t.id));
  EXPECT_TRUE(store_->revoke_token(t.id));
  EXPECT_TRUE(store_->find_token_by_hash(hash)->revoked);
  EXPECT_FALSE(store_->revoke_token("tok_nope"));
  auto second = store_->create_token({"dev", std::string(kDefaultPool), sha256("x")}, now());
  auto all = store_->list_tokens();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id, t.id);
  EXPECT_EQ(all[1].id, second.id);
}

TEST_P(StoreConformance, SourcesAndInstancesRoundTrip) {
  auto s = store_->create_source({"warehouse", "postgres", "pool_eu", Json{{"host", "db"}}}, now());
  auto got = store_->get_source(s.id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->name, "warehouse");
  EXPECT_EQ(got->pool_id, "pool_eu");
  EXPECT_EQ(got->config, (Json{{"host", "db"}}));
  EXPECT_FALSE(store_->get_source("src_nope"));
  EXPECT_EQ(store_->list_sources().size(), 1u);

  InstanceUpdate u;
  u.instance_id = "i-1";
  u.token_id = "tok_1";
  u.version = "1.2.3";
  u.capacity = 4;
  u.connectors = Json::array({"postgres"});
  auto first_seen = now();
  store_->upsert_instance(u, now());
  advance(std::chrono::seconds(5));
  InstanceUpdate beat;
  beat.instance_id = "i-1";
  beat.token_id = "tok_1";
  beat.reported_running = 2;
  auto inst = store_->upsert_instance(beat, now());
  EXPECT_EQ(inst.version, "1.2.3");  // kept: not in this update
  EXPECT_EQ(inst.capacity, 4);
  EXPECT_EQ(inst.reported_running, 2);
  EXPECT_EQ(inst.first_seen, first_seen);
  EXPECT_EQ(inst.last_seen, now());
  add_job();
  claim(1, "i-1");
  auto list = store_->list_instances();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].leased, 1);
  EXPECT_EQ(list[0].connectors, Json::array({"postgres"}));
  EXPECT_EQ(store_->purge_instances_before(now()), 0u);
  EXPECT_EQ(store_->purge_instances_before(now() + std::chrono::milliseconds(1)), 1u);
  EXPECT_TRUE(store_->list_instances().empty());
}

TEST_P(StoreConformance, CountsGiveQueueDepthJobsAndAgentsOnline) {
  add_job();
  add_job();
  add_job("pool_b");
  claim(1);
  InstanceUpdate u;
  u.instance_id = "i-old";
  u.token_id = "tok_1";
  store_->upsert_instance(u, now());
  advance(std::chrono::minutes(5));
  u.instance_id = "i-new";
  u.pool_id = "pool_b";
  store_->upsert_instance(u, now());
  auto c = store_->counts(now() - std::chrono::minutes(1));
  EXPECT_EQ(c.queue_depth[std::string(kDefaultPool)], 1u);
  EXPECT_EQ(c.queue_depth["pool_b"], 1u);
  EXPECT_EQ(c.jobs_by_status["scheduled"], 2u);
  EXPECT_EQ(c.jobs_by_status["running"], 1u);
  EXPECT_EQ(c.jobs_by_status["succeeded"], 0u);
  EXPECT_EQ(c.agents_online["pool_b"], 1u);
  EXPECT_EQ(c.agents_online[std::string(kDefaultPool)], 0u);
}

TEST_P(StoreConformance, WakeUpsNameThePoolOnCreateReleaseAndExpiry) {
  std::mutex mu;
  std::condition_variable cv;
  std::multiset<std::string> pools;
  store_->on_jobs_available([&](const std::string& pool) {
    std::lock_guard lock(mu);
    pools.insert(pool);
    cv.notify_all();
  });
  auto wait_for = [&](const std::string& pool, std::size_t n) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(10), [&] { return pools.count(pool) >= n; });
  };
  add_job("pool_w");
  EXPECT_TRUE(wait_for("pool_w", 1));
  auto job = claim(1, "i-1", "pool_w").at(0);
  store_->release(job.id, job.lease->token, now());
  EXPECT_TRUE(wait_for("pool_w", 2));
  claim(1, "i-1", "pool_w");
  advance(std::chrono::seconds(11));
  store_->expire_leases(now(), 3, 100);
  EXPECT_TRUE(wait_for("pool_w", 3));
  store_->on_jobs_available({});
}

TEST_P(StoreConformance, ConcurrentClaimsHandOutEveryJobExactlyOnce) {
  constexpr int kJobs = 200;
  for (int i = 0; i < kJobs; ++i) add_job();
  std::mutex mu;
  std::vector<std::string> got;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (;;) {
        auto jobs = claim(3, "i-" + std::to_string(t));
        if (jobs.empty()) return;
        std::lock_guard lock(mu);
        for (auto& j : jobs) got.push_back(j.id);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<std::string> unique(got.begin(), got.end());
  EXPECT_EQ(got.size(), static_cast<std::size_t>(kJobs));
  EXPECT_EQ(unique.size(), static_cast<std::size_t>(kJobs));
}

TEST_P(StoreConformance, PingSucceedsOnAReachableStore) {
  EXPECT_NO_THROW(store_->ping());
}

}  // namespace outpost::hub::testing
