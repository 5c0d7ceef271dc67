#include "store/postgres/pg_records.hpp"

#include <stdexcept>

namespace outpost::hub::pg {

std::string ms(SystemTime t) {
  return std::to_string(
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count());
}

SystemTime from_ms(std::int64_t value) {
  return SystemTime(
      std::chrono::duration_cast<SystemTime::duration>(std::chrono::milliseconds(value)));
}

std::optional<SystemTime> opt_time(const PGresult* r, int row, int col) {
  if (is_null(r, row, col)) return std::nullopt;
  return from_ms(int64(r, row, col));
}

std::string ts(int n) {
  // Integer arithmetic on an interval: exact to the millisecond (a double
  // through to_timestamp() could be off by one microsecond).
  return "(timestamptz 'epoch' + $" + std::to_string(n) + "::bigint * interval '1 millisecond')";
}

std::string ms_of(const std::string& expr) {
  return "floor(extract(epoch FROM " + expr + ") * 1000)::bigint";
}

std::string async_commit() {
  return "(SELECT set_config('synchronous_commit', 'off', true)) = 'off'";
}

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::string from_hex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw std::runtime_error("PostgreSQL store: bad hex in a bytea column");
  };
  // bytea in text format is "\x" followed by hex digits.
  if (hex.starts_with("\\x")) hex.remove_prefix(2);
  std::string out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(nibble(hex[i]) * 16 + nibble(hex[i + 1])));
  }
  return out;
}

std::optional<Json> opt_json(const PGresult* r, int row, int col) {
  if (is_null(r, row, col)) return std::nullopt;
  return Json::parse(PQgetvalue(r, row, col), PQgetvalue(r, row, col) + PQgetlength(r, row, col));
}

std::string job_columns(const std::string& a) {
  const std::string p = a + ".";
  return p + "seq, " + p + "id, " + p + "type, " + p + "pool_id, " + p + "source_id, " + p +
         "source, " + p + "params, " + p + "timeout_ms, " + p + "status, " + p + "attempt, " + p +
         "expiries, " + p + "agent_instance, " + ms_of(p + "created_at") + ", " +
         ms_of(p + "started_at") + ", " + ms_of(p + "finished_at") + ", " + p + "result, " + p +
         "error, " + p + "progress, " + p + "lease_token, " + ms_of(p + "lease_expires_at") + ", " +
         p + "lease_instance, " + p + "part_count, " +
         "(SELECT coalesce(json_agg(json_build_object("
         "'attempt', x.attempt, 'agent_instance', x.agent_instance, "
         "'started_at', " +
         ms_of("x.started_at") + ", 'finished_at', " + ms_of("x.finished_at") +
         ", 'status', x.status, 'error', x.error) ORDER BY x.id), '[]') "
         "FROM job_attempts x WHERE x.job_seq = " +
         p + "seq), " + "coalesce(" + p + "max_attempts, 0), " + p + "retry_backoff_ms, " +
         ms_of(p + "run_at");
}

namespace {

std::vector<AttemptRecord> attempts_from(const Json& list) {
  std::vector<AttemptRecord> out;
  for (const auto& a : list) {
    AttemptRecord rec;
    rec.attempt = a.at("attempt").get<int>();
    rec.agent_instance = a.at("agent_instance").get<std::string>();
    rec.started_at = from_ms(a.at("started_at").get<std::int64_t>());
    if (!a.at("finished_at").is_null()) {
      rec.finished_at = from_ms(a.at("finished_at").get<std::int64_t>());
    }
    rec.status = a.at("status").get<std::string>();
    if (!a.at("error").is_null()) rec.error = a.at("error");
    out.push_back(std::move(rec));
  }
  return out;
}

}  // namespace

