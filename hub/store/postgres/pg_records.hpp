#pragma once

// Row ↔ record conversion and the SQL fragments shared by pg_store_*.cpp.
// Times travel as milliseconds since the epoch (exact integers both ways).

#include <string>

#include "store/postgres/pg_connection.hpp"
#include "store/records.hpp"

namespace outpost::hub::pg {

/// Milliseconds since the epoch, as a text parameter.
std::string ms(SystemTime t);
SystemTime from_ms(std::int64_t value);
/// A timestamptz column as an optional time (NULL → nullopt).
std::optional<SystemTime> opt_time(const PGresult* r, int row, int col);

/// SQL turning the bigint millisecond parameter `$n` into a timestamptz.
std::string ts(int n);
/// SQL reading timestamptz `expr` as bigint milliseconds.
std::string ms_of(const std::string& expr);

/// A WHERE condition (always true) that switches the statement's own
/// implicit transaction to asynchronous commit: its COMMIT returns before the
/// WAL is flushed (a crash may lose it; it is never half applied). Only for
/// writes whose loss is fenced by the lease: claim and lease renewal (see
/// docs/hub.md, "Durability"). An uncorrelated subquery, so PostgreSQL runs
/// it once, before any row is read; the setting ends with the transaction.
std::string async_commit();

/// Hex of raw bytes and back (token hashes travel as hex into bytea).
std::string to_hex(std::string_view bytes);
std::string from_hex(std::string_view hex);

/// The select list of a job row of table alias `a`, attempts included
/// (kJobColumnCount columns, read by job_from_row).
std::string job_columns(const std::string& a);
inline constexpr int kJobColumnCount = 26;
JobRecord job_from_row(const PGresult* r, int row);

std::string token_columns();
TokenRecord token_from_row(const PGresult* r, int row);
std::string source_columns();
SourceRecord source_from_row(const PGresult* r, int row);
std::string instance_columns(const std::string& a);
InstanceRecord instance_from_row(const PGresult* r, int row);

/// A json column parsed, or nullopt for NULL.
std::optional<Json> opt_json(const PGresult* r, int row, int col);

}  // namespace outpost::hub::pg
