// One suite, every connector: the same cases run against each target of
// target_registry.cpp (PostgreSQL, MariaDB, SQLite, ODBC over psqlODBC and
// over the SQLite ODBC driver), each on a real server or file. A case states
// what the SDK contract promises (docs/writing-a-connector.md); a connector's
// own behaviour beyond it stays in its own tests.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "integration/conformance/conformance_target.hpp"
#include "runtime/part_streamer.hpp"
#include "support/collecting_sink.hpp"

namespace outpost::test::conformance {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using runtime::PartStreamer;
using runtime::PartUploader;
using runtime::StreamLimits;
using runtime::UploadStatus;

// Keeps the parts a PartStreamer uploads: how many, their size, their rows.
class CountingUploader final : public PartUploader {
 public:
  UploadStatus upload(std::uint64_t, std::string ndjson) override {
    ++parts;
    largest = std::max<std::uint64_t>(largest, ndjson.size());
    for (std::size_t at = 0; at < ndjson.size();) {
      const auto end = ndjson.find('\n', at);
      const auto row = json::parse(ndjson.substr(at, end - at));
      id_sum += std::stoull(row[0].is_string() ? row[0].get<std::string>() : row[0].dump());
      ++rows;
      at = end + 1;
    }
    return UploadStatus::kOk;
  }
  std::uint64_t parts = 0;
  std::uint64_t largest = 0;
  std::uint64_t rows = 0;
  std::uint64_t id_sum = 0;
};

std::string code(const JobResult& r) {
  return r.error ? std::string(to_string(r.error->code)) + ": " + r.error->message : "ok";
}

// As the runtime reports it: a connector that stopped at max_rows itself
// says so in its result, otherwise the sink knows.
bool truncated(const JobResult& r, const PartStreamer::Finished& finished) {
  return r.result.value("truncated", false) || finished.fields.value("truncated", false);
}

class Conformance : public ::testing::TestWithParam<std::string> {
 protected:
  Target& t() { return target(GetParam()); }

  Job job(JobType type, json config, const json& params = json::object(),
          std::chrono::milliseconds timeout = 60s) {
    Job j;
    j.id = "job_conf";
    j.type = type;
    j.timeout = timeout;
    j.source = Source{"src_conf", "conf", t().source_type(), std::move(config), ""};
    set_params(j, params);
    return j;
  }
  Job query(const std::string& sql, const json& extra = json::object()) {
    json params = extra;
    params["sql"] = sql;
    return job(JobType::kQuery, t().reader(), params);
  }
  JobResult run(const Job& j, ResultSink& sink, CancelToken& cancel,
                const OperatorPolicy* policy = nullptr) {
    JobContext ctx{j,
                   sink,
                   cancel,
                   guard_,
                   std::chrono::steady_clock::now() + j.timeout,
                   policy != nullptr ? *policy : t().policy()};
    return t().connector().run(ctx);
  }
  JobResult run(const Job& j, ResultSink& sink, const OperatorPolicy* policy = nullptr) {
    CancelToken cancel;
    return run(j, sink, cancel, policy);
  }
  // The runtime's sink, uploading into `uploader`; the row cap as the
  // runtime sets it (params.max_rows within the agent's own).
  static PartStreamer streamer(const Job& j, StreamLimits limits, PartUploader& uploader,
                               const CancelToken& cancel) {
    limits.max_rows = std::min(limits.max_rows, j.query.max_rows.value_or(limits.max_rows));
    return PartStreamer(j.type, limits, uploader, cancel);
  }
  std::string items() { return t().schema() == "main" ? "items" : t().schema() + ".items"; }
  // The number of rows in items, read through the connector.
  std::int64_t count_items() {
    CollectingSink sink;
    auto r = run(query("SELECT count(*) AS n FROM " + items()), sink);
    EXPECT_TRUE(r.ok()) << code(r);
    if (sink.rows().size() != 1) return -1;
    const auto& n = sink.rows()[0][0];
    return n.is_string() ? std::stoll(n.get<std::string>()) : n.get<std::int64_t>();
  }
  // Runs the endless statement; `stop` is called on another thread with
  // the token once the job started.
  template <typename Stop>
  JobResult run_stopped(std::chrono::milliseconds timeout, Stop stop) {
    CancelToken cancel;
    CollectingSink sink;
    const Job j = job(JobType::kQuery, t().reader(), {{"sql", t().endless_sql()}}, timeout);
    std::thread stopper([&] { stop(cancel); });
    auto r = run(j, sink, cancel);
    stopper.join();
    return r;
  }

