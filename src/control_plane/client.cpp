#include "control_plane/client.hpp"

#include <charconv>
#include <stdexcept>
#include <utility>

#include <boost/asio/use_awaitable.hpp>

namespace outpost::control_plane {
namespace {

using namespace outpost::protocol;  // NOLINT(google-build-using-namespace): the wire types

namespace asio = boost::asio;

template <typename T>
Call<T> failed(const CallError& error) {
  Call<T> out;
  out.error = error;
  return out;
}

template <typename T, typename Parse>
Call<T> parse_with(const Call<std::string>& raw, Parse parse) {
  if (!raw.ok()) return failed<T>(raw.error);
  try {
    Call<T> out;
    out.value = parse(*raw.value);
    return out;
  } catch (const ProtocolError& e) {
    return failed<T>(CallError{ErrorKind::kProtocol, 200, "", e.what(), std::nullopt});
  }
}

Call<Ack> to_ack(const Call<std::string>& raw) {
  if (!raw.ok()) return failed<Ack>(raw.error);
  Call<Ack> out;
  out.value = Ack{};
  return out;
}

std::string job_target(std::string_view job_id, std::string_view tail) {
  return "/v1/agent/jobs/" + encode_path_segment(job_id) + std::string(tail);
}

}  // namespace

std::string_view to_string(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::kNetwork: return "network";
    case ErrorKind::kTimeout: return "timeout";
    case ErrorKind::kUnauthorized: return "unauthorized";
    case ErrorKind::kForbidden: return "forbidden";
    case ErrorKind::kNotFound: return "not_found";
    case ErrorKind::kBadRequest: return "bad_request";
    case ErrorKind::kConflict: return "conflict";
    case ErrorKind::kGone: return "gone";
    case ErrorKind::kTooLarge: return "too_large";
    case ErrorKind::kRateLimited: return "rate_limited";
    case ErrorKind::kUnavailable: return "unavailable";
    case ErrorKind::kServerError: return "server_error";
    case ErrorKind::kProtocol: return "protocol";
    case ErrorKind::kCancelled: return "cancelled";
    case ErrorKind::kOtherStatus: return "other_status";
  }
  return "other_status";
}

bool CallError::transient() const noexcept {
  switch (kind) {
    case ErrorKind::kNetwork:
    case ErrorKind::kTimeout:
    case ErrorKind::kRateLimited:
    case ErrorKind::kUnavailable:
    case ErrorKind::kServerError: return true;
    default: return false;
  }
}

CallError classify_status(int status, std::string_view body,
                          std::optional<std::string_view> retry_after_header) {
  CallError e;
  e.status = status;
  switch (status) {
    case 400: e.kind = ErrorKind::kBadRequest; break;
    case 401: e.kind = ErrorKind::kUnauthorized; break;
    case 403: e.kind = ErrorKind::kForbidden; break;
    case 404: e.kind = ErrorKind::kNotFound; break;
    case 409: e.kind = ErrorKind::kConflict; break;
    case 410: e.kind = ErrorKind::kGone; break;
    case 413: e.kind = ErrorKind::kTooLarge; break;
    case 429: e.kind = ErrorKind::kRateLimited; break;
    case 502:
    case 503:
    case 504: e.kind = ErrorKind::kUnavailable; break;
    default: e.kind = status >= 500 ? ErrorKind::kServerError : ErrorKind::kOtherStatus;
  }
  if (auto err = parse_error_body(body)) {
    e.code = std::move(err->code);
    e.message = std::move(err->message);
  }
  // Keep the line short and printable whatever the server sent.
  if (e.message.size() > 300) e.message.resize(300);
  for (auto& ch : e.message) {
    if (static_cast<unsigned char>(ch) < 0x20) ch = ' ';
  }
  // Protocol §2: Retry-After (seconds) is honoured on every transient status.
  if (retry_after_header && (status == 429 || status == 502 || status == 503 || status == 504)) {
    std::int64_t seconds = 0;
    const auto text = *retry_after_header;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (ec == std::errc() && ptr == text.data() + text.size() && seconds >= 0) {
      e.retry_after = std::chrono::seconds(std::min<std::int64_t>(seconds, 3600));
    }
  }
  return e;
}

Call<std::string> to_call(http::Outcome outcome) {
  Call<std::string> out;
  if (!outcome.ok()) {
    // Every transport failure is transient (§2); only the timeout and our
    // own close() are told apart.
    out.error.kind = outcome.failure == http::FailureKind::kTimeout     ? ErrorKind::kTimeout
                     : outcome.failure == http::FailureKind::kCancelled ? ErrorKind::kCancelled
                                                                        : ErrorKind::kNetwork;
    out.error.message =
        outcome.error.empty() ? std::string(http::to_string(outcome.failure)) : outcome.error;
    return out;
  }
  http::Response& resp = *outcome.response;
  if (resp.status >= 200 && resp.status < 300) {
    out.value = std::move(resp.body);
    return out;
  }
  out.error = classify_status(resp.status, resp.body, resp.header("Retry-After"));
  return out;
}

