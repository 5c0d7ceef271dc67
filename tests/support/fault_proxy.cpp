#include "support/fault_proxy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>

namespace outpost::test {

// The client side is the base's accepted descriptor (closed by the base);
// the server side is ours.
struct FaultProxy::Connection {
  int client = -1;
  int server = -1;
  std::atomic<bool> closed{false};

  void close_both() {
    if (closed.exchange(true)) return;
    ::shutdown(client, SHUT_RDWR);
    ::shutdown(server, SHUT_RDWR);
  }
  ~Connection() {
    if (server >= 0) ::close(server);
  }
};

namespace {

int connect_loopback(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

void sleep_ms(std::int64_t ms) {
  if (ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

}  // namespace

FaultProxy::FaultProxy(std::uint16_t target_port)
    : LoopbackServer("FaultProxy"), target_port_(target_port) {
  start();
}

FaultProxy::~FaultProxy() {
  stop();  // connection threads first: they use this object
}

void FaultProxy::cut_all() {
  std::lock_guard lock(mutex_);
  for (auto& c : connections_) c->close_both();
  connections_.clear();
}

bool FaultProxy::admit(int fd) {
  ++accepted_;
  if (!refuse_) return true;
  linger lg{1, 0};  // RST instead of FIN
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  return false;
}

// One thread per direction: this connection's own thread pumps upstream, a
// helper thread downstream; both end before the base closes the client side.
void FaultProxy::serve(int client) {
  auto conn = std::make_shared<Connection>();
  conn->client = client;
  conn->server = connect_loopback(target_port_);
  if (conn->server < 0) return;
  {
    std::lock_guard lock(mutex_);
    connections_.push_back(conn);
  }
  std::thread downstream([this, conn] { pump(*conn, false); });
  pump(*conn, true);
  downstream.join();
  forget(conn);
}

void FaultProxy::forget(const std::shared_ptr<Connection>& conn) {
  std::lock_guard lock(mutex_);
  connections_.erase(std::remove(connections_.begin(), connections_.end(), conn),
                     connections_.end());
}

void FaultProxy::pump(Connection& conn, bool upstream) {
  const int from = upstream ? conn.client : conn.server;
  const int to = upstream ? conn.server : conn.client;
  char buf[16 * 1024];
  std::uint64_t forwarded = 0;
  while (!conn.closed && !stopping()) {
    pollfd pfd{from, POLLIN, 0};
    const int ready = ::poll(&pfd, 1, 50);
    if (ready <= 0) continue;
    // With a bandwidth limit, read at most 1/20 s worth at a time.
    std::size_t want = sizeof buf;
    if (const auto bw = bandwidth_.load(); bw > 0) {
      want = std::max<std::size_t>(1, std::min<std::size_t>(want, bw / 20));
    }
    const ssize_t n = ::read(from, buf, want);
    if (n <= 0) break;
    if (blackhole_) continue;  // swallowed: neither forwarded nor answered, as in a partition
    sleep_ms(latency_ms_);
    if (const auto bw = bandwidth_.load(); bw > 0) {
      sleep_ms(static_cast<std::int64_t>(static_cast<std::uint64_t>(n) * 1000 / bw));
    }
    std::size_t off = 0;
    while (off < static_cast<std::size_t>(n) && !conn.closed) {
      std::size_t chunk = static_cast<std::size_t>(n) - off;
      const auto cut = cut_after_.load();
      if (cut > 0 && forwarded + chunk > cut) chunk = cut > forwarded ? cut - forwarded : 0;
      if (chunk > 0) {
        const ssize_t w = ::send(to, buf + off, chunk, MSG_NOSIGNAL);
        if (w <= 0) break;
        off += static_cast<std::size_t>(w);
        forwarded += static_cast<std::uint64_t>(w);
        bytes_ += static_cast<std::uint64_t>(w);
      }
      if (cut > 0 && forwarded >= cut) {
        conn.close_both();
        return;
      }
    }
  }
  conn.close_both();
}

}  // namespace outpost::test