JobRecord job_from_row(const PGresult* r, int row) {
  JobRecord j;
  j.seq = static_cast<std::uint64_t>(int64(r, row, 0));
  j.id = text(r, row, 1);
  j.type = text(r, row, 2);
  j.pool_id = text(r, row, 3);
  j.source_id = opt_text(r, row, 4);
  j.source = opt_json(r, row, 5).value_or(Json::object());
  j.params = opt_json(r, row, 6).value_or(Json::object());
  j.timeout_ms = int64(r, row, 7);
  const auto status = parse_job_status(text(r, row, 8));
  if (!status) throw std::runtime_error("PostgreSQL store: unknown job status in the database");
  j.status = *status;
  j.attempt = static_cast<int>(int64(r, row, 9));
  j.expiries = static_cast<int>(int64(r, row, 10));
  j.agent_instance = text(r, row, 11);
  j.created_at = from_ms(int64(r, row, 12));
  j.started_at = opt_time(r, row, 13);
  j.finished_at = opt_time(r, row, 14);
  j.result = opt_json(r, row, 15);
  j.error = opt_json(r, row, 16);
  j.progress = opt_json(r, row, 17);
  if (!is_null(r, row, 18)) {
    j.lease = Lease{text(r, row, 18), from_ms(int64(r, row, 19)), text(r, row, 20)};
  }
  j.part_count = static_cast<std::uint64_t>(int64(r, row, 21));
  if (auto list = opt_json(r, row, 22)) j.attempts = attempts_from(*list);
  j.max_attempts = static_cast<int>(int64(r, row, 23));
  j.retry_backoff_ms = int64(r, row, 24);
  j.run_at = opt_time(r, row, 25);
  return j;
}

std::string token_columns() {
  return "id, name, pool_id, hash, " + ms_of("created_at") + ", " + ms_of("last_used_at") +
         ", revoked";
}

TokenRecord token_from_row(const PGresult* r, int row) {
  TokenRecord t;
  t.id = text(r, row, 0);
  t.name = text(r, row, 1);
  t.pool_id = text(r, row, 2);
  t.hash = from_hex(text(r, row, 3));
  t.created_at = from_ms(int64(r, row, 4));
  t.last_used_at = opt_time(r, row, 5);
  t.revoked = boolean(r, row, 6);
  return t;
}

std::string source_columns() {
  return "id, name, type, pool_id, config, " + ms_of("created_at");
}

SourceRecord source_from_row(const PGresult* r, int row) {
  SourceRecord s;
  s.id = text(r, row, 0);
  s.name = text(r, row, 1);
  s.type = text(r, row, 2);
  s.pool_id = text(r, row, 3);
  s.config = opt_json(r, row, 4).value_or(Json::object());
  s.created_at = from_ms(int64(r, row, 5));
  return s;
}

std::string instance_columns(const std::string& a) {
  const std::string p = a + ".";
  return p + "instance_id, " + p + "token_id, " + p + "pool_id, " + p + "version, " + p +
         "hostname, " + p + "capacity, " + p + "reported_running, " + p + "uptime_ms, " + p +
         "connectors, " + ms_of(p + "first_seen") + ", " + ms_of(p + "last_seen") +
         ", (SELECT count(*) FROM jobs l WHERE l.status = 'running' AND l.lease_token IS NOT NULL"
         " AND l.lease_instance = " +
         p + "instance_id)";
}

InstanceRecord instance_from_row(const PGresult* r, int row) {
  InstanceRecord i;
  i.instance_id = text(r, row, 0);
  i.token_id = text(r, row, 1);
  i.pool_id = text(r, row, 2);
  i.version = text(r, row, 3);
  i.hostname = text(r, row, 4);
  i.capacity = int64(r, row, 5);
  if (!is_null(r, row, 6)) i.reported_running = int64(r, row, 6);
  if (!is_null(r, row, 7)) i.uptime_ms = int64(r, row, 7);
  i.connectors = opt_json(r, row, 8).value_or(Json::array());
  i.first_seen = from_ms(int64(r, row, 9));
  i.last_seen = from_ms(int64(r, row, 10));
  i.leased = int64(r, row, 11);
  return i;
}

}  // namespace outpost::hub::pg
