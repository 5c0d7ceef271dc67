#include "runtime/agent_loops.hpp"

#include <cstdio>
#include <vector>

#include <boost/asio/co_spawn.hpp>

#include "runtime/backoff.hpp"
#include "runtime/job_runner.hpp"
#include "runtime/job_state.hpp"
#include "runtime/job_uploads.hpp"

namespace outpost::runtime {
namespace {

namespace asio = boost::asio;
using control_plane::ErrorKind;
using std::chrono::milliseconds;

protocol::ConnectRequest connect_request(const RuntimeState& state) {
  protocol::ConnectRequest req;
  req.instance_id = state.instance_id;
  req.version = state.version;
  req.hostname = state.hostname;
  req.capacity = state.capacity;
  for (Connector* c : state.registry->all()) {
    protocol::ConnectorInfo info{std::string(c->type()), {}};
    for (JobType t : c->job_types()) info.job_types.emplace_back(to_string(t));
    req.connectors.push_back(std::move(info));
  }
  return req;
}

/// The one line printed when the control plane refuses the agent at start.
std::string refusal_line(const RuntimeState& state, const control_plane::CallError& err) {
  const std::string url = state.base_url;
  const std::string detail =
      err.message.empty() ? std::string() : " (" + obs::redact(err.message) + ")";
  switch (err.kind) {
    case ErrorKind::kUnauthorized:
      return "the control plane at " + url + " rejected the access token (401 Unauthorized)" +
             detail + "; check --token/--token-file and that the token was not revoked";
    case ErrorKind::kForbidden:
      return "the access token is not allowed to act as an agent (403 Forbidden)" + detail +
             "; create a token with the agent role";
    case ErrorKind::kNotFound:
      return "the control plane answered 404 Not Found for " + url +
             "/v1/agent/connect; the URL must be the instance API URL ending in /api "
             "(e.g. https://tenant.example.com/api)";
    case ErrorKind::kProtocol:
      return url + " does not speak the Outpost agent protocol v1: " + obs::redact(err.message) +
             "; the URL must be the instance API URL ending in /api";
    default:
      return "the control plane at " + url + " refused the agent (HTTP " +
             std::to_string(err.status) + ")" + detail;
  }
}

/// Sleeps `delay` unless shutdown starts first.
asio::awaitable<void> backoff_sleep(std::shared_ptr<RuntimeState> state, milliseconds delay) {
  const auto until = Clock::now() + delay;
  while (state->active() && Clock::now() < until) co_await state->wake.wait_until(until);
}

/// Clears a loop's alive flag however the loop ends (return or throw), so
/// /healthz fails when a loop died.
class AliveFlag {
 public:
  explicit AliveFlag(bool& flag) : flag_(flag) { flag_ = true; }
  ~AliveFlag() { flag_ = false; }
  AliveFlag(const AliveFlag&) = delete;
  AliveFlag& operator=(const AliveFlag&) = delete;

