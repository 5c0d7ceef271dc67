#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "http/message.hpp"
#include "http/url.hpp"

namespace outpost::http {

/// How a request failed before a complete response was read.
enum class FailureKind {
  kNone,
  kResolve,    ///< name did not resolve
  kConnect,    ///< TCP connect refused / unreachable
  kProxy,      ///< the proxy refused CONNECT or failed
  kTls,        ///< handshake or certificate verification failed
  kTimeout,    ///< connect, handshake or total deadline elapsed
  kTooLarge,   ///< response body above max_response_bytes
  kProtocol,   ///< not HTTP, bad framing, bad gzip
  kIo,         ///< connection reset or closed mid-exchange
  kCancelled,  ///< Client::close() was called
};

std::string_view to_string(FailureKind kind) noexcept;

struct ClientOptions {
  Url base;                 ///< scheme, host, port, path prefix ("/api")
  std::string ca_file;      ///< extra CA bundle added to the system store
  std::string client_cert;  ///< PEM, for mutual TLS
  std::string client_key;
  std::optional<Url> proxy;  ///< HTTP proxy reached with CONNECT (user info = basic auth)
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds handshake_timeout{10'000};
  std::size_t max_response_bytes = 64 * 1024 * 1024;
  std::size_t max_idle_connections = 4;
  /// Pooled connections idle longer than this are closed rather than reused
  /// (servers drop idle keep-alive connections; the hub after 75 s).
  std::chrono::milliseconds idle_timeout{30'000};
  std::string user_agent;
};

/// Result of one request: a response (any status) or a failure.
struct Outcome {
  std::optional<Response> response;
  FailureKind failure = FailureKind::kNone;
  std::string error;  ///< human-readable, never contains credentials

  [[nodiscard]] bool ok() const noexcept { return response.has_value(); }
};

/// Parses `raw`, every byte a server sent on a connection before closing it,
/// as the response to one request: the same Beast parser settings (64 KiB
/// header limit, `max_response_bytes` body limit, no body for HEAD), the same
/// read loop, gzip decoding and failure classification as Client::send, but
/// no I/O. Bytes after the first complete response are ignored. Never throws
/// except std::bad_alloc. For tests and the fuzzer (tests/fuzz/http_response).
[[nodiscard]] Outcome parse_response(std::string_view raw, std::size_t max_response_bytes,
                                     bool head_request = false);

/// Asynchronous HTTP/1.1 client for one origin (the control plane), with TLS
/// (verification and SNI on; TLS 1.2 minimum), keep-alive connection reuse,
/// gzip responses, a bounded response size and a deadline on every step.
/// Several send() calls may be in flight at once (each on its own connection).
///
/// Retry: when a pooled keep-alive connection turns out to have been closed by
/// the server before any byte of the response arrived, the request is sent
/// once more on a fresh connection. Every protocol-v1 call is safe to repeat
/// (claims, heartbeats and results are keyed by instance, job and lease), which
/// is what makes this automatic retry acceptable; do not use this client for a
/// non-idempotent call without that property.
///
/// Thread safety: use from the executor's thread only.
class Client {
 public:
  /// Throws std::runtime_error naming the file when a CA/cert/key cannot be loaded.
  Client(boost::asio::any_io_executor executor, ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /// Sends `request` (its target is appended to the base URL's path) and reads
  /// the response within `total_timeout`. Never throws for network errors.
  boost::asio::awaitable<Outcome> send(Request request, std::chrono::milliseconds total_timeout);

  /// Aborts every request in flight (they complete with kCancelled) and drops
  /// idle connections. Final: later send() calls complete with kCancelled at once.
  void close();

  /// TCP connections opened so far (a new connection per request means keep-alive is not working).
  [[nodiscard]] std::size_t connections_opened() const noexcept;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace outpost::http
