#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "store/records.hpp"

namespace outpost::hub {

/// What the rules layer answers a call with; hub/routes.cpp maps the kind to
/// an HTTP status. Expected failures are answers, not exceptions.
struct Answer {
  enum class Kind {
    kOk,
    kCreated,
    kAccepted,
    kNoContent,
    kBadRequest,
    kUnauthorized,
    kForbidden,
    kNotFound,
    kConflict,
    kGone,
    kTooLarge,
    kUnavailable,
  };
  Kind kind = Kind::kOk;
  Json body;  ///< the JSON body; {"error": {"code", "message"}} for failures
  /// Already serialised JSON used instead of `body` (a job whose rows are
  /// spliced in as the agent's text).
  std::optional<std::string> json_text;

  static Answer ok(Json body) { return {Kind::kOk, std::move(body), std::nullopt}; }
  static Answer of(Kind kind, Json body) { return {kind, std::move(body), std::nullopt}; }
  static Answer error(Kind kind, std::string_view code, std::string_view message) {
    return {kind, Json{{"error", {{"code", code}, {"message", message}}}}, std::nullopt};
  }
  [[nodiscard]] bool failed() const noexcept { return kind >= Kind::kBadRequest; }
};

}  // namespace outpost::hub
