#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "outpost/errors.hpp"

namespace outpost::connectors::mysql {

class Connection;

/// One privilege a login holds, as SHOW GRANTS names it.
struct HeldPrivilege {
  std::string privilege;  ///< e.g. "FILE", "INSERT", "ALL PRIVILEGES", "GRANT OPTION"
  std::string target;     ///< e.g. "*.*", "`shop`.*", "`shop`.`t`", "PROCEDURE `shop`.`p`"
  std::string via_role;   ///< the role that grants it; empty when granted to the login
  [[nodiscard]] std::string describe() const;
};

/// What a login may do beyond reading: every privilege outside the read-only
/// allow-list (USAGE, SELECT, SHOW VIEW, SHOW DATABASES, SHOW_ROUTINE, SHOW
/// CREATE ROUTINE), at any level, granted directly or through any role the
/// login can activate. An allow-list, so privileges added by new server
/// versions (MariaDB's split SUPER, MySQL 8's dynamic ones) count too.
struct PrivilegeReport {
  std::vector<HeldPrivilege> privileged;  ///< everything beyond reading (the gate refuses)
  std::vector<HeldPrivilege> writes;      ///< the subset that changes data or schema
  std::vector<std::string> roles;         ///< roles granted to the login

  [[nodiscard]] bool refused() const noexcept { return !privileged.empty(); }
};

/// The privileges named by one SHOW GRANTS line, granted to `grantee` (the
/// login or a role). Role grants ("GRANT `r` TO …") add to `roles` instead.
/// Exposed for unit tests.
void parse_grant_line(std::string_view line, PrivilegeReport& report,
                      std::vector<std::string>* roles_out, std::string* grantee_out);

/// Reads the login's privileges with SHOW GRANTS, and those of every role
/// granted to it (MariaDB: SET ROLE each one, then back to the original;
/// MySQL: SHOW GRANTS … USING). An error when they cannot be read: the gate
/// then refuses (fails closed).
struct PrivilegeOutcome {
  std::optional<PrivilegeReport> report;
  std::optional<JobError> error;
};
PrivilegeOutcome read_privileges(Connection& connection);

/// The permission_denied message that names what the login holds.
std::string refusal_message(const std::string& user, const PrivilegeReport& report);

}  // namespace outpost::connectors::mysql
