#include "mysql/mysql_sql_guard.hpp"

#include <cctype>
#include <vector>

namespace outpost::connectors::mysql {
namespace {

struct LexMode {
  bool backslash_in_single;  // '…' strings: backslash escapes (no NO_BACKSLASH_ESCAPES)
  bool backslash_in_double;  // "…" strings: as above and no ANSI_QUOTES
};

bool is_word_char(unsigned char c) {
  return std::isalnum(c) != 0 || c == '_' || c == '$' || c >= 0x80;
}

// Whitespace after "--" that makes it a comment (the server accepts a few more
// control characters; treating those as code only ever refuses more).
bool is_comment_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// Moves i past the literal that opens at sql[i] (a doubled quote stays inside).
void skip_quoted(std::string_view sql, std::size_t& i, char quote, bool backslash) {
  const std::size_t n = sql.size();
  ++i;
  while (i < n) {
    if (backslash && sql[i] == '\\') {
      i += 2;
      continue;
    }
    if (sql[i] == quote) {
      if (i + 1 < n && sql[i + 1] == quote) {  // doubled quote inside
        i += 2;
        continue;
      }
      ++i;
      return;
    }
    ++i;
  }
}

std::string upper(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return out;
}

// Reads the `quoted identifier` that opens at sql[i], upper-cased.
std::string read_backquoted(std::string_view sql, std::size_t& i) {
  const std::size_t n = sql.size();
  ++i;
  std::string name;
  while (i < n) {
    if (sql[i] == '`') {
      if (i + 1 < n && sql[i + 1] == '`') {
        name.push_back('`');
        i += 2;
        continue;
      }
      break;
    }
    name.push_back(sql[i++]);
  }
  ++i;
  return upper(name);
}

// Moves i past the /* comment */ that opens at sql[i]. An executable comment
// (/*! or /*M!) is code: only its opener and version number are skipped.
void skip_block_comment(std::string_view sql, std::size_t& i) {
  const std::size_t n = sql.size();
  const bool executable =
      (i + 2 < n && sql[i + 2] == '!') || (i + 3 < n && sql[i + 2] == 'M' && sql[i + 3] == '!');
  const std::size_t end = sql.find("*/", i + 2);
  if (executable) {
    // The closing "*/" is skipped later as symbols.
    i += sql[i + 2] == '!' ? 3 : 4;
    while (i < n && std::isdigit(static_cast<unsigned char>(sql[i])) != 0) ++i;
  } else if (end == std::string_view::npos) {
    i += 2;  // unterminated: read the rest as code
  } else {
    i = end + 2;
  }
}

// The upper-cased words and quoted identifiers outside literals and plain
// comments, in order (symbols are dropped: the checks below look at words).
std::vector<std::string> words(std::string_view sql, LexMode mode) {
  std::vector<std::string> out;
  std::size_t i = 0;
  const std::size_t n = sql.size();
  while (i < n) {
    const char c = sql[i];
    if (c == '\'') {
      skip_quoted(sql, i, '\'', mode.backslash_in_single);
    } else if (c == '"') {
      skip_quoted(sql, i, '"', mode.backslash_in_double);
    } else if (c == '`') {
      out.push_back(read_backquoted(sql, i));
    } else if (c == '#' ||
               (c == '-' && i + 2 < n && sql[i + 1] == '-' && is_comment_space(sql[i + 2]))) {
      while (i < n && sql[i] != '\n' && sql[i] != '\r') ++i;
    } else if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
      skip_block_comment(sql, i);
    } else if (is_word_char(static_cast<unsigned char>(c))) {
      const std::size_t start = i;
      while (i < n && is_word_char(static_cast<unsigned char>(sql[i]))) ++i;
      out.push_back(upper(sql.substr(start, i - start)));
    } else {
      ++i;
    }
  }
  return out;
}

std::optional<std::string> check(const std::vector<std::string>& w) {
  for (std::size_t k = 0; k + 1 < w.size(); ++k) {
    if (w[k] == "INTO" && (w[k + 1] == "OUTFILE" || w[k + 1] == "DUMPFILE")) {
      return "INTO " + w[k + 1] + " (writes a file on the database host)";
    }
  }
  if (w.empty()) return std::nullopt;
  if (w.front() == "SET") {
    for (const auto& word : w) {
      if (word == "GLOBAL" || word == "PERSIST" || word == "PERSIST_ONLY") {
        return "SET " + word + " (changes the server's configuration)";
      }
    }
  }
  if (w.front() == "PREPARE" || w.front() == "EXECUTE") {
    return w.front() + " (dynamic SQL, whose text cannot be checked)";
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> forbidden_statement(std::string_view sql) {
  static constexpr LexMode kModes[] = {{true, true}, {false, false}, {true, false}};
  for (const auto mode : kModes) {
    if (auto found = check(words(sql, mode))) return found;
  }
  return std::nullopt;
}

}  // namespace outpost::connectors::mysql
