#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>

namespace outpost::http {
class Server;
}

namespace outpost::obs {

/// "HOST:PORT" (IPv6 as "[::1]:8080") split; nullopt when malformed.
struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};
std::optional<HostPort> parse_host_port(std::string_view text);

/// /healthz, /readyz and /metrics (agent-cli.md "Local endpoints") on
/// http::Server. The probes run on the server's executor and must not block.
class HealthServer {
 public:
  struct Probes {
    std::function<bool()> alive;  ///< /healthz: 200 when true, else 503
    std::function<bool()> ready;  ///< /readyz: 200 when true, else 503
    std::function<std::string()> metrics;
  };

  /// Binds at once; throws std::runtime_error naming the address on failure.
  HealthServer(boost::asio::any_io_executor executor, const HostPort& address, Probes probes);
  ~HealthServer();
  HealthServer(const HealthServer&) = delete;
  HealthServer& operator=(const HealthServer&) = delete;

  [[nodiscard]] std::uint16_t port() const noexcept;
  void start();
  void stop();

 private:
  std::shared_ptr<Probes> probes_;
  std::unique_ptr<http::Server> server_;
};

}  // namespace outpost::obs
