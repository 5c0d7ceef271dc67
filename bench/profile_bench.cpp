// outpost-profile-bench: the `profile` job (jobs-v1.1) of a wide PostgreSQL
// table against the equivalent single hand-written aggregate query run by
// psql, side by side in one run on one throwaway server
// (tests/support/postgres_server). The profile runs in-process through the
// PostgreSQL connector, exactly as the agent runs it (same statement, same
// read-only transaction); psql runs the query a person would write for the
// same figures. Both are timed from start to the last byte; the table is
// read once before either so both see a warm OS cache.
//
//   outpost-profile-bench [--rows N] [--runs N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "postgres/pg_connector.hpp"
#include "support/collecting_sink.hpp"
#include "support/postgres_server.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using outpost::test::PostgresServer;

// Ten columns: five numeric, two text, two temporal, one boolean.
std::string fixture(long long rows) {
  return "CREATE TABLE wide AS SELECT g AS id, (g % 1000)::int AS a, "
         "(random() * 1e6)::int AS b, random() * 100 AS c, "
         "round((random() * 10000)::numeric, 2) AS d, md5(g::text) AS e, "
         "'cat_' || (g % 50) AS f, timestamptz '2026-01-01' + g * interval '1 second' AS t, "
         "(g % 3 = 0) AS h, date '2020-01-01' + (g % 2000)::int AS i "
         "FROM generate_series(1, " +
         std::to_string(rows) + ") AS g; ANALYZE wide";
}

// What a person writes for the same figures: one SELECT, every column.
std::string hand_written() {
  std::string sql = "SELECT count(*)";
  for (const char* c : {"id", "a", "b", "c", "d"}) {
    const std::string n = c;
    sql += ", count(" + n + "), count(DISTINCT " + n + "), min(" + n + "), max(" + n + "), avg(" +
           n + "), stddev_samp(" + n + ")";
  }
  for (const char* c : {"e", "f"}) {
    const std::string n = c;
    sql += ", count(" + n + "), count(DISTINCT " + n + "), min(" + n + "), max(" + n +
           "), min(length(" + n + ")), max(length(" + n + ")), avg(length(" + n + "))";
  }
  for (const char* c : {"t", "i"}) {
    const std::string n = c;
    sql += ", count(" + n + "), count(DISTINCT " + n + "), min(" + n + "), max(" + n + ")";
  }
  return sql + ", count(h), count(DISTINCT h), bool_and(h), bool_or(h) FROM wide";
}

double psql_ms(const PostgresServer& server) {
  const std::string cmd = "PGPASSWORD='" + server.superuser_password() +
                          "' psql -X -q -A -t -h 127.0.0.1 -p " + std::to_string(server.port()) +
                          " -U postgres -d postgres -c \"" + hand_written() + "\" > /dev/null";
  const auto start = Clock::now();
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("psql failed");
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double profile_ms(const PostgresServer& server, nlohmann::json& result) {
  outpost::connectors::postgres::PostgresConnector connector;
  outpost::Job job;
  job.id = "bench_profile";
  job.type = outpost::JobType::kProfile;
  job.timeout = std::chrono::minutes(30);
  job.source = outpost::Source{"src", "bench", "postgres",
                               server.source_config("postgres", server.superuser_password()), ""};
  outpost::test::set_params(job, {{"table", "wide"}});
  outpost::test::CollectingSink sink;
  outpost::CancelToken cancel;
  outpost::test::AllowingNetworkGuard guard;
  outpost::OperatorPolicy policy{true, {}};
  outpost::JobContext ctx{job, sink, cancel, guard, Clock::now() + job.timeout, policy};
  const auto start = Clock::now();
  auto r = connector.run(ctx);
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  if (!r.ok()) throw std::runtime_error("profile failed: " + r.error->message);
  result = std::move(r.result);
  return ms;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  long long rows = 5'000'000;
  int runs = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--rows") rows = std::atoll(argv[i + 1]);
    if (flag == "--runs") runs = std::max(1, std::atoi(argv[i + 1]));
  }
  try {
    PostgresServer server;
    const auto load = Clock::now();
    server.exec(fixture(rows));
    server.exec("SELECT count(*) FROM wide");  // warm the cache for both
    std::cerr << "loaded " << rows << " rows in "
              << std::chrono::duration<double>(Clock::now() - load).count() << " s\n";
    std::vector<double> by_psql, by_profile;
    nlohmann::json result;
    for (int run = 0; run < runs; ++run) {  // alternate, so neither has the warmer turn
      by_psql.push_back(psql_ms(server));
      by_profile.push_back(profile_ms(server, result));
    }
    const double p = median(by_psql), a = median(by_profile);
    std::printf(
        "| rows | columns | psql hand-written aggregate (ms) | profile job (ms) | ratio |\n");
    std::printf("|---|---|---|---|---|\n");
    std::printf("| %lld | 10 | %.0f | %.0f | %.2f |\n", rows, p, a, a / p);
    std::printf("profile statements: %s, row_count: %s\n", result["statements"].dump().c_str(),
                result["row_count"].dump().c_str());
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "outpost-profile-bench: " << e.what() << "\n";
    return 1;
  }
}
