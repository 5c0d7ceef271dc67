// Reading and judging HTTP responses: the parser limits, the failure
// classification, gzip decoding and parse_response() for the fuzzer. Beast's
// synchronous parser only; the asynchronous reads live in client.cpp.
#include "http/response_reader.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>

namespace outpost::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using boost::system::error_code;

std::string_view to_string(FailureKind kind) noexcept {
  switch (kind) {
    case FailureKind::kNone: return "none";
    case FailureKind::kResolve: return "resolve";
    case FailureKind::kConnect: return "connect";
    case FailureKind::kProxy: return "proxy";
    case FailureKind::kTls: return "tls";
    case FailureKind::kTimeout: return "timeout";
    case FailureKind::kTooLarge: return "too_large";
    case FailureKind::kProtocol: return "protocol";
    case FailureKind::kIo: return "io";
    case FailureKind::kCancelled: return "cancelled";
  }
  return "unknown";
}

namespace detail {
namespace {

bool is_connection_closed(const error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::connection_aborted || ec == asio::ssl::error::stream_truncated;
}

std::string lower_trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

/// A SyncReadStream over bytes already received, then end of stream: lets
/// parse_response() run Beast's own read loop (need_more, put_eof) on them.
class ReceivedBytes {
 public:
  explicit ReceivedBytes(std::string_view data) : data_(data) {}

  template <typename MutableBuffers>
  std::size_t read_some(const MutableBuffers& buffers, error_code& ec) {
    if (data_.empty()) {
      ec = asio::error::eof;
      return 0;
    }
    const std::size_t n = asio::buffer_copy(buffers, asio::buffer(data_.data(), data_.size()));
    data_.remove_prefix(n);
    ec = {};
    return n;
  }

  template <typename MutableBuffers>
  std::size_t read_some(const MutableBuffers& buffers) {
    error_code ec;
    const std::size_t n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

 private:
  std::string_view data_;
};

}  // namespace

void configure_parser(ResponseParser& parser, std::size_t max_body_bytes, bool head_request) {
  parser.header_limit(kResponseHeaderLimit);
  parser.body_limit(max_body_bytes);
  parser.skip(head_request);
}

StepError classify(bool closed, std::size_t max_bytes, const error_code& ec,
                   const std::string& doing, bool reused_and_untouched) {
  if (closed || ec == asio::error::operation_aborted) {
    // Either close() or the caller's cancellation slot (bound at co_spawn).
    return {FailureKind::kCancelled,
            "request cancelled while " + doing + (closed ? ": client closed" : "")};
  }
  if (ec == beast::error::timeout) {
    return {FailureKind::kTimeout, "request timed out while " + doing};
  }
  if (ec == bhttp::error::body_limit) {
    return {FailureKind::kTooLarge,
            "response body exceeds the limit of " + std::to_string(max_bytes) + " bytes"};
  }
  if (ec == bhttp::error::header_limit) {
    return {FailureKind::kTooLarge,
            "response header exceeds " + std::to_string(kResponseHeaderLimit) + " bytes"};
  }
  if (is_connection_closed(ec)) {
    return {FailureKind::kIo, "connection closed by the server while " + doing,
            reused_and_untouched};
  }
  if (ec.category() == asio::error::get_ssl_category()) {
    return {FailureKind::kTls, "TLS error while " + doing + ": " + ec.message()};
  }
  if (ec.category() == bhttp::make_error_code(bhttp::error::bad_version).category()) {
    return {FailureKind::kProtocol, "invalid HTTP response: " + ec.message()};
  }
  return {FailureKind::kIo, "I/O error while " + doing + ": " + ec.message()};
}

StepError to_response(ResponseMessage& message, std::size_t limit, Response& out) {
  out.status = static_cast<int>(message.result_int());
  for (const auto& field : message) {
    out.headers.push_back({std::string(field.name_string()), std::string(field.value())});
  }
  const std::string encoding = lower_trimmed(message[bhttp::field::content_encoding]);
  if (encoding.empty() || encoding == "identity" || message.body().empty()) {
    out.body = std::move(message.body());
    return {};
  }
  if (encoding != "gzip" && encoding != "x-gzip" && encoding != "deflate") {
    return {FailureKind::kProtocol, "unsupported Content-Encoding '" + encoding + "'"};
  }
  // Bounded on the decompressed size: a small "gzip bomb" fails as kTooLarge.
  auto inflated = gunzip(message.body(), limit);
  if (inflated.data) {
    out.body = std::move(*inflated.data);
    return {};
  }
  if (inflated.too_large) {
    return {FailureKind::kTooLarge, "response body " + inflated.error + " (the limit)"};
  }
  return {FailureKind::kProtocol, "invalid gzip response body: " + inflated.error};
}

}  // namespace detail

Outcome parse_response(std::string_view raw, std::size_t max_response_bytes, bool head_request) {
  auto failed = [](detail::StepError error) {
    Outcome outcome;
    outcome.failure = error.kind;
    outcome.error = std::move(error.message);
    return outcome;
  };
  detail::ReceivedBytes stream(raw);
  beast::flat_buffer buffer;
  detail::ResponseParser parser;
  detail::configure_parser(parser, max_response_bytes, head_request);
  error_code ec;
  bhttp::read(stream, buffer, parser, ec);
  if (ec) {
    return failed(detail::classify(false, max_response_bytes, ec, "reading the response", false));
  }
  Outcome outcome;
  outcome.response.emplace();
  if (auto error = detail::to_response(parser.get(), max_response_bytes, *outcome.response)) {
    return failed(std::move(error));
  }
  return outcome;
}

}  // namespace outpost::http
