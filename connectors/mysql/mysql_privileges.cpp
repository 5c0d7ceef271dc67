#include "mysql/mysql_privileges.hpp"

#include <mysql.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <utility>

#include "mysql/mysql_connection.hpp"

namespace outpost::connectors::mysql {
namespace {

// Privileges that only read. Everything else — writes, DDL, FILE, SUPER and
// its MariaDB 10.5+ parts, PROCESS, SHUTDOWN, RELOAD, EXECUTE (a DEFINER
// routine runs with its definer's rights), GRANT OPTION, MySQL 8 dynamic
// privileges — makes the login privileged.
constexpr std::string_view kReadOnly[] = {"USAGE",          "SELECT",       "SHOW VIEW",
                                          "SHOW DATABASES", "SHOW_ROUTINE", "SHOW CREATE ROUTINE"};

bool is_write(std::string_view name) {
  static constexpr std::string_view kWrites[] = {
      "ALL",   "ALL PRIVILEGES", "INSERT", "UPDATE", "DELETE",        "INDEX",
      "EVENT", "TRIGGER",        "FILE",   "SUPER",  "DELETE HISTORY"};
  if (name.starts_with("CREATE") || name.starts_with("ALTER") || name.starts_with("DROP")) {
    return true;
  }
  return std::find(std::begin(kWrites), std::end(kWrites), name) != std::end(kWrites);
}

std::string upper_trimmed(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// Scans `line` from `from`, outside quotes (` ' ") and parentheses, and
// returns the position of the word `word` (surrounded by spaces), or npos.
std::size_t find_top_level(std::string_view line, std::size_t from, std::string_view word) {
  char quote = 0;
  int depth = 0;
  for (std::size_t i = from; i < line.size(); ++i) {
    const char c = line[i];
    if (quote != 0) {
      if (c == quote) quote = 0;  // a doubled quote re-opens at once: same span
      continue;
    }
    if (c == '`' || c == '\'' || c == '"') {
      quote = c;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      depth = std::max(0, depth - 1);
    } else if (depth == 0 && c == ' ' && i + word.size() + 1 < line.size() &&
               line[i + word.size() + 1] == ' ') {
      if (upper_trimmed(line.substr(i + 1, word.size())) == word) return i + 1;
    }
  }
  return std::string_view::npos;
}

// Splits at commas outside quotes and parentheses.
std::vector<std::string_view> split_top_level(std::string_view list) {
  std::vector<std::string_view> items;
  char quote = 0;
  int depth = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= list.size(); ++i) {
    const char c = i < list.size() ? list[i] : ',';
    if (quote != 0) {
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '`' || c == '\'' || c == '"') {
      quote = c;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      depth = std::max(0, depth - 1);
    } else if (c == ',' && depth == 0) {
      items.push_back(list.substr(start, i - start));
      start = i + 1;
    }
  }
  return items;
}

// The grantee after TO: `user`@`host` or `role`, up to the first space outside quotes.
std::string first_token(std::string_view text) {
  char quote = 0;
  std::size_t i = 0;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
    } else if (c == '`' || c == '\'' || c == '"') {
      quote = c;
    } else if (c == ' ') {
      break;
    }
  }
  return std::string(text.substr(0, i));
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

// First column of every row of `sql`; nullopt (error on the session) if it fails.
std::optional<std::vector<std::string>> rows_of(Connection& connection, const std::string& sql) {
  MYSQL* handle = connection.handle();
  if (mysql_real_query(handle, sql.data(), static_cast<unsigned long>(sql.size())) != 0) {
    return std::nullopt;
  }
  MYSQL_RES* result = mysql_store_result(handle);
  if (result == nullptr) return std::nullopt;
  std::vector<std::string> rows;
  while (MYSQL_ROW row = mysql_fetch_row(result)) {
    const unsigned long* lengths = mysql_fetch_lengths(result);
    rows.emplace_back(row[0] != nullptr ? std::string(row[0], lengths[0]) : std::string());
  }
  mysql_free_result(result);
  return rows;
}

std::string backtick(std::string_view name) {
  std::string out = "`";
  for (const char c : name) {
    out.push_back(c);
    if (c == '`') out.push_back('`');
  }
  return out + "`";
}

}  // namespace

std::string HeldPrivilege::describe() const {
  std::string out = privilege + " ON " + target;
  if (!via_role.empty()) out += " (via role " + via_role + ")";
  return out;
}

