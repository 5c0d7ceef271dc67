// HubService: pools (hub-v2.md §3) and the source lifecycle — PATCH with
// masked values kept, DELETE cancelling the source's unfinished jobs.
#include "secret_mask.hpp"
#include "service.hpp"
#include "util.hpp"
#include "views.hpp"

namespace outpost::hub {

namespace {

using K = Answer::Kind;

Answer source_not_found(const std::string& id) {
  return Answer::error(K::kNotFound, "source_not_found", "no source with id '" + id + "'");
}

bool holds_mask(const Json& value) {
  return value.is_string() &&
         value.get_ref<const std::string&>().find(kMasked) != std::string::npos;
}

/// `given` (a PATCH's config) with every value the client sent back exactly
/// as GET showed it (masked) replaced by the stored value. A masked value
/// with nothing stored behind it, or a masked string the client edited, is a
/// 400 naming the key: storing "********" literally would break the source.
Json restore_masked(const Json& given, const Json& stored, const std::string& path) {
  const Json shown = mask_secrets(stored);
  Json out = Json::object();
  for (const auto& [key, value] : given.items()) {
    const std::string name = path + "." + key;
    const bool known = stored.is_object() && stored.contains(key);
    if (known && shown.contains(key) && value == shown[key]) {
      out[key] = stored[key];
    } else if (value.is_object() && known && stored[key].is_object()) {
      out[key] = restore_masked(value, stored[key], name);
    } else if (holds_mask(value)) {
      throw BadRequest{"invalid_field",
                       "field '" + name + "' holds a masked value (" + std::string(kMasked) +
                           ") but the stored value differs or is absent; send the full value"};
    } else {
      out[key] = value;
    }
  }
  return out;
}

}  // namespace

std::string HubService::pool_of(const Json& body) {
  const auto id = opt_string(body, "pool_id");
  if (!id || *id == kDefaultPool) return std::string(kDefaultPool);
  if (!store_->get_pool(*id)) {
    throw BadRequest{"invalid_field", "field 'pool_id': no pool with id '" + *id + "'"};
  }
  return *id;
}

std::uint64_t HubService::agents_online(const std::string& pool_id) {
  return store_->agents_online(pool_id, clock_->now() - 3 * options_.heartbeat_interval);
}

Answer HubService::create_pool(const Json& body) {
  const std::string name = req_string(body, "name");
  if (name.empty() || name.size() > 200) {
    throw BadRequest{"invalid_field", "field 'name' must be 1 to 200 characters"};
  }
  const auto pool = store_->create_pool(name, clock_->now());
  if (!pool) {
    return Answer::error(K::kConflict, "pool_exists", "a pool named '" + name + "' exists already");
  }
  log_.info("pool created", {{"pool_id", pool->id}, {"name", pool->name}});
  return Answer::of(K::kCreated, Json{{"id", pool->id}, {"name", pool->name}});
}

Answer HubService::list_pools() {
  const auto pools = store_->list_pools();
  const auto counts = store_->counts(clock_->now() - 3 * options_.heartbeat_interval);
  auto count = [](const std::map<std::string, std::uint64_t>& m, const std::string& id) {
    const auto it = m.find(id);
    return it == m.end() ? std::uint64_t{0} : it->second;
  };
  Json out = Json::array();
  for (const auto& p : pools) {
    out.push_back({{"id", p.id},
                   {"name", p.name},
                   {"agents_online", count(counts.agents_online, p.id)},
                   {"queue_depth", count(counts.queue_depth, p.id)},
                   {"created_at", rfc3339(p.created_at)}});
  }
  return Answer::ok(std::move(out));
}

Answer HubService::update_source(const std::string& id, const Json& body) {
  for (const auto& [key, value] : body.items()) {
    if (key != "name" && key != "config" && key != "pool_id") {
      throw BadRequest{"invalid_field",
                       "field '" + key + "' cannot be changed (only name, config, pool_id)"};
    }
  }
  const auto stored = store_->get_source(id);
  if (!stored) return source_not_found(id);
  SourcePatch patch;
  patch.name = opt_string(body, "name");
  if (patch.name && patch.name->empty()) {
    throw BadRequest{"invalid_field", "field 'name' must not be empty"};
  }
  if (auto config = opt_object(body, "config")) {
    patch.config = restore_masked(*config, stored->config, "config");
  } else if (body.contains("config")) {
    throw BadRequest{"invalid_field", "field 'config' must be an object"};
  }
  if (body.contains("pool_id")) patch.pool_id = pool_of(body);
  const auto updated = store_->update_source(id, patch);
  if (!updated) return source_not_found(id);
  log_.info("source updated", {{"source_id", id}, {"pool_id", updated->pool_id}});
  return Answer::ok(source_view(*updated));
}

Answer HubService::delete_source(const std::string& id) {
  const auto cancelled = store_->delete_source(id, clock_->now());
  if (!cancelled) return source_not_found(id);
  // Its schedules end too (hub-v2.md §3): none may fire for a source that is gone.
  const auto schedules = store_->cancel_schedules_for_source(id);
  log_.info("source deleted",
            {{"source_id", id}, {"jobs_cancelled", *cancelled}, {"schedules_cancelled", schedules}});
  return Answer::of(K::kNoContent, nullptr);
}

}  // namespace outpost::hub
