#pragma once
// Private to the ODBC metadata job: the catalog functions beyond SQLTables and
// SQLColumns (odbc_metadata_keys.cpp) and the search-pattern helpers.

#include <optional>
#include <string>

#include "odbc/odbc_jobs.hpp"
#include "outpost/params.hpp"

namespace outpost::connectors::odbc {

/// Text of a result column of a catalog function ("" for NULL).
std::string column_text(SQLHSTMT stmt, SQLUSMALLINT index);

/// Fills primary_key (SQLPrimaryKeys), foreign_keys (SQLForeignKeys),
/// indexes and unique (SQLStatistics) of `table`, whose catalog-level schema
/// is `schema` ("" when the driver has none). A function the driver does not
/// implement (SQLGetFunctions, or SQLSTATE IM001/HYC00) leaves its fields
/// absent; any other failure is the job's.
std::optional<JobError> read_keys(OdbcConnection& c, const std::string& schema, Table& table);

/// A `tables` pattern as an ODBC search pattern: `*` is `%`, and `%`, `_`
/// and the driver's escape character are escaped with it. nullopt when the
/// driver has no escape character and the pattern holds `%` or `_` (the
/// caller then lists everything and filters itself).
std::optional<std::string> search_pattern(const std::string& pattern, const std::string& escape);

}  // namespace outpost::connectors::odbc
