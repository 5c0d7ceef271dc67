// Fuzzes the claim (long-poll) response path with the agent's real parsers:
// the body goes through protocol::parse_claim_response, every element of
// `jobs` through runtime::parse_claimed_job and prepare_job, as the claim loop
// does. The input is also read as one bare job. Any body must parse or fail
// with ProtocolError; any job must come out valid or carry an invalid_job /
// unsupported error, never crash or throw; a valid job must be runnable.
// Seeds carry more jobs than any capacity and duplicate ids: each element is
// parsed on its own, as the claim loop does before it skips a duplicate id
// (that skip, and the running-job table, are claim-loop state not fuzzed here).
// Issue 14: a body nesting arrays/objects deeper than kMaxJsonDepth (64) must
// be refused as ProtocolError (never a crash, whatever the depth), and an
// answerable job's id and lease token must be safe in a path and a header.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "outpost/connector.hpp"
#include "protocol/messages.hpp"
#include "runtime/job_prep.hpp"
#include "security/secret_policy.hpp"

namespace {

using nlohmann::json;
using outpost::ErrorCode;
using outpost::JobType;

constexpr auto kAgentTimeout = std::chrono::minutes(10);
constexpr auto kMaxJobTimeout = std::chrono::hours(24 * 7);

class FakeConnector final : public outpost::Connector {
 public:
  FakeConnector(std::string type, std::vector<JobType> types)
      : type_(std::move(type)), types_(std::move(types)) {}
  std::string_view type() const noexcept override { return type_; }
  std::vector<JobType> job_types() const override { return types_; }
  outpost::JobResult run(outpost::JobContext&) override { std::abort(); }  // never run here

