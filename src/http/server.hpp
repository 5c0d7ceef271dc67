#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "http/message.hpp"

namespace outpost::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  ///< 0 = pick a free port (see Server::port())
  std::string tls_cert;    ///< PEM; empty = plain http
  std::string tls_key;
  std::string tls_client_ca;  ///< when set, clients must present a certificate it signed
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds idle_timeout{75'000};
  std::size_t max_body_bytes = 64 * 1024 * 1024;  ///< larger → 413 without reading it
};

/// Sends the response for one request. Call exactly once, from any thread,
/// possibly long after the handler returned (long polls).
using Responder = std::function<void(Response)>;

/// Per-request handler; runs on the server's executor and must not block.
using Handler = std::function<void(Request, Responder)>;

/// Asynchronous HTTP/1.1 (+TLS) server with keep-alive, header/body timeouts
/// and a body size limit; malformed requests get a JSON 400.
class Server {
 public:
  /// Binds at once (throws std::runtime_error with the address on failure).
  Server(boost::asio::any_io_executor executor, ServerOptions options, Handler handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  [[nodiscard]] std::uint16_t port() const noexcept;
  void start();
  /// Stops accepting and closes every connection.
  void stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace outpost::http
