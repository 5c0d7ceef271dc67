#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace outpost::connectors::mysql {

/// The second layer of the read-only promise (issue 14, class 2), behind the
/// privilege gate and the READ ONLY transaction: statements whose effect
/// escapes a transaction are refused before they are sent. Returns what the
/// statement does (for the read_only_violation message), or nullopt.
///
/// Refused: `SET GLOBAL` / `SET PERSIST` / `SET PERSIST_ONLY` / `SET @@global.`
/// (server configuration, e.g. general_log_file, init_connect), `INTO OUTFILE`
/// and `INTO DUMPFILE` (files on the database host), and `PREPARE` /
/// `EXECUTE [IMMEDIATE]` (dynamic SQL, whose text this check cannot see).
///
/// A lexer, not a keyword grep: words inside string literals, quoted
/// identifiers and comments do not count (`SELECT 'INTO OUTFILE'` runs), while
/// the body of an executable comment (`/*! … */`, `/*M! … */`) does. Because
/// the server's sql_mode decides whether a backslash escapes a quote
/// (NO_BACKSLASH_ESCAPES) and whether "…" is a string or an identifier
/// (ANSI_QUOTES), the text is lexed under every combination and refused if
/// any reading finds a forbidden construct.
std::optional<std::string> forbidden_statement(std::string_view sql);

}  // namespace outpost::connectors::mysql
