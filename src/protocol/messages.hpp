#pragma once

// Agent protocol v1 as the agent sees it: the requests it writes and the
// answers it reads. The other direction (what a control plane reads and
// writes) is in protocol/agent_requests.hpp.

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "outpost/errors.hpp"

namespace outpost::protocol {

/// A response body that is not protocol v1 (not JSON, a required field
/// missing, a field of the wrong type). The message names the call and field.
class ProtocolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// One connector as advertised at connect.
struct ConnectorInfo {
  std::string type;
  std::vector<std::string> job_types;
};

/// §3 request.
struct ConnectRequest {
  std::string instance_id;
  std::string version;
  std::string hostname;
  int capacity = 1;
  std::vector<ConnectorInfo> connectors;
};

/// §3 response, with the protocol's defaults for the optional fields.
struct Session {
  std::string agent_id;
  std::string agent_name;
  /// The name of the agent's pool when the control plane routes by pool
  /// (outpost-hub sends it; nothing to configure on the agent). Empty if absent.
  std::string pool;
  std::chrono::milliseconds poll_wait{20'000};
  std::chrono::milliseconds heartbeat_interval{10'000};
  std::chrono::milliseconds lease_ttl{30'000};
  bool accepts_gzip = false;
  std::uint64_t max_part_bytes = 4 * 1024 * 1024;
};

/// §4.
struct ClaimRequest {
  std::string instance_id;
  int capacity = 1;
  std::chrono::milliseconds wait{20'000};
};
/// The jobs stay raw JSON: each is validated on its own (runtime/job_prep) so
/// one malformed job is failed as `invalid_job` without losing the others.
struct ClaimResponse {
  std::vector<nlohmann::json> jobs;
};

/// §5.
struct Lease {
  std::string token;
  std::string expires_at;  ///< RFC 3339 as sent; informational only
};
struct JobHeartbeatRequest {
  std::string lease_token;
  std::optional<std::uint64_t> rows;  ///< progress
};
struct JobHeartbeatResponse {
  Lease lease;
  bool cancel_requested = false;
};

/// §6.
struct ResultRequest {
  std::string lease_token;
  bool succeeded = true;
  std::string started_at;
  std::string finished_at;
  nlohmann::json result = nlohmann::json::object();  ///< when succeeded
  std::optional<JobError> error;                     ///< when failed
  std::uint64_t parts = 0;
};

/// §8.
struct ReleaseRequest {
  std::string lease_token;
  std::string reason = "shutdown";
};

/// §9.
struct AgentHeartbeatRequest {
  std::string instance_id;
  int running = 0;
  int capacity = 0;
  std::int64_t uptime_ms = 0;
  std::string version;
};

/// `{"error": {"code", "message"}}` of a non-2xx answer, when present.
struct ErrorBody {
  std::string code;
  std::string message;
};

nlohmann::json to_json(const ConnectRequest& request);
nlohmann::json to_json(const ClaimRequest& request);
nlohmann::json to_json(const JobHeartbeatRequest& request);
nlohmann::json to_json(const ResultRequest& request);
nlohmann::json to_json(const ReleaseRequest& request);
nlohmann::json to_json(const AgentHeartbeatRequest& request);

/// A JSON body as sent: compact, with bytes that are not UTF-8 (a driver's
/// error message in Latin-1, say) replaced by U+FFFD instead of throwing.
std::string to_body(const nlohmann::json& value);

/// Parsers: unknown fields are ignored; throw ProtocolError otherwise.
Session parse_session(std::string_view body);
ClaimResponse parse_claim_response(std::string_view body);
JobHeartbeatResponse parse_job_heartbeat_response(std::string_view body);
/// Never throws: nullopt when the body carries no error object.
std::optional<ErrorBody> parse_error_body(std::string_view body) noexcept;

/// Percent-encodes one path segment: everything but [A-Za-z0-9_~-] and '.'
/// is %XX, and a segment of dots only ("." or "..") is encoded whole, so no
/// value can become a slash or a dot-segment in the request path.
std::string encode_path_segment(std::string_view segment);

/// Longest job id and lease token the agent answers to.
inline constexpr std::size_t kMaxJobIdLength = 200;
inline constexpr std::size_t kMaxLeaseTokenLength = 512;

/// A job id the agent may put into a request path: 1 to kMaxJobIdLength
/// characters of [A-Za-z0-9._~:-], and not "." or "..".
bool valid_job_id(std::string_view id) noexcept;

/// A lease token the agent may send in a header: 1 to kMaxLeaseTokenLength
/// characters of [A-Za-z0-9._~:+/=-] (base64 and base64url fit).
bool valid_lease_token(std::string_view token) noexcept;

/// Deepest nesting of arrays and objects accepted in any control-plane answer.
inline constexpr int kMaxJsonDepth = 64;

/// True when `body` nests arrays/objects deeper than `max_depth` (a linear
/// pre-scan outside strings; the body need not be valid JSON). Every parser
/// below refuses such a body before nlohmann sees it, so a hostile answer
/// cannot exhaust the stack in a recursive copy, dump or destructor.
bool nests_deeper_than(std::string_view body, int max_depth) noexcept;

/// Current UTC time as RFC 3339 with milliseconds ("2026-11-22T10:00:00.123Z").
std::string now_rfc3339();

}  // namespace outpost::protocol
