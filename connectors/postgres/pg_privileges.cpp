#include "postgres/pg_privileges.hpp"

#include <string_view>

namespace outpost::connectors::postgres {
namespace {

// "Can do more than read", precisely. A READ ONLY transaction stops writes to
// tables but not what acts outside the database's data: COPY … TO PROGRAM /
// TO 'file' (also from a DO block), pg_read_file, lo_export,
// pg_terminate_backend, CHECKPOINT, dblink's own connections. So the gate
// looks at the login itself, over every role it can become (pg_has_role
// MEMBER: a NOINHERIT grant can still be used with SET ROLE; privilege
// functions are asked for current_user, which covers inherited roles, and
// for each role reachable only by SET ROLE):
//   - role attributes: SUPERUSER, CREATEROLE (can grant itself the roles
//     below), CREATEDB, REPLICATION (replication slots, base backups);
//   - predefined roles that reach the server: pg_execute_server_program,
//     pg_write_server_files, pg_read_server_files, pg_signal_backend,
//     pg_checkpoint, pg_write_all_data, pg_create_subscription;
//   - EXECUTE on server-file and server-control functions PUBLIC does not
//     have (pg_read_file, lo_export, pg_reload_conf, …), and on dblink's
//     functions (they run SQL on connections outside our transaction);
//   - in the current database: INSERT, UPDATE, DELETE, TRUNCATE or TRIGGER on
//     any relation (column-level INSERT/UPDATE too), USAGE or UPDATE on a
//     sequence (nextval/setval), CREATE on a schema or the database, and
//     ownership of the database, a schema or a relation (an owner can grant
//     itself everything on it).
// Temporary schemas are skipped: other sessions of this same login may hold
// temp tables, which say nothing about the login. The catalogs are not: a
// grant on them is as telling as any (pg_settings is left out: PUBLIC may
// UPDATE it, which is SET). Each check stops at its first hit.
constexpr const char* kProbeSql = R"SQL(
WITH me AS (
  SELECT r.oid, r.rolname, r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolreplication,
         r.rolbypassrls
  FROM pg_catalog.pg_roles r
  WHERE pg_catalog.pg_has_role(current_user, r.oid, 'MEMBER')),
setonly AS (
  SELECT oid FROM me WHERE NOT pg_catalog.pg_has_role(current_user, oid, 'USAGE'))
SELECT pg_catalog.set_config('application_name', $1, false),
  pg_catalog.current_setting('server_version'), current_user, pg_catalog.current_database(),
  (SELECT pg_catalog.bool_or(rolsuper) FROM me),
  pg_catalog.concat_ws(',',
    CASE WHEN (SELECT pg_catalog.bool_or(rolcreaterole) FROM me) THEN 'createrole' END,
    CASE WHEN (SELECT pg_catalog.bool_or(rolcreatedb) FROM me) THEN 'createdb' END,
    CASE WHEN (SELECT pg_catalog.bool_or(rolreplication) FROM me) THEN 'replication' END),
  (SELECT pg_catalog.string_agg(rolname::text, ',' ORDER BY rolname) FROM me
   WHERE rolname IN ('pg_execute_server_program', 'pg_write_server_files',
                     'pg_read_server_files', 'pg_signal_backend', 'pg_checkpoint',
                     'pg_write_all_data', 'pg_create_subscription')),
  (SELECT pg_catalog.string_agg(DISTINCT p.proname::text, ',') FROM pg_catalog.pg_proc p
   WHERE p.pronamespace = 'pg_catalog'::pg_catalog.regnamespace
     AND p.proname IN ('pg_read_file', 'pg_read_binary_file', 'pg_ls_dir', 'pg_stat_file',
                       'lo_import', 'lo_export', 'pg_file_write', 'pg_file_rename',
                       'pg_file_unlink', 'pg_file_sync', 'pg_logdir_ls', 'pg_reload_conf',
                       'pg_rotate_logfile', 'pg_promote', 'pg_switch_wal',
                       'pg_create_restore_point', 'pg_backup_start', 'pg_backup_stop',
                       'pg_start_backup', 'pg_stop_backup', 'pg_log_backend_memory_contexts',
                       'pg_replication_origin_create')
     AND (pg_catalog.has_function_privilege(p.oid, 'EXECUTE')
          OR EXISTS (SELECT 1 FROM setonly
                     WHERE pg_catalog.has_function_privilege(setonly.oid, p.oid, 'EXECUTE')))),
  EXISTS (SELECT 1 FROM pg_catalog.pg_extension e
          JOIN pg_catalog.pg_depend d
            ON d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
           AND d.refobjid = e.oid AND d.deptype = 'e'
           AND d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
          JOIN pg_catalog.pg_proc p ON p.oid = d.objid
          WHERE e.extname = 'dblink'
            AND p.proname IN ('dblink', 'dblink_exec', 'dblink_connect', 'dblink_send_query')
            AND (pg_catalog.has_function_privilege(p.oid, 'EXECUTE')
                 OR EXISTS (SELECT 1 FROM setonly s WHERE
                              pg_catalog.has_function_privilege(s.oid, p.oid, 'EXECUTE')))),
  (SELECT pg_catalog.format('%I.%I', n.nspname, c.relname)
   FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
     AND c.oid <> 'pg_catalog.pg_settings'::pg_catalog.regclass
     AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
     AND (EXISTS (SELECT 1 FROM pg_catalog.aclexplode(c.relacl) g
                  WHERE g.privilege_type IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'TRIGGER')
                    AND (g.grantee = 0 OR g.grantee IN (SELECT oid FROM me)))
          OR EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a, pg_catalog.aclexplode(a.attacl) g
                     WHERE a.attrelid = c.oid AND a.attacl IS NOT NULL
                       AND g.privilege_type IN ('INSERT', 'UPDATE')
                       AND (g.grantee = 0 OR g.grantee IN (SELECT oid FROM me))))
   LIMIT 1),
  (SELECT pg_catalog.format('%I.%I', n.nspname, c.relname)
   FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind = 'S' AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
     AND (pg_catalog.has_sequence_privilege(c.oid, 'USAGE, UPDATE')
          OR EXISTS (SELECT 1 FROM setonly
                     WHERE pg_catalog.has_sequence_privilege(setonly.oid, c.oid, 'USAGE, UPDATE')))
   LIMIT 1),
  (SELECT pg_catalog.format('%I', n.nspname) FROM pg_catalog.pg_namespace n
   WHERE n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
     AND (pg_catalog.has_schema_privilege(n.oid, 'CREATE')
          OR EXISTS (SELECT 1 FROM setonly
                     WHERE pg_catalog.has_schema_privilege(setonly.oid, n.oid, 'CREATE')))
   LIMIT 1),
  pg_catalog.has_database_privilege(pg_catalog.current_database(), 'CREATE')
    OR EXISTS (SELECT 1 FROM setonly
               WHERE pg_catalog.has_database_privilege(setonly.oid,
                                                       pg_catalog.current_database(), 'CREATE')),
  COALESCE(
    (SELECT 'database ' || pg_catalog.format('%I', d.datname) FROM pg_catalog.pg_database d
     WHERE d.datname = pg_catalog.current_database() AND d.datdba IN (SELECT oid FROM me)),
    (SELECT 'schema ' || pg_catalog.format('%I', n.nspname) FROM pg_catalog.pg_namespace n
     WHERE n.nspowner IN (SELECT oid FROM me) AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
     LIMIT 1),
    (SELECT 'relation ' || pg_catalog.format('%I.%I', n.nspname, c.relname)
     FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relowner IN (SELECT oid FROM me) AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
     LIMIT 1)),
  (SELECT pg_catalog.bool_or(rolbypassrls) FROM me)
)SQL";

