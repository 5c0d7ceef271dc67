#pragma once

// JobStore conformance for retries and schedules (hub-v2.md §4): include
// after store_conformance.hpp and instantiate RetryScheduleConformance with
// the same factory as StoreConformance.

#include "store_conformance.hpp"

namespace outpost::hub::testing {

class RetryScheduleConformance : public StoreConformance {
 protected:
  FinishOutcome fail_for_retry(const JobRecord& job, SystemTime retry_at) {
    FinishRequest f;
    f.job_id = job.id;
    f.lease_token = job.lease->token;
    f.status = JobStatus::kFailed;
    f.error = Json{{"code", "timeout"}, {"message", "slow"}, {"retryable", true}};
    f.finished_at = now();
    f.now = now();
    f.retry_at = retry_at;
    return store_->finish(f);
  }

  NewSchedule schedule(SystemTime first, std::optional<std::string> cron = std::nullopt) {
    NewSchedule s;
    s.source_id = "src_1";
    s.type = "metadata";
    s.params = Json{{"schemas", {"public"}}};
    s.timeout_ms = 9000;
    if (cron) {
      s.cron = std::move(cron);
      s.timezone = "Europe/Paris";
    } else {
      s.every_ms = 60'000;
    }
    s.next_run_at = first;
    return s;
  }

  NewJob job_for(const ScheduleRecord& s) {
    NewJob j;
    j.type = s.type;
    j.pool_id = "pool_a";
    j.source_id = s.source_id;
    j.source = Json{{"id", s.source_id}};
    j.params = s.params;
    j.timeout_ms = s.timeout_ms;
    return j;
  }
};

TEST_P(RetryScheduleConformance, JobsKeepTheirRetryPolicy) {
  NewJob j;
  j.type = "query";
  j.source = Json{{"ref", "wh"}};
  j.max_attempts = 5;
  j.retry_backoff_ms = 250;
  auto created = store_->create_job(j, now());
  EXPECT_EQ(created.max_attempts, 5);
  EXPECT_EQ(created.retry_backoff_ms, 250);
  auto got = store_->get_job(created.id);
  EXPECT_EQ(got->max_attempts, 5);
  EXPECT_EQ(got->retry_backoff_ms, 250);
  EXPECT_FALSE(got->run_at);
}

TEST_P(RetryScheduleConformance, ARetriedAttemptWaitsForItsRunAt) {
  auto created = add_job();
  auto first = claim(1).at(0);
  const SystemTime retry_at = now() + std::chrono::seconds(2);
  auto out = fail_for_retry(first, retry_at);
  ASSERT_EQ(out.kind, FinishOutcome::Kind::kAccepted);
  ASSERT_TRUE(out.job);
  EXPECT_EQ(out.job->status, JobStatus::kScheduled);
  auto job = store_->get_job(created.id);
  EXPECT_EQ(job->status, JobStatus::kScheduled);
  EXPECT_EQ(job->run_at, retry_at);
  EXPECT_FALSE(job->finished_at);
  EXPECT_FALSE(job->lease);
  EXPECT_EQ(job->error->value("code", ""), "timeout");
  ASSERT_EQ(job->attempts.size(), 1u);
  EXPECT_EQ(job->attempts[0].status, "failed");
  EXPECT_EQ(job->attempts[0].error->value("code", ""), "timeout");
  EXPECT_EQ(store_->next_retry_at(now()), retry_at);
  EXPECT_TRUE(store_->retries_due(now(), now()).empty());
  EXPECT_TRUE(claim(1).empty());
  // The old lease is stale: its result is a conflict, and so is a repeat.
  EXPECT_EQ(finish(first).kind, FinishOutcome::Kind::kConflict);
  EXPECT_EQ(fail_for_retry(first, retry_at).kind, FinishOutcome::Kind::kConflict);
  const SystemTime before = now();
  advance(std::chrono::seconds(2));
  EXPECT_EQ(store_->retries_due(before, now()), std::vector<std::string>{"pool_default"});
  auto second = claim(1, "i-2");
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].attempt, 2);
  EXPECT_FALSE(second[0].run_at);
  ASSERT_EQ(finish(second[0]).kind, FinishOutcome::Kind::kAccepted);
  job = store_->get_job(created.id);
  EXPECT_EQ(job->status, JobStatus::kSucceeded);
  ASSERT_EQ(job->attempts.size(), 2u);
  EXPECT_EQ(job->attempts[1].status, "succeeded");
}

TEST_P(RetryScheduleConformance, ExpiriesCountAgainstTheJobsOwnMaxAttempts) {
  NewJob j;
  j.type = "query";
  j.source = Json{{"ref", "wh"}};
  j.max_attempts = 2;
  auto created = store_->create_job(j, now());
  auto first = claim(1).at(0);
  ASSERT_EQ(fail_for_retry(first, now()).kind, FinishOutcome::Kind::kAccepted);
  auto second = claim(1).at(0);
  EXPECT_EQ(second.attempt, 2);
  advance(std::chrono::seconds(10));
  // The hub-wide limit (5) does not apply: the job allows 2 attempts.
  auto ended = store_->expire_leases(now(), 5, 100);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].new_status, JobStatus::kFailed);
  EXPECT_EQ(store_->get_job(created.id)->error->value("code", ""), "agent_lost");
}

