#include "store/postgres/pg_listener.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>

namespace outpost::hub::pg {

Listener::Listener(ConnParams params, Callback on_notify, SkipFn skip, LogFn log)
    : params_(std::move(params)),
      on_notify_(std::move(on_notify)),
      skip_(std::move(skip)),
      log_(std::move(log)) {
  if (pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) {
    throw std::runtime_error("PostgreSQL store: cannot create the listener's wake-up pipe");
  }
  thread_ = std::thread([this] { run(); });
}

Listener::~Listener() {
  stop_ = true;
  const char byte = 1;
  [[maybe_unused]] auto n = write(wake_[1], &byte, 1);
  if (thread_.joinable()) thread_.join();
  close(wake_[0]);
  close(wake_[1]);
}

bool Listener::pause(int ms) {
  pollfd fd{wake_[0], POLLIN, 0};
  while (!stop_) {
    const int rc = poll(&fd, 1, ms);
    if (rc >= 0 || errno != EINTR) break;
  }
  return !stop_;
}

void Listener::run() {
  int backoff_ms = 100;
  bool was_connected = true;  // the first failure is logged
  while (!stop_) {
    try {
      Connection conn(params_);
      conn.exec((std::string("LISTEN ") + kJobsChannel).c_str());
      connected_ = true;
      if (!was_connected) log_(false, "PostgreSQL store: LISTEN connection re-established");
      was_connected = true;
      backoff_ms = 100;
      on_notify_("");  // notifications sent while nobody listened are lost: re-try all
      if (!serve(conn)) return;
    } catch (const std::exception& e) {
      if (was_connected)
        log_(true, std::string("PostgreSQL store: LISTEN connection lost: ") + e.what());
      was_connected = false;
    }
    connected_ = false;
    if (!pause(backoff_ms)) return;
    backoff_ms = std::min(backoff_ms * 2, 2000);
  }
}

bool Listener::serve(Connection& conn) {
  PGconn* raw = conn.raw();
  while (!stop_) {
    pollfd fds[2] = {{PQsocket(raw), POLLIN, 0}, {wake_[0], POLLIN, 0}};
    const int rc = poll(fds, 2, -1);
    if (rc < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("poll failed on the LISTEN connection");
    }
    if (stop_ || (fds[1].revents & POLLIN) != 0) return false;
    if (PQconsumeInput(raw) == 0 || PQstatus(raw) != CONNECTION_OK) {
      throw std::runtime_error(one_line(PQerrorMessage(raw)));
    }
    while (PGnotify* n = PQnotifies(raw)) {
      std::string pool = n->extra != nullptr ? n->extra : "";
      const bool skip = skip_ && skip_(n->be_pid);
      PQfreemem(n);
      if (!skip && !pool.empty()) on_notify_(pool);
    }
  }
  return false;
}

}  // namespace outpost::hub::pg
