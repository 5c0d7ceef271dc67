#include "support/hostile_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

namespace outpost::test {
namespace {

bool send_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

std::string reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 409: return "Conflict";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

std::string head(int status, const std::string& extra, std::uint64_t length) {
  return "HTTP/1.1 " + std::to_string(status) + " " + reason(status) +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(length) +
         "\r\n" + extra + "\r\n";
}

// Reads one request (headers + Content-Length body); false when the peer closed.
bool read_request(int fd, std::string& buffer, HostileServer::Request& out,
                  const std::atomic<bool>& stopping) {
  auto fill = [&]() {
    while (!stopping) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char chunk[8192];
      const ssize_t n = ::read(fd, chunk, sizeof chunk);
      if (n <= 0) return false;
      buffer.append(chunk, static_cast<std::size_t>(n));
      return true;
    }
    return false;
  };
  std::size_t end;
  while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
    if (!fill()) return false;
  }
  const std::string header_block = buffer.substr(0, end + 2);
  buffer.erase(0, end + 4);
  const auto sp1 = header_block.find(' ');
  const auto sp2 = header_block.find(' ', sp1 + 1);
  out.method = header_block.substr(0, sp1);
  out.target = header_block.substr(sp1 + 1, sp2 - sp1 - 1);
  out.headers = header_block;
  std::size_t length = 0;
  std::string lower = header_block;
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  if (const auto pos = lower.find("\r\ncontent-length:"); pos != std::string::npos) {
    length = std::strtoull(lower.c_str() + pos + 17, nullptr, 10);
  }
  while (buffer.size() < length) {
    if (!fill()) return false;
  }
  out.body = buffer.substr(0, length);
  buffer.erase(0, length);
  return true;
}

}  // namespace

HostileServer::Action HostileServer::Action::json(int status, std::string body,
                                                  std::string extra_headers) {
  Action a;
  a.status = status;
  a.body = std::move(body);
  a.headers = std::move(extra_headers);
  return a;
}

HostileServer::HostileServer(Handler handler) : handler_(std::move(handler)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 128) != 0) {
    ::close(listen_fd_);
    throw std::runtime_error("HostileServer: cannot listen on loopback");
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  if (::pipe2(wake_pipe_, O_CLOEXEC) != 0) throw std::runtime_error("HostileServer: pipe");
  acceptor_ = std::thread([this] { accept_loop(); });
}

HostileServer::~HostileServer() {
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

std::string HostileServer::base_url() const {
  return "http://127.0.0.1:" + std::to_string(port_) + "/api";
}

std::vector<HostileServer::Request> HostileServer::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

std::size_t HostileServer::count(const std::string& suffix) const {
  std::lock_guard lock(mutex_);
  return static_cast<std::size_t>(
      std::count_if(requests_.begin(), requests_.end(), [&](const Request& r) {
        return r.target.size() >= suffix.size() &&
               r.target.compare(r.target.size() - suffix.size(), suffix.size(), suffix) == 0;
      }));
}

void HostileServer::accept_loop() {
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

void HostileServer::serve(int fd) {
  std::string buffer;
  Request request;
  while (!stopping_ && read_request(fd, buffer, request, stopping_)) {
    request.at = std::chrono::steady_clock::now();
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(request);
    }
    const Action action = handler_(request);
    bool keep_open = true;
    switch (action.kind) {
      case Action::Kind::kRespond: {
        const std::string out =
            head(action.status, action.headers, action.body.size()) + action.body;
        keep_open = send_all(fd, out.data(), out.size());
        break;
      }
      case Action::Kind::kRaw:
        send_all(fd, action.body.data(), action.body.size());
        keep_open = false;
        break;
      case Action::Kind::kHuge: {
        const std::string h = head(200, action.headers, action.huge_bytes);
        keep_open = send_all(fd, h.data(), h.size());
        std::string filler(64 * 1024, ' ');
        filler[0] = '{';
        for (std::uint64_t sent = 0; keep_open && !stopping_ && sent < action.huge_bytes;) {
          const auto n = std::min<std::uint64_t>(filler.size(), action.huge_bytes - sent);
          keep_open = send_all(fd, filler.data(), n);
          sent += n;
          filler[0] = ' ';
        }
        keep_open = false;
        break;
      }
      case Action::Kind::kDribble: {
        const std::string out =
            head(action.status, action.headers, action.body.size()) + action.body;
        for (std::size_t i = 0; keep_open && !stopping_ && i < out.size(); ++i) {
          keep_open = send_all(fd, &out[i], 1);
          pollfd p{wake_pipe_[0], POLLIN, 0};
          ::poll(&p, 1, static_cast<int>(action.dribble_interval.count()));
        }
        break;
      }
      case Action::Kind::kHang:
        while (!stopping_) {
          pollfd p{fd, POLLIN, 0};
          if (::poll(&p, 1, 100) > 0) {
            char c;
            if (::read(fd, &c, 1) <= 0) break;
          }
        }
        keep_open = false;
        break;
      case Action::Kind::kClose: keep_open = false; break;
    }
    if (!keep_open) break;
  }
  std::lock_guard lock(mutex_);
  ::shutdown(fd, SHUT_RDWR);
  ::close(fd);
  open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), fd), open_fds_.end());
}

}  // namespace outpost::test
