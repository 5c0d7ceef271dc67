#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/sha256.hpp"
#include "http/message.hpp"

namespace outpost::hub {

using Json = nlohmann::json;
using SystemTime = std::chrono::system_clock::time_point;
using SteadyTime = std::chrono::steady_clock::time_point;

/// RFC 3339 UTC with milliseconds, e.g. "2026-11-22T10:00:30.123Z".
std::string rfc3339(SystemTime t);

/// Parses RFC 3339 ("2026-11-22T10:00:30.123Z", "…+02:00", fraction
/// optional, 't'/'z' accepted) to milliseconds; nullopt when malformed.
std::optional<SystemTime> parse_rfc3339(std::string_view text);

/// `bytes` random bytes from the OpenSSL CSPRNG, hex encoded.
std::string random_hex(std::size_t bytes);

/// SHA-256 of `text`, raw 32 bytes (the hub stores token hashes so); the one
/// implementation is src/common/sha256, shared with the agent and connectors.
inline std::string sha256(std::string_view text) {
  return common::sha256_digest(text);
}

/// Constant-time equality of two equal-length byte strings (CRYPTO_memcmp);
/// false at once when the lengths differ (lengths are not secret here: both
/// sides are hashes).
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

/// The token of an `Authorization: Bearer …` header, if any.
std::optional<std::string_view> bearer_token(const http::Request& request);

/// The percent-decoded value of `key` in a query string ("a=1&b=x%20y"),
/// '+' read as a space; nullopt when absent. Throws BadRequest for a bad escape.
std::optional<std::string> query_param(std::string_view query, std::string_view key);

/// A JSON error response {"error": {"code", "message"}}.
http::Response error_response(int status, std::string_view code, std::string_view message);

/// A JSON response carrying `body` (serialised).
http::Response json_reply(int status, const Json& body);

/// Thrown by the request parsers below; the router turns it into a 400.
struct BadRequest {
  std::string code;
  std::string message;
};

/// Parses a request body as a JSON object, or throws BadRequest.
Json parse_object(std::string_view body);

/// Typed field access that throws BadRequest naming the field on a wrong type.
std::optional<std::string> opt_string(const Json& obj, const char* key);
std::string req_string(const Json& obj, const char* key);
std::optional<std::int64_t> opt_int(const Json& obj, const char* key, std::int64_t min,
                                    std::int64_t max);
std::optional<Json> opt_object(const Json& obj, const char* key);

}  // namespace outpost::hub
