#include "store/postgres/pg_connection.hpp"

#include <charconv>
#include <cstring>

#include "store/job_store.hpp"  // StoreUnavailable

namespace outpost::hub::pg {

namespace {

// SQLSTATEs that mean "the server cannot do work now", not "this statement
// is wrong": connection exceptions (class 08), operator intervention
// (57P01..57P05: shutdown, crash recovery, cannot connect now), too many
// connections (53300) and read-only standby during a failover (25006).
bool unavailable_state(std::string_view state) {
  return state.starts_with("08") || state.starts_with("57P") || state == "53300" ||
         state == "25006";
}

// Server notices (e.g. "terminating connection due to administrator
// command" before a shutdown) would go to stderr by default; the error that
// follows is reported through the store's exceptions instead.
void ignore_notice(void*, const char*) {}

}  // namespace

std::string one_line(const char* message) {
  std::string out;
  bool space = false;
  for (const char* p = message == nullptr ? "" : message; *p != '\0'; ++p) {
    const bool blank = *p == '\n' || *p == '\t' || *p == ' ';
    if (blank && space) continue;
    out.push_back(blank ? ' ' : *p);
    space = blank;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

Connection::Connection(const ConnParams& params) : display_(params.display) {
  std::vector<const char*> keys, values;
  for (const auto& [k, v] : params.keywords) {
    keys.push_back(k.c_str());
    values.push_back(v.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  conn_ = PQconnectdbParams(keys.data(), values.data(), 0);
  if (conn_ == nullptr) throw StoreUnavailable("PostgreSQL store: out of memory connecting");
  if (PQstatus(conn_) != CONNECTION_OK) {
    // libpq's message names host and port, never the password.
    std::string message =
        "PostgreSQL store " + display_ + " unreachable: " + one_line(PQerrorMessage(conn_));
    PQfinish(conn_);
    conn_ = nullptr;
    throw StoreUnavailable(message);
  }
  PQsetNoticeProcessor(conn_, ignore_notice, nullptr);
}

Connection::~Connection() {
  if (conn_ != nullptr) PQfinish(conn_);
}

bool Connection::broken() const noexcept {
  return conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK;
}

bool Connection::in_transaction() const noexcept {
  const auto s = PQtransactionStatus(conn_);
  return s == PQTRANS_INTRANS || s == PQTRANS_INERROR || s == PQTRANS_ACTIVE;
}

void raise(PGconn* conn, const PGresult* result, std::string_view what) {
  const char* state_c = result == nullptr ? nullptr : PQresultErrorField(result, PG_DIAG_SQLSTATE);
  const std::string state = state_c == nullptr ? "" : state_c;
  const char* msg_c = result != nullptr ? PQresultErrorMessage(result) : nullptr;
  std::string message = one_line(msg_c != nullptr && *msg_c != '\0' ? msg_c : PQerrorMessage(conn));
  if (PQstatus(conn) != CONNECTION_OK || unavailable_state(state) || state.empty()) {
    throw StoreUnavailable("PostgreSQL store unavailable (" + std::string(what) + "): " + message);
  }
  throw StatementError(
      state, "PostgreSQL store: " + std::string(what) + " failed [" + state + "]: " + message);
}

Result Connection::check(Result result) {
  const auto status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;
  raise(conn_, result.get(), "query");
}

Result Connection::exec(const char* sql) {
  return check(Result(PQexec(conn_, sql)));
}

namespace {

std::vector<const char*> values_of(const Params& params) {
  std::vector<const char*> out;
  out.reserve(params.size());
  for (const auto& p : params) out.push_back(p ? p->c_str() : nullptr);
  return out;
}

}  // namespace

Result Connection::exec(const char* sql, const Params& params) {
  const auto values = values_of(params);
  return check(Result(PQexecParams(conn_, sql, static_cast<int>(values.size()), nullptr,
                                   values.data(), nullptr, nullptr, 0)));
}

Result Connection::run(const Statement& statement, const Params& params) {
  if (!prepared_.contains(statement.name)) {
    check(Result(PQprepare(conn_, statement.name.c_str(), statement.sql.c_str(), 0, nullptr)));
    prepared_.emplace(statement.name);
  }
  const auto values = values_of(params);
  return check(Result(PQexecPrepared(conn_, statement.name.c_str(), static_cast<int>(values.size()),
                                     values.data(), nullptr, nullptr, 0)));
}

std::string text(const PGresult* r, int row, int col) {
  return std::string(PQgetvalue(r, row, col), static_cast<std::size_t>(PQgetlength(r, row, col)));
}

std::optional<std::string> opt_text(const PGresult* r, int row, int col) {
  if (is_null(r, row, col)) return std::nullopt;
  return text(r, row, col);
}

std::int64_t int64(const PGresult* r, int row, int col) {
  const char* v = PQgetvalue(r, row, col);
  std::int64_t out = 0;
  const auto [end, ec] = std::from_chars(v, v + std::strlen(v), out);
  if (ec != std::errc{}) throw std::runtime_error("PostgreSQL store: not an integer column");
  return out;
}

bool boolean(const PGresult* r, int row, int col) {
  return PQgetvalue(r, row, col)[0] == 't';
}

}  // namespace outpost::hub::pg
