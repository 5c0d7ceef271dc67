#pragma once

// Private to the SQLite connector: what a job's statements may do, decided by
// SQLite's authorizer (sqlite3_set_authorizer) at prepare time, for every
// statement — the job's own, and those SQLite prepares inside a statement
// (the pragma_* table-valued functions run a PRAGMA through it too).

#include <optional>

#include "outpost/errors.hpp"

namespace outpost::connectors::sqlite {

/// Nothing when the action may run; otherwise why not, with the protocol
/// code: `read_only_violation` for anything that would write (INSERT, CREATE,
/// ANALYZE, `PRAGMA x = …`), `permission_denied` for the rest (ATTACH,
/// DETACH, transaction control, a pragma outside the read-only allow-list,
/// load_extension(), fts3_tokenizer(), an action SQLite adds later).
/// `a1`/`a2` are the authorizer's first two detail arguments.
std::optional<JobError> authorize(int action, const char* a1, const char* a2);

}  // namespace outpost::connectors::sqlite
