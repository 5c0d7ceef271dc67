// The Agent object: set-up (configuration checks, clients, health server,
// threads) and the hand-over to the coroutines in agent_loops.cpp.
#include "runtime/agent.hpp"

#include <csignal>
#include <cstdio>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "http/proxy.hpp"
#include "observability/health_server.hpp"
#include "observability/log.hpp"
#include "observability/metrics.hpp"
#include "outpost_version.hpp"
#include "runtime/agent_loops.hpp"
#include "runtime/agent_setup.hpp"
#include "runtime/container_limits.hpp"
#include "runtime/network_guard.hpp"
#include "runtime/state.hpp"
#include "runtime/worker_pool.hpp"
#include "security/audit_log.hpp"
#include "security/egress.hpp"
#include "security/secret_policy.hpp"
#include "security/secrets.hpp"
#include "security/sources_file.hpp"

namespace outpost::runtime {

namespace asio = boost::asio;

/// What the agent owns beside its RuntimeState: the state points into it.
class AgentResources {
 public:
  explicit AgentResources(asio::io_context& io) : ioc(io), metrics(build::kVersion) {}

  asio::io_context& ioc;
  obs::Metrics metrics;
  OpenNetworkGuard open_guard;
  std::unique_ptr<security::EgressGuard> egress;
  std::unique_ptr<security::AuditLog> audit;
  std::unique_ptr<WorkerPool> workers;
  std::unique_ptr<WorkerPool> canceller;
  std::unique_ptr<WorkerPool> compressor;
  std::unique_ptr<obs::HealthServer> health;
  std::function<void()> on_exit;
  obs::Logger log{"runtime"};
};

namespace {

int capacity_for(const config::AgentConfig& config, const obs::Logger& log) {
  const ContainerLimits limits = read_container_limits();
  const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  const int capacity = config.max_concurrency_set ? std::max(1, config.max_concurrency)
                                                  : default_max_concurrency(limits, hw);
  log.info("container limits",
           {{"limits", describe(limits)},
            {"hardware_threads", static_cast<std::int64_t>(hw)},
            {"max_concurrency", capacity},
            {"max_concurrency_source", config.max_concurrency_set ? "option" : "default"}});
  return capacity;
}

void declare_metrics(obs::Metrics& metrics, const ConnectorRegistry& registry) {
  using control_plane::ErrorKind;
  using control_plane::to_string;
  metrics.declare_control_plane_error_kinds(
      {to_string(ErrorKind::kNetwork), to_string(ErrorKind::kTimeout),
       to_string(ErrorKind::kUnauthorized), to_string(ErrorKind::kForbidden),
       to_string(ErrorKind::kConflict), to_string(ErrorKind::kGone),
       to_string(ErrorKind::kRateLimited), to_string(ErrorKind::kUnavailable),
       to_string(ErrorKind::kServerError), to_string(ErrorKind::kProtocol)});
  for (Connector* c : registry.all()) {
    for (JobType t : c->job_types()) metrics.declare_job_series(to_string(t), c->type());
  }
}

/// The hooks prepare_job and the SIGHUP reload need, bound to `state`.
void wire_sources_and_secrets(RuntimeState& state, const obs::Logger& log) {
  RuntimeState* raw = &state;
  const config::AgentConfig& config = state.config;
  state.prepare.registry = state.registry;
  state.prepare.agent_job_timeout = config.job_timeout;
  state.prepare.sources_file_configured = state.sources != nullptr;
  state.prepare.find_local_source = [raw](std::string_view name) -> std::optional<Source> {
    if (!raw->sources) return std::nullopt;
    return raw->sources->find(name);
  };
  if (config.require_secret_refs) {
    state.prepare.find_literal_secret = [](const nlohmann::json& source_config) {
      return security::find_literal_secret(source_config);
    };
  }
  state.prepare.resolve_secrets = [dirs = secret_dirs(log, config), env = config.secret_env](
                                      nlohmann::json& source_config,
                                      bool operator_source) -> ResolvedSecrets {
    const security::SecretScope scope{dirs, env, operator_source};
    auto resolved = security::resolve_secret_refs(source_config, scope);
    if (resolved.error) return {std::move(resolved.error), std::move(resolved.secrets)};
    source_config = std::move(resolved.config);
    return {std::nullopt, std::move(resolved.secrets)};
  };
  if (!state.sources) return;
  state.reload_sources = [raw] {
    const std::string& path = raw->config.sources_file;
    try {
      raw->sources = security::SourcesFile::load(path);
      raw->log.info(
          "sources file reloaded",
          {{"path", path}, {"sources", static_cast<std::int64_t>(raw->sources->names().size())}});
    } catch (const std::exception& e) {
      // Keep serving the previous definitions: a typo must not stop jobs.
      raw->log.error("sources file reload failed; keeping the previous one",
                     {{"path", path}, {"error", e.what()}});
    }
  };
}

/// The two control-plane clients: one for long polls, one for everything else.
void make_clients(RuntimeState& state, const http::Url& base, const http::ProxyChoice& proxy) {
  const config::AgentConfig& config = state.config;
  control_plane::ClientOptions options;
  options.http.base = base;
  options.http.ca_file = config.ca_file;
  options.http.client_cert = config.client_cert;
  options.http.client_key = config.client_key;
  options.http.proxy = proxy.proxy;
  options.http.user_agent = std::string("outpost-agent/") + build::kVersion;
  options.token = config.token;
  options.instance_id = state.instance_id;
  // Every running job may post a result, a part or a lease renewal at once;
  // keeping that many connections idle spares a TCP (and TLS) handshake per call.
  auto claim_options = options;
  options.http.max_idle_connections = static_cast<std::size_t>(state.capacity) + 2;
  claim_options.http.max_idle_connections = 2;  // one long poll at a time
  try {
    state.cp = std::make_unique<control_plane::Client>(state.executor, options);
    state.claims = std::make_unique<control_plane::Client>(state.executor, claim_options);
  } catch (const std::exception& e) {
    throw StartError(1, obs::redact(e.what()));
  }
}

std::unique_ptr<obs::HealthServer> make_health_server(const std::shared_ptr<RuntimeState>& state,
                                                      obs::Metrics& metrics) {
  const std::string& where = state->config.health_addr;
  if (where == "off") return nullptr;
  auto addr = obs::parse_host_port(where);
  if (!addr)
    throw StartError(1, "invalid --health-addr '" + where + "': expected HOST:PORT or off");
  obs::HealthServer::Probes probes;
  std::weak_ptr<RuntimeState> weak = state;
  probes.alive = [weak] {
    auto s = weak.lock();
    if (!s) return false;
    return s->phase != AgentPhase::kRunning || (s->claim_loop_alive && s->heartbeat_loop_alive);
  };
  probes.ready = [weak] {
    auto s = weak.lock();
    return s && s->ready();
  };
  probes.metrics = [&metrics] { return metrics.serialize(); };
  try {
    return std::make_unique<obs::HealthServer>(state->executor, *addr, std::move(probes));
  } catch (const std::exception& e) {
    throw StartError(1, "cannot serve health endpoints on " + where + ": " + e.what() +
                            " (use --health-addr HOST:PORT or off)");
  }
}

/// What the operator's files and lists give: the policy and the sources file.
struct OperatorFiles {
  OperatorPolicy policy;
  std::shared_ptr<security::SourcesFile> sources;
};

/// --allow-hosts, --sqlite-dirs, --sources-file and --audit-log, checked and
/// opened (the guard and the audit log go into `r`); throws StartError(2).
OperatorFiles open_operator_files(const config::AgentConfig& config, AgentResources& r) {
  OperatorFiles out;
  if (!config.allow_hosts.empty()) {
    try {
      r.egress = std::make_unique<security::EgressGuard>(config.allow_hosts);
    } catch (const std::exception& e) {
      throw StartError(2, std::string("invalid --allow-hosts: ") + e.what());
    }
  }
  try {
    out.policy = make_policy(config);
    if (!config.sources_file.empty()) {
      out.sources = security::SourcesFile::load(config.sources_file);
    }
  } catch (const std::exception& e) {
    throw StartError(2, e.what());
  }
  if (!config.audit_log.empty()) {
    try {
      r.audit = std::make_unique<security::AuditLog>(config.audit_log);
    } catch (const std::exception& e) {
      throw StartError(2, std::string("cannot open --audit-log: ") + e.what());
    }
  }
  return out;
}

}  // namespace

Agent::Agent(config::AgentConfig config, ConnectorRegistry& registry, asio::io_context& ioc,
             FaultPoints faults)
    : resources_(std::make_unique<AgentResources>(ioc)) {
  auto& r = *resources_;
  if (config.token.empty()) throw StartError(2, "no access token: give --token or --token-file");
  // The token is registered for redaction by the caller (main, before logging
  // starts). The agent's own credentials and files: never the contents of a ${file:}
  // reference, even inside a --secret-dirs directory.
  for (const auto* path :
       {&config.token_file, &config.client_key, &config.sources_file, &config.audit_log}) {
    security::add_protected_secret_file(*path);
  }
  std::string url_error;
  const auto base = http::parse_url(config.url, &url_error);
  if (!base) throw StartError(2, "invalid control plane URL: " + url_error);
  const http::ProxyChoice proxy =
      http::select_proxy(*base, config.proxy, http::ProxyEnvironment::from_process());
  if (!proxy.ok()) throw StartError(2, proxy.error);
  const OperatorFiles files = open_operator_files(config, r);
  const int capacity = capacity_for(config, r.log);
  declare_metrics(r.metrics, registry);

  state_ = std::make_shared<RuntimeState>(config, ioc.get_executor());
  auto& s = *state_;
  s.instance_id = random_uuid();
  s.base_url = base->redacted();
  s.hostname = host_name();
  s.version = build::kVersion;
  s.capacity = capacity;
  s.metrics = &r.metrics;
  s.registry = &registry;
  // Without --allow-hosts every host may be dialled; names are still
  // resolved by the guard so connectors dial the same way in both cases.
  s.guard = r.egress && !r.egress->unrestricted() ? static_cast<const NetworkGuard*>(r.egress.get())
                                                  : &r.open_guard;
  s.policy = files.policy;
  s.sources = files.sources;
  s.audit = r.audit.get();
  s.faults = std::move(faults);
  wire_sources_and_secrets(s, r.log);
  make_clients(s, *base, proxy);
  r.health = make_health_server(state_, r.metrics);
  // Their threads start on first use (an idle agent has none).
  r.workers = std::make_unique<WorkerPool>(static_cast<std::size_t>(capacity));
  r.canceller = std::make_unique<WorkerPool>(1);
  r.compressor = std::make_unique<WorkerPool>(1);
  s.workers = r.workers.get();
  s.canceller = r.canceller.get();
  s.compressor = r.compressor.get();
}

Agent::~Agent() = default;

void Agent::start(std::function<void()> on_exit) {
  auto& r = *resources_;
  auto& s = *state_;
  r.on_exit = std::move(on_exit);
  ::signal(SIGPIPE, SIG_IGN);
  s.stop_io = [res = resources_.get(), raw = state_.get()] {
    if (res->on_exit) res->on_exit();
    if (res->health) res->health->stop();
    raw->claims->close();
    raw->cp->close();
    res->ioc.stop();
  };
  if (r.health) r.health->start();
  r.log.info("agent starting", {{"version", build::kVersion},
                                {"url", s.base_url},
                                {"instance_id", s.instance_id},
                                {"capacity", s.capacity},
                                {"health_addr", s.config.health_addr},
                                {"health_port", r.health ? r.health->port() : 0}});
  log_security_posture(r.log, s.config, s.policy, s.sources.get());
  spawn_agent_main(state_);
}

void Agent::stop(std::string_view why) {
  begin_shutdown(state_, why);
}

void Agent::reload_sources() {
  if (state_->reload_sources) {
    state_->reload_sources();
  } else {
    state_->log.info("SIGHUP ignored: no --sources-file to reload");
  }
}

int Agent::finish() {
  auto& r = *resources_;
  const int code = state_->exit_code.value_or(1);
  // A connector that ignores cancellation must not keep the process alive.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (state_->busy_workers.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (state_->busy_workers.load() > 0) {
    r.log.warn("connectors still running at exit; not waiting for them",
               {{"busy_workers", state_->busy_workers.load()}});
    std::fflush(stdout);
    std::_Exit(code);
  }
  r.workers->join();
  r.canceller->join();
  r.compressor->join();
  return code;
}

std::optional<int> Agent::exit_code() const {
  return state_->exit_code;
}

std::uint16_t Agent::health_port() const {
  return resources_->health ? resources_->health->port() : 0;
}

bool Agent::alive() const {
  const auto& s = *state_;
  return s.phase != AgentPhase::kRunning || (s.claim_loop_alive && s.heartbeat_loop_alive);
}

}  // namespace outpost::runtime
