#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace outpost {

/// Writes one result row as a JSON array straight into a text buffer, with the
/// value mapping of protocol v1 §7, so no JSON DOM is built per row.
///
/// Not thread safe; owned by a ResultSink and valid between its begin_row()
/// and end_row().
class RowWriter {
 public:
  explicit RowWriter(std::string& out) : out_(&out) {}

  /// Starts a new array; called by the sink.
  void open() {
    out_->push_back('[');
    first_ = true;
  }
  /// Closes the array; called by the sink.
  void close() { out_->push_back(']'); }

  void null_value();
  void boolean(bool value);
  /// Integers within ±2^53 as numbers, wider ones as strings.
  void integer(std::int64_t value);
  void unsigned_integer(std::uint64_t value);
  /// Floats as numbers; NaN and ±Infinity as the strings "NaN", "Infinity", "-Infinity".
  void number(double value);
  /// A JSON string, escaped; invalid UTF-8 bytes become U+FFFD.
  void string(std::string_view text);
  /// Binary data as a base64 string.
  void binary(std::string_view bytes);
  /// Text that is already one valid JSON value (json/jsonb columns).
  /// The caller vouches for its validity.
  void raw_json(std::string_view json);
  /// A decimal number's text kept exact, as a string.
  void decimal(std::string_view digits) { string(digits); }

  /// Appends `text` to `out` as an escaped JSON string (with quotes).
  static void append_json_string(std::string& out, std::string_view text);
  /// Appends `bytes` to `out` as base64 (no quotes).
  static void append_base64(std::string& out, std::string_view bytes);

 private:
  void separator() {
    if (!first_) out_->push_back(',');
    first_ = false;
  }

  std::string* out_;
  bool first_ = true;
};

}  // namespace outpost
