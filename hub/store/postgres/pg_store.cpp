// PostgresStore: construction, wake-ups, tokens, sources, agent instances,
// retention, health and metrics aggregates. Job and lease operations are in
// pg_store_jobs.cpp, result reads in pg_store_rows.cpp.
#include "store/postgres/pg_store.hpp"

#include "store/postgres/pg_records.hpp"
#include "store/postgres/pg_schema.hpp"

namespace outpost::hub::pg {

namespace {

// Waiting for a free connection longer than this means the store is
// overloaded or hanging: answer 503 rather than hold the caller.
constexpr std::chrono::seconds kAcquireTimeout{10};

}  // namespace

PostgresStore::PostgresStore(ConnParams params, std::size_t connections)
    : pool_(params, connections, kAcquireTimeout) {
  {
    auto conn = pool_.acquire();  // unreachable → StoreUnavailable, before any thread starts
    const auto report = migrate(*conn);
    if (report.applied > 0) {
      log_.info("store schema migrated", {{"store", params.display},
                                          {"from_version", report.from_version},
                                          {"to_version", report.to_version},
                                          {"applied", report.applied}});
    } else {
      log_.info("store schema up to date",
                {{"store", params.display}, {"version", report.to_version}});
    }
  }
  listener_ = std::make_unique<Listener>(
      std::move(params),
      [this](const std::string& pool) {
        if (pool.empty()) {
          resync();
        } else {
          notify(pool);
        }
      },
      [this](int backend_pid) { return pool_.owns_backend(backend_pid); },
      [this](bool error, const std::string& message) {
        if (error) {
          log_.warn(message);
        } else {
          log_.info(message);
        }
      });
}

PostgresStore::~PostgresStore() {
  listener_.reset();  // joins the thread before the callback goes away
}

void PostgresStore::on_jobs_available(JobsAvailable callback) {
  std::lock_guard lock(callback_mu_);
  callback_ = std::move(callback);
}

void PostgresStore::notify(const std::string& pool_id) {
  JobsAvailable cb;
  {
    std::lock_guard lock(callback_mu_);
    cb = callback_;
  }
  if (cb) cb(pool_id);
}

void PostgresStore::resync() {
  // The LISTEN connection was (re)established: notifications sent while it
  // was away are lost, so wake every pool that has claimable jobs now.
  notify("");
  try {
    auto conn = pool_.acquire();
    auto r = conn->exec("SELECT DISTINCT pool_id FROM jobs WHERE status = 'scheduled'");
    for (int i = 0; i < PQntuples(r.get()); ++i) notify(text(r.get(), i, 0));
  } catch (const std::exception& e) {
    log_.warn("could not list pools with queued jobs after reconnecting", {{"error", e.what()}});
  }
}

std::optional<std::int64_t> PostgresStore::job_seq(Connection& conn, const std::string& id) {
  static const Statement st{"job_seq", "SELECT seq FROM jobs WHERE id = $1"};
  auto r = conn.run(st, {id});
  if (PQntuples(r.get()) == 0) return std::nullopt;
  return int64(r.get(), 0, 0);
}

// ---- tokens ----------------------------------------------------------------

TokenRecord PostgresStore::create_token(const NewToken& token, SystemTime now) {
  static const Statement st{"token_create",
                            "INSERT INTO tokens (name, pool_id, hash, created_at) "
                            "VALUES ($1, $2, decode($3, 'hex'), " +
                                ts(4) + ") RETURNING " + token_columns()};
  auto conn = pool_.acquire();
  auto r = conn->run(st, {token.name, token.pool_id, to_hex(token.hash), ms(now)});
  return token_from_row(r.get(), 0);
}

bool PostgresStore::revoke_token(const std::string& id) {
  static const Statement st{"token_revoke",
                            "UPDATE tokens SET revoked = true WHERE id = $1 RETURNING 1"};
  auto conn = pool_.acquire();
  return PQntuples(conn->run(st, {id}).get()) == 1;
}

std::optional<TokenRecord> PostgresStore::find_token_by_hash(std::string_view hash) {
  static const Statement st{"token_by_hash", "SELECT " + token_columns() +
                                                 " FROM tokens WHERE hash = decode($1, 'hex') "
                                                 "ORDER BY seq LIMIT 1"};
  auto conn = pool_.acquire();
  auto r = conn->run(st, {to_hex(hash)});
  if (PQntuples(r.get()) == 0) return std::nullopt;
  return token_from_row(r.get(), 0);
}

std::vector<TokenRecord> PostgresStore::list_tokens() {
  static const Statement st{"token_list",
                            "SELECT " + token_columns() + " FROM tokens ORDER BY seq"};
  auto conn = pool_.acquire();
  auto r = conn->run(st, {});
  std::vector<TokenRecord> out;
  out.reserve(static_cast<std::size_t>(PQntuples(r.get())));
  for (int i = 0; i < PQntuples(r.get()); ++i) out.push_back(token_from_row(r.get(), i));
  return out;
}

void PostgresStore::touch_token(const std::string& id, SystemTime now) {
  static const Statement st{"token_touch",
                            "UPDATE tokens SET last_used_at = " + ts(2) + " WHERE id = $1"};
  auto conn = pool_.acquire();
  conn->run(st, {id, ms(now)});
}

// ---- sources ---------------------------------------------------------------

SourceRecord PostgresStore::create_source(const NewSource& source, SystemTime now) {
  static const Statement st{"source_create",
                            "INSERT INTO sources (name, type, pool_id, config, created_at) "
                            "VALUES ($1, $2, $3, $4, " +
                                ts(5) + ") RETURNING " + source_columns()};
  auto conn = pool_.acquire();
  auto r = conn->run(st, {source.name, source.type, source.pool_id, source.config.dump(), ms(now)});
  return source_from_row(r.get(), 0);
}

std::optional<SourceRecord> PostgresStore::get_source(const std::string& id) {
  static const Statement st{"source_get",
                            "SELECT " + source_columns() + " FROM sources WHERE id = $1"};
  auto conn = pool_.acquire();
  auto r = conn->run(st, {id});
  if (PQntuples(r.get()) == 0) return std::nullopt;
  return source_from_row(r.get(), 0);
}

std::vector<SourceRecord> PostgresStore::list_sources() {
  static const Statement st{"source_list",
                            "SELECT " + source_columns() + " FROM sources ORDER BY seq"};
  auto conn = pool_.acquire();
  auto r = conn->run(st, {});
  std::vector<SourceRecord> out;
  out.reserve(static_cast<std::size_t>(PQntuples(r.get())));
  for (int i = 0; i < PQntuples(r.get()); ++i) out.push_back(source_from_row(r.get(), i));
  return out;
}

// ---- agent instances -------------------------------------------------------

InstanceRecord PostgresStore::upsert_instance(const InstanceUpdate& u, SystemTime now) {
  // Parameters left NULL keep the stored value (coalesce), as InstanceUpdate
  // says. An update that would only move last_seen (every claim's) by less
  // than a second writes nothing (`fresh`: not even a row lock, which would
  // take a transaction id and a WAL flush at commit): the stored row is
  // returned as it is.
  static const Statement st{
      "instance_upsert",
      "WITH fresh AS (SELECT " + instance_columns("x") +
          " FROM agent_instances x WHERE x.instance_id = $1 AND x.token_id = $2 "
          "AND x.pool_id = $3 AND num_nonnulls($4::text, $5::text, $6::bigint, $7::bigint, "
          "$8::bigint, $9::json) = 0 AND x.last_seen BETWEEN " +
          ts(10) + " - interval '1 second' AND " + ts(10) +
          "), up AS (INSERT INTO agent_instances AS i (instance_id, token_id, pool_id, version, "
          "hostname, capacity, reported_running, uptime_ms, connectors, first_seen, last_seen) "
          "SELECT $1, $2, $3, coalesce($4, ''), coalesce($5, ''), coalesce($6, 0), $7, $8, "
          "coalesce($9, '[]'::json), " +
          ts(10) + ", " + ts(10) +
          " WHERE NOT EXISTS (SELECT FROM fresh) "
          "ON CONFLICT (instance_id) DO UPDATE SET token_id = excluded.token_id, "
          "pool_id = excluded.pool_id, version = coalesce($4, i.version), "
          "hostname = coalesce($5, i.hostname), capacity = coalesce($6, i.capacity), "
          "reported_running = coalesce($7, i.reported_running), "
          "uptime_ms = coalesce($8, i.uptime_ms), connectors = coalesce($9, i.connectors), "
          "last_seen = " +
          ts(10) + " RETURNING " + instance_columns("i") +
          ") SELECT * FROM up UNION ALL SELECT * FROM fresh"};
  auto num = [](const std::optional<std::int64_t>& v) -> std::optional<std::string> {
    return v ? std::optional<std::string>(std::to_string(*v)) : std::nullopt;
  };
  Params params{u.instance_id,
                u.token_id,
                u.pool_id,
                u.version,
                u.hostname,
                num(u.capacity),
                num(u.reported_running),
                num(u.uptime_ms),
                u.connectors ? std::optional<std::string>(u.connectors->dump()) : std::nullopt,
                ms(now)};
  auto conn = pool_.acquire();
  auto r = conn->run(st, params);
  return instance_from_row(r.get(), 0);
}

std::vector<InstanceRecord> PostgresStore::list_instances() {
  static const Statement st{"instance_list", "SELECT " + instance_columns("i") +
                                                 " FROM agent_instances i ORDER BY instance_id"};
  auto conn = pool_.acquire();
  auto r = conn->run(st, {});
  std::vector<InstanceRecord> out;
  out.reserve(static_cast<std::size_t>(PQntuples(r.get())));
  for (int i = 0; i < PQntuples(r.get()); ++i) out.push_back(instance_from_row(r.get(), i));
  return out;
}

std::size_t PostgresStore::purge_instances_before(SystemTime cutoff) {
  static const Statement st{"instance_purge",
                            "DELETE FROM agent_instances WHERE last_seen < " + ts(1)};
  auto conn = pool_.acquire();
  auto r = conn->run(st, {ms(cutoff)});
  return std::stoull(PQcmdTuples(r.get()));
}

// ---- retention, health, metrics -------------------------------------------

std::size_t PostgresStore::purge_finished_before(SystemTime cutoff, std::size_t batch) {
  // A small batch per statement: short transactions, so claims and results
  // never wait long on the rows being deleted (SKIP LOCKED: nor do other
  // hubs purging at the same time). Parts and attempts go by ON DELETE CASCADE.
  static const Statement st{
      "jobs_purge",
      "DELETE FROM jobs WHERE seq IN (SELECT seq FROM jobs "
      "WHERE status IN ('succeeded', 'failed', 'cancelled') AND finished_at < " +
          ts(1) + " ORDER BY finished_at LIMIT $2 FOR UPDATE SKIP LOCKED)"};
  auto conn = pool_.acquire();
  auto r = conn->run(st, {ms(cutoff), std::to_string(batch)});
  return std::stoull(PQcmdTuples(r.get()));
}

void PostgresStore::ping() {
  auto conn = pool_.acquire();
  conn->exec("SELECT 1");
}

StoreCounts PostgresStore::counts(SystemTime online_since) {
  static const Statement st{
      "counts",
      "SELECT 's', status, count(*) FROM jobs GROUP BY status "
      "UNION ALL SELECT 'q', pool_id, count(*) FROM jobs WHERE status = 'scheduled' "
      "GROUP BY pool_id "
      "UNION ALL SELECT 'a', pool_id, count(*) FROM agent_instances WHERE last_seen >= " +
          ts(1) + " GROUP BY pool_id"};
  auto conn = pool_.acquire();
  auto r = conn->run(st, {ms(online_since)});
  StoreCounts out;
  for (auto s : {JobStatus::kScheduled, JobStatus::kRunning, JobStatus::kSucceeded,
                 JobStatus::kFailed, JobStatus::kCancelled}) {
    out.jobs_by_status[to_string(s)] = 0;
  }
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    const auto kind = text(r.get(), i, 0);
    const auto n = static_cast<std::uint64_t>(int64(r.get(), i, 2));
    auto& map = kind == "s"   ? out.jobs_by_status
                : kind == "q" ? out.queue_depth
                              : out.agents_online;
    map[text(r.get(), i, 1)] = n;
  }
  return out;
}

}  // namespace outpost::hub::pg
