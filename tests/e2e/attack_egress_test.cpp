// Issue 14, class 4 (allowlist escapes), attacked as a compromised control
// plane would: a real outpost-hub, a real outpost-agent under --allow-hosts,
// PostgreSQL sources the hub hands out, and listeners on loopback addresses
// (127.0.0.2, 127.0.0.3, unix sockets in a temp dir) that count every
// connection. Each attempt asserts the refusal (job failed, egress_denied)
// AND that nothing was dialled (zero accepted connections).

#include <sys/un.h>

#include <algorithm>
#include <filesystem>
#include <memory>

#include "e2e/security_fixture.hpp"
#include "support/postgres_server.hpp"

namespace outpost::test {
namespace {

constexpr const char* kPgPassword = "egress-reader-pw-Q8v3Zr";

/// One PostgreSQL cluster for the binary; a least-privilege login `reader`.
/// Throws (failing the test) when the server cannot start.
PostgresServer& pg() {
  static PostgresServer server;
  static const bool ready = [] {
    server.exec(std::string("CREATE ROLE reader LOGIN PASSWORD '") + kPgPassword +
                "'; GRANT pg_read_all_data TO reader;");
    return true;
  }();
  (void)ready;
  return server;
}

/// Accepts, counts and closes connections on a bound socket (TCP on any
/// loopback address, or a unix socket path) until destroyed.
class Listener {
 public:
  /// TCP on `address` (e.g. "127.0.0.2"), a free port.
  static std::unique_ptr<Listener> tcp(const std::string& address) {
    auto l =
        std::unique_ptr<Listener>(new Listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    if (::inet_pton(AF_INET, address.c_str(), &addr.sin_addr) != 1)
      throw std::runtime_error(address);
    socklen_t len = sizeof addr;
    if (::bind(l->fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(l->fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("bind " + address + " failed");
    }
    l->port_ = ntohs(addr.sin_port);
    l->start();
    return l;
  }
  /// A unix socket at `path` (PostgreSQL's dir/.s.PGSQL.PORT layout).
  static std::unique_ptr<Listener> unix_socket(const std::filesystem::path& path) {
    auto l =
        std::unique_ptr<Listener>(new Listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::string text = path.string();
    if (text.size() >= sizeof addr.sun_path) throw std::runtime_error("socket path too long");
    std::copy(text.begin(), text.end(), addr.sun_path);
    if (::bind(l->fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      throw std::runtime_error("bind " + text + " failed");
    }
    l->start();
    return l;
  }
  ~Listener() {
    const char c = 'x';
    [[maybe_unused]] const auto n = ::write(wake_[1], &c, 1);
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
    ::close(wake_[0]);
    ::close(wake_[1]);
  }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  [[nodiscard]] int accepts() const noexcept { return accepts_; }

 private:
  explicit Listener(int fd) : fd_(fd) {
    if (fd_ < 0 || ::pipe(wake_) != 0) throw std::runtime_error("socket/pipe failed");
  }
  void start() {
    if (::listen(fd_, 16) != 0) throw std::runtime_error("listen failed");
    thread_ = std::thread([this] {
      for (;;) {
        pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) continue;
        if (fds[1].revents != 0) return;
        const int conn = ::accept(fd_, nullptr, nullptr);
        if (conn >= 0) {
          ++accepts_;
          ::close(conn);
        }
      }
    });
  }

  int fd_ = -1;
  int wake_[2] = {-1, -1};
  std::uint16_t port_ = 0;
  std::atomic<int> accepts_{0};
  std::thread thread_;
};

class EgressAttack : public SecurityE2E {
 protected:
  void SetUp() override {
    secret(kPgPassword);
    (void)pg();
    start_hub();
    token_ = secret(create_token());
  }

  /// A PostgreSQL source for the least-privilege login, `host`/`port` as given.
  std::string source(const std::string& host, std::uint16_t port) {
    Json config = pg().source_config("reader", kPgPassword);
    config["host"] = host;
    config["port"] = port;
    config["connect_timeout"] = 3;
    return create(config);
  }
  /// A PostgreSQL source given as a libpq connection string (host lists, hostaddr).
  std::string dsn_source(const std::string& conninfo) {
    return create({{"dsn", conninfo + " user=reader dbname=postgres sslmode=disable"},
                   {"password", kPgPassword},
                   {"connect_timeout", 3}});
  }
  std::string create(const Json& config) {
    return admin_json("POST", "/sources",
                      {{"name", "pg-" + std::to_string(++sources_)},
                       {"type", "postgres"},
                       {"config", config}},
                      201)
        .value("id", "");
  }

  /// An agent with `--allow-hosts allow` (none when empty), started.
  Agent start(const std::string& allow) {
    std::vector<std::string> extra;
    if (!allow.empty()) extra = {"--allow-hosts", allow};
    Agent a = agent(token_, extra);
    EXPECT_TRUE(a.wait_for_msg("agent started", 20s)) << a.process->stderr_text();
    return a;
  }

  Json run(const std::string& source_id) {
    return wait_finished(create_job(source_id, "SELECT 41 + 1 AS answer", 15000), 40s);
  }

  /// The job failed with egress_denied and its message names `needle`.
  static void expect_denied(const Json& done, const std::string& needle) {
    EXPECT_EQ(done.value("status", ""), "failed") << done.dump();
    EXPECT_EQ(done["error"].value("code", ""), "egress_denied") << done.dump();
    EXPECT_NE(done["error"].value("message", "").find(needle), std::string::npos) << done.dump();
  }
  static void expect_answer(const Json& done) {
    EXPECT_EQ(done.value("status", ""), "succeeded") << done.dump();
    EXPECT_EQ(done.value("rows", Json()), Json::parse("[[42]]")) << done.dump();
  }

  std::string token_;
  int sources_ = 0;
  TempDir tmp_;
};

// Positive control: an entry with the exact port still lets the job through,
// so the refusals below are the allowlist's doing, not a broken set-up.
TEST_F(EgressAttack, ListedHostAndPortStillWork) {
  const std::string port = std::to_string(pg().port());
  start("127.0.0.1:" + port + ",db.invalid:5432");
  expect_answer(run(source("127.0.0.1", pg().port())));
  expect_answer(run(source("localhost", pg().port())));  // resolves inside the entry
}

TEST_F(EgressAttack, PortOutsideTheEntryRangeIsRefusedBeforeConnecting) {
  auto target = Listener::tcp("127.0.0.2");
  const std::uint16_t p = target->port();
  ASSERT_GT(p, 1000);
  const auto src = source("127.0.0.2", p);
  {
    // A range that stops one port short of the listener's.
    Agent a = start("127.0.0.2:1-" + std::to_string(p - 1) + ",127.0.0.0/8:5432-5439");
    expect_denied(run(src), "port " + std::to_string(p));
    EXPECT_EQ(target->accepts(), 0);
    a.process->signal(SIGTERM);
    EXPECT_EQ(exit_status(a), 0);
  }
  // Control: the same job with the port listed does reach the listener.
  Agent b = start("127.0.0.2:" + std::to_string(p - 1) + "-" + std::to_string(p));
  const Json dialled = run(src);
  EXPECT_NE(dialled["error"].value("code", ""), "egress_denied") << dialled.dump();
  EXPECT_GE(target->accepts(), 1);
}

// inet_aton forms of 127.0.0.1 aimed past a list that holds only 127.0.0.2-7.
class EgressNumericForms : public EgressAttack,
                           public ::testing::WithParamInterface<const char*> {};

TEST_P(EgressNumericForms, ShortHexAndDecimalFormsOfAForbiddenAddressAreRefused) {
  CountingListener target;  // 127.0.0.1
  start("127.0.0.2/31,127.0.0.4/30");
  expect_denied(run(source(GetParam(), target.port())), "127.0.0.1");
  EXPECT_EQ(target.accepts(), 0);
}

INSTANTIATE_TEST_SUITE_P(Forms, EgressNumericForms,
                         ::testing::Values("127.1", "0x7f000001", "2130706433", "0177.0.0.1",
                                           "0x7f.0.0.1"));

TEST_F(EgressAttack, Ipv4MappedIpv6FormIsJudgedAsTheIpv4Address) {
  auto target = Listener::tcp("127.0.0.2");
  start("127.0.0.3,::/0");
  expect_denied(run(source("::ffff:127.0.0.2", target->port())), "127.0.0.2");
  expect_denied(run(source("[::ffff:7f00:2]", target->port())), "127.0.0.2");
  EXPECT_EQ(target->accepts(), 0);
}

TEST_F(EgressAttack, Nat64AndIpv4CompatibleFormsNeedTheirIpv4Allowed) {
  auto target = Listener::tcp("127.0.0.2");
  // All IPv6 is allowed, but not 127.0.0.2: the embedded address decides.
  start("::/0,127.0.0.3");
  expect_denied(run(source("64:ff9b::127.0.0.2", target->port())), "64:ff9b::");
  expect_denied(run(source("::127.0.0.2", target->port())), "127.0.0.2");
  expect_denied(run(source("2002:7f00:2::1", target->port())), "2002:7f00:2::1");
  EXPECT_EQ(target->accepts(), 0);
}

TEST_F(EgressAttack, UnspecifiedAddressIsJudgedAsTheLoopbackItReaches) {
  CountingListener target;  // 127.0.0.1: where connect() to 0.0.0.0 lands
  const auto src = source("0.0.0.0", target.port());
  {
    // 0.0.0.0/8 looks like "nothing real", but it dials the agent's own host.
    Agent a = start("0.0.0.0/8,10.0.0.0/8");
    expect_denied(run(src), "0.0.0.0");
    expect_denied(run(source("0", target.port())), "0.0.0.0");
    EXPECT_EQ(target.accepts(), 0);
    a.process->signal(SIGTERM);
    EXPECT_EQ(exit_status(a), 0);
  }
  // Control: without an allowlist the same job does reach 127.0.0.1.
  Agent open = start("");
  const Json dialled = run(src);
  EXPECT_NE(dialled["error"].value("code", ""), "egress_denied") << dialled.dump();
  EXPECT_GE(target.accepts(), 1);
}

TEST_F(EgressAttack, NameResolvingOutsideTheBlocksIsRefused) {
  CountingListener target;  // 127.0.0.1, what "localhost" resolves to
  start("127.0.0.2/32");
  expect_denied(run(source("localhost", target.port())), "127.0.0.1");
  EXPECT_EQ(target.accepts(), 0);
}

TEST_F(EgressAttack, NameListedForAnotherPortIsRefused) {
  CountingListener target;
  start("localhost:1-1000");
  expect_denied(run(source("localhost", target.port())), "port " + std::to_string(target.port()));
  EXPECT_EQ(target.accepts(), 0);
}

TEST_F(EgressAttack, ListedNameWithHostaddrElsewhereIsRefused) {
  auto target = Listener::tcp("127.0.0.2");
  // The name is vouched for; the address libpq would dial (hostaddr) is not.
  start("localhost,127.0.0.1");
  expect_denied(
      run(dsn_source("host=localhost hostaddr=127.0.0.2 port=" + std::to_string(target->port()))),
      "127.0.0.2");
  EXPECT_EQ(target->accepts(), 0);
}

TEST_F(EgressAttack, SecondHostOfAListIsCheckedToo) {
  auto target = Listener::tcp("127.0.0.3");
  start("127.0.0.1:" + std::to_string(pg().port()));
  expect_denied(run(dsn_source("host=127.0.0.1,127.0.0.3 port=" + std::to_string(pg().port()) +
                               "," + std::to_string(target->port()))),
                "127.0.0.3");
  EXPECT_EQ(target->accepts(), 0);
}

TEST_F(EgressAttack, UnlistedSocketDirectoryIsRefused) {
  const auto dir = tmp_.path() / "sock";
  std::filesystem::create_directories(dir);
  const std::uint16_t port = 6543;
  auto target = Listener::unix_socket(dir / (".s.PGSQL." + std::to_string(port)));
  const auto src = source(dir.string(), port);
  {
    Agent a = start("127.0.0.1");
    expect_denied(run(src), dir.string());
    EXPECT_EQ(target->accepts(), 0);
    a.process->signal(SIGTERM);
    EXPECT_EQ(exit_status(a), 0);
  }
  // Control: without an allowlist the job does reach the socket.
  Agent open = start("");
  const Json dialled = run(src);
  EXPECT_EQ(dialled.value("status", ""), "failed") << dialled.dump();
  EXPECT_GE(target->accepts(), 1);
}

TEST_F(EgressAttack, SocketDirectorySharingAListedPrefixIsRefused) {
  std::filesystem::create_directories(tmp_.path() / "pg");
  std::filesystem::create_directories(tmp_.path() / "pg-evil");
  auto target = Listener::unix_socket(tmp_.path() / "pg-evil" / ".s.PGSQL.6543");
  start("unix:" + (tmp_.path() / "pg").string());
  expect_denied(run(source((tmp_.path() / "pg-evil").string(), 6543)), "pg-evil");
  expect_denied(run(source((tmp_.path() / "pg").string() + "-evil/", 6543)), "pg-evil");
  EXPECT_EQ(target->accepts(), 0);
}

TEST_F(EgressAttack, SocketPathWithDotDotOutOfAListedDirectoryIsRefused) {
  std::filesystem::create_directories(tmp_.path() / "pg");
  std::filesystem::create_directories(tmp_.path() / "evil");
  auto target = Listener::unix_socket(tmp_.path() / "evil" / ".s.PGSQL.6543");
  start("unix:" + (tmp_.path() / "pg").string());
  expect_denied(run(source((tmp_.path() / "pg" / ".." / "evil").string(), 6543)), "evil");
  EXPECT_EQ(target->accepts(), 0);
}

TEST_F(EgressAttack, SocketPathThroughASymlinkIsJudgedByItsTarget) {
  std::filesystem::create_directories(tmp_.path() / "pg");
  std::filesystem::create_directories(tmp_.path() / "evil");
  // A link inside the listed directory pointing out of it.
  std::filesystem::create_directory_symlink(tmp_.path() / "evil", tmp_.path() / "pg" / "sub");
  auto target = Listener::unix_socket(tmp_.path() / "evil" / ".s.PGSQL.6543");
  start("unix:" + (tmp_.path() / "pg").string());
  expect_denied(run(source((tmp_.path() / "pg" / "sub").string(), 6543)), "evil");
  EXPECT_EQ(target->accepts(), 0);
}

// Positive control for sockets: the listed directory works (PostgreSQL's own
// socket; its pg_hba trusts local connections).
TEST_F(EgressAttack, ListedSocketDirectoryWorks) {
  start("unix:" + pg().socket_dir().string());
  expect_answer(run(source(pg().socket_dir().string(), pg().port())));
}

TEST_F(EgressAttack, StartupWarnsWithoutAnAllowlistOnly) {
  Agent open = start("");
  const std::string open_out = open.process->stdout_text() + open.process->stderr_text();
  EXPECT_NE(open_out.find("no --allow-hosts: jobs may connect to any host"), std::string::npos)
      << open_out;
  EXPECT_NE(open_out.find("\"level\":\"warn\""), std::string::npos) << open_out;
  Agent limited = start("127.0.0.1:5432");
  const std::string limited_out = limited.process->stdout_text() + limited.process->stderr_text();
  EXPECT_EQ(limited_out.find("no --allow-hosts"), std::string::npos) << limited_out;
  EXPECT_NE(limited_out.find("egress limited by --allow-hosts"), std::string::npos) << limited_out;
}

TEST_F(EgressAttack, MalformedEntryStopsTheAgentNamingIt) {
  // A typo must not silently widen (or narrow) the list: exit 2, one line.
  Agent a = agent(token_, {"--allow-hosts", "127.0.0.1,127.1:5432"});
  EXPECT_EQ(exit_status(a), 2);
  const std::string err = a.process->stderr_text();
  EXPECT_NE(err.find("invalid entry '127.1:5432' in --allow-hosts"), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
}

}  // namespace
}  // namespace outpost::test
