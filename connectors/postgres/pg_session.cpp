#include "postgres/pg_session.hpp"

#include <system_error>
#include <thread>
#include <utility>

#include <poll.h>

#include <cerrno>

#include "common/error_classify.hpp"

namespace outpost::connectors::postgres {
namespace {

using Clock = std::chrono::steady_clock;
using common::contains_icase;

// Every wait is cut into slices this long so cancellation is noticed quickly.
constexpr int kPollSliceMs = 50;
// After a cancel, how long the server gets to answer before the session is
// abandoned (closed) instead of waited for.
constexpr auto kCancelGrace = std::chrono::seconds(2);
// The server's statement_timeout ends the statement at the deadline; the
// client-side cancel is the backstop (no runtime cancel, a server ignoring
// the setting) and comes this much later so the server's, clearer, error wins.
constexpr auto kSelfCancelDelay = std::chrono::milliseconds(500);

ErrorCode code_for(CancelReason reason) {
  return reason == CancelReason::kTimeout || reason == CancelReason::kNone ? ErrorCode::kTimeout
                                                                           : ErrorCode::kCancelled;
}

}  // namespace

std::string trim_message(std::string message) {
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ' ||
                              message.back() == '\r' || message.back() == '\t')) {
    message.pop_back();
  }
  return message;
}

Session::Connected Session::connect(const ConnectParams& params, const CancelToken& cancel,
                                    Clock::time_point deadline) {
  std::vector<const char*> keywords;
  std::vector<const char*> values;
  for (std::size_t i = 0; i < params.keywords.size(); ++i) {
    keywords.push_back(params.keywords[i].c_str());
    values.push_back(params.values[i].c_str());
  }
  keywords.push_back(nullptr);
  values.push_back(nullptr);
  // libpq enforces connect_timeout only in its blocking path, so we do it here.
  const auto connect_deadline =
      std::min(deadline, Clock::now() + std::chrono::seconds(params.connect_timeout_s));

  PGconn* raw = PQconnectStartParams(keywords.data(), values.data(), 0);
  if (raw == nullptr)
    return {nullptr, JobError{ErrorCode::kInternal, "libpq: out of memory", true}};
  auto session = std::make_unique<Session>(raw);
  // libpq prints server NOTICEs/WARNINGs to stderr by default, which would
  // corrupt the agent's structured log; they carry nothing a job reports.
  PQsetNoticeProcessor(
      raw, [](void*, const char*) {}, nullptr);
  if (PQstatus(raw) == CONNECTION_BAD) {
    return {nullptr, map_connect_error(PQerrorMessage(raw))};
  }
  PostgresPollingStatusType state = PGRES_POLLING_WRITING;
  while (state != PGRES_POLLING_OK) {
    if (state == PGRES_POLLING_FAILED) return {nullptr, map_connect_error(PQerrorMessage(raw))};
    pollfd pfd{PQsocket(raw), static_cast<short>(state == PGRES_POLLING_READING ? POLLIN : POLLOUT),
               0};
    for (;;) {
      if (cancel.cancelled()) {
        const auto code = code_for(cancel.reason());
        return {nullptr, JobError{code,
                                  code == ErrorCode::kTimeout ? "job timed out while connecting"
                                                              : "job cancelled while connecting",
                                  code == ErrorCode::kTimeout}};
      }
      if (Clock::now() >= connect_deadline) {
        return {nullptr, JobError{ErrorCode::kTimeout,
                                  "timeout expired while connecting to the server (" +
                                      std::to_string(params.connect_timeout_s) + " s)",
                                  true}};
      }
      const int rc = ::poll(&pfd, 1, kPollSliceMs);
      if (rc > 0) break;
      if (rc < 0 && errno != EINTR) {
        return {nullptr, JobError{ErrorCode::kUnreachable, "poll failed while connecting", true}};
      }
    }
    state = PQconnectPoll(raw);
  }
  return {std::move(session), std::nullopt};
}

void Session::bind(const CancelToken* cancel, Clock::time_point deadline) noexcept {
  cancel_ = cancel;
  deadline_ = deadline;
  cancel_seen_ = {};
}

CancelToken::HookRegistration Session::guard_cancel(CancelToken& cancel,
                                                    Clock::time_point deadline) {
  bind(&cancel, deadline);
  cancel_sent_.store(false);
  pg_cancel_.reset(PQgetCancel(conn_.get()), &PQfreeCancel);
  return cancel.on_cancel([this] { send_cancel(); });
}

