#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "postgres/pg_jobs.hpp"

namespace outpost::connectors::postgres {
namespace {

// Schemas the role cannot use are left out: their tables could not be queried.
// Both cursors filter and order relations identically inside one snapshot
// (REPEATABLE READ), so the column stream visits relations in the same order
// as the relation stream and the two merge in one pass with bounded memory.
constexpr const char* kRelationFilter = R"SQL(
  c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
  AND pg_catalog.has_schema_privilege(n.oid, 'USAGE')
  AND ($1::text = '' OR n.nspname = ANY ((CASE WHEN $1::text = '' THEN '{}' ELSE $1::text END)::text[]))
  AND ($2::bool OR c.relkind NOT IN ('v', 'm'))
  AND ($5::text = '' OR c.relname::text LIKE ANY ((CASE WHEN $5::text = '' THEN '{}' ELSE $5::text END)::text[]))
)SQL";
constexpr const char* kSchemaFilter = R"SQL(
  n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
  AND pg_catalog.has_schema_privilege(n.oid, 'USAGE')
  AND ($1::text = '' OR n.nspname = ANY ((CASE WHEN $1::text = '' THEN '{}' ELSE $1::text END)::text[]))
)SQL";
constexpr const char* kRelationOrder =
    " ORDER BY n.nspname COLLATE \"C\", c.relname COLLATE \"C\", c.oid";

