#include "runtime/job_prep.hpp"

#include <algorithm>
#include <limits>
#include <utility>

#include "outpost/policy.hpp"
#include "protocol/messages.hpp"

namespace outpost::runtime {
namespace {

using nlohmann::json;

JobError invalid(std::string message) {
  return JobError{ErrorCode::kInvalidJob, std::move(message), false};
}

std::optional<std::string> string_field(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

// A positive integer that fits in int64, or nullopt; `present` tells missing from bad.
std::optional<std::int64_t> positive_integer(const json& obj, const char* key, bool& present) {
  auto it = obj.find(key);
  present = it != obj.end() && !it->is_null();
  if (!present) return std::nullopt;
  if (it->is_number_unsigned()) {
    const auto v = it->get<std::uint64_t>();
    if (v == 0 || v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return std::nullopt;
    }
    return static_cast<std::int64_t>(v);
  }
  if (it->is_number_integer()) {
    const auto v = it->get<std::int64_t>();
    if (v <= 0) return std::nullopt;
    return v;
  }
  return std::nullopt;
}

std::optional<JobError> parse_source(const json& raw, ClaimedJob& out) {
  auto it = raw.find("source");
  if (it == raw.end() || !it->is_object())
    return invalid("field 'source' is missing or not an object");
  const json& src = *it;
  if (auto ref = src.find("ref"); ref != src.end()) {
    if (!ref->is_string() || ref->get<std::string>().empty()) {
      return invalid("field 'source.ref' must be a non-empty string");
    }
    out.source_is_ref = true;
    out.job.source.ref = ref->get<std::string>();
    out.job.source.name = out.job.source.ref;
    out.source_label = out.job.source.ref;
    return std::nullopt;
  }
  out.job.source.id = string_field(src, "id").value_or("");
  out.job.source.name = string_field(src, "name").value_or("");
  out.source_label = !out.job.source.name.empty() ? out.job.source.name : out.job.source.id;
  auto type = string_field(src, "type");
  if (!type || type->empty()) return invalid("field 'source.type' is missing or not a string");
  out.job.source.type = std::move(*type);
  auto cfg = src.find("config");
  if (cfg == src.end() || cfg->is_null()) {
    out.job.source.config = json::object();
  } else if (!cfg->is_object()) {
    return invalid("field 'source.config' must be an object");
  } else {
    out.job.source.config = *cfg;
  }
  return std::nullopt;
}

}  // namespace

std::string printable_prefix(std::string_view text) {
  constexpr std::size_t kShown = 64;
  std::string out;
  for (std::size_t i = 0; i < text.size() && i < kShown; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    out.push_back(c >= 0x20 && c < 0x7F ? static_cast<char>(c) : '?');
  }
  if (text.size() > kShown) out += "…";
  return out;
}

namespace {

// The job's identity: id, lease token and attempt. False (with out.error set)
// when the job cannot go further.
bool parse_identity(const json& raw, ClaimedJob& out) {
  out.id = string_field(raw, "id").value_or("");
  if (auto lease = raw.find("lease"); lease != raw.end() && lease->is_object()) {
    out.lease_token = string_field(*lease, "token").value_or("");
  }
  out.job.id = out.id;
  if (out.id.empty()) {
    out.error = invalid("field 'id' is missing or not a string");
    return false;
  }
  // The id becomes a path segment and the token a header value: anything
  // outside a safe charset cannot be answered at all (a result naming it
  // would be the injection), so the job is dropped, never posted to.
  if (!protocol::valid_job_id(out.id)) {
    out.unsafe_fields = true;
    out.id = printable_prefix(out.id);
    out.job.id = out.id;
    out.lease_token.clear();
    out.error = invalid("field 'id' holds characters or a length a job id may not have");
    return false;
  }
  if (out.lease_token.empty()) {
    out.error = invalid("field 'lease.token' is missing or not a string");
    return false;
  }
  if (!protocol::valid_lease_token(out.lease_token)) {
    out.unsafe_fields = true;
    out.lease_token.clear();
    out.error =
        invalid("field 'lease.token' holds characters or a length a lease token may not have");
    return false;
  }
  if (auto a = raw.find("attempt"); a != raw.end() && !a->is_null()) {
    if (!a->is_number_integer()) {
      out.error = invalid("field 'attempt' must be an integer");
      return false;
    }
    out.attempt = static_cast<int>(std::clamp<std::int64_t>(a->get<std::int64_t>(), 1, 1'000'000));
    out.job.attempt = out.attempt;
  }
  return true;
}

// What to run: the type, the source, the timeout and the typed params.
void parse_work(const json& raw, ClaimedJob& out) {
  auto type = string_field(raw, "type");
  out.type_name = type.value_or("");
  if (auto err = parse_source(raw, out)) {
    out.error = std::move(err);
    return;
  }
  if (!type) {
    out.error = invalid("field 'type' is missing or not a string");
    return;
  }
  auto parsed_type = parse_job_type(*type);
  if (!parsed_type) {
    out.error =
        JobError{ErrorCode::kUnsupported, "job type '" + *type + "' is not supported", false};
    return;
  }
  out.job.type = *parsed_type;
  bool present = false;
  if (auto t = positive_integer(raw, "timeout_ms", present)) {
    out.timeout = std::chrono::milliseconds(std::min<std::int64_t>(*t, 7LL * 24 * 3600 * 1000));
  } else if (present) {
    out.error = invalid("field 'timeout_ms' must be a positive integer");
    return;
  }
  // Parsed once, here: connectors get typed params and never re-read JSON.
  JobParams params;
  const auto p = raw.find("params");
  if (auto err = parse_job_params(out.job.type, p == raw.end() ? json(nullptr) : *p, params)) {
    out.error = std::move(err);
    return;
  }
  out.job.query = std::move(params.query);
  out.job.metadata = std::move(params.metadata);
  out.job.freshness = std::move(params.freshness);
  out.job.volume = std::move(params.volume);
  out.job.profile = std::move(params.profile);
  out.job.query_log = std::move(params.query_log);
}

}  // namespace

ClaimedJob parse_claimed_job(const json& raw) {
  ClaimedJob out;
  try {
    if (!raw.is_object()) {
      out.error = invalid("job is not a JSON object");
      return out;
    }
    if (parse_identity(raw, out)) parse_work(raw, out);
  } catch (const std::exception& e) {
    out.error = invalid(std::string("job could not be read: ") + e.what());
  }
  return out;
}

namespace {

// Replaces a {"ref": NAME} source by the operator's definition, or refuses a
// control-plane source that claims what only the operator may grant.
std::optional<JobError> settle_source(Source& src, bool is_ref, const PrepareContext& ctx) {
  if (is_ref) {
    if (!ctx.sources_file_configured || !ctx.find_local_source) {
      return invalid("source ref '" + src.ref +
                     "' cannot be used: the agent has no --sources-file");
    }
    auto local = ctx.find_local_source(src.ref);
    if (!local) {
      return invalid("source ref '" + src.ref + "' is not defined in the agent's sources file");
    }
    const std::string ref = src.ref;
    src = std::move(*local);
    src.ref = ref;
    if (src.name.empty()) src.name = ref;
  } else if (src.config.contains(kAllowPrivilegedLoginKey)) {
    // Only the operator may widen what a login may do: a control plane that
    // could opt in for itself would make the privilege gate pointless.
    return invalid(std::string("source config field '") + kAllowPrivilegedLoginKey +
                   "' is only honoured in the agent's sources file");
  } else if (ctx.find_literal_secret) {
    if (auto key = ctx.find_literal_secret(src.config)) {
      return invalid("source config field '" + *key +
                     "' holds a literal secret; --require-secret-refs demands a "
                     "${env:…}/${file:…} reference or a local source ref");
    }
  }
  return std::nullopt;
}

}  // namespace

PreparedJob prepare_job(ClaimedJob& claimed, const PrepareContext& ctx) {
  PreparedJob out;
  if (claimed.error) {
    out.error = claimed.error;
    return out;
  }
  try {
    claimed.job.timeout =
        claimed.timeout ? std::min(*claimed.timeout, ctx.agent_job_timeout) : ctx.agent_job_timeout;
    Source& src = claimed.job.source;
    if (auto err = settle_source(src, claimed.source_is_ref, ctx)) {
      out.error = std::move(err);
      return out;
    }
    Connector* connector = ctx.registry ? ctx.registry->find(src.type) : nullptr;
    if (connector == nullptr) {
      out.error = JobError{ErrorCode::kUnsupported,
                           "no connector for source type '" + src.type + "' in this agent", false};
      return out;
    }
    const auto types = connector->job_types();
    if (std::find(types.begin(), types.end(), claimed.job.type) == types.end()) {
      out.error = JobError{ErrorCode::kUnsupported,
                           "connector '" + src.type + "' does not support job type '" +
                               std::string(to_string(claimed.job.type)) + "'",
                           false};
      return out;
    }
    out.connector = connector;
  } catch (const std::exception& e) {
    out.error =
        JobError{ErrorCode::kInternal, std::string("job preparation failed: ") + e.what(), false};
  }
  return out;
}

ResolvedSecrets resolve_job_secrets(Job& job, const PrepareContext& ctx, bool operator_source) {
  if (!ctx.resolve_secrets) return {};
  try {
    return ctx.resolve_secrets(job.source.config, operator_source);
  } catch (const std::exception& e) {
    return {JobError{ErrorCode::kSecretUnresolved, std::string("secret references: ") + e.what(),
                     false},
            {}};
  }
}

}  // namespace outpost::runtime