enum Column {
  kVersion = 1,
  kUser,
  kDatabase,
  kSuper,
  kAttributes,
  kRoles,
  kFunctions,
  kDblink,
  kTable,
  kSequence,
  kSchema,
  kDatabaseCreate,
  kOwner,
  kBypassRls,
  kColumns
};

std::vector<std::string> split(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    out.emplace_back(text.substr(0, comma));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

std::string role_detail(const std::string& role) {
  if (role == "pg_execute_server_program") {
    return "COPY ... TO/FROM PROGRAM runs programs on the database server";
  }
  if (role == "pg_write_server_files") return "COPY ... TO 'file' writes files on the server";
  if (role == "pg_read_server_files") {
    return "COPY ... FROM 'file', pg_read_file and lo_import read files on the server";
  }
  if (role == "pg_signal_backend") {
    return "pg_terminate_backend and pg_cancel_backend stop other users' sessions";
  }
  if (role == "pg_checkpoint") return "CHECKPOINT forces a checkpoint";
  if (role == "pg_write_all_data") return "INSERT, UPDATE and DELETE on every table";
  return "CREATE SUBSCRIPTION opens connections from the server";
}

std::string attribute_detail(const std::string& attribute) {
  if (attribute == "createrole") {
    return "CREATEROLE: creates roles and grants itself the server-file and program roles";
  }
  if (attribute == "createdb") return "CREATEDB: creates databases";
  return "REPLICATION: replication connections, slots that retain WAL, base backups";
}

}  // namespace

std::vector<std::string> SessionInfo::names() const {
  std::vector<std::string> out;
  out.reserve(privileges.size());
  for (const auto& p : privileges) out.push_back(p.name);
  return out;
}

