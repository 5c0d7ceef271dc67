#include "views.hpp"

#include "secret_mask.hpp"
#include "util.hpp"

namespace outpost::hub {

namespace {

Json time_or_null(const std::optional<SystemTime>& t) {
  return t ? Json(rfc3339(*t)) : Json(nullptr);
}

Json attempts_view(const JobRecord& job) {
  Json out = Json::array();
  for (const auto& a : job.attempts) {
    out.push_back({{"attempt", a.attempt},
                   {"agent_instance", a.agent_instance},
                   {"started_at", rfc3339(a.started_at)},
                   {"finished_at", time_or_null(a.finished_at)},
                   {"status", a.status},
                   {"error", a.error ? *a.error : Json(nullptr)}});
  }
  return out;
}

}  // namespace

std::string agent_id_for(const std::string& token_id) {
  return "agt_" + token_id.substr(token_id.find('_') + 1);
}

Json job_view(const JobRecord& job) {
  Json out{
      {"id", job.id},
      {"type", job.type},
      {"status", to_string(job.status)},
      {"pool_id", job.pool_id},
      {"source_id", job.source_id ? Json(*job.source_id) : Json(nullptr)},
      {"attempt", job.attempt},
      {"agent_instance", job.agent_instance.empty() ? Json(nullptr) : Json(job.agent_instance)},
      {"created_at", rfc3339(job.created_at)},
      {"started_at", time_or_null(job.started_at)},
      {"finished_at", time_or_null(job.finished_at)},
      {"result", job.result ? *job.result : Json(nullptr)},
      {"error", job.error ? *job.error : Json(nullptr)},
      {"rows", nullptr},
      {"timeout_ms", job.timeout_ms},
      {"parts", job.part_count},
      {"attempts", attempts_view(job)}};
  if (job.progress) out["progress"] = *job.progress;
  if (job.max_attempts > 0) out["max_attempts"] = job.max_attempts;
  out["retry_backoff_ms"] = job.retry_backoff_ms;
  out["run_at"] = time_or_null(job.run_at);  // a retry waiting for its backoff
  return out;
}

Json job_summary(const JobRecord& job) {
  Json out = job_view(job);
  out.erase("rows");
  if (auto& r = out["result"]; r.is_object()) r.erase("rows");
  return out;
}

Json token_view(const TokenRecord& t) {
  return {{"id", t.id},
          {"name", t.name},
          {"pool_id", t.pool_id},
          {"agent_id", agent_id_for(t.id)},
          {"created_at", rfc3339(t.created_at)},
          {"last_used_at", time_or_null(t.last_used_at)},
          {"revoked", t.revoked}};
}

Json source_view(const SourceRecord& s) {
  // Literal credentials in the config are masked (hub-v2 §3).
  return {{"id", s.id},
          {"name", s.name},
          {"type", s.type},
          {"pool_id", s.pool_id},
          {"config", mask_secrets(s.config)},
          {"created_at", rfc3339(s.created_at)}};
}

Json instance_view(const InstanceRecord& inst, const std::string& name, bool revoked) {
  return {{"agent_id", agent_id_for(inst.token_id)},
          {"instance_id", inst.instance_id},
          {"name", name},
          {"pool_id", inst.pool_id},
          {"version", inst.version},
          {"hostname", inst.hostname},
          {"last_seen", rfc3339(inst.last_seen)},
          {"first_seen", rfc3339(inst.first_seen)},
          {"running", inst.reported_running.value_or(inst.leased)},
          {"leased", inst.leased},
          {"capacity", inst.capacity},
          {"uptime_ms", inst.uptime_ms ? Json(*inst.uptime_ms) : Json(nullptr)},
          {"connectors", inst.connectors},
          {"revoked", revoked}};
}

Json schedule_view(const ScheduleRecord& s) {
  return {{"id", s.id},
          {"source_id", s.source_id},
          {"type", s.type},
          {"params", s.params},
          {"timeout_ms", s.timeout_ms},
          {"every_ms", s.every_ms ? Json(*s.every_ms) : Json(nullptr)},
          {"cron", s.cron ? Json(*s.cron) : Json(nullptr)},
          {"timezone", s.timezone},
          {"status", s.status},
          {"next_run_at", time_or_null(s.next_run_at)},
          {"last_job_id", s.last_job_id ? Json(*s.last_job_id) : Json(nullptr)},
          {"created_at", rfc3339(s.created_at)}};
}

}  // namespace outpost::hub
