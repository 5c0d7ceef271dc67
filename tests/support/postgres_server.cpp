#include "support/postgres_server.hpp"

#include <fcntl.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "support/process.hpp"

namespace outpost::test {
namespace {

using namespace std::chrono_literals;

const std::string kBin = "/usr/lib/postgresql/15/bin/";

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Runs a command as the postgres user and returns its exit status and output.
int run_as_postgres(std::vector<std::string> args, std::string& output,
                    std::chrono::milliseconds timeout = 120s) {
  std::vector<std::string> full{"/usr/sbin/runuser", "-u", "postgres", "--"};
  full.insert(full.end(), args.begin(), args.end());
  Process p(Process::Options{full, {{"LC_ALL", "C"}}, std::nullopt, "/"});
  auto status = p.wait(timeout);
  output = p.stdout_text() + p.stderr_text();
  return status.value_or(-1);
}

std::string random_password() {
  std::random_device rd;
  std::mt19937_64 gen(rd());
  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::string out;
  for (int i = 0; i < 24; ++i) out.push_back(kChars[gen() % (sizeof kChars - 1)]);
  return out;
}

struct ConnCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};

std::unique_ptr<PGconn, ConnCloser> connect_superuser(const PostgresServer& server,
                                                      const std::string& database) {
  const std::string port = std::to_string(server.port());
  const char* keys[] = {"host", "port", "user", "password", "dbname", "connect_timeout", nullptr};
  const char* values[] = {
      "127.0.0.1",      port.c_str(), "postgres", server.superuser_password().c_str(),
      database.c_str(), "10",         nullptr};
  std::unique_ptr<PGconn, ConnCloser> conn(PQconnectdbParams(keys, values, 0));
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    throw std::runtime_error(std::string("test postgres: cannot connect as superuser: ") +
                             PQerrorMessage(conn.get()));
  }
  return conn;
}

}  // namespace

