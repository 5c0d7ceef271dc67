#include "agent_requests.hpp"

#include <charconv>
#include <climits>

#include "json_check.hpp"

namespace outpost::hub {

namespace {

std::string instance_of(const Json& body, std::string_view header_instance) {
  auto id = opt_string(body, "instance_id").value_or(std::string(header_instance));
  if (id.empty()) {
    throw BadRequest{"missing_field", "instance_id is required (body or X-Outpost-Instance)"};
  }
  return id;
}

std::optional<SystemTime> opt_time(const Json& body, const char* key) {
  // A malformed time is ignored rather than refused: the hub's own time is
  // used instead, and an agent is never stuck retrying a result over it.
  if (auto text = opt_string(body, key)) return parse_rfc3339(*text);
  return std::nullopt;
}

}  // namespace

ConnectRequest parse_connect(std::string_view text, std::string_view header_instance) {
  const Json body = parse_object(text);
  ConnectRequest r;
  r.instance_id = instance_of(body, header_instance);
  r.version = opt_string(body, "version").value_or("");
  r.hostname = opt_string(body, "hostname").value_or("");
  r.capacity = opt_int(body, "capacity", 0, 100'000).value_or(0);
  if (auto it = body.find("connectors"); it != body.end() && !it->is_null()) {
    if (!it->is_array()) throw BadRequest{"invalid_field", "field 'connectors' must be an array"};
    r.connectors = *it;
  }
  return r;
}

ClaimParams parse_claim(std::string_view text, std::string_view header_instance) {
  const Json body = parse_object(text);
  ClaimParams r;
  r.instance_id = instance_of(body, header_instance);
  const auto capacity = opt_int(body, "capacity", 1, 100'000);
  if (!capacity) {
    throw BadRequest{"missing_field", "field 'capacity' (an integer >= 1) is required"};
  }
  r.capacity = static_cast<int>(*capacity);
  r.wait_ms = opt_int(body, "wait_ms", 0, INT32_MAX);
  return r;
}

JobHeartbeatRequest parse_job_heartbeat(std::string_view text) {
  const Json body = parse_object(text);
  return {req_string(body, "lease_token"), opt_object(body, "progress")};
}

ResultRequest parse_result(std::string_view text) {
  const Json body = parse_object(text);
  ResultRequest r;
  r.lease_token = req_string(body, "lease_token");
  const auto status = req_string(body, "status");
  if (status == "succeeded") {
    r.status = JobStatus::kSucceeded;
  } else if (status == "failed") {
    r.status = JobStatus::kFailed;
  } else {
    throw BadRequest{"invalid_field", "field 'status' must be \"succeeded\" or \"failed\""};
  }
  r.result = opt_object(body, "result");
  r.error = opt_object(body, "error");
  r.parts = static_cast<std::uint64_t>(opt_int(body, "parts", 0, 10'000'000).value_or(0));
  r.started_at = opt_time(body, "started_at");
  r.finished_at = opt_time(body, "finished_at");
  return r;
}

ReleaseRequest parse_release(std::string_view text) {
  const Json body = parse_object(text);
  return {req_string(body, "lease_token"), opt_string(body, "reason").value_or("")};
}

AgentHeartbeatRequest parse_agent_heartbeat(std::string_view text,
                                            std::string_view header_instance) {
  const Json body = parse_object(text);
  AgentHeartbeatRequest r;
  r.instance_id = instance_of(body, header_instance);
  r.running = opt_int(body, "running", 0, 100'000);
  r.capacity = opt_int(body, "capacity", 0, 100'000);
  r.uptime_ms = opt_int(body, "uptime_ms", 0, INT64_MAX);
  r.version = opt_string(body, "version");
  return r;
}

std::uint64_t parse_part_seq(std::string_view text) {
  std::uint64_t seq = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), seq);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
    throw BadRequest{"invalid_seq", "the part number must be a non-negative integer"};
  }
  return seq;
}

std::string normalise_part(std::string_view ndjson, std::uint64_t seq) {
  std::string lines;
  lines.reserve(ndjson.size() + 1);
  std::size_t line_no = 0;
  for (std::size_t pos = 0; pos < ndjson.size();) {
    auto end = ndjson.find('\n', pos);
    if (end == std::string_view::npos) end = ndjson.size();
    auto line = ndjson.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    if (!is_json(line)) {  // validates (UTF-8 too) without building anything
      throw BadRequest{"invalid_ndjson", "line " + std::to_string(line_no) + " of part " +
                                             std::to_string(seq) + " is not valid JSON"};
    }
    lines.append(line);
    lines.push_back('\n');
  }
  return lines;
}

}  // namespace outpost::hub
