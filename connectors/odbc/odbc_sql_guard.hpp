#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace outpost::connectors::odbc {

/// How the DBMS reads literals and comments (chosen from SQL_DBMS_NAME).
enum class SqlDialect {
  kPostgres,  ///< '…' (standard strings), E'…', "…", $tag$…$tag$, nested /* */
  kSqlite,    ///< '…', "…", `…`, […]
  kMysql,     ///< '…' and "…" with backslashes, `…`, #, "-- ", /*! */
  kGeneric,   ///< '…', "…", `…`; anything a dialect could read differently is refused
};

SqlDialect dialect_of(std::string_view dbms_name);

/// The outcome of check_statement(): the one statement to send (its text
/// from its first to its last token, so a trailing `;` or comment never
/// reaches a driver that would split it), or why it is refused.
struct StatementCheck {
  std::string sql;
  std::optional<std::string> refusal;
};

/// Lexes `sql` with `dialect`'s rules for literals, quoted identifiers,
/// dollar quotes and comments (not a keyword grep), and refuses:
///  - more than one statement (psqlODBC runs each of `a; b` on its own);
///  - transaction control (BEGIN, START, COMMIT, END, ROLLBACK, ABORT,
///    SAVEPOINT, RELEASE, PREPARE, …): each job is one transaction the agent
///    rolls back;
///  - session state (SET, RESET, DISCARD, USE, LOCK, …), PRAGMA, ATTACH,
///    DETACH, VACUUM, LOAD, COPY: it would outlive the job on the pooled
///    connection, open other files, run programs or load code;
///  - calls of functions that load code or touch the agent's files
///    (load_extension, blob_import, blob_export, readfile, writefile, edit,
///    fts3_tokenizer), however quoted;
///  - text a dialect could read two ways (a nested /*, MySQL /*! comments,
///    backslashes in MySQL/generic literals).
StatementCheck check_statement(std::string_view sql, SqlDialect dialect);

}  // namespace outpost::connectors::odbc
