// PostgresStore: pools, the source lifecycle (patch, delete) and jobs stored
// already failed (a Test connection with no agent online).
#include "store/postgres/pg_records.hpp"
#include "store/postgres/pg_store.hpp"

namespace outpost::hub::pg {

namespace {

const std::string& pool_columns() {
  static const std::string cols = "id, name, " + ms_of("created_at");
  return cols;
}

PoolRecord pool_from_row(const PGresult* r, int row) {
  return PoolRecord{text(r, row, 0), text(r, row, 1), from_ms(int64(r, row, 2))};
}

}  // namespace

std::optional<PoolRecord> PostgresStore::create_pool(const std::string& name, SystemTime now) {
  // The name is unique: a second pool of that name inserts nothing.
  static const Statement st{
      "pool_create",
      "INSERT INTO pools (seq, id, name, created_at) SELECT n, 'pool_' || n::text, $1, " + ts(2) +
          " FROM (SELECT nextval('pools_seq') AS n) s ON CONFLICT (name) DO NOTHING RETURNING " +
          pool_columns()};
  auto conn = pool_.acquire();
  auto r = conn->run(st, {name, ms(now)});
  if (PQntuples(r.get()) == 0) return std::nullopt;
  return pool_from_row(r.get(), 0);
}

std::optional<PoolRecord> PostgresStore::get_pool(const std::string& id) {
  static const Statement st{"pool_get", "SELECT " + pool_columns() + " FROM pools WHERE id = $1"};
  auto conn = pool_.acquire();
  auto r = conn->run(st, {id});
  if (PQntuples(r.get()) == 0) return std::nullopt;
  return pool_from_row(r.get(), 0);
}

std::vector<PoolRecord> PostgresStore::list_pools() {
  static const Statement st{"pool_list", "SELECT " + pool_columns() + " FROM pools ORDER BY seq"};
  auto conn = pool_.acquire();
  auto r = conn->run(st, {});
  std::vector<PoolRecord> out;
  out.reserve(static_cast<std::size_t>(PQntuples(r.get())));
  for (int i = 0; i < PQntuples(r.get()); ++i) out.push_back(pool_from_row(r.get(), i));
  return out;
}

std::optional<SourceRecord> PostgresStore::update_source(const std::string& id,
                                                         const SourcePatch& patch) {
  static const Statement st{"source_update",
                            "UPDATE sources SET name = coalesce($2, name), "
                            "config = coalesce($3::json, config), "
                            "pool_id = coalesce($4, pool_id) WHERE id = $1 RETURNING " +
                                source_columns()};
  auto conn = pool_.acquire();
  auto r =
      conn->run(st, {id, patch.name,
                     patch.config ? std::optional<std::string>(patch.config->dump()) : std::nullopt,
                     patch.pool_id});
  if (PQntuples(r.get()) == 0) return std::nullopt;
  return source_from_row(r.get(), 0);
}

std::optional<std::size_t> PostgresStore::delete_source(const std::string& id, SystemTime now) {
  // One statement: the source goes and its unfinished jobs end cancelled
  // together (a running one keeps its lease, as cancel() does).
  static const Statement st{
      "source_delete",
      "WITH del AS (DELETE FROM sources WHERE id = $1 RETURNING id), "
      "upd AS (UPDATE jobs SET status = 'cancelled', finished_at = " +
          ts(2) +
          ", error = '{\"code\":\"cancelled\",\"message\":\"cancelled: its source was deleted\","
          "\"retryable\":false}'::json "
          "WHERE source_id = $1 AND status IN ('scheduled', 'running') "
          "AND EXISTS (SELECT 1 FROM del) RETURNING seq), "
          "att AS (UPDATE job_attempts a SET status = 'cancelled', finished_at = " +
          ts(2) +
          " FROM upd WHERE a.job_seq = upd.seq AND a.status = 'running') "
          "SELECT (SELECT count(*) FROM del), (SELECT count(*) FROM upd)"};
  auto conn = pool_.acquire();
  auto r = conn->run(st, {id, ms(now)});
  if (int64(r.get(), 0, 0) == 0) return std::nullopt;
  return static_cast<std::size_t>(int64(r.get(), 0, 1));
}

std::uint64_t PostgresStore::agents_online(const std::string& pool_id, SystemTime since) {
  static const Statement st{
      "agents_online",
      "SELECT count(*) FROM agent_instances WHERE pool_id = $1 AND last_seen >= " + ts(2)};
  auto conn = pool_.acquire();
  auto r = conn->run(st, {pool_id, ms(since)});
  return static_cast<std::uint64_t>(int64(r.get(), 0, 0));
}

JobRecord PostgresStore::create_failed_job(const NewJob& job, const Json& error, SystemTime now) {
  // Inserted finished: no NOTIFY, nothing for a claim to find.
  static const Statement st{
      "job_create_failed",
      "WITH j AS (INSERT INTO jobs (type, pool_id, source_id, source, params, timeout_ms, "
      "status, created_at, finished_at, error) VALUES ($1, $2, $3, $4, $5, $6, 'failed', " +
          ts(7) + ", " + ts(7) + ", $8) RETURNING *) SELECT " + job_columns("j") + " FROM j"};
  auto conn = pool_.acquire();
  auto r =
      conn->run(st, {job.type, job.pool_id, job.source_id, job.source.dump(), job.params.dump(),
                     std::to_string(job.timeout_ms), ms(now), error.dump()});
  return job_from_row(r.get(), 0);
}

}  // namespace outpost::hub::pg
