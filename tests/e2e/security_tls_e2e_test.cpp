// Issue 6 acceptance, control-plane transport: TLS verification of the hub
// (self-signed, --ca-file, wrong host name, mutual TLS) and the CONNECT proxy
// (--proxy, HTTPS_PROXY with basic auth, NO_PROXY), real hub and agents.
//
// A TLS failure at start-up is a transport failure, so the agent retries it
// with backoff, logging each attempt ("control plane call failed"); the tests
// give --max-retries 2 so it then exits 1 with one clear stderr line naming
// the certificate problem.

#include "e2e/security_fixture.hpp"
#include "support/forward_proxy.hpp"

namespace outpost::test {
namespace {

class SecurityTlsE2E : public SecurityE2E {
 protected:
  /// Starts an agent that must fail to reach the hub: exit 1 after the
  /// retries, and the TLS reason both on stderr and in the JSON log. Returns
  /// the stderr text.
  std::string expect_tls_refusal(const std::string& token, std::vector<std::string> extra,
                                 const std::string& reason) {
    extra.insert(extra.end(), {"--max-retries", "2"});
    Agent a = agent(token, extra, {}, https_url());
    EXPECT_EQ(exit_status(a), 1);
    const std::string err = a.process->stderr_text();
    EXPECT_NE(err.find("outpost-agent: error: "), std::string::npos) << err;
    EXPECT_NE(err.find(reason), std::string::npos) << err;
    EXPECT_FALSE(a.lines("agent started").size() > 0) << "connected despite the TLS failure";
    const auto failures = a.lines("control plane call failed");
    EXPECT_FALSE(failures.empty());
    for (const auto& f : failures) {
      EXPECT_NE(f.value("error", "").find(reason), std::string::npos) << f.dump();
    }
    return err;
  }
};

TEST_F(SecurityTlsE2E, SelfSignedHubRefusedWithoutCaFileWorksWithIt) {
  Pki pki;
  const auto cert = pki.issue("hub", "DNS:localhost,IP:127.0.0.1", /*self_signed=*/true);
  start_tls_hub(cert, pki.path("hub.key"), cert);
  const std::string token = secret(create_token());
  const auto src = sqlite_source();

  const auto err =
      expect_tls_refusal(token, {}, "certificate verify failed: self-signed certificate");
  EXPECT_NE(err.find("--ca-file"), std::string::npos) << err;

  Agent a = agent(token, {"--ca-file", cert}, {}, https_url());
  ASSERT_TRUE(a.wait_for_msg("agent started", 20s));
  EXPECT_TRUE(query_succeeds(src));
}

TEST_F(SecurityTlsE2E, CertificateForAnotherHostNameIsRefused) {
  Pki pki;
  const auto cert = pki.issue("hub", "DNS:db-gateway.example");
  start_tls_hub(cert, pki.path("hub.key"), pki.path("ca.pem"), {}, {}, {}, "db-gateway.example");
  const std::string token = secret(create_token());
  // The CA is trusted: only the name is wrong.
  expect_tls_refusal(token, {"--ca-file", pki.path("ca.pem")},
                     "certificate is not valid for host name '127.0.0.1'");
}

TEST_F(SecurityTlsE2E, HubRequiringClientCertificatesAcceptsOnlyAgentsWithOne) {
  Pki pki;
  const auto cert = pki.issue("hub", "DNS:localhost,IP:127.0.0.1");
  const auto client = pki.issue("outpost-agent", "DNS:outpost-agent", false, "clientAuth");
  const auto ca = pki.path("ca.pem");
  start_tls_hub(cert, pki.path("hub.key"), ca, ca, client, pki.path("outpost-agent.key"));
  const std::string token = secret(create_token());
  const auto src = sqlite_source();

  Agent a = agent(
      token,
      {"--ca-file", ca, "--client-cert", client, "--client-key", pki.path("outpost-agent.key")}, {},
      https_url());
  ASSERT_TRUE(a.wait_for_msg("agent started", 20s));
  EXPECT_TRUE(query_succeeds(src));

  // Without a client certificate the hub ends the handshake.
  Agent without = agent(token, {"--ca-file", ca, "--max-retries", "2"}, {}, https_url());
  EXPECT_EQ(exit_status(without), 1);
  const std::string err = without.process->stderr_text();
  EXPECT_NE(err.find("outpost-agent: error: "), std::string::npos) << err;
  // The hub's TLS alert ("certificate required") is what the operator sees.
  EXPECT_NE(err.find("certificate required"), std::string::npos)
      << "the refusal should name the missing client certificate: " << err;
  EXPECT_TRUE(without.lines("agent started").empty());
}

TEST_F(SecurityTlsE2E, ProxyFlagTunnelsPlainHttpHubThroughConnect) {
  ForwardProxy proxy;
  start_hub();
  const std::string token = secret(create_token());
  const auto src = sqlite_source();

  Agent a = agent(token, {"--proxy", proxy.url()});
  ASSERT_TRUE(a.wait_for_msg("agent started", 20s));
  EXPECT_TRUE(query_succeeds(src));
  EXPECT_GE(proxy.connects(), 1u);
  const auto targets = proxy.targets();
  const std::string hub = "127.0.0.1:" + std::to_string(hub_port_);
  EXPECT_FALSE(targets.empty());
  for (const auto& t : targets) EXPECT_EQ(t, hub);
  a.process->signal(SIGTERM);
  EXPECT_EQ(exit_status(a), 0);

  // HTTP_PROXY is the variable for a plain-http control plane; it tunnels too.
  const auto before = proxy.connects();
  Agent b = agent(token, {}, {{"HTTP_PROXY", proxy.url()}});
  ASSERT_TRUE(b.wait_for_msg("agent started", 20s));
  EXPECT_TRUE(query_succeeds(src));
  EXPECT_GT(proxy.connects(), before);
}

TEST_F(SecurityTlsE2E, HttpsProxyVariableWithBasicAuthTunnelsTlsHub) {
  const std::string proxy_password = secret("proxy-pw-R8m3Zt");
  ForwardProxy proxy("outpost", proxy_password);
  Pki pki;
  const auto cert = pki.issue("hub", "DNS:localhost,IP:127.0.0.1");
  start_tls_hub(cert, pki.path("hub.key"), pki.path("ca.pem"));
  const std::string token = secret(create_token());
  const auto src = sqlite_source();

  const std::string proxy_url =
      "http://outpost:" + proxy_password + "@127.0.0.1:" + std::to_string(proxy.port());
  Agent a = agent(token, {"--ca-file", pki.path("ca.pem"), "--log-level", "debug"},
                  {{"HTTPS_PROXY", proxy_url}}, https_url());
  ASSERT_TRUE(a.wait_for_msg("agent started", 20s));
  EXPECT_TRUE(query_succeeds(src));
  EXPECT_GE(proxy.connects(), 1u);
  EXPECT_EQ(proxy.auth_failures(), 0u);

  // Wrong proxy credentials: the proxy refuses, the agent never connects.
  const std::string bad_url = "http://outpost:" + secret("bad-proxy-pw-2Wq9") +
                              "@127.0.0.1:" + std::to_string(proxy.port());
  Agent refused = agent(token, {"--ca-file", pki.path("ca.pem"), "--max-retries", "2"},
                        {{"HTTPS_PROXY", bad_url}}, https_url());
  EXPECT_NE(exit_status(refused), 0);
  EXPECT_GE(proxy.auth_failures(), 1u);
  EXPECT_NE(refused.process->stderr_text().find("407"), std::string::npos)
      << refused.process->stderr_text();
  EXPECT_TRUE(refused.lines("agent started").empty());
}

TEST_F(SecurityTlsE2E, NoProxyBypassesTheProxy) {
  ForwardProxy proxy;
  Pki pki;
  const auto cert = pki.issue("hub", "DNS:localhost,IP:127.0.0.1");
  start_tls_hub(cert, pki.path("hub.key"), pki.path("ca.pem"));
  const std::string token = secret(create_token());
  const auto src = sqlite_source();

  Agent a = agent(token, {"--ca-file", pki.path("ca.pem")},
                  {{"HTTPS_PROXY", proxy.url()}, {"NO_PROXY", "127.0.0.1"}}, https_url());
  ASSERT_TRUE(a.wait_for_msg("agent started", 20s));
  EXPECT_TRUE(query_succeeds(src));
  a.process->signal(SIGTERM);
  EXPECT_EQ(exit_status(a), 0);
  // NO_PROXY applies to --proxy too (as in curl).
  Agent b = agent(token, {"--ca-file", pki.path("ca.pem"), "--proxy", proxy.url()},
                  {{"NO_PROXY", "localhost,127.0.0.0/8"}}, https_url());
  ASSERT_TRUE(b.wait_for_msg("agent started", 20s));
  EXPECT_TRUE(query_succeeds(src));
  EXPECT_EQ(proxy.connects(), 0u);
  EXPECT_TRUE(proxy.targets().empty());
}

}  // namespace
}  // namespace outpost::test
