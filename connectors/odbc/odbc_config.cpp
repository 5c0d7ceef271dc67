#include "odbc/odbc_config.hpp"

#include <algorithm>
#include <charconv>

#include <nlohmann/json.hpp>

#include "common/error_classify.hpp"
#include "common/source_config.hpp"

namespace outpost::connectors::odbc {
namespace {

bool key_is(std::string_view key, std::string_view name) {
  return key.size() == name.size() && common::contains_icase(key, name);
}

// Keys that name the server in the common drivers (psqlODBC, MySQL, SQL
// Server, Snowflake, Databricks/Simba, Oracle's "DBQ" is not parsed).
bool is_host_key(std::string_view key) {
  return key_is(key, "server") || key_is(key, "host") || key_is(key, "servername") ||
         key_is(key, "hostname") || key_is(key, "address");
}

// "db.example.com,1433" (SQL Server) or "db:5432" carry the port inline.
void split_host_port(std::string& host, std::uint16_t& port) {
  const auto comma = host.find(',');
  auto colon = host.rfind(':');
  if (host.find(':') != colon) colon = std::string::npos;  // an IPv6 literal
  const auto sep = comma != std::string::npos ? comma : colon;
  if (sep == std::string::npos) return;
  unsigned value = 0;
  const auto* first = host.data() + sep + 1;
  const auto* last = host.data() + host.size();
  auto [end, ec] = std::from_chars(first, last, value);
  if (ec == std::errc{} && end == last && value > 0 && value < 65536) {
    port = static_cast<std::uint16_t>(value);
    host.resize(sep);
  }
}

}  // namespace

std::optional<std::vector<Attribute>> split_connection_string(std::string_view text) {
  std::vector<Attribute> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ';' || text[i] == ' ')) ++i;
    if (i >= text.size()) break;
    const auto eq = text.find('=', i);
    if (eq == std::string_view::npos) return std::nullopt;
    Attribute a{std::string(text.substr(i, eq - i)), {}};
    while (!a.key.empty() && a.key.back() == ' ') a.key.pop_back();
    i = eq + 1;
    if (i < text.size() && text[i] == '{') {
      ++i;
      for (;;) {
        if (i >= text.size()) return std::nullopt;
        if (text[i] == '}') {
          if (i + 1 < text.size() && text[i + 1] == '}') {
            a.value.push_back('}');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        a.value.push_back(text[i++]);
      }
    } else {
      const auto semi = text.find(';', i);
      const auto end = semi == std::string_view::npos ? text.size() : semi;
      a.value = std::string(text.substr(i, end - i));
      i = end;
    }
    out.push_back(std::move(a));
  }
  return out;
}

std::string join_connection_string(const std::vector<Attribute>& attributes) {
  std::string out;
  for (const auto& a : attributes) {
    out += a.key;
    out += '=';
    if (a.value.find_first_of(";{}= ") != std::string::npos || a.value.empty()) {
      out += '{';
      for (char c : a.value) {
        out += c;
        if (c == '}') out += '}';
      }
      out += '}';
    } else {
      out += a.value;
    }
    out += ';';
  }
  return out;
}

