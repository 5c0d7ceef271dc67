#include "soak/soak_jobs.hpp"

#include <algorithm>
#include <chrono>
#include <set>
#include <stdexcept>

namespace outpost::soak {
namespace {

using nlohmann::json;

/// Counts for as long as it is allowed to (knob.n is 10^11): only a timeout
/// or a cancel ends it.
constexpr const char* kLiteEndless =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < (SELECT n FROM "
    "knob)) SELECT count(*) AS n FROM c";

bool terminal(const std::string& status) {
  return status == "succeeded" || status == "failed" || status == "cancelled";
}

/// True when `view.result.schemas` lists a table (or view) called `name`.
bool metadata_has(const json& view, const std::string& name) {
  const auto& result = view["result"];
  if (!result.is_object() || !result.contains("schemas")) return false;
  for (const auto& schema : result["schemas"]) {
    for (const auto& table : schema.value("tables", json::array())) {
      if (table.value("name", "") == name) return true;
    }
  }
  return false;
}

}  // namespace

const char* to_string(JobKind kind) {
  switch (kind) {
    case JobKind::kPgQuery: return "pg_query";
    case JobKind::kPgStream: return "pg_stream";
    case JobKind::kPgTestConnection: return "pg_test_connection";
    case JobKind::kPgMetadata: return "pg_metadata";
    case JobKind::kPgTimeout: return "pg_timeout";
    case JobKind::kPgCancel: return "pg_cancel";
    case JobKind::kLiteQuery: return "sqlite_query";
    case JobKind::kLiteTestConnection: return "sqlite_test_connection";
    case JobKind::kLiteMetadata: return "sqlite_metadata";
    case JobKind::kLiteTimeout: return "sqlite_timeout";
    case JobKind::kLiteCancel: return "sqlite_cancel";
  }
  return "?";
}

Ledger::Ledger(std::uint16_t hub_port, const std::string& admin_token, std::string pg_source,
               std::string lite_source, std::uint64_t seed)
    : admin_("127.0.0.1", hub_port),
      pg_source_(std::move(pg_source)),
      lite_source_(std::move(lite_source)),
      rng_(seed) {
  admin_.set_header("Authorization", "Bearer " + admin_token);
}

void Ledger::submit_random(double t) {
  // Weights: mostly small, fast jobs; a steady trickle of the ones that
  // exercise timeouts and cancellation.
  static constexpr std::pair<JobKind, int> kMix[] = {
      {JobKind::kPgQuery, 30},           {JobKind::kPgTestConnection, 10},
      {JobKind::kPgMetadata, 8},         {JobKind::kPgTimeout, 6},
      {JobKind::kPgCancel, 7},           {JobKind::kLiteQuery, 15},
      {JobKind::kLiteTestConnection, 5}, {JobKind::kLiteMetadata, 6},
      {JobKind::kLiteTimeout, 5},        {JobKind::kLiteCancel, 4},
  };
  int total = 0;
  for (const auto& [kind, weight] : kMix) total += weight;
  int pick = std::uniform_int_distribution<int>(0, total - 1)(rng_);
  for (const auto& [kind, weight] : kMix) {
    if (pick < weight) return submit(kind, t);
    pick -= weight;
  }
}

void Ledger::submit_stream(double t) {
  submit(JobKind::kPgStream, t);
}

void Ledger::submit(JobKind kind, double t) {
  JobRecord r;
  r.kind = kind;
  r.submitted_t = t;
  const bool pg = kind <= JobKind::kPgCancel;
  json body{{"source_id", pg ? pg_source_ : lite_source_}, {"timeout_ms", 30'000}};
  std::string type = "query";
  json params = json::object();
  auto uniform = [&](double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(rng_);
  };
  switch (kind) {
    case JobKind::kPgQuery:
    case JobKind::kPgStream: {
      const bool big = kind == JobKind::kPgStream;
      r.expected_rows =
          std::uniform_int_distribution<long long>(big ? 50'000 : 1, big ? 200'000 : 200)(rng_);
      params["sql"] = "SELECT g, md5(g::text) AS h FROM generate_series(1, " +
                      std::to_string(r.expected_rows) + ") g";
      if (big) body["timeout_ms"] = 180'000;
      break;
    }
    case JobKind::kPgTestConnection:
    case JobKind::kLiteTestConnection: type = "test_connection"; break;
    case JobKind::kPgMetadata:
      type = "metadata";
      params["schemas"] = {"public"};
      break;
    case JobKind::kLiteMetadata: type = "metadata"; break;
    case JobKind::kPgTimeout:
      params["sql"] = "SELECT pg_sleep(3)";
      body["timeout_ms"] = 800;
      break;
    case JobKind::kLiteTimeout:
      params["sql"] = kLiteEndless;
      body["timeout_ms"] = 800;
      break;
    case JobKind::kPgCancel:
    case JobKind::kLiteCancel:
      params["sql"] = kind == JobKind::kPgCancel ? "SELECT pg_sleep(30)" : kLiteEndless;
      body["timeout_ms"] = 60'000;
      r.cancel_at_t = t + (kind == JobKind::kPgCancel ? uniform(0.3, 3.0) : uniform(0.3, 1.5));
      break;
    case JobKind::kLiteQuery:
      params["sql"] = "SELECT id, name, price FROM items";
      r.expected_rows = 300;
      break;
  }
  body["type"] = type;
  if (!params.empty()) body["params"] = params;
  try {
    const auto resp = admin_.post("/api/v1/admin/jobs", body.dump());
    if (resp.status != 201) {
      ++admin_errors_;
      problems_.push_back("create job answered " + std::to_string(resp.status) + ": " +
                          resp.body.substr(0, 200));
      return;
    }
    r.id = json::parse(resp.body).at("id").get<std::string>();
  } catch (const std::exception& e) {
    ++admin_errors_;
    problems_.push_back(std::string("create job: ") + e.what());
    admin_.close();
    return;
  }
  by_id_[r.id] = records_.size();
  records_.push_back(std::move(r));
}

void Ledger::send_due_cancels(double t) {
  for (std::size_t i = first_pending_; i < records_.size(); ++i) {
    auto& r = records_[i];
    if (r.cancel_at_t < 0 || r.cancel_http != 0 || r.cancel_at_t > t) continue;
    try {
      r.cancel_http = admin_.post("/api/v1/admin/jobs/" + r.id + "/cancel", "").status;
    } catch (const std::exception&) {
      ++admin_errors_;
      admin_.close();
    }
  }
}

std::vector<std::string> Ledger::ids_with_status(const std::string& status) {
  // hub-v2 §2: pages of {"jobs": [...], "next_cursor": C|null}, newest first.
  std::vector<std::string> ids;
  std::string cursor;
  do {
    const auto resp = admin_.get("/api/v1/admin/jobs?limit=1000&status=" + status +
                                 (cursor.empty() ? "" : "&cursor=" + cursor));
    if (resp.status != 200)
      throw std::runtime_error("job list answered " + std::to_string(resp.status));
    const auto page = json::parse(resp.body);
    for (const auto& j : page.at("jobs")) ids.push_back(j.value("id", ""));
    cursor = page.at("next_cursor").is_string() ? page["next_cursor"].get<std::string>() : "";
  } while (!cursor.empty());
  return ids;
}

void Ledger::poll(double t) {
  std::set<std::string> active;
  try {
    for (const char* status : {"scheduled", "running"}) {
      for (auto& id : ids_with_status(status)) active.insert(std::move(id));
    }
  } catch (const std::exception& e) {
    ++admin_errors_;
    admin_.close();
    return;
  }
  for (const auto& id : active) {
    auto it = by_id_.find(id);
    if (it == by_id_.end()) continue;
    auto& r = records_[it->second];
    if (!r.status.empty() && r.violation.empty()) {
      r.violation = "was " + r.status + ", later listed as not finished";
    }
  }
  // The lists only narrow the search: the job's own view is the truth.
  for (std::size_t i = first_pending_; i < records_.size(); ++i) {
    auto& r = records_[i];
    if (!r.status.empty() || active.count(r.id) != 0) continue;
    try {
      const auto resp = admin_.get("/api/v1/admin/jobs/" + r.id);
      if (resp.status != 200) {
        ++admin_errors_;
        continue;
      }
      const auto view = json::parse(resp.body);
      if (terminal(view.value("status", ""))) learn_final(r, view, t);
    } catch (const std::exception&) {
      ++admin_errors_;
      admin_.close();
    }
  }
  while (first_pending_ < records_.size() && !records_[first_pending_].status.empty()) {
    ++first_pending_;
  }
}

void Ledger::learn_final(JobRecord& r, const json& view, double t) {
  r.status = view.value("status", "");
  r.finished_t = t;
  r.attempt = view.value("attempt", 0);
  if (view["agent_instance"].is_string()) r.agent_instance = view["agent_instance"];
  if (view["error"].is_object()) r.error_code = view["error"].value("code", "");
  if (r.status != "succeeded") return;
  switch (r.kind) {
    case JobKind::kPgQuery:
    case JobKind::kPgStream:
    case JobKind::kLiteQuery: {
      const auto& rows = view["rows"];
      const long long got = rows.is_array() ? static_cast<long long>(rows.size()) : -1;
      bool in_order = rows.is_array();
      for (std::size_t i = 0; in_order && i < rows.size() && r.kind != JobKind::kLiteQuery; ++i) {
        in_order = rows[i].is_array() && rows[i].size() == 2 && rows[i][0].is_number() &&
                   rows[i][0].get<long long>() == static_cast<long long>(i) + 1;
      }
      if (got != r.expected_rows || !in_order) {
        r.result_problem = "rows: expected 1.." + std::to_string(r.expected_rows) +
                           " in order, got " + std::to_string(got) +
                           (in_order ? "" : " (out of order or duplicated)");
      }
      break;
    }
    case JobKind::kPgMetadata:
      if (!metadata_has(view, "orders")) r.result_problem = "metadata without public.orders";
      break;
    case JobKind::kLiteMetadata:
      if (!metadata_has(view, "items") || !metadata_has(view, "cheap")) {
        r.result_problem = "metadata without items / cheap";
      }
      break;
    case JobKind::kPgTestConnection:
    case JobKind::kLiteTestConnection:
      if (!view["result"].is_object() || !view["result"].value("ok", false)) {
        r.result_problem = "test_connection result without ok: true";
      }
      break;
    default: break;
  }
}

void Ledger::final_verify(double t, double retain_s) {
  // hub-v2 §2: pages of {"jobs": [...], "next_cursor": C|null}.
  std::map<std::string, std::vector<std::string>> listed;
  std::string cursor;
  do {
    const auto resp = admin_.get("/api/v1/admin/jobs?limit=1000" +
                                 (cursor.empty() ? std::string() : "&cursor=" + cursor));
    if (resp.status != 200) {
      problems_.push_back("final job list answered " + std::to_string(resp.status));
      return;
    }
    const auto page = json::parse(resp.body);
    for (const auto& j : page.at("jobs"))
      listed[j.value("id", "")].push_back(j.value("status", ""));
    cursor = page.at("next_cursor").is_string() ? page["next_cursor"].get<std::string>() : "";
  } while (!cursor.empty());
  for (auto& r : records_) {
    const auto it = listed.find(r.id);
    if (it == listed.end() && retain_s > 0 && !r.status.empty() &&
        t - r.finished_t > retain_s - 30) {
      r.purged = true;  // finished long enough ago for retention to delete it
    } else if (it == listed.end()) {
      r.violation = "missing from the hub's job list";
    } else if (it->second.size() != 1) {
      r.violation = "listed " + std::to_string(it->second.size()) + " times";
    } else if (!r.status.empty() && it->second[0] != r.status && r.violation.empty()) {
      r.violation = "was " + r.status + ", finally " + it->second[0];
    }
  }
}

std::size_t Ledger::pending() const {
  std::size_t n = 0;
  for (std::size_t i = first_pending_; i < records_.size(); ++i) n += records_[i].status.empty();
  return n;
}

}  // namespace outpost::soak
