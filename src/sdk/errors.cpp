#include "outpost/errors.hpp"

#include <array>
#include <utility>

namespace outpost {
namespace {

constexpr std::array<std::pair<ErrorCode, std::string_view>, 14> kNames{{
    {ErrorCode::kAuthFailed, "auth_failed"},
    {ErrorCode::kUnreachable, "unreachable"},
    {ErrorCode::kTimeout, "timeout"},
    {ErrorCode::kTlsError, "tls_error"},
    {ErrorCode::kQueryError, "query_error"},
    {ErrorCode::kPermissionDenied, "permission_denied"},
    {ErrorCode::kReadOnlyViolation, "read_only_violation"},
    {ErrorCode::kCancelled, "cancelled"},
    {ErrorCode::kUnsupported, "unsupported"},
    {ErrorCode::kInvalidJob, "invalid_job"},
    {ErrorCode::kSecretUnresolved, "secret_unresolved"},
    {ErrorCode::kEgressDenied, "egress_denied"},
    {ErrorCode::kResultTooLarge, "result_too_large"},
    {ErrorCode::kInternal, "internal"},
}};

}  // namespace

std::string_view to_string(ErrorCode code) noexcept {
  for (const auto& [c, name] : kNames) {
    if (c == code) return name;
  }
  return "internal";
}

std::optional<ErrorCode> parse_error_code(std::string_view name) noexcept {
  for (const auto& [c, n] : kNames) {
    if (n == name) return c;
  }
  return std::nullopt;
}

}  // namespace outpost
