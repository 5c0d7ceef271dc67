// Admin API calls (hub-admin-api.md): tokens, sources, jobs, agents.
#include <algorithm>

#include "store.hpp"

namespace outpost::hub {

Store::Reply Store::create_token(const Json& body) {
  const auto name = req_string(body, "name");
  // 32 random bytes: the secret is shown once and only its hash is kept.
  const std::string secret = "opt_" + random_hex(32);
  std::lock_guard lock(mu_);
  Token t;
  t.id = "tok_" + std::to_string(next_token_++);
  t.name = name;
  t.hash = sha256(secret);
  t.created_at = std::chrono::system_clock::now();
  token_by_hash_.emplace(t.hash, t.id);
  log_.info("agent token created", {{"token_id", t.id}, {"name", name}});
  Json out{{"id", t.id}, {"token", secret}, {"name", name}, {"agent_id", agent_id_for(t.id)}};
  tokens_.emplace(t.id, std::move(t));
  return json_reply(201, out);
}

Store::Reply Store::revoke_token(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = tokens_.find(id);
  if (it == tokens_.end()) {
    return error_response(404, "token_not_found", "no token with id '" + id + "'");
  }
  it->second.revoked = true;
  token_by_hash_.erase(it->second.hash);
  // Long polls held open with this token end now, with the 401 they would
  // get if they asked again.
  for (auto w = waiters_.begin(); w != waiters_.end();) {
    auto next = std::next(w);
    if (w->token_id == id) {
      finish_waiter(w->id, error_response(401, "unauthorized", "the access token was revoked"));
    }
    w = next;
  }
  log_.info("agent token revoked", {{"token_id", id}});
  http::Response r;
  r.status = 204;
  return r;
}

Store::Reply Store::list_tokens() const {
  std::lock_guard lock(mu_);
  Json out = Json::array();
  for (const auto& [id, t] : tokens_) {
    out.push_back({{"id", t.id},
                   {"name", t.name},
                   {"agent_id", agent_id_for(t.id)},
                   {"created_at", rfc3339(t.created_at)},
                   {"revoked", t.revoked}});
  }
  return json_reply(200, out);
}

Store::Reply Store::create_source(const Json& body) {
  const auto name = req_string(body, "name");
  const auto type = req_string(body, "type");
  auto config = opt_object(body, "config");
  if (!config) throw BadRequest{"missing_field", "field 'config' (an object) is required"};
  std::lock_guard lock(mu_);
  Source s{"src_" + std::to_string(next_source_++), name, type, std::move(*config)};
  Json out{{"id", s.id}};
  log_.info("source created", {{"source_id", s.id}, {"name", name}, {"type", type}});
  sources_.emplace(s.id, std::move(s));
  return json_reply(201, out);
}

Store::Reply Store::list_sources() const {
  std::lock_guard lock(mu_);
  Json out = Json::array();
  // Config is omitted: it may hold literal credentials.
  for (const auto& [id, s] : sources_) {
    out.push_back({{"id", s.id}, {"name", s.name}, {"type", s.type}});
  }
  return json_reply(200, out);
}

Store::Reply Store::create_job(const Json& body) {
  const auto type = req_string(body, "type");
  const auto source_id = opt_string(body, "source_id");
  auto source_obj = opt_object(body, "source");
  auto params = opt_object(body, "params").value_or(Json::object());
  const auto timeout_ms = opt_int(body, "timeout_ms", 1, 24LL * 3600 * 1000).value_or(60'000);
  if (source_id.has_value() == source_obj.has_value()) {
    throw BadRequest{"invalid_source",
                     "give exactly one of 'source_id' or 'source': {\"ref\": \"NAME\"}"};
  }
  Json source;
  if (source_obj) {
    const auto ref = opt_string(*source_obj, "ref");
    if (!ref || ref->empty()) {
      throw BadRequest{"invalid_source",
                       "'source' must be {\"ref\": \"NAME\"} with a non-empty name"};
    }
    source = Json{{"ref", *ref}};
  }
  std::lock_guard lock(mu_);
  if (source_id) {
    auto it = sources_.find(*source_id);
    if (it == sources_.end()) {
      return error_response(404, "source_not_found", "no source with id '" + *source_id + "'");
    }
    const Source& s = it->second;
    // Secret references such as "${env:PGPASSWORD}" pass through untouched:
    // the agent resolves them on its own host.
    source = Json{{"id", s.id}, {"name", s.name}, {"type", s.type}, {"config", s.config}};
  }
  Job job;
  job.seq = next_job_++;
  job.id = "job_" + std::to_string(job.seq);
  job.type = type;
  job.source = std::move(source);
  job.params = std::move(params);
  job.timeout_ms = timeout_ms;
  job.created_at = std::chrono::system_clock::now();
  auto [it, inserted] = jobs_.emplace(job.id, std::move(job));
  enqueue(it->second);
  log_.info("job scheduled", {{"job_id", it->first}, {"type", type}});
  dispatch();
  return json_reply(201, Json{{"id", it->first}});
}

namespace {

// Calls `fn` with each line of a stored part (see Job::parts).
template <typename Fn>
void for_each_line(std::string_view ndjson, Fn&& fn) {
  for (std::size_t pos = 0; pos < ndjson.size();) {
    const std::size_t end = ndjson.find('\n', pos);
    fn(ndjson.substr(pos, end - pos));
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
}

}  // namespace

Json Store::job_view(const Job& job) const {
  auto opt = [](const std::optional<std::string>& s) { return s ? Json(*s) : Json(nullptr); };
  Json result = job.result ? *job.result : Json(nullptr);
  Json rows = nullptr;
  if (job.type == "query") {
    if (!job.parts.empty()) {
      rows = Json::array();  // spliced in as text by get_job
    } else if (result.is_object() && result.contains("rows")) {
      rows = result["rows"];
    }
  } else if (job.type == "metadata" && !job.parts.empty()) {
    // Each part line is a table with an added "schema": regroup them into
    // result.schemas exactly as an unsplit result would carry them.
    Json schemas = Json::array();
    std::map<std::string, std::size_t> index;
    for (const auto& [seq, lines] : job.parts) {
      for_each_line(lines, [&](std::string_view text) {
        Json table = Json::parse(text, nullptr, false);
        if (!table.is_object()) return;
        std::string schema = table.contains("schema") && table["schema"].is_string()
                                 ? table["schema"].get<std::string>()
                                 : "";
        table.erase("schema");
        auto [pos, added] = index.try_emplace(schema, schemas.size());
        if (added) schemas.push_back({{"name", schema}, {"tables", Json::array()}});
        schemas[pos->second]["tables"].push_back(std::move(table));
      });
    }
    if (!result.is_object()) result = Json::object();
    result["schemas"] = std::move(schemas);
  }
  Json out{
      {"id", job.id},
      {"type", job.type},
      {"status", to_string(job.status)},
      {"attempt", job.attempt},
      {"agent_instance", job.agent_instance.empty() ? Json(nullptr) : Json(job.agent_instance)},
      {"created_at", rfc3339(job.created_at)},
      {"started_at", opt(job.started_at)},
      {"finished_at", opt(job.finished_at)},
      {"result", std::move(result)},
      {"error", job.error ? *job.error : Json(nullptr)},
      {"rows", std::move(rows)},
      {"timeout_ms", job.timeout_ms},
      {"parts", job.part_count}};
  if (job.progress) out["progress"] = *job.progress;
  return out;
}

Store::Reply Store::get_job(const std::string& id) const {
  std::lock_guard lock(mu_);
  const Job* job = find_job(id);
  if (job == nullptr) return error_response(404, "job_not_found", "no job with id '" + id + "'");
  if (job->type != "query" || job->parts.empty()) return json_reply(200, job_view(*job));
  // A streamed query's rows are kept as the agent's JSON text: splice them
  // into the view instead of building (and dumping) a DOM of every row.
  Json view = job_view(*job);
  view.erase("rows");
  http::Response r = json_reply(200, view);
  std::size_t size = r.body.size() + 16;
  for (const auto& [seq, lines] : job->parts) size += lines.size();
  r.body.pop_back();  // the view's closing brace
  r.body.reserve(size);
  r.body.append(",\"rows\":[");
  bool first = true;
  for (const auto& [seq, lines] : job->parts) {
    for_each_line(lines, [&](std::string_view line) {
      if (!first) r.body.push_back(',');
      r.body.append(line);
      first = false;
    });
  }
  r.body.append("]}");
  return r;
}

Store::Reply Store::list_jobs(std::string_view status_filter) const {
  std::lock_guard lock(mu_);
  std::vector<const Job*> list;
  for (const auto& [id, job] : jobs_) {
    if (status_filter.empty() || status_filter == to_string(job.status)) list.push_back(&job);
  }
  std::sort(list.begin(), list.end(), [](const Job* a, const Job* b) { return a->seq < b->seq; });
  Json out = Json::array();
  for (const Job* job : list) {
    out.push_back({{"id", job->id},
                   {"type", job->type},
                   {"status", to_string(job->status)},
                   {"attempt", job->attempt},
                   {"agent_instance", job->agent_instance},
                   {"created_at", rfc3339(job->created_at)}});
  }
  return json_reply(200, out);
}

Store::Reply Store::cancel_job(const std::string& id) {
  std::lock_guard lock(mu_);
  Job* job = find_job(id);
  if (job == nullptr) return error_response(404, "job_not_found", "no job with id '" + id + "'");
  switch (job->status) {
    case JobStatus::kSucceeded:
    case JobStatus::kFailed:
      return error_response(409, "job_finished",
                            std::string("the job already finished as ") + to_string(job->status));
    case JobStatus::kCancelled: break;  // idempotent
    case JobStatus::kScheduled: ready_.erase(job->seq); [[fallthrough]];
    case JobStatus::kRunning:
      // A running job keeps its lease until it expires, so the agent's next
      // heartbeat learns cancel_requested: true; after that the job is gone (410).
      job->status = JobStatus::kCancelled;
      job->finished_at = rfc3339(std::chrono::system_clock::now());
      job->error = Json{
          {"code", "cancelled"}, {"message", "cancelled by the operator"}, {"retryable", false}};
      log_.info("job cancelled", {{"job_id", job->id}});
      break;
  }
  return json_reply(202, Json{{"id", job->id}, {"status", to_string(job->status)}});
}

Store::Reply Store::list_agents() const {
  std::lock_guard lock(mu_);
  Json out = Json::array();
  for (const auto& [id, inst] : instances_) {
    auto tok = tokens_.find(inst.token_id);
    const std::int64_t leased = leased_count(inst.instance_id);
    out.push_back({{"agent_id", agent_id_for(inst.token_id)},
                   {"instance_id", inst.instance_id},
                   {"name", tok == tokens_.end() ? "" : tok->second.name},
                   {"version", inst.version},
                   {"hostname", inst.hostname},
                   {"last_seen", rfc3339(inst.last_seen)},
                   {"first_seen", rfc3339(inst.first_seen)},
                   {"running", inst.reported_running.value_or(leased)},
                   {"leased", leased},
                   {"capacity", inst.capacity},
                   {"uptime_ms", inst.uptime_ms ? Json(*inst.uptime_ms) : Json(nullptr)},
                   {"connectors", inst.connectors},
                   {"revoked", tok != tokens_.end() && tok->second.revoked}});
  }
  return json_reply(200, out);
}

}  // namespace outpost::hub
