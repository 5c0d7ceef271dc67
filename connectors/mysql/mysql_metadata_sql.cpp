// The metadata job's catalog statement: one UNION ALL over information_schema
// (TABLES, VIEWS, COLUMNS, STATISTICS, KEY_COLUMN_USAGE, PARTITIONS) sorted
// by table, so the agent reads one stream and holds one table at a time.
#include "mysql/mysql_metadata_sql.hpp"

#include <string>
#include <vector>

namespace outpost::connectors::mysql {
namespace {

std::string literal(MYSQL* handle, const std::string& text) {
  std::string out(text.size() * 2 + 1, '\0');
  out.resize(mysql_real_escape_string(handle, out.data(), text.data(),
                                      static_cast<unsigned long>(text.size())));
  return "'" + out + "'";
}

// The filter every part shares (each source has TABLE_SCHEMA and TABLE_NAME).
std::string where_clause(MYSQL* handle, const MetadataParams& filter) {
  std::string where =
      " WHERE TABLE_SCHEMA NOT IN ('mysql','information_schema','performance_schema','sys')";
  if (filter.schemas) {
    // An empty list matches nothing (and "IN ()" is not SQL).
    where += " AND TABLE_SCHEMA IN (";
    if (filter.schemas->empty()) where += "NULL";
    for (std::size_t i = 0; i < filter.schemas->size(); ++i) {
      where += (i == 0 ? "" : ",") + literal(handle, (*filter.schemas)[i]);
    }
    where += ")";
  }
  if (filter.tables) {
    where += " AND (";
    if (filter.tables->empty()) where += "FALSE";
    for (std::size_t i = 0; i < filter.tables->size(); ++i) {
      where += (i == 0 ? "" : " OR ") + table_name_condition(handle, (*filter.tables)[i]);
    }
    where += ")";
  }
  return where;
}

// One part of the union: schema, table, kind, group, ordinal, v1..v7.
std::string part(const std::string& kind, const std::string& group, const std::string& ordinal,
                 const std::vector<std::string>& values, const std::string& from,
                 const std::string& where) {
  std::string sql = "SELECT TABLE_SCHEMA AS s, TABLE_NAME AS t, '" + kind + "' AS k, " + group +
                    " AS g, " + ordinal + " AS o";
  for (std::size_t i = 0; i < 7; ++i) {
    sql += ", " + (i < values.size() ? values[i] : std::string("NULL")) + " AS v" +
           std::to_string(i + 1);
  }
  return sql + " FROM information_schema." + from + where;
}

}  // namespace

std::string table_name_condition(MYSQL* handle, const std::string& pattern) {
  if (pattern.find('*') == std::string::npos) return "TABLE_NAME = " + literal(handle, pattern);
  // '|' escapes: a backslash would depend on NO_BACKSLASH_ESCAPES.
  std::string like;
  for (const char c : pattern) {
    if (c == '*') {
      like += '%';
    } else {
      if (c == '%' || c == '_' || c == '|') like += '|';
      like += c;
    }
  }
  return "TABLE_NAME LIKE " + literal(handle, like) + " ESCAPE '|'";
}

std::string metadata_sql(MYSQL* handle, const MetadataParams& filter) {
  const std::string where = where_clause(handle, filter);
  const std::string stats = filter.include_stats ? "TRUE" : "FALSE";
  // MariaDB marks system-versioned tables 'SYSTEM VERSIONED'; sequences are
  // not listed (no kind in the protocol fits them). UPDATE_TIME is the
  // server's local time: converted from 'SYSTEM' to UTC.
  std::string sql = part(
      "a", "''", "0",
      {"TABLE_TYPE", "CAST(TABLE_ROWS AS CHAR)", "TABLE_COMMENT",
       "IF(" + stats + " AND TABLE_TYPE <> 'VIEW', CAST(DATA_LENGTH + INDEX_LENGTH AS CHAR), NULL)",
       "IF(" + stats +
           ", DATE_FORMAT(CONVERT_TZ(UPDATE_TIME, 'SYSTEM', '+00:00'), "
           "'%Y-%m-%dT%H:%i:%sZ'), NULL)"},
      "TABLES",
      where + " AND TABLE_TYPE IN ('BASE TABLE','SYSTEM VERSIONED'" +
          (filter.include_views ? ",'VIEW'" : "") + ")");
  if (filter.include_views && filter.include_definitions) {
    sql += " UNION ALL " + part("b", "''", "0", {"VIEW_DEFINITION"}, "VIEWS", where);
  }
  sql += " UNION ALL " + part("c", "''", "ORDINAL_POSITION",
                              {"COLUMN_NAME", "COLUMN_TYPE", "IS_NULLABLE", "COLUMN_DEFAULT",
                               "EXTRA", "GENERATION_EXPRESSION", "COLUMN_COMMENT"},
                              "COLUMNS", where);
  sql += " UNION ALL " + part("d", "INDEX_NAME", "SEQ_IN_INDEX",
                              {"COLUMN_NAME", "CAST(NON_UNIQUE AS CHAR)"}, "STATISTICS", where);
  sql += " UNION ALL " + part("e", "CONSTRAINT_NAME", "ORDINAL_POSITION",
                              {"COLUMN_NAME", "REFERENCED_TABLE_SCHEMA", "REFERENCED_TABLE_NAME",
                               "REFERENCED_COLUMN_NAME"},
                              "KEY_COLUMN_USAGE", where + " AND REFERENCED_TABLE_NAME IS NOT NULL");
  // One row per partition (the first subpartition's row stands for it).
  sql += " UNION ALL " +
         part("f", "''", "PARTITION_ORDINAL_POSITION", {"PARTITION_NAME"}, "PARTITIONS",
              where +
                  " AND PARTITION_NAME IS NOT NULL AND (SUBPARTITION_ORDINAL_POSITION IS NULL "
                  "OR SUBPARTITION_ORDINAL_POSITION = 1)");
  return sql + " ORDER BY BINARY s, BINARY t, k, BINARY g, o";
}

}  // namespace outpost::connectors::mysql
