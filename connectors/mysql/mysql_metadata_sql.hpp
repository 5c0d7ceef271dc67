#pragma once
// The metadata job's one catalog statement (mysql_metadata_sql.cpp) and the
// layout of its rows, shared with the reader (mysql_metadata.cpp).

#include <mysql.h>

#include <string>

#include "outpost/params.hpp"

namespace outpost::connectors::mysql {

/// What a row of the metadata statement describes (its column `k`). Rows
/// come ordered by schema, table, kind, group and ordinal, so a table's
/// own row (kTable) comes first and the rest follow it.
enum MetaKind : char {
  kTableRow = 'a',   ///< v1 TABLE_TYPE, v2 TABLE_ROWS, v3 comment, v4 size, v5 update time
  kViewRow = 'b',    ///< v1 VIEW_DEFINITION
  kColumnRow = 'c',  ///< o ordinal; v1 name, v2 type, v3 IS_NULLABLE, v4 default, v5 EXTRA,
                     ///< v6 GENERATION_EXPRESSION, v7 comment
  kIndexRow = 'd',   ///< g index name, o position; v1 column, v2 NON_UNIQUE
  kForeignKeyRow =
      'e',  ///< g constraint, o position; v1 column, v2..v4 referenced schema/table/column
  kPartitionRow = 'f',  ///< o position; v1 partition name
};

/// Column positions in a row of the metadata statement.
enum MetaColumn : unsigned { kSchema = 0, kTable, kKind, kGroup, kOrdinal, kV1 };

/// The statement: every table (and view, with include_views) outside the
/// system schemas, with the `schemas` filter and the `tables` patterns
/// pushed down (a superset: the agent's own filter has the last word).
std::string metadata_sql(MYSQL* handle, const MetadataParams& filter);

/// A `tables` pattern as a condition on TABLE_NAME: equality without a `*`,
/// else LIKE with `*` as `%` and the LIKE metacharacters escaped.
std::string table_name_condition(MYSQL* handle, const std::string& pattern);

}  // namespace outpost::connectors::mysql