PostgresServer::PostgresServer(std::vector<std::string> extra_conf)
    : extra_conf_(std::move(extra_conf)) {
  char tmpl[] = "/tmp/outpost-pg-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("test postgres: mkdtemp failed");
  dir_ = tmpl;
  try {
    start_watchdog();
    const passwd* pw = ::getpwnam("postgres");
    if (pw == nullptr) throw std::runtime_error("test postgres: no 'postgres' OS user");
    if (::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      throw std::runtime_error("test postgres: chown of the temp dir failed");
    }
    password_ = random_password();
    { std::ofstream(dir_ / "pwfile") << password_ << "\n"; }
    if (::chown((dir_ / "pwfile").c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      throw std::runtime_error("test postgres: chown of the password file failed");
    }
    std::string out;
    const int rc = run_as_postgres(
        {kBin + "initdb", "-D", (dir_ / "data").string(), "-U", "postgres", "--auth-local=trust",
         "--auth-host=scram-sha-256", "--pwfile=" + (dir_ / "pwfile").string(), "-E", "UTF8",
         "--no-locale", "-N"},
        out);
    if (rc != 0) {
      throw std::runtime_error("test postgres: initdb failed (" + std::to_string(rc) + "):\n" +
                               out);
    }
    {
      std::ofstream hba(dir_ / "data" / "pg_hba.conf", std::ios::trunc);
      hba << "local all all trust\n"
          << "host all all 127.0.0.1/32 scram-sha-256\n";
    }
    start();
  } catch (...) {
    stop_and_remove();
    throw;
  }
}

void PostgresServer::start_watchdog() {
  // A shell that blocks reading a pipe whose only writer is this process:
  // EOF comes when we close it or die, and then it stops and removes the
  // cluster. Everything it needs is built before fork (the child of a
  // threaded process may only make async-signal-safe calls before exec).
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("test postgres: pipe failed");
  const std::string dir = dir_.string();
  const std::string script = "cat >/dev/null; /usr/sbin/runuser -u postgres -- " + kBin +
                             "pg_ctl -D '" + dir + "/data' -m immediate -w stop; rm -rf '" + dir +
                             "'";
  std::string sh = "/bin/sh", dash_c = "-c", arg = script;
  char* argv[] = {sh.data(), dash_c.data(), arg.data(), nullptr};
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("test postgres: fork failed");
  if (pid == 0) {
    ::setsid();  // outlive a kill of the test's process group
    ::dup2(fds[0], 0);
    const int null_fd = ::open("/dev/null", O_WRONLY);
    ::dup2(null_fd, 1);
    ::dup2(null_fd, 2);
    ::execv("/bin/sh", argv);
    ::_exit(127);
  }
  ::close(fds[0]);
  watchdog_fd_ = fds[1];
  watchdog_pid_ = pid;
}

void PostgresServer::stop_and_remove() noexcept {
  try {
    std::string out;
    if (std::filesystem::exists(dir_ / "data" / "postmaster.pid")) {
      run_as_postgres(
          {kBin + "pg_ctl", "-D", (dir_ / "data").string(), "-m", "immediate", "-w", "stop"}, out,
          60s);
    }
  } catch (...) {
    // The watchdog below still stops it.
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
  if (watchdog_fd_ >= 0) {
    ::close(watchdog_fd_);
    watchdog_fd_ = -1;
    int status = 0;
    ::waitpid(watchdog_pid_, &status, 0);
  }
}

void PostgresServer::start() {
  std::string last_log;
  // free_port() releases the port before postgres binds it; retry on a race.
  for (int attempt = 0; attempt < 3; ++attempt) {
    port_ = free_port();
    {
      std::ofstream conf(dir_ / "data" / "postgresql.auto.conf", std::ios::trunc);
      conf << "listen_addresses = '127.0.0.1'\n"
           << "port = " << port_ << "\n"
           << "unix_socket_directories = '" << dir_.string() << "'\n"
           << "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
           << "max_connections = 120\nshared_buffers = 32MB\n"
           << "password_encryption = 'scram-sha-256'\n";
      for (const auto& line : extra_conf_) conf << line << "\n";
    }
    std::error_code ec;
    std::filesystem::remove(dir_ / "server.log", ec);
    std::string out;
    const int rc = run_as_postgres({kBin + "pg_ctl", "-D", (dir_ / "data").string(), "-l",
                                    (dir_ / "server.log").string(), "-w", "-t", "60", "start"},
                                   out);
    if (rc == 0) return;
    last_log = out + "\n--- server log ---\n" + log();
    if (last_log.find("Address already in use") == std::string::npos) break;
  }
  throw std::runtime_error("test postgres: pg_ctl start failed:\n" + last_log);
}

PostgresServer::~PostgresServer() {
  stop_and_remove();
}

std::string PostgresServer::log() const {
  return read_text(dir_ / "server.log");
}

void PostgresServer::exec(const std::string& sql, const std::string& database) const {
  auto conn = connect_superuser(*this, database);
  std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(conn.get(), sql.c_str()), &PQclear);
  const auto status = PQresultStatus(r.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    throw std::runtime_error("test postgres: " + std::string(PQresultErrorMessage(r.get())) +
                             "in: " + sql.substr(0, 300));
  }
}

std::vector<std::string> PostgresServer::query_column(const std::string& sql,
                                                      const std::string& database) const {
  auto conn = connect_superuser(*this, database);
  std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(conn.get(), sql.c_str()), &PQclear);
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
    throw std::runtime_error("test postgres: " + std::string(PQresultErrorMessage(r.get())));
  }
  std::vector<std::string> out;
  for (int i = 0; i < PQntuples(r.get()); ++i) out.emplace_back(PQgetvalue(r.get(), i, 0));
  return out;
}

nlohmann::json PostgresServer::source_config(const std::string& user, const std::string& password,
                                             const std::string& database) const {
  return {{"host", host()},       {"port", port_},        {"user", user},
          {"password", password}, {"database", database}, {"sslmode", "disable"}};
}

}  // namespace outpost::test
