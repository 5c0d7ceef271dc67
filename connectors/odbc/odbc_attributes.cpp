#include "odbc/odbc_attributes.hpp"

#include <algorithm>
#include <array>

namespace outpost::connectors::odbc {
namespace {

enum class Rule {
  kText,     ///< any text without control characters
  kHost,     ///< checked by the caller (egress)
  kPort,     ///< 1-65535
  kCount,    ///< a small non-negative integer
  kBool,     ///< 0 or 1
  kSslMode,  ///< libpq's sslmode names
  kPath,     ///< checked by the caller (--sqlite-dirs)
};

struct Allowed {
  std::string_view key;  ///< lower case
  std::string_view setting;
  Rule rule;
};

constexpr std::array kPsql{
    Allowed{"server", "server", Rule::kHost},
    Allowed{"servername", "server", Rule::kHost},
    Allowed{"port", "port", Rule::kPort},
    Allowed{"database", "database", Rule::kText},
    Allowed{"uid", "uid", Rule::kText},
    Allowed{"username", "uid", Rule::kText},
    Allowed{"pwd", "pwd", Rule::kText},
    Allowed{"password", "pwd", Rule::kText},
    Allowed{"sslmode", "sslmode", Rule::kSslMode},
    Allowed{"fetch", "fetch", Rule::kCount},
    Allowed{"keepalivetime", "keepalivetime", Rule::kCount},
    Allowed{"keepaliveinterval", "keepaliveinterval", Rule::kCount},
    Allowed{"description", "description", Rule::kText},
};

constexpr std::array kSqlite{
    Allowed{"database", "database", Rule::kPath},
    Allowed{"timeout", "timeout", Rule::kCount},
    Allowed{"stepapi", "stepapi", Rule::kBool},
    Allowed{"shortnames", "shortnames", Rule::kBool},
    Allowed{"longnames", "longnames", Rule::kBool},
    Allowed{"nowchar", "nowchar", Rule::kBool},
    Allowed{"bigint", "bigint", Rule::kBool},
    Allowed{"jdconv", "jdconv", Rule::kBool},
    Allowed{"description", "description", Rule::kText},
};

constexpr std::array kOther{
    Allowed{"server", "server", Rule::kHost},
    Allowed{"host", "server", Rule::kHost},
    Allowed{"servername", "server", Rule::kHost},
    Allowed{"hostname", "server", Rule::kHost},
    Allowed{"address", "server", Rule::kHost},
    Allowed{"port", "port", Rule::kPort},
    Allowed{"database", "database", Rule::kText},
    Allowed{"uid", "uid", Rule::kText},
    Allowed{"user", "uid", Rule::kText},
    Allowed{"username", "uid", Rule::kText},
    Allowed{"pwd", "pwd", Rule::kText},
    Allowed{"password", "pwd", Rule::kText},
    Allowed{"description", "description", Rule::kText},
};

struct Reason {
  std::string_view key;
  std::string_view why;
};

// Why the best-known dangerous keys are refused (the message helps the
// operator; every other key outside the allow-list is refused just the same).
constexpr std::array kReasons{
    Reason{"connsettings", "it runs SQL at connect, before the session is read-only"},
    Reason{"a6", "it is psqlODBC's ConnSettings: it runs SQL at connect"},
    Reason{"pqopt", "it passes raw libpq options (host, hostaddr, …) past the agent's checks"},
    Reason{"d5", "it is psqlODBC's pqopt: raw libpq options"},
    Reason{"debug", "it writes a driver log (with the connection string) to a file"},
    Reason{"b2", "it is psqlODBC's Debug: a log file"},
    Reason{"commlog", "it writes a communication log (with the password) to a file"},
    Reason{"b3", "it is psqlODBC's CommLog: a log file"},
    Reason{"logdir", "it chooses where driver logs are written"},
    Reason{"cx", "it is psqlODBC's flag word, which can turn on logging"},
    Reason{"ab", "it is psqlODBC's extra-options word"},
    Reason{"protocol", "it changes psqlODBC's rollback behaviour"},
    Reason{"a1", "it is psqlODBC's Protocol"},
    Reason{"loadext", "it loads shared libraries into the agent"},
    Reason{"tracefile", "it writes every statement to a file"},
    Reason{"notxn", "it turns transactions off, so the agent's rollback undoes nothing"},
    Reason{"journalmode", "it runs a PRAGMA that writes to the database (e.g. a -wal file)"},
    Reason{"syncpragma", "it runs a PRAGMA built from its value"},
    Reason{"nocreat", "the agent sets it (database files are never created)"},
    Reason{"filedsn", "it reads a file on the agent's host"},
    Reason{"savefile", "it writes a file on the agent's host"},
    Reason{"initstmt", "it runs SQL at connect, before the session is read-only"},
};

template <std::size_t N>
const Allowed* find(const std::array<Allowed, N>& table, std::string_view key) {
  for (const auto& a : table) {
    if (a.key == key) return &a;
  }
  return nullptr;
}

const Allowed* lookup(DriverKind kind, std::string_view key) {
  const std::string lower = odbc_key(key);
  switch (kind) {
    case DriverKind::kPsqlOdbc: return find(kPsql, lower);
    case DriverKind::kSqliteOdbc: return find(kSqlite, lower);
    case DriverKind::kOther: return find(kOther, lower);
  }
  return nullptr;
}

bool all_digits(std::string_view v, std::size_t max_digits) {
  return !v.empty() && v.size() <= max_digits &&
         std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string shown(std::string_view key) {
  std::string out;
  for (const char c : key.substr(0, 64)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u >= 0x20 && u < 0x7F) ? c : '?';
  }
  return out;
}

}  // namespace

std::optional<std::string_view> allowed_setting(DriverKind kind, std::string_view key) {
  if (const auto* a = lookup(kind, key)) return a->setting;
  return std::nullopt;
}

std::optional<std::string> check_attribute(DriverKind kind, const OdbcAttribute& attribute,
                                           std::string_view origin) {
  const std::string name = shown(attribute.key);
  const auto* allowed = lookup(kind, attribute.key);
  if (allowed == nullptr) {
    std::string message = "odbc source config: attribute \"" + name + "\" in " +
                          std::string(origin) + " is not allowed for " +
                          std::string(to_string(kind)) + " drivers";
    const std::string lower = odbc_key(attribute.key);
    for (const auto& r : kReasons) {
      if (r.key == lower) {
        message += " (" + std::string(r.why) + ")";
        break;
      }
    }
    return message;
  }
  const auto& v = attribute.value;
  for (const char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) {
      return "odbc source config: the value of \"" + name + "\" holds a control character";
    }
  }
  // sqliteodbc reads its attributes without braces: a value cannot hold ';'.
  if (kind == DriverKind::kSqliteOdbc && v.find_first_of(";{}") != std::string::npos) {
    return "odbc source config: the value of \"" + name +
           "\" holds ';', '{' or '}', which sqliteodbc cannot read";
  }
  const auto bad = [&](std::string_view expected) {
    return "odbc source config: \"" + name + "\" must be " + std::string(expected);
  };
  switch (allowed->rule) {
    case Rule::kText:
    case Rule::kHost:
    case Rule::kPath: return std::nullopt;
    case Rule::kPort:
      if (!all_digits(v, 5) || std::stoul(v) == 0 || std::stoul(v) > 65535) {
        return bad("a port number (1-65535)");
      }
      return std::nullopt;
    case Rule::kCount:
      if (!all_digits(v, 7)) return bad("a number (up to 7 digits)");
      return std::nullopt;
    case Rule::kBool:
      if (v != "0" && v != "1") return bad("0 or 1");
      return std::nullopt;
    case Rule::kSslMode: {
      static constexpr std::array<std::string_view, 6> kModes{
          "disable", "allow", "prefer", "require", "verify-ca", "verify-full"};
      if (std::find(kModes.begin(), kModes.end(), odbc_key(v)) == kModes.end()) {
        return bad("one of disable, allow, prefer, require, verify-ca, verify-full");
      }
      return std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace outpost::connectors::odbc