// The relation cursor's columns: identity, estimate, then the jobs-v1.1
// facts. Keys and partitions come as JSON built by the server, one row per
// relation (index look-ups by indrelid/conrelid/inhparent).
constexpr const char* kRelationColumns = R"SQL(
  SELECT c.oid, n.nspname, c.relname, c.relkind, c.reltuples,
    pg_catalog.obj_description(c.oid, 'pg_class'),
    CASE WHEN $3::bool AND c.relkind IN ('r', 'm') THEN pg_catalog.pg_total_relation_size(c.oid)
         WHEN $3::bool AND c.relkind = 'p' THEN (SELECT sum(pg_catalog.pg_total_relation_size(i.inhrelid))
           FROM pg_catalog.pg_inherits i WHERE i.inhparent = c.oid) END,
    CASE WHEN $4::bool AND c.relkind IN ('v', 'm') THEN pg_catalog.pg_get_viewdef(c.oid) END,
    CASE WHEN c.relispartition THEN (SELECT pn.nspname || '.' || pc.relname
      FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class pc ON pc.oid = i.inhparent
      JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace WHERE i.inhrelid = c.oid) END,
    CASE WHEN c.relkind = 'p' THEN (SELECT coalesce(pg_catalog.json_agg(ch.relname ORDER BY ch.relname), '[]')
      FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class ch ON ch.oid = i.inhrelid
      WHERE i.inhparent = c.oid)::text END,
    (SELECT coalesce(pg_catalog.json_agg(pg_catalog.json_build_object(
        'name', ic.relname, 'unique', ix.indisunique, 'primary', ix.indisprimary,
        'constraint', EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k
                              WHERE k.conindid = ix.indexrelid AND k.contype IN ('p', 'u')),
        'columns', (SELECT pg_catalog.json_agg(CASE WHEN k.attnum = 0
                      THEN pg_catalog.pg_get_indexdef(ix.indexrelid, k.ord::int, true)
                      ELSE a.attname::text END ORDER BY k.ord)
                    FROM unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                    LEFT JOIN pg_catalog.pg_attribute a
                      ON a.attrelid = ix.indrelid AND a.attnum = k.attnum
                    WHERE k.ord <= ix.indnkeyatts)) ORDER BY ic.relname), '[]')::text
      FROM pg_catalog.pg_index ix JOIN pg_catalog.pg_class ic ON ic.oid = ix.indexrelid
      WHERE ix.indrelid = c.oid),
    (SELECT coalesce(pg_catalog.json_agg(pg_catalog.json_build_object(
        'name', k.conname, 'ref_schema', rn.nspname, 'ref_table', rc.relname,
        'columns', (SELECT pg_catalog.json_agg(a.attname ORDER BY u.ord)
                    FROM unnest(k.conkey) WITH ORDINALITY AS u(attnum, ord)
                    JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum),
        'ref_columns', (SELECT pg_catalog.json_agg(a.attname ORDER BY u.ord)
                        FROM unnest(k.confkey) WITH ORDINALITY AS u(attnum, ord)
                        JOIN pg_catalog.pg_attribute a
                          ON a.attrelid = k.confrelid AND a.attnum = u.attnum))
        ORDER BY k.conname), '[]')::text
      FROM pg_catalog.pg_constraint k JOIN pg_catalog.pg_class rc ON rc.oid = k.confrelid
      JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace
      WHERE k.conrelid = c.oid AND k.contype = 'f'),
    CASE WHEN $3::bool AND c.relkind IN ('r', 'm') THEN pg_catalog.json_build_object(
      'n_tup_ins', pg_catalog.pg_stat_get_tuples_inserted(c.oid),
      'n_tup_upd', pg_catalog.pg_stat_get_tuples_updated(c.oid),
      'n_tup_del', pg_catalog.pg_stat_get_tuples_deleted(c.oid),
      'n_live_tup', pg_catalog.pg_stat_get_live_tuples(c.oid),
      'n_dead_tup', pg_catalog.pg_stat_get_dead_tuples(c.oid),
      'last_vacuum', pg_catalog.to_char(pg_catalog.pg_stat_get_last_vacuum_time(c.oid)
        AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
      'last_autovacuum', pg_catalog.to_char(pg_catalog.pg_stat_get_last_autovacuum_time(c.oid)
        AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
      'last_analyze', pg_catalog.to_char(pg_catalog.pg_stat_get_last_analyze_time(c.oid)
        AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
      'last_autoanalyze', pg_catalog.to_char(pg_catalog.pg_stat_get_last_autoanalyze_time(c.oid)
        AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))::text END
)SQL";

constexpr int kRelationBatch = 500;
constexpr int kColumnBatch = 5000;

const char* kind_name(char relkind) {
  switch (relkind) {
    case 'v': return "view";
    case 'm': return "materialized_view";
    case 'f': return "foreign_table";
    default: return "table";
  }
}

// Reads a cursor batch by batch.
class CursorReader {
 public:
  CursorReader(Session& session, const std::string& name, int batch)
      : session_(session), fetch_("FETCH " + std::to_string(batch) + " FROM " + name) {}

  /// The next row index in current(), or -1 at the end; sets `failed` on error.
  int next(JobContext& ctx, std::optional<JobResult>& failed) {
    if (batch_ && ++row_ < PQntuples(batch_.get())) return row_;
    if (done_) return -1;
    batch_ = session_.exec(fetch_);
    row_ = 0;
    if (!batch_ || PQresultStatus(batch_.get()) != PGRES_TUPLES_OK) {
      if (ctx.cancel.cancelled() || !batch_) {
        failed = cancelled_result(ctx.cancel);
        if (!ctx.cancel.cancelled()) {
          failed = JobResult::failure(ErrorCode::kUnreachable, "server stopped answering", true);
        }
      } else {
        const auto e = map_statement_error(batch_.get(), ctx.cancel.reason());
        failed = JobResult::failure(e.code, e.message, e.retryable);
      }
      done_ = true;
      return -1;
    }
    if (PQntuples(batch_.get()) == 0) {
      done_ = true;
      return -1;
    }
    return row_;
  }
  [[nodiscard]] const PGresult* current() const { return batch_.get(); }

 private:
  Session& session_;
  std::string fetch_;
  ResultPtr batch_;
  int row_ = -1;
  bool done_ = false;
};

std::optional<std::string> opt_text(const PGresult* r, int row, int col) {
  if (PQgetisnull(r, row, col)) return std::nullopt;
  return std::string(PQgetvalue(r, row, col));
}

// A JSON text the catalog query built (json_agg): nullopt when NULL.
std::optional<nlohmann::json> opt_json(const PGresult* r, int row, int col) {
  if (PQgetisnull(r, row, col)) return std::nullopt;
  auto parsed = nlohmann::json::parse(PQgetvalue(r, row, col), nullptr, false);
  if (parsed.is_discarded()) return std::nullopt;
  return parsed;
}

// Primary key, unique constraints and indexes from the relation row's
// index list; foreign keys from its constraint list.
void add_keys(Table& table, const nlohmann::json& indexes, const nlohmann::json& fks) {
  table.indexes.emplace();
  for (const auto& ix : indexes) {
    std::vector<std::string> columns;
    for (const auto& c : ix.value("columns", nlohmann::json::array())) {
      if (c.is_string()) columns.push_back(c.get<std::string>());
    }
    if (ix.value("primary", false)) {
      table.primary_key = columns;
    } else if (ix.value("constraint", false)) {
      table.unique.push_back(columns);
    }
    table.indexes->push_back(
        TableIndex{ix.value("name", ""), std::move(columns), ix.value("unique", false)});
  }
  for (const auto& fk : fks) {
    ForeignKey key{
        fk.value("name", ""), {}, fk.value("ref_schema", ""), fk.value("ref_table", ""), {}};
    for (const auto& c : fk.value("columns", nlohmann::json::array())) {
      if (c.is_string()) key.columns.push_back(c.get<std::string>());
    }
    for (const auto& c : fk.value("ref_columns", nlohmann::json::array())) {
      if (c.is_string()) key.ref_columns.push_back(c.get<std::string>());
    }
    table.foreign_keys.push_back(std::move(key));
  }
}

// The activity counters and maintenance times (a JSON object the catalog
// query built from the pg_stat_get_* functions behind pg_stat_user_tables).
TableStats stats_of(const nlohmann::json& s) {
  auto count = [&](const char* key) {
    const auto it = s.find(key);
    return it != s.end() && it->is_number_integer() ? std::optional(it->get<std::int64_t>())
                                                    : std::nullopt;
  };
  auto time = [&](const char* key) {
    const auto it = s.find(key);
    return it != s.end() && it->is_string() ? std::optional(it->get<std::string>()) : std::nullopt;
  };
  return TableStats{count("n_tup_ins"),      count("n_tup_upd"),   count("n_tup_del"),
                    count("n_live_tup"),     count("n_dead_tup"),  time("last_vacuum"),
                    time("last_autovacuum"), time("last_analyze"), time("last_autoanalyze")};
}

// One row of the relation cursor (kRelationColumns) as a Table, without columns.
Table table_of(const PGresult* r, int row) {
  const char relkind = PQgetvalue(r, row, 3)[0];
  Table table{PQgetvalue(r, row, 1), PQgetvalue(r, row, 2), kind_name(relkind), std::nullopt, {}};
  const double tuples = std::strtod(PQgetvalue(r, row, 4), nullptr);
  // reltuples is -1 until the first VACUUM/ANALYZE (PostgreSQL 14+); views have none.
  if (relkind != 'v' && tuples >= 0) table.row_estimate = std::llround(tuples);
  table.comment = opt_text(r, row, 5);
  if (!PQgetisnull(r, row, 6)) table.size_bytes = std::strtoll(PQgetvalue(r, row, 6), nullptr, 10);
  table.definition = opt_text(r, row, 7);
  table.partition_of = opt_text(r, row, 8);
  if (auto parts = opt_json(r, row, 9)) table.partitions = parts->get<std::vector<std::string>>();
  if (relkind == 'r' || relkind == 'p' || relkind == 'm') {
    add_keys(table, opt_json(r, row, 10).value_or(nlohmann::json::array()),
             opt_json(r, row, 11).value_or(nlohmann::json::array()));
  }
  if (auto stats = opt_json(r, row, 12); stats && stats->is_object())
    table.stats = stats_of(*stats);
  return table;
}

// One row of the column cursor as a TableColumn.
TableColumn column_of(const PGresult* c, int row) {
  TableColumn column{PQgetvalue(c, row, 1), PQgetvalue(c, row, 2), PQgetvalue(c, row, 3)[0] == 't',
                     std::strtoll(PQgetvalue(c, row, 4), nullptr, 10)};
  column.default_value = opt_text(c, row, 5);
  column.generated = PQgetvalue(c, row, 6)[0] == 't';
  column.comment = opt_text(c, row, 7);
  if (auto labels = opt_json(c, row, 8))
    column.enum_values = labels->get<std::vector<std::string>>();
  return column;
}

bool ok(const ResultPtr& r) {
  return r && (PQresultStatus(r.get()) == PGRES_COMMAND_OK ||
               PQresultStatus(r.get()) == PGRES_TUPLES_OK);
}

// A `tables` pattern as LIKE: `*` is `%`, and `%`, `_` and `\` stand for themselves.
std::string like_pattern(const std::string& pattern) {
  std::string like;
  for (const char c : pattern) {
    if (c == '*') {
      like += '%';
    } else {
      if (c == '%' || c == '_' || c == '\\') like += '\\';
      like += c;
    }
  }
  return like;
}

// The bound parameters: $1 schemas ("" for all), $2 include_views,
// $3 include_stats, $4 include_definitions, $5 LIKE patterns ("" for all).
// The `tables` patterns are pushed down; wants_table stays the last word.
std::vector<std::string> metadata_params(const MetadataParams& m) {
  std::string tables;
  if (m.tables) {
    std::vector<std::string> likes;
    for (const auto& pattern : *m.tables) likes.push_back(like_pattern(pattern));
    tables = text_array_literal(likes);
  }
  return {m.schemas ? text_array_literal(*m.schemas) : std::string(),
          m.include_views ? "true" : "false", m.include_stats ? "true" : "false",
          m.include_definitions ? "true" : "false", std::move(tables)};
}

// The schema names the filter lets through, or the failure.
std::optional<JobResult> read_schema_names(Session& session, JobContext& ctx,
                                           const std::vector<std::string>& params,
                                           nlohmann::json& names) {
  auto rows =
      session.exec(std::string("SELECT n.nspname FROM pg_catalog.pg_namespace n WHERE ") +
                       kSchemaFilter + " AND $2::bool IS NOT NULL ORDER BY n.nspname COLLATE \"C\"",
                   {params[0], params[1]});
  if (!rows || PQresultStatus(rows.get()) != PGRES_TUPLES_OK) {
    return statement_failure(rows.get(), ctx);
  }
  names = nlohmann::json::array();
  for (int i = 0; i < PQntuples(rows.get()); ++i) names.push_back(PQgetvalue(rows.get(), i, 0));
  return std::nullopt;
}

constexpr const char* kColumnCursor = R"SQL(
  DECLARE outpost_col NO SCROLL CURSOR FOR
  SELECT a.attrelid, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
    pg_catalog.row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum),
    pg_catalog.pg_get_expr(d.adbin, d.adrelid), a.attgenerated <> '',
    pg_catalog.col_description(a.attrelid, a.attnum),
    CASE WHEN t.typtype = 'e' THEN (SELECT pg_catalog.json_agg(e.enumlabel ORDER BY e.enumsortorder)
      FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid)::text END
  FROM pg_catalog.pg_attribute a
  JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
  LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
  WHERE a.attnum > 0 AND NOT a.attisdropped AND $3::bool IS NOT NULL AND $4::bool IS NOT NULL AND
)SQL";

