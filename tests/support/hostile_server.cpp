#include "support/hostile_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

namespace outpost::test {
namespace {

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
                  const LoopbackServer& server) {
  auto fill = [&]() {
    while (!server.stopping()) {
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

HostileServer::HostileServer(Handler handler)
    : LoopbackServer("HostileServer"), handler_(std::move(handler)) {
  start();
}

HostileServer::~HostileServer() {
  stop();  // connection threads first: they use this object
}

std::string HostileServer::base_url() const {
  return "http://127.0.0.1:" + std::to_string(port()) + "/api";
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

void HostileServer::serve(int fd) {
  std::string buffer;
  Request request;
  while (!stopping() && read_request(fd, buffer, request, *this)) {
    request.at = std::chrono::steady_clock::now();
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(request);
    }
    if (!act(fd, handler_(request))) break;
  }
}

bool HostileServer::act(int fd, const Action& action) {
  switch (action.kind) {
    case Action::Kind::kRespond:
      return write_all(fd, head(action.status, action.headers, action.body.size()) + action.body);
    case Action::Kind::kRaw: write_all(fd, action.body); return false;
    case Action::Kind::kHuge: {
      bool open = write_all(fd, head(200, action.headers, action.huge_bytes));
      std::string filler(64 * 1024, ' ');
      filler[0] = '{';
      for (std::uint64_t sent = 0; open && !stopping() && sent < action.huge_bytes;) {
        const auto n = std::min<std::uint64_t>(filler.size(), action.huge_bytes - sent);
        open = write_all(fd, filler.data(), n);
        sent += n;
        filler[0] = ' ';
      }
      return false;
    }
    case Action::Kind::kDribble: {
      const std::string out = head(action.status, action.headers, action.body.size()) + action.body;
      bool open = true;
      for (std::size_t i = 0; open && !stopping() && i < out.size(); ++i) {
        open = write_all(fd, &out[i], 1);
        pollfd p{wake_fd(), POLLIN, 0};
        ::poll(&p, 1, static_cast<int>(action.dribble_interval.count()));
      }
      return open;
    }
    case Action::Kind::kHang:
      while (!stopping()) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 100) > 0) {
          char c;
          if (::read(fd, &c, 1) <= 0) break;
        }
      }
      return false;
    case Action::Kind::kClose: return false;
  }
  return false;
}

}  // namespace outpost::test