void Session::send_cancel() noexcept {
  if (!pg_cancel_ || cancel_sent_.exchange(true)) return;
  // PQcancel opens its own connection and then blocks until the server closes
  // it; a black-holed server never does. Send it from a short-lived detached
  // thread that co-owns the cancel handle, so neither the runtime's canceller
  // nor this job's worker can hang on it (the worker gives up after
  // kCancelGrace and abandons the session).
  try {
    std::thread([handle = pg_cancel_] {
      char err[256];
      PQcancel(handle.get(), err, sizeof err);
    }).detach();
  } catch (const std::system_error&) {
    char err[256];
    PQcancel(pg_cancel_.get(), err, sizeof err);  // no thread to be had: best effort inline
  }
}

Session::Slice Session::wait_slice() {
  PGconn* c = conn_.get();
  const auto now = Clock::now();
  const bool stop = (cancel_ != nullptr && cancel_->cancelled()) ||
                    (deadline_ != Clock::time_point::max() && now >= deadline_ + kSelfCancelDelay);
  if (stop) {
    send_cancel();  // no-op if the hook already did
    if (cancel_seen_ == Clock::time_point{}) cancel_seen_ = now;
    if (now - cancel_seen_ > kCancelGrace) {
      abandoned_ = true;
      return Slice::kGiveUp;
    }
  }
  pollfd pfd{PQsocket(c), POLLIN, 0};
  const int rc = ::poll(&pfd, 1, kPollSliceMs);
  if (rc < 0 && errno != EINTR) {
    abandoned_ = true;
    return Slice::kGiveUp;
  }
  // A broken connection makes PQconsumeInput fail; libpq then reports it.
  if (rc > 0 && PQconsumeInput(c) == 0) return Slice::kBroken;
  return Slice::kWaiting;
}

bool Session::wait_readable() {
  while (PQisBusy(conn_.get()) != 0) {
    const auto slice = wait_slice();
    if (slice == Slice::kGiveUp) return false;
    if (slice == Slice::kBroken) return true;
  }
  return true;
}

int Session::next_copy_row(char** row) {
  for (;;) {
    const int n = PQgetCopyData(conn_.get(), row, 1);
    if (n != 0) return n;
    const auto slice = wait_slice();
    if (slice == Slice::kGiveUp) return -3;
    if (slice == Slice::kBroken) return PQgetCopyData(conn_.get(), row, 1) == -1 ? -1 : -2;
  }
}

bool Session::send(std::string_view sql, const std::vector<std::string>& params) {
  const std::string text(sql);
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p.c_str());
  return PQsendQueryParams(conn_.get(), text.c_str(), static_cast<int>(values.size()), nullptr,
                           values.data(), nullptr, nullptr, 0) == 1;
}

ResultPtr Session::next_result() {
  if (abandoned_ || !wait_readable()) return nullptr;
  return ResultPtr(PQgetResult(conn_.get()));
}

ResultPtr Session::exec(std::string_view sql, const std::vector<std::string>& params) {
  if (!send(sql, params)) return ResultPtr(PQmakeEmptyPGresult(conn_.get(), PGRES_FATAL_ERROR));
  return collect();
}

ResultPtr Session::collect() {
  ResultPtr last;
  while (auto r = next_result()) {
    // Keep the first error: later results cannot be more informative.
    if (!last || PQresultStatus(last.get()) != PGRES_FATAL_ERROR) last = std::move(r);
  }
  if (abandoned_) return nullptr;
  return last;
}

ResultPtr Session::exec_simple(const std::string& sql) {
  if (PQsendQuery(conn_.get(), sql.c_str()) != 1) {
    return ResultPtr(PQmakeEmptyPGresult(conn_.get(), PGRES_FATAL_ERROR));
  }
  return collect();
}

bool Session::reset_for_pool(std::chrono::steady_clock::time_point deadline) {
  // DISCARD ALL, spelled out (PostgreSQL 15 documentation, DISCARD).
  static const std::string kReset =
      "CLOSE ALL; SET SESSION AUTHORIZATION DEFAULT; RESET ALL; DEALLOCATE ALL; UNLISTEN *; "
      "SELECT pg_catalog.pg_advisory_unlock_all(); DISCARD PLANS; DISCARD TEMP; "
      "DISCARD SEQUENCES";
  // What outlives the rollback of a read-only transaction that ran one query,
  // and the tag a new session's probe set for the whole session.
  static const std::string kAfterRollback =
      "ROLLBACK; RESET application_name; SELECT pg_catalog.pg_advisory_unlock_all(); "
      "DEALLOCATE ALL";
  const bool light = std::exchange(light_reset_, false);
  if (abandoned_ || retired_ || cancel_sent_.load() || PQstatus(conn_.get()) != CONNECTION_OK) {
    return false;
  }
  const auto tx = PQtransactionStatus(conn_.get());
  if (tx != PQTRANS_IDLE && tx != PQTRANS_INTRANS && tx != PQTRANS_INERROR) return false;
  bind(nullptr, deadline);
  // Light only while the job's own transaction is still open: nothing it ran
  // can have been committed.
  auto r = exec_simple(tx == PQTRANS_IDLE ? kReset
                       : light            ? kAfterRollback
                                          : "ROLLBACK; " + kReset);
  bind(nullptr, std::chrono::steady_clock::time_point::max());
  return r && PQresultStatus(r.get()) == PGRES_COMMAND_OK && reusable();
}

