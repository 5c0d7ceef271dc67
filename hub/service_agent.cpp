// HubService: agent-protocol calls other than claim — authentication,
// connect, heartbeats, parts, results and release (agent-protocol-v1.md).
#include <algorithm>

#include "retry.hpp"
#include "service.hpp"
#include "util.hpp"
#include "views.hpp"

namespace outpost::hub {

namespace {

using K = Answer::Kind;

Answer lease_conflict() {
  return Answer::error(K::kConflict, "lease_conflict",
                       "the lease token is not the job's current lease (it expired or the job "
                       "was handed to another agent)");
}

Answer job_not_found(const std::string& id) {
  return Answer::error(K::kNotFound, "job_not_found", "no job with id '" + id + "'");
}

Answer job_cancelled() {
  return Answer::error(K::kGone, "job_cancelled",
                       "the job was cancelled; post nothing more for it");
}

Json lease_json(const Lease& lease) {
  return {{"token", lease.token}, {"expires_at", rfc3339(lease.expires_at)}};
}

}  // namespace

std::optional<TokenRecord> HubService::authenticate_agent(std::string_view secret) {
  if (secret.empty()) return std::nullopt;
  const std::string hash = sha256(secret);
  auto token = store_->find_token_by_hash(hash);
  if (!token || token->revoked || !constant_time_equal(hash, token->hash)) return std::nullopt;
  return token;
}

void HubService::touch(const TokenRecord& token) {
  // last_used_at to the minute: a write per agent call would cost a shared
  // store more than the call itself.
  const SystemTime now = clock_->now();
  {
    std::lock_guard lock(mu_);
    auto [it, inserted] = touched_.try_emplace(token.id, now);
    if (!inserted && now - it->second < std::chrono::minutes(1)) return;
    it->second = now;
    if (touched_.size() > 100'000) touched_.clear();  // bounded: forgets, then re-touches
  }
  store_->touch_token(token.id, now);
}

Answer HubService::connect(const TokenRecord& token, const ConnectRequest& r) {
  touch(token);
  InstanceUpdate u{
      r.instance_id, token.id, token.pool_id, r.version, r.hostname, r.capacity, {}, {},
      r.connectors};
  store_->upsert_instance(u, clock_->now());
  log_.info("agent connected", {{"agent_id", agent_id_for(token.id)},
                                {"instance_id", r.instance_id},
                                {"version", r.version},
                                {"capacity", r.capacity}});
  const auto pool = store_->get_pool(token.pool_id);
  return Answer::ok(Json{{"agent_id", agent_id_for(token.id)},
                         {"agent_name", token.name},
                         {"pool", pool ? pool->name : token.pool_id},
                         {"poll_wait_ms", options_.poll_wait.count()},
                         {"heartbeat_interval_ms", options_.heartbeat_interval.count()},
                         {"lease_ttl_ms", options_.lease_ttl.count()},
                         {"accepts_gzip", true},
                         {"max_part_bytes", options_.max_part_bytes}});
}

Answer HubService::agent_heartbeat(const TokenRecord& token, const AgentHeartbeatRequest& r) {
  touch(token);
  InstanceUpdate u{r.instance_id, token.id,  token.pool_id, r.version, {},
                   r.capacity,    r.running, r.uptime_ms,   {}};
  const auto inst = store_->upsert_instance(u, clock_->now());
  return Answer::ok(Json{{"ok", true}, {"server_time", rfc3339(inst.last_seen)}});
}

Answer HubService::job_heartbeat(const std::string& job_id, const JobHeartbeatRequest& r) {
  const auto out =
      store_->renew(job_id, r.lease_token, options_.lease_ttl, clock_->now(), r.progress);
  switch (out.kind) {
    case RenewOutcome::Kind::kRenewed:
      return Answer::ok(Json{{"lease", lease_json(*out.lease)}, {"cancel_requested", false}});
    case RenewOutcome::Kind::kCancelRequested:
      return Answer::ok(Json{{"lease", lease_json(*out.lease)}, {"cancel_requested", true}});
    case RenewOutcome::Kind::kConflict: return lease_conflict();
    case RenewOutcome::Kind::kGone: return job_cancelled();
    case RenewOutcome::Kind::kNotFound: break;
  }
  return job_not_found(job_id);
}

Answer HubService::put_part(const std::string& job_id, std::string_view lease_token,
                            std::uint64_t seq, std::string_view ndjson) {
  if (lease_token.empty()) {
    throw BadRequest{"missing_field", "the X-Lease-Token header is required"};
  }
  if (ndjson.size() > options_.max_part_bytes) {
    return Answer::error(K::kTooLarge, "part_too_large",
                         "a part may hold at most " + std::to_string(options_.max_part_bytes) +
                             " bytes before compression");
  }
  auto lines = normalise_part(ndjson, seq);
  switch (store_->put_part(job_id, lease_token, seq, std::move(lines)).kind) {
    case PartOutcome::Kind::kAccepted: return Answer::ok(Json{{"accepted", true}, {"seq", seq}});
    case PartOutcome::Kind::kDuplicate:
      return Answer::ok(Json{{"accepted", true}, {"duplicate", true}});
    case PartOutcome::Kind::kConflict: return lease_conflict();
    case PartOutcome::Kind::kGone: return job_cancelled();
    case PartOutcome::Kind::kNotFound: break;
  }
  return job_not_found(job_id);
}

Answer HubService::result(const std::string& job_id, const ResultRequest& r) {
  const SystemTime now = clock_->now();
  FinishRequest f;
  f.job_id = job_id;
  f.lease_token = r.lease_token;
  f.status = r.status;
  f.result = r.result;
  f.error = r.status == JobStatus::kFailed
                ? r.error.value_or(
                      Json{{"code", "internal"},
                           {"message", "the agent reported a failure without an error object"}})
                : std::optional<Json>{};
  f.parts = r.parts;
  f.started_at = r.started_at;  // the store holds them inside the lease's life
  f.finished_at = r.finished_at;
  f.now = now;
  // Only a failed attempt that asks for a retry needs the job (its attempt
  // and limits) first; any other result is a single store call.
  int max_attempts = 0;
  if (r.status == JobStatus::kFailed && is_retryable(f.error)) {
    const auto job = store_->get_job(job_id);
    if (!job) return job_not_found(job_id);
    max_attempts = job->max_attempts > 0 ? job->max_attempts : options_.max_attempts;
    const auto times = result_times(job->started_at, f);  // the store's rule, made explicit
    f.started_at = times.started_at;
    f.finished_at = times.finished_at;
    if (should_retry(f.error, job->attempt, max_attempts)) {
      f.retry_at = now + retry_delay(job->retry_backoff_ms, job->attempt, jitter_unit());
    }
  }
  const auto out = store_->finish(f);
  switch (out.kind) {
    case FinishOutcome::Kind::kAccepted:
      if (f.retry_at && out.job && out.job->status == JobStatus::kScheduled) {
        log_.info("job attempt failed; retry scheduled",
                  {{"job_id", job_id},
                   {"attempt", out.job->attempt},
                   {"max_attempts", max_attempts},
                   {"retry_in_ms", (*f.retry_at - now) / std::chrono::milliseconds(1)}});
        arm_scheduler(f.retry_at);
        return Answer::ok(Json{{"accepted", true}});
      }
      log_.info("job finished", {{"job_id", job_id},
                                 {"status", to_string(r.status)},
                                 {"attempt", out.job ? out.job->attempt : 0},
                                 {"parts", r.parts}});
      probe_job_finished(job_id);
      return Answer::ok(Json{{"accepted", true}});
    case FinishOutcome::Kind::kDuplicate:
      return Answer::ok(Json{{"accepted", true}, {"duplicate", true}});
    case FinishOutcome::Kind::kConflict: return lease_conflict();
    case FinishOutcome::Kind::kGone: return job_cancelled();
    case FinishOutcome::Kind::kMissingPart:
      return Answer::error(K::kBadRequest, "missing_part",
                           "the result announces " + std::to_string(r.parts) + " parts but part " +
                               std::to_string(out.missing_part) + " was not received");
    case FinishOutcome::Kind::kNotFound: break;
  }
  return job_not_found(job_id);
}

Answer HubService::release(const std::string& job_id, const ReleaseRequest& r) {
  switch (store_->release(job_id, r.lease_token, clock_->now()).kind) {
    case ReleaseOutcome::Kind::kReleased:
      log_.info("job released", {{"job_id", job_id}, {"reason", r.reason}});
      return Answer::ok(Json{{"released", true}});
    case ReleaseOutcome::Kind::kConflict: return lease_conflict();
    case ReleaseOutcome::Kind::kGone: return job_cancelled();
    case ReleaseOutcome::Kind::kNotFound: break;
  }
  return job_not_found(job_id);
}

}  // namespace outpost::hub
