#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "http/server.hpp"
#include "store.hpp"

namespace outpost::hub {

struct HubOptions {
  http::ServerOptions server;  ///< listen address, TLS, timeouts, max body
  std::string admin_token;     ///< required; compared in constant time
  StoreOptions store;
};

/// outpost-hub: the agent protocol under /api/v1/agent/*, the admin API
/// under /api/v1/admin/* and GET /healthz, on one HTTP(S) server.
/// Run the executor's io_context on one thread or several.
class Hub {
 public:
  /// Binds at once; throws std::runtime_error (bad address, port in use,
  /// unreadable certificate, missing admin token).
  Hub(boost::asio::any_io_executor executor, HubOptions options);
  ~Hub();
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  [[nodiscard]] std::uint16_t port() const noexcept;
  void start();
  /// Graceful stop: waiting claims are answered with no jobs, then the server
  /// stops accepting and closes its connections once their answers are out.
  void stop();

  [[nodiscard]] Store& store() noexcept { return *store_; }

 private:
  void handle(http::Request request, http::Responder respond);
  void route_agent(std::string_view path, const http::Request& request, const std::string& token_id,
                   http::Responder& respond);
  http::Response route_admin(std::string_view path, const http::Request& request);

  HubOptions options_;
  std::string admin_hash_;
  std::shared_ptr<Store> store_;
  std::unique_ptr<http::Server> server_;
};

}  // namespace outpost::hub
