#include "common/error_classify.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace outpost::connectors::common {

bool contains_icase(std::string_view haystack, std::string_view needle) {
  if (needle.empty()) return true;
  auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                        [](char a, char b) {
                          return std::tolower(static_cast<unsigned char>(a)) ==
                                 std::tolower(static_cast<unsigned char>(b));
                        });
  return it != haystack.end();
}

bool is_read_only_refusal(std::string_view message) {
  static constexpr std::array<std::string_view, 5> kPatterns{
      "in a read-only transaction", "in a read only transaction", "readonly database",
      "--read-only option", "read-only mode"};
  return std::any_of(kPatterns.begin(), kPatterns.end(),
                     [&](std::string_view p) { return contains_icase(message, p); });
}

std::optional<ErrorCode> classify_network_message(std::string_view message) {
  // TLS first: "SSL connection has been closed unexpectedly" is a TLS story.
  static constexpr std::array<std::string_view, 6> kTls{
      "ssl", "tls", "certificate", "handshake", "x509", "server does not support ssl"};
  static constexpr std::array<std::string_view, 3> kTimeout{"timeout expired", "timed out",
                                                            "timeout"};
  static constexpr std::array<std::string_view, 10> kUnreachable{
      "connection refused",
      "could not connect",
      "no route to host",
      "network is unreachable",
      "could not translate host name",
      "name or service not known",
      "temporary failure in name resolution",
      "server closed the connection unexpectedly",
      "connection reset",
      "can't connect"};
  auto any = [&](const auto& list) {
    return std::any_of(list.begin(), list.end(),
                       [&](std::string_view p) { return contains_icase(message, p); });
  };
  if (any(kTimeout)) return ErrorCode::kTimeout;
  if (any(kTls)) return ErrorCode::kTlsError;
  if (any(kUnreachable)) return ErrorCode::kUnreachable;
  return std::nullopt;
}

bool retryable(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::kUnreachable:
    case ErrorCode::kTimeout:
    case ErrorCode::kInternal: return true;
    default: return false;
  }
}

}  // namespace outpost::connectors::common
