// MemoryStore: pools, the source lifecycle (patch, delete) and jobs stored
// already failed (a Test connection with no agent online).
#include "store/memory_store.hpp"

namespace outpost::hub {

MemoryStore::MemoryStore() {
  // The default pool exists since the store does (as in PostgreSQL, where
  // the migration that makes it stamps it), not since 1970.
  pools_.emplace(0, PoolRecord{std::string(kDefaultPool), std::string(kDefaultPoolName),
                               std::chrono::system_clock::now()});
}

std::optional<PoolRecord> MemoryStore::create_pool(const std::string& name, SystemTime now) {
  std::lock_guard lock(mu_);
  for (const auto& [key, p] : pools_) {
    if (p.name == name) return std::nullopt;
  }
  const std::uint64_t key = next_pool_++;
  PoolRecord p{"pool_" + std::to_string(key), name, now};
  return pools_.emplace(key, std::move(p)).first->second;
}

std::optional<PoolRecord> MemoryStore::get_pool(const std::string& id) {
  std::lock_guard lock(mu_);
  for (const auto& [key, p] : pools_) {
    if (p.id == id) return p;
  }
  return std::nullopt;
}

std::vector<PoolRecord> MemoryStore::list_pools() {
  std::lock_guard lock(mu_);
  std::vector<PoolRecord> out;
  out.reserve(pools_.size());
  for (const auto& [key, p] : pools_) out.push_back(p);
  return out;
}

std::optional<SourceRecord> MemoryStore::update_source(const std::string& id,
                                                       const SourcePatch& patch) {
  std::lock_guard lock(mu_);
  auto it = source_ids_.find(id);
  if (it == source_ids_.end()) return std::nullopt;
  SourceRecord& s = sources_.at(it->second);
  if (patch.name) s.name = *patch.name;
  if (patch.config) s.config = *patch.config;
  if (patch.pool_id) s.pool_id = *patch.pool_id;
  return s;
}

std::optional<std::size_t> MemoryStore::delete_source(const std::string& id, SystemTime now) {
  std::lock_guard lock(mu_);
  auto it = source_ids_.find(id);
  if (it == source_ids_.end()) return std::nullopt;
  sources_.erase(it->second);
  source_ids_.erase(it);
  const Json error{{"code", "cancelled"},
                   {"message", "cancelled: its source was deleted"},
                   {"retryable", false}};
  std::size_t cancelled = 0;
  for (auto& [seq, job] : jobs_) {
    if (job.rec.source_id != id || is_finished(job.rec.status)) continue;
    cancel_unfinished(job, now, error);
    ++cancelled;
  }
  return cancelled;
}

std::uint64_t MemoryStore::agents_online(const std::string& pool_id, SystemTime since) {
  std::lock_guard lock(mu_);
  std::uint64_t n = 0;
  for (const auto& [id, inst] : instances_) {
    if (inst.pool_id == pool_id && inst.last_seen >= since) ++n;
  }
  return n;
}

JobRecord MemoryStore::create_failed_job(const NewJob& spec, const Json& error, SystemTime now) {
  std::lock_guard lock(mu_);
  Job job;
  job.rec = new_job_record(spec, now);
  job.rec.status = JobStatus::kFailed;
  job.rec.error = error;
  job_ids_.emplace(job.rec.id, job.rec.seq);
  Job& stored = jobs_.emplace(job.rec.seq, std::move(job)).first->second;
  mark_finished(stored, now);
  return stored.rec;
}

}  // namespace outpost::hub
