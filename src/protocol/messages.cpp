#include "protocol/messages.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <limits>

namespace outpost::protocol {
namespace {

using nlohmann::json;

json parse_object(std::string_view body, std::string_view call) {
  if (nests_deeper_than(body, kMaxJsonDepth)) {
    throw ProtocolError(std::string(call) + " response nests arrays/objects deeper than " +
                        std::to_string(kMaxJsonDepth) + " levels");
  }
  json doc = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    throw ProtocolError(std::string(call) +
                        " response is not JSON (is the URL an Outpost control plane API?)");
  }
  if (!doc.is_object()) throw ProtocolError(std::string(call) + " response is not a JSON object");
  return doc;
}

[[noreturn]] void bad_field(std::string_view call, std::string_view field, std::string_view what) {
  throw ProtocolError(std::string(call) + " response: field '" + std::string(field) + "' " +
                      std::string(what));
}

std::optional<std::string> opt_string(const json& doc, std::string_view call, const char* field) {
  auto it = doc.find(field);
  if (it == doc.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) bad_field(call, field, "must be a string");
  return it->get<std::string>();
}

std::optional<std::int64_t> opt_positive(const json& doc, std::string_view call, const char* field,
                                         std::int64_t max) {
  auto it = doc.find(field);
  if (it == doc.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer() && !it->is_number_unsigned()) {
    bad_field(call, field, "must be an integer");
  }
  // Large unsigned values would wrap in get<int64_t>; reject them first.
  if (it->is_number_unsigned() && it->get<std::uint64_t>() > static_cast<std::uint64_t>(max)) {
    bad_field(call, field, "is out of range");
  }
  const auto v = it->get<std::int64_t>();
  if (v <= 0 || v > max) bad_field(call, field, "is out of range");
  return v;
}

constexpr std::int64_t kMaxIntervalMs = 24LL * 3600 * 1000;

bool id_char(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '~' || c == ':' || c == '-';
}

}  // namespace

json to_json(const ConnectRequest& r) {
  json connectors = json::array();
  for (const auto& c : r.connectors) {
    connectors.push_back({{"type", c.type}, {"job_types", c.job_types}});
  }
  return {{"instance_id", r.instance_id},
          {"version", r.version},
          {"hostname", r.hostname},
          {"capacity", r.capacity},
          {"connectors", std::move(connectors)}};
}

json to_json(const ClaimRequest& r) {
  return {{"instance_id", r.instance_id}, {"capacity", r.capacity}, {"wait_ms", r.wait.count()}};
}

json to_json(const JobHeartbeatRequest& r) {
  json out = {{"lease_token", r.lease_token}};
  if (r.rows) out["progress"] = {{"rows", *r.rows}};
  return out;
}

json to_json(const ResultRequest& r) {
  json out = {{"lease_token", r.lease_token},
              {"status", r.succeeded ? "succeeded" : "failed"},
              {"started_at", r.started_at},
              {"finished_at", r.finished_at}};
  if (r.succeeded) {
    out["result"] = r.result;
    out["parts"] = r.parts;
  } else {
    const JobError err = r.error.value_or(JobError{});
    out["error"] = {{"code", std::string(to_string(err.code))},
                    {"message", err.message},
                    {"retryable", err.retryable}};
  }
  return out;
}

json to_json(const ReleaseRequest& r) {
  return {{"lease_token", r.lease_token}, {"reason", r.reason}};
}

json to_json(const AgentHeartbeatRequest& r) {
  return {{"instance_id", r.instance_id},
          {"running", r.running},
          {"capacity", r.capacity},
          {"uptime_ms", r.uptime_ms},
          {"version", r.version}};
}

Session parse_session(std::string_view body) {
  constexpr std::string_view kCall = "connect";
  const json doc = parse_object(body, kCall);
  Session s;
  auto id = opt_string(doc, kCall, "agent_id");
  if (!id || id->empty())
    bad_field(kCall, "agent_id", "is missing (not an Outpost v1 control plane?)");
  s.agent_id = std::move(*id);
  s.agent_name = opt_string(doc, kCall, "agent_name").value_or("");
  s.pool = opt_string(doc, kCall, "pool").value_or("");
  if (auto v = opt_positive(doc, kCall, "poll_wait_ms", kMaxIntervalMs))
    s.poll_wait = std::chrono::milliseconds(*v);
  if (auto v = opt_positive(doc, kCall, "heartbeat_interval_ms", kMaxIntervalMs)) {
    s.heartbeat_interval = std::chrono::milliseconds(*v);
  }
  if (auto v = opt_positive(doc, kCall, "lease_ttl_ms", kMaxIntervalMs))
    s.lease_ttl = std::chrono::milliseconds(*v);
  if (auto it = doc.find("accepts_gzip"); it != doc.end() && !it->is_null()) {
    if (!it->is_boolean()) bad_field(kCall, "accepts_gzip", "must be a boolean");
    s.accepts_gzip = it->get<bool>();
  }
  if (auto v =
          opt_positive(doc, kCall, "max_part_bytes", std::numeric_limits<std::int64_t>::max())) {
    s.max_part_bytes = static_cast<std::uint64_t>(*v);
  }
  return s;
}

