#include "support/mariadb_server.hpp"

#include <mysql.h>
#include <signal.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

namespace outpost::test {
namespace {

using namespace std::chrono_literals;

// Small redo log and buffer pool: a test server holds kilobytes of data.
const std::vector<std::string> kServerTuning = {
    "--innodb-log-file-size=16M", "--innodb-buffer-pool-size=64M", "--skip-log-bin",
    "--innodb-flush-log-at-trx-commit=0", "--skip-name-resolve"};

struct Handle {
  MYSQL* mysql = nullptr;
  ~Handle() {
    if (mysql != nullptr) mysql_close(mysql);
  }
};

void connect_root(Handle& handle, const std::filesystem::path& socket) {
  handle.mysql = mysql_init(nullptr);
  const unsigned int timeout = 10;
  mysql_optionsv(handle.mysql, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  // root@localhost authenticates with unix_socket: the tests run as root.
  if (mysql_real_connect(handle.mysql, "localhost", "root", nullptr, nullptr, 0, socket.c_str(),
                         CLIENT_MULTI_STATEMENTS) == nullptr) {
    throw std::runtime_error(std::string("MariaDbServer: root login over the socket failed: ") +
                             mysql_error(handle.mysql));
  }
}

}  // namespace

MariaDbServer::MariaDbServer(std::vector<std::string> extra_args) {
  static const bool library_ready = mysql_library_init(0, nullptr, nullptr) == 0;
  if (!library_ready) throw std::runtime_error("MariaDbServer: mysql_library_init failed");
  const auto data = dir_.path() / "data";
  // A private tmpdir: a starting server deletes "#sql*" files in its tmpdir,
  // which would break other test servers sharing /tmp.
  const auto tmp = dir_.path() / "tmp";
  std::filesystem::create_directories(tmp);

  std::vector<std::string> install = {"/usr/bin/mariadb-install-db",
                                      "--no-defaults",
                                      "--datadir=" + data.string(),
                                      "--tmpdir=" + tmp.string(),
                                      "--user=root",
                                      "--auth-root-authentication-method=socket",
                                      "--skip-test-db",
                                      "--innodb-log-file-size=16M"};
  Process installer(Process::Options{install, {}, std::nullopt, {}});
  const auto status = installer.wait(120s);
  if (status != 0) {
    throw std::runtime_error("MariaDbServer: mariadb-install-db failed (status " +
                             (status ? std::to_string(*status) : std::string("timeout")) + "):\n" +
                             installer.stdout_text() + installer.stderr_text());
  }

  std::vector<std::string> args = {"/usr/sbin/mariadbd",
                                   "--no-defaults",
                                   "--user=root",
                                   "--datadir=" + data.string(),
                                   "--tmpdir=" + tmp.string(),
                                   "--socket=" + socket_path().string(),
                                   "--pid-file=" + (dir_.path() / "mysqld.pid").string(),
                                   "--bind-address=127.0.0.1"};
  args.insert(args.end(), kServerTuning.begin(), kServerTuning.end());
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  start(args);
  Handle probe;
  connect_root(probe, socket_path());
}

void MariaDbServer::start(std::vector<std::string> args) {
  // mariadbd cannot bind port 0 (it means "the default port"), so the port
  // comes from free_port(), which releases it before mariadbd binds it:
  // another process may take it in between. Retry on exactly that race.
  args.emplace_back();
  std::string last_log;
  for (int attempt = 0; attempt < 3; ++attempt) {
    port_ = free_port();
    args.back() = "--port=" + std::to_string(port_);
    server_ = std::make_unique<Process>(Process::Options{args, {}, std::nullopt, {}});
    // With no --log-error, mariadbd logs to stderr, which Process captures.
    const bool settled = eventually(
        [&] {
          return server_->stderr_text().find("ready for connections") != std::string::npos ||
                 !server_->running();
        },
        60s);
    if (settled && server_->running()) return;
    last_log = server_->stderr_text();
    server_.reset();
    if (last_log.find("Address already in use") == std::string::npos) break;
  }
  throw std::runtime_error("MariaDbServer: mariadbd did not start on port " +
                           std::to_string(port_) + "; its log:\n" + last_log);
}

MariaDbServer::~MariaDbServer() {
  if (server_ && server_->running()) {
    server_->signal(SIGTERM);
    // A clean shutdown takes well under a second; Process's destructor
    // SIGKILLs it if it has not exited by then.
    (void)server_->wait(30s);
  }
  server_.reset();
}

void MariaDbServer::execute(const std::string& sql) const {
  Handle handle;
  connect_root(handle, socket_path());
  if (mysql_real_query(handle.mysql, sql.data(), static_cast<unsigned long>(sql.size())) != 0) {
    throw std::runtime_error("MariaDbServer: " + std::string(mysql_error(handle.mysql)) +
                             "\n  in: " + sql.substr(0, 300));
  }
  for (;;) {
    if (MYSQL_RES* result = mysql_store_result(handle.mysql)) mysql_free_result(result);
    const int next = mysql_next_result(handle.mysql);
    if (next > 0) {
      throw std::runtime_error("MariaDbServer: " + std::string(mysql_error(handle.mysql)) +
                               "\n  in: " + sql.substr(0, 300));
    }
    if (next < 0) break;
  }
}

std::string MariaDbServer::scalar(const std::string& sql) const {
  Handle handle;
  connect_root(handle, socket_path());
  if (mysql_real_query(handle.mysql, sql.data(), static_cast<unsigned long>(sql.size())) != 0) {
    throw std::runtime_error("MariaDbServer: " + std::string(mysql_error(handle.mysql)));
  }
  MYSQL_RES* result = mysql_store_result(handle.mysql);
  if (result == nullptr) throw std::runtime_error("MariaDbServer: statement returned no rows");
  MYSQL_ROW row = mysql_fetch_row(result);
  std::string value = row != nullptr && row[0] != nullptr ? row[0] : "";
  mysql_free_result(result);
  return value;
}

}  // namespace outpost::test
