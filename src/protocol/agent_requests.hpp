#pragma once

// Agent protocol v1 as a control plane sees it: the agent's request bodies
// read into the same types the agent writes them from (protocol/messages.hpp),
// and the answers written from the types the agent reads them into. Both
// sides agree by construction; the round trips are unit-tested.
//
// Readers follow the contract's leniency: unknown fields are ignored, a
// missing optional field takes its default; a present field of the wrong
// type or range, or a missing required one, throws RequestError naming it.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "protocol/messages.hpp"

namespace outpost::protocol {

/// A request body that does not follow the protocol. `code()` is the
/// snake_case error code for the 400 answer (`invalid_json`,
/// `missing_field`, `invalid_field`); what() says which field and why.
class RequestError : public std::runtime_error {
 public:
  RequestError(std::string code, const std::string& message)
      : std::runtime_error(message), code_(std::move(code)) {}
  [[nodiscard]] const std::string& code() const noexcept { return code_; }

 private:
  std::string code_;
};

/// Largest `capacity`, `running` and `parts` a control plane accepts.
inline constexpr std::int64_t kMaxCapacity = 100'000;
inline constexpr std::int64_t kMaxParts = 10'000'000;

/// §3 `POST /v1/agent/connect`. `instance_id` may be empty (the
/// X-Outpost-Instance header then names the instance).
ConnectRequest parse_connect_request(std::string_view body);
/// §4 `POST /v1/agent/jobs/claim`: `capacity` ≥ 1 is required; `wait`
/// is nullopt when `wait_ms` is absent (the control plane's default applies).
struct ClaimCall {
  std::string instance_id;
  int capacity = 1;
  std::optional<std::chrono::milliseconds> wait;
};
ClaimCall parse_claim_request(std::string_view body);
/// §5 `POST /v1/agent/jobs/{id}/heartbeat`: `lease_token` required.
JobHeartbeatRequest parse_job_heartbeat_request(std::string_view body);
/// §6 `POST /v1/agent/jobs/{id}/result`: `lease_token` and `status`
/// ("succeeded" or "failed") required; a failure without an error object
/// gets `internal`.
ResultRequest parse_result_request(std::string_view body);
/// §8 `POST /v1/agent/jobs/{id}/release`: `lease_token` required.
ReleaseRequest parse_release_request(std::string_view body);
/// §9 `POST /v1/agent/heartbeat`: every field optional.
AgentHeartbeatRequest parse_agent_heartbeat_request(std::string_view body);
/// §6 `PUT /v1/agent/jobs/{id}/parts/{seq}`: the decimal `seq` of the path.
std::uint64_t parse_part_seq(std::string_view segment);

/// The answers, as the agent's parsers read them.
nlohmann::json to_json(const Session& session);
nlohmann::json to_json(const JobHeartbeatResponse& response);
/// `{"jobs": [...]}`; each job is sent as given.
nlohmann::json to_json(const ClaimResponse& response);
/// `{"error": {"code", "message"}}` for a non-2xx answer.
nlohmann::json to_json(const ErrorBody& error);

}  // namespace outpost::protocol
