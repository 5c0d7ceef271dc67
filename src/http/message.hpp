#pragma once

#include <cstddef>
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

  /// First header with this name (case-insensitive), if any.
  [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const;
};

struct Response {
  int status = 0;
  std::vector<Header> headers;
  std::string body;  ///< already gunzipped when the peer sent Content-Encoding: gzip

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
[[nodiscard]] Inflated gunzip(std::string_view data, std::size_t max_bytes);

/// Compresses `data` as a gzip stream (fastest level). Throws std::runtime_error on zlib failure.
[[nodiscard]] std::string gzip(std::string_view data);

}  // namespace outpost::http
