// Fuzzes the agent's handling of a raw HTTP/1.1 response from the control
// plane: http::parse_response (Beast's parser with the client's header and
// body limits, gzip decoding, failure classification), then what every
// control-plane call makes of it (control_plane::to_call: status
// classification, error body, Retry-After) and the 2xx body parsers
// (connect, claim, job heartbeat). Any bytes must end as a response or a
// classified failure, never a crash, an unexpected exception or a body above
// the limit.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "control_plane/client.hpp"
#include "http/client.hpp"
#include "protocol/messages.hpp"

namespace {

namespace cp = outpost::control_plane;
namespace http = outpost::http;

/// The client's default limit, and a small one so that the too-large paths
/// (plain and gzip-inflated bodies) are reached by small inputs too.
const std::size_t kDefaultLimit = http::ClientOptions{}.max_response_bytes;
constexpr std::size_t kSmallLimit = 256;

bool transient_status(int status) {
  return status == 429 || status == 502 || status == 503 || status == 504;
}

void check_error(const cp::CallError& e, const http::Outcome& outcome) {
  if (!outcome.ok()) {
    // A transport failure: no status, and transient unless cancelled.
    if (e.status != 0 || e.message.empty() || e.retry_after) std::abort();
    if (e.kind != cp::ErrorKind::kNetwork && e.kind != cp::ErrorKind::kTimeout) std::abort();
    if (!e.transient()) std::abort();
    return;
  }
  if (e.status != outcome.response->status) std::abort();
  if (e.status >= 200 && e.status < 300) std::abort();  // 2xx is a value, not an error
  if (e.kind == cp::ErrorKind::kProtocol || e.kind == cp::ErrorKind::kNetwork) std::abort();
  // The message is the server's, cut to one printable line of at most 300 bytes.
  if (e.message.size() > 300) std::abort();
  for (const char ch : e.message) {
    if (static_cast<unsigned char>(ch) < 0x20) std::abort();
  }
  if (e.retry_after) {
    if (!transient_status(e.status)) std::abort();
    if (e.retry_after->count() < 0 || *e.retry_after > std::chrono::hours(1)) std::abort();
  }
  if (transient_status(e.status) && !e.transient()) std::abort();
}

/// Runs a protocol body parser: a value or ProtocolError naming the call.
template <typename Parse>
void parse_body(const std::string& body, Parse parse) {
  try {
    (void)parse(body);
  } catch (const outpost::protocol::ProtocolError& e) {
    if (std::string_view(e.what()).find("response") == std::string_view::npos) std::abort();
  }
}

void check(std::string_view raw, std::size_t limit, bool head) {
  http::Outcome outcome = http::parse_response(raw, limit, head);
  if (outcome.ok()) {
    if (outcome.failure != http::FailureKind::kNone || !outcome.error.empty()) std::abort();
    const auto& r = *outcome.response;
    if (r.status < 0 || r.status > 999) std::abort();
    if (r.body.size() > limit) std::abort();
    if (head && !r.body.empty()) std::abort();
    for (const auto& h : r.headers) {
      if (h.name.empty()) std::abort();
    }
  } else if (outcome.failure == http::FailureKind::kNone || outcome.error.empty()) {
    std::abort();
  } else if (outcome.failure != http::FailureKind::kTooLarge &&
             outcome.failure != http::FailureKind::kProtocol &&
             outcome.failure != http::FailureKind::kIo) {
    std::abort();  // no TLS, timeout or cancel without a connection
  }

  const http::Outcome copy = outcome;
  auto call = cp::to_call(std::move(outcome));
  if (!call.ok()) {
    check_error(call.error, copy);
    return;
  }
  if (!copy.ok() || copy.response->status < 200 || copy.response->status >= 300) std::abort();
  if (*call.value != copy.response->body) std::abort();
  const std::string& body = *call.value;
  parse_body(body, [](const std::string& b) { return outpost::protocol::parse_session(b); });
  parse_body(body, [](const std::string& b) { return outpost::protocol::parse_claim_response(b); });
  parse_body(body, [](const std::string& b) {
    return outpost::protocol::parse_job_heartbeat_response(b);
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  check(raw, kDefaultLimit, false);
  check(raw, kSmallLimit, false);
  check(raw, kDefaultLimit, true);
  return 0;
}
