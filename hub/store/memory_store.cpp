// MemoryStore: tokens, sources, instances, listing, results, retention and
// counts. The job lifecycle (claim, leases, results) is in memory_store_jobs.cpp.
#include "store/memory_store.hpp"

#include "util.hpp"

namespace outpost::hub {

void MemoryStore::on_jobs_available(JobsAvailable callback) {
  auto shared = std::make_shared<const JobsAvailable>(std::move(callback));
  std::lock_guard lock(mu_);
  callback_ = std::move(shared);
}

void MemoryStore::notify(const std::string& pool_id) {
  std::shared_ptr<const JobsAvailable> cb;
  {
    std::lock_guard lock(mu_);
    cb = callback_;
  }
  if (cb && *cb) (*cb)(pool_id);
}

TokenRecord MemoryStore::create_token(const NewToken& token, SystemTime now) {
  std::lock_guard lock(mu_);
  const std::uint64_t key = next_token_++;
  TokenRecord t;
  t.id = "tok_" + std::to_string(key);
  t.name = token.name;
  t.pool_id = token.pool_id;
  t.hash = token.hash;
  t.created_at = now;
  token_ids_.emplace(t.id, key);
  token_hashes_.emplace(t.hash, key);
  return tokens_.emplace(key, std::move(t)).first->second;
}

bool MemoryStore::revoke_token(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = token_ids_.find(id);
  if (it == token_ids_.end()) return false;
  tokens_.at(it->second).revoked = true;
  return true;
}

std::optional<TokenRecord> MemoryStore::find_token_by_hash(std::string_view hash) {
  std::lock_guard lock(mu_);
  auto it = token_hashes_.find(std::string(hash));
  if (it == token_hashes_.end()) return std::nullopt;
  return tokens_.at(it->second);
}

std::vector<TokenRecord> MemoryStore::list_tokens() {
  std::lock_guard lock(mu_);
  std::vector<TokenRecord> out;
  out.reserve(tokens_.size());
  for (const auto& [key, t] : tokens_) out.push_back(t);
  return out;
}

void MemoryStore::touch_token(const std::string& id, SystemTime now) {
  std::lock_guard lock(mu_);
  if (auto it = token_ids_.find(id); it != token_ids_.end()) {
    tokens_.at(it->second).last_used_at = now;
  }
}

SourceRecord MemoryStore::create_source(const NewSource& source, SystemTime now) {
  std::lock_guard lock(mu_);
  const std::uint64_t key = next_source_++;
  SourceRecord s{
      "src_" + std::to_string(key), source.name, source.type, source.pool_id, source.config, now};
  source_ids_.emplace(s.id, key);
  return sources_.emplace(key, std::move(s)).first->second;
}

std::optional<SourceRecord> MemoryStore::get_source(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = source_ids_.find(id);
  if (it == source_ids_.end()) return std::nullopt;
  return sources_.at(it->second);
}

std::vector<SourceRecord> MemoryStore::list_sources() {
  std::lock_guard lock(mu_);
  std::vector<SourceRecord> out;
  out.reserve(sources_.size());
  for (const auto& [key, s] : sources_) out.push_back(s);
  return out;
}

InstanceRecord MemoryStore::upsert_instance(const InstanceUpdate& u, SystemTime now) {
  std::lock_guard lock(mu_);
  auto [it, inserted] = instances_.try_emplace(u.instance_id);
  InstanceRecord& inst = it->second;
  if (inserted) {
    inst.instance_id = u.instance_id;
    inst.first_seen = now;
  }
  inst.token_id = u.token_id;
  inst.pool_id = u.pool_id;
  inst.last_seen = now;
  if (u.version) inst.version = *u.version;
  if (u.hostname) inst.hostname = *u.hostname;
  if (u.capacity) inst.capacity = *u.capacity;
  if (u.reported_running) inst.reported_running = *u.reported_running;
  if (u.uptime_ms) inst.uptime_ms = *u.uptime_ms;
  if (u.connectors) inst.connectors = *u.connectors;
  return inst;
}

std::vector<InstanceRecord> MemoryStore::list_instances() {
  std::lock_guard lock(mu_);
  std::map<std::string, std::int64_t> leased;
  for (const auto& [when, seq] : expiries_) {
    const JobRecord& rec = jobs_.at(seq).rec;
    if (rec.status == JobStatus::kRunning && rec.lease) ++leased[rec.lease->instance_id];
  }
  std::vector<InstanceRecord> out;
  out.reserve(instances_.size());
  for (const auto& [id, inst] : instances_) {
    out.push_back(inst);
    if (auto it = leased.find(id); it != leased.end()) out.back().leased = it->second;
  }
  return out;
}

std::size_t MemoryStore::purge_instances_before(SystemTime cutoff) {
  std::lock_guard lock(mu_);
  return std::erase_if(instances_,
                       [cutoff](const auto& kv) { return kv.second.last_seen < cutoff; });
}

std::optional<JobRecord> MemoryStore::get_job(const std::string& id) {
  std::lock_guard lock(mu_);
  if (Job* job = find(id)) return job->rec;
  return std::nullopt;
}

JobPage MemoryStore::list_jobs(const JobFilter& filter, std::size_t limit,
                               std::optional<std::uint64_t> before_seq) {
  std::lock_guard lock(mu_);
  JobPage page;
  auto it = before_seq ? jobs_.lower_bound(*before_seq) : jobs_.end();
  while (it != jobs_.begin()) {
    --it;
    const JobRecord& rec = it->second.rec;
    if (filter.status && rec.status != *filter.status) continue;
    if (filter.pool_id && rec.pool_id != *filter.pool_id) continue;
    if (filter.source_id && rec.source_id != filter.source_id) continue;
    if (page.jobs.size() == limit) {
      page.more = true;
      break;
    }
    page.jobs.push_back(rec);
  }
  return page;
}

bool MemoryStore::read_parts(const std::string& job_id, const PartSink& sink) {
  // Copies one part at a time, so the lock is never held while the sink runs.
  std::uint64_t next = 0;
  for (;;) {
    std::uint64_t seq = 0;
    std::string text;
    {
      std::lock_guard lock(mu_);
      Job* job = find(job_id);
      if (job == nullptr) return next != 0;
      auto it = job->parts.lower_bound(next);
      if (it == job->parts.end()) return true;
      seq = it->first;
      text = it->second.text;
    }
    if (!sink(seq, text)) return true;
    next = seq + 1;
  }
}

std::optional<std::uint64_t> MemoryStore::read_rows(const std::string& job_id, std::uint64_t offset,
                                                    std::uint64_t limit, const LineSink& sink) {
  // Parts before the window are skipped by their line counts; then one part
  // at a time is copied out, so the sink never runs under the lock.
  std::uint64_t skip = offset;
  std::uint64_t given = 0;
  std::uint64_t next_seq = 0;
  while (given < limit) {
    std::string text;
    {
      std::lock_guard lock(mu_);
      Job* job = find(job_id);
      if (job == nullptr) {
        if (next_seq == 0) return std::nullopt;
        return given;  // deleted meanwhile
      }
      auto it = job->parts.lower_bound(next_seq);
      while (it != job->parts.end() && skip >= it->second.lines) {
        skip -= it->second.lines;
        ++it;
      }
      if (it == job->parts.end()) return given;
      text = it->second.text;
      next_seq = it->first + 1;
    }
    for (std::size_t pos = 0; pos < text.size() && given < limit;) {
      const std::size_t end = text.find('\n', pos);
      const std::size_t stop = end == std::string::npos ? text.size() : end;
      if (skip > 0) {
        --skip;
      } else {
        ++given;
        if (!sink(std::string_view(text).substr(pos, stop - pos))) return given;
      }
      pos = stop + 1;
    }
  }
  return given;
}

std::size_t MemoryStore::purge_finished_before(SystemTime cutoff, std::size_t batch) {
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  while (n < batch && !finished_.empty() && finished_.begin()->first < cutoff) {
    const std::uint64_t seq = finished_.begin()->second;
    finished_.erase(finished_.begin());
    auto it = jobs_.find(seq);
    if (it == jobs_.end()) continue;
    drop_lease(it->second);
    job_ids_.erase(it->second.rec.id);
    jobs_.erase(it);
    ++n;
  }
  return n;
}

StoreCounts MemoryStore::counts(SystemTime online_since) {
  std::lock_guard lock(mu_);
  StoreCounts c;
  for (auto s : {JobStatus::kScheduled, JobStatus::kRunning, JobStatus::kSucceeded,
                 JobStatus::kFailed, JobStatus::kCancelled}) {
    c.jobs_by_status[to_string(s)] = 0;
  }
  for (const auto& [seq, job] : jobs_) ++c.jobs_by_status[to_string(job.rec.status)];
  for (const auto& [pool, seqs] : ready_) c.queue_depth[pool] = seqs.size();
  for (const auto& [id, inst] : instances_) {
    if (inst.last_seen >= online_since) ++c.agents_online[inst.pool_id];
  }
  return c;
}

}  // namespace outpost::hub