// Declares the two cursors (relations, columns) inside the job's snapshot.
std::optional<JobResult> declare_cursors(Session& session, JobContext& ctx,
                                         const std::vector<std::string>& params) {
  auto relations =
      session.exec(std::string("DECLARE outpost_rel NO SCROLL CURSOR FOR ") + kRelationColumns +
                       "FROM pg_catalog.pg_class c "
                       "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE " +
                       kRelationFilter + kRelationOrder,
                   params);
  if (!ok(relations)) return statement_failure(relations.get(), ctx);
  auto columns = session.exec(
      std::string(kColumnCursor) + kRelationFilter + kRelationOrder + ", a.attnum", params);
  if (!ok(columns)) return statement_failure(columns.get(), ctx);
  return std::nullopt;
}

// Merges the two cursors and sends each table with its columns to the sink.
// Sets `stopped` when the sink refuses a table.
std::optional<JobResult> stream_tables(Session& session, JobContext& ctx, bool& stopped) {
  CursorReader rel_reader(session, "outpost_rel", kRelationBatch);
  CursorReader col_reader(session, "outpost_col", kColumnBatch);
  std::optional<JobResult> failed;
  int col = col_reader.next(ctx, failed);
  for (int rel = rel_reader.next(ctx, failed); rel >= 0 && !failed;
       rel = rel_reader.next(ctx, failed)) {
    const PGresult* r = rel_reader.current();
    const std::string oid = PQgetvalue(r, rel, 0);
    Table table = table_of(r, rel);
    while (col >= 0 && !failed && oid == PQgetvalue(col_reader.current(), col, 0)) {
      table.columns.push_back(column_of(col_reader.current(), col));
      col = col_reader.next(ctx, failed);
    }
    if (failed) break;
    if (!ctx.job.metadata.wants_table(table.name)) continue;
    if (!ctx.sink.add_table(table)) {
      stopped = true;
      break;
    }
    if (ctx.cancel.cancelled()) break;
  }
  return failed;
}

}  // namespace

JobResult run_metadata(Session& session, JobContext& ctx) {
  const std::vector<std::string> params = metadata_params(ctx.job.metadata);
  auto begin = session.exec_simple("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; " +
                                   statement_timeout_sql(ctx));
  if (!ok(begin)) return statement_failure(begin.get(), ctx);
  nlohmann::json schema_names;
  if (auto failed = read_schema_names(session, ctx, params, schema_names)) {
    return std::move(*failed);
  }
  if (auto failed = declare_cursors(session, ctx, params)) return std::move(*failed);
  bool stopped = false;
  auto failed = stream_tables(session, ctx, stopped);
  if (ctx.cancel.cancelled()) return cancelled_result(ctx.cancel);
  if (failed) return std::move(*failed);
  // The snapshot's transaction is rolled back by the connector's reset.
  nlohmann::json result = {{"database", PQdb(session.raw())}, {"schema_names", schema_names}};
  if (stopped) result["truncated"] = true;
  return JobResult::success(std::move(result));
}

}  // namespace outpost::connectors::postgres