  AllowingNetworkGuard guard_;
};

TEST_P(Conformance, TestConnectionSucceeds) {
  CollectingSink sink;
  auto r = run(job(JobType::kTestConnection, t().reader()), sink);
  ASSERT_TRUE(r.ok()) << code(r);
  EXPECT_EQ(r.result["ok"], true);
  ASSERT_TRUE(r.result["server_version"].is_string()) << r.result.dump();
  EXPECT_FALSE(r.result["server_version"].get<std::string>().empty());
  EXPECT_GE(r.result["latency_ms"].get<std::int64_t>(), 0);
}

TEST_P(Conformance, TestConnectionFailureHasItsCode) {
  CollectingSink sink;
  const auto bad = t().bad_source();
  auto r = run(job(JobType::kTestConnection, bad.config), sink);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->code, bad.code) << code(r);
  EXPECT_FALSE(r.error->message.empty());
}

TEST_P(Conformance, UnknownConfigKeyIsInvalidJob) {
  CollectingSink sink;
  auto config = t().reader();
  config["no_such_option"] = 1;
  auto r = run(job(JobType::kTestConnection, config), sink);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->code, ErrorCode::kInvalidJob) << code(r);
  EXPECT_NE(r.error->message.find("no_such_option"), std::string::npos) << r.error->message;
}

TEST_P(Conformance, CommonTypesMapAsTheProtocolSays) {
  CollectingSink sink;
  auto r = run(query(t().types_sql()), sink);
  ASSERT_TRUE(r.ok()) << code(r);
  ASSERT_EQ(sink.rows().size(), 1U);
  EXPECT_EQ(sink.rows()[0], t().types_row()) << sink.rows()[0].dump();
  EXPECT_EQ(sink.columns().size(), t().types_row().size());
}

TEST_P(Conformance, ManyRowsStreamInBoundedParts) {
  constexpr int kRows = 20'000;
  CountingUploader uploader;
  CancelToken cancel;
  const Job j = query(t().series_sql(kRows));
  auto sink = streamer(j, {16 * 1024, 1'000'000, 64ull << 20}, uploader, cancel);
  auto r = run(j, sink, cancel);
  ASSERT_TRUE(r.ok()) << code(r);
  auto finished = sink.finish();
  ASSERT_FALSE(finished.error) << finished.error->message;
  EXPECT_EQ(finished.fields["row_count"], kRows);
  EXPECT_EQ(finished.fields["truncated"], false);
  EXPECT_GT(uploader.parts, 10U);
  EXPECT_LE(uploader.largest, 16U * 1024);
  EXPECT_EQ(uploader.rows, static_cast<std::uint64_t>(kRows));
  EXPECT_EQ(uploader.id_sum, static_cast<std::uint64_t>(kRows) * (kRows + 1) / 2);
  ASSERT_EQ(finished.fields["columns"].size(), 2U);
  EXPECT_EQ(finished.fields["columns"][0]["name"], "id");
  EXPECT_EQ(finished.fields["columns"][1]["name"], "label");
}

TEST_P(Conformance, RowCapTruncatesAndTheSourceStaysUsable) {
  CountingUploader uploader;
  CancelToken cancel;
  const Job j = query(t().series_sql(1000), {{"max_rows", 5}});
  auto sink = streamer(j, {}, uploader, cancel);
  auto r = run(j, sink, cancel);
  ASSERT_TRUE(r.ok()) << code(r);
  auto finished = sink.finish();
  EXPECT_EQ(finished.fields["row_count"], 5);
  EXPECT_TRUE(truncated(r, finished));
  ASSERT_EQ(finished.fields["rows"].size(), 5U);
  // The cut-short session is cleaned up or closed: the next job runs.
  EXPECT_EQ(count_items(), 3);
}

TEST_P(Conformance, ByteCapTruncates) {
  CountingUploader uploader;
  CancelToken cancel;
  const Job j = query(t().series_sql(1000));
  auto sink = streamer(j, {4096, 1'000'000, 1000}, uploader, cancel);
  auto r = run(j, sink, cancel);
  ASSERT_TRUE(r.ok()) << code(r);
  auto finished = sink.finish();
  EXPECT_TRUE(truncated(r, finished));
  EXPECT_GT(finished.fields["row_count"].get<int>(), 0);
  EXPECT_LT(finished.fields["row_count"].get<int>(), 1000);
  EXPECT_EQ(count_items(), 3);
}

