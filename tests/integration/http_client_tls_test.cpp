// The HTTP client's TLS against `openssl s_server` on loopback, with
// certificates made by the test: verification, host names, expiry, mutual TLS.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "http/client.hpp"
#include "http/server.hpp"
#include "support/process.hpp"

namespace outpost::http {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

test::Process::Options options_for(std::vector<std::string> args) {
  test::Process::Options options;
  options.args = std::move(args);
  return options;
}

void openssl(std::vector<std::string> args) {
  args.insert(args.begin(), "/usr/bin/openssl");
  test::Process process(options_for(args));
  const auto status = process.wait(60s);
  ASSERT_TRUE(status.has_value() && *status == 0)
      << "openssl " << args[1] << " failed: " << process.stderr_text();
}

/// Certificates for one test: a CA, server certificates signed by it or
/// self-signed, and a client certificate for mutual TLS.
class Pki {
 public:
  Pki() {
    key("ca");
    openssl({"req", "-x509", "-new", "-key", path("ca.key"), "-out", path("ca.pem"), "-days", "2",
             "-subj", "/CN=Outpost Test CA"});
  }

  std::string path(const std::string& name) const { return (dir_.path() / name).string(); }

  /// A certificate for `san` ("DNS:localhost,IP:127.0.0.1") signed by the CA
  /// (or by itself), valid for `days` (negative = already expired).
  std::string issue(const std::string& name, const std::string& san, bool self_signed = false,
                    int days = 2, const std::string& usage = "serverAuth") {
    key(name);
    openssl({"req", "-new", "-key", path(name + ".key"), "-out", path(name + ".csr"), "-subj",
             "/CN=" + name});
    std::ofstream(path(name + ".ext")) << "subjectAltName=" << san << "\n"
                                       << "extendedKeyUsage=" << usage << "\n";
    std::vector<std::string> args = {"x509",     "-req",
                                     "-in",      path(name + ".csr"),
                                     "-out",     path(name + ".pem"),
                                     "-days",    std::to_string(days),
                                     "-extfile", path(name + ".ext")};
    if (self_signed) {
      args.insert(args.end(), {"-signkey", path(name + ".key")});
    } else {
      args.insert(args.end(), {"-CA", path("ca.pem"), "-CAkey", path("ca.key"), "-CAcreateserial"});
    }
    openssl(args);
    return path(name + ".pem");
  }

 private:
  void key(const std::string& name) {
    openssl({"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-out",
             path(name + ".key")});
  }
  test::TempDir dir_;
};

/// `openssl s_server -www` on 127.0.0.1: answers any GET with a status page
/// that names the client certificate it received, if any.
class TlsServer {
 public:
  TlsServer(const Pki& pki, const std::string& name, bool require_client_cert = false) {
    std::vector<std::string> args = {"/usr/bin/openssl",
                                     "s_server",
                                     "-accept",
                                     "127.0.0.1:0",
                                     "-cert",
                                     pki.path(name + ".pem"),
                                     "-key",
                                     pki.path(name + ".key"),
                                     "-www"};
    if (require_client_cert)
      args.insert(args.end(), {"-Verify", "1", "-CAfile", pki.path("ca.pem")});
    process_.emplace(options_for(args));
    if (!process_->wait_for_output("ACCEPT", 20s)) {
      ADD_FAILURE() << "s_server did not start: " << process_->stderr_text();
      return;
    }
    const std::string out = process_->stdout_text();
    const auto colon = out.find(':', out.find("ACCEPT"));
    port_ = static_cast<std::uint16_t>(std::stoi(out.substr(colon + 1)));
  }
  std::uint16_t port() const { return port_; }

 private:
  std::optional<test::Process> process_;
  std::uint16_t port_ = 0;
};

Outcome get(const std::string& base, ClientOptions options = {}) {
  options.base = parse_url(base).value();
  asio::io_context io;
  Client client(io.get_executor(), options);
  Request request;
  request.target = "/v1/status";
  request.headers.push_back({"Authorization", "Bearer tls-secret-token"});
  std::optional<Outcome> outcome;
  asio::co_spawn(io, client.send(request, 10s),
                 [&](std::exception_ptr, Outcome result) { outcome = std::move(result); });
  io.run();
  EXPECT_TRUE(outcome.has_value());
  if (outcome) {
    EXPECT_EQ(outcome->error.find("tls-secret-token"), std::string::npos);
  }
  return outcome.value_or(Outcome{});
}

std::string url(std::string host, std::uint16_t port) {
  return "https://" + host + ":" + std::to_string(port) + "/api";
}

TEST(HttpClientTls, SelfSignedIsRefusedWithoutCaFile) {
  Pki pki;
  pki.issue("server", "DNS:localhost,IP:127.0.0.1", /*self_signed=*/true);
  TlsServer server(pki, "server");
  const Outcome outcome = get(url("127.0.0.1", server.port()));
  EXPECT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.failure, FailureKind::kTls);
  EXPECT_NE(outcome.error.find("certificate verify failed: self-signed certificate"),
            std::string::npos)
      << outcome.error;
  EXPECT_NE(outcome.error.find("--ca-file"), std::string::npos) << outcome.error;
}

