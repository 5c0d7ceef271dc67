#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "hub.hpp"
#include "support/http_test_client.hpp"

namespace outpost::test {

using Json = nlohmann::json;

/// A real hub in this process on 127.0.0.1:0, plus helpers that speak the
/// admin API and the agent protocol through the blocking test client. Its
/// io_context runs on several threads, as with `outpost-hub --threads N`, so the
/// tsan stage checks the server and the store under real concurrency.
class HubTest : public ::testing::Test {
 protected:
  static constexpr const char* kAdminToken = "admin-secret-for-tests";
  static constexpr int kIoThreads = 4;

  void TearDown() override { stop_hub(); }

  /// Starts the hub; `tweak` may change options first (lease TTL, TLS, limits).
  void start_hub(const std::function<void(hub::HubOptions&)>& tweak = {}) {
    hub::HubOptions o;
    o.admin_token = kAdminToken;
    o.server.host = "127.0.0.1";
    o.server.port = 0;
    if (tweak) tweak(o);
    options_ = o;
    hub_ = std::make_unique<hub::Hub>(io_.get_executor(), o);
    hub_->start();
    for (int i = 0; i < kIoThreads; ++i) threads_.emplace_back([this] { io_.run(); });
  }

  void stop_hub() {
    if (!hub_) return;
    hub_->stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
    hub_.reset();
  }

  [[nodiscard]] std::uint16_t port() const { return hub_->port(); }

  std::unique_ptr<HttpTestClient> client(const std::string& bearer = {}) {
    auto c = std::make_unique<HttpTestClient>("127.0.0.1", port());
    if (!bearer.empty()) c->set_header("Authorization", "Bearer " + bearer);
    return c;
  }

  HttpTestClient& admin() {
    if (!admin_) admin_ = client(kAdminToken);
    return *admin_;
  }

  static Json json(const HttpResponse& r) {
    Json j = Json::parse(r.body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << "not JSON: " << r.body;
    return j;
  }

  /// POST /v1/admin/tokens → the secret token.
  std::string create_token(const std::string& name = "prod-agent", std::string* id = nullptr) {
    auto r = admin().post("/api/v1/admin/tokens", Json{{"name", name}}.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    auto j = json(r);
    if (id) *id = j.value("id", "");
    return j.value("token", "");
  }

  std::string create_source(const Json& config = Json{{"host", "db.internal"},
                                                      {"password", "${env:PGPASSWORD}"}}) {
    auto r =
        admin().post("/api/v1/admin/sources",
                     Json{{"name", "warehouse"}, {"type", "postgres"}, {"config", config}}.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return json(r).value("id", "");
  }

  std::string create_job(const std::string& source_id, const std::string& type = "query",
                         const Json& params = Json{{"sql", "SELECT 1"}}) {
    auto r = admin().post(
        "/api/v1/admin/jobs",
        Json{{"source_id", source_id}, {"type", type}, {"params", params}, {"timeout_ms", 60000}}
            .dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return json(r).value("id", "");
  }

  Json get_job(const std::string& id) {
    auto r = admin().get("/api/v1/admin/jobs/" + id);
    EXPECT_EQ(r.status, 200) << r.body;
    return json(r);
  }

  /// POST claim; returns the whole response.
  static HttpResponse claim_raw(HttpTestClient& agent, const std::string& instance, int capacity,
                                int wait_ms) {
    return agent.request(
        "POST", "/api/v1/agent/jobs/claim",
        Json{{"instance_id", instance}, {"capacity", capacity}, {"wait_ms", wait_ms}}.dump(),
        {{"Content-Type", "application/json"}, {"X-Outpost-Instance", instance}},
        std::chrono::milliseconds(wait_ms + 10'000));
  }

  /// POST claim; returns the "jobs" array.
  Json claim(HttpTestClient& agent, const std::string& instance, int capacity, int wait_ms = 0) {
    auto r = claim_raw(agent, instance, capacity, wait_ms);
    EXPECT_EQ(r.status, 200) << r.body;
    return json(r).value("jobs", Json::array());
  }

  static HttpResponse post_result(HttpTestClient& agent, const std::string& job_id,
                                  const std::string& lease_token,
                                  const Json& extra = Json::object()) {
    Json body{{"lease_token", lease_token},
              {"status", "succeeded"},
              {"started_at", "2026-11-22T10:00:00Z"},
              {"finished_at", "2026-11-22T10:00:01Z"},
              {"result",
               {{"columns", {{{"name", "n"}, {"type", "int8"}}}},
                {"rows", {{1}}},
                {"row_count", 1},
                {"truncated", false}}}};
    body.update(extra);
    return agent.post("/api/v1/agent/jobs/" + job_id + "/result", body.dump());
  }

  boost::asio::io_context io_;
  hub::HubOptions options_;
  std::unique_ptr<hub::Hub> hub_;
  std::vector<std::thread> threads_;
  std::unique_ptr<HttpTestClient> admin_;
};

}  // namespace outpost::test
