#include "odbc/odbc_sql_guard.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <vector>

#include "common/error_classify.hpp"

namespace outpost::connectors::odbc {
namespace {

enum class Kind { kWord, kQuoted, kString, kSemicolon, kPunct, kNumber };

struct Token {
  Kind kind;
  std::string text;  ///< words: as written; quoted identifiers: their name
  std::size_t begin;
  std::size_t end;
};

bool word_start(char c) {
  const auto u = static_cast<unsigned char>(c);
  return std::isalpha(u) != 0 || c == '_' || u >= 0x80;
}

bool word_char(char c) {
  return word_start(c) || std::isdigit(static_cast<unsigned char>(c)) != 0 || c == '$';
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

class Lexer {
 public:
  Lexer(std::string_view sql, SqlDialect dialect) : s_(sql), d_(dialect) {}

  // Tokens, or the reason the text is refused.
  std::optional<std::string> run(std::vector<Token>& out) {
    while (i_ < s_.size()) {
      const char c = s_[i_];
      const char n = i_ + 1 < s_.size() ? s_[i_ + 1] : '\0';
      if (std::isspace(static_cast<unsigned char>(c)) != 0) {
        ++i_;
      } else if (c == '-' && n == '-') {
        const char after = i_ + 2 < s_.size() ? s_[i_ + 2] : ' ';
        const bool blank_after = std::isspace(static_cast<unsigned char>(after)) != 0;
        if (d_ == SqlDialect::kMysql && !blank_after) {
          punct(out);
        } else if (d_ == SqlDialect::kGeneric && !blank_after) {
          return "\"--\" directly followed by text is read differently by different databases";
        } else {
          line_comment();
        }
      } else if (c == '#' && (d_ == SqlDialect::kMysql || d_ == SqlDialect::kGeneric)) {
        if (d_ == SqlDialect::kGeneric) return "\"#\" is a comment in some databases only";
        line_comment();
      } else if (c == '/' && n == '*') {
        if (auto e = block_comment()) return e;
      } else if (c == '\'') {
        if (auto e = string_literal(out, '\'', escaped_string(out))) return e;
      } else if (c == '"') {
        if (d_ == SqlDialect::kMysql) {
          if (auto e = string_literal(out, '"', true)) return e;
        } else if (auto e = quoted(out, '"', '"')) {
          return e;
        }
      } else if (c == '`' && d_ != SqlDialect::kPostgres) {
        if (auto e = quoted(out, '`', '`')) return e;
      } else if (c == '[' && d_ == SqlDialect::kSqlite) {
        if (auto e = quoted(out, '[', ']')) return e;
      } else if (c == '$' && d_ == SqlDialect::kPostgres && dollar_tag_length() > 0) {
        if (auto e = dollar_quote(out)) return e;
      } else if (word_start(c)) {
        const std::size_t b = i_;
        while (i_ < s_.size() && word_char(s_[i_])) ++i_;
        out.push_back({Kind::kWord, std::string(s_.substr(b, i_ - b)), b, i_});
      } else if (std::isdigit(static_cast<unsigned char>(c)) != 0) {
        const std::size_t b = i_;
        while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) != 0 ||
                                  s_[i_] == '.' || s_[i_] == '_')) {
          ++i_;
        }
        out.push_back({Kind::kNumber, std::string(s_.substr(b, i_ - b)), b, i_});
      } else if (c == ';') {
        out.push_back({Kind::kSemicolon, ";", i_, i_ + 1});
        ++i_;
      } else {
        punct(out);
      }
    }
    return std::nullopt;
  }

 private:
  void punct(std::vector<Token>& out) {
    out.push_back({Kind::kPunct, std::string(1, s_[i_]), i_, i_ + 1});
    ++i_;
  }

  void line_comment() {
    while (i_ < s_.size() && s_[i_] != '\n') ++i_;
  }

