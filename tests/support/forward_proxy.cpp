#include "support/forward_proxy.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
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

bool send_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

bool send_all(int fd, const std::string& text) {
  return send_all(fd, text.data(), text.size());
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

ForwardProxy::ForwardProxy(std::string user, std::string password) {
  if (!user.empty() || !password.empty()) {
    expected_authorization_ = "Basic " + base64(user + ":" + password);
  }
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 128) != 0) {
    ::close(listen_fd_);
    throw std::runtime_error("ForwardProxy: cannot listen on loopback");
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  if (::pipe2(wake_pipe_, O_CLOEXEC) != 0) throw std::runtime_error("ForwardProxy: pipe");
  acceptor_ = std::thread([this] { accept_loop(); });
}

ForwardProxy::~ForwardProxy() {
  stopping_ = true;
  (void)::write(wake_pipe_[1], "x", 1);
  acceptor_.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mutex_);
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
    threads.swap(threads_);
  }
  for (auto& t : threads) t.join();
  ::close(listen_fd_);
  ::close(wake_pipe_[0]);
  ::close(wake_pipe_[1]);
}

std::string ForwardProxy::url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

std::vector<std::string> ForwardProxy::targets() const {
  std::lock_guard lock(mutex_);
  return targets_;
}

void ForwardProxy::accept_loop() {
  while (!stopping_) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) continue;
    if (fds[1].revents != 0) return;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard lock(mutex_);
    open_fds_.push_back(fd);
    threads_.emplace_back([this, fd] { serve(fd); });
  }
}

void ForwardProxy::serve(int fd) {
  std::string head;
  char chunk[4096];
  while (head.find("\r\n\r\n") == std::string::npos && head.size() < 16 * 1024 && !stopping_) {
    pollfd p[2] = {{fd, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
    if (::poll(p, 2, -1) <= 0 || p[1].revents != 0) break;
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n <= 0) break;
    head.append(chunk, static_cast<std::size_t>(n));
  }
  int upstream = -1;
  if (const auto end = head.find("\r\n\r\n"); end != std::string::npos) {
    const auto sp1 = head.find(' ');
    const auto sp2 = head.find(' ', sp1 + 1);
    const std::string method = head.substr(0, sp1);
    const std::string target = head.substr(sp1 + 1, sp2 - sp1 - 1);
    const auto colon = target.rfind(':');
    if (method != "CONNECT" || colon == std::string::npos) {
      send_all(fd, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n");
    } else if (!expected_authorization_.empty() &&
               header_value(head, "proxy-authorization:") != expected_authorization_) {
      ++auth_failures_;
      send_all(fd,
               "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic "
               "realm=\"test\"\r\nContent-Length: 0\r\n\r\n");
    } else if (!is_loopback_target(target.substr(0, colon))) {
      send_all(fd, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
    } else if ((upstream = dial(target.substr(0, colon), target.substr(colon + 1))) < 0) {
      send_all(fd, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
    } else {
      {
        std::lock_guard lock(mutex_);
        targets_.push_back(target);
        open_fds_.push_back(upstream);
      }
      ++connects_;
      if (send_all(fd, "HTTP/1.1 200 Connection established\r\n\r\n")) {
        // Bytes the client sent right after the CONNECT head belong to the tunnel.
        const std::string early = head.substr(end + 4);
        if (early.empty() || send_all(upstream, early)) tunnel(fd, upstream);
      }
    }
  }
  std::lock_guard lock(mutex_);
  for (int f : {fd, upstream}) {
    if (f < 0) continue;
    ::shutdown(f, SHUT_RDWR);
    ::close(f);
    open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), f), open_fds_.end());
  }
}

void ForwardProxy::tunnel(int client, int upstream) {
  bool client_open = true;
  bool upstream_open = true;
  char buffer[16 * 1024];
  while (!stopping_ && (client_open || upstream_open)) {
    // A negative fd makes poll() skip a direction that already saw EOF.
    pollfd p[3] = {{client_open ? client : -1, POLLIN, 0},
                   {upstream_open ? upstream : -1, POLLIN, 0},
                   {wake_pipe_[0], POLLIN, 0}};
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
      if (!send_all(to, buffer, static_cast<std::size_t>(n))) return;
    }
  }
}

}  // namespace outpost::test
