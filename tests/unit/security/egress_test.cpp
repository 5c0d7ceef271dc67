// The --allow-hosts policy: entry parsing, CIDR and name matching, and the
// decision for numeric hosts (numeric look-ups need no DNS).
#include "security/egress.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace outpost::security {
namespace {

TEST(EgressGuardParse, AcceptsEveryEntryKind) {
  EXPECT_NO_THROW(EgressGuard({"db.internal", "*.corp.example", "10.0.0.0/8", "192.0.2.7",
                               "fd00::/8", "2001:db8::1", "[::1]", " DB.Example.COM. ", "0.0.0.0/0",
                               "::/0", "::ffff:10.0.0.0/104", "under_score.internal"}));
}

TEST(EgressGuardParse, RejectsBadEntriesNamingThem) {
  for (const char* bad : {"10.0.0.0/33",
                          "fd00::/129",
                          "10.0.0.0/",
                          "10.0.0.0/-1",
                          "10.0.0.0/8x",
                          "300.1.1.1/8",
                          "db*.internal",
                          "*",
                          "*.",
                          "*.-bad",
                          "a..b",
                          "-a.b",
                          "host name",
                          "db.internal:0",
                          "db.internal:65536",
                          "db:5433-5432",
                          "db:+5",
                          "db:54x",
                          "http://db",
                          "a/b",
                          "[10.0.0.1]:5432",
                          "[::1]x",
                          "[::1",
                          "fe80::1%eth0",
                          "127.1",
                          "2130706433",
                          "0x7f.0.0.1",
                          "010.0.0.1/8",
                          "unix:relative/path",
                          "unix:",
                          "dsn:",
                          "dsn:a;b",
                          "dsn:x=y"}) {
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
  EXPECT_TRUE(guard.allows_address("10.0.0.1", 5432));
  EXPECT_TRUE(guard.allows_address("10.255.255.255", 5432));
  EXPECT_FALSE(guard.allows_address("11.0.0.0", 5432));
  EXPECT_TRUE(guard.allows_address("192.168.1.200", 5432));
  EXPECT_FALSE(guard.allows_address("192.168.2.1", 5432));
  EXPECT_TRUE(guard.allows_address("172.16.5.4", 5432));
  EXPECT_FALSE(guard.allows_address("172.16.5.5", 5432));
  EXPECT_TRUE(guard.allows_address("100.127.255.255", 5432));
  EXPECT_FALSE(guard.allows_address("100.128.0.0", 5432));
  EXPECT_FALSE(guard.allows_address("127.0.0.1", 5432));
  EXPECT_FALSE(guard.allows_address("db.internal", 5432));
  EXPECT_FALSE(guard.allows_address("::1", 5432));
}

TEST(EgressGuardMatch, Ipv6Cidr) {
  const EgressGuard guard({"fd00::/8", "2001:db8:abcd::/48", "::1"});
  EXPECT_TRUE(guard.allows_address("fd12:3456::1", 5432));
  EXPECT_FALSE(guard.allows_address("fe80::1", 5432));
  EXPECT_TRUE(guard.allows_address("2001:db8:abcd:ffff::1", 5432));
  EXPECT_FALSE(guard.allows_address("2001:db8:abce::1", 5432));
  EXPECT_TRUE(guard.allows_address("::1", 5432));
  EXPECT_TRUE(guard.allows_address("[::1]", 5432));
  EXPECT_FALSE(guard.allows_address("127.0.0.1", 5432));
}

TEST(EgressGuardMatch, HostBitsInCidrAreIgnored) {
  const EgressGuard guard({"10.1.2.3/8"});
  EXPECT_TRUE(guard.allows_address("10.200.0.1", 5432));
}

TEST(EgressGuardMatch, V4MappedIpv6IsJudgedAsIpv4) {
  const EgressGuard guard({"10.0.0.0/8"});
  EXPECT_TRUE(guard.allows_address("::ffff:10.1.2.3", 5432));
  EXPECT_FALSE(guard.allows_address("::ffff:127.0.0.1", 5432));
  const EgressGuard mapped({"::ffff:192.0.2.0/120"});
  EXPECT_TRUE(mapped.allows_address("192.0.2.9", 5432));
  EXPECT_FALSE(mapped.allows_address("192.0.3.9", 5432));
}

TEST(EgressGuardMatch, ZeroPrefixAllowsItsWholeFamily) {
  const EgressGuard v4({"0.0.0.0/0"});
  EXPECT_TRUE(v4.allows_address("8.8.8.8", 5432));
  EXPECT_FALSE(v4.allows_address("2001:db8::1", 5432));
  const EgressGuard v6({"::/0"});
  EXPECT_TRUE(v6.allows_address("2001:db8::1", 5432));
  EXPECT_FALSE(v6.allows_address("8.8.8.8", 5432));
}

TEST(EgressGuardMatch, NamesAndSuffixes) {
  const EgressGuard guard({"DB.internal", "*.corp.example"});
  EXPECT_TRUE(guard.allows_name("db.internal", 5432));
  EXPECT_TRUE(guard.allows_name("db.INTERNAL.", 5432));
  EXPECT_FALSE(guard.allows_name("db2.internal", 5432));
  EXPECT_FALSE(guard.allows_name("x.db.internal", 5432));
  EXPECT_TRUE(guard.allows_name("pg.corp.example", 5432));
  EXPECT_TRUE(guard.allows_name("a.b.corp.example", 5432));
  EXPECT_FALSE(guard.allows_name("corp.example", 5432));
  EXPECT_FALSE(guard.allows_name("evilcorp.example", 5432));
  EXPECT_FALSE(guard.allows_name("corp.example.evil.com", 5432));
}

TEST(EgressGuardCheck, OneTrailingDotIsStrippedNeverTwo) {
  // Found by fuzz_allowlist: check() normalised a name and then matched it
  // through allows_name(), which normalised again, so "db.internal.." passed
  // as "db.internal" although no resolver reads it so.
  const EgressGuard guard({"db.internal", "*.corp.example"});
  EXPECT_FALSE(guard.check("db.internal.", 5432, {"10.0.0.5"}).error);
  EXPECT_TRUE(guard.check("db.internal..", 5432, {"10.0.0.5"}).error);
  EXPECT_TRUE(guard.check("pg.corp.example..", 5432, {"10.0.0.5"}).error);
  EXPECT_FALSE(guard.allows_name("db.internal..", 5432));
}

TEST(EgressGuardCheck, AllowedNameNeedsNoAddressMatch) {
  const EgressGuard guard({"db.internal"});
  const auto result = guard.check("db.internal", 5432, {"127.0.0.1"});
  EXPECT_FALSE(result.error);
  EXPECT_EQ(result.addresses, std::vector<std::string>{"127.0.0.1"});
}

TEST(EgressGuardCheck, OtherNamesNeedEveryAddressInACidr) {
  const EgressGuard guard({"10.0.0.0/8"});
  EXPECT_FALSE(guard.check("pg.example", 5432, {"10.0.0.5", "10.9.9.9"}).error);
  const auto mixed = guard.check("pg.example", 5432, {"10.0.0.5", "127.0.0.1"});
  ASSERT_TRUE(mixed.error);
  EXPECT_EQ(mixed.error->code, ErrorCode::kEgressDenied);
  EXPECT_TRUE(mixed.addresses.empty());
  EXPECT_NE(mixed.error->message.find("pg.example"), std::string::npos);
  EXPECT_NE(mixed.error->message.find("127.0.0.1"), std::string::npos);
}

TEST(EgressGuardCheck, NumericHostNeverMatchesAName) {
  const EgressGuard guard({"127.0.0.2.nip.example", "*.0.0.1"});
  EXPECT_TRUE(guard.check("127.0.0.1", 5432, {"127.0.0.1"}).error);
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

TEST(EgressGuardResolve, EmptyHostIsInvalid) {
  const auto result = EgressGuard({}).resolve("", 5432);
  ASSERT_TRUE(result.error);
  EXPECT_EQ(result.error->code, ErrorCode::kInvalidJob);
}

TEST(EgressGuardResolve, UnrestrictedPassesNumericHostsThrough) {
  const auto result = EgressGuard({}).resolve("::1", 5432);
  EXPECT_FALSE(result.error);
  EXPECT_EQ(result.addresses, std::vector<std::string>{"::1"});
}

TEST(EgressGuardLocalSocket, UnlistedSocketsOnlyWithoutAnAllowlist) {
  EXPECT_FALSE(EgressGuard({}).check_local_socket("/var/run/postgresql"));
  const auto denied = EgressGuard({"10.0.0.0/8"}).check_local_socket("/var/run/postgresql");
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->code, ErrorCode::kEgressDenied);
  EXPECT_NE(denied->message.find("/var/run/postgresql"), std::string::npos);
}

TEST(EgressGuardLocalSocket, AbstractSocketsMatchExactly) {
  const EgressGuard guard({"unix:@pg"});
  EXPECT_FALSE(guard.check_local_socket("@pg"));
  EXPECT_TRUE(guard.check_local_socket("@pg2"));
  EXPECT_TRUE(guard.check_local_socket("@PG"));
  EXPECT_TRUE(guard.check_local_socket("relative/dir"));
  EXPECT_TRUE(guard.check_local_socket(""));
}

// Socket entries are compared as canonical paths; these tests build a small
// tree in a temporary directory (file-system reads only, no sockets).
class EgressGuardSocketPaths : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/outpost-egress-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    root_ = pattern;
    std::filesystem::create_directories(root_ / "pg");
    std::filesystem::create_directories(root_ / "pg-evil");
    std::filesystem::create_directories(root_ / "pg" / "sub");
    std::filesystem::create_directories(root_ / "mysqld");
    std::ofstream(root_ / "mysqld" / "mysqld.sock") << "";
    std::ofstream(root_ / "pg-evil" / ".s.PGSQL.5432") << "";
    std::filesystem::create_directory_symlink(root_ / "pg-evil", root_ / "link-to-evil");
    std::filesystem::create_directory_symlink(root_ / "pg", root_ / "link-to-pg");
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  [[nodiscard]] std::string at(const std::string& rel) const { return (root_ / rel).string(); }
  std::filesystem::path root_;
};

TEST_F(EgressGuardSocketPaths, ListedDirectoryAndItsSocketFiles) {
  const EgressGuard guard({"10.0.0.0/8", "unix:" + at("pg"), "unix:" + at("mysqld")});
  EXPECT_FALSE(guard.check_local_socket(at("pg")));
  EXPECT_FALSE(guard.check_local_socket(at("pg") + "/"));
  EXPECT_FALSE(guard.check_local_socket(at("pg/.s.PGSQL.5432")));  // a socket file inside
  EXPECT_FALSE(guard.check_local_socket(at("mysqld/mysqld.sock")));
  EXPECT_FALSE(guard.check_local_socket(at("link-to-pg")));  // a link to a listed directory
  EXPECT_FALSE(guard.check_local_socket(at("pg-evil/../pg")));
}

TEST_F(EgressGuardSocketPaths, PrefixDotDotAndSymlinkTricksAreRefused) {
  const EgressGuard guard({"unix:" + at("pg")});
  for (const std::string& path :
       {at("pg-evil"), at("pg-evil/.s.PGSQL.5432"), at("pg/../pg-evil"), at("pg/./../pg-evil"),
        at("link-to-evil"), at("pg/sub"), at("pg/sub/.s.PGSQL.5432"), at("pg/missing/x"),
        root_.string(), std::string("/"), at("pg") + "-evil", at("PG")}) {
    const auto error = guard.check_local_socket(path);
    ASSERT_TRUE(error) << path;
    EXPECT_EQ(error->code, ErrorCode::kEgressDenied) << path;
    EXPECT_NE(error->message.find(path), std::string::npos) << error->message;
  }
}

TEST_F(EgressGuardSocketPaths, EntryWrittenThroughALinkOrDotDotIsCanonicalised) {
  const EgressGuard guard({"unix:" + at("link-to-pg"), "unix:" + at("mysqld/../mysqld")});
  EXPECT_FALSE(guard.check_local_socket(at("pg")));
  EXPECT_FALSE(guard.check_local_socket(at("mysqld/mysqld.sock")));
  EXPECT_TRUE(guard.check_local_socket(at("pg-evil")));
}

TEST_F(EgressGuardSocketPaths, SocketFileEntryMatchesOnlyThatFile) {
  const EgressGuard guard({"unix:" + at("mysqld/mysqld.sock")});
  EXPECT_FALSE(guard.check_local_socket(at("mysqld/mysqld.sock")));
  EXPECT_TRUE(guard.check_local_socket(at("mysqld")));
  EXPECT_TRUE(guard.check_local_socket(at("mysqld/other.sock")));
}

TEST(EgressGuardDsn, ListedNamesOnlyCaseInsensitive) {
  EXPECT_FALSE(EgressGuard({}).check_dsn("Anything"));
  const EgressGuard guard({"10.0.0.0/8", "dsn:Reporting", "DSN:warehouse EU"});
  EXPECT_FALSE(guard.check_dsn("Reporting"));
  EXPECT_FALSE(guard.check_dsn("REPORTING"));
  EXPECT_FALSE(guard.check_dsn("Warehouse eu"));
  for (const char* name : {"Reporting2", "Report", "", " Reporting", "warehouse"}) {
    const auto error = guard.check_dsn(name);
    ASSERT_TRUE(error) << name;
    EXPECT_EQ(error->code, ErrorCode::kEgressDenied);
  }
  // A dsn: entry allows no network host, and a host entry no DSN.
  EXPECT_TRUE(EgressGuard({"dsn:reporting"}).resolve("10.0.0.1", 5432).error);
  EXPECT_TRUE(EgressGuard({"reporting"}).check_dsn("reporting"));
}

TEST(EgressGuardPorts, NameEntriesWithPortsAndRanges) {
  const EgressGuard guard({"db.internal:5432", "*.corp.example:5432-5439", "any.internal"});
  EXPECT_TRUE(guard.allows_name("db.internal", 5432));
  EXPECT_FALSE(guard.allows_name("db.internal", 5433));
  EXPECT_TRUE(guard.allows_name("pg.corp.example", 5432));
  EXPECT_TRUE(guard.allows_name("pg.corp.example", 5439));
  EXPECT_FALSE(guard.allows_name("pg.corp.example", 5431));
  EXPECT_FALSE(guard.allows_name("pg.corp.example", 5440));
  EXPECT_TRUE(guard.allows_name("any.internal", 1));
  EXPECT_TRUE(guard.allows_name("any.internal", 65535));
}

TEST(EgressGuardPorts, AddressAndBlockEntriesWithPorts) {
  const EgressGuard guard({"10.0.0.0/8:5432-5439", "192.0.2.7:3306", "[2001:db8::1]:5432",
                           "[fd00::/8]:6432", "[::1]", "172.16.0.0/12"});
  EXPECT_TRUE(guard.allows_address("10.1.2.3", 5432));
  EXPECT_TRUE(guard.allows_address("10.1.2.3", 5439));
  EXPECT_FALSE(guard.allows_address("10.1.2.3", 5440));
  EXPECT_FALSE(guard.allows_address("10.1.2.3", 22));
  EXPECT_TRUE(guard.allows_address("192.0.2.7", 3306));
  EXPECT_FALSE(guard.allows_address("192.0.2.7", 3307));
  EXPECT_TRUE(guard.allows_address("2001:db8::1", 5432));
  EXPECT_FALSE(guard.allows_address("2001:db8::1", 5433));
  EXPECT_FALSE(guard.allows_address("2001:db8::2", 5432));
  EXPECT_TRUE(guard.allows_address("fd12::9", 6432));
  EXPECT_FALSE(guard.allows_address("fd12::9", 5432));
  EXPECT_TRUE(guard.allows_address("::1", 1));
  EXPECT_TRUE(guard.allows_address("172.31.0.1", 65535));
  EXPECT_TRUE(guard.allows_address("::ffff:10.0.0.1", 5432));
  EXPECT_FALSE(guard.allows_address("::ffff:10.0.0.1", 22));
}

TEST(EgressGuardPorts, ResolveChecksThePortAndSaysSo) {
  const EgressGuard guard({"127.0.0.2:5432", "db.internal:5432"});
  EXPECT_FALSE(guard.resolve("127.0.0.2", 5432).error);
  const auto wrong = guard.resolve("127.0.0.2", 5433);
  ASSERT_TRUE(wrong.error);
  EXPECT_EQ(wrong.error->code, ErrorCode::kEgressDenied);
  EXPECT_TRUE(wrong.addresses.empty());
  EXPECT_NE(wrong.error->message.find("127.0.0.2:5433"), std::string::npos) << wrong.error->message;
  EXPECT_NE(wrong.error->message.find("port 5433 is outside"), std::string::npos);
  // A listed name on another port is denied without a DNS query: no
  // address entry covers port 5433 either.
  const auto name = guard.resolve("db.internal", 5433);
  ASSERT_TRUE(name.error);
  EXPECT_EQ(name.error->code, ErrorCode::kEgressDenied);
}

TEST(EgressGuardPorts, NamePortMissFallsBackToEveryAddressCheck) {
  const EgressGuard guard({"db.internal:5432", "10.0.0.0/8:6432"});
  EXPECT_FALSE(guard.check("db.internal", 6432, {"10.0.0.5"}).error);
  EXPECT_TRUE(guard.check("db.internal", 6432, {"10.0.0.5", "192.0.2.1"}).error);
  EXPECT_TRUE(guard.check("db.internal", 7000, {"10.0.0.5"}).error);
}

TEST(EgressGuardNumeric, InetAtonFormsAreJudgedAsTheAddressDialled) {
  const EgressGuard guard({"127.0.0.2/32", "10.0.0.0/8"});
  // Each is 127.0.0.1 (or 8.0.0.1 for octal 010) to libc: outside the list.
  for (const char* host : {"127.1", "0x7f000001", "2130706433", "0x7f.1", "0177.0.0.1", "127.0.1",
                           "0x7F.0.0.1", "017700000001", "[127.0.0.1]", "127.0.0.1.", "010.0.0.1",
                           "::ffff:127.0.0.1", "::ffff:7f00:1", "[::ffff:127.0.0.1]"}) {
    const auto resolved = guard.resolve(host, 5432);
    ASSERT_TRUE(resolved.error) << host;
    EXPECT_EQ(resolved.error->code, ErrorCode::kEgressDenied) << host;
    EXPECT_TRUE(resolved.addresses.empty()) << host;
    const auto checked = guard.check(host, 5432, {"127.0.0.2"});
    EXPECT_TRUE(checked.error) << host << ": a numeric host is judged itself too";
  }
  // Forms of an allowed address pass and are dialled canonically.
  for (const char* host : {"127.0.0.2", "0x7f.0.0.2", "2130706434", "127.2", "10.1"}) {
    const auto resolved = guard.resolve(host, 5432);
    EXPECT_FALSE(resolved.error) << host;
    ASSERT_EQ(resolved.addresses.size(), 1U) << host;
    EXPECT_TRUE(resolved.addresses[0] == "127.0.0.2" || resolved.addresses[0] == "10.0.0.1")
        << resolved.addresses[0];
  }
}

TEST(EgressGuardNumeric, ParseNumericHostMatchesLibc) {
  EXPECT_EQ(address_text(*parse_numeric_host("127.1")), "127.0.0.1");
  EXPECT_EQ(address_text(*parse_numeric_host("2130706433")), "127.0.0.1");
  EXPECT_EQ(address_text(*parse_numeric_host("0x7f.1")), "127.0.0.1");
  EXPECT_EQ(address_text(*parse_numeric_host("010.0.0.1")), "8.0.0.1");
  EXPECT_EQ(address_text(*parse_numeric_host("[fe80::1%eth0]")), "fe80::1");
  for (const char* name : {"db.internal", "127.0.0.1 junk", "127.0.0.1\tx", "1.2.3.4.5", "fe80::1%",
                           "0x", "", "[]", "abc", "1e5"}) {
    const auto block = parse_numeric_host(name);
    EXPECT_TRUE(!block || std::string(name) == "0x") << name;
  }
}

TEST(EgressGuardNumeric, EmbeddedIpv4NeedsBothForms) {
  // Global IPv6 is allowed, internal IPv4 only 10.1.0.0/16.
  const EgressGuard guard({"2000::/3", "::/0", "10.1.0.0/16"});
  EXPECT_TRUE(guard.allows_address("2001:db8::1", 5432));
  EXPECT_TRUE(guard.allows_address("2002:0a01:0005::1", 5432));   // 6to4 via 10.1.0.5
  EXPECT_FALSE(guard.allows_address("2002:0a02:0005::1", 5432));  // 6to4 via 10.2.0.5
  EXPECT_FALSE(guard.allows_address("2002:7f00:0001::1", 5432));  // 6to4 via 127.0.0.1
  EXPECT_TRUE(guard.allows_address("64:ff9b::a01:5", 5432));      // NAT64 10.1.0.5
  EXPECT_FALSE(guard.allows_address("64:ff9b::7f00:1", 5432));    // NAT64 127.0.0.1
  EXPECT_FALSE(guard.allows_address("::7f00:1", 5432));           // IPv4-compatible 127.0.0.1
  EXPECT_FALSE(guard.allows_address("::ffff:0:7f00:1", 5432));    // SIIT 127.0.0.1
  EXPECT_FALSE(
      guard.allows_address("2001:0:4136:e378:8000:63bf:80ff:fffe", 5432));  // Teredo 127.0.0.1
  EXPECT_TRUE(guard.allows_address("::1", 5432));
  EXPECT_FALSE(guard.allows_address("::ffff:127.0.0.1", 5432));  // mapped: IPv4 only
  // Without the IPv6 form allowed, the IPv4 one alone is not enough either.
  const EgressGuard v4only({"10.0.0.0/8"});
  EXPECT_FALSE(v4only.allows_address("64:ff9b::a00:5", 5432));
  EXPECT_TRUE(v4only.allows_address("::ffff:10.0.0.5", 5432));
}

TEST(EgressGuardNumeric, ZoneIdsDoNotChangeTheVerdict) {
  const EgressGuard guard({"fe80::/10"});
  EXPECT_TRUE(guard.allows_address("fe80::1%eth0", 5432));
  EXPECT_TRUE(guard.allows_address("fe80::1%1", 5432));
  EXPECT_FALSE(guard.allows_address("fe81::1%eth0", 5432) &&
               !guard.allows_address("fe81::1", 5432));
  EXPECT_TRUE(guard.check("fe80::1%lo", 5432, {"fe80::1%lo"}).error == std::nullopt);
  const EgressGuard other({"10.0.0.0/8"});
  EXPECT_TRUE(other.check("fe80::1%lo", 5432, {"fe80::1%lo"}).error);
  // An unknown zone is not a usable address: refused, never sent to DNS.
  const auto bogus = guard.resolve("fe80::1%no-such-interface", 5432);
  ASSERT_TRUE(bogus.error);
  EXPECT_TRUE(bogus.addresses.empty());
}

TEST(EgressGuardCheck, HostsWithControlCharactersAreRefused) {
  const EgressGuard guard({"db.internal"});
  for (const std::string& host :
       {std::string("db.internal\0.evil", 17), std::string("db internal"), std::string("db\n")}) {
    const auto result = guard.resolve(host, 5432);
    EXPECT_TRUE(result.error) << host;
  }
}

TEST(EgressGuardCheck, AddressesReturnedAreExactlyTheOnesChecked) {
  const EgressGuard guard({"10.0.0.0/8"});
  const std::vector<std::string> in{"10.0.0.5", "10.0.0.6"};
  const auto result = guard.check("pg.example", 5432, in);
  EXPECT_FALSE(result.error);
  EXPECT_EQ(result.addresses, in);
  EXPECT_TRUE(guard.check("pg.example", 5432, {"10.0.0.5", "not-an-address"}).error);
  EXPECT_TRUE(guard.check("10.0.0.5", 5432, {"127.0.0.1"}).error);
}

TEST(EgressGuardNumeric, UnspecifiedAddressPassesOnlyWhereLoopbackDoes) {
  // connect() to 0.0.0.0 or :: reaches the local host on Linux.
  const EgressGuard guard({"0.0.0.0/8", "::/128", "10.0.0.0/8"});
  for (const char* host : {"0.0.0.0", "0", "0x0", "::", "[::]", "::ffff:0.0.0.0"}) {
    const auto result = guard.resolve(host, 5432);
    ASSERT_TRUE(result.error) << host;
    EXPECT_EQ(result.error->code, ErrorCode::kEgressDenied) << host;
  }
  const EgressGuard with_loopback({"0.0.0.0/8", "127.0.0.1", "::/127"});
  EXPECT_FALSE(with_loopback.resolve("0.0.0.0", 5432).error);
  EXPECT_FALSE(with_loopback.resolve("::", 5432).error);
}

TEST(EgressGuardNumeric, EmbeddedUnspecifiedIpv4NeedsLoopbackToo) {
  // A fuzzer finding: a translated form of 0.0.0.0 passed where 0.0.0.0 itself
  // did not (its IPv4 half was checked against the blocks, not judged).
  const EgressGuard guard({"0.0.0.0/32", "::/0"});
  EXPECT_FALSE(guard.allows_address("0.0.0.0", 5432));
  for (const char* host :
       {"::ffff:0:0.0.0.0", "64:ff9b::", "2002::1", "2001:0:1:2:3:4:ffff:ffff"}) {
    EXPECT_FALSE(guard.allows_address(host, 5432)) << host;
  }
  const EgressGuard with_loopback({"0.0.0.0/32", "127.0.0.1", "::/0"});
  EXPECT_TRUE(with_loopback.allows_address("64:ff9b::", 5432));
}

}  // namespace
}  // namespace outpost::security