  std::optional<std::string> block_comment() {
    if (d_ == SqlDialect::kMysql && i_ + 2 < s_.size() && s_[i_ + 2] == '!') {
      return "MySQL executable comments (/*! ... */) are refused";
    }
    const std::size_t close = s_.find("*/", i_ + 2);
    if (close == std::string_view::npos) return "a /* comment is never closed";
    // PostgreSQL nests block comments, the others do not: refuse the case
    // where they would disagree.
    if (s_.substr(i_ + 2, close - i_ - 2).find("/*") != std::string_view::npos) {
      return "nested /* comments are refused (databases read them differently)";
    }
    i_ = close + 2;
    return std::nullopt;
  }

  // PostgreSQL E'…' strings take backslash escapes; MySQL strings always do.
  bool escaped_string(const std::vector<Token>& out) const {
    if (d_ == SqlDialect::kMysql) return true;
    if (d_ != SqlDialect::kPostgres || out.empty()) return false;
    const auto& last = out.back();
    return last.kind == Kind::kWord && last.end == i_ && (last.text == "E" || last.text == "e");
  }

  std::optional<std::string> string_literal(std::vector<Token>& out, char quote, bool escapes) {
    const std::size_t b = i_++;
    for (;;) {
      if (i_ >= s_.size()) return "a string literal is never closed";
      const char c = s_[i_];
      if (c == '\\') {
        // Whether a backslash escapes depends on server settings there.
        if (d_ == SqlDialect::kMysql || d_ == SqlDialect::kGeneric) {
          return "backslashes in string literals are refused for this database (their meaning "
                 "depends on server settings)";
        }
        i_ += escapes ? 2 : 1;
        continue;
      }
      if (c == quote) {
        if (i_ + 1 < s_.size() && s_[i_ + 1] == quote) {
          i_ += 2;
          continue;
        }
        ++i_;
        break;
      }
      ++i_;
    }
    out.push_back({Kind::kString, {}, b, i_});
    return std::nullopt;
  }

  std::optional<std::string> quoted(std::vector<Token>& out, char open, char close) {
    const std::size_t b = i_++;
    std::string name;
    for (;;) {
      if (i_ >= s_.size()) return "a quoted identifier is never closed";
      const char c = s_[i_];
      if (c == close) {
        if (open == close && i_ + 1 < s_.size() && s_[i_ + 1] == close) {
          name.push_back(c);
          i_ += 2;
          continue;
        }
        ++i_;
        break;
      }
      name.push_back(c);
      ++i_;
    }
    out.push_back({Kind::kQuoted, std::move(name), b, i_});
    return std::nullopt;
  }

  // Length of a "$tag$" opener at i_ (0 when there is none).
  std::size_t dollar_tag_length() const {
    std::size_t j = i_ + 1;
    if (j < s_.size() && s_[j] == '$') return 2;
    if (j >= s_.size() || !(std::isalpha(static_cast<unsigned char>(s_[j])) != 0 || s_[j] == '_' ||
                            static_cast<unsigned char>(s_[j]) >= 0x80)) {
      return 0;
    }
    while (j < s_.size() && s_[j] != '$') {
      const auto u = static_cast<unsigned char>(s_[j]);
      if (std::isalnum(u) == 0 && s_[j] != '_' && u < 0x80) return 0;
      ++j;
    }
    return j < s_.size() ? j - i_ + 1 : 0;
  }

  std::optional<std::string> dollar_quote(std::vector<Token>& out) {
    const std::size_t b = i_;
    const std::size_t length = dollar_tag_length();
    const std::string_view tag = s_.substr(i_, length);
    const std::size_t close = s_.find(tag, i_ + length);
    if (close == std::string_view::npos) return "a dollar-quoted string is never closed";
    i_ = close + length;
    out.push_back({Kind::kString, {}, b, i_});
    return std::nullopt;
  }

  std::string_view s_;
  SqlDialect d_;
  std::size_t i_ = 0;
};

struct Refused {
  std::string_view keyword;
  std::string_view why;
};

