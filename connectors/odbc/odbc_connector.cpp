#include "odbc/odbc_connector.hpp"

#include <algorithm>
#include <map>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/error_classify.hpp"
#include "common/source_config.hpp"
#include "odbc/odbc_values.hpp"
#include "outpost/policy.hpp"

namespace outpost::connectors::odbc {
namespace {

using Clock = std::chrono::steady_clock;

bool ok(SQLRETURN rc) {
  return rc == SQL_SUCCESS || rc == SQL_SUCCESS_WITH_INFO;
}

JobResult failed(JobError error) {
  return JobResult{std::move(error), nlohmann::json::object()};
}

JobResult cancelled_result(CancelReason reason) {
  if (reason == CancelReason::kTimeout) {
    return JobResult::failure(ErrorCode::kTimeout, "the statement was stopped: job timeout", true);
  }
  return JobResult::failure(ErrorCode::kCancelled,
                            "the statement was stopped: " + std::string(to_string(reason)));
}

std::chrono::milliseconds remaining_budget(const JobContext& ctx) {
  return std::min(ctx.job.timeout, std::chrono::duration_cast<std::chrono::milliseconds>(
                                       ctx.deadline - Clock::now()));
}

/// A pooled or new connection, rolled back and returned to the pool at the
/// end of the job when it is still healthy.
class Lease {
 public:
  Lease(common::ConnectionPool<OdbcConnection>& pool, std::string key)
      : pool_(pool), key_(std::move(key)) {}
  ~Lease() {
    if (!connection_ || connection_->broken() || !connection_->rollback()) return;
    // A job must not leave the session writable (or holding locks) for the
    // next one: a connection that fails the check is closed, not pooled.
    if (!connection_->still_read_only()) return;
    pool_.checkin(key_, std::move(connection_));
  }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;

  std::optional<JobError> open(const OdbcConfig& config, const NetworkGuard& network, bool fresh) {
    if (!fresh) {
      connection_ = pool_.checkout(key_, [](OdbcConnection& c) { return !c.dead(); });
      if (connection_) {
        // The egress policy is checked for every job, pooled or not.
        std::string address;
        return check_endpoint(config, network, address);
      }
    }
    auto outcome = connect(config, network);
    if (!outcome.connection) return outcome.error;
    connection_ = std::move(outcome.connection);
    return std::nullopt;
  }
  [[nodiscard]] OdbcConnection& connection() const { return *connection_; }

