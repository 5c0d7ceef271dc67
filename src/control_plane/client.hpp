#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "http/client.hpp"
#include "protocol/messages.hpp"

namespace outpost::control_plane {

// The wire types the client sends and receives (src/protocol).
using protocol::AgentHeartbeatRequest;
using protocol::ClaimRequest;
using protocol::ClaimResponse;
using protocol::ConnectRequest;
using protocol::JobHeartbeatRequest;
using protocol::JobHeartbeatResponse;
using protocol::ReleaseRequest;
using protocol::ResultRequest;
using protocol::Session;

/// How a control-plane call failed, as the runtime reacts to it (protocol §2).
enum class ErrorKind {
  kNetwork,       ///< resolve/connect/TLS/IO failure
  kTimeout,       ///< a deadline elapsed
  kUnauthorized,  ///< 401
  kForbidden,     ///< 403
  kNotFound,      ///< 404
  kBadRequest,    ///< 400 (a bug on our side: never resend the same body)
  kConflict,      ///< 409 (lease lost, or `unknown_instance`)
  kGone,          ///< 410
  kTooLarge,      ///< 413 (split and retry)
  kRateLimited,   ///< 429
  kUnavailable,   ///< 502, 503, 504
  kServerError,   ///< other 5xx
  kProtocol,      ///< a 2xx answer that is not protocol v1
  kCancelled,     ///< the client was closed
  kOtherStatus,   ///< any other status
};

/// Stable label for metrics and logs ("network", "unauthorized", …).
std::string_view to_string(ErrorKind kind) noexcept;

struct CallError {
  ErrorKind kind = ErrorKind::kNetwork;
  int status = 0;       ///< HTTP status, 0 without a response
  std::string code;     ///< error.code of the body, if any
  std::string message;  ///< one line, never contains the token
  std::optional<std::chrono::milliseconds> retry_after;

  /// Worth retrying the same call after a backoff (§2: 429, 5xx, network, timeouts).
  [[nodiscard]] bool transient() const noexcept;
  /// "409 unknown_instance": the control plane forgot this instance; reconnect.
  [[nodiscard]] bool unknown_instance() const noexcept {
    return kind == ErrorKind::kConflict && code == "unknown_instance";
  }
};

/// Either a value or an error.
template <typename T>
struct Call {
  std::optional<T> value;
  CallError error;
  [[nodiscard]] bool ok() const noexcept { return value.has_value(); }
};
struct Ack {};

struct ClientOptions {
  http::ClientOptions http;  ///< base URL, TLS, proxy, limits; user_agent is set here
  std::string token;         ///< sent only in the Authorization header
  std::string instance_id;
  std::chrono::milliseconds request_timeout{30'000};  ///< every call but claim
  /// Extra time allowed for a claim beyond its wait_ms.
  std::chrono::milliseconds claim_margin{15'000};
};

/// Protocol v1 on top of http::Client: one method per call, typed requests
/// and responses, every answer classified into a CallError. Sets the
/// Authorization, User-Agent, X-Outpost-Instance and Content-Type headers and
/// gzips large bodies once the control plane said `accepts_gzip`.
///
/// Thread safety: use from the executor's thread only.
class Client {
 public:
  /// Throws std::runtime_error when the TLS material cannot be loaded.
  Client(boost::asio::any_io_executor executor, ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  boost::asio::awaitable<Call<Session>> connect(ConnectRequest request);
  boost::asio::awaitable<Call<ClaimResponse>> claim(ClaimRequest request);
  boost::asio::awaitable<Call<JobHeartbeatResponse>> job_heartbeat(std::string job_id,
                                                                   JobHeartbeatRequest request);
  boost::asio::awaitable<Call<Ack>> post_result(std::string job_id, ResultRequest request);
  /// `gzipped`: `ndjson` is already gzip-compressed (by the caller, on its
  /// own thread, because gzips() said so) and is sent with Content-Encoding.
  /// The part is shared, not copied: its retries send the same bytes.
  boost::asio::awaitable<Call<Ack>> put_part(std::string job_id, std::uint64_t seq,
                                             std::string lease_token,
                                             std::shared_ptr<const std::string> ndjson,
                                             bool gzipped = false);
  boost::asio::awaitable<Call<Ack>> release(std::string job_id, ReleaseRequest request);
  boost::asio::awaitable<Call<Ack>> agent_heartbeat(AgentHeartbeatRequest request);

  /// Enables gzip request bodies (after connect said accepts_gzip).
  void set_accepts_gzip(bool accepts) noexcept { gzip_.store(accepts); }
  /// Whether a request body of `bytes` is sent gzip-compressed: the control
  /// plane accepts it and the body is large enough to gain. Any thread.
  [[nodiscard]] bool gzips(std::size_t bytes) const noexcept {
    return gzip_.load(std::memory_order_relaxed) && bytes >= kGzipThreshold;
  }
  /// Bodies below this are sent as they are: gzip would cost more than it saves.
  static constexpr std::size_t kGzipThreshold = 8 * 1024;

  /// Aborts every call in flight (they fail with kCancelled).
  void close();

 private:
  /// One request before it becomes an http::Request. Built as a named local
  /// by each call: GCC 12 mis-destroys braced temporaries inside co_await
  /// expressions, so none are used there.
  struct Outgoing {
    std::string method;
    std::string target;
    std::string content_type;
    std::string body;
    std::chrono::milliseconds timeout{0};
    std::optional<std::string> lease_token;
    bool body_gzipped = false;
    std::shared_ptr<const std::string> shared_body =
        nullptr;  ///< sent instead of `body`, not copied
  };
  boost::asio::awaitable<Call<std::string>> send(Outgoing out);

  ClientOptions options_;
  std::unique_ptr<http::Client> http_;
  /// Set on the network thread at connect, read by workers (gzips()).
  std::atomic<bool> gzip_{false};
};

/// What every call makes of an HTTP outcome: the body of a 2xx answer, or
/// the error (transport failure, or a non-2xx status via classify_status).
/// Pure; the fuzzer feeds it raw responses through http::parse_response.
Call<std::string> to_call(http::Outcome outcome);

/// Classifies a complete HTTP response with a non-2xx status.
CallError classify_status(int status, std::string_view body,
                          std::optional<std::string_view> retry_after_header);

}  // namespace outpost::control_plane
