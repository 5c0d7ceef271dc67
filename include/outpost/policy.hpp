#pragma once

#include <string>
#include <vector>

#include "outpost/job.hpp"

namespace outpost {

/// What the operator allows connectors beyond reading, from the agent's own
/// command line (never from the control plane). The defaults are the safe
/// ones; every opt-in is logged at start-up (docs/security.md).
///
/// Thread safety: immutable after start-up; read from any worker thread.
struct OperatorPolicy {
  /// --allow-privileged-logins: run `query` and `metadata` jobs on sessions
  /// whose login can do more than read (superuser, server-file or program
  /// roles, FILE/SUPER/SHUTDOWN grants, write privileges, …). Off: such jobs
  /// fail with `permission_denied` naming the privilege. A source in the
  /// operator's sources file may opt in alone with
  /// `"allow_privileged_login": true` (see privileged_login_allowed()).
  bool allow_privileged_logins = false;

  /// --sqlite-dirs: absolute, canonical directories under which SQLite
  /// database files may be opened. Empty: no SQLite file may be opened.
  std::vector<std::string> sqlite_dirs;
};

/// The policy a JobContext carries when nobody set one: every default above.
const OperatorPolicy& default_operator_policy() noexcept;

/// Whether jobs on `source` may run on a privileged login: the operator flag,
/// or `"allow_privileged_login": true` in a source of the operator's sources
/// file (`source.ref` set). An inline source from the control plane can never
/// opt in: the runtime refuses that key as `invalid_job` before connectors run.
bool privileged_login_allowed(const OperatorPolicy& policy, const Source& source);

/// The source config key of that per-source opt-in.
inline constexpr const char* kAllowPrivilegedLoginKey = "allow_privileged_login";

}  // namespace outpost
