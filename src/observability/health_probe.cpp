#include "observability/health_probe.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <ostream>
#include <string_view>

namespace outpost::obs {
namespace {

constexpr int kTimeoutMs = 4000;

// What one program's probe reads and does.
struct ProbeTarget {
  std::string_view program;  // in messages
  bool get_healthz;          // false: a TCP connect is the check
};

std::string env_or_empty(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

// OPTION VALUE or OPTION=VALUE among NUL-separated arguments ("" when absent).
std::string from_cmdline(const std::string& cmdline, std::string_view option) {
  std::string previous;
  std::size_t start = 0;
  while (start < cmdline.size()) {
    std::size_t end = cmdline.find('\0', start);
    if (end == std::string::npos) end = cmdline.size();
    std::string arg = cmdline.substr(start, end - start);
    if (previous == option) return arg;
    if (arg.rfind(std::string(option) + "=", 0) == 0) return arg.substr(option.size() + 1);
    previous = arg;
    start = end + 1;
  }
  return {};
}

std::string read_pid1_cmdline() {
  std::ifstream in("/proc/1/cmdline", std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Waits for `events` on fd up to the probe's timeout.
bool wait_for(int fd, short events) {
  pollfd p{fd, events, 0};
  int rc = 0;
  do {
    rc = ::poll(&p, 1, kTimeoutMs);
  } while (rc < 0 && errno == EINTR);
  return rc > 0;
}

// Connects to host:port (numeric or a name); -1 when nothing answers.
int connect_to(const std::string& host, const std::string& port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0) return -1;
  int fd = -1;
  for (addrinfo* ai = found; ai != nullptr && fd < 0; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    int so_error = 0;
    socklen_t len = sizeof so_error;
    const bool ok = (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS) &&
                    wait_for(fd, POLLOUT) &&
                    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) == 0 && so_error == 0;
    if (!ok) {
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  return fd;
}

// The status line's code of a GET /healthz, or "" when none came back.
std::string get_healthz(int fd, const std::string& host_header) {
  const std::string request =
      "GET /healthz HTTP/1.1\r\nHost: " + host_header + "\r\nConnection: close\r\n\r\n";
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    return {};
  }
  std::string reply;
  char buf[512];
  while (reply.find("\r\n") == std::string::npos && reply.size() < 4096 && wait_for(fd, POLLIN)) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    reply.append(buf, static_cast<std::size_t>(n));
  }
  // "HTTP/1.1 200 OK"
  const auto sp = reply.find(' ');
  if (reply.rfind("HTTP/", 0) != 0 || sp == std::string::npos) return {};
  return reply.substr(sp + 1, 3);
}

// Probes addr as the target says; the exit status of the healthcheck.
int probe(const ProbeTarget& target, const std::string& addr, std::ostream& out,
          std::ostream& err) {
  const auto colon = addr.rfind(':');
  std::string host = colon == std::string::npos ? std::string() : addr.substr(0, colon);
  const std::string port = colon == std::string::npos ? std::string() : addr.substr(colon + 1);
  if (port.empty() || port.find_first_not_of("0123456789") != std::string::npos) {
    err << target.program << ": healthcheck: cannot read a port from '" << addr
        << "' (expected HOST:PORT)\n";
    return 2;
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty() || host == "0.0.0.0" || host == "*") host = "127.0.0.1";
  if (host == "::") host = "::1";
  const int fd = connect_to(host, port);
  if (fd < 0) {
    err << "unhealthy: nothing listens on " << host << ':' << port << '\n';
    return 1;
  }
  if (!target.get_healthz) {
    ::close(fd);
    out << "healthy: " << host << ':' << port << " accepts connections (TLS: not spoken)\n";
    return 0;
  }
  const std::string status = get_healthz(
      fd, host.find(':') != std::string::npos ? "[" + host + "]:" + port : host + ':' + port);
  ::close(fd);
  if (status == "200") {
    out << "healthy: GET /healthz on " << host << ':' << port << " answered 200\n";
    return 0;
  }
  err << "unhealthy: GET /healthz on " << host << ':' << port << " answered '"
      << (status.empty() ? "nothing" : status) << "'\n";
  return 1;
}

}  // namespace

std::string health_probe_address(const std::vector<std::string>& args,
                                 const std::string& pid1_cmdline) {
  if (!args.empty()) return args.front();
  std::string addr = env_or_empty("OUTPOST_HEALTHCHECK_ADDR");
  if (addr.empty()) addr = from_cmdline(pid1_cmdline, "--health-addr");
  if (addr.empty()) addr = env_or_empty("AGENT_HEALTH_ADDR");
  if (addr.empty()) addr = "0.0.0.0:8080";
  return addr;
}

int run_health_probe(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.size() > 1) {
    err << "outpost-agent: usage: outpost-agent healthcheck [HOST:PORT]\n";
    return 2;
  }
  const std::string addr = health_probe_address(args, read_pid1_cmdline());
  if (addr == "off") {
    out << "health endpoint disabled (--health-addr off): nothing to check\n";
    return 0;
  }
  return probe({"outpost-agent", true}, addr, out, err);
}

std::string hub_probe_address(const std::vector<std::string>& args,
                              const std::string& pid1_cmdline) {
  if (!args.empty()) return args.front();
  std::string addr = env_or_empty("OUTPOST_HEALTHCHECK_ADDR");
  if (addr.empty()) addr = from_cmdline(pid1_cmdline, "--listen");
  if (addr.empty()) addr = "127.0.0.1:8443";
  return addr;
}

bool hub_serves_tls(const std::string& pid1_cmdline) {
  return !from_cmdline(pid1_cmdline, "--tls-cert").empty();
}

int run_hub_health_probe(const std::vector<std::string>& args, std::ostream& out,
                         std::ostream& err) {
  if (args.size() > 1) {
    err << "outpost-hub: usage: outpost-hub healthcheck [HOST:PORT]\n";
    return 2;
  }
  const std::string pid1 = read_pid1_cmdline();
  return probe({"outpost-hub", !hub_serves_tls(pid1)}, hub_probe_address(args, pid1), out, err);
}

}  // namespace outpost::obs