TEST_P(Conformance, WritesAreRefusedEvenForALoginThatMayWrite) {
  CollectingSink sink;
  // The operator allowed the privileged login: only the connector's
  // read-only session stands between the job and the write.
  const Job j = job(JobType::kQuery, t().writer(), {{"sql", t().insert_sql()}});
  auto r = run(j, sink, &t().privileged_policy());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->code, ErrorCode::kReadOnlyViolation) << code(r);
  EXPECT_EQ(count_items(), 3);
}

TEST_P(Conformance, CancelStopsARunningStatement) {
  const auto started = std::chrono::steady_clock::now();
  // The pause lets the statement start; the result is `cancelled` either
  // way (a cancel before the statement stops it from starting).
  auto r = run_stopped(60s, [](CancelToken& cancel) {
    std::this_thread::sleep_for(300ms);
    cancel.cancel(CancelReason::kRequested);
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->code, ErrorCode::kCancelled) << code(r);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 50s);  // not the statement's own end
  EXPECT_EQ(count_items(), 3);
}

TEST_P(Conformance, DeadlineStopsARunningStatementAsTimeout) {
  // The runtime cancels with kTimeout at the deadline; a connector's own
  // server-side timeout may stop the statement first. Either is `timeout`.
  auto r = run_stopped(1s, [](CancelToken& cancel) {
    std::this_thread::sleep_for(1s);
    cancel.cancel(CancelReason::kTimeout);
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->code, ErrorCode::kTimeout) << code(r);
  EXPECT_TRUE(r.error->retryable);
  EXPECT_EQ(count_items(), 3);
}

TEST_P(Conformance, CancelledBeforeStartRunsNothing) {
  CancelToken cancel;
  cancel.cancel(CancelReason::kShutdown);
  CollectingSink sink;
  auto r = run(query(t().insert_sql()), sink, cancel);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->code, ErrorCode::kCancelled) << code(r);
  EXPECT_EQ(sink.count(), 0U);
}

TEST_P(Conformance, MetadataListsTablesViewsAndColumns) {
  CollectingSink sink;
  auto r = run(job(JobType::kMetadata, t().reader(), {{"schemas", {t().schema()}}}), sink);
  ASSERT_TRUE(r.ok()) << code(r);
  EXPECT_TRUE(r.result["database"].is_string()) << r.result.dump();
  const json* table = sink.table(t().schema(), "items");
  ASSERT_NE(table, nullptr) << json(sink.tables()).dump();
  EXPECT_EQ((*table)["kind"], "table");
  ASSERT_EQ((*table)["columns"].size(), 2U);
  EXPECT_EQ((*table)["columns"][0]["name"], "id");
  EXPECT_EQ((*table)["columns"][0]["ordinal"], 1);
  EXPECT_EQ((*table)["columns"][1]["name"], "label");
  EXPECT_EQ((*table)["columns"][1]["ordinal"], 2);
  EXPECT_EQ((*table)["columns"][1]["nullable"], false);
  EXPECT_TRUE((*table)["columns"][1]["type"].is_string());
  // jobs-v1.1: every connector reads the key (ODBC through SQLPrimaryKeys).
  EXPECT_EQ(table->value("primary_key", json()), json::array({"id"})) << table->dump();
  const json* view = sink.table(t().schema(), "items_view");
  ASSERT_NE(view, nullptr);
  EXPECT_EQ((*view)["kind"], "view");

  CollectingSink without_views;
  r = run(job(JobType::kMetadata, t().reader(),
              {{"schemas", {t().schema()}}, {"include_views", false}}),
          without_views);
  ASSERT_TRUE(r.ok()) << code(r);
  EXPECT_NE(without_views.table(t().schema(), "items"), nullptr);
  EXPECT_EQ(without_views.table(t().schema(), "items_view"), nullptr);

  for (const json& schemas : {json::array({"no_such_schema"}), json::array()}) {
    CollectingSink elsewhere;
    r = run(job(JobType::kMetadata, t().reader(), {{"schemas", schemas}}), elsewhere);
    ASSERT_TRUE(r.ok()) << code(r);
    EXPECT_TRUE(elsewhere.tables().empty()) << schemas << json(elsewhere.tables()).dump();
  }
}

// The monitors of jobs-v1.1. A connector that does not advertise them
// (job_types) answers `unsupported`; the runtime refuses them before that.
class Monitors : public Conformance {
 protected:
  bool supported(JobType type) {
    const auto types = t().connector().job_types();
    return std::find(types.begin(), types.end(), type) != types.end();
  }
  JobResult monitor(JobType type, json params) {
    if (t().schema() != "main") params["schema"] = t().schema();
    CollectingSink sink;
    auto r = run(job(type, t().reader(), params), sink);
    EXPECT_TRUE(sink.rows().empty() && sink.tables().empty()) << "a monitor streams nothing";
    return r;
  }
};

