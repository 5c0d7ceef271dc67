#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "outpost/connector.hpp"
#include "outpost/errors.hpp"
#include "outpost/job.hpp"

namespace outpost::runtime {

/// A claimed job after defensive parsing. When `id` or `lease_token` could not
/// be read the job cannot even be answered (`answerable()` is false); every
/// other defect becomes `error` and the job is finished at once as failed.
struct ClaimedJob {
  std::string id;
  std::string lease_token;
  std::string type_name;  ///< as sent, for logs and metrics ("query", or garbage)
  int attempt = 1;
  std::string source_label;  ///< name, ref or id: for logs, metrics and --max-per-source
  std::optional<std::chrono::milliseconds> timeout;  ///< as asked by the control plane
  Job job;                                           ///< valid only when !error
  bool source_is_ref = false;                        ///< source given as {"ref": NAME}
  std::optional<JobError> error;
  /// The id or lease token is outside the safe charset or length: the job
  /// cannot be answered (its id would go into a request path, its token into
  /// a header). `id` then holds a printable, truncated form for the log.
  bool unsafe_fields = false;

  [[nodiscard]] bool answerable() const noexcept {
    return !unsafe_fields && !id.empty() && !lease_token.empty();
  }
};

/// `text` for a log line: printable ASCII only (others as `?`), at most 64
/// characters, then "…".
std::string printable_prefix(std::string_view text);

/// Parses one element of the claim response's `jobs` array. Never throws.
ClaimedJob parse_claimed_job(const nlohmann::json& raw);

/// What resolving a job's references gave.
struct ResolvedSecrets {
  std::optional<JobError> error;  ///< set: fail the job with it
  /// The resolved values and the forms a server may echo them in: redacted
  /// from this job's result rows and parts.
  std::vector<std::string> secrets;
};

/// What the runtime plugs in to turn a parsed job into a runnable one. The
/// hooks come from src/security; an empty hook means "feature off".
struct PrepareContext {
  const ConnectorRegistry* registry = nullptr;
  std::chrono::milliseconds agent_job_timeout{std::chrono::minutes(10)};
  /// Looks up a `{"ref": NAME}` source in the operator's sources file.
  std::function<std::optional<Source>(std::string_view)> find_local_source;
  bool sources_file_configured = false;
  /// --require-secret-refs: returns the key holding a literal secret, if any.
  std::function<std::optional<std::string>(const nlohmann::json&)> find_literal_secret;
  /// Resolves ${env:…}/${file:…} references in place within the operator's
  /// --secret-dirs / --secret-env; `operator_source` (a sources-file source)
  /// lets references stand in any key, otherwise only in credential
  /// positions. Reads files, so the runtime calls it on a worker thread
  /// (resolve_job_secrets), never in prepare_job.
  std::function<ResolvedSecrets(nlohmann::json&, bool operator_source)> resolve_secrets;
};

/// The connector that will run a prepared job.
struct PreparedJob {
  Connector* connector = nullptr;
  std::optional<JobError> error;  ///< set: fail the job at once with this
};

/// Resolves the source (local ref, secret policy), picks the connector,
/// checks the job type and params, and sets the effective timeout. Modifies
/// `claimed.job` in place. Never throws.
PreparedJob prepare_job(ClaimedJob& claimed, const PrepareContext& ctx);

/// Replaces the secret references of the job's source config (may block on
/// file reads: call it on a worker). `operator_source`: the source came from
/// the sources file (ClaimedJob::source_is_ref). Never throws.
ResolvedSecrets resolve_job_secrets(Job& job, const PrepareContext& ctx, bool operator_source);

}  // namespace outpost::runtime
