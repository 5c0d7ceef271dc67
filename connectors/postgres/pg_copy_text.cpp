#include "postgres/pg_copy_text.hpp"

namespace outpost::connectors::postgres {
namespace {

bool is_octal(char c) noexcept {
  return c >= '0' && c <= '7';
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes the escape at field[i] (the character after the backslash);
// returns the index of its last character.
std::size_t decode_escape(std::string_view field, std::size_t i, std::string& out) {
  const char e = field[i];
  switch (e) {
    case 'b': out.push_back('\b'); return i;
    case 'f': out.push_back('\f'); return i;
    case 'n': out.push_back('\n'); return i;
    case 'r': out.push_back('\r'); return i;
    case 't': out.push_back('\t'); return i;
    case 'v': out.push_back('\v'); return i;
    case 'x': {
      if (i + 1 >= field.size() || hex_value(field[i + 1]) < 0) break;  // a plain 'x'
      int value = hex_value(field[++i]);
      if (i + 1 < field.size() && hex_value(field[i + 1]) >= 0) {
        value = value * 16 + hex_value(field[++i]);
      }
      out.push_back(static_cast<char>(value));
      return i;
    }
    default:
      if (is_octal(e)) {
        int value = e - '0';
        for (int n = 0; n < 2 && i + 1 < field.size() && is_octal(field[i + 1]); ++n) {
          value = value * 8 + (field[++i] - '0');
        }
        out.push_back(static_cast<char>(value & 0xff));
        return i;
      }
      break;
  }
  out.push_back(e);  // "\\" and a backslash before any other character
  return i;
}

}  // namespace

void copy_text_unescape(std::string_view field, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < field.size(); ++i) {
    const auto backslash = field.find('\\', i);
    if (backslash == std::string_view::npos) {
      out.append(field.substr(i));
      return;
    }
    out.append(field.substr(i, backslash - i));
    if (backslash + 1 == field.size()) {  // a trailing lone backslash stays
      out.push_back('\\');
      return;
    }
    i = decode_escape(field, backslash + 1, out);
  }
}

CopyRowParse write_copy_row(RowWriter& row, const std::vector<ValueKind>& kinds,
                            std::string_view line, std::string& scratch) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  CopyRowParse parse;
  std::size_t column = 0;
  std::size_t pos = 0;
  for (;;) {
    const auto tab = line.find('\t', pos);
    const auto field = line.substr(pos, tab == std::string_view::npos ? tab : tab - pos);
    if (column == kinds.size()) return parse;  // more fields than columns
    if (field == "\\N") {
      row.null_value();
    } else {
      parse.text_bytes += field.size();
      if (field.find('\\') == std::string_view::npos) {
        write_value(row, kinds[column], field);
      } else if (!row.fits(min_json_bytes(kinds[column], field.size() / 4))) {
        // Decoded, the value keeps at least a quarter of its bytes (\ooo):
        // refused before the decoding copy, as write_value refuses.
        row.value_too_large();
      } else {
        copy_text_unescape(field, scratch);
        write_value(row, kinds[column], scratch);
      }
    }
    ++column;
    if (tab == std::string_view::npos) break;
    pos = tab + 1;
  }
  parse.complete = column == kinds.size();
  return parse;
}

}  // namespace outpost::connectors::postgres
