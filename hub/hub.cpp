#include "hub.hpp"

#include <charconv>
#include <stdexcept>

#include "observability/log.hpp"

namespace outpost::hub {

namespace {

constexpr std::string_view kAgentPrefix = "/api/v1/agent/";
constexpr std::string_view kAdminPrefix = "/api/v1/admin/";

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

std::string_view query_param(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    if (auto eq = pair.find('='); eq != std::string_view::npos && pair.substr(0, eq) == key) {
      return pair.substr(eq + 1);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

}  // namespace

Hub::Hub(boost::asio::any_io_executor executor, HubOptions options) : options_(std::move(options)) {
  if (options_.admin_token.empty()) throw std::runtime_error("an admin token is required");
  admin_hash_ = sha256(options_.admin_token);
  store_ = std::make_shared<Store>(executor, options_.store);
  obs::Logger log("hub");
  auto server_options = options_.server;
  server_options.server_name = "outpost-hub";
  server_options.on_error = [log](std::string_view message) { log.error(message); };
  server_ = std::make_unique<http::Server>(executor, server_options,
                                           [this](http::Request request, http::Responder respond) {
                                             handle(std::move(request), std::move(respond));
                                           });
}

Hub::~Hub() {
  stop();
}

std::uint16_t Hub::port() const noexcept {
  return server_->port();
}

void Hub::start() {
  server_->start();
}

void Hub::stop() {
  store_->shutdown();
  server_->stop();
}

void Hub::handle(http::Request request, http::Responder respond) {
  std::string_view target = request.target;
  std::string_view path = target.substr(0, target.find('?'));
  try {
    if (path == "/healthz") {
      respond(request.method == "GET" ? json_reply(200, Json{{"status", "ok"}})
                                      : method_not_allowed(request.method, path));
      return;
    }
    const bool agent = path.starts_with(kAgentPrefix);
    const bool admin = path.starts_with(kAdminPrefix) || path == "/api/v1/admin";
    if (!agent && !admin) {
      respond(not_found(path));
      return;
    }
    auto token = bearer_token(request);
    if (!token) {
      respond(error_response(401, "unauthorized", "missing 'Authorization: Bearer <token>'"));
      return;
    }
    const bool is_admin = constant_time_equal(sha256(*token), admin_hash_);
    if (admin) {
      if (is_admin) {
        respond(route_admin(path.substr(std::min(path.size(), kAdminPrefix.size())), request));
      } else if (store_->authenticate_agent(*token)) {
        respond(error_response(403, "forbidden", "an agent token cannot use the admin API"));
      } else {
        respond(error_response(401, "unauthorized", "invalid admin token"));
      }
      return;
    }
    auto token_id = store_->authenticate_agent(*token);
    if (!token_id) {
      respond(is_admin ? error_response(403, "forbidden", "the admin token lacks the agent role")
                       : error_response(401, "unauthorized", "invalid or revoked access token"));
      return;
    }
    route_agent(path.substr(kAgentPrefix.size()), request, *token_id, respond);
  } catch (const BadRequest& e) {
    respond(error_response(400, e.code, e.message));
  } catch (const std::exception& e) {
    obs::Logger("hub").error("request failed", {{"path", path}, {"error", e.what()}});
    respond(error_response(500, "internal", "internal error"));
  }
}

void Hub::route_agent(std::string_view path, const http::Request& req, const std::string& token_id,
                      http::Responder& respond) {
  const auto seg = split_path(path);
  const auto instance = req.header("X-Outpost-Instance").value_or("");
  const bool post = req.method == "POST";
  if (seg.size() == 1 && seg[0] == "connect") {
    respond(post ? store_->connect(token_id, parse_object(req.body), instance)
                 : method_not_allowed(req.method, path));
  } else if (seg.size() == 1 && seg[0] == "heartbeat") {
    respond(post ? store_->agent_heartbeat(token_id, parse_object(req.body), instance)
                 : method_not_allowed(req.method, path));
  } else if (seg.size() == 2 && seg[0] == "jobs" && seg[1] == "claim") {
    if (!post) return respond(method_not_allowed(req.method, path));
    store_->claim(token_id, parse_object(req.body), instance, respond);
  } else if (seg.size() == 3 && seg[0] == "jobs") {
    const std::string id(seg[1]);
    if (!post) return respond(method_not_allowed(req.method, path));
    if (seg[2] == "heartbeat") {
      respond(store_->job_heartbeat(id, parse_object(req.body)));
    } else if (seg[2] == "result") {
      respond(store_->result(id, parse_object(req.body)));
    } else if (seg[2] == "release") {
      respond(store_->release(id, parse_object(req.body)));
    } else {
      respond(not_found(path));
    }
  } else if (seg.size() == 4 && seg[0] == "jobs" && seg[2] == "parts") {
    if (req.method != "PUT") return respond(method_not_allowed(req.method, path));
    std::uint64_t seq = 0;
    auto [ptr, ec] = std::from_chars(seg[3].data(), seg[3].data() + seg[3].size(), seq);
    if (ec != std::errc() || ptr != seg[3].data() + seg[3].size()) {
      throw BadRequest{"invalid_seq", "the part number must be a non-negative integer"};
    }
    respond(store_->put_part(std::string(seg[1]), req.header("X-Lease-Token").value_or(""), seq,
                             req.body));
  } else {
    respond(not_found(path));
  }
}

http::Response Hub::route_admin(std::string_view path, const http::Request& req) {
  const auto seg = split_path(path);
  const std::string_view m = req.method;
  if (seg.size() == 1 && seg[0] == "tokens") {
    if (m == "POST") return store_->create_token(parse_object(req.body));
    if (m == "GET") return store_->list_tokens();
  } else if (seg.size() == 2 && seg[0] == "tokens") {
    if (m == "DELETE") return store_->revoke_token(std::string(seg[1]));
  } else if (seg.size() == 1 && seg[0] == "sources") {
    if (m == "POST") return store_->create_source(parse_object(req.body));
    if (m == "GET") return store_->list_sources();
  } else if (seg.size() == 1 && seg[0] == "jobs") {
    if (m == "POST") return store_->create_job(parse_object(req.body));
    if (m == "GET") {
      auto q = req.target.find('?');
      return store_->list_jobs(
          q == std::string::npos
              ? ""
              : query_param(std::string_view(req.target).substr(q + 1), "status"));
    }
  } else if (seg.size() == 2 && seg[0] == "jobs") {
    if (m == "GET") return store_->get_job(std::string(seg[1]));
  } else if (seg.size() == 3 && seg[0] == "jobs" && seg[2] == "cancel") {
    if (m == "POST") return store_->cancel_job(std::string(seg[1]));
  } else if (seg.size() == 1 && seg[0] == "agents") {
    if (m == "GET") return store_->list_agents();
  } else {
    return not_found(req.target.substr(0, req.target.find('?')));
  }
  return method_not_allowed(m, req.target.substr(0, req.target.find('?')));
}

}  // namespace outpost::hub