const char* probe_sql() noexcept {
  return kProbeSql;
}

SessionInfo parse_probe(const PGresult* r) {
  auto text = [r](int column) -> std::string {
    return PQgetisnull(r, 0, column) != 0 ? std::string() : std::string(PQgetvalue(r, 0, column));
  };
  auto flag = [&](int column) { return text(column) == "t"; };
  SessionInfo info;
  info.server_version = text(kVersion);
  info.user = text(kUser);
  info.database = text(kDatabase);
  if (flag(kBypassRls)) info.notes.emplace_back("bypassrls");
  auto& out = info.privileges;
  if (flag(kSuper)) {
    out.push_back({"superuser",
                   "SUPERUSER: every privilege, including running programs and "
                   "reading and writing files on the server"});
    return info;
  }
  for (const auto& a : split(text(kAttributes))) out.push_back({a, attribute_detail(a)});
  for (const auto& role : split(text(kRoles))) {
    out.push_back({role, "member of " + role + ": " + role_detail(role)});
  }
  for (const auto& fn : split(text(kFunctions))) {
    out.push_back({"execute:" + fn, "EXECUTE on " + fn + ", which PUBLIC does not have"});
  }
  if (flag(kDblink)) {
    out.push_back({"dblink",
                   "EXECUTE on dblink functions: SQL on connections of their own, "
                   "outside the job's read-only transaction"});
  }
  if (const auto t = text(kTable); !t.empty()) {
    out.push_back({"table_write", "INSERT, UPDATE, DELETE, TRUNCATE or TRIGGER on " + t +
                                      " (the first of possibly more)"});
  }
  if (const auto s = text(kSequence); !s.empty()) {
    out.push_back({"sequence_write", "USAGE or UPDATE on sequence " + s + " (nextval, setval)"});
  }
  if (const auto s = text(kSchema); !s.empty()) {
    out.push_back({"schema_create", "CREATE on schema " + s});
  }
  if (flag(kDatabaseCreate)) {
    out.push_back({"database_create", "CREATE on database " + info.database});
  }
  if (const auto o = text(kOwner); !o.empty()) out.push_back({"owner", "owns " + o});
  return info;
}

bool ProbeSlot::acquire_until(std::chrono::steady_clock::time_point until) {
  std::unique_lock lock(mu_);
  while (busy_) {
    const auto left = until - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) return false;
    freed_.wait_until(lock, std::chrono::system_clock::now() + left);
  }
  busy_ = true;
  return true;
}

void ProbeSlot::release() {
  {
    std::lock_guard lock(mu_);
    busy_ = false;
  }
  freed_.notify_all();
}

std::shared_ptr<ProbeSlot> VerdictCache::prober(const std::string& key) {
  std::lock_guard lock(mu_);
  if (entries_.size() >= kMaxEntries && entries_.find(key) == entries_.end()) {
    // A control plane can invent configs without end: forget stale verdicts
    // first, and everything if that is not enough.
    const auto now = Clock::now();
    std::erase_if(entries_, [&](const auto& e) { return now - e.second.at >= kTtl; });
    if (entries_.size() >= kMaxEntries) entries_.clear();
  }
  return entries_[key].prober;
}

std::optional<SessionInfo> VerdictCache::fresh(const std::string& key) const {
  std::lock_guard lock(mu_);
  const auto it = entries_.find(key);
  if (it == entries_.end() || !it->second.info || Clock::now() - it->second.at >= kTtl) {
    return std::nullopt;
  }
  return it->second.info;
}

void VerdictCache::store(const std::string& key, const SessionInfo& info) {
  std::lock_guard lock(mu_);
  auto& entry = entries_[key];
  entry.info = info;
  entry.at = Clock::now();
}

std::optional<JobError> privilege_gate(const SessionInfo& info, const JobContext& ctx) {
  if (ctx.job.type == JobType::kTestConnection || !info.privileged()) return std::nullopt;
  if (privileged_login_allowed(ctx.policy, ctx.job.source)) return std::nullopt;
  std::string list;
  for (const auto& p : info.privileges) {
    if (!list.empty()) list += "; ";
    list += p.name + " (" + p.detail + ")";
  }
  return JobError{
      ErrorCode::kPermissionDenied,
      "login \"" + info.user + "\" can do more than read: " + list +
          ". A READ ONLY transaction does not stop all of that, so query and metadata jobs are "
          "refused on this login. Use a read-only login (for example GRANT pg_read_all_data), or "
          "let the operator opt in with --allow-privileged-logins or "
          "\"allow_privileged_login\": true on this source in the agent's sources file",
      false};
}

}  // namespace outpost::connectors::postgres