TEST(HttpClientTls, SelfSignedIsAcceptedWithItsCaFile) {
  Pki pki;
  const std::string cert = pki.issue("server", "DNS:localhost,IP:127.0.0.1", true);
  TlsServer server(pki, "server");
  ClientOptions options;
  options.ca_file = cert;
  const Outcome outcome = get(url("127.0.0.1", server.port()), options);
  ASSERT_TRUE(outcome.ok()) << outcome.error;
  EXPECT_EQ(outcome.response->status, 200);
  EXPECT_NE(outcome.response->body.find("no client certificate available"), std::string::npos);
}

TEST(HttpClientTls, CaSignedCertificateWithHostNameAndSni) {
  Pki pki;
  pki.issue("server", "DNS:localhost");
  TlsServer server(pki, "server");
  ClientOptions options;
  options.ca_file = pki.path("ca.pem");
  const Outcome outcome = get(url("localhost", server.port()), options);
  ASSERT_TRUE(outcome.ok()) << outcome.error;
  EXPECT_EQ(outcome.response->status, 200);
  // TLS 1.2 or 1.3 only: s_server's page names the negotiated protocol.
  EXPECT_TRUE(outcome.response->body.find("TLSv1.3") != std::string::npos ||
              outcome.response->body.find("TLSv1.2") != std::string::npos);
}

TEST(HttpClientTls, UntrustedCaIsRefused) {
  Pki pki;
  pki.issue("server", "DNS:localhost,IP:127.0.0.1");
  TlsServer server(pki, "server");
  const Outcome outcome = get(url("127.0.0.1", server.port()));
  EXPECT_EQ(outcome.failure, FailureKind::kTls);
  EXPECT_NE(outcome.error.find("unable to get local issuer certificate"), std::string::npos)
      << outcome.error;
}

TEST(HttpClientTls, WrongHostNameIsRefused) {
  Pki pki;
  pki.issue("server", "DNS:other.example");
  TlsServer server(pki, "server");
  ClientOptions options;
  options.ca_file = pki.path("ca.pem");
  Outcome outcome = get(url("localhost", server.port()), options);
  EXPECT_EQ(outcome.failure, FailureKind::kTls);
  EXPECT_NE(outcome.error.find("hostname mismatch"), std::string::npos) << outcome.error;
  EXPECT_NE(outcome.error.find("'localhost'"), std::string::npos) << outcome.error;

  outcome = get(url("127.0.0.1", server.port()), options);  // an IP is checked against IP SANs
  EXPECT_EQ(outcome.failure, FailureKind::kTls);
  EXPECT_NE(outcome.error.find("IP address mismatch"), std::string::npos) << outcome.error;
}

TEST(HttpClientTls, ExpiredCertificateIsRefused) {
  Pki pki;
  pki.issue("server", "DNS:localhost,IP:127.0.0.1", false, /*days=*/-1);
  TlsServer server(pki, "server");
  ClientOptions options;
  options.ca_file = pki.path("ca.pem");
  const Outcome outcome = get(url("127.0.0.1", server.port()), options);
  EXPECT_EQ(outcome.failure, FailureKind::kTls);
  EXPECT_NE(outcome.error.find("certificate has expired"), std::string::npos) << outcome.error;
}

TEST(HttpClientTls, ClientCertificateForMutualTls) {
  Pki pki;
  pki.issue("server", "DNS:localhost,IP:127.0.0.1");
  pki.issue("outpost-agent", "DNS:outpost-agent", false, 2, "clientAuth");
  TlsServer server(pki, "server", /*require_client_cert=*/true);
  ClientOptions options;
  options.ca_file = pki.path("ca.pem");
  options.client_cert = pki.path("outpost-agent.pem");
  options.client_key = pki.path("outpost-agent.key");
  const Outcome outcome = get(url("127.0.0.1", server.port()), options);
  ASSERT_TRUE(outcome.ok()) << outcome.error;
  EXPECT_NE(outcome.response->body.find("Subject: CN=outpost-agent"), std::string::npos)
      << outcome.response->body;
}

