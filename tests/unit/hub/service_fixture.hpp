#pragma once

// HubService on the memory store with a manual clock, for the retry and
// schedule rules: no sleeping, no network. Posted work runs when the test
// polls the io_context.

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "service.hpp"
#include "store/memory_store.hpp"

namespace outpost::hub::testing {

class ServiceFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions o;
    o.lease_ttl = std::chrono::seconds(10);
    o.max_attempts = 3;
    o.retain = std::chrono::hours(24);
    service_ = std::make_shared<HubService>(io_.get_executor(), io_.get_executor(), store_, o,
                                            clock_, nullptr);
    service_->start();
    io_.poll();
    auto created = service_->create_token(Json{{"name", "agent"}});
    token_ = *service_->authenticate_agent(created.body["token"].get<std::string>());
    source_id_ = service_
                     ->create_source(Json{{"name", "wh"},
                                          {"type", "postgres"},
                                          {"config", {{"host", "db"}, {"password", "s3cret"}}}})
                     .body["id"];
  }
  void TearDown() override {
    service_->shutdown();
    io_.poll();
  }

  std::string add_job(Json extra = Json::object()) {
    Json body{{"type", "query"}, {"source_id", source_id_}, {"params", {{"sql", "select 1"}}}};
    body.update(extra);
    auto a = service_->create_job(body);
    EXPECT_EQ(a.kind, Answer::Kind::kCreated) << a.body.dump();
    return a.body.value("id", "");
  }

  /// A claim answered at once (wait 0): the jobs handed out.
  Json claim_now(const std::string& instance = "i-1") {
    std::optional<Answer> out;
    ClaimReply reply;
    reply.send = [&out](Answer a) { out = std::move(a); };
    service_->claim(token_, ClaimParams{instance, 4, 0}, std::move(reply));
    EXPECT_TRUE(out);
    return out ? out->body["jobs"] : Json::array();
  }

  Answer fail(const Json& leased, bool retryable, const std::string& code = "timeout") {
    Json body{{"lease_token", leased["lease"]["token"]},
              {"status", "failed"},
              {"error", {{"code", code}, {"message", "it broke"}, {"retryable", retryable}}}};
    return service_->result(leased["id"].get<std::string>(), parse_result(body.dump()));
  }

  Answer succeed(const Json& leased) {
    Json body{{"lease_token", leased["lease"]["token"]},
              {"status", "succeeded"},
              {"result", {{"row_count", 1}}}};
    return service_->result(leased["id"].get<std::string>(), parse_result(body.dump()));
  }

  Json job(const std::string& id) { return service_->get_job(id).body; }

  boost::asio::io_context io_;
  std::shared_ptr<ManualClock> clock_ =
      std::make_shared<ManualClock>(SystemTime(std::chrono::milliseconds(1'800'000'000'000)));
  std::shared_ptr<MemoryStore> store_ = std::make_shared<MemoryStore>();
  std::shared_ptr<HubService> service_;
  TokenRecord token_;
  std::string source_id_;
};

}  // namespace outpost::hub::testing
