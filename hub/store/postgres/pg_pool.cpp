#include "store/postgres/pg_pool.hpp"

#include <poll.h>

#include "store/job_store.hpp"  // StoreUnavailable

namespace outpost::hub::pg {

namespace {

// An idle connection has nothing to read unless the server said something
// on its own: typically "terminating connection due to administrator
// command" followed by EOF. Read it without blocking and see.
bool still_open(Connection& conn) {
  pollfd fd{PQsocket(conn.raw()), POLLIN, 0};
  if (fd.fd < 0) return false;
  if (poll(&fd, 1, 0) > 0 && PQconsumeInput(conn.raw()) == 0) return false;
  return !conn.broken();
}

}  // namespace

Pool::Pool(ConnParams params, std::size_t size, std::chrono::milliseconds acquire_timeout)
    : params_(std::move(params)), size_(size == 0 ? 1 : size), acquire_timeout_(acquire_timeout) {}

Pool::~Pool() = default;

Pool::Handle::~Handle() {
  if (pool_ != nullptr) pool_->give_back(std::move(conn_));
}

Pool::Handle Pool::acquire() {
  {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, acquire_timeout_, [this] { return !idle_.empty() || open_ < size_; })) {
      throw StoreUnavailable("PostgreSQL store: every connection stayed busy for " +
                             std::to_string(acquire_timeout_.count()) + " ms");
    }
    while (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      if (still_open(*conn)) return Handle(this, std::move(conn));
      backend_pids_.erase(PQbackendPID(conn->raw()));
      --open_;  // the server closed it while idle (restart, failover): open a fresh one
    }
    ++open_;  // reserve the slot, connect without the lock
  }
  try {
    auto conn = std::make_unique<Connection>(params_);
    {
      std::lock_guard lock(mu_);
      backend_pids_.insert(PQbackendPID(conn->raw()));
    }
    return Handle(this, std::move(conn));
  } catch (...) {
    std::lock_guard lock(mu_);
    --open_;
    cv_.notify_one();
    throw;
  }
}

bool Pool::owns_backend(int backend_pid) {
  std::lock_guard lock(mu_);
  return backend_pids_.contains(backend_pid);
}

void Pool::give_back(std::unique_ptr<Connection> conn) noexcept {
  std::lock_guard lock(mu_);
  // A broken connection, or one left inside a transaction by an exception
  // path that could not roll back, is closed rather than reused.
  if (conn != nullptr && !conn->broken() && !conn->in_transaction()) {
    idle_.push_back(std::move(conn));
  } else {
    if (conn != nullptr) backend_pids_.erase(PQbackendPID(conn->raw()));
    conn.reset();
    --open_;
  }
  cv_.notify_one();
}

}  // namespace outpost::hub::pg