TEST(HttpClientTls, MissingClientCertificateIsRefusedByTheServer) {
  Pki pki;
  pki.issue("server", "DNS:localhost,IP:127.0.0.1");
  TlsServer server(pki, "server", /*require_client_cert=*/true);
  ClientOptions options;
  options.ca_file = pki.path("ca.pem");
  const Outcome outcome = get(url("127.0.0.1", server.port()), options);
  EXPECT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.failure, FailureKind::kTls) << outcome.error;
}

TEST(HttpClientTls, UnreadableFilesFailAtConstruction) {
  Pki pki;
  asio::io_context io;
  ClientOptions options;
  options.base = parse_url("https://localhost/api").value();
  options.ca_file = pki.path("missing.pem");
  try {
    Client client(io.get_executor(), options);
    ADD_FAILURE() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("missing.pem"), std::string::npos) << e.what();
  }
  options.ca_file.clear();
  options.client_cert = pki.path("ca.pem");
  options.client_key = pki.path("nope.key");
  EXPECT_THROW(Client(io.get_executor(), options), std::runtime_error);
  options.client_key.clear();
  EXPECT_THROW(Client(io.get_executor(), options), std::runtime_error);
}

// Interoperability with the project's own server (the hub's transport):
// mutual TLS, keep-alive across requests, headers and bodies both ways.
TEST(HttpClientTls, HubServerWithMutualTlsAndKeepAlive) {
  Pki pki;
  pki.issue("server", "DNS:localhost,IP:127.0.0.1");
  pki.issue("agent", "DNS:agent", false, 2, "clientAuth");
  asio::io_context io;
  ServerOptions server_options;
  server_options.tls_cert = pki.path("server.pem");
  server_options.tls_key = pki.path("server.key");
  server_options.tls_client_ca = pki.path("ca.pem");
  std::vector<Request> seen;
  Server server(io.get_executor(), server_options, [&](Request request, Responder respond) {
    seen.push_back(request);
    respond(json_response(200, R"({"agent_id":"agt_1"})"));
  });
  server.start();

  ClientOptions options;
  options.base = parse_url(url("localhost", server.port())).value();
  options.ca_file = pki.path("ca.pem");
  options.client_cert = pki.path("agent.pem");
  options.client_key = pki.path("agent.key");
  options.user_agent = "outpost-agent/9.9.9";
  Client client(io.get_executor(), options);
  std::vector<Outcome> outcomes;
  for (int i = 0; i < 3; ++i) {
    Request request;
    request.method = "POST";
    request.target = "/v1/agent/connect";
    request.body = R"({"capacity":3})";
    asio::co_spawn(io, client.send(request, 10s),
                   [&](std::exception_ptr, Outcome o) { outcomes.push_back(std::move(o)); });
    // The server keeps the io_context busy: run until this outcome is in
    // (the client's own 10 s deadline bounds the wait).
    while (outcomes.size() == static_cast<std::size_t>(i)) io.run_one();
    ASSERT_TRUE(outcomes.back().ok()) << outcomes.back().error;
    EXPECT_EQ(outcomes.back().response->status, 200);
    EXPECT_EQ(outcomes.back().response->body, R"({"agent_id":"agt_1"})");
  }
  EXPECT_EQ(client.connections_opened(), 1u);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].target, "/api/v1/agent/connect");
  EXPECT_EQ(seen[0].body, R"({"capacity":3})");
  EXPECT_EQ(seen[0].header("User-Agent").value_or(""), "outpost-agent/9.9.9");

  // Without a client certificate the same server refuses the agent.
  options.client_cert.clear();
  options.client_key.clear();
  Client anonymous(io.get_executor(), options);
  std::optional<Outcome> refused;
  asio::co_spawn(io, anonymous.send(Request{}, 10s),
                 [&](std::exception_ptr, Outcome o) { refused = std::move(o); });
  while (!refused) io.run_one();
  EXPECT_FALSE(refused->ok());
  EXPECT_EQ(refused->failure, FailureKind::kTls) << refused->error;
  EXPECT_EQ(seen.size(), 3u);
}

}  // namespace
}  // namespace outpost::http
