#include "observability/health_server.hpp"

#include <charconv>
#include <utility>

#include "http/server.hpp"

namespace outpost::obs {
namespace {

http::Response text_response(int status, std::string content_type, std::string body) {
  http::Response r;
  r.status = status;
  r.headers.push_back({"Content-Type", std::move(content_type)});
  r.headers.push_back({"Cache-Control", "no-store"});
  r.body = std::move(body);
  return r;
}

}  // namespace

std::optional<HostPort> parse_host_port(std::string_view text) {
  HostPort out;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return std::nullopt;
    }
    out.host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    out.host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
  }
  if (out.host.empty() || port_text.empty()) return std::nullopt;
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port > 65535) {
    return std::nullopt;
  }
  out.port = static_cast<std::uint16_t>(port);
  return out;
}

HealthServer::HealthServer(boost::asio::any_io_executor executor, const HostPort& address,
                           Probes probes)
    : probes_(std::make_shared<Probes>(std::move(probes))) {
  http::ServerOptions options;
  options.host = address.host;
  options.port = address.port;
  options.max_body_bytes = 64 * 1024;
  options.header_timeout = std::chrono::seconds(5);
  options.body_timeout = std::chrono::seconds(5);
  std::shared_ptr<Probes> probes_ref = probes_;
  server_ = std::make_unique<http::Server>(
      std::move(executor), options,
      [probes_ref](const http::Request& req, const http::Responder& respond) {
        std::string_view path = req.target;
        if (auto q = path.find('?'); q != std::string_view::npos) path = path.substr(0, q);
        if (req.method != "GET" && req.method != "HEAD") {
          respond(text_response(405, "text/plain", "method not allowed\n"));
        } else if (path == "/healthz") {
          const bool ok = !probes_ref->alive || probes_ref->alive();
          respond(text_response(ok ? 200 : 503, "text/plain", ok ? "ok\n" : "not alive\n"));
        } else if (path == "/readyz") {
          const bool ok = probes_ref->ready && probes_ref->ready();
          respond(text_response(ok ? 200 : 503, "text/plain", ok ? "ready\n" : "not ready\n"));
        } else if (path == "/metrics") {
          respond(text_response(200, "text/plain; version=0.0.4; charset=utf-8",
                                probes_ref->metrics ? probes_ref->metrics() : std::string()));
        } else {
          respond(text_response(404, "text/plain", "not found\n"));
        }
      });
}

HealthServer::~HealthServer() = default;

std::uint16_t HealthServer::port() const noexcept {
  return server_->port();
}
void HealthServer::start() {
  server_->start();
}
void HealthServer::stop() {
  server_->stop();
}

}  // namespace outpost::obs
