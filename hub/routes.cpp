// The hub's routing: paths to rules-layer calls, answers to HTTP, and the
// streamed NDJSON body of GET /v1/admin/jobs/{id}/rows.
#include <algorithm>
#include <charconv>
#include <initializer_list>

#include <boost/asio/post.hpp>

#include "hub.hpp"

namespace outpost::hub {

namespace asio = boost::asio;

namespace {

http::Response method_not_allowed(std::string_view method, std::string_view path) {
  return error_response(405, "method_not_allowed",
                        std::string(method) + " is not allowed on " + std::string(path));
}

http::Response not_found(std::string_view path) {
  return error_response(404, "not_found", "no such endpoint: " + std::string(path));
}

/// "jobs/42/result" → {"jobs", "42", "result"}.
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    auto slash = path.find('/');
    auto seg = path.substr(0, slash);
    if (!seg.empty()) out.push_back(seg);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

std::string_view query_of(std::string_view target) {
  const auto q = target.find('?');
  return q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
}

std::uint64_t u64_param(std::string_view query, std::string_view key, std::uint64_t fallback) {
  auto text = query_param(query, key);
  if (!text) return fallback;
  std::uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (text->empty() || ec != std::errc() || ptr != text->data() + text->size()) {
    throw BadRequest{"invalid_field", std::string(key) + " must be a non-negative integer"};
  }
  return v;
}

/// Streams lines of a job's result in windows of about kWindowBytes: each
/// window is one store call and one chunk, asked for only when the previous
/// chunk is written, so hub memory stays bounded by the window.
class RowsBody final : public http::BodySource, public std::enable_shared_from_this<RowsBody> {
 public:
  static constexpr std::size_t kWindowBytes = 256 * 1024;

  /// `exec` runs the store calls of later windows; none = inline.
  RowsBody(std::weak_ptr<HubService> service, std::optional<asio::any_io_executor> exec,
           std::string job_id, std::uint64_t offset, std::uint64_t remaining)
      : service_(std::move(service)),
        exec_(std::move(exec)),
        job_id_(std::move(job_id)),
        offset_(offset),
        remaining_(remaining) {}

  /// Reads the next window; an Answer when the job does not exist.
  std::optional<Answer> fill() {
    auto service = service_.lock();
    if (!service) return Answer::error(Answer::Kind::kUnavailable, "shutting_down", "stopping");
    window_.clear();
    std::uint64_t n = 0;
    auto failed = service->stream_rows(job_id_, offset_, remaining_, [&](std::string_view line) {
      window_.append(line).push_back('\n');
      ++n;
      return window_.size() < kWindowBytes;
    });
    offset_ += n;
    remaining_ -= n;
    if (n == 0) remaining_ = 0;
    return failed;
  }

  void next(std::function<void(std::optional<std::string>)> deliver) override {
    if (!window_.empty()) return deliver(std::exchange(window_, {}));
    if (remaining_ == 0) return deliver(std::string());
    auto work = [self = shared_from_this(), deliver = std::move(deliver)] {
      try {
        if (self->fill()) return deliver(std::nullopt);  // the job was deleted meanwhile
        deliver(std::exchange(self->window_, {}));
      } catch (const std::exception&) {
        deliver(std::nullopt);  // store lost mid-body: the client sees a truncated body
      }
    };
    if (exec_) {
      asio::post(*exec_, std::move(work));
    } else {
      work();
    }
  }

