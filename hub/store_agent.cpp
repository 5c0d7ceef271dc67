// Agent-protocol calls other than claim: connect, job heartbeat, parts,
// result, release and the agent heartbeat (agent-protocol-v1.md §3–§9).
#include <string_view>

#include "json_check.hpp"
#include "store.hpp"

namespace outpost::hub {

namespace {

http::Response lease_conflict() {
  return error_response(409, "lease_conflict",
                        "the lease token is not the job's current lease (it expired or the job "
                        "was handed to another agent)");
}

http::Response job_not_found(const std::string& id) {
  return error_response(404, "job_not_found", "no job with id '" + id + "'");
}

http::Response job_cancelled() {
  return error_response(410, "job_cancelled", "the job was cancelled; post nothing more for it");
}

}  // namespace

Store::Reply Store::connect(const std::string& token_id, const Json& body,
                            std::string_view header_instance) {
  auto instance_id = opt_string(body, "instance_id").value_or(std::string(header_instance));
  if (instance_id.empty()) {
    throw BadRequest{"missing_field", "instance_id is required (body or X-Outpost-Instance)"};
  }
  const auto version = opt_string(body, "version").value_or("");
  const auto hostname = opt_string(body, "hostname").value_or("");
  const auto capacity = opt_int(body, "capacity", 0, 100'000).value_or(0);
  Json connectors = Json::array();
  if (auto it = body.find("connectors"); it != body.end() && !it->is_null()) {
    if (!it->is_array()) throw BadRequest{"invalid_field", "field 'connectors' must be an array"};
    connectors = *it;
  }
  std::lock_guard lock(mu_);
  Instance& inst = touch_instance(token_id, instance_id);
  inst.version = version;
  inst.hostname = hostname;
  inst.capacity = capacity;
  inst.connectors = std::move(connectors);
  const Token& token = tokens_.at(token_id);
  log_.info("agent connected", {{"agent_id", agent_id_for(token_id)},
                                {"instance_id", instance_id},
                                {"version", version},
                                {"capacity", capacity}});
  return json_reply(200, Json{{"agent_id", agent_id_for(token_id)},
                              {"agent_name", token.name},
                              {"poll_wait_ms", options_.poll_wait.count()},
                              {"heartbeat_interval_ms", options_.heartbeat_interval.count()},
                              {"lease_ttl_ms", options_.lease_ttl.count()},
                              {"accepts_gzip", true},
                              {"max_part_bytes", options_.max_part_bytes}});
}

Store::Reply Store::job_heartbeat(const std::string& job_id, const Json& body) {
  const auto token = req_string(body, "lease_token");
  auto progress = opt_object(body, "progress");
  std::lock_guard lock(mu_);
  Job* job = find_job(job_id);
  if (job == nullptr) return job_not_found(job_id);
  const bool live = job->lease && constant_time_equal(job->lease->token, token);
  if (job->status == JobStatus::kCancelled) {
    // Tell the agent that still holds the lease to stop; once the lease is
    // gone the job is gone for everybody.
    if (!live) return job_cancelled();
    return json_reply(
        200,
        Json{{"lease",
              {{"token", job->lease->token}, {"expires_at", rfc3339(job->lease->expires_wall)}}},
             {"cancel_requested", true}});
  }
  if (job->status != JobStatus::kRunning || !live) return lease_conflict();
  untrack_lease(*job);
  const auto now = std::chrono::system_clock::now();
  job->lease->expires = std::chrono::steady_clock::now() + options_.lease_ttl;
  job->lease->expires_wall = now + options_.lease_ttl;
  track_lease(*job);
  if (progress) job->progress = std::move(*progress);
  if (auto it = instances_.find(job->lease->instance_id); it != instances_.end()) {
    it->second.last_seen = now;
  }
  return json_reply(
      200, Json{{"lease",
                 {{"token", job->lease->token}, {"expires_at", rfc3339(job->lease->expires_wall)}}},
                {"cancel_requested", false}});
}

Store::Reply Store::put_part(const std::string& job_id, std::string_view lease_token,
                             std::uint64_t seq, std::string_view ndjson) {
  if (lease_token.empty()) {
    throw BadRequest{"missing_field", "the X-Lease-Token header is required"};
  }
  if (ndjson.size() > options_.max_part_bytes) {
    return error_response(413, "part_too_large",
                          "a part may hold at most " + std::to_string(options_.max_part_bytes) +
                              " bytes before compression");
  }
  std::string lines;
  lines.reserve(ndjson.size());
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
  std::lock_guard lock(mu_);
  Job* job = find_job(job_id);
  if (job == nullptr) return job_not_found(job_id);
  if (job->status == JobStatus::kCancelled) return job_cancelled();
  const bool live = job->status == JobStatus::kRunning && job->lease &&
                    constant_time_equal(job->lease->token, lease_token);
  const bool finished_by_this = job->status != JobStatus::kRunning &&
                                job->status != JobStatus::kScheduled &&
                                constant_time_equal(job->final_token, lease_token);
  if (finished_by_this) return json_reply(200, Json{{"accepted", true}, {"duplicate", true}});
  if (!live) return lease_conflict();
  job->parts[seq] = std::move(lines);  // the same seq again replaces: idempotent
  return json_reply(200, Json{{"accepted", true}, {"seq", seq}});
}

Store::Reply Store::result(const std::string& job_id, const Json& body) {
  const auto token = req_string(body, "lease_token");
  const auto status_text = req_string(body, "status");
  JobStatus status;
  if (status_text == "succeeded") {
    status = JobStatus::kSucceeded;
  } else if (status_text == "failed") {
    status = JobStatus::kFailed;
  } else {
    throw BadRequest{"invalid_field", "field 'status' must be \"succeeded\" or \"failed\""};
  }
  auto result_obj = opt_object(body, "result");
  auto error_obj = opt_object(body, "error");
  const auto parts = opt_int(body, "parts", 0, 10'000'000).value_or(0);
  const auto started = opt_string(body, "started_at");
  const auto finished = opt_string(body, "finished_at");

  std::lock_guard lock(mu_);
  Job* job = find_job(job_id);
  if (job == nullptr) return job_not_found(job_id);
  if (job->status == JobStatus::kCancelled) return job_cancelled();
  if (job->status == JobStatus::kSucceeded || job->status == JobStatus::kFailed) {
    // The same result again with the same lease: answer as before.
    if (!job->final_token.empty() && constant_time_equal(job->final_token, token)) {
      return json_reply(200, Json{{"accepted", true}, {"duplicate", true}});
    }
    return lease_conflict();
  }
  if (job->status != JobStatus::kRunning || !job->lease ||
      !constant_time_equal(job->lease->token, token)) {
    return lease_conflict();
  }
  for (std::int64_t i = 0; i < parts; ++i) {
    if (!job->parts.contains(static_cast<std::uint64_t>(i))) {
      return error_response(400, "missing_part",
                            "the result announces " + std::to_string(parts) + " parts but part " +
                                std::to_string(i) + " was not received");
    }
  }
  // Parts beyond the announced count belong to nothing.
  job->parts.erase(job->parts.lower_bound(static_cast<std::uint64_t>(parts)), job->parts.end());
  job->part_count = static_cast<std::uint64_t>(parts);
  untrack_lease(*job);
  job->final_token = job->lease->token;
  job->lease.reset();
  job->status = status;
  job->result = std::move(result_obj);
  job->error = status == JobStatus::kFailed
                   ? error_obj.value_or(Json{{"code", "internal"},
                                             {"message",
                                              "the agent reported a failure without "
                                              "an error object"}})
                   : std::optional<Json>{};
  if (started) job->started_at = *started;
  job->finished_at = finished.value_or(rfc3339(std::chrono::system_clock::now()));
  log_.info(
      "job finished",
      {{"job_id", job->id}, {"status", status_text}, {"attempt", job->attempt}, {"parts", parts}});
  return json_reply(200, Json{{"accepted", true}});
}

Store::Reply Store::release(const std::string& job_id, const Json& body) {
  const auto token = req_string(body, "lease_token");
  const auto reason = opt_string(body, "reason").value_or("");
  std::lock_guard lock(mu_);
  Job* job = find_job(job_id);
  if (job == nullptr) return job_not_found(job_id);
  if (job->status == JobStatus::kCancelled) return job_cancelled();
  if (job->status != JobStatus::kRunning || !job->lease ||
      !constant_time_equal(job->lease->token, token)) {
    return lease_conflict();
  }
  untrack_lease(*job);
  // A release is not a failed attempt: the next claim gets the same number.
  --job->attempt;
  job->started_at.reset();
  log_.info("job released", {{"job_id", job->id}, {"reason", reason}});
  enqueue(*job);
  dispatch();
  return json_reply(200, Json{{"released", true}});
}

Store::Reply Store::agent_heartbeat(const std::string& token_id, const Json& body,
                                    std::string_view header_instance) {
  auto instance_id = opt_string(body, "instance_id").value_or(std::string(header_instance));
  if (instance_id.empty()) {
    throw BadRequest{"missing_field", "instance_id is required (body or X-Outpost-Instance)"};
  }
  const auto running = opt_int(body, "running", 0, 100'000);
  const auto capacity = opt_int(body, "capacity", 0, 100'000);
  const auto uptime = opt_int(body, "uptime_ms", 0, INT64_MAX);
  const auto version = opt_string(body, "version");
  std::lock_guard lock(mu_);
  Instance& inst = touch_instance(token_id, instance_id);
  if (running) inst.reported_running = *running;
  if (capacity) inst.capacity = *capacity;
  if (uptime) inst.uptime_ms = *uptime;
  if (version) inst.version = *version;
  return json_reply(200, Json{{"ok", true}, {"server_time", rfc3339(inst.last_seen)}});
}

}  // namespace outpost::hub
