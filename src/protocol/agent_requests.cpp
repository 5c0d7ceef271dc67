#include "protocol/agent_requests.hpp"

#include <charconv>
#include <limits>
#include <vector>

namespace outpost::protocol {
namespace {

using nlohmann::json;

json parse_request(std::string_view body, std::string_view call) {
  if (nests_deeper_than(body, kMaxJsonDepth)) {
    throw RequestError("invalid_json", std::string(call) + " body nests deeper than " +
                                           std::to_string(kMaxJsonDepth) + " levels");
  }
  json doc = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded())
    throw RequestError("invalid_json", std::string(call) + " body is not JSON");
  if (!doc.is_object()) {
    throw RequestError("invalid_json", std::string(call) + " body is not a JSON object");
  }
  return doc;
}

[[noreturn]] void invalid(std::string_view field, std::string_view what) {
  throw RequestError("invalid_field", "field '" + std::string(field) + "' " + std::string(what));
}

const json* find(const json& doc, const char* field) {
  auto it = doc.find(field);
  return it == doc.end() || it->is_null() ? nullptr : &*it;
}

std::optional<std::string> opt_string(const json& doc, const char* field) {
  const json* v = find(doc, field);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) invalid(field, "must be a string");
  return v->get<std::string>();
}

std::string req_string(const json& doc, const char* field) {
  auto v = opt_string(doc, field);
  if (!v || v->empty()) {
    throw RequestError("missing_field", "field '" + std::string(field) + "' is required");
  }
  return *v;
}

std::optional<std::int64_t> opt_int(const json& doc, const char* field, std::int64_t min,
                                    std::int64_t max) {
  const json* v = find(doc, field);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number_integer() && !v->is_number_unsigned()) invalid(field, "must be an integer");
  if (v->is_number_unsigned() && v->get<std::uint64_t>() > static_cast<std::uint64_t>(max)) {
    invalid(field, "is out of range");
  }
  const auto n = v->get<std::int64_t>();
  if (n < min || n > max) invalid(field, "is out of range");
  return n;
}

std::vector<std::string> string_list(const json& value, const char* field) {
  if (!value.is_array()) invalid(field, "must be an array of strings");
  std::vector<std::string> out;
  for (const auto& item : value) {
    if (!item.is_string()) invalid(field, "must be an array of strings");
    out.push_back(item.get<std::string>());
  }
  return out;
}

JobError parse_job_error(const json& value) {
  if (!value.is_object()) invalid("error", "must be an object");
  JobError error;
  const auto code = opt_string(value, "code").value_or("internal");
  const auto parsed = parse_error_code(code);
  if (!parsed) invalid("error.code", "is not an error code of the protocol");
  error.code = *parsed;
  error.message = opt_string(value, "message").value_or("");
  if (const json* r = find(value, "retryable")) {
    if (!r->is_boolean()) invalid("error.retryable", "must be a boolean");
    error.retryable = r->get<bool>();
  }
  return error;
}

}  // namespace

ConnectRequest parse_connect_request(std::string_view body) {
  const json doc = parse_request(body, "connect");
  ConnectRequest r;
  r.instance_id = opt_string(doc, "instance_id").value_or("");
  r.version = opt_string(doc, "version").value_or("");
  r.hostname = opt_string(doc, "hostname").value_or("");
  r.capacity = static_cast<int>(opt_int(doc, "capacity", 0, kMaxCapacity).value_or(0));
  if (const json* list = find(doc, "connectors")) {
    if (!list->is_array()) invalid("connectors", "must be an array");
    for (const auto& c : *list) {
      if (!c.is_object()) invalid("connectors", "must hold objects");
      ConnectorInfo info;
      info.type = opt_string(c, "type").value_or("");
      if (const json* types = find(c, "job_types"))
        info.job_types = string_list(*types, "job_types");
      r.connectors.push_back(std::move(info));
    }
  }
  return r;
}

ClaimCall parse_claim_request(std::string_view body) {
  const json doc = parse_request(body, "claim");
  ClaimCall r;
  r.instance_id = opt_string(doc, "instance_id").value_or("");
  const auto capacity = opt_int(doc, "capacity", 1, kMaxCapacity);
  if (!capacity) {
    throw RequestError("missing_field", "field 'capacity' (an integer >= 1) is required");
  }
  r.capacity = static_cast<int>(*capacity);
  if (auto wait = opt_int(doc, "wait_ms", 0, std::numeric_limits<std::int32_t>::max())) {
    r.wait = std::chrono::milliseconds(*wait);
  }
  return r;
}