 private:
  common::ConnectionPool<OdbcConnection>& pool_;
  std::string key_;
  std::unique_ptr<OdbcConnection> connection_;
};

// Per-job server-side statement timeout where the DBMS is known.
void apply_statement_timeout(OdbcConnection& c, SQLHSTMT stmt, std::chrono::milliseconds budget) {
  const auto seconds = static_cast<SQLULEN>(std::max<long long>(1, (budget.count() + 999) / 1000));
  SQLSetStmtAttr(stmt, SQL_ATTR_QUERY_TIMEOUT, reinterpret_cast<SQLPOINTER>(seconds), 0);
  if (common::contains_icase(c.dbms_name(), "postgres")) {
    (void)c.execute("SET statement_timeout = " + std::to_string(budget.count()));
  }
}

JobResult run_test_connection(JobContext& ctx, OdbcConnection& c, Clock::time_point started) {
  (void)ctx;
  const auto latency =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  return JobResult::success({{"ok", true},
                             {"server_version", c.dbms_name() + " " + c.dbms_version()},
                             {"latency_ms", latency.count()},
                             {"driver", c.driver()},
                             {"read_only", c.read_only_mode()},
                             {"privileges", c.privileges()}});
}

JobResult run_query(JobContext& ctx, OdbcConnection& c) {
  const auto& params = ctx.job.params;
  // Copied out of the JSON (GCC -O2 -Wnull-dereference misreads get_ref).
  std::string text;
  if (params.is_object()) {
    if (auto it = params.find("sql"); it != params.end() && it->is_string()) {
      text = it->get<std::string>();
    }
  }
  if (text.empty()) {
    return JobResult::failure(ErrorCode::kInvalidJob,
                              "query params need a non-empty \"sql\" string");
  }
  // One statement, no transaction control or session state (the lexer
  // follows the DBMS's rules for literals and comments).
  auto checked = check_statement(text, c.dialect());
  if (checked.refusal) return JobResult::failure(ErrorCode::kInvalidJob, *checked.refusal);
  text = std::move(checked.sql);
  const auto budget = remaining_budget(ctx);
  if (budget <= std::chrono::milliseconds::zero()) {
    return JobResult::failure(ErrorCode::kTimeout, "the job's time budget was used up", true);
  }
  Statement stmt(c.dbc());
  if (!stmt.valid()) return failed(classify(diagnose(SQL_HANDLE_DBC, c.dbc()), false));
  apply_statement_timeout(c, stmt.get(), budget);

  std::optional<JobError> error;
  bool stopped = false;
  {
    // SQLCancel is the one call ODBC allows on a statement from another thread.
    auto registration = ctx.cancel.on_cancel([h = stmt.get()] { SQLCancel(h); });
    auto rc = ctx.cancel.cancelled()
                  ? SQL_ERROR
                  : SQLExecDirect(stmt.get(), reinterpret_cast<SQLCHAR*>(text.data()), SQL_NTS);
    SQLSMALLINT width = 0;
    if (ctx.cancel.cancelled()) {
      stopped = true;
    } else if (!ok(rc) && rc != SQL_NO_DATA) {
      error = classify(diagnose(SQL_HANDLE_STMT, stmt.get()), false);
    } else if (!ok(SQLNumResultCols(stmt.get(), &width)) || width == 0) {
      ctx.sink.set_columns({});
    } else {
      auto shape = describe(stmt.get(), width);
      ctx.sink.set_columns(shape.columns);
      std::string scratch;
      std::uint64_t rows = 0;
      while (!error && !stopped) {
        rc = SQLFetch(stmt.get());
        if (rc == SQL_NO_DATA) break;
        if (!ok(rc)) {
          error = classify(diagnose(SQL_HANDLE_STMT, stmt.get()), false);
          break;
        }
        RowWriter& writer = ctx.sink.begin_row();
        for (SQLUSMALLINT i = 0; i < shape.kinds.size() && !error; ++i) {
          error = write_column(stmt.get(), static_cast<SQLUSMALLINT>(i + 1), shape.kinds[i], writer,
                               scratch);
        }
        if (error) break;
        stopped = !ctx.sink.end_row() || ((++rows & 1023U) == 0 && ctx.cancel.cancelled());
      }
      SQLCloseCursor(stmt.get());
    }
  }
  if (ctx.cancel.cancelled()) {
    c.mark_broken();
    return cancelled_result(ctx.cancel.reason());
  }
  if (error) {
    if (error->code == ErrorCode::kUnreachable) c.mark_broken();
    return failed(std::move(*error));
  }
  return JobResult::success();
}

std::string column_text(SQLHSTMT stmt, SQLUSMALLINT index) {
  char buffer[1024] = {};
  SQLLEN indicator = 0;
  if (!ok(SQLGetData(stmt, index, SQL_C_CHAR, buffer, sizeof buffer, &indicator)) ||
      indicator == SQL_NULL_DATA) {
    return {};
  }
  return buffer;
}

bool is_system_schema(const std::string& schema) {
  static const char* kSystem[] = {
      "information_schema", "pg_catalog",        "pg_toast", "sys", "mysql",
      "performance_schema", "INFORMATION_SCHEMA"};
  for (const char* s : kSystem) {
    if (schema == s) return true;
  }
  return false;
}

std::optional<std::string> table_kind(const std::string& type) {
  if (type == "TABLE" || type == "BASE TABLE") return "table";
  if (type == "VIEW") return "view";
  if (type == "MATERIALIZED VIEW") return "materialized_view";
  if (type == "FOREIGN TABLE") return "foreign_table";
  return std::nullopt;
}

JobResult run_metadata(JobContext& ctx, OdbcConnection& c) {
  const auto& params = ctx.job.params;
  std::vector<std::string> schemas;
  bool include_views = true;
  if (!params.is_null() && !params.is_object()) {
    return JobResult::failure(ErrorCode::kInvalidJob, "metadata params must be an object");
  }
  if (params.is_object()) {
    if (auto it = params.find("schemas"); it != params.end() && !it->is_null()) {
      if (!it->is_array()) {
        return JobResult::failure(ErrorCode::kInvalidJob,
                                  "\"schemas\" must be an array of strings");
      }
      for (const auto& s : *it) {
        if (!s.is_string()) {
          return JobResult::failure(ErrorCode::kInvalidJob,
                                    "\"schemas\" must be an array of strings");
        }
        schemas.push_back(s.get<std::string>());
      }
    }
    if (auto it = params.find("include_views"); it != params.end() && it->is_boolean()) {
      include_views = it->get<bool>();
    }
  }
  auto wanted = [&](const std::string& schema) {
    if (is_system_schema(schema)) return false;
    return schemas.empty() || std::find(schemas.begin(), schemas.end(), schema) != schemas.end();
  };

  // One catalog call per kind: SQLTables for tables and views, SQLColumns for
  // every column; columns are attached by (schema, table).
  std::vector<nlohmann::json> tables;
  std::map<std::pair<std::string, std::string>, std::size_t> index;
  {
    Statement stmt(c.dbc());
    if (!ok(SQLTables(stmt.get(), nullptr, 0, nullptr, 0, nullptr, 0, nullptr, 0))) {
      return failed(classify(diagnose(SQL_HANDLE_STMT, stmt.get()), false));
    }
    while (ok(SQLFetch(stmt.get()))) {
      // Columns are read in order: not every driver supports SQL_GD_ANY_ORDER.
      const std::string catalog = column_text(stmt.get(), 1);
      std::string schema = column_text(stmt.get(), 2);
      if (schema.empty()) schema = catalog;  // catalog-only drivers
      const std::string name = column_text(stmt.get(), 3);
      const auto kind = table_kind(column_text(stmt.get(), 4));
      if (!kind || !wanted(schema) || (!include_views && *kind == "view")) continue;
      index[{schema, name}] = tables.size();
      tables.push_back({{"schema", schema},
                        {"name", name},
                        {"kind", *kind},
                        {"row_estimate", nullptr},
                        {"columns", nlohmann::json::array()}});
    }
  }
  {
    Statement stmt(c.dbc());
    if (!ok(SQLColumns(stmt.get(), nullptr, 0, nullptr, 0, nullptr, 0, nullptr, 0))) {
      return failed(classify(diagnose(SQL_HANDLE_STMT, stmt.get()), false));
    }
    while (ok(SQLFetch(stmt.get()))) {
      if (ctx.cancel.cancelled()) return cancelled_result(ctx.cancel.reason());
      const std::string catalog = column_text(stmt.get(), 1);
      std::string schema = column_text(stmt.get(), 2);
      if (schema.empty()) schema = catalog;
      auto it = index.find({schema, column_text(stmt.get(), 3)});
      if (it == index.end()) continue;
      const std::string name = column_text(stmt.get(), 4);
      const std::string type = column_text(stmt.get(), 6);
      SQLSMALLINT nullable = SQL_NULLABLE_UNKNOWN;
      SQLLEN indicator = 0;
      SQLGetData(stmt.get(), 11, SQL_C_SSHORT, &nullable, sizeof nullable, &indicator);
      // SQLColumns returns each table's columns in ordinal order; the
      // position is counted here because ORDINAL_POSITION is unreliable
      // (psqlODBC 13 fills it with a catalog-wide counter).
      auto& columns = tables[it->second]["columns"];
      const auto ordinal = static_cast<std::int64_t>(columns.size()) + 1;
      columns.push_back({{"name", name},
                         {"type", type},
                         {"nullable", nullable != SQL_NO_NULLS},
                         {"ordinal", ordinal}});
    }
  }
  for (const auto& table : tables) {
    if (!ctx.sink.add_table(table)) break;
  }
  std::string database = c.dbms_name();
  {
    char name[256] = {};
    SQLSMALLINT length = 0;
    if (ok(SQLGetInfo(c.dbc(), SQL_DATABASE_NAME, name, sizeof name, &length))) database = name;
  }
  return JobResult::success({{"database", database}});
}

}  // namespace

std::vector<JobType> OdbcConnector::job_types() const {
  return {JobType::kTestConnection, JobType::kMetadata, JobType::kQuery};
}

JobResult OdbcConnector::run(JobContext& ctx) {
  const auto started = Clock::now();
  auto parsed = parse_config(ctx.job.source.config, catalog_, ctx.policy);
  if (!parsed.config) return JobResult::failure(ErrorCode::kInvalidJob, parsed.error);
  if (ctx.cancel.cancelled()) return cancelled_result(ctx.cancel.reason());
  Lease lease(pool_, common::config_fingerprint(ctx.job.source.config));
  if (auto error =
          lease.open(*parsed.config, ctx.network, ctx.job.type == JobType::kTestConnection)) {
    return failed(std::move(*error));
  }
  // The privilege gate: query and metadata jobs only on logins that can do
  // no more than read, unless the operator opted in.
  const auto& privileges = lease.connection().privileges();
  if (ctx.job.type != JobType::kTestConnection && !privileges.empty() &&
      !privileged_login_allowed(ctx.policy, ctx.job.source)) {
    std::string names;
    for (const auto& p : privileges) names += (names.empty() ? "" : ", ") + p;
    return JobResult::failure(
        ErrorCode::kPermissionDenied,
        "the database login is privileged (" + names +
            "): refused unless the operator allows privileged logins (--allow-privileged-logins, "
            "or allow_privileged_login on a sources-file source)");
  }
  switch (ctx.job.type) {
    case JobType::kTestConnection: return run_test_connection(ctx, lease.connection(), started);
    case JobType::kMetadata: return run_metadata(ctx, lease.connection());
    case JobType::kQuery: return run_query(ctx, lease.connection());
  }
  return JobResult::failure(ErrorCode::kUnsupported, "unknown job type");
}

void register_connector(ConnectorRegistry& registry) {
  registry.add(std::make_shared<OdbcConnector>());
}

}  // namespace outpost::connectors::odbc
