#pragma once

#include <cstddef>
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

  /// Starts a new array; called by the sink. `limit` is the most bytes the
  /// row may take (the sink's remaining byte budget): a value that would
  /// take the row past it is not converted at all — the writer appends
  /// `null` and sets over_limit(), and the sink then drops the row. That
  /// check happens before escaping or base64, so one huge value never costs
  /// more than the driver's own copy of it.
  void open(std::size_t limit = static_cast<std::size_t>(-1)) {
    out_->push_back('[');
    first_ = true;
    over_limit_ = false;
    limit_ = limit;
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

  /// Whether a value whose JSON text takes `bytes` bytes can still be written
  /// into this row (false once a value was refused: the row is dropped).
  /// Connectors ask with the value's raw size (or its base64 size for binary
  /// data) before fetching or converting a large value, and call
  /// value_too_large() instead when it does not fit.
  [[nodiscard]] bool fits(std::size_t bytes) const noexcept {
    return !over_limit_ && out_->size() <= limit_ && bytes <= limit_ - out_->size();
  }

  /// Stands in for a value the connector found too large (fits() said no)
  /// and therefore never fetched: writes `null` and sets over_limit(), so the
  /// sink drops the row and reports the cap it hit.
  void value_too_large() {
    separator();
    over_limit_ = true;
    out_->append("null");
  }

  /// Whether a value was refused because the row went past the limit.
  [[nodiscard]] bool over_limit() const noexcept { return over_limit_; }

  /// Appends `text` to `out` as an escaped JSON string (with quotes).
  static void append_json_string(std::string& out, std::string_view text);
  /// Appends `bytes` to `out` as base64 (no quotes).
  static void append_base64(std::string& out, std::string_view bytes);

 private:
  void separator() {
    if (!first_) out_->push_back(',');
    first_ = false;
  }

  // False (and `null` written) when a value of at least `bytes` bytes of JSON
  // would not fit: the caller then skips converting it.
  bool admit(std::size_t bytes);

  std::string* out_;
  bool first_ = true;
  bool over_limit_ = false;
  std::size_t limit_ = static_cast<std::size_t>(-1);
};

}  // namespace outpost
