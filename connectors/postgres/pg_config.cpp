#include "postgres/pg_config.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <memory>
#include <string_view>
#include <utility>

#include "common/source_config.hpp"
#include "outpost/policy.hpp"

namespace outpost::connectors::postgres {
namespace {

constexpr const char* kDefaultSocketDir = "/var/run/postgresql";
constexpr const char* kDefaultApplicationName = "outpost-agent";
// A path that can never exist (/dev/null is not a directory): as passfile it
// stops libpq from reading ~/.pgpass for a source the control plane wrote.
constexpr const char* kNoPassfile = "/dev/null/outpost-no-passfile";

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const auto comma = text.find(',', start);
    out.push_back(text.substr(start, comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

JobError invalid(std::string message) {
  return JobError{ErrorCode::kInvalidJob, std::move(message), false};
}

// libpq keywords a dsn/uri may carry. An allow-list: anything libpq adds
// later is refused until someone decides it is safe.
bool is_network_keyword(std::string_view k) {
  static constexpr std::string_view kAllowed[] = {"host",
                                                  "hostaddr",
                                                  "port",
                                                  "dbname",
                                                  "user",
                                                  "password",
                                                  "connect_timeout",
                                                  "application_name",
                                                  "fallback_application_name",
                                                  "options",
                                                  "sslmode",
                                                  "sslrootcert",
                                                  "sslsni",
                                                  "sslcompression",
                                                  "channel_binding",
                                                  "require_auth",
                                                  "ssl_min_protocol_version",
                                                  "ssl_max_protocol_version",
                                                  "target_session_attrs",
                                                  "load_balance_hosts",
                                                  "keepalives",
                                                  "keepalives_idle",
                                                  "keepalives_interval",
                                                  "keepalives_count",
                                                  "tcp_user_timeout",
                                                  "gssencmode"};
  for (auto a : kAllowed) {
    if (a == k) return true;
  }
  return false;
}

// Keywords that make libpq read files on the agent's host (password file,
// client certificate and key, CRLs) or hand out its Kerberos credentials for
// a service the config names. Honoured only in the operator's sources file;
// a control plane naming them could aim the agent's own secrets at a server.
bool is_operator_keyword(std::string_view k) {
  static constexpr std::string_view kOperatorOnly[] = {
      "passfile",    "sslcert",    "sslkey", "sslpassword",   "sslcrl",     "sslcrldir",
      "sslcertmode", "krbsrvname", "gsslib", "gssdelegation", "requirepeer"};
  for (auto a : kOperatorOnly) {
    if (a == k) return true;
  }
  return false;
}

// Copies a dsn/uri's settings into params, keyword by keyword through the
// allow-lists above. Refused outright: "service" (a service file on the
// agent's host), "replication" (a walsender session: base backups, slots),
// "sslkeylogfile" (writes TLS secrets to a file).
std::optional<JobError> load_conninfo(const std::string& text, bool operator_source,
                                      ConnectParams& params) {
  char* err = nullptr;
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(
      PQconninfoParse(text.c_str(), &err), &PQconninfoFree);
  if (!options) {
    std::string message = "postgres source config: invalid dsn/uri";
    if (err != nullptr) {
      message += ": ";
      message += err;
      PQfreemem(err);
      while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
        message.pop_back();
      }
    }
    return invalid(std::move(message));
  }
  for (const auto* o = options.get(); o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    const std::string keyword = o->keyword;
    if (keyword == "client_encoding") continue;  // always UTF8, see parse_config
    if (keyword == "service") {
      return invalid(
          "postgres source config: dsn/uri may not use \"service\" (a service file on the "
          "agent's host would choose the connection); give host and port instead");
    }
    if (is_operator_keyword(keyword) && !operator_source) {
      return invalid("postgres source config: dsn/uri key \"" + keyword +
                     "\" reads files or credentials on the agent's host and is only honoured "
                     "in the agent's sources file");
    }
    if (!is_network_keyword(keyword) && !is_operator_keyword(keyword)) {
      return invalid("postgres source config: dsn/uri key \"" + keyword + "\" is not allowed");
    }
    params.set(keyword, o->val);
  }
  return std::nullopt;
}

}  // namespace

void ConnectParams::set(const std::string& keyword, std::string value) {
  for (std::size_t i = 0; i < keywords.size(); ++i) {
    if (keywords[i] == keyword) {
      values[i] = std::move(value);
      return;
    }
  }
  keywords.push_back(keyword);
  values.push_back(std::move(value));
}

const std::string* ConnectParams::get(const std::string& keyword) const {
  for (std::size_t i = 0; i < keywords.size(); ++i) {
    if (keywords[i] == keyword) return &values[i];
  }
  return nullptr;
}

ParsedConfig parse_config(const nlohmann::json& config, bool operator_source) {
  ParsedConfig out;
  common::ConfigReader reader(config, "postgres source config");
  reader.allow_only({"host", "port", "database", "user", "password", "sslmode", "sslrootcert",
                     "connect_timeout", "application_name", "options", "dsn", "uri",
                     kAllowPrivilegedLoginKey});
  // Read by privileged_login_allowed(); checked here only for its type.
  (void)reader.boolean(kAllowPrivilegedLoginKey);
  if (reader.has("dsn") && reader.has("uri"))
    reader.fail("postgres source config: give dsn or uri, not both");
  auto& p = out.params;
  if (auto dsn = reader.string(reader.has("dsn") ? "dsn" : "uri")) {
    if (auto error = load_conninfo(*dsn, operator_source, p)) {
      out.error = std::move(error);
      return out;
    }
  }
  if (auto v = reader.string("host")) p.set("host", *v);
  if (auto v = reader.integer("port", 1, 65535)) p.set("port", std::to_string(*v));
  if (auto v = reader.string("database")) p.set("dbname", *v);
  if (auto v = reader.string("user")) p.set("user", *v);
  if (auto v = reader.string("password")) p.set("password", *v);
  if (auto v = reader.choice(
          "sslmode", {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"})) {
    p.set("sslmode", *v);
  }
  if (auto v = reader.string("sslrootcert")) p.set("sslrootcert", *v);
  if (auto v = reader.string("options")) p.set("options", *v);
  if (auto v = reader.integer("connect_timeout", 1, 3600)) {
    p.connect_timeout_s = static_cast<int>(*v);
  } else if (const auto* t = p.get("connect_timeout")) {
    try {
      p.connect_timeout_s = std::max(1, std::stoi(*t));
    } catch (const std::exception&) {
      reader.fail("postgres source config: connect_timeout in the dsn must be an integer");
    }
  }
  p.set("connect_timeout", std::to_string(p.connect_timeout_s));
  if (auto v = reader.string("application_name")) {
    p.application_name = *v;
  } else if (const auto* a = p.get("application_name")) {
    p.application_name = *a;
  } else {
    p.application_name = kDefaultApplicationName;
  }
  p.set("application_name", p.application_name);
  // Values arrive as UTF-8 whatever the database encoding; json and text rely on it.
  p.set("client_encoding", "UTF8");
  if (!operator_source) p.set("passfile", kNoPassfile);
  if (reader.error()) out.error = invalid(*reader.error());
  return out;
}

namespace {

// The port of each host: one port for all, or one per host.
std::optional<JobError> read_ports(const ConnectParams& params, std::vector<std::string>& ports) {
  const auto* p = params.get("port");
  if (p == nullptr || p->empty()) return std::nullopt;
  auto list = split_commas(*p);
  if (list.size() == 1) {
    ports.assign(ports.size(), list[0]);
  } else if (list.size() == ports.size()) {
    ports = std::move(list);
  } else {
    return invalid("postgres source config: port lists a different number of ports than hosts");
  }
  return std::nullopt;
}

// The host, hostaddr and port lists libpq is given, entry by entry.
struct DialList {
  std::string host, addr, port;
  void add(const std::string& h, const std::string& a, const std::string& p) {
    append(host, h);
    append(addr, a);
    append(port, p);
  }
  static void append(std::string& list, const std::string& item) {
    if (!list.empty()) list.push_back(',');
    list += item;
  }
};

}  // namespace

std::optional<JobError> apply_network_guard(ConnectParams& params, const NetworkGuard& guard) {
  // libpq falls back to PGHOST and then the default socket directory; make
  // that explicit so what we check is what it dials.
  std::vector<std::string> hosts;
  std::vector<std::string> addrs;
  if (const auto* h = params.get("host"); h != nullptr && !h->empty()) hosts = split_commas(*h);
  if (const auto* a = params.get("hostaddr"); a != nullptr && !a->empty()) addrs = split_commas(*a);
  if (hosts.empty() && addrs.empty()) hosts.emplace_back(kDefaultSocketDir);
  if (!hosts.empty() && !addrs.empty() && hosts.size() != addrs.size()) {
    return invalid("postgres source config: host and hostaddr list different numbers of hosts");
  }
  const std::size_t count = std::max(hosts.size(), addrs.size());
  std::vector<std::string> ports(count, "5432");
  if (auto error = read_ports(params, ports)) return error;
  DialList out;
  for (std::size_t i = 0; i < count; ++i) {
    // libpq reads an empty entry as its default socket directory.
    std::string host = i < hosts.size() ? hosts[i] : std::string();
    if (host.empty() && (i >= addrs.size() || addrs[i].empty())) host = kDefaultSocketDir;
    const std::string dial = i < addrs.size() && !addrs[i].empty() ? addrs[i] : host;
    int port = 0;
    try {
      port = std::stoi(ports[i]);
    } catch (const std::exception&) {
    }
    if (port < 1 || port > 65535) return invalid("postgres source config: invalid port");
    if (dial.front() == '/' || dial.front() == '@') {
      // The socket libpq will open: <dir>/.s.PGSQL.<port> ('@' = abstract namespace).
      if (auto error = guard.check_local_socket(dial + "/.s.PGSQL." + std::to_string(port))) {
        return error;
      }
      out.add(dial, "", ports[i]);
      continue;
    }
    auto resolved = guard.resolve(dial, static_cast<std::uint16_t>(port));
    if (resolved.error) return resolved.error;
    if (resolved.addresses.empty()) {
      return JobError{ErrorCode::kUnreachable, "could not resolve host \"" + dial + "\"", true};
    }
    for (const auto& address : resolved.addresses)
      out.add(host.empty() ? address : host, address, ports[i]);
  }
  params.set("host", out.host);
  params.set("hostaddr", out.addr);
  params.set("port", out.port);
  return std::nullopt;
}

}  // namespace outpost::connectors::postgres