constexpr std::array kRefusedStatements{
    Refused{"BEGIN", "transaction control"},
    Refused{"START", "transaction control"},
    Refused{"COMMIT", "transaction control"},
    Refused{"END", "transaction control"},
    Refused{"ROLLBACK", "transaction control"},
    Refused{"ABORT", "transaction control"},
    Refused{"SAVEPOINT", "transaction control"},
    Refused{"RELEASE", "transaction control"},
    Refused{"PREPARE", "transaction control"},
    Refused{"XA", "transaction control"},
    Refused{"SET", "session state"},
    Refused{"RESET", "session state"},
    Refused{"DISCARD", "session state"},
    Refused{"USE", "session state"},
    Refused{"LOCK", "session state"},
    Refused{"UNLOCK", "session state"},
    Refused{"LISTEN", "session state"},
    Refused{"UNLISTEN", "session state"},
    Refused{"DEALLOCATE", "session state"},
    Refused{"DECLARE", "session state"},
    Refused{"PRAGMA", "PRAGMA"},
    Refused{"ATTACH", "attaching database files"},
    Refused{"DETACH", "attaching database files"},
    Refused{"VACUUM", "VACUUM"},
    Refused{"LOAD", "loading libraries"},
    Refused{"COPY", "COPY"},
};

constexpr std::array<std::string_view, 7> kRefusedFunctions{
    "load_extension", "blob_import", "blob_export",   "readfile",
    "writefile",      "edit",        "fts3_tokenizer"};

std::string explain(const Refused& r) {
  const std::string keyword(r.keyword);
  if (r.why == "transaction control") {
    return "transaction control (" + keyword +
           ") is refused: every job runs in one transaction that the agent rolls back";
  }
  if (r.why == "session state") {
    return "session statements (" + keyword +
           ") are refused: their effect would outlive the job on the pooled connection";
  }
  if (r.why == "PRAGMA") return "PRAGMA is refused: it changes the connection or the database file";
  if (r.why == "VACUUM") return "VACUUM is refused: it rewrites or copies the database file";
  if (r.why == "loading libraries") return "LOAD is refused: it loads a library into the server";
  if (r.why == "COPY") {
    return "COPY is refused: it reads or writes server files and programs, and ODBC cannot "
           "stream it";
  }
  return keyword + " is refused: it opens other database files";
}

}  // namespace

SqlDialect dialect_of(std::string_view dbms_name) {
  if (common::contains_icase(dbms_name, "postgres")) return SqlDialect::kPostgres;
  if (common::contains_icase(dbms_name, "sqlite")) return SqlDialect::kSqlite;
  if (common::contains_icase(dbms_name, "mysql") || common::contains_icase(dbms_name, "mariadb")) {
    return SqlDialect::kMysql;
  }
  return SqlDialect::kGeneric;
}

StatementCheck check_statement(std::string_view sql, SqlDialect dialect) {
  std::vector<Token> tokens;
  if (auto error = Lexer(sql, dialect).run(tokens)) return {{}, std::move(error)};
  const auto semi = std::find_if(tokens.begin(), tokens.end(),
                                 [](const Token& t) { return t.kind == Kind::kSemicolon; });
  if (semi != tokens.end() && std::any_of(semi + 1, tokens.end(), [](const Token& t) {
        return t.kind != Kind::kSemicolon;
      })) {
    return {{}, "one statement per job: the SQL holds more than one statement"};
  }
  if (semi == tokens.begin()) return {{}, "the SQL holds no statement"};
  const auto first = std::find_if(tokens.begin(), semi, [](const Token& t) {
    return !(t.kind == Kind::kPunct && t.text == "(");
  });
  if (first != semi && first->kind == Kind::kWord) {
    const std::string keyword = upper(first->text);
    for (const auto& r : kRefusedStatements) {
      if (r.keyword == keyword) return {{}, explain(r)};
    }
  }
  for (auto it = tokens.begin(); it != semi; ++it) {
    if (it->kind != Kind::kWord && it->kind != Kind::kQuoted) continue;
    const auto next = it + 1;
    if (next == semi || next->kind != Kind::kPunct || next->text != "(") continue;
    const std::string name = lower(it->text);
    if (std::find(kRefusedFunctions.begin(), kRefusedFunctions.end(), name) !=
        kRefusedFunctions.end()) {
      return {{},
              "function " + name +
                  "() is refused: it loads code or reads or writes files on the agent's host"};
    }
  }
  const auto last = semi - 1;
  return {std::string(sql.substr(tokens.front().begin, last->end - tokens.front().begin)),
          std::nullopt};
}

}  // namespace outpost::connectors::odbc
