// outpost-metadata-bench: the agent's peak RSS while it streams the metadata
// of a large PostgreSQL catalog (jobs-v1.1 fields: keys, indexes, comments,
// defaults, sizes) through outpost-hub, next to its RSS before the job.
//
//   outpost-metadata-bench --agent BIN --hub BIN [--tables N] [--json FILE]
//
// The catalog: N tables in schema `wide` (default 100,000), created by one
// DO block that commits every 1,000 tables; every tenth has a primary key, a
// foreign key to the first, an index, a default and a comment.

#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/http_test_client.hpp"
#include "support/postgres_server.hpp"
#include "support/process.hpp"

namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

constexpr const char* kAdminToken = "bench-admin-token";

struct Options {
  std::string agent;
  std::string hub;
  long tables = 100'000;
  std::string json_path;
};

// The catalog, built inside the server: no round trip per table.
std::string catalog_sql(long tables) {
  return "DO $$ BEGIN "
         "CREATE TABLE wide.t0 (id int PRIMARY KEY); "
         "FOR i IN 1.." +
         std::to_string(tables - 1) +
         " LOOP "
         "IF i % 10 = 0 THEN "
         "EXECUTE format('CREATE TABLE wide.t%s (id int PRIMARY KEY, ref int REFERENCES wide.t0, "
         "amount numeric(10,2) NOT NULL DEFAULT 0, at date)', i); "
         "EXECUTE format('CREATE INDEX ON wide.t%s (at)', i); "
         "EXECUTE format('COMMENT ON TABLE wide.t%s IS %L', i, 'table number ' || i); "
         "ELSE "
         "EXECUTE format('CREATE TABLE wide.t%s (a int, b bigint NOT NULL, c date, d boolean)', "
         "i); "
         "END IF; "
         "IF i % 1000 = 0 THEN COMMIT; END IF; "
         "END LOOP; END $$";
}

json post(outpost::test::HttpTestClient& admin, const std::string& path, const json& body) {
  const auto r = admin.post(path, body.dump());
  if (r.status != 201 && r.status != 200) throw std::runtime_error(path + ": " + r.body);
  return json::parse(r.body);
}

int run(const Options& o) {
  outpost::test::PostgresServer pg;
  std::cerr << "metadata-bench: creating " << o.tables << " tables\n";
  const auto t0 = SteadyClock::now();
  pg.exec(
      "CREATE ROLE bench LOGIN PASSWORD 'bench-pw'; CREATE SCHEMA wide; "
      "GRANT USAGE ON SCHEMA wide TO bench;");
  pg.exec(catalog_sql(o.tables));
  pg.exec("ANALYZE");
  std::cerr << "  created in " << std::chrono::duration<double>(SteadyClock::now() - t0).count()
            << " s\n";

  const auto port = outpost::test::free_port();
  outpost::test::Process hub(outpost::test::Process::Options{
      {o.hub, "--listen", "127.0.0.1:" + std::to_string(port), "--admin-token", kAdminToken},
      {},
      std::nullopt,
      {}});
  outpost::test::HttpTestClient admin("127.0.0.1", port);
  admin.set_header("Authorization", std::string("Bearer ") + kAdminToken);
  if (!outpost::test::eventually(
          [&] {
            try {
              return admin.get("/api/v1/admin/agents").status == 200;
            } catch (const std::exception&) {
              return false;
            }
          },
          milliseconds(10'000))) {
    throw std::runtime_error("hub did not start: " + hub.stderr_text());
  }
  const std::string token = post(admin, "/api/v1/admin/tokens", {{"name", "bench"}})["token"];
  const std::string source = post(admin, "/api/v1/admin/sources",
                                  {{"name", "wide"},
                                   {"type", "postgres"},
                                   {"config", pg.source_config("bench", "bench-pw")}})["id"];

  outpost::test::Process agent(outpost::test::Process::Options{
      {o.agent, "--url", "http://127.0.0.1:" + std::to_string(port) + "/api", "--health-addr",
       "off", "--max-result-rows", "100000000", "--max-result-bytes", "4GiB"},
      {{"AGENT_TOKEN", token}},
      std::nullopt,
      {}});
  if (!agent.wait_for_output("\"agent started\"", milliseconds(15'000))) {
    throw std::runtime_error("agent did not start: " + agent.stderr_text());
  }
  std::this_thread::sleep_for(milliseconds(500));
  const double before_mib = static_cast<double>(agent.peak_rss_kib()) / 1024.0;

  const auto t1 = SteadyClock::now();
  const std::string job = post(
      admin, "/api/v1/admin/jobs",
      {{"source_id", source},
       {"type", "metadata"},
       {"params", {{"schemas", {"wide"}}, {"include_stats", true}, {"include_definitions", true}}},
       {"timeout_ms", 1'800'000}})["id"];
  // The agent's "job finished" line (the hub's job view would carry every
  // table of the result).
  json finished;
  outpost::test::eventually(
      [&] {
        std::this_thread::sleep_for(milliseconds(100));
        std::istringstream lines(agent.stdout_text());
        for (std::string line; std::getline(lines, line);) {
          if (line.find("\"job finished\"") == std::string::npos) continue;
          const auto j = json::parse(line, nullptr, false);
          if (j.is_object() && j.value("job_id", "") == job) finished = j;
        }
        return !finished.is_null();
      },
      milliseconds(1'800'000));
  const double seconds = std::chrono::duration<double>(SteadyClock::now() - t1).count();
  const double peak_mib = static_cast<double>(agent.peak_rss_kib()) / 1024.0;
  agent.signal(SIGTERM);
  agent.wait(milliseconds(10'000));
  if (finished.value("status", "") != "succeeded") {
    throw std::runtime_error("metadata job ended " + finished.dump());
  }
  const json figures = {{"tables", o.tables},
                        {"tables_reported", finished.value("rows", std::uint64_t{0})},
                        {"seconds", seconds},
                        {"agent_rss_before_mib", before_mib},
                        {"agent_peak_rss_mib", peak_mib},
                        {"target", "peak <= 64 MiB"},
                        {"met", peak_mib <= 64}};
  std::cout << "metadata of " << o.tables << " tables (" << figures["tables_reported"]
            << " reported) in " << seconds << " s; agent peak RSS " << peak_mib
            << " MiB (before the job " << before_mib
            << " MiB); target <= 64 MiB: " << (peak_mib <= 64 ? "met" : "NOT met") << "\n";
  if (!o.json_path.empty()) std::ofstream(o.json_path) << figures.dump(2) << "\n";
  return peak_mib <= 64 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    const std::string v = argv[i + 1];
    if (a == "--agent") {
      o.agent = v;
    } else if (a == "--hub") {
      o.hub = v;
    } else if (a == "--tables") {
      o.tables = std::max(2L, std::atol(v.c_str()));
    } else if (a == "--json") {
      o.json_path = v;
    } else {
      std::cerr << "outpost-metadata-bench: unknown argument " << a << "\n";
      return 2;
    }
  }
  if (o.agent.empty() || o.hub.empty() || argc % 2 == 0) {
    std::cerr << "usage: outpost-metadata-bench --agent BIN --hub BIN [--tables N] [--json FILE]\n";
    return 2;
  }
  try {
    return run(o);
  } catch (const std::exception& e) {
    std::cerr << "outpost-metadata-bench: " << e.what() << "\n";
    return 1;
  }
}
