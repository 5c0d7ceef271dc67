#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "clock.hpp"
#include "console/console.hpp"
#include "http/server.hpp"
#include "service.hpp"
#include "store/open_store.hpp"

namespace outpost::hub {

struct HubOptions {
  http::ServerOptions server;  ///< listen address, TLS, timeouts, max body
  std::string admin_token;     ///< required; compared in constant time
  StoreOptions store;          ///< protocol rules and timings, retention
  StoreConfig backend;         ///< which store (--store); opened by the Hub
  /// Tests: use this store instead of opening `backend`.
  std::shared_ptr<JobStore> store_instance;
  /// Defaults to SystemClock; tests give a ManualClock.
  std::shared_ptr<const Clock> clock;
  console::ConsoleOptions console;  ///< the web console at / (sessions, sign-in limits)
};

/// outpost-hub's transport: the agent protocol under /api/v1/agent/*, the
/// admin API under /api/v1/admin/*, GET /healthz, /readyz, /metrics, and the
/// web console at / (hub/console/), on one HTTP(S) server. The admin API
/// accepts the admin token as a Bearer token, or a console session cookie
/// with its CSRF token. It parses requests, authenticates, routes to the
/// rules (HubService) and maps their answers to HTTP.
///
/// Store calls may block (a PostgreSQL store): requests that need the store
/// run on a thread pool of the hub's (backend.connections threads), never on
/// the I/O threads; with the memory store they run inline. Run the
/// executor's io_context on one thread or several.
class Hub {
 public:
  /// Opens the store and binds at once; throws StoreUnavailable (store
  /// unreachable) or std::runtime_error (bad address, port in use,
  /// unreadable certificate, missing admin token, bad store URL).
  Hub(const boost::asio::any_io_executor& executor, HubOptions options);
  ~Hub();
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  [[nodiscard]] std::uint16_t port() const noexcept;
  void start();
  /// Graceful stop: waiting claims are answered with no jobs, then the server
  /// stops accepting and closes its connections once their answers are out.
  void stop();

  [[nodiscard]] HubService& service() noexcept { return *service_; }
  /// Waiting claims of this hub and jobs by status (blocks on the store).
  [[nodiscard]] HubService::Stats stats() { return service_->stats(); }

 private:
  struct Pool;
  void handle(http::Request request, const http::Responder& respond);
  /// `respond` answers (and counts); `watch` is the connection's own
  /// responder, whose peer-gone signals a long poll follows.
  void handle_blocking(const http::Request& request, const std::string& route,
                       const http::Responder& respond, const http::Responder& watch);
  void route_agent(std::string_view path, const http::Request& request, const TokenRecord& token,
                   const http::Responder& respond, const http::Responder& watch);
  http::Response route_admin(std::string_view path, const http::Request& request);
  /// Answers an admin call: at once through route_admin, or later for the
  /// calls that wait (POST sources/{id}/test).
  void serve_admin(std::string_view path, const http::Request& request,
                   const http::Responder& respond);
  http::Response rows_response(const std::string& job_id, std::string_view query);

  HubOptions options_;
  std::string admin_hash_;
  std::shared_ptr<JobStore> store_;
  std::unique_ptr<Pool> pool_;                             // null: store calls run inline
  std::optional<boost::asio::any_io_executor> pool_exec_;  // pool_'s executor
  std::shared_ptr<HubMetrics> metrics_;
  std::shared_ptr<HubService> service_;
  std::unique_ptr<console::Console> console_;
  std::unique_ptr<http::Server> server_;
};

/// The metrics label of a request path: its pattern ("/api/v1/agent/jobs/{id}/result"),
/// "other" for paths the hub does not serve.
std::string route_pattern(std::string_view path);

/// The HTTP response of a rules-layer answer.
http::Response to_http(const Answer& answer);

}  // namespace outpost::hub
