#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace outpost {

/// The error codes of protocol v1 §6. Every failed job carries exactly one.
enum class ErrorCode {
  kAuthFailed,
  kUnreachable,
  kTimeout,
  kTlsError,
  kQueryError,
  kPermissionDenied,
  kReadOnlyViolation,
  kCancelled,
  kUnsupported,
  kInvalidJob,
  kSecretUnresolved,
  kEgressDenied,
  kResultTooLarge,
  kInternal,
};

/// The wire name of a code, e.g. "auth_failed".
std::string_view to_string(ErrorCode code) noexcept;

/// Parses a wire name; nullopt when it is not one of the codes above.
std::optional<ErrorCode> parse_error_code(std::string_view name) noexcept;

/// A failed job's error as it goes on the wire.
struct JobError {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  bool retryable = false;
};

}  // namespace outpost
