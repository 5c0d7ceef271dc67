#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "odbc/odbc_catalog.hpp"
#include "outpost/conn_string.hpp"

namespace outpost::connectors::odbc {

/// The allow-list of connection-string attributes per driver kind. A key is
/// either allowed (and mapped to its setting: `Servername` and `Server` are
/// both "server") or refused; nothing is passed through unchecked. Driver and
/// DSN are handled by the caller, never here.
///
/// psqlODBC: Server/Servername, Port, Database, UID/Username, PWD/Password,
/// SSLmode, Fetch, KeepaliveTime, KeepaliveInterval, Description. Every
/// abbreviation (A0…DA, CX, AB) is refused, with it ConnSettings (A6, SQL at
/// connect), pqopt (D5, raw libpq options), Debug (B2), CommLog (B3) and
/// Logdir (log files holding the password), Protocol (A1).
/// sqliteodbc: Database, Timeout, StepAPI, ShortNames, LongNames, NoWCHAR,
/// BigInt, JDConv, Description; LoadExt, Tracefile, NoTXN, JournalMode,
/// SyncPragma, NoCreat (set by the agent), PWD … are refused.
/// Other drivers: Server (Host, Servername, Hostname, Address), Port,
/// Database, UID (User, Username), PWD (Password), Description.

/// The setting `key` maps to for `kind` ("server", "pwd", …), or nullopt
/// when the key is not allowed.
std::optional<std::string_view> allowed_setting(DriverKind kind, std::string_view key);

/// Checks one attribute (key allowed, value well-formed for it). Returns the
/// refusal message, which names the key and never the value, or nullopt.
/// `origin` says where it came from ("the connection string", "the DSN's
/// odbc.ini section").
std::optional<std::string> check_attribute(DriverKind kind, const OdbcAttribute& attribute,
                                           std::string_view origin);

}  // namespace outpost::connectors::odbc