void parse_grant_line(std::string_view line, PrivilegeReport& report,
                      std::vector<std::string>* roles_out, std::string* grantee_out) {
  if (upper_trimmed(line.substr(0, 6)) != "GRANT") return;
  const std::size_t on = find_top_level(line, 5, "ON");
  const std::size_t to = find_top_level(line, on == std::string_view::npos ? 5 : on, "TO");
  if (to == std::string_view::npos) return;
  const std::string grantee = first_token(line.substr(to + 3));
  if (grantee_out != nullptr) *grantee_out = grantee;
  const std::size_t with = find_top_level(line, to, "WITH");
  const std::string options =
      with == std::string_view::npos ? "" : upper_trimmed(line.substr(with));
  const bool grant_option = options.find(" GRANT OPTION") != std::string::npos;
  const bool admin_option = options.find(" ADMIN OPTION") != std::string::npos;
  const std::string via = grantee.find('@') == std::string::npos ? grantee : std::string();

  if (on == std::string_view::npos) {
    // A role grant: GRANT `r1`, `r2`@`%` TO `user`@`host` [WITH ADMIN OPTION].
    for (auto role : split_top_level(line.substr(6, to - 6))) {
      role = trim(role);
      if (role.empty()) continue;
      if (roles_out != nullptr) roles_out->emplace_back(role);
      if (std::find(report.roles.begin(), report.roles.end(), role) == report.roles.end()) {
        report.roles.emplace_back(role);
      }
      if (admin_option) {
        report.privileged.push_back({"ADMIN OPTION", "ROLE " + std::string(role), via});
      }
    }
    return;
  }
  const std::string target(trim(line.substr(on + 3, to - on - 3)));
  for (auto item : split_top_level(line.substr(6, on - 6))) {
    item = trim(item);
    const auto paren = item.find('(');  // column list: "UPDATE (`a`, `b`)"
    const std::string name = upper_trimmed(item.substr(0, paren));
    if (name.empty()) continue;
    if (std::find(std::begin(kReadOnly), std::end(kReadOnly), name) != std::end(kReadOnly)) {
      continue;
    }
    HeldPrivilege held{name,
                       paren == std::string_view::npos
                           ? target
                           : target + " " + std::string(trim(item.substr(paren))),
                       via};
    if (is_write(name)) report.writes.push_back(held);
    report.privileged.push_back(std::move(held));
  }
  if (grant_option) report.privileged.push_back({"GRANT OPTION", target, via});
}

PrivilegeOutcome read_privileges(Connection& connection) {
  auto own = rows_of(connection, "SHOW GRANTS FOR CURRENT_USER()");
  if (!own) return {std::nullopt, connection.last_error()};
  PrivilegeReport report;
  std::vector<std::string> roles;
  for (const auto& line : *own) parse_grant_line(line, report, &roles, nullptr);

  if (!roles.empty()) {
    std::vector<std::string> lines;
    if (connection.is_mariadb()) {
      // SHOW GRANTS shows the active role and the roles it holds, and a role's
      // grants are visible to its grantee only once it is active: activate
      // each granted role in turn, then restore the one the login started with.
      auto current = rows_of(connection, "SELECT CURRENT_ROLE()");
      if (!current) return {std::nullopt, connection.last_error()};
      for (const auto& role : roles) {
        if (auto error = connection.execute("SET ROLE " + role)) return {std::nullopt, error};
        auto more = rows_of(connection, "SHOW GRANTS");
        if (!more) return {std::nullopt, connection.last_error()};
        lines.insert(lines.end(), more->begin(), more->end());
      }
      const std::string restore = current->empty() || current->front().empty()
                                      ? "SET ROLE NONE"
                                      : "SET ROLE " + backtick(current->front());
      if (auto error = connection.execute(restore)) return {std::nullopt, error};
    } else {
      std::string sql = "SHOW GRANTS FOR CURRENT_USER() USING ";
      for (std::size_t i = 0; i < roles.size(); ++i) sql += (i == 0 ? "" : ", ") + roles[i];
      auto more = rows_of(connection, sql);
      if (!more) return {std::nullopt, connection.last_error()};
      lines = std::move(*more);
    }
    for (const auto& line : lines) parse_grant_line(line, report, nullptr, nullptr);
  }

  // The same grant is listed once per role that shows it; keep one of each.
  auto dedupe = [](std::vector<HeldPrivilege>& list) {
    std::set<std::pair<std::string, std::string>> seen;
    std::vector<HeldPrivilege> out;
    for (auto& p : list) {
      if (seen.insert({p.privilege, p.target}).second) out.push_back(std::move(p));
    }
    list = std::move(out);
  };
  dedupe(report.privileged);
  dedupe(report.writes);
  return {std::move(report), std::nullopt};
}

std::string refusal_message(const std::string& user, const PrivilegeReport& report) {
  std::string held;
  for (std::size_t i = 0; i < report.privileged.size() && i < 8; ++i) {
    held += (i == 0 ? "" : ", ") + report.privileged[i].describe();
  }
  if (report.privileged.size() > 8) {
    held += " and " + std::to_string(report.privileged.size() - 8) + " more";
  }
  return "login " + user + " can do more than read (" + held +
         "); the agent runs query and metadata jobs only on read-only logins (GRANT SELECT, "
         "SHOW VIEW). Use such a login, or opt in for this source with "
         "\"allow_privileged_login\": true in the agent's sources file or for all with "
         "--allow-privileged-logins";
}

}  // namespace outpost::connectors::mysql
