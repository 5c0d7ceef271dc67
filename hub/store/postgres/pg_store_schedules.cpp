// PostgresStore: schedules (hub-v2.md §4). A due time is fired by the one
// hub whose compare-and-set on next_run_at succeeds, in the transaction that
// inserts the job: exactly one job per due time, however many hubs run.
#include "store/postgres/pg_records.hpp"
#include "store/postgres/pg_store.hpp"

namespace outpost::hub::pg {

namespace {

std::string schedule_columns() {
  return "id, source_id, type, params, timeout_ms, every_ms, cron, timezone, status, " +
         ms_of("next_run_at") + ", last_job_id, " + ms_of("created_at");
}

ScheduleRecord schedule_from_row(const PGresult* r, int row) {
  ScheduleRecord s;
  s.id = text(r, row, 0);
  s.source_id = text(r, row, 1);
  s.type = text(r, row, 2);
  s.params = opt_json(r, row, 3).value_or(Json::object());
  s.timeout_ms = int64(r, row, 4);
  if (!is_null(r, row, 5)) s.every_ms = int64(r, row, 5);
  s.cron = opt_text(r, row, 6);
  s.timezone = text(r, row, 7);
  s.status = text(r, row, 8);
  s.next_run_at = opt_time(r, row, 9);
  s.last_job_id = opt_text(r, row, 10);
  s.created_at = from_ms(int64(r, row, 11));
  return s;
}

std::vector<ScheduleRecord> schedules_from(const Result& r) {
  std::vector<ScheduleRecord> out;
  out.reserve(static_cast<std::size_t>(PQntuples(r.get())));
  for (int i = 0; i < PQntuples(r.get()); ++i) out.push_back(schedule_from_row(r.get(), i));
  return out;
}

}  // namespace

ScheduleRecord PostgresStore::create_schedule(const NewSchedule& s, SystemTime now) {
  static const Statement st{
      "schedule_create",
      "INSERT INTO schedules (source_id, type, params, timeout_ms, every_ms, cron, timezone, "
      "next_run_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, " +
          ts(8) + ", " + ts(9) + ") RETURNING " + schedule_columns()};
  auto conn = pool_.acquire();
  auto r = conn->run(st, {s.source_id, s.type, s.params.dump(), std::to_string(s.timeout_ms),
                          s.every_ms ? std::optional(std::to_string(*s.every_ms)) : std::nullopt,
                          s.cron, s.timezone, ms(s.next_run_at), ms(now)});
  return schedule_from_row(r.get(), 0);
}

std::vector<ScheduleRecord> PostgresStore::list_schedules() {
  static const Statement st{"schedule_list",
                            "SELECT " + schedule_columns() + " FROM schedules ORDER BY seq"};
  auto conn = pool_.acquire();
  return schedules_from(conn->run(st, {}));
}

bool PostgresStore::delete_schedule(const std::string& id) {
  static const Statement st{"schedule_delete", "DELETE FROM schedules WHERE id = $1"};
  auto conn = pool_.acquire();
  return std::string_view(PQcmdTuples(conn->run(st, {id}).get())) == "1";
}

std::size_t PostgresStore::cancel_schedules_for_source(const std::string& source_id) {
  static const Statement st{"schedule_cancel_source",
                            "UPDATE schedules SET status = 'cancelled', next_run_at = NULL "
                            "WHERE source_id = $1 AND status = 'active'"};
  auto conn = pool_.acquire();
  auto r = conn->run(st, {source_id});
  return static_cast<std::size_t>(std::stoull(PQcmdTuples(r.get())));
}

std::vector<ScheduleRecord> PostgresStore::due_schedules(SystemTime now, std::size_t limit) {
  static const Statement st{"schedule_due", "SELECT " + schedule_columns() +
                                                " FROM schedules WHERE status = 'active' AND "
                                                "next_run_at <= " +
                                                ts(1) + " ORDER BY next_run_at LIMIT $2"};
  auto conn = pool_.acquire();
  return schedules_from(conn->run(st, {ms(now), std::to_string(limit)}));
}

std::optional<JobRecord> PostgresStore::fire_schedule(const std::string& id, SystemTime due,
                                                      SystemTime next, const NewJob& job,
                                                      SystemTime now) {
  // The UPDATE's row lock makes a second hub with the same `due` wait, then
  // see next_run_at moved and update nothing: it creates no job.
  static const Statement claim_st{
      // `due` is in whole milliseconds, as read: compare at that precision
      // (a next_run_at written by hand may carry microseconds).
      "schedule_claim", "UPDATE schedules SET next_run_at = " + ts(3) +
                            " WHERE id = $1 AND status = 'active' AND " + ms_of("next_run_at") +
                            " = $2::bigint RETURNING seq"};
  static const Statement last_st{"schedule_last",
                                 "UPDATE schedules SET last_job_id = $2 WHERE id = $1"};
  auto created = pool_.transaction([&](Connection& conn) -> std::optional<JobRecord> {
    auto r = conn.run(claim_st, {id, ms(due), ms(next)});
    if (PQntuples(r.get()) == 0) return std::nullopt;
    JobRecord rec = insert_job(conn, job, now);
    conn.run(last_st, {id, rec.id});
    return rec;
  });
  if (created) notify(created->pool_id);
  return created;
}

std::optional<SystemTime> PostgresStore::next_schedule_at() {
  static const Statement st{"schedule_next", "SELECT " + ms_of("min(next_run_at)") +
                                                 " FROM schedules WHERE status = 'active'"};
  auto conn = pool_.acquire();
  auto r = conn->run(st, {});
  return opt_time(r.get(), 0, 0);
}

}  // namespace outpost::hub::pg
