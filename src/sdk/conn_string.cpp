#include "outpost/conn_string.hpp"

#include <algorithm>
#include <cctype>

namespace outpost {
namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

// Characters the ODBC specification reserves in keys ("should be avoided").
bool is_reserved_in_key(char c) {
  return std::string_view("[]{}(),;?*=!@").find(c) != std::string_view::npos;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

// A key for an error message: printable ASCII only and short, so a
// malformed string (perhaps a password typed in the wrong place) is not
// echoed at length.
std::string shown_key(std::string_view key) {
  std::string out;
  for (const char c : key.substr(0, 64)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u >= 0x20 && u < 0x7F) ? c : '?';
  }
  if (key.size() > 64) out += "...";
  return out;
}

std::string at(std::size_t offset) {
  return " (at byte " + std::to_string(offset) + ")";
}

// Reads the braced value that opens at text[j] ("}}" stands for '}') and
// the blanks after it; j ends on the ';' (or the end). The error, if any.
std::optional<std::string> read_braced(std::string_view text, std::size_t& j, std::string& value,
                                       std::string_view key) {
  const std::size_t open = j++;
  bool closed = false;
  while (j < text.size()) {
    if (text[j] == '}') {
      if (j + 1 < text.size() && text[j + 1] == '}') {
        value.push_back('}');
        j += 2;
        continue;
      }
      ++j;
      closed = true;
      break;
    }
    value.push_back(text[j++]);
  }
  if (!closed) {
    return "the value of \"" + shown_key(key) + "\" opens a brace that is never closed" + at(open);
  }
  while (j < text.size() && is_blank(text[j])) ++j;
  if (j < text.size() && text[j] != ';') {
    return "unexpected text after the closing brace of \"" + shown_key(key) + "\"" + at(j);
  }
  return std::nullopt;
}

}  // namespace

std::string odbc_key(std::string_view key) {
  std::string out(key);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

OdbcParseResult parse_odbc_connection_string(std::string_view text) {
  OdbcParseResult out;
  auto fail = [&](std::string message) {
    out.attributes.clear();
    out.error = "malformed ODBC connection string: " + std::move(message);
    return out;
  };
  if (text.size() > kMaxOdbcConnectionString) {
    return fail("longer than " + std::to_string(kMaxOdbcConnectionString) + " bytes");
  }
  if (const auto nul = text.find('\0'); nul != std::string_view::npos) {
    return fail("it holds a NUL byte" + at(nul));
  }
  std::size_t i = 0;
  while (i < text.size()) {
    // One attribute: [blanks] key [blanks] = [blanks] value [blanks] (; | end)
    const std::size_t start = i;
    const std::size_t semi = std::min(text.find(';', i), text.size());
    const std::size_t eq = text.find('=', i);
    if (eq == std::string_view::npos || eq > semi) {
      const auto segment = trim(text.substr(start, semi - start));
      if (!segment.empty()) {
        return fail("attribute \"" + shown_key(segment) + "\" has no '='" + at(start));
      }
      i = semi + 1;
      continue;
    }
    const auto key = trim(text.substr(start, eq - start));
    if (key.empty()) return fail("an attribute has an empty key" + at(start));
    for (const char c : key) {
      if (is_reserved_in_key(c) || static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
        return fail("the key \"" + shown_key(key) + "\" holds a character ODBC reserves" +
                    at(start));
      }
    }
    OdbcAttribute attribute{std::string(key), {}, false};
    std::size_t j = eq + 1;
    while (j < text.size() && is_blank(text[j])) ++j;
    if (j < text.size() && text[j] == '{') {
      attribute.braced = true;
      if (auto error = read_braced(text, j, attribute.value, key)) return fail(std::move(*error));
      i = j + 1;
    } else {
      const auto value = trim(text.substr(j, semi - j));
      if (value.find_first_of("{}") != std::string_view::npos) {
        return fail("the value of \"" + shown_key(key) +
                    "\" holds a brace: brace the whole value ({...}, with }} for })" + at(j));
      }
      attribute.value = std::string(value);
      i = semi + 1;
    }
    out.attributes.push_back(std::move(attribute));
  }
  return out;
}

std::optional<std::string> duplicate_odbc_key(const std::vector<OdbcAttribute>& attributes) {
  std::vector<std::string> seen;
  seen.reserve(attributes.size());
  for (const auto& a : attributes) {
    auto key = odbc_key(a.key);
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) return a.key;
    seen.push_back(std::move(key));
  }
  return std::nullopt;
}

std::string format_odbc_connection_string(const std::vector<OdbcAttribute>& attributes) {
  std::string out;
  for (const auto& a : attributes) {
    out += a.key;
    out += '=';
    const bool brace =
        a.braced || a.value.find_first_of(";{}") != std::string::npos ||
        (!a.value.empty() && (is_blank(a.value.front()) || is_blank(a.value.back())));
    if (brace) {
      out += '{';
      for (const char c : a.value) {
        out += c;
        if (c == '}') out += '}';
      }
      out += '}';
    } else {
      out += a.value;
    }
    out += ';';
  }
  return out;
}

}  // namespace outpost