ClaimResponse parse_claim_response(std::string_view body) {
  constexpr std::string_view kCall = "claim";
  json doc = parse_object(body, kCall);
  ClaimResponse out;
  auto it = doc.find("jobs");
  if (it == doc.end() || it->is_null()) return out;
  if (!it->is_array()) bad_field(kCall, "jobs", "must be an array");
  out.jobs.reserve(it->size());
  for (auto& job : *it) out.jobs.push_back(std::move(job));
  return out;
}

JobHeartbeatResponse parse_job_heartbeat_response(std::string_view body) {
  constexpr std::string_view kCall = "job heartbeat";
  const json doc = parse_object(body, kCall);
  JobHeartbeatResponse out;
  if (auto it = doc.find("lease"); it != doc.end() && !it->is_null()) {
    if (!it->is_object()) bad_field(kCall, "lease", "must be an object");
    out.lease.token = opt_string(*it, kCall, "token").value_or("");
    // The renewed token goes into the next request's header.
    if (!out.lease.token.empty() && !valid_lease_token(out.lease.token)) {
      bad_field(kCall, "lease.token", "holds characters or a length a lease token may not have");
    }
    out.lease.expires_at = opt_string(*it, kCall, "expires_at").value_or("");
  }
  if (auto it = doc.find("cancel_requested"); it != doc.end() && !it->is_null()) {
    if (!it->is_boolean()) bad_field(kCall, "cancel_requested", "must be a boolean");
    out.cancel_requested = it->get<bool>();
  }
  return out;
}

std::optional<ErrorBody> parse_error_body(std::string_view body) noexcept {
  try {
    if (nests_deeper_than(body, kMaxJsonDepth)) return std::nullopt;
    const json doc = json::parse(body.begin(), body.end(), nullptr, false);
    if (!doc.is_object()) return std::nullopt;
    auto it = doc.find("error");
    if (it == doc.end() || !it->is_object()) return std::nullopt;
    ErrorBody out;
    if (auto c = it->find("code"); c != it->end() && c->is_string())
      out.code = c->get<std::string>();
    if (auto m = it->find("message"); m != it->end() && m->is_string()) {
      out.message = m->get<std::string>();
    }
    return out;
  } catch (...) {
    return std::nullopt;
  }
}

bool valid_job_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > kMaxJobIdLength || id == "." || id == "..") return false;
  return std::all_of(id.begin(), id.end(), id_char);
}

bool valid_lease_token(std::string_view token) noexcept {
  if (token.empty() || token.size() > kMaxLeaseTokenLength) return false;
  return std::all_of(token.begin(), token.end(),
                     [](char c) { return id_char(c) || c == '+' || c == '/' || c == '='; });
}

bool nests_deeper_than(std::string_view body, int max_depth) noexcept {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // the escaped character cannot end the string
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"': in_string = true; break;
      case '[':
      case '{':
        if (++depth > max_depth) return true;
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;
        break;
      default: break;
    }
  }
  return false;
}

std::string encode_path_segment(std::string_view segment) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  // "." and ".." would be dot-segments even unencoded-looking: encode the dots.
  const bool dots_only = segment.find_first_not_of('.') == std::string_view::npos;
  std::string out;
  out.reserve(segment.size());
  for (const char ch : segment) {
    const auto c = static_cast<unsigned char>(ch);
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                            (c == '.' && !dots_only) || c == '~';
    if (unreserved) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::string now_rfc3339() {
  const auto now = std::chrono::system_clock::now();
  const auto secs = std::chrono::time_point_cast<std::chrono::seconds>(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - secs).count();
  const std::time_t t = std::chrono::system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

std::string to_body(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace outpost::protocol
