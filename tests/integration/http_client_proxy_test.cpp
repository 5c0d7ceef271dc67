// The HTTP client through an HTTP CONNECT forward proxy on loopback: basic
// auth, TLS inside the tunnel, keep-alive through it, NO_PROXY bypass.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "http/client.hpp"
#include "http/proxy.hpp"
#include "support/forward_proxy.hpp"
#include "support/hostile_server.hpp"
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
using test::ForwardProxy;
using test::HostileServer;

std::vector<Outcome> send_all(ClientOptions options, int count) {
  asio::io_context io;
  Client client(io.get_executor(), std::move(options));
  std::vector<Outcome> outcomes;
  for (int i = 0; i < count; ++i) {
    Request request;
    request.method = "POST";
    request.target = "/v1/agent/jobs/claim";
    request.headers.push_back({"Authorization", "Bearer proxy-secret-token"});
    request.body = "{}";
    asio::co_spawn(io, client.send(request, 10s),
                   [&](std::exception_ptr, Outcome o) { outcomes.push_back(std::move(o)); });
    io.restart();
    io.run();
  }
  EXPECT_EQ(outcomes.size(), static_cast<std::size_t>(count));
  return outcomes;
}

HostileServer make_server() {
  return HostileServer([](const HostileServer::Request&) {
    return HostileServer::Action::json(200, R"({"jobs":[]})");
  });
}

std::string local(std::uint16_t port) {
  return "http://127.0.0.1:" + std::to_string(port) + "/api";
}

