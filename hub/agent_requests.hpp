#pragma once

// Parsing of agent-protocol-v1 request bodies into plain structs. All of the
// hub's knowledge of the agent protocol's request shapes is here, so it can
// move into a protocol library shared with the agent.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "store/records.hpp"
#include "util.hpp"

namespace outpost::hub {

/// POST /agent/connect.
struct ConnectRequest {
  std::string instance_id;
  std::string version;
  std::string hostname;
  std::int64_t capacity = 0;
  Json connectors = Json::array();
};

/// POST /agent/jobs/claim.
struct ClaimParams {
  std::string instance_id;
  int capacity = 1;
  std::optional<std::int64_t> wait_ms;
};

/// POST /agent/jobs/{id}/heartbeat.
struct JobHeartbeatRequest {
  std::string lease_token;
  std::optional<Json> progress;
};

/// POST /agent/jobs/{id}/result.
struct ResultRequest {
  std::string lease_token;
  JobStatus status = JobStatus::kSucceeded;
  std::optional<Json> result;
  std::optional<Json> error;
  std::uint64_t parts = 0;
  std::optional<SystemTime> started_at;   ///< when given in RFC 3339
  std::optional<SystemTime> finished_at;  ///< when given in RFC 3339
};

/// POST /agent/jobs/{id}/release.
struct ReleaseRequest {
  std::string lease_token;
  std::string reason;
};

/// POST /agent/heartbeat.
struct AgentHeartbeatRequest {
  std::string instance_id;
  std::optional<std::int64_t> running;
  std::optional<std::int64_t> capacity;
  std::optional<std::int64_t> uptime_ms;
  std::optional<std::string> version;
};

// Each throws BadRequest naming the field that is missing or malformed.
// `header_instance` is the X-Outpost-Instance header (used when the body has
// no instance_id).
ConnectRequest parse_connect(std::string_view text, std::string_view header_instance);
ClaimParams parse_claim(std::string_view text, std::string_view header_instance);
JobHeartbeatRequest parse_job_heartbeat(std::string_view text);
ResultRequest parse_result(std::string_view text);
ReleaseRequest parse_release(std::string_view text);
AgentHeartbeatRequest parse_agent_heartbeat(std::string_view text,
                                            std::string_view header_instance);
/// The part number of PUT /agent/jobs/{id}/parts/{seq}.
std::uint64_t parse_part_seq(std::string_view text);

/// Validates a part's NDJSON (every non-blank line one JSON value in valid
/// UTF-8) and returns it normalised: CR and blank lines dropped, every line
/// ending in '\n'. Throws BadRequest naming the first bad line.
std::string normalise_part(std::string_view ndjson, std::uint64_t seq);

}  // namespace outpost::hub
