// MemoryStore: schedules (hub-v2.md §4). One hub owns a memory store, so
// "exactly one job per due time" is the compare-and-set under the mutex.
#include "store/memory_store.hpp"

#include <algorithm>

namespace outpost::hub {

ScheduleRecord MemoryStore::create_schedule(const NewSchedule& spec, SystemTime now) {
  std::lock_guard lock(mu_);
  const std::uint64_t key = next_schedule_++;
  ScheduleRecord s;
  s.id = "sch_" + std::to_string(key);
  s.source_id = spec.source_id;
  s.type = spec.type;
  s.params = spec.params;
  s.timeout_ms = spec.timeout_ms;
  s.every_ms = spec.every_ms;
  s.cron = spec.cron;
  s.timezone = spec.timezone;
  s.next_run_at = spec.next_run_at;
  s.created_at = now;
  return schedules_.emplace(key, std::move(s)).first->second;
}

std::vector<ScheduleRecord> MemoryStore::list_schedules() {
  std::lock_guard lock(mu_);
  std::vector<ScheduleRecord> out;
  out.reserve(schedules_.size());
  for (const auto& [key, s] : schedules_) out.push_back(s);
  return out;
}

bool MemoryStore::delete_schedule(const std::string& id) {
  std::lock_guard lock(mu_);
  return std::erase_if(schedules_, [&](const auto& kv) { return kv.second.id == id; }) > 0;
}

std::size_t MemoryStore::cancel_schedules_for_source(const std::string& source_id) {
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  for (auto& [key, s] : schedules_) {
    if (s.source_id != source_id || s.status != "active") continue;
    s.status = "cancelled";
    s.next_run_at.reset();
    ++n;
  }
  return n;
}

std::vector<ScheduleRecord> MemoryStore::due_schedules(SystemTime now, std::size_t limit) {
  std::lock_guard lock(mu_);
  std::vector<ScheduleRecord> out;
  for (const auto& [key, s] : schedules_) {
    if (s.status == "active" && s.next_run_at && *s.next_run_at <= now) out.push_back(s);
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return *a.next_run_at < *b.next_run_at; });
  if (out.size() > limit) out.resize(limit);
  return out;
}

std::optional<JobRecord> MemoryStore::fire_schedule(const std::string& id, SystemTime due,
                                                    SystemTime next, const NewJob& job,
                                                    SystemTime now) {
  JobRecord created;
  {
    std::lock_guard lock(mu_);
    auto it = std::find_if(schedules_.begin(), schedules_.end(),
                           [&](const auto& kv) { return kv.second.id == id; });
    if (it == schedules_.end()) return std::nullopt;
    ScheduleRecord& s = it->second;
    if (s.status != "active" || s.next_run_at != due) return std::nullopt;
    created = insert_job(job, now);
    s.next_run_at = next;
    s.last_job_id = created.id;
  }
  notify(created.pool_id);
  return created;
}

std::optional<SystemTime> MemoryStore::next_schedule_at() {
  std::lock_guard lock(mu_);
  std::optional<SystemTime> out;
  for (const auto& [key, s] : schedules_) {
    if (s.status == "active" && s.next_run_at && (!out || *s.next_run_at < *out)) {
      out = s.next_run_at;
    }
  }
  return out;
}

}  // namespace outpost::hub
