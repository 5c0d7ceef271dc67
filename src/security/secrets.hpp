#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "outpost/errors.hpp"

namespace outpost::security {

// Secret references (protocol v1 §4) let `source.config` name a credential
// instead of carrying it, so the secret never leaves the private network.
//
// Syntax, inside any JSON string value of the config (keys are never touched,
// numbers and booleans neither):
//   `${env:NAME}`   the environment variable NAME ([A-Za-z_][A-Za-z0-9_]*);
//                   set-but-empty resolves to "".
//   `${file:/path}` the contents of the regular file at the absolute path,
//                   with surrounding white space trimmed (at most 1 MiB).
// A reference may stand alone ("${env:PGPASS}") or be embedded in a longer
// string ("postgres://u:${env:P}@h/db"); several per string are fine.
// `$${` is the escape for a literal `${` (it yields `${` and starts no
// reference). Any other `${...}` (unknown scheme) is left as literal text, so
// a literal password such as "a${b}" keeps working; but `${env:` or `${file:`
// without a closing `}` or with an invalid name is an error, never literal.

// Where references may read (SecretScope, from the operator's options):
//  - `${file:…}` only under --secret-dirs, matched on the canonical path
//    (links and /proc/self/root resolved), opened with O_NOFOLLOW and checked
//    again after the open, so a link swapped in between cannot escape; never
//    files on /proc or /sys, nor a file registered with
//    add_protected_secret_file() (the token file, the TLS client key, the
//    sources file, the audit log), compared by identity (device and inode),
//    so another path or a hard link to them is refused too;
//  - `${env:…}` only for names --secret-env lists (an entry ending in `*` is
//    a prefix), and never AGENT_* (the agent's own options, the token among
//    them) nor the proxy variables (HTTPS_PROXY & co. hold proxy passwords),
//    in any case, even when listed.
// Such a reference fails as secret_unresolved like a missing one.
//
// Where references may stand: in a config the control plane sent (inline),
// only where a server never echoes the value back: under a secret-bearing key
// (is_secret_key(): password, sslpassword, passphrases, …) or in the
// credential part of a connection string held by any other key (the password
// of a URI's user info, `password=`/`sslpassword=` of a libpq conninfo or a
// URI query, `PWD=`/`Password=` of an ODBC string). Anywhere else
// (application_name, options, host, user, …) a server may reflect it into a
// result row, so the job fails as invalid_job naming the key. A source from
// the operator's sources file may use references in any key.

/// The operator's limits on references (AgentConfig::secret_dirs / secret_env).
struct SecretScope {
  std::vector<std::string> dirs;  ///< canonical absolute directories (see canonical_secret_dirs)
  std::vector<std::string> env;   ///< names, or prefixes written `PREFIX*`
  /// True for a source from the operator's sources file: references may stand
  /// in any key. False for inline configs: credential positions only.
  bool operator_source = false;
};

/// Registers a file that references may never read. Call at start for
/// --token-file, --client-key, --sources-file and --audit-log (thread safe;
/// the path is stat()ed again on every check, so a rotated Kubernetes Secret
/// stays protected).
void add_protected_secret_file(std::string path);

/// --secret-dirs made canonical (realpath); entries that do not exist are
/// left out (and named in `missing`, for a start-up line).
std::vector<std::string> canonical_secret_dirs(const std::vector<std::string>& dirs,
                                               std::vector<std::string>* missing = nullptr);

/// True for variable names no reference may ever read, listed or not:
/// AGENT_*, and HTTP_PROXY / HTTPS_PROXY / ALL_PROXY / NO_PROXY in any case.
bool env_never_given(std::string_view name);

/// The --secret-env entries that name or cover a variable env_never_given()
/// refuses (e.g. "AGENT_*", "https_proxy", "*"): logged at start, since those
/// names stay refused whatever the list says.
std::vector<std::string> refused_secret_env_entries(const std::vector<std::string>& entries);

/// Whether --secret-env `entries` let `${env:name}` be read.
bool env_listed(std::string_view name, const std::vector<std::string>& entries);

/// The outcome of resolving a config: the config with every reference
/// replaced, or an error whose message names the key path and the reference,
/// never a value (secret_unresolved; invalid_job for a reference where an
/// inline config may not have one).
struct SecretResult {
  nlohmann::json config;
  std::optional<outpost::JobError> error;
  /// Every form of every resolved value a server might echo back
  /// (obs::secret_variants), for redacting this job's result rows.
  std::vector<std::string> secrets;
};

/// Resolves every reference in `config` within `scope`, and registers each
/// resolved non-empty value, with the prefixes servers truncate it to, with
/// the log redactor (obs::add_secret) before returning, so it can never
/// appear in a log line or a job error. Thread safe as long as nobody calls
/// setenv() concurrently.
SecretResult resolve_secret_refs(const nlohmann::json& config, const SecretScope& scope);

/// Syntax check only (no environment or file access): nullopt when every
/// string in `config` is well formed, else a message naming the key path and
/// the malformed reference. Used when the sources file is loaded, so a typo
/// fails at start and not at the first job.
std::optional<std::string> check_secret_ref_syntax(const nlohmann::json& config);

/// True when `value` consists of secret references only (at least one, and no
/// literal text around them): what --require-secret-refs accepts for a secret.
bool is_only_secret_refs(std::string_view value);

/// True when every reference in `text` stands in the credential part of a
/// connection string (see above), as libpq (conninfo, postgres:// URI), a
/// generic scheme:// URI or an ODBC string reads it; false when any other
/// reference stands elsewhere, or the string is none of those. No I/O.
bool refs_only_in_credentials(std::string_view text);

// --- Lower level: the resolver with injectable lookups (unit tests) ---------

/// The result of reading a referenced file: its contents, or a reason
/// (e.g. "No such file or directory") when it cannot be used.
struct FileLookup {
  std::optional<std::string> contents;
  std::string reason;
};

/// Where references are looked up.
struct SecretLookups {
  /// nullopt when the variable is not set.
  std::function<std::optional<std::string>(const std::string& name)> env;
  /// Untrimmed contents of the file at an absolute path.
  std::function<FileLookup(const std::string& path)> file;
  /// Whether --secret-env lists the name (unset: every name but those
  /// env_never_given() refuses), checked before `env` for a clear message.
  std::function<bool(const std::string& name)> env_allowed;
};

/// The lookups resolve_secret_refs() uses: getenv() for names `scope` lists,
/// and a bounded read of a regular file under `scope.dirs` (FIFOs, devices
/// and directories are refused, never blocked on). The scope is copied.
SecretLookups process_lookups(const SecretScope& scope);

/// How expand_secret_refs() treats where a reference stands.
struct ExpandOptions {
  /// Inline configs: references only under secret keys or in credential
  /// positions of connection strings; elsewhere the job fails as invalid_job.
  bool credential_positions_only = false;
};

/// resolve_secret_refs() without the redactor: also returns the resolved
/// values (non-empty ones, deduplicated, as resolved: not their variants) so
/// the caller can register them.
struct ExpandResult {
  nlohmann::json config;
  std::optional<outpost::JobError> error;
  std::vector<std::string> secrets;
};
ExpandResult expand_secret_refs(const nlohmann::json& config, const SecretLookups& lookups,
                                ExpandOptions options = {});

}  // namespace outpost::security
