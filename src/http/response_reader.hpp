#pragma once

// Private to src/http, and Beast: how a response is read and judged, shared
// by Client::send (client.cpp) and parse_response (response_reader.cpp), so
// the fuzzer exercises exactly what the agent runs.

#include <cstddef>
#include <cstdint>
#include <string>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/system/error_code.hpp>

#include "http/client.hpp"

namespace outpost::http::detail {

constexpr std::uint32_t kResponseHeaderLimit = 64 * 1024;

using ResponseMessage = boost::beast::http::response<boost::beast::http::string_body>;
using ResponseParser = boost::beast::http::response_parser<boost::beast::http::string_body>;

/// Why a step of a request failed; kind == kNone means it succeeded.
struct StepError {
  FailureKind kind = FailureKind::kNone;
  std::string message;
  bool retryable = false;  ///< a reused connection died before the response began
  explicit operator bool() const noexcept { return kind != FailureKind::kNone; }
};

/// The limits every response is read with (send() and parse_response()).
void configure_parser(ResponseParser& parser, std::size_t max_body_bytes, bool head_request);

/// Classifies a failed write or read. `closed`: Client::close() was called;
/// `doing` completes "while …"; `reused_and_untouched`: the connection came
/// from the pool and nothing of the response arrived (safe to retry).
[[nodiscard]] StepError classify(bool closed, std::size_t max_bytes,
                                 const boost::system::error_code& ec, const std::string& doing,
                                 bool reused_and_untouched);

/// Turns Beast's message into the facade's Response, decoding gzip within `limit`.
[[nodiscard]] StepError to_response(ResponseMessage& message, std::size_t limit, Response& out);

}  // namespace outpost::http::detail