TEST(HttpClientProxy, ConnectWithBasicAuthAndKeepAliveThroughTheTunnel) {
  HostileServer server = make_server();
  ForwardProxy proxy("alice", "s3cr:et@");
  ClientOptions options;
  options.base = parse_url(local(server.port())).value();
  // Reserved characters in the password are percent-encoded in the URL.
  options.proxy = parse_url("http://alice:s3cr%3Aet%40@127.0.0.1:" + std::to_string(proxy.port()));
  ASSERT_TRUE(options.proxy.has_value());
  for (const auto& outcome : send_all(options, 2)) {
    ASSERT_TRUE(outcome.ok()) << outcome.error;
    EXPECT_EQ(outcome.response->body, R"({"jobs":[]})");
  }
  EXPECT_EQ(proxy.connects(), 1u);  // one tunnel carried both requests
  EXPECT_EQ(proxy.auth_failures(), 0u);
  ASSERT_EQ(proxy.targets().size(), 1u);
  EXPECT_EQ(proxy.targets()[0], "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(server.count("/api/v1/agent/jobs/claim"), 2u);
  // The proxy credentials went to the proxy only, never to the control plane.
  for (const auto& r : server.requests())
    EXPECT_EQ(r.headers.find("Proxy-Authorization"), std::string::npos);
}

TEST(HttpClientProxy, WrongCredentialsAreAProxyFailureWithoutTheSecret) {
  HostileServer server = make_server();
  ForwardProxy proxy("alice", "right");
  ClientOptions options;
  options.base = parse_url(local(server.port())).value();
  options.proxy =
      parse_url("http://alice:wrong-password@127.0.0.1:" + std::to_string(proxy.port()));
  const Outcome outcome = send_all(options, 1).at(0);
  EXPECT_EQ(outcome.failure, FailureKind::kProxy);
  EXPECT_NE(outcome.error.find("407"), std::string::npos) << outcome.error;
  EXPECT_EQ(outcome.error.find("wrong-password"), std::string::npos) << outcome.error;
  EXPECT_EQ(outcome.error.find("alice"), std::string::npos) << outcome.error;
  EXPECT_EQ(proxy.auth_failures(), 1u);
  EXPECT_EQ(server.requests().size(), 0u);
}

TEST(HttpClientProxy, TargetNameIsResolvedByTheProxyNotTheClient) {
  ForwardProxy proxy;  // refuses non-loopback targets with 403
  ClientOptions options;
  options.base = parse_url("https://control-plane.invalid/api").value();
  options.proxy = parse_url(proxy.url());
  const Outcome outcome = send_all(options, 1).at(0);
  EXPECT_EQ(outcome.failure, FailureKind::kProxy);
  EXPECT_NE(outcome.error.find("refused CONNECT to control-plane.invalid:443"), std::string::npos)
      << outcome.error;
}

TEST(HttpClientProxy, ProxyDownIsAConnectFailureNamingTheProxy) {
  HostileServer server = make_server();
  ClientOptions options;
  options.base = parse_url(local(server.port())).value();
  options.proxy = parse_url("http://127.0.0.1:" + std::to_string(test::free_port()));
  const Outcome outcome = send_all(options, 1).at(0);
  EXPECT_EQ(outcome.failure, FailureKind::kConnect);
  EXPECT_NE(outcome.error.find("proxy 127.0.0.1:"), std::string::npos) << outcome.error;
}

TEST(HttpClientProxy, TlsInsideTheTunnel) {
  test::TempDir dir;
  const std::string key = (dir.path() / "key.pem").string();
  const std::string cert = (dir.path() / "cert.pem").string();
  {
    test::Process gen(options_for({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                   "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out",
                                   cert, "-days", "2", "-subj", "/CN=localhost", "-addext",
                                   "subjectAltName=DNS:localhost,IP:127.0.0.1"}));
    ASSERT_EQ(gen.wait(60s), 0) << gen.stderr_text();
  }
  test::Process tls_server(options_for({"/usr/bin/openssl", "s_server", "-accept", "127.0.0.1:0",
                                        "-cert", cert, "-key", key, "-www"}));
  ASSERT_TRUE(tls_server.wait_for_output("ACCEPT", 20s)) << tls_server.stderr_text();
  const std::string out = tls_server.stdout_text();
  const std::string port = out.substr(out.find(':', out.find("ACCEPT")) + 1);

  ForwardProxy proxy("bob", "pw");
  ClientOptions options;
  options.base = parse_url("https://localhost:" + std::to_string(std::stoi(port)) + "/api").value();
  options.ca_file = cert;
  options.proxy = parse_url("http://bob:pw@127.0.0.1:" + std::to_string(proxy.port()));
  asio::io_context io;
  Client client(io.get_executor(), options);
  Request request;  // s_server -www answers GETs
  std::optional<Outcome> outcome;
  asio::co_spawn(io, client.send(request, 10s),
                 [&](std::exception_ptr, Outcome o) { outcome = std::move(o); });
  io.run();
  ASSERT_TRUE(outcome && outcome->ok()) << (outcome ? outcome->error : "no outcome");
  EXPECT_EQ(outcome->response->status, 200);
  EXPECT_EQ(proxy.connects(), 1u);
  ASSERT_EQ(proxy.targets().size(), 1u);
  EXPECT_EQ(proxy.targets()[0], "localhost:" + std::to_string(std::stoi(port)));
}

TEST(HttpClientProxy, EnvironmentProxyAndNoProxyBypass) {
  HostileServer server = make_server();
  ForwardProxy proxy;
  const Url base = parse_url(local(server.port())).value();
  ProxyEnvironment env;
  env.http_proxy = proxy.url();

  // HTTP_PROXY applies to this http:// target...
  ProxyChoice choice = select_proxy(base, "", env);
  ASSERT_TRUE(choice.ok()) << choice.error;
  ASSERT_TRUE(choice.proxy.has_value());
  ClientOptions options;
  options.base = base;
  options.proxy = choice.proxy;
  ASSERT_TRUE(send_all(options, 1).at(0).ok());
  EXPECT_EQ(proxy.connects(), 1u);

  // ...and NO_PROXY takes it out again, even for an explicit --proxy.
  env.no_proxy = "localhost,127.0.0.0/8";
  const std::vector<std::string> explicit_proxies = {"", proxy.url()};
  for (const std::string& explicit_proxy : explicit_proxies) {
    choice = select_proxy(base, explicit_proxy, env);
    EXPECT_TRUE(choice.bypassed);
    options.proxy = choice.proxy;
    ASSERT_TRUE(send_all(options, 1).at(0).ok());
  }
  EXPECT_EQ(proxy.connects(), 1u);
  EXPECT_EQ(server.count("/claim"), 3u);
}

}  // namespace
}  // namespace outpost::http
