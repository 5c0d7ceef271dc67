#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace outpost {

/// One `KEY=VALUE` attribute of an ODBC connection string.
struct OdbcAttribute {
  std::string key;    ///< as written, blanks around it removed
  std::string value;  ///< braces removed and `}}` unescaped
  bool braced = false;
};

/// The outcome of parse_odbc_connection_string(): the attributes in order, or
/// an error that names the attribute (its key) and the byte offset, never a
/// value (values hold passwords).
struct OdbcParseResult {
  std::vector<OdbcAttribute> attributes;
  std::string error;  ///< empty on success
  [[nodiscard]] bool ok() const noexcept { return error.empty(); }
};

/// The longest connection string accepted (SQLDriverConnect takes a
/// SQLSMALLINT length; drivers copy into fixed buffers far smaller).
inline constexpr std::size_t kMaxOdbcConnectionString = 16384;

/// Parses an ODBC connection string the way the ODBC specification
/// (SQLDriverConnect) and unixODBC read one, and strictly where drivers
/// disagree:
///  - attributes are separated by `;`; empty attributes (`;;`) are skipped;
///  - the key is the text before the first `=`, blanks (space, tab) around it
///    removed; it must be non-empty and hold none of `[]{}(),;?*=!@`, no
///    control character;
///  - a value starting with `{` (after blanks) runs to the matching `}`, with
///    `}}` standing for one `}`; only blanks may follow before `;` or the end;
///  - any other value runs to the next `;`, blanks around it removed; it may
///    not contain `{` or `}` (drivers read such values differently);
///  - a NUL byte anywhere, an attribute without `=`, an unterminated brace or
///    a string over kMaxOdbcConnectionString bytes is an error.
/// Duplicate keys are kept (see duplicate_odbc_key()). Never throws on any
/// input but std::bad_alloc.
OdbcParseResult parse_odbc_connection_string(std::string_view text);

/// `key` in lower case (ODBC keys are case-insensitive).
std::string odbc_key(std::string_view key);

/// The first key (as written) that appears twice, compared case-insensitively,
/// or nullopt. Drivers disagree on which occurrence wins, so callers refuse.
std::optional<std::string> duplicate_odbc_key(const std::vector<OdbcAttribute>& attributes);

/// Writes attributes back as `Key=Value;`: a value is braced (with `}` doubled)
/// when `braced` is set (some drivers read only braced values verbatim:
/// psqlODBC URL-decodes a bare password) or when it could not be read back
/// otherwise, i.e. when it holds `;`, `{`, `}` or starts or ends with a blank.
/// Parsing the output gives the same keys and values.
std::string format_odbc_connection_string(const std::vector<OdbcAttribute>& attributes);

}  // namespace outpost
