// HubService: schedules (hub-v2.md §4) — the admin calls and the scheduler
// pass that fires due schedules and wakes waiting claims when a retry's
// delay ends.
#include <algorithm>

#include <boost/asio/post.hpp>

#include "cron.hpp"
#include "service.hpp"
#include "service_timers.hpp"
#include "util.hpp"
#include "views.hpp"

namespace outpost::hub {

namespace asio = boost::asio;

namespace {

using K = Answer::Kind;

constexpr std::size_t kFireBatch = 100;

/// The due time after `now` of an every_ms schedule last due at `due`: the
/// next point of its grid, so a hub down for many periods fires once, not
/// once per missed period, and the schedule keeps its phase.
SystemTime next_every(SystemTime due, std::chrono::milliseconds every, SystemTime now) {
  if (due > now) return due;
  const auto missed = (now - due) / every;  // whole periods elapsed since `due`
  return due + (missed + 1) * every;
}

}  // namespace

Answer HubService::create_schedule(const Json& body) {
  NewSchedule s;
  s.source_id = req_string(body, "source_id");
  s.type = req_string(body, "type");
  s.params = opt_object(body, "params").value_or(Json::object());
  s.timeout_ms = opt_int(body, "timeout_ms", 1, 24LL * 3600 * 1000).value_or(60'000);
  s.every_ms = opt_int(body, "every_ms", options_.min_every.count(), 366LL * 24 * 3600 * 1000);
  s.cron = opt_string(body, "cron");
  s.timezone = opt_string(body, "timezone").value_or("UTC");
  if (s.every_ms.has_value() == s.cron.has_value()) {
    throw BadRequest{"invalid_field", "give exactly one of 'every_ms' (milliseconds, at least " +
                                          std::to_string(options_.min_every.count()) +
                                          ") or 'cron' (5 fields, e.g. \"0 3 * * *\")"};
  }
  if (!store_->get_source(s.source_id)) {
    throw BadRequest{"invalid_field", "field 'source_id': no source with id '" + s.source_id + "'"};
  }
  const SystemTime now = clock_->now();
  if (s.every_ms) {
    if (!known_timezone(s.timezone)) {
      throw BadRequest{"invalid_field", "field 'timezone': '" + s.timezone +
                                            "' is not a time zone of the tz database"};
    }
    s.next_run_at = now + std::chrono::milliseconds(*s.every_ms);
  } else {
    std::optional<SystemTime> first;
    try {
      first = CronSchedule(*s.cron, s.timezone).next_after(now);
    } catch (const CronError& e) {
      throw BadRequest{"invalid_field", std::string("field ") + e.what()};
    }
    if (!first) {
      throw BadRequest{"invalid_field", "field 'cron': '" + *s.cron + "' matches no date"};
    }
    s.next_run_at = *first;
  }
  // The jobs it creates are checked now, not at the first due time.
  Json job_body{{"type", s.type},
                {"source_id", s.source_id},
                {"params", s.params},
                {"timeout_ms", s.timeout_ms}};
  if (auto built = new_job(job_body); std::holds_alternative<Answer>(built)) {
    return std::get<Answer>(built);
  }
  const auto rec = store_->create_schedule(s, now);
  log_.info("schedule created", {{"schedule_id", rec.id},
                                 {"source_id", rec.source_id},
                                 {"next_run_at", rfc3339(*rec.next_run_at)}});
  arm_scheduler(rec.next_run_at);
  return Answer::of(K::kCreated, Json{{"id", rec.id}});
}

Answer HubService::list_schedules() {
  Json out = Json::array();
  for (const auto& s : store_->list_schedules()) out.push_back(schedule_view(s));
  return Answer::ok(std::move(out));
}

Answer HubService::delete_schedule(const std::string& id) {
  if (!store_->delete_schedule(id)) {
    return Answer::error(K::kNotFound, "schedule_not_found", "no schedule with id '" + id + "'");
  }
  log_.info("schedule deleted", {{"schedule_id", id}});
  return Answer::of(K::kNoContent, nullptr);
}

bool HubService::fire(const ScheduleRecord& s, SystemTime now) {
  SystemTime next = now + std::chrono::hours(24 * 366);
  if (s.every_ms) {
    next = next_every(*s.next_run_at, std::chrono::milliseconds(*s.every_ms), now);
  } else {
    try {
      // From now, not from the missed due time: one job after an outage.
      if (auto n = CronSchedule(*s.cron, s.timezone).next_after(now)) next = *n;
    } catch (const CronError& e) {
      log_.error("schedule cannot be read; it is checked again in a year",
                 {{"schedule_id", s.id}, {"error", e.what()}});
    }
  }
  Json body{{"type", s.type},
            {"source_id", s.source_id},
            {"params", s.params},
            {"timeout_ms", s.timeout_ms}};
  std::variant<NewJob, Answer> built;
  try {
    built = new_job(body);
  } catch (const BadRequest& e) {
    built = Answer::error(K::kBadRequest, e.code, e.message);
  }
  if (auto* error = std::get_if<Answer>(&built)) {
    // Its source is gone (deleted between two passes): the schedule ends.
    store_->cancel_schedules_for_source(s.source_id);
    log_.warn("schedule cancelled: its job cannot be created",
              {{"schedule_id", s.id}, {"error", error->body.dump()}});
    return false;
  }
  auto job = store_->fire_schedule(s.id, *s.next_run_at, next, std::get<NewJob>(built), now);
  if (!job) return false;  // another hub fired this due time
  log_.info("schedule fired", {{"schedule_id", s.id},
                               {"job_id", job->id},
                               {"due", rfc3339(*s.next_run_at)},
                               {"next_run_at", rfc3339(next)}});
  return true;
}

std::size_t HubService::run_scheduler() {
  const SystemTime now = clock_->now();
  std::optional<SystemTime> after;
  {
    std::lock_guard lock(mu_);
    after = retries_checked_;
    retries_checked_ = now;
  }
  // On the first pass, retries that came due while no hub ran are claimable
  // already; waking every pool with one costs one look-up.
  for (const auto& pool : store_->retries_due(after.value_or(SystemTime{}), now)) {
    on_wakeup(pool);
  }
  std::size_t fired = 0;
  for (const auto& s : store_->due_schedules(now, kFireBatch)) fired += fire(s, now) ? 1 : 0;
  return fired;
}

void HubService::arm_scheduler(std::optional<SystemTime> due) {
  const SystemTime now = clock_->now();
  const SystemTime latest = now + options_.schedule_interval;
  const SystemTime at = due ? std::min(*due, latest) : latest;
  std::lock_guard lock(mu_);
  if (shut_down_) return;
  // A pending pass that comes sooner stands (a retry or a new schedule may
  // only bring it forward).
  if (timers_->scheduler_due && *timers_->scheduler_due <= at && *timers_->scheduler_due > now) {
    return;
  }
  timers_->scheduler_due = at;
  timers_->scheduler.expires_after(std::max(at - now, SystemTime::duration::zero()));
  std::weak_ptr<HubService> weak = shared_from_this();
  timers_->scheduler.async_wait([weak](boost::system::error_code ec) {
    if (ec) return;
    auto self = weak.lock();
    if (!self) return;
    asio::post(self->store_exec_, [weak] {
      auto me = weak.lock();
      if (!me) return;
      std::optional<SystemTime> next;
      try {
        me->run_scheduler();
        next = me->store_->next_schedule_at();
        const auto retry = me->store_->next_retry_at(me->clock_->now());
        if (retry && (!next || *retry < *next)) next = retry;
      } catch (const StoreUnavailable& e) {
        me->metrics_->store_error();
        me->log_.warn("scheduler pass failed; retrying", {{"error", e.what()}});
      }
      {
        std::lock_guard relock(me->mu_);
        me->timers_->scheduler_due.reset();
      }
      // Still due after a pass: more than a batch, or one another hub is
      // firing right now. Look again soon, without spinning.
      const SystemTime soonest = me->clock_->now() + std::chrono::milliseconds(50);
      if (next && *next < soonest) next = soonest;
      me->arm_scheduler(next);
    });
  });
}

}  // namespace outpost::hub