ParsedConfig parse_config(const nlohmann::json& json) {
  common::ConfigReader reader(json, "odbc source config");
  reader.allow_only({"connection_string", "dsn", "user", "password", "attributes",
                     "connect_timeout", "pin_address"});
  OdbcConfig out;
  std::vector<Attribute> attributes;
  const auto text = reader.string("connection_string");
  const auto dsn = reader.string("dsn");
  if (text && dsn)
    reader.fail("odbc source config: give \"connection_string\" or \"dsn\", not both");
  if (!text && !dsn && !reader.error()) {
    reader.fail("odbc source config: \"connection_string\" or \"dsn\" is required");
  }
  if (text && !reader.error()) {
    if (reader.has("user") || reader.has("password") || reader.has("attributes")) {
      reader.fail(
          "odbc source config: \"user\", \"password\" and \"attributes\" go with \"dsn\"; "
          "put them in the connection string instead");
    } else if (auto split = split_connection_string(*text)) {
      attributes = std::move(*split);
    } else {
      reader.fail(
          "odbc source config: \"connection_string\" is malformed (unbalanced braces or "
          "an attribute without '=')");
    }
  }
  if (dsn && !reader.error()) {
    attributes.push_back({"DSN", *dsn});
    if (auto user = reader.string("user")) attributes.push_back({"UID", *user});
    if (auto password = reader.string("password")) attributes.push_back({"PWD", *password});
    if (json.is_object() && json.contains("attributes") && !json["attributes"].is_null()) {
      const auto& extra = json["attributes"];
      if (!extra.is_object()) {
        reader.fail("odbc source config: \"attributes\" must be an object");
      } else {
        for (auto it = extra.begin(); it != extra.end(); ++it) {
          if (!it->is_string() && !it->is_number()) {
            reader.fail("odbc source config: attribute \"" + it.key() +
                        "\" must be a string or number");
            continue;
          }
          attributes.push_back(
              Attribute{it.key(), it->is_string() ? it->get<std::string>() : it->dump()});
        }
      }
    }
  }
  if (auto timeout = reader.integer("connect_timeout", 1, 3600)) {
    out.connect_timeout = std::chrono::seconds(*timeout);
  }
  if (auto pin = reader.boolean("pin_address")) out.pin_address = *pin;

  for (const auto& a : attributes) {
    if (reader.error()) break;
    // A path would let whoever writes source configs load any shared object
    // into the agent: only drivers registered in odbcinst.ini are allowed.
    if (key_is(a.key, "driver") && a.value.find('/') != std::string::npos) {
      reader.fail(
          "odbc source config: \"Driver\" must name a driver registered in odbcinst.ini, "
          "not a path");
    }
    if (key_is(a.key, "filedsn") || key_is(a.key, "savefile")) {
      reader.fail("odbc source config: FILEDSN and SAVEFILE are not allowed (agent-side files)");
    }
    // Statements a driver runs at connect, before the session is made
    // read-only (psqlODBC ConnSettings, MySQL Connector/ODBC INITSTMT).
    if (key_is(a.key, "connsettings") || key_is(a.key, "initstmt")) {
      reader.fail("odbc source config: \"" + a.key +
                  "\" is not allowed (it runs SQL before the session is read-only)");
    }
    if (is_host_key(a.key)) {
      out.host = a.value;
      split_host_port(out.host, out.port);
    }
    if (key_is(a.key, "port")) {
      unsigned value = 0;
      auto [end, ec] = std::from_chars(a.value.data(), a.value.data() + a.value.size(), value);
      if (ec != std::errc{} || end != a.value.data() + a.value.size() || value == 0 ||
          value > 65535) {
        reader.fail("odbc source config: \"Port\" in the connection string must be 1-65535");
      } else {
        out.port = static_cast<std::uint16_t>(value);
      }
    }
  }
  if (reader.error()) return ParsedConfig{std::nullopt, *reader.error()};
  // psqlODBC reads a whole result set into memory unless it fetches through
  // a cursor, and reports booleans as text unless told otherwise.
  bool postgres = false;
  bool has_declare_fetch = false;
  bool has_bools = false;
  for (const auto& a : attributes) {
    postgres = postgres || (key_is(a.key, "driver") && common::contains_icase(a.value, "postgres"));
    has_declare_fetch = has_declare_fetch || key_is(a.key, "usedeclarefetch");
    has_bools = has_bools || key_is(a.key, "boolsaschar");
  }
  if (postgres && !has_declare_fetch) {
    attributes.push_back({"UseDeclareFetch", "1"});
    attributes.push_back({"Fetch", "1000"});
  }
  if (postgres && !has_bools) attributes.push_back({"BoolsAsChar", "0"});
  out.attributes = std::move(attributes);
  return ParsedConfig{std::move(out), {}};
}

std::string connection_string(const OdbcConfig& config, const std::string& pinned_address) {
  if (pinned_address.empty()) return join_connection_string(config.attributes);
  auto attributes = config.attributes;
  for (auto& a : attributes) {
    if (is_host_key(a.key)) {
      const bool inline_port = a.value.find(',') != std::string::npos;
      a.value = pinned_address + (inline_port ? "," + std::to_string(config.port) : "");
    }
  }
  return join_connection_string(attributes);
}

}  // namespace outpost::connectors::odbc
