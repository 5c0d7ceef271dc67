#include "support/forward_proxy.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace outpost::test {
namespace {

std::string base64(const std::string& in) {
  static constexpr char kTable[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                       (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    out += kTable[(v >> 18) & 63];
    out += kTable[(v >> 12) & 63];
    out += kTable[(v >> 6) & 63];
    out += kTable[v & 63];
  }
  if (i + 1 == in.size()) {
    const unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += kTable[(v >> 18) & 63];
    out += kTable[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const unsigned v =
        (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += kTable[(v >> 18) & 63];
    out += kTable[(v >> 12) & 63];
    out += kTable[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

// The value of header `name` (lower case, with the colon) in a raw header block.
std::string header_value(const std::string& head, const std::string& name) {
  std::string lower = head;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const auto pos = lower.find("\r\n" + name);
  if (pos == std::string::npos) return {};
  auto start = pos + 2 + name.size();
  while (start < head.size() && head[start] == ' ') ++start;
  return head.substr(start, head.find("\r\n", start) - start);
}

bool is_loopback_target(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1" || host == "[::1]";
}

int dial(std::string host, const std::string& port) {
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &result) != 0) return -1;
  int fd = -1;
  for (addrinfo* ai = result; ai != nullptr && fd < 0; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd >= 0 && ::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(result);
  return fd;
}

}  // namespace

ForwardProxy::ForwardProxy(std::string user, std::string password)
    : LoopbackServer("ForwardProxy") {
  if (!user.empty() || !password.empty()) {
    expected_authorization_ = "Basic " + base64(user + ":" + password);
  }
  start();
}

ForwardProxy::~ForwardProxy() {
  stop();  // connection threads first: they use this object
}

std::string ForwardProxy::url() const {
  return "http://127.0.0.1:" + std::to_string(port());
}

std::vector<std::string> ForwardProxy::targets() const {
  std::lock_guard lock(mutex_);
  return targets_;
}

void ForwardProxy::serve(int fd) {
  std::string head;
  char chunk[4096];
  while (head.find("\r\n\r\n") == std::string::npos && head.size() < 16 * 1024 && !stopping()) {
    pollfd p[2] = {{fd, POLLIN, 0}, {wake_fd(), POLLIN, 0}};
    if (::poll(p, 2, -1) <= 0 || p[1].revents != 0) break;
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n <= 0) break;
    head.append(chunk, static_cast<std::size_t>(n));
  }
  const auto end = head.find("\r\n\r\n");
  if (end == std::string::npos) return;
  const int upstream = open_tunnel(fd, head.substr(0, end + 4));
  if (upstream < 0) return;
  ++connects_;
  if (write_all(fd, "HTTP/1.1 200 Connection established\r\n\r\n")) {
    // Bytes the client sent right after the CONNECT head belong to the tunnel.
    const std::string early = head.substr(end + 4);
    if (early.empty() || write_all(upstream, early)) tunnel(fd, upstream);
  }
  untrack(upstream);
  ::shutdown(upstream, SHUT_RDWR);
  ::close(upstream);
}

int ForwardProxy::open_tunnel(int fd, const std::string& head) {
  const auto sp1 = head.find(' ');
  const auto sp2 = head.find(' ', sp1 + 1);
  const std::string method = head.substr(0, sp1);
  const std::string target = head.substr(sp1 + 1, sp2 - sp1 - 1);
  const auto colon = target.rfind(':');
  if (method != "CONNECT" || colon == std::string::npos) {
    write_all(fd, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n");
    return -1;
  }
  if (!expected_authorization_.empty() &&
      header_value(head, "proxy-authorization:") != expected_authorization_) {
    ++auth_failures_;
    write_all(fd,
              "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic "
              "realm=\"test\"\r\nContent-Length: 0\r\n\r\n");
    return -1;
  }
  if (!is_loopback_target(target.substr(0, colon))) {
    write_all(fd, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
    return -1;
  }
  const int upstream = dial(target.substr(0, colon), target.substr(colon + 1));
  if (upstream < 0) {
    write_all(fd, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
    return -1;
  }
  track(upstream);
  std::lock_guard lock(mutex_);
  targets_.push_back(target);
  return upstream;
}

void ForwardProxy::tunnel(int client, int upstream) {
  bool client_open = true;
  bool upstream_open = true;
  char buffer[16 * 1024];
  while (!stopping() && (client_open || upstream_open)) {
    // A negative fd makes poll() skip a direction that already saw EOF.
    pollfd p[3] = {{client_open ? client : -1, POLLIN, 0},
                   {upstream_open ? upstream : -1, POLLIN, 0},
                   {wake_fd(), POLLIN, 0}};
    if (::poll(p, 3, -1) < 0 || p[2].revents != 0) return;
    for (int side = 0; side < 2; ++side) {
      if (p[side].revents == 0) continue;
      const int from = side == 0 ? client : upstream;
      const int to = side == 0 ? upstream : client;
      const ssize_t n = ::read(from, buffer, sizeof buffer);
      if (n <= 0) {
        // Half-close: pass the EOF on and keep the other direction flowing.
        ::shutdown(to, SHUT_WR);
        (side == 0 ? client_open : upstream_open) = false;
        continue;
      }
      if (!write_all(to, buffer, static_cast<std::size_t>(n))) return;
    }
  }
}

}  // namespace outpost::test
