// outpost-hub: the reference control plane. The only hub file with CLI11.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "config/duration.hpp"
#include "config/size.hpp"
#include "http/url.hpp"
#include "hub.hpp"
#include "observability/health_probe.hpp"
#include "observability/log.hpp"

namespace {

using outpost::hub::HubOptions;

[[noreturn]] void usage_error(const std::string& message) {
  std::cerr << "outpost-hub: " << message << "\n";
  std::exit(2);
}

std::chrono::milliseconds duration_flag(const std::string& flag, const std::string& text,
                                        bool allow_zero = false) {
  std::string error;
  auto d = outpost::config::parse_duration(text, &error);
  if (!d) usage_error(flag + ": " + error);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
  if (!allow_zero && ms.count() <= 0) usage_error(flag + ": must be at least 1ms");
  return ms;
}

/// Like duration_flag, plus a leading number of days: "7d", "1d12h" (the
/// shared duration syntax stops at hours; retention is counted in days).
std::chrono::milliseconds days_flag(const std::string& flag, const std::string& text) {
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0 || digits > 6 || digits >= text.size() || text[digits] != 'd') {
    return duration_flag(flag, text);
  }
  const std::chrono::milliseconds days = std::chrono::hours(24) * std::stol(text.substr(0, digits));
  const std::string rest = text.substr(digits + 1);
  std::chrono::milliseconds more{0};
  if (!rest.empty()) {
    std::string error;
    auto d = outpost::config::parse_duration(rest, &error);
    if (!d) usage_error(flag + ": invalid duration '" + text + "': expected e.g. 7d, 1d12h or 36h");
    more = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
  }
  const auto total = days + more;
  if (total.count() <= 0) usage_error(flag + ": must be at least 1ms");
  return total;
}

std::uint64_t size_flag(const std::string& flag, const std::string& text) {
  std::string error;
  auto s = outpost::config::parse_size(text, &error);
  if (!s) usage_error(flag + ": " + error);
  if (*s == 0) usage_error(flag + ": must be greater than 0");
  return *s;
}

/// "127.0.0.1:8443", "[::1]:8443", "localhost:8443".
void parse_listen(const std::string& text, outpost::http::ServerOptions& server) {
  std::string host;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      usage_error("--listen: expected [IPv6]:PORT, got '" + text + "'");
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string::npos) usage_error("--listen: expected HOST:PORT, got '" + text + "'");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (host == "localhost") host = "127.0.0.1";
  char* end = nullptr;
  const long p = std::strtol(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || p < 0 || p > 65535) {
    usage_error("--listen: '" + port + "' is not a port number (0-65535)");
  }
  server.host = host;
  server.port = static_cast<std::uint16_t>(p);
}