 private:
  std::weak_ptr<HubService> service_;
  std::optional<asio::any_io_executor> exec_;
  std::string job_id_;
  std::uint64_t offset_;
  std::uint64_t remaining_;
  std::string window_;
};

}  // namespace

http::Response to_http(const Answer& a) {
  using K = Answer::Kind;
  int status = 200;
  switch (a.kind) {
    case K::kOk: status = 200; break;
    case K::kCreated: status = 201; break;
    case K::kAccepted: status = 202; break;
    case K::kNoContent: {
      http::Response r;
      r.status = 204;
      return r;
    }
    case K::kBadRequest: status = 400; break;
    case K::kUnauthorized: status = 401; break;
    case K::kForbidden: status = 403; break;
    case K::kNotFound: status = 404; break;
    case K::kConflict: status = 409; break;
    case K::kGone: status = 410; break;
    case K::kTooLarge: status = 413; break;
    case K::kUnavailable: status = 503; break;
  }
  if (!a.json_text) return json_reply(status, a.body);
  http::Response r;
  r.status = status;
  r.headers.push_back({"Content-Type", "application/json"});
  r.body = *a.json_text;
  return r;
}

std::string route_pattern(std::string_view path) {
  for (std::string_view p : {"/healthz", "/readyz", "/metrics"}) {
    if (path == p) return std::string(p);
  }
  std::string_view prefix;
  for (std::string_view p : {"/api/v1/agent/", "/api/v1/admin/"}) {
    if (path.starts_with(p)) prefix = p;
  }
  if (prefix.empty()) return "other";
  const auto seg = split_path(path.substr(prefix.size()));
  // Only names the hub serves become labels, so odd paths cannot grow the series.
  auto known = [](std::string_view s, std::initializer_list<std::string_view> names) {
    return std::find(names.begin(), names.end(), s) != names.end();
  };
  if (seg.empty() || seg.size() > 4 ||
      !known(seg[0], {"connect", "heartbeat", "jobs", "tokens", "sources", "agents", "pools",
                      "schedules"}) ||
      (seg.size() >= 3 &&
       !known(seg[2], {"heartbeat", "result", "release", "parts", "cancel", "rows", "test"})) ||
      (seg.size() == 4 && seg[2] != "parts")) {
    return "other";
  }
  std::string out(prefix);
  out.append(seg[0]);
  if (seg.size() >= 2) out.append(seg[0] == "jobs" && seg[1] == "claim" ? "/claim" : "/{id}");
  if (seg.size() >= 3) out.append("/").append(seg[2]);
  if (seg.size() == 4) out.append("/{seq}");
  return out;
}

void Hub::route_agent(std::string_view path, const http::Request& req, const TokenRecord& token,
                      const http::Responder& respond, const http::Responder& watch) {
  const auto seg = split_path(path);
  const auto instance = req.header("X-Outpost-Instance").value_or("");
  const bool post = req.method == "POST";
  HubService& s = *service_;
  if (seg.size() == 1 && seg[0] == "connect") {
    respond(post ? to_http(s.connect(token, parse_connect(req.body, instance)))
                 : method_not_allowed(req.method, path));
  } else if (seg.size() == 1 && seg[0] == "heartbeat") {
    respond(post ? to_http(s.agent_heartbeat(token, parse_agent_heartbeat(req.body, instance)))
                 : method_not_allowed(req.method, path));
  } else if (seg.size() == 2 && seg[0] == "jobs" && seg[1] == "claim") {
    if (!post) return respond(method_not_allowed(req.method, path));
    ClaimReply reply;
    reply.send = [respond](const Answer& a) { respond(to_http(a)); };
    reply.gone = [watch] { return watch.peer_gone(); };
    reply.on_gone = [watch](std::function<void()> cb) { watch.on_peer_gone(std::move(cb)); };
    s.claim(token, parse_claim(req.body, instance), std::move(reply));
  } else if (seg.size() == 3 && seg[0] == "jobs") {
    const std::string id(seg[1]);
    if (!post) return respond(method_not_allowed(req.method, path));
    if (seg[2] == "heartbeat") {
      respond(to_http(s.job_heartbeat(id, parse_job_heartbeat(req.body))));
    } else if (seg[2] == "result") {
      respond(to_http(s.result(id, parse_result(req.body))));
    } else if (seg[2] == "release") {
      respond(to_http(s.release(id, parse_release(req.body))));
    } else {
      respond(not_found(path));
    }
  } else if (seg.size() == 4 && seg[0] == "jobs" && seg[2] == "parts") {
    if (req.method != "PUT") return respond(method_not_allowed(req.method, path));
    respond(to_http(s.put_part(std::string(seg[1]), req.header("X-Lease-Token").value_or(""),
                               parse_part_seq(seg[3]), req.body)));
  } else {
    respond(not_found(path));
  }
}

http::Response Hub::route_admin(std::string_view path, const http::Request& req) {
  const auto seg = split_path(path);
  const std::string_view m = req.method;
  HubService& s = *service_;
  if (seg.size() == 1 && seg[0] == "tokens") {
    if (m == "POST") return to_http(s.create_token(parse_object(req.body)));
    if (m == "GET") return to_http(s.list_tokens());
  } else if (seg.size() == 2 && seg[0] == "tokens") {
    if (m == "DELETE") return to_http(s.revoke_token(std::string(seg[1])));
  } else if (seg.size() == 1 && seg[0] == "sources") {
    if (m == "POST") return to_http(s.create_source(parse_object(req.body)));
    if (m == "GET") return to_http(s.list_sources());
  } else if (seg.size() == 2 && seg[0] == "sources") {
    if (m == "GET") return to_http(s.get_source(std::string(seg[1])));
    if (m == "PATCH") return to_http(s.update_source(std::string(seg[1]), parse_object(req.body)));
    if (m == "DELETE") return to_http(s.delete_source(std::string(seg[1])));
  } else if (seg.size() == 1 && seg[0] == "pools") {
    if (m == "POST") return to_http(s.create_pool(parse_object(req.body)));
    if (m == "GET") return to_http(s.list_pools());
  } else if (seg.size() == 1 && seg[0] == "jobs") {
    if (m == "POST") return to_http(s.create_job(parse_object(req.body)));
    if (m == "GET") return to_http(s.list_jobs(query_of(req.target)));
  } else if (seg.size() == 2 && seg[0] == "jobs") {
    if (m == "GET") return to_http(s.get_job(std::string(seg[1])));
  } else if (seg.size() == 3 && seg[0] == "jobs" && seg[2] == "cancel") {
    if (m == "POST") return to_http(s.cancel_job(std::string(seg[1])));
  } else if (seg.size() == 3 && seg[0] == "jobs" && seg[2] == "rows") {
    if (m == "GET") return rows_response(std::string(seg[1]), query_of(req.target));
  } else if (seg.size() == 1 && seg[0] == "agents") {
    if (m == "GET") return to_http(s.list_agents());
  } else if (seg.size() == 1 && seg[0] == "schedules") {
    if (m == "POST") return to_http(s.create_schedule(parse_object(req.body)));
    if (m == "GET") return to_http(s.list_schedules());
  } else if (seg.size() == 2 && seg[0] == "schedules") {
    if (m == "DELETE") return to_http(s.delete_schedule(std::string(seg[1])));
  } else {
    return not_found(req.target.substr(0, req.target.find('?')));
  }
  return method_not_allowed(m, req.target.substr(0, req.target.find('?')));
}

void Hub::serve_admin(std::string_view path, const http::Request& req,
                      const http::Responder& respond) {
  const auto seg = split_path(path);
  // POST sources/{id}/test answers later (when the test job ends), like a claim.
  if (seg.size() == 3 && seg[0] == "sources" && seg[2] == "test" && req.method == "POST") {
    const Json body = req.body.empty() ? Json::object() : parse_object(req.body);
    service_->test_source(std::string(seg[1]), body,
                          [respond](const Answer& a) { respond(to_http(a)); });
    return;
  }
  if (seg.size() == 3 && seg[0] == "sources" && seg[2] == "test") {
    return respond(method_not_allowed(req.method, req.target.substr(0, req.target.find('?'))));
  }
  respond(route_admin(path, req));
}

http::Response Hub::rows_response(const std::string& job_id, std::string_view query) {
  const auto offset = u64_param(query, "offset", 0);
  const auto limit = u64_param(query, "limit", UINT64_MAX);
  auto body = std::make_shared<RowsBody>(service_, pool_exec_, job_id, offset, limit);
  if (auto failed = body->fill()) return to_http(*failed);
  http::Response r;
  r.status = 200;
  r.headers.push_back({"Content-Type", "application/x-ndjson"});
  r.stream = body;
  return r;
}

}  // namespace outpost::hub
