// HubService: the admin API (hub-admin-api.md, hub-v2.md §2) — tokens,
// sources, jobs, paging, result rows and agents — plus stats and metrics.
#include <charconv>

#include "service.hpp"
#include "util.hpp"
#include "views.hpp"

namespace outpost::hub {

namespace {

using K = Answer::Kind;

constexpr std::string_view kCursorPrefix = "c1.";

Answer job_not_found(const std::string& id) {
  return Answer::error(K::kNotFound, "job_not_found", "no job with id '" + id + "'");
}

/// Calls `fn` with each line of stored NDJSON (every line ends in '\n').
template <typename Fn>
void for_each_line(std::string_view ndjson, Fn&& fn) {
  for (std::size_t pos = 0; pos < ndjson.size();) {
    const std::size_t end = ndjson.find('\n', pos);
    fn(ndjson.substr(pos, end - pos));
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
}

std::optional<std::uint64_t> parse_u64(std::string_view text) {
  std::uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return v;
}

}  // namespace

Answer HubService::create_token(const Json& body) {
  NewToken t;
  t.name = req_string(body, "name");
  t.pool_id = pool_of(body);
  // 32 random bytes: the secret is shown once and only its hash is kept.
  const std::string secret = "opt_" + random_hex(32);
  t.hash = sha256(secret);
  const auto rec = store_->create_token(t, clock_->now());
  log_.info("agent token created", {{"token_id", rec.id}, {"name", rec.name}});
  return Answer::of(K::kCreated, Json{{"id", rec.id},
                                      {"token", secret},
                                      {"name", rec.name},
                                      {"pool_id", rec.pool_id},
                                      {"agent_id", agent_id_for(rec.id)}});
}

Answer HubService::revoke_token(const std::string& id) {
  if (!store_->revoke_token(id)) {
    return Answer::error(K::kNotFound, "token_not_found", "no token with id '" + id + "'");
  }
  end_waiters_of(id);
  log_.info("agent token revoked", {{"token_id", id}});
  return Answer::of(K::kNoContent, nullptr);
}

Answer HubService::list_tokens() {
  Json out = Json::array();
  for (const auto& t : store_->list_tokens()) out.push_back(token_view(t));
  return Answer::ok(std::move(out));
}

Answer HubService::create_source(const Json& body) {
  NewSource s;
  s.name = req_string(body, "name");
  s.type = req_string(body, "type");
  auto config = opt_object(body, "config");
  if (!config) throw BadRequest{"missing_field", "field 'config' (an object) is required"};
  s.config = std::move(*config);
  s.pool_id = pool_of(body);
  const auto rec = store_->create_source(s, clock_->now());
  log_.info("source created", {{"source_id", rec.id}, {"name", rec.name}, {"type", rec.type}});
  return Answer::of(K::kCreated, Json{{"id", rec.id}});
}

Answer HubService::list_sources() {
  Json out = Json::array();
  for (const auto& s : store_->list_sources()) out.push_back(source_view(s));
  return Answer::ok(std::move(out));
}

Answer HubService::get_source(const std::string& id) {
  auto s = store_->get_source(id);
  if (!s) return Answer::error(K::kNotFound, "source_not_found", "no source with id '" + id + "'");
  return Answer::ok(source_view(*s));
}

std::variant<NewJob, Answer> HubService::new_job(const Json& body) {
  NewJob job;
  job.type = req_string(body, "type");
  const auto source_id = opt_string(body, "source_id");
  auto source_obj = opt_object(body, "source");
  job.params = opt_object(body, "params").value_or(Json::object());
  job.timeout_ms = opt_int(body, "timeout_ms", 1, 24LL * 3600 * 1000).value_or(60'000);
  job.max_attempts =
      static_cast<int>(opt_int(body, "max_attempts", 1, 100).value_or(options_.max_attempts));
  job.retry_backoff_ms = opt_int(body, "retry_backoff_ms", 0, 3'600'000).value_or(1000);
  if (source_id.has_value() == source_obj.has_value()) {
    throw BadRequest{"invalid_source",
                     "give exactly one of 'source_id' or 'source': {\"ref\": \"NAME\"}"};
  }
  if (source_obj) {
    const auto ref = opt_string(*source_obj, "ref");
    if (!ref || ref->empty()) {
      throw BadRequest{"invalid_source",
                       "'source' must be {\"ref\": \"NAME\"} with a non-empty name"};
    }
    job.source = Json{{"ref", *ref}};
    job.pool_id = pool_of(body);
  } else {
    auto s = store_->get_source(*source_id);
    if (!s) {
      return Answer::error(K::kNotFound, "source_not_found",
                           "no source with id '" + *source_id + "'");
    }
    // Secret references such as "${env:PGPASSWORD}" pass through untouched:
    // the agent resolves them on its own host.
    job.source = Json{{"id", s->id}, {"name", s->name}, {"type", s->type}, {"config", s->config}};
    job.source_id = s->id;
    job.pool_id = s->pool_id;
  }
  return job;
}

Answer HubService::create_job(const Json& body) {
  auto built = new_job(body);
  if (auto* error = std::get_if<Answer>(&built)) return std::move(*error);
  const auto rec = store_->create_job(std::get<NewJob>(built), clock_->now());
  log_.info("job scheduled", {{"job_id", rec.id}, {"type", rec.type}});
  return Answer::of(K::kCreated, Json{{"id", rec.id}});
}

Answer HubService::get_job(const std::string& id) {
  auto job = store_->get_job(id);
  if (!job) return job_not_found(id);
  Json view = job_view(*job);
  if (job->type == "query") {
    // A streamed query's rows are kept as the agent's JSON text: splice them
    // into the view instead of building (and dumping) a DOM of every row.
    std::string rows;
    store_->read_parts(id, [&](std::uint64_t, std::string_view text) {
      for_each_line(text, [&](std::string_view line) {
        rows.push_back(rows.empty() ? '[' : ',');
        rows.append(line);
      });
      return true;
    });
    if (rows.empty()) {
      if (job->result && job->result->is_object() && job->result->contains("rows")) {
        view["rows"] = (*job->result)["rows"];
      }
      return Answer::ok(std::move(view));
    }
    view.erase("rows");
    std::string text = view.dump(-1, ' ', false, Json::error_handler_t::replace);
    text.pop_back();  // the view's closing brace
    text.append(",\"rows\":").append(rows).append("]}");
    return {K::kOk, nullptr, std::move(text)};
  }
  if (job->type == "metadata") {
    // Each part line is a table with an added "schema": regroup them into
    // result.schemas exactly as an unsplit result would carry them.
    Json schemas = Json::array();
    std::map<std::string, std::size_t> index;
    store_->read_parts(id, [&](std::uint64_t, std::string_view text) {
      for_each_line(text, [&](std::string_view line) {
        Json table = Json::parse(line, nullptr, false);
        if (!table.is_object()) return;
        std::string schema = table.contains("schema") && table["schema"].is_string()
                                 ? table["schema"].get<std::string>()
                                 : "";
        table.erase("schema");
        auto [pos, added] = index.try_emplace(schema, schemas.size());
        if (added) schemas.push_back({{"name", schema}, {"tables", Json::array()}});
        schemas[pos->second]["tables"].push_back(std::move(table));
      });
      return true;
    });
    if (!index.empty()) {
      if (!view["result"].is_object()) view["result"] = Json::object();
      view["result"]["schemas"] = std::move(schemas);
    }
  }
  return Answer::ok(std::move(view));
}

Answer HubService::list_jobs(std::string_view query) {
  JobFilter filter;
  if (auto s = query_param(query, "status")) {
    filter.status = parse_job_status(*s);
    if (!filter.status) {
      throw BadRequest{"invalid_field",
                       "status must be scheduled, running, succeeded, failed or cancelled"};
    }
  }
  if (auto s = query_param(query, "source_id")) filter.source_id = *s;
  if (auto s = query_param(query, "pool_id")) filter.pool_id = *s;
  std::uint64_t limit = 100;
  if (auto s = query_param(query, "limit")) {
    auto v = parse_u64(*s);
    if (!v || *v < 1 || *v > 1000) {
      throw BadRequest{"invalid_field", "limit must be an integer from 1 to 1000"};
    }
    limit = *v;
  }
  std::optional<std::uint64_t> before;
  if (auto s = query_param(query, "cursor"); s && !s->empty()) {
    std::string_view c = *s;
    if (c.starts_with(kCursorPrefix)) before = parse_u64(c.substr(kCursorPrefix.size()));
    if (!before) throw BadRequest{"invalid_cursor", "cursor is not one this hub returned"};
  }
  const auto page = store_->list_jobs(filter, limit, before);
  Json jobs = Json::array();
  for (const auto& job : page.jobs) jobs.push_back(job_summary(job));
  Json next = nullptr;
  if (page.more && !page.jobs.empty()) {
    next = std::string(kCursorPrefix) + std::to_string(page.jobs.back().seq);
  }
  return Answer::ok(Json{{"jobs", std::move(jobs)}, {"next_cursor", std::move(next)}});
}

Answer HubService::cancel_job(const std::string& id) {
  const auto out = store_->cancel(id, clock_->now());
  switch (out.kind) {
    case CancelOutcome::Kind::kCancelled:
      log_.info("job cancelled", {{"job_id", id}});
      probe_job_finished(id);
      return Answer::of(K::kAccepted, Json{{"id", id}, {"status", to_string(out.status)}});
    case CancelOutcome::Kind::kFinished:
      return Answer::error(K::kConflict, "job_finished",
                           std::string("the job already finished as ") + to_string(out.status));
    case CancelOutcome::Kind::kNotFound: break;
  }
  return job_not_found(id);
}

Answer HubService::list_agents() {
  std::map<std::string, TokenRecord> tokens;
  for (auto& t : store_->list_tokens()) tokens.emplace(t.id, std::move(t));
  Json out = Json::array();
  for (const auto& inst : store_->list_instances()) {
    auto tok = tokens.find(inst.token_id);
    out.push_back(instance_view(inst, tok == tokens.end() ? "" : tok->second.name,
                                tok != tokens.end() && tok->second.revoked));
  }
  return Answer::ok(std::move(out));
}

std::optional<Answer> HubService::stream_rows(const std::string& id, std::uint64_t offset,
                                              std::uint64_t limit, const LineSink& sink) {
  auto job = store_->get_job(id);
  if (!job) return job_not_found(id);
  // A small result may carry its rows inline instead of in parts.
  if (job->part_count == 0 && job->result && job->result->is_object() &&
      job->result->contains("rows") && (*job->result)["rows"].is_array()) {
    const Json& rows = (*job->result)["rows"];
    for (std::uint64_t i = offset; i < rows.size() && i - offset < limit; ++i) {
      if (!sink(rows[i].dump(-1, ' ', false, Json::error_handler_t::replace))) break;
    }
    return std::nullopt;
  }
  if (!store_->read_rows(id, offset, limit, sink)) return job_not_found(id);
  return std::nullopt;
}

HubService::Stats HubService::stats() {
  Stats s;
  {
    std::lock_guard lock(mu_);
    s.waiters = waiters_.size();
  }
  const auto counts = store_->counts(clock_->now());
  auto n = [&](const char* status) {
    auto it = counts.jobs_by_status.find(status);
    return it == counts.jobs_by_status.end() ? std::size_t{0} : std::size_t(it->second);
  };
  s.scheduled = n("scheduled");
  s.running = n("running");
  s.succeeded = n("succeeded");
  s.failed = n("failed");
  s.cancelled = n("cancelled");
  return s;
}

std::string HubService::metrics_text() {
  // An instance counts as online while its heartbeats are due (3 missed = gone).
  const auto online_since = clock_->now() - 3 * options_.heartbeat_interval;
  return metrics_->serialize(store_->counts(online_since));
}

}  // namespace outpost::hub