TEST_P(RetryScheduleConformance, CancellingAJobWaitingToRetryEndsIt) {
  auto created = add_job();
  ASSERT_EQ(fail_for_retry(claim(1).at(0), now() + std::chrono::seconds(5)).kind,
            FinishOutcome::Kind::kAccepted);
  EXPECT_EQ(store_->cancel(created.id, now()).kind, CancelOutcome::Kind::kCancelled);
  advance(std::chrono::seconds(5));
  EXPECT_TRUE(claim(1).empty());
  EXPECT_EQ(store_->get_job(created.id)->status, JobStatus::kCancelled);
}

TEST_P(RetryScheduleConformance, SchedulesRoundTripAndListInCreationOrder) {
  auto a = store_->create_schedule(schedule(now() + std::chrono::minutes(1)), now());
  auto b = store_->create_schedule(schedule(now() + std::chrono::hours(3), "0 3 * * *"), now());
  EXPECT_NE(a.id, b.id);
  auto all = store_->list_schedules();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id, a.id);
  EXPECT_EQ(all[0].every_ms, std::optional<std::int64_t>(60'000));
  EXPECT_FALSE(all[0].cron);
  EXPECT_EQ(all[0].params, (Json{{"schemas", {"public"}}}));
  EXPECT_EQ(all[0].timeout_ms, 9000);
  EXPECT_EQ(all[0].status, "active");
  EXPECT_EQ(all[0].next_run_at, now() + std::chrono::minutes(1));
  EXPECT_EQ(all[0].created_at, now());
  EXPECT_FALSE(all[0].last_job_id);
  EXPECT_EQ(all[1].cron, std::optional<std::string>("0 3 * * *"));
  EXPECT_EQ(all[1].timezone, "Europe/Paris");
  EXPECT_FALSE(all[1].every_ms);
  EXPECT_EQ(store_->next_schedule_at(), now() + std::chrono::minutes(1));
  EXPECT_TRUE(store_->delete_schedule(a.id));
  EXPECT_FALSE(store_->delete_schedule(a.id));
  EXPECT_EQ(store_->list_schedules().size(), 1u);
  EXPECT_EQ(store_->next_schedule_at(), now() + std::chrono::hours(3));
}

TEST_P(RetryScheduleConformance, FiringADueTimeCreatesExactlyOneJob) {
  const SystemTime due = now() + std::chrono::minutes(1);
  auto s = store_->create_schedule(schedule(due), now());
  EXPECT_TRUE(store_->due_schedules(now(), 10).empty());
  advance(std::chrono::minutes(1));
  auto due_now = store_->due_schedules(now(), 10);
  ASSERT_EQ(due_now.size(), 1u);
  EXPECT_EQ(due_now[0].id, s.id);
  const SystemTime next = due + std::chrono::minutes(1);
  auto job = store_->fire_schedule(s.id, due, next, job_for(s), now());
  ASSERT_TRUE(job);
  EXPECT_EQ(job->pool_id, "pool_a");
  EXPECT_EQ(job->source_id, std::optional<std::string>("src_1"));
  EXPECT_EQ(job->status, JobStatus::kScheduled);
  // A second hub that read the same due time creates nothing.
  EXPECT_FALSE(store_->fire_schedule(s.id, due, next, job_for(s), now()));
  auto after = store_->list_schedules().at(0);
  EXPECT_EQ(after.next_run_at, next);
  EXPECT_EQ(after.last_job_id, std::optional<std::string>(job->id));
  EXPECT_TRUE(store_->due_schedules(now(), 10).empty());
  EXPECT_EQ(claim(5, "i-1", "pool_a").size(), 1u);
  EXPECT_FALSE(store_->fire_schedule("sch_404", due, next, job_for(s), now()));
}

TEST_P(RetryScheduleConformance, ConcurrentFiringOfOneDueTimeMakesOneJob) {
  const SystemTime due = now();
  auto s = store_->create_schedule(schedule(due), now());
  std::atomic<int> fired{0};
  std::vector<std::thread> hubs;
  for (int i = 0; i < 4; ++i) {
    hubs.emplace_back([&] {
      if (store_->fire_schedule(s.id, due, due + std::chrono::minutes(1), job_for(s), now())) {
        ++fired;
      }
    });
  }
  for (auto& t : hubs) t.join();
  EXPECT_EQ(fired.load(), 1);
  EXPECT_EQ(store_->list_jobs({}, 10, std::nullopt).jobs.size(), 1u);
}

TEST_P(RetryScheduleConformance, CancellingASourcesSchedulesStopsThem) {
  auto a = store_->create_schedule(schedule(now()), now());
  auto other = schedule(now());
  other.source_id = "src_2";
  auto b = store_->create_schedule(other, now());
  EXPECT_EQ(store_->cancel_schedules_for_source("src_1"), 1u);
  EXPECT_EQ(store_->cancel_schedules_for_source("src_1"), 0u);
  auto all = store_->list_schedules();
  EXPECT_EQ(all[0].status, "cancelled");
  EXPECT_FALSE(all[0].next_run_at);
  EXPECT_EQ(all[1].status, "active");
  auto due = store_->due_schedules(now(), 10);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].id, b.id);
  EXPECT_FALSE(store_->fire_schedule(a.id, now(), now(), job_for(all[0]), now()));
}

}  // namespace outpost::hub::testing