Client::Client(asio::any_io_executor executor, ClientOptions options)
    : options_(std::move(options)) {
  http_ = std::make_unique<http::Client>(std::move(executor), options_.http);
}

Client::~Client() = default;

void Client::close() {
  http_->close();
}

asio::awaitable<Call<std::string>> Client::send(Outgoing outgoing) {
  http::Request req;
  req.method = std::move(outgoing.method);
  req.target = std::move(outgoing.target);
  std::string body = std::move(outgoing.body);
  std::shared_ptr<const std::string> shared_body = std::move(outgoing.shared_body);
  const auto timeout = outgoing.timeout;
  req.headers.push_back({"Authorization", "Bearer " + options_.token});
  req.headers.push_back({"User-Agent", options_.http.user_agent});
  req.headers.push_back({"X-Outpost-Instance", options_.instance_id});
  req.headers.push_back({"Accept", "application/json"});
  req.headers.push_back({"Accept-Encoding", "gzip"});
  if (outgoing.lease_token) req.headers.push_back({"X-Lease-Token", *outgoing.lease_token});
  const std::size_t size = shared_body ? shared_body->size() : body.size();
  if (size > 0 || req.method != "GET") {
    req.headers.push_back({"Content-Type", std::move(outgoing.content_type)});
    if (outgoing.body_gzipped) {
      req.headers.push_back({"Content-Encoding", "gzip"});
    } else if (gzips(size)) {
      body = http::gzip(shared_body ? *shared_body : body);
      shared_body.reset();
      req.headers.push_back({"Content-Encoding", "gzip"});
    }
  }
  req.body = std::move(body);
  req.shared_body = std::move(shared_body);

  http::Outcome outcome = co_await http_->send(std::move(req), timeout);
  co_return to_call(std::move(outcome));
}

asio::awaitable<Call<Session>> Client::connect(ConnectRequest request) {
  Outgoing out{"POST",
               "/v1/agent/connect",
               "application/json",
               protocol::to_body(protocol::to_json(request)),
               options_.request_timeout,
               std::nullopt};
  auto raw = co_await send(std::move(out));
  co_return parse_with<Session>(raw, [](const std::string& b) { return parse_session(b); });
}

asio::awaitable<Call<ClaimResponse>> Client::claim(ClaimRequest request) {
  Outgoing out{"POST",
               "/v1/agent/jobs/claim",
               "application/json",
               protocol::to_body(protocol::to_json(request)),
               request.wait + options_.claim_margin,
               std::nullopt};
  auto raw = co_await send(std::move(out));
  co_return parse_with<ClaimResponse>(raw,
                                      [](const std::string& b) { return parse_claim_response(b); });
}

asio::awaitable<Call<JobHeartbeatResponse>> Client::job_heartbeat(std::string job_id,
                                                                  JobHeartbeatRequest request) {
  Outgoing out{"POST",
               job_target(job_id, "/heartbeat"),
               "application/json",
               protocol::to_body(protocol::to_json(request)),
               options_.request_timeout,
               std::nullopt};
  auto raw = co_await send(std::move(out));
  co_return parse_with<JobHeartbeatResponse>(
      raw, [](const std::string& b) { return parse_job_heartbeat_response(b); });
}

asio::awaitable<Call<Ack>> Client::post_result(std::string job_id, ResultRequest request) {
  Outgoing out{"POST",
               job_target(job_id, "/result"),
               "application/json",
               protocol::to_body(protocol::to_json(request)),
               options_.request_timeout,
               std::nullopt};
  auto raw = co_await send(std::move(out));
  co_return to_ack(raw);
}

asio::awaitable<Call<Ack>> Client::put_part(std::string job_id, std::uint64_t seq,
                                            std::string lease_token,
                                            std::shared_ptr<const std::string> ndjson,
                                            bool gzipped) {
  Outgoing out{"PUT",
               job_target(job_id, "/parts/" + std::to_string(seq)),
               "application/x-ndjson",
               {},
               options_.request_timeout,
               std::move(lease_token),
               gzipped,
               std::move(ndjson)};
  auto raw = co_await send(std::move(out));
  co_return to_ack(raw);
}

asio::awaitable<Call<Ack>> Client::release(std::string job_id, ReleaseRequest request) {
  Outgoing out{"POST",
               job_target(job_id, "/release"),
               "application/json",
               protocol::to_body(protocol::to_json(request)),
               options_.request_timeout,
               std::nullopt};
  auto raw = co_await send(std::move(out));
  co_return to_ack(raw);
}

asio::awaitable<Call<Ack>> Client::agent_heartbeat(AgentHeartbeatRequest request) {
  Outgoing out{"POST",
               "/v1/agent/heartbeat",
               "application/json",
               protocol::to_body(protocol::to_json(request)),
               options_.request_timeout,
               std::nullopt};
  auto raw = co_await send(std::move(out));
  co_return to_ack(raw);
}

}  // namespace outpost::control_plane
