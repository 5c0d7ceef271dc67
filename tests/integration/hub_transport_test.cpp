// outpost-hub as an HTTP server: bad input, size limits, slow clients, TLS,
// mutual TLS, graceful stop.
#include <future>

#include "integration/hub_fixture.hpp"
#include "support/process.hpp"

namespace outpost::test {
namespace {

using namespace std::chrono_literals;

TEST_F(HubTest, MalformedJsonAndWrongTypesGetClear400s) {
  start_hub();
  auto agent = client(create_token());
  auto r = agent->post("/api/v1/agent/jobs/claim", "{not json");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json(r)["error"]["code"], "invalid_json");
  r = agent->post("/api/v1/agent/jobs/claim", R"({"instance_id":"i","capacity":"three"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(json(r)["error"]["message"].get<std::string>().find("capacity"), std::string::npos);
  r = agent->post("/api/v1/agent/jobs/claim", "[1,2]");
  EXPECT_EQ(r.status, 400);
  r = admin().post("/api/v1/admin/tokens", R"({"name": 7})");
  EXPECT_EQ(r.status, 400);
  r = admin().post("/api/v1/admin/sources", R"({"name":"w","type":"postgres"})");
  EXPECT_EQ(r.status, 400);
  r = admin().post("/api/v1/admin/jobs", R"({"type":"query"})");
  EXPECT_EQ(r.status, 400);
  r = admin().post("/api/v1/admin/jobs", R"({"type":"query","source_id":"src_nope"})");
  EXPECT_EQ(r.status, 404);
  r = agent->post("/api/v1/agent/jobs/job_1/result", R"({"lease_token":"x","status":"maybe"})");
  EXPECT_EQ(r.status, 400);
}

TEST_F(HubTest, UnknownJobsEndpointsAndMethods) {
  start_hub();
  auto agent = client(create_token());
  EXPECT_EQ(admin().get("/api/v1/admin/jobs/job_42").status, 404);
  EXPECT_EQ(json(admin().get("/api/v1/admin/jobs/job_42"))["error"]["code"], "job_not_found");
  EXPECT_EQ(agent->post("/api/v1/agent/jobs/job_42/heartbeat", R"({"lease_token":"l"})").status,
            404);
  EXPECT_EQ(
      agent->post("/api/v1/agent/jobs/job_42/result", R"({"lease_token":"l","status":"succeeded"})")
          .status,
      404);
  EXPECT_EQ(agent->post("/api/v1/agent/nothing", "{}").status, 404);
  EXPECT_EQ(client()->get("/elsewhere").status, 404);
  EXPECT_EQ(agent->get("/api/v1/agent/jobs/claim").status, 405);
  EXPECT_EQ(client()->get("/healthz").status, 200);
}

TEST_F(HubTest, OversizedBodyGets413WithoutBeingRead) {
  start_hub([](hub::HubOptions& o) { o.server.max_body_bytes = 1024; });
  auto agent = client(create_token());
  auto r = agent->post("/api/v1/agent/connect", std::string(4096, 'x'));
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(json(r)["error"]["code"], "body_too_large");
  // A gzip body that inflates past the limit is refused the same way.
  auto bomb = agent->request("POST", "/api/v1/agent/connect", http::gzip(std::string(100000, ' ')),
                             {{"Content-Encoding", "gzip"}});
  EXPECT_EQ(bomb.status, 413);
  // The hub keeps serving.
  EXPECT_EQ(client()->get("/healthz").status, 200);
}

TEST_F(HubTest, MalformedHttpGets400AndTheConnectionIsClosed) {
  start_hub();
  bool closed = false;
  auto reply =
      HttpTestClient::raw_exchange("127.0.0.1", port(), "NOT HTTP AT ALL\r\n\r\n", 5s, &closed);
  EXPECT_NE(reply.find(" 400 "), std::string::npos) << reply;
  EXPECT_NE(reply.find("\"error\""), std::string::npos) << reply;
  EXPECT_TRUE(closed);
}

TEST_F(HubTest, SlowClientIsDisconnectedAtTheHeaderTimeout) {
  start_hub([](hub::HubOptions& o) { o.server.header_timeout = 300ms; });
  bool closed = false;
  // Half a request line, then silence: the hub must hang up, not wait forever.
  HttpTestClient::raw_exchange("127.0.0.1", port(), "POST /api/v1/agent/conn", 10s, &closed);
  EXPECT_TRUE(closed);
  closed = false;
  HttpTestClient::raw_exchange("127.0.0.1", port(), "", 10s, &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(client()->get("/healthz").status, 200);
}

TEST_F(HubTest, KeepAliveServesManyRequestsOnOneConnection) {
  start_hub();
  auto c = client();
  for (int i = 0; i < 20; ++i) {
    auto r = c->get("/healthz");
    ASSERT_EQ(r.status, 200);
    EXPECT_FALSE(r.header("Connection").has_value() && *r.header("Connection") == "close");
  }
}

TEST_F(HubTest, StopAnswersWaitingClaimsWithAnEmptyList) {
  start_hub();
  auto agent = client(create_token());
  auto waiting =
      std::async(std::launch::async, [&] { return claim_raw(*agent, "i-1", 1, 20'000); });
  ASSERT_TRUE(eventually([&] { return hub_->stats().waiters == 1; }, 5s));
  hub_->stop();
  auto r = waiting.get();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json(r)["jobs"], Json::array());
}

class HubTlsTest : public HubTest {
 protected:
  void SetUp() override { certs_ = make_test_certificates(dir_.path().string()); }

  std::unique_ptr<HttpTestClient> tls_client(bool with_cert, bool intruder = false) {
    TlsClientOptions t;
    t.ca_file = certs_.ca_cert;
    t.server_name = "localhost";
    if (with_cert) {
      t.cert_file = intruder ? certs_.other_client_cert : certs_.client_cert;
      t.key_file = intruder ? certs_.other_client_key : certs_.client_key;
    }
    return std::make_unique<HttpTestClient>("127.0.0.1", port(), t);
  }

  TempDir dir_;
  TestCertificates certs_;
};

TEST_F(HubTlsTest, ServesHttpsWithACertificateMadeByTheTest) {
  start_hub([this](hub::HubOptions& o) {
    o.server.tls_cert = certs_.server_cert;
    o.server.tls_key = certs_.server_key;
  });
  auto c = tls_client(false);
  c->set_header("Authorization", std::string("Bearer ") + kAdminToken);
  auto r = c->post("/api/v1/admin/tokens", R"({"name":"tls-agent"})");
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(c->get("/healthz").status, 200);
  // Plain http on the TLS port gets no HTTP answer.
  bool closed = false;
  auto reply = HttpTestClient::raw_exchange("127.0.0.1", port(), "GET /healthz HTTP/1.1\r\n\r\n",
                                            5s, &closed);
  EXPECT_EQ(reply.find("200 OK"), std::string::npos);
  EXPECT_TRUE(closed);
}

TEST_F(HubTlsTest, MutualTlsRequiresAClientCertificateFromTheClientCa) {
  start_hub([this](hub::HubOptions& o) {
    o.server.tls_cert = certs_.server_cert;
    o.server.tls_key = certs_.server_key;
    o.server.tls_client_ca = certs_.ca_cert;
  });
  EXPECT_EQ(tls_client(true)->get("/healthz").status, 200);
  EXPECT_THROW(tls_client(false)->get("/healthz"), std::runtime_error);
  EXPECT_THROW(tls_client(true, /*intruder=*/true)->get("/healthz"), std::runtime_error);
}

TEST(HubOptionsTest, BadCertificatePathsFailAtStartWithTheFileName) {
  boost::asio::io_context io;
  hub::HubOptions o;
  o.admin_token = "x";
  o.server.tls_cert = "/nonexistent/cert.pem";
  o.server.tls_key = "/nonexistent/key.pem";
  try {
    hub::Hub h(io.get_executor(), o);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/cert.pem"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace outpost::test