std::string read_secret_file(const std::string& flag, const std::string& path) {
  std::ifstream in(path);
  if (!in) usage_error(flag + ": cannot read '" + path + "'");
  std::string token((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) {
    token.pop_back();
  }
  return token;
}

/// outpost-hub migrate: creates or migrates the store's schema and exits.
int run_migrate(const outpost::hub::StoreConfig& store) {
  outpost::obs::Logger log("hub");
  try {
    outpost::hub::migrate_store(store);
  } catch (const outpost::hub::StoreUnavailable& e) {
    std::cerr << "outpost-hub migrate: store unavailable: " << outpost::obs::redact(e.what())
              << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "outpost-hub migrate: " << outpost::obs::redact(e.what()) << "\n";
    return 1;
  }
  log.info("store schema up to date",
           {{"store", outpost::hub::is_memory_store(store) ? "memory" : "postgres"}});
  return 0;
}

struct Flags {
  std::string listen = "127.0.0.1:8443";
  std::string admin_token, admin_token_file;
  std::string lease_ttl = "30s", poll_wait = "20s", heartbeat = "10s";
  std::string header_timeout = "10s", body_timeout = "30s", idle_timeout = "75s";
  std::string max_body = "64MiB", max_part = "4MiB", retain = "7d";
  std::string store_password_file;
  std::string console_idle = "30m";
  std::size_t store_connections = 4;
  std::string log_level = "info", log_format = "json";
  int max_attempts = 3;
  unsigned threads = 1;
  bool allow_insecure = false;
  CLI::App* migrate = nullptr;
  CLI::App* healthcheck = nullptr;
  std::vector<std::string> healthcheck_args;
};

/// Declares every flag of outpost-hub and of `outpost-hub migrate`.
void add_flags(CLI::App& app, Flags& f, HubOptions& options) {
  app.add_option("--listen", f.listen, "HOST:PORT to serve on (port 0 = any free port)");
  app.add_option("--admin-token", f.admin_token,
                 "bearer token of the admin API (or $OUTPOST_HUB_ADMIN_TOKEN, --admin-token-file)");
  app.add_option("--admin-token-file", f.admin_token_file, "file holding the admin token");
  app.add_option("--tls-cert", options.server.tls_cert, "PEM certificate chain (enables HTTPS)");
  app.add_option("--tls-key", options.server.tls_key, "PEM private key of --tls-cert");
  app.add_option("--tls-client-ca", options.server.tls_client_ca,
                 "PEM CA bundle: clients must present a certificate it signed (mutual TLS)");
  app.add_option("--lease-ttl", f.lease_ttl, "lease of a claimed job without heartbeat");
  app.add_option("--max-attempts", f.max_attempts,
                 "default max_attempts of a job (lease expiries and retryable failures count)")
      ->check(CLI::Range(1, 1000));
  app.add_option("--max-body", f.max_body, "largest request body accepted (413 above)");
  app.add_option("--max-part-bytes", f.max_part, "largest result part (advertised to agents)");
  app.add_option("--poll-wait", f.poll_wait, "long-poll wait advertised to agents");
  app.add_option("--heartbeat-interval", f.heartbeat, "heartbeat interval advertised to agents");
  app.add_option("--header-timeout", f.header_timeout, "time allowed to send request headers");
  app.add_option("--body-timeout", f.body_timeout, "time allowed to send a request body");
  app.add_option("--idle-timeout", f.idle_timeout, "keep-alive connection idle time");
  app.add_option("--threads", f.threads, "I/O threads")->check(CLI::Range(1u, 64u));
  app.add_option("--console-idle-timeout", f.console_idle,
                 "web console: a session idle this long is signed out");
  app.add_option("--console-agent-image", options.console.agent_image,
                 "web console: image named in the `docker run` line of a new token");
  auto add_store_options = [&](CLI::App& cmd) {
    cmd.add_option("--store", options.backend.url,
                   "memory (default) or postgres://USER@HOST:PORT/DB")
        ->envname("OUTPOST_HUB_STORE");
    cmd.add_option("--store-password-file", f.store_password_file,
                   "file holding the store's password (never on the command line)")
        ->envname("OUTPOST_HUB_STORE_PASSWORD_FILE");
    cmd.add_option("--store-connections", f.store_connections,
                   "connections to a shared store (and store threads of the hub)")
        ->check(CLI::Range(std::size_t{1}, std::size_t{256}));
  };
  add_store_options(app);
  app.add_option("--retain", f.retain, "keep finished jobs this long (e.g. 7d, 12h)");
  f.migrate = app.add_subcommand("migrate", "create or migrate the store's schema, then exit");
  add_store_options(*f.migrate);
  f.healthcheck = app.add_subcommand(
      "healthcheck",
      "container HEALTHCHECK: GET /healthz on HOST:PORT (else $OUTPOST_HEALTHCHECK_ADDR, "
      "--listen of PID 1, 127.0.0.1:8443); only a TCP connect when PID 1 serves TLS; "
      "exit 0 healthy, 1 not");
  f.healthcheck->add_option("address", f.healthcheck_args, "HOST:PORT")
      ->expected(0, 1)
      ->multi_option_policy(CLI::MultiOptionPolicy::Throw);
  app.add_option("--log-level", f.log_level, "trace, debug, info, warn or error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  app.add_option("--log-format", f.log_format, "json or text")
      ->check(CLI::IsMember({"json", "text"}));
  app.add_flag("--allow-insecure-http", f.allow_insecure,
               "serve plain http on a non-loopback address (testing only)");
}

/// Logging and the store's settings: what `migrate` needs too.
void apply_common(Flags& f, HubOptions& options) {
  using outpost::config::LogLevel;
  const LogLevel level = f.log_level == "trace"   ? LogLevel::kTrace
                         : f.log_level == "debug" ? LogLevel::kDebug
                         : f.log_level == "warn"  ? LogLevel::kWarn
                         : f.log_level == "error" ? LogLevel::kError
                                                  : LogLevel::kInfo;
  outpost::obs::init_logging({level, f.log_format == "text" ? outpost::config::LogFormat::kText
                                                            : outpost::config::LogFormat::kJson});
  options.backend.connections = f.store_connections;
  if (!f.store_password_file.empty()) {
    options.backend.password = read_secret_file("--store-password-file", f.store_password_file);
    outpost::obs::add_secret(options.backend.password);
  }
}

/// The serving flags; exits with status 2 naming the flag on a bad value.
void apply_serving(Flags& f, HubOptions& options) {
  if (f.admin_token.empty() && !f.admin_token_file.empty())
    f.admin_token = read_secret_file("--admin-token-file", f.admin_token_file);
  if (f.admin_token.empty()) {
    if (const char* env = std::getenv("OUTPOST_HUB_ADMIN_TOKEN")) f.admin_token = env;
  }
  if (f.admin_token.empty()) {
    usage_error(
        "an admin token is required (--admin-token, --admin-token-file or "
        "OUTPOST_HUB_ADMIN_TOKEN)");
  }
  outpost::obs::add_secret(f.admin_token);
  options.admin_token = f.admin_token;
  parse_listen(f.listen, options.server);
  if (options.server.tls_cert.empty() != options.server.tls_key.empty()) {
    usage_error("--tls-cert and --tls-key go together");
  }
  if (options.server.tls_cert.empty() && !f.allow_insecure &&
      !outpost::http::is_loopback_host(options.server.host)) {
    usage_error(
        "plain http is only served on loopback addresses; give --tls-cert/--tls-key "
        "or --allow-insecure-http");
  }
  options.store.lease_ttl = duration_flag("--lease-ttl", f.lease_ttl);
  options.store.poll_wait = duration_flag("--poll-wait", f.poll_wait);
  options.store.heartbeat_interval = duration_flag("--heartbeat-interval", f.heartbeat);
  options.store.max_attempts = f.max_attempts;
  options.store.max_part_bytes = size_flag("--max-part-bytes", f.max_part);
  options.server.max_body_bytes = size_flag("--max-body", f.max_body);
  options.server.header_timeout = duration_flag("--header-timeout", f.header_timeout);
  options.server.body_timeout = duration_flag("--body-timeout", f.body_timeout);
  options.server.idle_timeout = duration_flag("--idle-timeout", f.idle_timeout);
  options.store.max_wait = std::max(options.store.max_wait, options.store.poll_wait);
  options.store.retain = days_flag("--retain", f.retain);
  // A pass every minute, or every half of a shorter --retain, so a job is
  // never kept much past 1.5 times what was asked (at least a second apart).
  options.store.retention_interval =
      std::clamp(options.store.retain / 2, std::chrono::milliseconds(1'000),
                 std::chrono::milliseconds(60'000));
  options.console.idle_timeout = duration_flag("--console-idle-timeout", f.console_idle);
}

int run_hub(const Flags& f, const HubOptions& options) {
  outpost::obs::Logger log("hub");
  boost::asio::io_context io(static_cast<int>(f.threads));
  std::unique_ptr<outpost::hub::Hub> hub;
  try {
    hub = std::make_unique<outpost::hub::Hub>(io.get_executor(), options);
  } catch (const outpost::hub::StoreUnavailable& e) {
    std::cerr << "outpost-hub: store unavailable: " << outpost::obs::redact(e.what()) << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "outpost-hub: " << outpost::obs::redact(e.what()) << "\n";
    return 1;
  }
  hub->start();
  const std::string scheme = options.server.tls_cert.empty() ? "http" : "https";
  log.info(
      "hub started",
      {{"url", scheme + "://" + options.server.host + ":" + std::to_string(hub->port()) + "/api"},
       {"port", hub->port()},
       {"tls", !options.server.tls_cert.empty()},
       {"mutual_tls", !options.server.tls_client_ca.empty()},
       {"lease_ttl_ms", options.store.lease_ttl.count()},
       {"store", outpost::hub::is_memory_store(options.backend) ? "memory" : "postgres"},
       {"retain_ms", options.store.retain.count()},
       {"max_attempts", options.store.max_attempts}});

  boost::asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](boost::system::error_code ec, int sig) {
    if (ec) return;
    log.info("shutting down", {{"signal", sig}});
    hub->stop();
  });
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < f.threads; ++i) pool.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : pool) t.join();
  log.info("hub stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"outpost-hub: reference control plane for Outpost agents"};
  // A repeated option takes its last value, as with the agent (later wins).
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  Flags f;
  HubOptions options;
  add_flags(app, f, options);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version print and exit 0; a usage error prints one line
    // and exits 2, as the agent's do (not CLI11's own codes, e.g. 114).
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (f.healthcheck->parsed()) {
    return outpost::obs::run_hub_health_probe(f.healthcheck_args, std::cout, std::cerr);
  }
  apply_common(f, options);
  if (f.migrate->parsed()) return run_migrate(options.backend);
  apply_serving(f, options);
  return run_hub(f, options);
}