JobHeartbeatRequest parse_job_heartbeat_request(std::string_view body) {
  const json doc = parse_request(body, "job heartbeat");
  JobHeartbeatRequest r;
  r.lease_token = req_string(doc, "lease_token");
  if (const json* progress = find(doc, "progress")) {
    if (!progress->is_object()) invalid("progress", "must be an object");
    if (auto rows = opt_int(*progress, "rows", 0, std::numeric_limits<std::int64_t>::max())) {
      r.rows = static_cast<std::uint64_t>(*rows);
    }
  }
  return r;
}

ResultRequest parse_result_request(std::string_view body) {
  const json doc = parse_request(body, "result");
  ResultRequest r;
  r.lease_token = req_string(doc, "lease_token");
  const auto status = req_string(doc, "status");
  if (status != "succeeded" && status != "failed") {
    invalid("status", "must be \"succeeded\" or \"failed\"");
  }
  r.succeeded = status == "succeeded";
  r.started_at = opt_string(doc, "started_at").value_or("");
  r.finished_at = opt_string(doc, "finished_at").value_or("");
  if (const json* result = find(doc, "result")) {
    if (!result->is_object()) invalid("result", "must be an object");
    r.result = *result;
  }
  r.parts = static_cast<std::uint64_t>(opt_int(doc, "parts", 0, kMaxParts).value_or(0));
  if (const json* error = find(doc, "error")) r.error = parse_job_error(*error);
  if (!r.succeeded && !r.error) {
    r.error = JobError{ErrorCode::kInternal, "the agent reported a failure without an error object",
                       false};
  }
  return r;
}

ReleaseRequest parse_release_request(std::string_view body) {
  const json doc = parse_request(body, "release");
  ReleaseRequest r;
  r.lease_token = req_string(doc, "lease_token");
  r.reason = opt_string(doc, "reason").value_or("");
  return r;
}

AgentHeartbeatRequest parse_agent_heartbeat_request(std::string_view body) {
  const json doc = parse_request(body, "heartbeat");
  AgentHeartbeatRequest r;
  r.instance_id = opt_string(doc, "instance_id").value_or("");
  r.running = static_cast<int>(opt_int(doc, "running", 0, kMaxCapacity).value_or(0));
  r.capacity = static_cast<int>(opt_int(doc, "capacity", 0, kMaxCapacity).value_or(0));
  r.uptime_ms = opt_int(doc, "uptime_ms", 0, std::numeric_limits<std::int64_t>::max()).value_or(0);
  r.version = opt_string(doc, "version").value_or("");
  return r;
}

std::uint64_t parse_part_seq(std::string_view segment) {
  std::uint64_t seq = 0;
  const char* end = segment.data() + segment.size();
  const auto [ptr, ec] = std::from_chars(segment.data(), end, seq);
  if (segment.empty() || ec != std::errc() || ptr != end ||
      seq >= static_cast<std::uint64_t>(kMaxParts)) {
    invalid("seq", "must be a decimal part number below " + std::to_string(kMaxParts));
  }
  return seq;
}

json to_json(const Session& s) {
  return {{"agent_id", s.agent_id},
          {"agent_name", s.agent_name},
          {"pool", s.pool},
          {"poll_wait_ms", s.poll_wait.count()},
          {"heartbeat_interval_ms", s.heartbeat_interval.count()},
          {"lease_ttl_ms", s.lease_ttl.count()},
          {"accepts_gzip", s.accepts_gzip},
          {"max_part_bytes", s.max_part_bytes}};
}

json to_json(const JobHeartbeatResponse& r) {
  return {{"lease", {{"token", r.lease.token}, {"expires_at", r.lease.expires_at}}},
          {"cancel_requested", r.cancel_requested}};
}

json to_json(const ClaimResponse& r) {
  return {{"jobs", r.jobs}};
}

json to_json(const ErrorBody& e) {
  return {{"error", {{"code", e.code}, {"message", e.message}}}};
}

}  // namespace outpost::protocol
