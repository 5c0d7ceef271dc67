#pragma once

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

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
  /// How long stop() lets a connection that is busy with a request finish its
  /// response before it is closed anyway.
  std::chrono::milliseconds drain_timeout{5'000};
  std::string server_name = "outpost";  ///< the `Server` response header
  /// Told about failures that concern the operator rather than one client
  /// (accept errors, a handler that threw). May be empty. Called on any thread.
  std::function<void(std::string_view message)> on_error;
};

namespace detail {
struct ResponderState;
}

/// Sends the response for one request. Call exactly once, from any thread,
/// possibly long after the handler returned (long polls); later calls are
/// ignored. Copies share one state. If every copy is destroyed without a
/// call, the client gets a 500 so a forgotten request never hangs.
///
/// It also tells the handler whether the client went away while the request
/// was pending (peer_gone / on_peer_gone), so a long poll is not answered
/// with work nobody will receive.
class Responder {
 public:
  Responder() = default;
  /// Wraps a plain callable (tests, in-process fakes); peer_gone() is then always false.
  template <typename F>
  requires std::invocable<F&, Response> &&(!std::same_as<std::remove_cvref_t<F>, Responder>)
      Responder(F send)  // NOLINT(google-explicit-constructor): drop-in for std::function
      : Responder(std::function<void(Response)>(std::move(send))) {}
  explicit Responder(std::function<void(Response)> send);
  /// Used by the server: `state` carries the connection's send path.
  explicit Responder(std::shared_ptr<detail::ResponderState> state) : state_(std::move(state)) {}

  void operator()(Response response) const;
  explicit operator bool() const noexcept { return static_cast<bool>(state_); }

  /// True once the connection closed before the response was sent. Thread safe.
  [[nodiscard]] bool peer_gone() const noexcept;
  /// Runs `callback` once, on the connection's executor, when the client
  /// disconnects before the response was sent (at once if it already has).
  /// Never runs after the response was sent. Thread safe.
  void on_peer_gone(std::function<void()> callback) const;

 private:
  std::shared_ptr<detail::ResponderState> state_;
};

/// Per-request handler; runs on the connection's executor and must not block.
/// Request bodies sent with `Content-Encoding: gzip` arrive already inflated.
using Handler = std::function<void(Request, Responder)>;

/// Asynchronous HTTP/1.1 (+TLS, TLS 1.2 minimum, optional client
/// certificates) server with keep-alive, header/body/idle timeouts and a body
/// size limit. Malformed requests get a JSON 400 and oversized bodies a JSON
/// 413, both followed by closing the connection. Each connection runs on its
/// own strand of `executor`, so the io_context may be run by several threads.
class Server {
 public:
  /// Binds at once (throws std::runtime_error with the address on failure, or
  /// naming the file when a certificate or key cannot be loaded).
  Server(boost::asio::any_io_executor executor, ServerOptions options, Handler handler);
  /// Calls stop().
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  [[nodiscard]] std::uint16_t port() const noexcept;
  void start();
  /// Stops accepting and closes every connection: idle ones at once, ones
  /// busy with a request after their response (or drain_timeout). Thread
  /// safe; once every connection is gone the server holds no work on the
  /// executor, so io_context::run() can return.
  void stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

/// Body of an error response: {"error":{"code":…,"message":…}}.
[[nodiscard]] std::string json_error_body(std::string_view code, std::string_view message);

/// A JSON response with the given status and body.
[[nodiscard]] Response json_response(int status, std::string body);

}  // namespace outpost::http
