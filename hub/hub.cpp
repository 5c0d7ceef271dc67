// The hub's transport: construction, the store thread pool, request
// dispatch, authentication and health. Routing is in routes.cpp.
#include "hub.hpp"

#include <stdexcept>

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include "observability/log.hpp"
#include "store/memory_store.hpp"

namespace outpost::hub {

namespace asio = boost::asio;

namespace {

constexpr std::string_view kAgentPrefix = "/api/v1/agent/";
constexpr std::string_view kAdminPrefix = "/api/v1/admin/";

http::Response method_not_allowed(std::string_view method, std::string_view path) {
  return error_response(405, "method_not_allowed",
                        std::string(method) + " is not allowed on " + std::string(path));
}

}  // namespace

struct Hub::Pool {
  explicit Pool(std::size_t threads) : pool(threads) {}
  asio::thread_pool pool;
};

Hub::Hub(const asio::any_io_executor& executor, HubOptions options) : options_(std::move(options)) {
  if (options_.admin_token.empty()) throw std::runtime_error("an admin token is required");
  admin_hash_ = sha256(options_.admin_token);
  store_ = options_.store_instance ? options_.store_instance
                                   : std::shared_ptr<JobStore>(open_store(options_.backend));
  // The memory store never blocks: it runs inline on the I/O threads.
  if (dynamic_cast<MemoryStore*>(store_.get()) == nullptr) {
    pool_ = std::make_unique<Pool>(std::max<std::size_t>(1, options_.backend.connections));
    pool_exec_ = pool_->pool.get_executor();
  }
  asio::any_io_executor store_exec = pool_exec_ ? *pool_exec_ : executor;
  metrics_ = std::make_shared<HubMetrics>();
  service_ = std::make_shared<HubService>(executor, store_exec, store_, options_.store,
                                          options_.clock, metrics_);
  console_ = std::make_unique<console::Console>(options_.console, admin_hash_,
                                                !options_.server.tls_cert.empty(),
                                                options_.store.heartbeat_interval, options_.clock);
  obs::Logger log("hub");
  auto server_options = options_.server;
  server_options.server_name = "outpost-hub";
  server_options.on_error = [log](std::string_view message) { log.error(message); };
  server_ = std::make_unique<http::Server>(
      executor, server_options, [this](http::Request request, const http::Responder& respond) {
        handle(std::move(request), respond);
      });
}

Hub::~Hub() {
  stop();
  if (pool_) pool_->pool.join();  // store calls under way finish before the store goes
}

std::uint16_t Hub::port() const noexcept {
  return server_->port();
}

void Hub::start() {
  service_->start();
  server_->start();
}

void Hub::stop() {
  service_->shutdown();
  server_->stop();
}

void Hub::handle(http::Request request, const http::Responder& respond) {
  const std::string_view target = request.target;
  const std::string_view path = target.substr(0, target.find('?'));
  std::string route = route_pattern(path);
  // Count every answer by route pattern and status. Long polls keep the
  // original responder's peer-gone signals (see route_agent).
  http::Responder counted([respond, metrics = metrics_, route](http::Response r) {
    metrics->http_request(route, r.status);
    respond(std::move(r));
  });
  if (path == "/healthz") {
    // The process is alive: no store call, answered on the I/O thread.
    counted(request.method == "GET" ? json_reply(200, Json{{"status", "ok"}})
                                    : method_not_allowed(request.method, path));
    return;
  }
  auto run = [this, request = std::move(request), route, counted, respond] {
    handle_blocking(request, route, counted, respond);
  };
  if (pool_exec_) {
    asio::post(*pool_exec_, std::move(run));
  } else {
    run();
  }
}

void Hub::handle_blocking(const http::Request& request, const std::string& route,
                          const http::Responder& respond, const http::Responder& watch) {
  const std::string_view target = request.target;
  const std::string_view path = target.substr(0, target.find('?'));
  try {
    if (path == "/readyz" || path == "/metrics") {
      if (request.method != "GET") return respond(method_not_allowed(request.method, path));
      if (path == "/readyz") {
        service_->store().ping();
        return respond(json_reply(200, Json{{"status", "ready"}}));
      }
      http::Response r;
      r.status = 200;
      r.headers.push_back({"Content-Type", "text/plain; version=0.0.4; charset=utf-8"});
      r.body = service_->metrics_text();
      return respond(std::move(r));
    }
    const bool agent = path.starts_with(kAgentPrefix);
    const bool admin = path.starts_with(kAdminPrefix) || path == "/api/v1/admin";
    if (!agent && !admin) {
      if (console::Console::serves(path)) return respond(console_->handle(request));
      return respond(error_response(404, "not_found", "no such endpoint: " + std::string(path)));
    }
    auto token = bearer_token(request);
    if (!token && admin) {
      // The console calls the admin API with its session cookie + CSRF token.
      switch (console_->check_api(request)) {
        case console::Console::Access::kAllowed:
          return serve_admin(path.substr(std::min(path.size(), kAdminPrefix.size())), request,
                             respond);
        case console::Console::Access::kForbidden:
          return respond(error_response(403, "csrf_failed",
                                        "a console request needs its X-CSRF-Token header"));
        case console::Console::Access::kNoSession: break;
      }
    }
    if (!token) {
      return respond(
          error_response(401, "unauthorized", "missing 'Authorization: Bearer <token>'"));
    }
    const bool is_admin = constant_time_equal(sha256(*token), admin_hash_);
    if (admin) {
      if (is_admin) {
        return serve_admin(path.substr(std::min(path.size(), kAdminPrefix.size())), request,
                           respond);
      }
      if (service_->authenticate_agent(*token)) {
        return respond(error_response(403, "forbidden", "an agent token cannot use the admin API"));
      }
      return respond(error_response(401, "unauthorized", "invalid admin token"));
    }
    auto agent_token = service_->authenticate_agent(*token);
    if (!agent_token) {
      return respond(is_admin
                         ? error_response(403, "forbidden", "the admin token lacks the agent role")
                         : error_response(401, "unauthorized", "invalid or revoked access token"));
    }
    route_agent(path.substr(kAgentPrefix.size()), request, *agent_token, respond, watch);
  } catch (const BadRequest& e) {
    respond(error_response(400, e.code, e.message));
  } catch (const StoreUnavailable& e) {
    metrics_->store_error();
    obs::Logger("hub").warn("store unavailable", {{"route", route}, {"error", e.what()}});
    respond(error_response(503, "store_unavailable",
                           "the hub's store is unavailable; retry with backoff"));
  } catch (const std::exception& e) {
    obs::Logger("hub").error("request failed", {{"route", route}, {"error", e.what()}});
    respond(error_response(500, "internal", "internal error"));
  }
}

}  // namespace outpost::hub
