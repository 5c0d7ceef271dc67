#include "runtime/agent.hpp"

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/thread_pool.hpp>

#include "http/proxy.hpp"
#include "observability/health_server.hpp"
#include "observability/log.hpp"
#include "observability/metrics.hpp"
#include "outpost_version.hpp"
#include "runtime/container_limits.hpp"
#include "runtime/loops.hpp"
#include "runtime/network_guard.hpp"
#include "runtime/state.hpp"
#include "security/audit_log.hpp"
#include "security/egress.hpp"
#include "security/secret_policy.hpp"
#include "security/secrets.hpp"
#include "security/sources_file.hpp"

namespace outpost::runtime {
namespace {

namespace asio = boost::asio;

std::string random_uuid() {
  std::random_device rd;
  std::uniform_int_distribution<unsigned> byte(0, 255);
  unsigned char b[16];
  for (auto& x : b) x = static_cast<unsigned char>(byte(rd));
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
  char out[37];
  std::snprintf(out, sizeof out,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return out;
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

// The operator's opt-ins with every --sqlite-dirs entry resolved to its
// canonical path, so a symbolic link in the list cannot widen it later.
// Throws std::runtime_error naming a directory that does not exist.
OperatorPolicy make_policy(const config::AgentConfig& config) {
  OperatorPolicy policy;
  policy.allow_privileged_logins = config.allow_privileged_logins;
  for (const auto& dir : config.sqlite_dirs) {
    std::error_code ec;
    const auto canonical = std::filesystem::canonical(dir, ec);
    if (ec || !std::filesystem::is_directory(canonical, ec)) {
      throw std::runtime_error("--sqlite-dirs entry '" + dir +
                               "' is not an existing directory: create it or remove it");
    }
    policy.sqlite_dirs.push_back(canonical.string());
  }
  return policy;
}

// One line per opt-in that widens what a control plane can make the agent
// do, and one when nothing restricts where connections may go.
void log_security_posture(const obs::Logger& log, const config::AgentConfig& config,
                          const OperatorPolicy& policy, const security::SourcesFile* sources) {
  if (config.allow_hosts.empty()) {
    log.warn(
        "no --allow-hosts: jobs may connect to any host, port, local socket or ODBC data "
        "source this agent can reach, so a compromised control plane can aim it at "
        "internal services; set --allow-hosts to the databases it serves (e.g. "
        "db.internal:5432,10.0.0.0/8:5432-5439,unix:/var/run/postgresql)",
        {});
  } else {
    std::string hosts;
    for (const auto& h : config.allow_hosts) hosts += (hosts.empty() ? "" : ",") + h;
    log.info("egress limited by --allow-hosts", {{"allow_hosts", hosts}});
  }
  if (policy.allow_privileged_logins) {
    log.warn(
        "--allow-privileged-logins: query and metadata jobs run even on logins that can "
        "write, read server files or run programs",
        {});
  }
  if (!policy.sqlite_dirs.empty()) {
    std::string dirs;
    for (const auto& d : policy.sqlite_dirs) dirs += (dirs.empty() ? "" : ",") + d;
    log.info("SQLite files may be opened under --sqlite-dirs", {{"sqlite_dirs", dirs}});
  }
  if (sources != nullptr && !policy.allow_privileged_logins) {
    std::string opted;
    for (const auto& name : sources->names()) {
      const auto source = sources->find(name);
      if (source && privileged_login_allowed(policy, *source)) {
        opted += (opted.empty() ? "" : ",") + name;
      }
    }
    if (!opted.empty()) {
      log.warn(
          "sources-file sources with allow_privileged_login: their query and metadata jobs "
          "run even on logins that can write, read server files or run programs",
          {{"sources", opted}});
    }
  }
}

// --secret-dirs made canonical, and start-up lines for what the operator's
// secret options cannot do.
std::vector<std::string> secret_dirs(const obs::Logger& log, const config::AgentConfig& config) {
  std::vector<std::string> missing;
  auto dirs = security::canonical_secret_dirs(config.secret_dirs, &missing);
  for (const auto& dir : missing) {
    log.info("--secret-dirs entry does not exist; ${file:…} references cannot read under it",
             {{"dir", dir}});
  }
  const auto refused = security::refused_secret_env_entries(config.secret_env);
  if (!refused.empty()) {
    std::string names;
    for (const auto& n : refused) names += (names.empty() ? "" : ",") + n;
    log.warn(
        "--secret-env lists AGENT_* or proxy variables: those are never given to jobs, "
        "whatever the list says",
        {{"entries", names}});
  }
  return dirs;
}

void error_line(const std::string& message) {
  std::fprintf(stderr, "outpost-agent: error: %s\n", obs::redact(message).c_str());
  std::fflush(stderr);
}

}  // namespace

int run_agent(const config::AgentConfig& cfg) {
  config::AgentConfig config = cfg;
  obs::Logger log("runtime");
  if (config.token.empty() && !config.token_file.empty()) {
    std::ifstream in(config.token_file);
    std::string token((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    token.erase(0, token.find_first_not_of(" \t\r\n"));
    token.erase(token.find_last_not_of(" \t\r\n") + 1);
    config.token = std::move(token);
  }
  if (config.token.empty()) {
    error_line("no access token: give --token or --token-file");
    return 1;
  }
  obs::add_secret(config.token);
  ::signal(SIGPIPE, SIG_IGN);
  // The agent's own credentials and files: never the contents of a ${file:}
  // reference, even inside a --secret-dirs directory.
  for (const auto* path :
       {&config.token_file, &config.client_key, &config.sources_file, &config.audit_log}) {
    security::add_protected_secret_file(*path);
  }

  std::string url_error;
  auto base = http::parse_url(config.url, &url_error);
  if (!base) {
    error_line("invalid control plane URL: " + url_error);
    return 1;
  }
  const http::ProxyChoice proxy =
      http::select_proxy(*base, config.proxy, http::ProxyEnvironment::from_process());
  if (!proxy.ok()) {
    error_line(proxy.error);
    return 2;
  }

  ConnectorRegistry registry;
  try {
    register_builtin_connectors(registry);
  } catch (const std::exception& e) {
    error_line(std::string("connector registration failed: ") + e.what());
    return 1;
  }
  // Without --allow-hosts every host may be dialled; names are still
  // resolved by the guard so connectors dial the same way in both cases.
  OpenNetworkGuard open_guard;
  std::unique_ptr<security::EgressGuard> egress;
  const NetworkGuard* guard = &open_guard;
  if (!config.allow_hosts.empty()) {
    try {
      egress = std::make_unique<security::EgressGuard>(config.allow_hosts);
    } catch (const std::exception& e) {
      error_line(std::string("invalid --allow-hosts: ") + e.what());
      return 2;
    }
    if (!egress->unrestricted()) guard = egress.get();
  }
  OperatorPolicy policy;
  try {
    policy = make_policy(config);
  } catch (const std::exception& e) {
    error_line(e.what());
    return 2;
  }
  std::shared_ptr<security::SourcesFile> sources;
  if (!config.sources_file.empty()) {
    try {
      sources = security::SourcesFile::load(config.sources_file);
    } catch (const std::exception& e) {
      error_line(e.what());
      return 2;
    }
  }
  std::unique_ptr<security::AuditLog> audit;
  if (!config.audit_log.empty()) {
    try {
      audit = std::make_unique<security::AuditLog>(config.audit_log);
    } catch (const std::exception& e) {
      error_line(std::string("cannot open --audit-log: ") + e.what());
      return 2;
    }
  }

  const ContainerLimits limits = read_container_limits();
  const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  const int capacity = config.max_concurrency_set ? std::max(1, config.max_concurrency)
                                                  : default_max_concurrency(limits, hw);
  log.info("container limits",
           {{"limits", describe(limits)},
            {"hardware_threads", static_cast<std::int64_t>(hw)},
            {"max_concurrency", capacity},
            {"max_concurrency_source", config.max_concurrency_set ? "option" : "default"}});
  obs::Metrics metrics(build::kVersion);
  {
    using control_plane::ErrorKind;
    using control_plane::to_string;
    metrics.declare_control_plane_error_kinds(
        {to_string(ErrorKind::kNetwork), to_string(ErrorKind::kTimeout),
         to_string(ErrorKind::kUnauthorized), to_string(ErrorKind::kForbidden),
         to_string(ErrorKind::kConflict), to_string(ErrorKind::kGone),
         to_string(ErrorKind::kRateLimited), to_string(ErrorKind::kUnavailable),
         to_string(ErrorKind::kServerError), to_string(ErrorKind::kProtocol)});
  }
  for (Connector* c : registry.all()) {
    for (JobType t : c->job_types()) metrics.declare_job_series(to_string(t), c->type());
  }
  asio::io_context ioc(1);
  asio::thread_pool workers(static_cast<std::size_t>(capacity));
  asio::thread_pool canceller(1);
  asio::thread_pool compressor(1);

  auto state = std::make_shared<RuntimeState>(config, ioc.get_executor());
  state->instance_id = random_uuid();
  state->base_url = base->redacted();
  state->hostname = host_name();
  state->version = build::kVersion;
  state->capacity = capacity;
  state->metrics = &metrics;
  state->registry = &registry;
  state->guard = guard;
  state->policy = policy;
  state->workers = &workers;
  state->canceller = &canceller;
  state->compressor = &compressor;
  state->prepare.registry = &registry;
  state->prepare.agent_job_timeout = config.job_timeout;
  state->sources = sources;
  state->audit = audit.get();
  RuntimeState* raw_state = state.get();
  state->prepare.sources_file_configured = sources != nullptr;
  state->prepare.find_local_source = [raw_state](std::string_view name) -> std::optional<Source> {
    if (!raw_state->sources) return std::nullopt;
    return raw_state->sources->find(name);
  };
  if (config.require_secret_refs) {
    state->prepare.find_literal_secret = [](const nlohmann::json& source_config) {
      return security::find_literal_secret(source_config);
    };
  }
  state->prepare.resolve_secrets = [dirs = secret_dirs(log, config), env = config.secret_env](
                                       nlohmann::json& source_config,
                                       bool operator_source) -> ResolvedSecrets {
    const security::SecretScope scope{dirs, env, operator_source};
    auto resolved = security::resolve_secret_refs(source_config, scope);
    if (resolved.error) return {std::move(resolved.error), std::move(resolved.secrets)};
    source_config = std::move(resolved.config);
    return {std::nullopt, std::move(resolved.secrets)};
  };
  if (sources) {
    state->reload_sources = [raw_state] {
      const std::string& path = raw_state->config.sources_file;
      try {
        raw_state->sources = security::SourcesFile::load(path);
        raw_state->log.info(
            "sources file reloaded",
            {{"path", path},
             {"sources", static_cast<std::int64_t>(raw_state->sources->names().size())}});
      } catch (const std::exception& e) {
        // Keep serving the previous definitions: a typo must not stop jobs.
        raw_state->log.error("sources file reload failed; keeping the previous one",
                             {{"path", path}, {"error", e.what()}});
      }
    };
  }

  control_plane::ClientOptions cp_options;
  cp_options.http.base = *base;
  cp_options.http.ca_file = config.ca_file;
  cp_options.http.client_cert = config.client_cert;
  cp_options.http.client_key = config.client_key;
  cp_options.http.proxy = proxy.proxy;
  cp_options.http.user_agent = std::string("outpost-agent/") + build::kVersion;
  cp_options.token = config.token;
  cp_options.instance_id = state->instance_id;
  // Every running job may post a result, a part or a lease renewal at once;
  // keeping that many connections idle spares a TCP (and TLS) handshake per call.
  auto claim_options = cp_options;
  cp_options.http.max_idle_connections = static_cast<std::size_t>(state->capacity) + 2;
  claim_options.http.max_idle_connections = 2;  // one long poll at a time
  try {
    state->cp = std::make_unique<control_plane::Client>(ioc.get_executor(), cp_options);
    state->claims = std::make_unique<control_plane::Client>(ioc.get_executor(), claim_options);
  } catch (const std::exception& e) {
    error_line(e.what());
    return 1;
  }

  std::unique_ptr<obs::HealthServer> health;
  if (config.health_addr != "off") {
    auto addr = obs::parse_host_port(config.health_addr);
    if (!addr) {
      error_line("invalid --health-addr '" + config.health_addr + "': expected HOST:PORT or off");
      return 1;
    }
    obs::HealthServer::Probes probes;
    std::weak_ptr<RuntimeState> weak = state;
    probes.alive = [weak] {
      auto s = weak.lock();
      if (!s) return false;
      return s->stopping || !s->connected_once || (s->claim_loop_alive && s->heartbeat_loop_alive);
    };
    probes.ready = [weak] {
      auto s = weak.lock();
      return s && s->ready();
    };
    probes.metrics = [&metrics] { return metrics.serialize(); };
    try {
      health = std::make_unique<obs::HealthServer>(ioc.get_executor(), *addr, std::move(probes));
      health->start();
    } catch (const std::exception& e) {
      error_line("cannot serve health endpoints on " + config.health_addr + ": " + e.what() +
                 " (use --health-addr HOST:PORT or off)");
      return 1;
    }
  }

  auto signals = std::make_shared<asio::signal_set>(ioc, SIGINT, SIGTERM, SIGHUP);
  state->stop_io = [&ioc, &health, signals, state_ptr = state.get()] {
    boost::system::error_code ignored;
    signals->cancel(ignored);
    if (health) health->stop();
    state_ptr->claims->close();
    state_ptr->cp->close();
    ioc.stop();
  };
  log.info("agent starting", {{"version", build::kVersion},
                              {"url", base->redacted()},
                              {"instance_id", state->instance_id},
                              {"capacity", capacity},
                              {"health_addr", config.health_addr}});
  log_security_posture(log, config, policy, sources.get());
  asio::co_spawn(ioc, agent_main(state), asio::detached);
  asio::co_spawn(ioc, signal_loop(state, signals), asio::detached);
  ioc.run();

  const int code = state->exit_code.value_or(1);
  // A connector that ignores cancellation must not keep the process alive.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (state->busy_workers.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (state->busy_workers.load() > 0) {
    log.warn("connectors still running at exit; not waiting for them",
             {{"busy_workers", state->busy_workers.load()}});
    std::fflush(stdout);
    std::_Exit(code);
  }
  workers.join();
  canceller.join();
  return code;
}

}  // namespace outpost::runtime
