// The --allow-hosts policy: entry parsing, CIDR and name matching, and the
// decision for numeric hosts (numeric look-ups need no DNS).
#include "security/egress.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace outpost::security {
namespace {

TEST(EgressGuardParse, AcceptsEveryEntryKind) {
  EXPECT_NO_THROW(EgressGuard({"db.internal", "*.corp.example", "10.0.0.0/8", "192.0.2.7",
                               "fd00::/8", "2001:db8::1", "[::1]", " DB.Example.COM. ", "0.0.0.0/0",
                               "::/0", "::ffff:10.0.0.0/104", "under_score.internal"}));
}

TEST(EgressGuardParse, RejectsBadEntriesNamingThem) {
  for (const char* bad : {"10.0.0.0/33", "fd00::/129", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8x",
                          "300.1.1.1/8", "db*.internal", "*", "*.", "*.-bad", "a..b", "-a.b",
                          "host name", "db.internal:5432", "http://db", "a/b"}) {
    try {
      EgressGuard guard({bad});
      ADD_FAILURE() << "accepted " << bad;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
}

TEST(EgressGuardParse, BlankEntriesAreIgnored) {
  EXPECT_TRUE(EgressGuard({}).unrestricted());
  EXPECT_TRUE(EgressGuard({"", "  "}).unrestricted());
  EXPECT_FALSE(EgressGuard({"", "db"}).unrestricted());
}

TEST(EgressGuardMatch, Ipv4Cidr) {
  const EgressGuard guard({"10.0.0.0/8", "192.168.1.0/24", "172.16.5.4", "100.64.0.0/10"});
  EXPECT_TRUE(guard.allows_address("10.0.0.1"));
  EXPECT_TRUE(guard.allows_address("10.255.255.255"));
  EXPECT_FALSE(guard.allows_address("11.0.0.0"));
  EXPECT_TRUE(guard.allows_address("192.168.1.200"));
  EXPECT_FALSE(guard.allows_address("192.168.2.1"));
  EXPECT_TRUE(guard.allows_address("172.16.5.4"));
  EXPECT_FALSE(guard.allows_address("172.16.5.5"));
  EXPECT_TRUE(guard.allows_address("100.127.255.255"));
  EXPECT_FALSE(guard.allows_address("100.128.0.0"));
  EXPECT_FALSE(guard.allows_address("127.0.0.1"));
  EXPECT_FALSE(guard.allows_address("db.internal"));
  EXPECT_FALSE(guard.allows_address("::1"));
}

TEST(EgressGuardMatch, Ipv6Cidr) {
  const EgressGuard guard({"fd00::/8", "2001:db8:abcd::/48", "::1"});
  EXPECT_TRUE(guard.allows_address("fd12:3456::1"));
  EXPECT_FALSE(guard.allows_address("fe80::1"));
  EXPECT_TRUE(guard.allows_address("2001:db8:abcd:ffff::1"));
  EXPECT_FALSE(guard.allows_address("2001:db8:abce::1"));
  EXPECT_TRUE(guard.allows_address("::1"));
  EXPECT_TRUE(guard.allows_address("[::1]"));
  EXPECT_FALSE(guard.allows_address("127.0.0.1"));
}

TEST(EgressGuardMatch, HostBitsInCidrAreIgnored) {
  const EgressGuard guard({"10.1.2.3/8"});
  EXPECT_TRUE(guard.allows_address("10.200.0.1"));
}

TEST(EgressGuardMatch, V4MappedIpv6IsJudgedAsIpv4) {
  const EgressGuard guard({"10.0.0.0/8"});
  EXPECT_TRUE(guard.allows_address("::ffff:10.1.2.3"));
  EXPECT_FALSE(guard.allows_address("::ffff:127.0.0.1"));
  const EgressGuard mapped({"::ffff:192.0.2.0/120"});
  EXPECT_TRUE(mapped.allows_address("192.0.2.9"));
  EXPECT_FALSE(mapped.allows_address("192.0.3.9"));
}

TEST(EgressGuardMatch, ZeroPrefixAllowsItsWholeFamily) {
  const EgressGuard v4({"0.0.0.0/0"});
  EXPECT_TRUE(v4.allows_address("8.8.8.8"));
  EXPECT_FALSE(v4.allows_address("2001:db8::1"));
  const EgressGuard v6({"::/0"});
  EXPECT_TRUE(v6.allows_address("2001:db8::1"));
  EXPECT_FALSE(v6.allows_address("8.8.8.8"));
}

TEST(EgressGuardMatch, NamesAndSuffixes) {
  const EgressGuard guard({"DB.internal", "*.corp.example"});
  EXPECT_TRUE(guard.allows_name("db.internal"));
  EXPECT_TRUE(guard.allows_name("db.INTERNAL."));
  EXPECT_FALSE(guard.allows_name("db2.internal"));
  EXPECT_FALSE(guard.allows_name("x.db.internal"));
  EXPECT_TRUE(guard.allows_name("pg.corp.example"));
  EXPECT_TRUE(guard.allows_name("a.b.corp.example"));
  EXPECT_FALSE(guard.allows_name("corp.example"));
  EXPECT_FALSE(guard.allows_name("evilcorp.example"));
  EXPECT_FALSE(guard.allows_name("corp.example.evil.com"));
}

TEST(EgressGuardCheck, AllowedNameNeedsNoAddressMatch) {
  const EgressGuard guard({"db.internal"});
  const auto result = guard.check("db.internal", {"127.0.0.1"});
  EXPECT_FALSE(result.error);
  EXPECT_EQ(result.addresses, std::vector<std::string>{"127.0.0.1"});
}

TEST(EgressGuardCheck, OtherNamesNeedEveryAddressInACidr) {
  const EgressGuard guard({"10.0.0.0/8"});
  EXPECT_FALSE(guard.check("pg.example", {"10.0.0.5", "10.9.9.9"}).error);
  const auto mixed = guard.check("pg.example", {"10.0.0.5", "127.0.0.1"});
  ASSERT_TRUE(mixed.error);
  EXPECT_EQ(mixed.error->code, ErrorCode::kEgressDenied);
  EXPECT_TRUE(mixed.addresses.empty());
  EXPECT_NE(mixed.error->message.find("pg.example"), std::string::npos);
  EXPECT_NE(mixed.error->message.find("127.0.0.1"), std::string::npos);
}

TEST(EgressGuardCheck, NumericHostNeverMatchesAName) {
  const EgressGuard guard({"127.0.0.2.nip.example", "*.0.0.1"});
  EXPECT_TRUE(guard.check("127.0.0.1", {"127.0.0.1"}).error);
}

TEST(EgressGuardResolve, NumericHostOutsideTheListIsDeniedWithoutDns) {
  const EgressGuard guard({"10.0.0.0/8"});
  const auto result = guard.resolve("127.0.0.1", 5432);
  ASSERT_TRUE(result.error);
  EXPECT_EQ(result.error->code, ErrorCode::kEgressDenied);
  EXPECT_NE(result.error->message.find("127.0.0.1"), std::string::npos);
  EXPECT_TRUE(result.addresses.empty());
}

TEST(EgressGuardResolve, AlternativeNumericFormsAreCanonicalised) {
  const EgressGuard guard({"10.0.0.0/8"});
  for (const char* host : {"127.1", "2130706433", "0x7f.0.0.1", "::ffff:127.0.0.1", "[::1]"}) {
    const auto result = guard.resolve(host, 5432);
    ASSERT_TRUE(result.error) << host;
    EXPECT_EQ(result.error->code, ErrorCode::kEgressDenied) << host;
  }
  const auto ok = guard.resolve("10.1.2.3", 5432);
  EXPECT_FALSE(ok.error);
  EXPECT_EQ(ok.addresses, std::vector<std::string>{"10.1.2.3"});
}

TEST(EgressGuardResolve, UnlistedNameIsDeniedWithoutDnsWhenThereAreNoCidrs) {
  const EgressGuard guard({"db.internal"});
  const auto result = guard.resolve("exfil.attacker.invalid", 5432);
  ASSERT_TRUE(result.error);
  EXPECT_EQ(result.error->code, ErrorCode::kEgressDenied);
}

TEST(EgressGuardResolve, EmptyHostIsUnreachable) {
  const auto result = EgressGuard({}).resolve("", 5432);
  ASSERT_TRUE(result.error);
  EXPECT_EQ(result.error->code, ErrorCode::kUnreachable);
}

TEST(EgressGuardResolve, UnrestrictedPassesNumericHostsThrough) {
  const auto result = EgressGuard({}).resolve("::1", 5432);
  EXPECT_FALSE(result.error);
  EXPECT_EQ(result.addresses, std::vector<std::string>{"::1"});
}

TEST(EgressGuardLocalSocket, OnlyWithoutAnAllowlist) {
  EXPECT_FALSE(EgressGuard({}).check_local_socket("/var/run/postgresql"));
  const auto denied = EgressGuard({"10.0.0.0/8"}).check_local_socket("/var/run/postgresql");
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->code, ErrorCode::kEgressDenied);
  EXPECT_NE(denied->message.find("/var/run/postgresql"), std::string::npos);
}

}  // namespace
}  // namespace outpost::security
