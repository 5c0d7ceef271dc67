#pragma once

// Issue 6 acceptance (security) with real processes: AgentE2E plus
// certificates made with the openssl CLI, a hub over TLS (optionally
// requiring client certificates), a loopback listener that counts accepted
// connections, and a leak check of every agent's output for the token and
// the test passwords.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "e2e/agent_fixture.hpp"

namespace outpost::test {

/// Runs /usr/bin/openssl with `args`; fails the test when it does not exit 0.
inline void openssl(std::vector<std::string> args) {
  args.insert(args.begin(), "/usr/bin/openssl");
  Process process(Process::Options{args, {}, std::nullopt, {}});
  const auto status = process.wait(60s);
  ASSERT_TRUE(status.has_value() && *status == 0)
      << "openssl " << args[1] << " failed: " << process.stderr_text();
}

/// Certificates for one test: a CA, certificates it signs, self-signed ones.
class Pki {
 public:
  Pki() {
    key("ca");
    openssl({"req", "-x509", "-new", "-key", path("ca.key"), "-out", path("ca.pem"), "-days", "2",
             "-subj", "/CN=Outpost Security E2E CA"});
  }

  [[nodiscard]] std::string path(const std::string& name) const {
    return (dir_.path() / name).string();
  }

  /// A certificate for `san` ("DNS:localhost,IP:127.0.0.1"), signed by the
  /// CA or by itself; its key is path(name + ".key").
  std::string issue(const std::string& name, const std::string& san, bool self_signed = false,
                    const std::string& usage = "serverAuth") {
    key(name);
    openssl({"req", "-new", "-key", path(name + ".key"), "-out", path(name + ".csr"), "-subj",
             "/CN=" + name});
    std::ofstream(path(name + ".ext")) << "subjectAltName=" << san << "\n"
                                       << "extendedKeyUsage=" << usage << "\n";
    std::vector<std::string> args = {
        "x509",  "-req", "-in",      path(name + ".csr"), "-out", path(name + ".pem"),
        "-days", "2",    "-extfile", path(name + ".ext")};
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
  TempDir dir_;
};

/// A TCP listener on 127.0.0.1 that accepts, counts and closes every
/// connection: proof of whether anything dialled it.
class CountingListener {
 public:
  CountingListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0 || ::pipe(wake_) != 0) throw std::runtime_error("socket/pipe failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_, 16) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("bind/listen failed");
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { loop(); });
  }
  ~CountingListener() {
    const char c = 'x';
    [[maybe_unused]] const auto n = ::write(wake_[1], &c, 1);
    thread_.join();
    ::close(fd_);
    ::close(wake_[0]);
    ::close(wake_[1]);
  }
  CountingListener(const CountingListener&) = delete;
  CountingListener& operator=(const CountingListener&) = delete;

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  [[nodiscard]] int accepts() const noexcept { return accepts_; }

 private:
  void loop() {
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
  }

  int fd_ = -1;
  int wake_[2] = {-1, -1};
  std::uint16_t port_ = 0;
  std::atomic<int> accepts_{0};
  std::thread thread_;
};

class SecurityE2E : public AgentE2E {
 protected:
  void TearDown() override {
    // Acceptance: no agent output anywhere in this suite holds a secret.
    for (const auto& p : agents_) {
      const std::string all = p->stdout_text() + p->stderr_text();
      for (const auto& secret : secrets_) {
        EXPECT_EQ(all.find(secret), std::string::npos)
            << "agent output contains a secret of length " << secret.size();
      }
    }
    AgentE2E::TearDown();
  }

  /// A value that must never appear in agent output (checked in TearDown).
  const std::string& secret(std::string value) { return secrets_.emplace_back(std::move(value)); }

  /// A hub over TLS: `cert`/`key` served, client certificates required when
  /// `client_ca` is set. The admin client trusts `ca` (and presents
  /// `admin_cert`/`admin_key` for mutual TLS).
  void start_tls_hub(const std::string& cert, const std::string& key, const std::string& ca,
                     const std::string& client_ca = {}, const std::string& admin_cert = {},
                     const std::string& admin_key = {},
                     const std::string& admin_server_name = "localhost") {
    std::vector<std::string> args{"--tls-cert", cert, "--tls-key", key};
    if (!client_ca.empty()) args.insert(args.end(), {"--tls-client-ca", client_ca});
    launch_hub(args, TlsClientOptions{ca, admin_cert, admin_key, admin_server_name});
  }

  [[nodiscard]] std::string https_url() const {
    return "https://127.0.0.1:" + std::to_string(hub_port_) + "/api";
  }

  /// Starts an agent with extra environment variables; its output joins the
  /// leak check and is printed when the test fails.
  Agent agent(const std::string& token, std::vector<std::string> extra = {},
              std::vector<std::pair<std::string, std::string>> env = {},
              std::optional<std::string> url = std::nullopt) {
    Agent a;
    std::vector<std::string> args{agent_binary(),
                                  "-u",
                                  url.value_or(hub_url()),
                                  "--health-addr",
                                  "127.0.0.1:0",
                                  "--backoff-strategy",
                                  "fallback",
                                  "--max-concurrency",
                                  "2"};
    if (std::find(extra.begin(), extra.end(), "--sqlite-dirs") == extra.end()) {
      args.insert(args.end(), {"--sqlite-dirs", dir_.path().string()});  // sqlite_source()'s files
    }
    args.insert(args.end(), extra.begin(), extra.end());
    if (!token.empty()) env.emplace_back("AGENT_TOKEN", token);
    a.process = std::make_shared<Process>(Process::Options{args, env, std::nullopt, {}});
    agents_.push_back(a.process);
    keep_logs(a);
    return a;
  }

  /// A fresh SQLite database with `items` and a source for it.
  std::string sqlite_source(const std::string& name = "warehouse") {
    const auto db = dir_.path() / (name + ".db");
    make_db(db, 1);
    return create_sqlite_source(db, name);
  }

  /// Runs `SELECT count(*) FROM items` on `source_id`; true when it succeeded with 3.
  bool query_succeeds(const std::string& source_id) {
    const auto id = create_job(source_id, "SELECT count(*) AS n FROM items");
    const Json done = wait_finished(id, 30s);
    EXPECT_EQ(done.value("status", ""), "succeeded") << done.dump();
    EXPECT_EQ(done.value("rows", Json()), Json::parse("[[3]]")) << done.dump();
    return done.value("status", "") == "succeeded";
  }

  /// Waits for the agent to exit; returns its status (-1 when it did not).
  static int exit_status(const Agent& a, std::chrono::milliseconds timeout = 30s) {
    const auto status = a.process->wait(timeout);
    return status.value_or(-1);
  }

  std::vector<std::string> secrets_;
  std::vector<std::shared_ptr<Process>> agents_;
};

}  // namespace outpost::test