bool Session::reusable() const noexcept {
  return !abandoned_ && !retired_ && !cancel_sent_.load() &&
         PQstatus(conn_.get()) == CONNECTION_OK && PQtransactionStatus(conn_.get()) == PQTRANS_IDLE;
}

bool Session::still_open() {
  if (!reusable()) return false;
  pollfd fd{PQsocket(conn_.get()), POLLIN, 0};
  int rc = 0;
  do {
    rc = poll(&fd, 1, 0);
  } while (rc < 0 && errno == EINTR);
  // Anything that arrived while it was idle is most likely the server's
  // goodbye; the rare harmless message (a reported parameter changed) costs
  // one new connection.
  return rc == 0;
}

std::string Session::error_message() const {
  return trim_message(PQerrorMessage(conn_.get()));
}

JobError map_statement_error(const PGresult* result, CancelReason reason) {
  auto field = [&](int code) {
    const char* v = result != nullptr ? PQresultErrorField(result, code) : nullptr;
    return std::string(v != nullptr ? v : "");
  };
  const std::string state = field(PG_DIAG_SQLSTATE);
  std::string message = field(PG_DIAG_MESSAGE_PRIMARY);
  if (message.empty() && result != nullptr) message = trim_message(PQresultErrorMessage(result));
  if (message.empty()) message = "statement failed";
  if (!state.empty()) message += " (SQLSTATE " + state + ")";

  if (state == "25006") return {ErrorCode::kReadOnlyViolation, message, false};
  if (state == "42501") return {ErrorCode::kPermissionDenied, message, false};
  if (state == "57014") {
    const auto code = code_for(reason);
    return {code, message, code == ErrorCode::kTimeout};
  }
  if (state.rfind("28", 0) == 0) return {ErrorCode::kAuthFailed, message, false};
  if (state.rfind("08", 0) == 0 || state.rfind("57P", 0) == 0) {
    return {ErrorCode::kUnreachable, message, true};
  }
  if (state.empty()) {
    // Client-side failure (lost connection, out of memory): no SQLSTATE.
    if (auto code = common::classify_network_message(message)) return {*code, message, true};
    return {ErrorCode::kUnreachable, message, true};
  }
  // Serialization failures, deadlocks and resource limits may pass on retry.
  const bool transient = state == "40001" || state == "40P01" || state.rfind("53", 0) == 0;
  return {ErrorCode::kQueryError, message, transient};
}

JobError map_connect_error(std::string message) {
  message = trim_message(std::move(message));
  if (message.empty()) message = "could not connect to the server";
  // Authentication first: pg_hba messages mention "SSL off"/"no encryption".
  if (contains_icase(message, "password authentication failed") ||
      contains_icase(message, "authentication failed") ||
      contains_icase(message, "no password supplied") || contains_icase(message, "pg_hba.conf") ||
      (contains_icase(message, "role \"") && contains_icase(message, "does not exist"))) {
    return {ErrorCode::kAuthFailed, message, false};
  }
  if (contains_icase(message, "permission denied") ||
      contains_icase(message, "does not have CONNECT privilege")) {
    return {ErrorCode::kPermissionDenied, message, false};
  }
  if (contains_icase(message, "database \"") && contains_icase(message, "does not exist")) {
    return {ErrorCode::kUnreachable, message, false};
  }
  if (contains_icase(message, "too many clients") || contains_icase(message, "starting up") ||
      contains_icase(message, "shutting down") || contains_icase(message, "recovery mode")) {
    return {ErrorCode::kUnreachable, message, true};
  }
  if (auto code = common::classify_network_message(message)) {
    return {*code, message, *code != ErrorCode::kTlsError};
  }
  return {ErrorCode::kUnreachable, message, true};
}

}  // namespace outpost::connectors::postgres
