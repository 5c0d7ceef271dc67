#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "outpost/params.hpp"
#include "outpost/row_writer.hpp"

namespace outpost {

/// A result column as the connector names it (`type` is the database's own
/// type name, e.g. "int8", "varchar", "DECIMAL").
struct Column {
  std::string name;
  std::string type;
};

/// Where a connector streams rows (query) or tables (metadata). The runtime's
/// implementation writes them into bounded parts and uploads each full part
/// before accepting more, so a connector that streams never holds more than
/// one part in memory, whatever the size of the result.
///
/// Used from the connector's worker thread only.
class ResultSink {
 public:
  virtual ~ResultSink() = default;

  /// query: the columns, once: before the first row where the connector
  /// knows them then, otherwise after the last (PostgreSQL names types that
  /// are not built in with a catalog lookup it can only run once the stream
  /// has ended). Sinks must not rely on the order; the runtime reports the
  /// columns with the final result.
  virtual void set_columns(std::vector<Column> columns) = 0;

  /// Starts a row: write each value with the returned writer, then end_row().
  virtual RowWriter& begin_row() = 0;

  /// Finishes the row. Returns false when the producer must stop: the row
  /// went past a row or byte cap (it is dropped and the result is marked
  /// truncated), the job was cancelled, or the lease was lost. May block while
  /// a full part is uploaded (that is the back-pressure that bounds memory).
  [[nodiscard]] virtual bool end_row() = 0;

  /// metadata: one table with its columns (the runtime writes to_json(table)).
  /// Same return value as end_row().
  [[nodiscard]] virtual bool add_table(const Table& table) = 0;

  /// query_log (jobs-v1.1): one record, a JSON object written as one line.
  /// Same return value as end_row(). Default: refused (a sink for the other
  /// job types).
  [[nodiscard]] virtual bool add_record(const nlohmann::json& record) {
    (void)record;
    return false;
  }

  /// Rows (or tables) accepted so far.
  [[nodiscard]] virtual std::uint64_t count() const = 0;

  /// What is left of the result's byte budget (--max-result-bytes): no value
  /// larger than this can ever be part of the result. Connectors bound the
  /// values a driver builds with it (e.g. SQLITE_LIMIT_LENGTH), so a larger
  /// one is never materialised; RowWriter::fits() is the finer per-value
  /// check (it also knows that a row may not exceed one part).
  /// Default: no bound (a sink without a byte budget).
  [[nodiscard]] virtual std::uint64_t max_value_bytes() const {
    return std::numeric_limits<std::uint64_t>::max();
  }
};

}  // namespace outpost
