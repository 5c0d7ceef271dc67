#include "odbc/odbc_config.hpp"

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "common/source_config.hpp"
#include "odbc/odbc_attributes.hpp"

namespace outpost::connectors::odbc {
namespace {

// libpq's default socket directory on Debian (used when Server is absent).
constexpr const char* kDefaultPgSocketDir = "/var/run/postgresql";
constexpr std::uint16_t kDefaultPgPort = 5432;

bool is(std::string_view key, std::string_view name) {
  return odbc_key(key) == name;
}

std::string shown(std::string_view text) {
  std::string out;
  for (const char c : text.substr(0, 64)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u >= 0x20 && u < 0x7F) ? c : '?';
  }
  return out;
}

bool under(const std::string& path, const std::string& dir) {
  if (dir == "/") return path.size() > 1 && path.front() == '/';
  return path.size() > dir.size() + 1 && path.compare(0, dir.size(), dir) == 0 &&
         path[dir.size()] == '/';
}

// The same message whether or not a file outside the directories exists.
std::optional<std::string> check_sqlite_path(const std::string& value, const OperatorPolicy& policy,
                                             std::string& canonical, ErrorCode& code) {
  code = ErrorCode::kInvalidJob;
  const std::string outside =
      "odbc source config: \"Database\" must be a file under the directories --sqlite-dirs "
      "allows";
  if (policy.sqlite_dirs.empty()) {
    return "odbc source config: SQLite database files are refused (the agent runs without "
           "--sqlite-dirs)";
  }
  if (value.empty() || value.front() != '/') {
    return "odbc source config: \"Database\" must be an absolute path (no URI, no :memory:)";
  }
  char resolved[PATH_MAX];
  if (::realpath(value.c_str(), resolved) == nullptr) {
    const auto lexical = std::filesystem::path(value).lexically_normal().string();
    for (const auto& dir : policy.sqlite_dirs) {
      if (under(lexical, dir)) {
        code = ErrorCode::kUnreachable;
        return "odbc source config: the SQLite database cannot be opened";
      }
    }
    return outside;
  }
  canonical = resolved;
  for (const auto& dir : policy.sqlite_dirs) {
    if (under(canonical, dir)) return std::nullopt;
  }
  return outside;
}

// "db.example.com,1433" (SQL Server) or "db:5432" carry the port inline.
bool split_host_port(std::string& host, std::uint16_t& port) {
  const auto comma = host.find(',');
  auto colon = host.rfind(':');
  if (host.find(':') != colon) colon = std::string::npos;  // an IPv6 literal
  const auto sep = comma != std::string::npos ? comma : colon;
  if (sep == std::string::npos) return false;
  const std::string digits = host.substr(sep + 1);
  if (digits.empty() || digits.size() > 5 ||
      digits.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  const unsigned long value = std::stoul(digits);
  if (value == 0 || value > 65535) return false;
  port = static_cast<std::uint16_t>(value);
  host.resize(sep);
  return true;
}

std::optional<std::uint16_t> port_of(const std::string& value) {
  if (value.empty() || value.size() > 5 ||
      value.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  const unsigned long v = std::stoul(value);
  if (v == 0 || v > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(v);
}

// The attributes of the config (connection string or dsn form), Driver/DSN
// taken out.
struct Gathered {
  std::string driver;
  std::string dsn;
  std::vector<OdbcAttribute> attributes;
};

void gather_string(common::ConfigReader& reader, const std::string& text, Gathered& out) {
  auto parsed = parse_odbc_connection_string(text);
  if (!parsed.ok()) {
    reader.fail("odbc source config: \"connection_string\" is a " + parsed.error);
    return;
  }
  if (auto dup = duplicate_odbc_key(parsed.attributes)) {
    reader.fail("odbc source config: attribute \"" + shown(*dup) +
                "\" appears twice in the connection string");
    return;
  }
  for (auto& a : parsed.attributes) {
    if (is(a.key, "driver")) {
      out.driver = a.value;
    } else if (is(a.key, "dsn")) {
      out.dsn = a.value;
    } else {
      out.attributes.push_back(std::move(a));
    }
  }
}

void gather_dsn_form(common::ConfigReader& reader, const nlohmann::json& json,
                     const std::string& dsn, Gathered& out) {
  out.dsn = dsn;
  if (auto user = reader.string("user")) out.attributes.push_back({"UID", *user, false});
  if (auto password = reader.string("password")) {
    out.attributes.push_back({"PWD", *password, false});
  }
  const auto it = json.find("attributes");
  if (it == json.end() || it->is_null()) return;
  if (!it->is_object()) {
    reader.fail("odbc source config: \"attributes\" must be an object");
    return;
  }
  for (auto a = it->begin(); a != it->end(); ++a) {
    if (!a->is_string() && !a->is_number()) {
      reader.fail("odbc source config: attribute \"" + shown(a.key()) +
                  "\" must be a string or number");
      return;
    }
    if (is(a.key(), "driver") || is(a.key(), "dsn")) {
      reader.fail("odbc source config: \"" + shown(a.key()) +
                  "\" cannot be an attribute of a DSN source");
      return;
    }
    out.attributes.push_back({a.key(), a->is_string() ? a->get<std::string>() : a->dump(), false});
  }
}

// Where the driver connects: the permitted address(es), never a name to
// look up again after the egress check.
void add_endpoint(std::vector<OdbcAttribute>& attributes, const OdbcConfig& config,
                  const std::string& address) {
  const bool tcp = !config.socket && !address.empty();
  switch (config.kind) {
    case DriverKind::kPsqlOdbc:
      if (tcp && address != config.host) {
        // libpq dials hostaddr and keeps the name for TLS verification and
        // .pgpass: no DNS lookup happens after the egress check. One host
        // entry per permitted address, tried in order.
        std::string hosts = config.host;
        for (const char c : address) {
          if (c == ',') hosts += "," + config.host;
        }
        attributes.push_back({"Server", hosts, false});
        attributes.push_back({"pqopt", "hostaddr=" + address, true});
      } else {
        attributes.push_back({"Server", tcp ? address : config.host, false});
      }
      attributes.push_back({"Port", std::to_string(config.port), false});
      break;
    case DriverKind::kSqliteOdbc:
      attributes.push_back({"Database", sqlite_readonly_uri(config.sqlite_path), false});
      attributes.push_back({"NoCreat", "1", false});
      break;
    case DriverKind::kOther:
      if (!config.host.empty()) {
        // Other drivers get one address.
        const std::string host = tcp ? address.substr(0, address.find(',')) : config.host;
        attributes.push_back({"Server",
                              config.inline_port ? host + "," + std::to_string(config.port) : host,
                              false});
        if (config.port != 0 && !config.inline_port) {
          attributes.push_back({"Port", std::to_string(config.port), false});
        }
      }
      break;
  }
}

}  // namespace

std::string sqlite_readonly_uri(const std::string& path) {
  std::string out = "file:";
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (const char c : path) {
    if (c == '?' || c == '#' || c == '%' || c == ' ') {
      const auto u = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;
    }
  }
  return out + "?mode=ro";
}

ParsedConfig parse_config(const nlohmann::json& json, const DriverCatalog& catalog,
                          const OperatorPolicy& policy) {
  common::ConfigReader reader(json, "odbc source config");
  reader.allow_only({"connection_string", "dsn", "user", "password", "attributes",
                     "connect_timeout", "pin_address", kAllowPrivilegedLoginKey});
  OdbcConfig out;
  const auto text = reader.string("connection_string");
  const auto dsn = reader.string("dsn");
  (void)reader.boolean("pin_address");  // accepted; the agent always dials the checked address
  (void)reader.boolean(kAllowPrivilegedLoginKey);
  if (auto timeout = reader.integer("connect_timeout", 1, 3600)) {
    out.connect_timeout = std::chrono::seconds(*timeout);
  }
  if (text && dsn) {
    reader.fail("odbc source config: give \"connection_string\" or \"dsn\", not both");
  } else if (!text && !dsn && !reader.error()) {
    reader.fail("odbc source config: \"connection_string\" or \"dsn\" is required");
  } else if (text && (reader.has("user") || reader.has("password") || reader.has("attributes"))) {
    reader.fail(
        "odbc source config: \"user\", \"password\" and \"attributes\" go with \"dsn\"; put "
        "them in the connection string instead");
  }
  Gathered g;
  if (!reader.error()) {
    if (text) gather_string(reader, *text, g);
    if (dsn) gather_dsn_form(reader, json, *dsn, g);
  }
  if (!reader.error() && !g.driver.empty() && !g.dsn.empty()) {
    reader.fail("odbc source config: give Driver or DSN, not both");
  } else if (!reader.error() && g.driver.empty() && g.dsn.empty()) {
    reader.fail("odbc source config: the connection string needs Driver= (or DSN=)");
  }
  if (reader.error()) return ParsedConfig{std::nullopt, *reader.error()};

  // The driver: a registered odbcinst.ini section, never a library path.
  std::vector<OdbcAttribute> from_dsn;
  if (!g.driver.empty()) {
    if (g.driver.find('/') != std::string::npos) {
      return {std::nullopt,
              "odbc source config: \"Driver\" must name a driver registered in odbcinst.ini, "
              "not a path"};
    }
    auto entry = catalog.driver(g.driver);
    if (!entry) {
      return {std::nullopt, "odbc source config: driver \"" + shown(g.driver) +
                                "\" is not registered in odbcinst.ini"};
    }
    out.driver = entry->name;
    out.kind = entry->kind;
  } else {
    auto entry = catalog.dsn(g.dsn);
    if (!entry) {
      return {std::nullopt, "odbc source config: data source \"" + shown(g.dsn) +
                                "\" is not defined in odbc.ini"};
    }
    out.dsn = entry->name;
    out.kind = entry->kind;
    from_dsn = std::move(entry->attributes);
  }

  // Every attribute, from the config and from the DSN's section, must be on
  // the driver's allow-list; one setting may not be given twice.
  std::vector<std::string> settings;
  for (const auto& a : g.attributes) {
    if (auto error = check_attribute(out.kind, a, "the connection string")) {
      return {std::nullopt, *error};
    }
    const std::string setting(*allowed_setting(out.kind, a.key));
    if (std::find(settings.begin(), settings.end(), setting) != settings.end()) {
      return {std::nullopt, "odbc source config: attribute \"" + shown(a.key) + "\" sets \"" +
                                setting + "\" a second time"};
    }
    settings.push_back(setting);
  }
  std::vector<OdbcAttribute> effective = g.attributes;
  for (const auto& a : from_dsn) {
    if (is(a.key, "description") || a.value.empty()) continue;
    if (auto error = check_attribute(out.kind, a, "the DSN's odbc.ini section")) {
      return {std::nullopt, *error};
    }
    const std::string setting(*allowed_setting(out.kind, a.key));
    if (std::find(settings.begin(), settings.end(), setting) != settings.end()) continue;
    settings.push_back(setting);
    effective.push_back(a);
  }

  // Settings the agent writes itself are taken out of the list.
  std::string server;
  bool has_server = false;
  std::string port_text;
  std::string database;
  bool has_database = false;
  for (auto& a : effective) {
    const std::string_view setting = *allowed_setting(out.kind, a.key);
    if (setting == "server") {
      server = a.value;
      has_server = true;
    } else if (setting == "port") {
      port_text = a.value;
    } else if (setting == "database" && out.kind == DriverKind::kSqliteOdbc) {
      database = a.value;
      has_database = true;
    } else {
      const bool from_config = std::any_of(g.attributes.begin(), g.attributes.end(),
                                           [&](const OdbcAttribute& c) { return c.key == a.key; });
      // A DSN's own settings stay in odbc.ini; only the config's are sent.
      if (from_config) out.attributes.push_back(a);
    }
  }
  if (!port_text.empty()) {
    auto p = port_of(port_text);
    if (!p) return {std::nullopt, "odbc source config: \"Port\" must be 1-65535"};
    out.port = *p;
  }

  switch (out.kind) {
    case DriverKind::kPsqlOdbc:
      // No Server: libpq would use its default socket directory.
      out.host = has_server && !server.empty() ? server : kDefaultPgSocketDir;
      if (out.host.find(',') != std::string::npos) {
        return {std::nullopt, "odbc source config: \"Server\" must name one host"};
      }
      out.socket = out.host.front() == '/';
      if (out.port == 0) out.port = kDefaultPgPort;
      break;
    case DriverKind::kSqliteOdbc: {
      if (!has_database) {
        return {std::nullopt, "odbc source config: sqliteodbc needs \"Database\" (a file path)"};
      }
      ErrorCode code = ErrorCode::kInvalidJob;
      if (auto error = check_sqlite_path(database, policy, out.sqlite_path, code)) {
        return {std::nullopt, *error, code};
      }
      break;
    }
    case DriverKind::kOther:
      if (has_server) {
        out.host = server;
        out.inline_port = split_host_port(out.host, out.port);
        out.socket = !out.host.empty() && out.host.front() == '/';
        if (out.host.empty()) return {std::nullopt, "odbc source config: \"Server\" is empty"};
      } else if (out.dsn.empty()) {
        return {std::nullopt,
                "odbc source config: name the server with Server= (the agent checks every "
                "host against --allow-hosts before connecting)"};
      }
      break;
  }
  return ParsedConfig{std::move(out), {}};
}

std::string connection_string(const OdbcConfig& config, const std::string& address) {
  std::vector<OdbcAttribute> attributes;
  if (!config.driver.empty()) {
    attributes.push_back({"Driver", config.driver, false});
  } else {
    attributes.push_back({"DSN", config.dsn, false});
  }
  add_endpoint(attributes, config, address);
  bool has_fetch = false;
  for (const auto& a : config.attributes) {
    has_fetch = has_fetch || is(a.key, "fetch");
    // psqlODBC URL-decodes a password that is not braced ('+' becomes a blank).
    const bool brace = config.kind == DriverKind::kPsqlOdbc &&
                       allowed_setting(config.kind, a.key) == std::string_view("pwd");
    attributes.push_back({a.key, a.value, brace});
  }
  if (config.kind == DriverKind::kPsqlOdbc) {
    // Driver logs off whatever odbcinst.ini says (Debian ships CommLog=1):
    // they would land in /tmp with the statements.
    attributes.push_back({"Debug", "0", false});
    attributes.push_back({"CommLog", "0", false});
    // Results through a cursor (memory bounded by Fetch rows), booleans as booleans.
    attributes.push_back({"UseDeclareFetch", "1", false});
    if (!has_fetch) attributes.push_back({"Fetch", "1000", false});
    attributes.push_back({"BoolsAsChar", "0", false});
  }
  return format_odbc_connection_string(attributes);
}

}  // namespace outpost::connectors::odbc