 private:
  bool& flag_;
};

/// A completion handler for a long-lived coroutine: an exception ends the
/// agent with a logged fatal error (exit 1).
auto fatal_on_error(std::shared_ptr<RuntimeState> state, std::string activity) {
  return
      [state = std::move(state), activity = std::move(activity)](const std::exception_ptr& error) {
        if (error) fatal(*state, 1, "the " + activity + " failed: " + describe(error));
      };
}

/// Counts a failed attempt to reach the control plane and logs it; true
/// when --max-retries is exhausted (the agent is then ending). N retries
/// follow the first failure, so the agent gives up at failure N + 1
/// (`--max-retries 1`: one retry), as KrakenD's max_retries counts.
bool count_failure(RuntimeState& state, std::string_view call, const control_plane::CallError& err,
                   milliseconds delay) {
  const int failures = ++state.consecutive_failures;
  note_call_error(state, call, err, delay, failures);
  if (state.config.max_retries > 0 && failures > state.config.max_retries && !state.stopping()) {
    fatal(state, 1,
          "giving up after " + std::to_string(failures) +
              " consecutive failed attempts to reach the control plane (--max-retries " +
              std::to_string(state.config.max_retries) + ": a first attempt and " +
              std::to_string(state.config.max_retries) +
              " retries): " + std::string(control_plane::to_string(err.kind)) +
              (err.message.empty() ? "" : ": " + obs::redact(err.message)));
    return true;
  }
  return false;
}

/// Connects until it succeeds. At start-up a refusal is fatal (exit 3);
/// later (after a 401 or unknown_instance) everything is retried.
asio::awaitable<bool> connect_loop(std::shared_ptr<RuntimeState> state, Backoff& backoff) {
  while (state->active()) {
    protocol::ConnectRequest request = connect_request(*state);
    auto call = co_await state->cp->connect(std::move(request));
    if (call.ok()) {
      state->session = *call.value;
      const bool gzip = state->session.accepts_gzip && !state->config.no_gzip;
      state->cp->set_accepts_gzip(gzip);
      state->claims->set_accepts_gzip(gzip);
      state->connected = true;
      state->authorized = true;
      state->contact();
      backoff.succeed();
      co_return true;
    }
    const auto& err = call.error;
    if (state->phase == AgentPhase::kConnecting && !err.transient() &&
        err.kind != ErrorKind::kCancelled) {
      const std::string line = refusal_line(*state, err);
      state->log.error("control plane refused the agent",
                       {{"status", err.status}, {"error", line}});
      std::fprintf(stderr, "outpost-agent: error: %s\n", obs::redact(line).c_str());
      std::fflush(stderr);
      state->exit_code = 3;
      state->phase = AgentPhase::kDone;
      if (state->stop_io) state->stop_io();
      co_return false;
    }
    if (err.kind == ErrorKind::kCancelled) co_return false;
    const auto delay = backoff.fail(err.retry_after);
    if (count_failure(*state, "connect", err, delay)) co_return false;
    co_await backoff_sleep(state, delay);
  }
  co_return false;
}

asio::awaitable<void> heartbeat_loop(std::shared_ptr<RuntimeState> state) {
  const AliveFlag alive(state->heartbeat_loop_alive);
  while (state->active()) {
    // Sending at the health interval too keeps /readyz honest when the
    // health interval is shorter than the control plane's heartbeat interval.
    const auto period =
        std::min<Clock::duration>(state->session.heartbeat_interval, state->config.health_interval);
    const auto until = Clock::now() + period;
    while (state->active() && Clock::now() < until) co_await state->wake.wait_until(until);
    if (!state->active()) break;
    if (!state->connected) continue;  // the claim loop is reconnecting
    if (state->faults.heartbeat_loop) state->faults.heartbeat_loop();
    protocol::AgentHeartbeatRequest req{
        state->instance_id, static_cast<int>(state->jobs.size()), state->capacity,
        std::chrono::duration_cast<milliseconds>(Clock::now() - state->process_start).count(),
        state->version};
    auto call = co_await state->cp->agent_heartbeat(std::move(req));
    if (call.ok()) {
      state->contact();
      continue;
    }
    if (call.error.kind == ErrorKind::kCancelled) break;
    if (count_failure(*state, "heartbeat", call.error,
                      std::chrono::duration_cast<milliseconds>(period))) {
      break;
    }
  }
}

/// Every --health-interval: publishes readiness and logs its transitions.
asio::awaitable<void> health_loop(std::shared_ptr<RuntimeState> state) {
  bool was_ready = true;
  while (state->active()) {
    const bool ready = state->ready();
    if (state->metrics) state->metrics->set_ready(ready);
    if (ready != was_ready) {
      const auto since =
          std::chrono::duration_cast<milliseconds>(Clock::now() - state->last_contact);
      if (ready) {
        state->log.info("agent ready again");
      } else {
        state->log.warn("agent not ready", {{"connected", state->connected},
                                            {"authorized", state->authorized},
                                            {"last_contact_ms_ago", since.count()}});
      }
      was_ready = ready;
    }
    co_await backoff_sleep(state,
                           std::chrono::duration_cast<milliseconds>(state->config.health_interval));
  }
}

void start_job(const std::shared_ptr<RuntimeState>& state, const nlohmann::json& raw) {
  auto job = std::make_shared<JobState>();
  job->claimed = parse_claimed_job(raw);
  if (!job->claimed.answerable()) {
    // Without an id and a lease token (or with ones unsafe to put into a
    // request) there is nothing to answer to. The id is logged printable
    // and truncated (parse_claimed_job).
    if (state->metrics) state->metrics->claim("unanswerable_job");
    state->log.error(
        "claimed job cannot be answered and is skipped",
        {{"job_id", job->claimed.id},
         {"error", job->claimed.error ? job->claimed.error->message : std::string("malformed")}});
    return;
  }
  if (state->jobs.count(job->id()) != 0) {
    state->log.warn("job claimed twice; the running copy continues", {{"job_id", job->id()}});
    return;
  }
  state->jobs.emplace(job->id(), job);
  if (state->metrics) state->metrics->set_running(static_cast<int>(state->jobs.size()));
  spawn_job(state, job);
}

asio::awaitable<void> claim_loop(std::shared_ptr<RuntimeState> state, Backoff& backoff) {
  const AliveFlag alive(state->claim_loop_alive);
  while (state->active()) {
    if (state->faults.claim_loop) state->faults.claim_loop();
    if (!state->connected) {
      if (!co_await connect_loop(state, backoff)) break;
      state->log.info("reconnected to the control plane", {{"agent_id", state->session.agent_id}});
      continue;
    }
    const int free = state->free_slots();
    if (free <= 0) {
      co_await state->wake.wait();
      continue;
    }
    const auto now = Clock::now();
    const int tokens = state->limiter.available(now);
    if (tokens <= 0) {
      co_await state->wake.wait_until(now + state->limiter.time_until_token(now));
      continue;
    }
    protocol::ClaimRequest req{state->instance_id, std::min(free, tokens),
                               state->session.poll_wait};
    auto call = co_await state->claims->claim(std::move(req));
    if (call.ok()) {
      state->contact();
      backoff.succeed();
      auto& jobs = call.value->jobs;
      if (state->metrics) state->metrics->claim(jobs.empty() ? "empty" : "jobs");
      for (const auto& raw : jobs) {
        state->limiter.try_take(Clock::now());
        // A job that arrives after shutdown began is released by run_job.
        start_job(state, raw);
      }
      continue;
    }
    const auto& err = call.error;
    if (err.kind == ErrorKind::kCancelled && state->stopping()) break;
    if (state->metrics) state->metrics->claim("error");
    const auto delay = backoff.fail(err.retry_after);
    if (count_failure(*state, "claim", err, delay)) break;
    co_await backoff_sleep(state, delay);
  }
}

/// Waits for running jobs up to the grace, then cancels the rest through the
/// job group (one signal) and releases them, and stops.
asio::awaitable<void> shutdown(std::shared_ptr<RuntimeState> state) {
  state->claims->close();
  state->wake.notify();
  while (!state->jobs.empty() && Clock::now() < state->grace_deadline) {
    co_await state->wake.wait_until(state->grace_deadline);
  }
  std::vector<std::shared_ptr<JobState>> left;
  for (auto& [id, job] : state->jobs) {
    if (job->running && !job->released) left.push_back(job);
  }
  state->job_group.emit();
  // Released at once, not after the connector returns: one that ignores its
  // cancellation must not hold the job past the grace.
  for (auto& job : left) co_await release_job(state, job);
  // Results being posted and connectors returning from their cancel get a
  // short while more; then the agent stops regardless.
  co_await state->job_group.wait_until(Clock::now() + std::chrono::seconds(5));
  state->log.info("agent stopped",
                  {{"unfinished_jobs", static_cast<std::int64_t>(state->jobs.size())}});
  if (!state->exit_code) state->exit_code = 0;
  state->phase = AgentPhase::kDone;
  if (state->stop_io) state->stop_io();
}

asio::awaitable<void> agent_main(std::shared_ptr<RuntimeState> state) {
  Backoff backoff(state->config.backoff, state->config.backoff_cap);
  if (!co_await connect_loop(state, backoff)) co_return;
  if (state->phase != AgentPhase::kConnecting) co_return;  // stopped meanwhile
  state->phase = AgentPhase::kRunning;
  state->log.info("agent started",
                  {{"agent_id", state->session.agent_id},
                   {"agent_name", state->session.agent_name},
                   {"pool", state->session.pool},
                   {"instance_id", state->instance_id},
                   {"capacity", state->capacity},
                   {"version", state->version},
                   {"heartbeat_interval_ms", state->session.heartbeat_interval.count()},
                   {"lease_ttl_ms", state->session.lease_ttl.count()}});
  asio::co_spawn(state->executor, heartbeat_loop(state),
                 fatal_on_error(state, "agent heartbeat loop"));
  asio::co_spawn(state->executor, health_loop(state), fatal_on_error(state, "readiness loop"));
  co_await claim_loop(state, backoff);
}

}  // namespace

void fatal(RuntimeState& state, int code, const std::string& message) {
  if (state.exit_code) return;
  state.log.error("fatal error; exiting", {{"error", obs::redact(message)}, {"exit_code", code}});
  std::fprintf(stderr, "outpost-agent: error: %s\n", obs::redact(message).c_str());
  std::fflush(stderr);
  state.exit_code = code;
  state.phase = AgentPhase::kDone;
  state.job_group.emit();
  state.wake.notify();
  if (state.stop_io) state.stop_io();
}

void spawn_agent_main(const std::shared_ptr<RuntimeState>& state) {
  asio::co_spawn(state->executor, agent_main(state),
                 fatal_on_error(state, "connect and claim loop"));
}

void begin_shutdown(const std::shared_ptr<RuntimeState>& state, std::string_view why) {
  if (state->exit_code) return;
  if (state->stopping()) {
    state->log.info("second signal: shutdown grace ends now");
    state->grace_deadline = Clock::now();
    state->wake.notify();
    return;
  }
  const bool connecting = state->phase == AgentPhase::kConnecting;
  state->phase = AgentPhase::kStopping;
  state->grace_deadline = Clock::now() + state->config.shutdown_grace;
  state->log.info("shutting down", {{"signal", why},
                                    {"running_jobs", static_cast<std::int64_t>(state->jobs.size())},
                                    {"grace_ms", state->config.shutdown_grace.count()}});
  if (connecting) {
    // Still connecting: nothing was claimed, so stop at once.
    state->log.info("agent stopped");
    state->exit_code = 0;
    state->phase = AgentPhase::kDone;
    if (state->stop_io) state->stop_io();
    return;
  }
  asio::co_spawn(state->executor, shutdown(state), fatal_on_error(state, "shutdown"));
}

}  // namespace outpost::runtime
