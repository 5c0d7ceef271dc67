#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace outpost::http {

/// Plain HTTP message types shared by the client and the server facades, so
/// that no code outside src/http sees Beast.
struct Header {
  std::string name;
  std::string value;
};

struct Request {
  std::string method = "GET";
  std::string target = "/";  ///< path and query, e.g. "/api/v1/agent/connect"
  std::vector<Header> headers;
  std::string body;
  /// Client requests only: when set, sent instead of `body` and never copied
  /// (a result part is shared by the uploader's retries and its 413 split).
  std::shared_ptr<const std::string> shared_body;
  /// Server requests only: the peer's IP address ("127.0.0.1", "::1"), empty
  /// when unknown. Used for per-client limits (the hub console's sign-in).
  std::string remote_address;

  /// First header with this name (case-insensitive), if any.
  [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const;
};

/// A response body produced piece by piece, for bodies too large to hold
/// (the server sends it with chunked transfer encoding).
class BodySource {
 public:
  virtual ~BodySource() = default;
  /// Asks for the next piece; at most one request is outstanding. `deliver`
  /// must be called exactly once, from any thread, with the next bytes
  /// (non-empty), an empty string at the end of the body, or nullopt when
  /// the body cannot be completed: the connection is then closed without the
  /// final chunk, so the client sees a truncated body rather than a short one.
  virtual void next(std::function<void(std::optional<std::string>)> deliver) = 0;
};

struct Response {
  int status = 0;
  std::vector<Header> headers;
  std::string body;  ///< already gunzipped when the peer sent Content-Encoding: gzip
  /// Server responses only: when set, the body comes from here (chunked) and
  /// `body` is ignored.
  std::shared_ptr<BodySource> stream;

  [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const;
};

/// Why `request` must not be sent, or nullopt: a method or header name that
/// is not an HTTP token, or a target or header value holding CR, LF, NUL or
/// another control character (a CR/LF would inject a header or a second
/// request; Beast serialises them as given). The reason names the field,
/// never its value.
[[nodiscard]] std::optional<std::string> unsafe_request_field(const Request& request);

/// Case-insensitive ASCII comparison of header names.
[[nodiscard]] bool iequals(std::string_view a, std::string_view b) noexcept;

/// Outcome of inflating a gzip body.
struct Inflated {
  std::optional<std::string> data;  ///< empty on failure
  bool too_large = false;           ///< the output would have exceeded the limit
  std::string error;                ///< human-readable reason on failure
};

/// Inflates a gzip (or zlib) stream without ever holding more than
/// `max_bytes` of output, so a "zip bomb" fails instead of exhausting memory.
/// A single gzip member within the limit is inflated by libdeflate in one
/// call; everything else by zlib, whose errors are the ones reported.
[[nodiscard]] Inflated gunzip(std::string_view data, std::size_t max_bytes);

/// Compresses `data` as one gzip member (libdeflate, level 1). Throws
/// std::runtime_error when no compressor can be allocated.
[[nodiscard]] std::string gzip(std::string_view data);

}  // namespace outpost::http
