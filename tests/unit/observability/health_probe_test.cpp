#include "observability/health_probe.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

namespace outpost::obs {
namespace {

// /proc/PID/cmdline: each argument followed by a NUL.
std::string cmdline(const std::vector<std::string>& args) {
  std::string out;
  for (const auto& arg : args) out += arg + '\0';
  return out;
}

/// Clears the two variables the probe reads, and restores nothing: no other
/// test in this binary reads them.
class HealthProbeAddress : public ::testing::Test {
 protected:
  void SetUp() override {
    ::unsetenv("OUTPOST_HEALTHCHECK_ADDR");
    ::unsetenv("AGENT_HEALTH_ADDR");
  }
  void TearDown() override { SetUp(); }
};

TEST_F(HealthProbeAddress, DefaultsToTheAgentsFixedDefault) {
  EXPECT_EQ(health_probe_address({}, ""), "0.0.0.0:8080");
}

TEST_F(HealthProbeAddress, ReadsHealthAddrFromPid1CommandLine) {
  EXPECT_EQ(health_probe_address({}, cmdline({"outpost-agent", "-u", "https://x/api",
                                              "--health-addr", "127.0.0.1:9000"})),
            "127.0.0.1:9000");
  EXPECT_EQ(
      health_probe_address({}, cmdline({"outpost-agent", "--health-addr=[::1]:9001", "-t", "tok"})),
      "[::1]:9001");
  EXPECT_EQ(health_probe_address({}, cmdline({"outpost-agent", "-u", "https://x/api"})),
            "0.0.0.0:8080");
}

TEST_F(HealthProbeAddress, OrderIsArgumentThenEnvironmentThenCommandLineThenAgentEnv) {
  const std::string pid1 = cmdline({"outpost-agent", "--health-addr", "127.0.0.1:3"});
  ::setenv("AGENT_HEALTH_ADDR", "127.0.0.1:4", 1);
  EXPECT_EQ(health_probe_address({}, ""), "127.0.0.1:4");
  EXPECT_EQ(health_probe_address({}, pid1), "127.0.0.1:3");
  ::setenv("OUTPOST_HEALTHCHECK_ADDR", "127.0.0.1:2", 1);
  EXPECT_EQ(health_probe_address({}, pid1), "127.0.0.1:2");
  EXPECT_EQ(health_probe_address({"127.0.0.1:1"}, pid1), "127.0.0.1:1");
}

TEST_F(HealthProbeAddress, OffIsHealthyWithoutChecking) {
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(run_health_probe({"off"}, out, err), 0);
  EXPECT_NE(out.str().find("disabled"), std::string::npos);
}

TEST_F(HealthProbeAddress, MalformedAddressIsAUsageError) {
  for (const std::string bad : {"localhost", "127.0.0.1:", "127.0.0.1:http"}) {
    std::ostringstream out;
    std::ostringstream err;
    EXPECT_EQ(run_health_probe({bad}, out, err), 2) << bad;
    EXPECT_NE(err.str().find("HOST:PORT"), std::string::npos) << bad;
  }
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(run_health_probe({"127.0.0.1:1", "extra"}, out, err), 2);
}

TEST_F(HealthProbeAddress, HubReadsListenThenDefaultsToItsOwnDefault) {
  EXPECT_EQ(hub_probe_address({}, ""), "127.0.0.1:8443");
  EXPECT_EQ(hub_probe_address({}, cmdline({"outpost-hub", "--listen", "0.0.0.0:9443"})),
            "0.0.0.0:9443");
  EXPECT_EQ(hub_probe_address({}, cmdline({"outpost-hub", "--listen=[::]:9444"})), "[::]:9444");
  ::setenv("OUTPOST_HEALTHCHECK_ADDR", "127.0.0.1:2", 1);
  EXPECT_EQ(hub_probe_address({}, cmdline({"outpost-hub", "--listen", "0.0.0.0:9443"})),
            "127.0.0.1:2");
  EXPECT_EQ(hub_probe_address({"127.0.0.1:1"}, ""), "127.0.0.1:1");
  // The agent's variable is not the hub's.
  ::unsetenv("OUTPOST_HEALTHCHECK_ADDR");
  ::setenv("AGENT_HEALTH_ADDR", "127.0.0.1:4", 1);
  EXPECT_EQ(hub_probe_address({}, ""), "127.0.0.1:8443");
}

TEST_F(HealthProbeAddress, HubUnderTlsIsOnlyConnectedTo) {
  EXPECT_TRUE(hub_serves_tls(cmdline({"outpost-hub", "--tls-cert", "/tls/crt", "--tls-key", "k"})));
  EXPECT_TRUE(hub_serves_tls(cmdline({"outpost-hub", "--tls-cert=/tls/crt"})));
  EXPECT_FALSE(hub_serves_tls(cmdline({"outpost-hub", "--listen", "127.0.0.1:8443"})));
}

TEST_F(HealthProbeAddress, HubMalformedAddressIsAUsageError) {
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(run_hub_health_probe({"127.0.0.1:https"}, out, err), 2);
  EXPECT_NE(err.str().find("outpost-hub: healthcheck: cannot read a port"), std::string::npos);
  EXPECT_EQ(run_hub_health_probe({"127.0.0.1:1", "extra"}, out, err), 2);
}

}  // namespace
}  // namespace outpost::obs
