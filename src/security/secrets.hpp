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

// What a job may not read, whatever it asks (a compromised control plane
// could otherwise have the agent send its own credentials to a database
// host as a "password"):
//  - `${env:AGENT_*}`: the agent's own options, the access token among them;
//  - files on /proc and /sys (/proc/self/environ holds the environment);
//  - files registered with add_protected_secret_file() (the token file, the
//    TLS client key), compared by identity (device and inode), so another
//    path or a link to them is refused too.
// Such a reference fails as secret_unresolved like a missing one.

/// Registers a file that references may never read. Call at start for
/// --token-file and --client-key (thread safe; the path is stat()ed again on
/// every check, so a rotated Kubernetes Secret stays protected).
void add_protected_secret_file(std::string path);

/// The outcome of resolving a config: the config with every reference
/// replaced, or an error (code secret_unresolved) whose message names the key
/// path and the reference, never a value.
struct SecretResult {
  nlohmann::json config;
  std::optional<outpost::JobError> error;
};

/// Resolves every reference in `config` from this process's environment and
/// files, and registers each resolved non-empty value with the log redactor
/// (obs::add_secret) before returning, so it can never appear in a log line or
/// a job error. Thread safe as long as nobody calls setenv() concurrently.
SecretResult resolve_secret_refs(const nlohmann::json& config);

/// Syntax check only (no environment or file access): nullopt when every
/// string in `config` is well formed, else a message naming the key path and
/// the malformed reference. Used when the sources file is loaded, so a typo
/// fails at start and not at the first job.
std::optional<std::string> check_secret_ref_syntax(const nlohmann::json& config);

/// True when `value` consists of secret references only (at least one, and no
/// literal text around them): what --require-secret-refs accepts for a secret.
bool is_only_secret_refs(std::string_view value);

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
};

/// The lookups resolve_secret_refs() uses: getenv() and a bounded read of a
/// regular file (FIFOs, devices and directories are refused, never blocked on).
SecretLookups process_lookups();

/// resolve_secret_refs() without the redactor: also returns the resolved
/// values (non-empty ones, deduplicated) so the caller can register them.
struct ExpandResult {
  nlohmann::json config;
  std::optional<outpost::JobError> error;
  std::vector<std::string> secrets;
};
ExpandResult expand_secret_refs(const nlohmann::json& config, const SecretLookups& lookups);

}  // namespace outpost::security