 private:
  std::string type_;
  std::vector<JobType> types_;
};

/// How the agent was started: a registry like a real build's (one connector
/// with every job type and an alias, one that only tests connections), with
/// no sources file, with a one-entry sources file, or with that and
/// --require-secret-refs.
enum class Setup { kPlain, kSourcesFile, kRequireSecretRefs };

const outpost::runtime::PrepareContext& context(Setup setup) {
  static outpost::ConnectorRegistry registry = [] {
    outpost::ConnectorRegistry r;
    r.add(std::make_shared<FakeConnector>(
              "postgres",
              std::vector<JobType>{JobType::kTestConnection, JobType::kMetadata, JobType::kQuery}),
          {"postgresql"});
    r.add(std::make_shared<FakeConnector>("odbc", std::vector<JobType>{JobType::kTestConnection}));
    return r;
  }();
  static outpost::runtime::PrepareContext plain = [] {
    outpost::runtime::PrepareContext c;
    c.registry = &registry;
    c.agent_job_timeout = kAgentTimeout;
    return c;
  }();
  static outpost::runtime::PrepareContext with_sources = [] {
    outpost::runtime::PrepareContext c = plain;
    c.sources_file_configured = true;
    c.find_local_source = [](std::string_view name) -> std::optional<outpost::Source> {
      if (name != "warehouse") return std::nullopt;
      outpost::Source s;
      s.type = "postgres";
      s.config = json{{"host", "db.internal"}, {"password", "${env:PGPASSWORD}"}};
      return s;
    };
    return c;
  }();
  static outpost::runtime::PrepareContext strict = [] {
    outpost::runtime::PrepareContext c = with_sources;
    c.find_literal_secret = [](const json& config) {
      return outpost::security::find_literal_secret(config);
    };
    return c;
  }();
  switch (setup) {
    case Setup::kPlain: return plain;
    case Setup::kSourcesFile: return with_sources;
    case Setup::kRequireSecretRefs: return strict;
  }
  std::abort();
}

bool is_job_error(const std::optional<outpost::JobError>& error) {
  return error &&
         (error->code == ErrorCode::kInvalidJob || error->code == ErrorCode::kUnsupported) &&
         !error->message.empty() && !error->retryable;
}

/// prepare_job keeps a parse error as it is; otherwise it picks a connector
/// that serves the job type, or fails with invalid_job / unsupported.
void check_prepared(const outpost::runtime::ClaimedJob& claimed,
                    const outpost::runtime::PreparedJob& prepared,
                    const std::optional<outpost::JobError>& before) {
  if (before) {
    if (!prepared.error || prepared.error->message != before->message) std::abort();
    return;
  }
  if (prepared.error) {
    // kInternal here would mean an exception escaped the validation above.
    if (!is_job_error(prepared.error) || prepared.connector != nullptr) std::abort();
    return;
  }
  if (prepared.connector == nullptr) std::abort();
  if (claimed.job.timeout.count() <= 0 || claimed.job.timeout > kAgentTimeout) std::abort();
  if (claimed.job.source.type.empty()) std::abort();
  const auto types = prepared.connector->job_types();
  bool supported = false;
  for (JobType t : types) supported = supported || t == claimed.job.type;
  if (!supported) std::abort();
}

// Depth of nested arrays/objects (iterative: the input may be deep).
int depth_of(const json& root) {
  int deepest = 0;
  std::vector<std::pair<const json*, int>> stack{{&root, 1}};
  while (!stack.empty()) {
    const auto [node, depth] = stack.back();
    stack.pop_back();
    if (!node->is_structured()) continue;
    deepest = std::max(deepest, depth);
    for (const auto& child : *node) stack.emplace_back(&child, depth + 1);
  }
  return deepest;
}

void check_job(const json& raw) {
  auto claimed = outpost::runtime::parse_claimed_job(raw);
  if (claimed.job.id != claimed.id) std::abort();
  // An answerable job's id and token are safe in a request path and header.
  if (claimed.answerable() && (!outpost::protocol::valid_job_id(claimed.id) ||
                               !outpost::protocol::valid_lease_token(claimed.lease_token))) {
    std::abort();
  }
  if (claimed.unsafe_fields) {
    // Dropped, and the id kept for the log is printable and short — or a
    // valid job id as sent (the lease token was the unsafe field).
    if (claimed.answerable() || !claimed.error) std::abort();
    if (claimed.id.size() > 64 + 3 && !outpost::protocol::valid_job_id(claimed.id)) std::abort();
    for (const char c : claimed.id) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) std::abort();
    }
    return;
  }
  // The id and lease token answer the job (and tell duplicates apart): they
  // are exactly the strings sent, or empty.
  if (raw.is_object()) {
    const auto id = raw.find("id");
    if (id != raw.end() && id->is_string() && claimed.id != id->get<std::string>()) std::abort();
    const auto lease = raw.find("lease");
    if (!claimed.lease_token.empty() &&
        (lease == raw.end() || !lease->is_object() || !lease->contains("token") ||
         (*lease)["token"] != claimed.lease_token)) {
      std::abort();
    }
  }
  if (claimed.error) {
    if (!is_job_error(claimed.error)) std::abort();
    if (!raw.is_object() && claimed.answerable()) std::abort();
  } else {
    // Parsed: answerable, typed, with a source the runtime can resolve.
    if (!claimed.answerable()) std::abort();
    if (claimed.type_name != outpost::to_string(claimed.job.type)) std::abort();
    if (claimed.attempt < 1 || claimed.attempt > 1'000'000) std::abort();
    if (claimed.timeout && (claimed.timeout->count() <= 0 || *claimed.timeout > kMaxJobTimeout)) {
      std::abort();
    }
    if (claimed.source_is_ref) {
      if (claimed.job.source.ref.empty()) std::abort();
    } else if (claimed.job.source.type.empty() || !claimed.job.source.config.is_object()) {
      std::abort();
    }
    if (claimed.job.type == JobType::kQuery) {
      // Typed params (parse_job_params): a query job always carries SQL
      // with something in it, and a positive row cap when it has one.
      const auto& q = claimed.job.query;
      if (q.sql.find_first_not_of(" \t\r\n") == std::string::npos) std::abort();
      if (q.max_rows && *q.max_rows == 0) std::abort();
    }
  }
  // Each way the agent may have been started.
  for (const Setup setup : {Setup::kPlain, Setup::kSourcesFile, Setup::kRequireSecretRefs}) {
    auto copy = claimed;
    const auto prepared = outpost::runtime::prepare_job(copy, context(setup));
    check_prepared(copy, prepared, claimed.error);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  std::optional<outpost::protocol::ClaimResponse> response;
  const bool too_deep =
      outpost::protocol::nests_deeper_than(body, outpost::protocol::kMaxJsonDepth);
  try {
    response = outpost::protocol::parse_claim_response(body);
  } catch (const outpost::protocol::ProtocolError& e) {
    if (std::string_view(e.what()).find("claim response") == std::string_view::npos) std::abort();
  }  // any other exception escapes and libFuzzer reports it as a crash
  // The depth bound: a body nesting deeper than 64 levels is refused whole,
  // and nothing parsed from an accepted one is deeper.
  if (too_deep && response) std::abort();
  if (response) {
    for (const auto& raw : response->jobs) {
      if (depth_of(raw) > outpost::protocol::kMaxJsonDepth - 2) std::abort();
    }
    // Every element is checked on its own, whatever the others hold (the
    // claim loop fails a bad job without losing its neighbours).
    for (const auto& raw : response->jobs) {
      if (raw.is_discarded()) std::abort();
      check_job(raw);
    }
  }
  // The same bytes as one job object (e.g. a `jobs` element on its own),
  // within the same depth bound the agent applies to every answer.
  if (too_deep) return 0;
  const json doc = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (!doc.is_discarded()) check_job(doc);
  return 0;
}
