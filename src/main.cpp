// outpost-agent: parse the configuration, set up logging and redaction,
// assemble the Agent (connectors, signals) and run it.
#include <malloc.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "config/command_line.hpp"
#include "config/validation.hpp"
#include "observability/health_probe.hpp"
#include "observability/log.hpp"
#include "outpost/connector.hpp"
#include "runtime/agent.hpp"
#include "security/audit_log.hpp"

namespace {

namespace asio = boost::asio;
namespace config = outpost::config;
namespace obs = outpost::obs;

// The token may have come in as `--token VALUE`: overwrite it in argv so that
// ps and /proc/PID/cmdline stop showing it (options files, --token-file and
// AGENT_* never put it there in the first place).
void hide_token_in_argv(int argc, char** argv, const std::string& token) {
  if (token.empty()) return;
  for (int i = 1; i < argc; ++i) {
    // A very short token is masked only where it is a whole argument, not
    // wherever its letters happen to occur.
    if (token.size() < 4) {
      if (token == argv[i]) std::memset(argv[i], '*', token.size());
      continue;
    }
    for (char* hit = std::strstr(argv[i], token.c_str()); hit != nullptr;
         hit = std::strstr(hit, token.c_str())) {
      std::memset(hit, '*', token.size());
    }
  }
}

// A proxy URL may carry "user:password@": the password is a secret too.
void register_proxy_secret(const std::string& proxy) {
  if (proxy.empty()) return;
  const auto url = config::parse_http_url(proxy, nullptr);
  if (!url || url->userinfo.empty()) return;
  const auto colon = url->userinfo.find(':');
  if (colon != std::string::npos) obs::add_secret(url->userinfo.substr(colon + 1));
}

// SIGTERM/SIGINT stop the agent (a second one ends the grace), SIGHUP
// reloads the sources file. Re-arms until the agent exits and cancels it.
void wait_for_signal(asio::signal_set& signals, outpost::runtime::Agent& agent) {
  signals.async_wait([&signals, &agent](const boost::system::error_code& ec, int sig) {
    if (ec) return;  // cancelled: the agent has stopped
    if (sig == SIGHUP) {
      agent.reload_sources();
    } else {
      agent.stop(sig == SIGINT ? "SIGINT" : "SIGTERM");
    }
    wait_for_signal(signals, agent);
  });
}

// A result streams through buffers of a part each (4 MiB by default): the
// one being filled, the one in flight, its compressed copy. glibc's default
// raises its mmap threshold to the largest block freed, after which such
// buffers come from the heaps of whichever threads freed them and stay
// resident after the job (peak RSS 37-48 MiB while streaming). A fixed
// threshold gives every block of 256 KiB or more its own mapping, returned to
// the system when freed. An operator's GLIBC_TUNABLES setting wins.
void return_large_blocks_to_the_system() {
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables != nullptr && std::strstr(tunables, "mmap_threshold") != nullptr) return;
  constexpr int kMmapThreshold = 256 * 1024;
  ::mallopt(M_MMAP_THRESHOLD, kMmapThreshold);
}

// The connectors, the agent and its signals on one io_context thread.
int run_agent(const config::AgentConfig& cfg) {
  outpost::ConnectorRegistry registry;
  try {
    outpost::register_builtin_connectors(registry);
  } catch (const std::exception& e) {
    std::cerr << "outpost-agent: error: connector registration failed: " << e.what() << '\n';
    return 1;
  }
  asio::io_context ioc(1);
  std::unique_ptr<outpost::runtime::Agent> agent;
  try {
    agent = std::make_unique<outpost::runtime::Agent>(cfg, registry, ioc);
  } catch (const outpost::runtime::StartError& e) {
    std::cerr << "outpost-agent: error: " << obs::redact(e.what()) << '\n';
    return e.exit_code();
  }
  asio::signal_set signals(ioc, SIGINT, SIGTERM, SIGHUP);
  wait_for_signal(signals, *agent);
  agent->start([&signals] {
    boost::system::error_code ignored;
    signals.cancel(ignored);
  });
  ioc.run();
  return agent->finish();
}

int run(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args.front() == "audit-verify") {
    if (args.size() != 2) {
      std::cerr << "outpost-agent: usage: outpost-agent audit-verify PATH\n";
      return 2;
    }
    return outpost::security::verify_audit_log(args[1], std::cout);
  }
  if (!args.empty() && args.front() == "healthcheck") {
    return obs::run_health_probe({args.begin() + 1, args.end()}, std::cout, std::cerr);
  }

  config::ProcessEnvironment env;
  config::FdTokenReader token_reader(STDIN_FILENO, STDERR_FILENO);
  config::ParseResult parsed = config::parse_command_line(args, env, token_reader);
  switch (parsed.outcome) {
    case config::ParseResult::Outcome::kPrintAndExit:
      std::cout << parsed.text << std::flush;
      return 0;
    case config::ParseResult::Outcome::kUsageError:
      std::cerr << "outpost-agent: " << parsed.text << '\n';
      return 2;
    case config::ParseResult::Outcome::kRun: break;
  }

  const config::AgentConfig& cfg = parsed.config;
  obs::add_secret(cfg.token);
  register_proxy_secret(cfg.proxy);
  hide_token_in_argv(argc, argv, cfg.token);
  obs::init_logging({cfg.log_level, cfg.log_format});

  const obs::Logger log("config");
  for (const auto& warning : parsed.warnings) log.warn(warning);
  log.debug("configuration loaded", {{"url", config::redact_userinfo(cfg.url)},
                                     {"health_addr", cfg.health_addr},
                                     {"backoff_strategy", config::to_string(cfg.backoff)},
                                     {"log_level", config::to_string(cfg.log_level)},
                                     {"token_source", cfg.token_file.empty() ? "value" : "file"}});
  return run_agent(cfg);
}

}  // namespace

int main(int argc, char** argv) {
  // First thing: no core dumps and no ptrace by other users' processes, so the
  // token in memory cannot be read from a dump or via /proc/PID/mem.
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  return_large_blocks_to_the_system();
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    const std::string what = obs::redact(e.what());
    obs::Logger("main").error("fatal error", {{"error", what}});
    std::cerr << "outpost-agent: fatal error: " << what << '\n';
    return 1;
  }
}