TEST_P(Monitors, VolumeCountsOrEstimatesAndSaysWhich) {
  if (!supported(JobType::kVolume)) {
    const auto r = monitor(JobType::kVolume, {{"table", "items"}});
    ASSERT_TRUE(r.error) << r.result.dump();
    EXPECT_EQ(r.error->code, ErrorCode::kUnsupported);
    return;
  }
  auto r = monitor(JobType::kVolume, {{"table", "items"}, {"exact", true}});
  ASSERT_TRUE(r.ok()) << code(r);
  EXPECT_EQ(r.result["row_count"], 3) << r.result.dump();
  EXPECT_EQ(r.result["exact"], true);
  EXPECT_TRUE(r.result["read_at"].is_string());

  // An estimate is the catalog's (whatever it says before ANALYZE); a
  // connector without one counts and says so.
  r = monitor(JobType::kVolume, {{"table", "items"}});
  ASSERT_TRUE(r.ok()) << code(r);
  ASSERT_TRUE(r.result["exact"].is_boolean()) << r.result.dump();
  EXPECT_GE(r.result["row_count"].get<std::int64_t>(), 0);
  if (r.result["exact"] == true) {
    EXPECT_EQ(r.result["row_count"], 3) << r.result.dump();
  }

  r = monitor(JobType::kVolume, {{"table", "items_view"}});
  ASSERT_TRUE(r.ok()) << code(r);
  EXPECT_EQ(r.result["row_count"], 3) << r.result.dump();
  EXPECT_EQ(r.result["exact"], true) << "a view has no estimate";
}

TEST_P(Monitors, FreshnessIsTheNewestValueOfAColumnInUtc) {
  if (!supported(JobType::kFreshness)) {
    const auto r = monitor(JobType::kFreshness, {{"table", "events"}, {"column", "at"}});
    ASSERT_TRUE(r.error) << r.result.dump();
    EXPECT_EQ(r.error->code, ErrorCode::kUnsupported);
    return;
  }
  const auto r = monitor(JobType::kFreshness, {{"table", "events"}, {"column", "at"}});
  ASSERT_TRUE(r.ok()) << code(r);
  EXPECT_EQ(r.result["value"], "2026-11-30T08:15:00.250Z") << r.result.dump();
  EXPECT_EQ(r.result["source"], "column");
  EXPECT_TRUE(r.result["read_at"].is_string());

  // Without a column: the database's own signal, or a clear unsupported.
  const auto catalog = monitor(JobType::kFreshness, {{"table", "events"}});
  if (catalog.ok()) {
    EXPECT_EQ(catalog.result["source"], "catalog") << catalog.result.dump();
    EXPECT_TRUE(catalog.result["value"].is_string() || catalog.result["value"].is_null());
  } else {
    EXPECT_EQ(catalog.error->code, ErrorCode::kUnsupported) << code(catalog);
    EXPECT_NE(catalog.error->message.find("column"), std::string::npos) << code(catalog);
  }
}

TEST_P(Monitors, MissingTablesAndColumnsAreNamed) {
  auto r = monitor(JobType::kVolume, {{"table", "no_such_table"}});
  if (!supported(JobType::kVolume)) {
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->code, ErrorCode::kUnsupported);
    return;
  }
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code, ErrorCode::kQueryError);
  EXPECT_NE(r.error->message.find("no_such_table"), std::string::npos) << code(r);

  r = monitor(JobType::kFreshness, {{"table", "events"}, {"column", "no_such_column"}});
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code, ErrorCode::kQueryError);
  EXPECT_NE(r.error->message.find("no_such_column"), std::string::npos) << code(r);

  // A name is a name, never SQL: this is one odd table name that is absent.
  r = monitor(JobType::kVolume, {{"table", "items; DROP TABLE items"}});
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code, ErrorCode::kQueryError) << code(r);
  EXPECT_EQ(count_items(), 3);
}

INSTANTIATE_TEST_SUITE_P(Connectors, Monitors, ::testing::ValuesIn(target_names()),
                         [](const ::testing::TestParamInfo<std::string>& target_info) {
                           return target_info.param;
                         });

INSTANTIATE_TEST_SUITE_P(Connectors, Conformance, ::testing::ValuesIn(target_names()),
                         [](const ::testing::TestParamInfo<std::string>& target_info) {
                           return target_info.param;
                         });

}  // namespace
}  // namespace outpost::test::conformance
