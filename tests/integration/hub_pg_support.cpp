#include "hub_pg_support.hpp"

#include <stdexcept>

namespace outpost::test::pgstore {

namespace {

void pg_ctl(const std::vector<std::string>& args) {
  const std::string bin = "/usr/lib/postgresql/15/bin/pg_ctl";
  const auto data = (StoreEnv::server().dir() / "data").string();
  std::vector<std::string> full{"/usr/sbin/runuser", "-u", "postgres", "--", bin, "-D", data};
  full.insert(full.end(), args.begin(), args.end());
  Process p(Process::Options{full, {{"LC_ALL", "C"}}, std::nullopt, "/"});
  const auto status = p.wait(120s);
  if (!status || *status != 0) {
    throw std::runtime_error("pg_ctl failed: " + p.stdout_text() + p.stderr_text());
  }
}

}  // namespace

void StoreEnv::stop_server() {
  pg_ctl({"-m", "fast", "-w", "stop"});
}

void StoreEnv::start_server() {
  pg_ctl({"-l", (server().dir() / "server.log").string(), "-w", "-t", "60", "start"});
}

}  // namespace outpost::test::pgstore
