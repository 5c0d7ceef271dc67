#include "runtime/agent_setup.hpp"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <random>
#include <stdexcept>

#include "security/secret_policy.hpp"
#include "security/secrets.hpp"
#include "security/sources_file.hpp"

namespace outpost::runtime {

std::string random_uuid() {
  std::random_device rd;
  std::uniform_int_distribution<unsigned> byte(0, 255);
  unsigned char b[16];
  for (auto& x : b) x = static_cast<unsigned char>(byte(rd));
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
  char out[37];
  std::snprintf(out, sizeof out,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return out;
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

// The operator's opt-ins with every --sqlite-dirs entry resolved to its
// canonical path, so a symbolic link in the list cannot widen it later.
// Throws std::runtime_error naming a directory that does not exist.
OperatorPolicy make_policy(const config::AgentConfig& config) {
  OperatorPolicy policy;
  policy.allow_privileged_logins = config.allow_privileged_logins;
  for (const auto& dir : config.sqlite_dirs) {
    std::error_code ec;
    const auto canonical = std::filesystem::canonical(dir, ec);
    if (ec || !std::filesystem::is_directory(canonical, ec)) {
      throw std::runtime_error("--sqlite-dirs entry '" + dir +
                               "' is not an existing directory: create it or remove it");
    }
    policy.sqlite_dirs.push_back(canonical.string());
  }
  return policy;
}

// One line per opt-in that widens what a control plane can make the agent
// do, and one when nothing restricts where connections may go.
void log_security_posture(const obs::Logger& log, const config::AgentConfig& config,
                          const OperatorPolicy& policy, const security::SourcesFile* sources) {
  if (config.allow_hosts.empty()) {
    log.warn(
        "no --allow-hosts: jobs may connect to any host, port, local socket or ODBC data "
        "source this agent can reach, so a compromised control plane can aim it at "
        "internal services; set --allow-hosts to the databases it serves (e.g. "
        "db.internal:5432,10.0.0.0/8:5432-5439,unix:/var/run/postgresql)",
        {});
  } else {
    std::string hosts;
    for (const auto& h : config.allow_hosts) hosts += (hosts.empty() ? "" : ",") + h;
    log.info("egress limited by --allow-hosts", {{"allow_hosts", hosts}});
  }
  if (policy.allow_privileged_logins) {
    log.warn(
        "--allow-privileged-logins: query and metadata jobs run even on logins that can "
        "write, read server files or run programs",
        {});
  }
  if (!policy.sqlite_dirs.empty()) {
    std::string dirs;
    for (const auto& d : policy.sqlite_dirs) dirs += (dirs.empty() ? "" : ",") + d;
    log.info("SQLite files may be opened under --sqlite-dirs", {{"sqlite_dirs", dirs}});
  }
  if (sources != nullptr && !policy.allow_privileged_logins) {
    std::string opted;
    for (const auto& name : sources->names()) {
      const auto source = sources->find(name);
      if (source && privileged_login_allowed(policy, *source)) {
        opted += (opted.empty() ? "" : ",") + name;
      }
    }
    if (!opted.empty()) {
      log.warn(
          "sources-file sources with allow_privileged_login: their query and metadata jobs "
          "run even on logins that can write, read server files or run programs",
          {{"sources", opted}});
    }
  }
}

// --secret-dirs made canonical, and start-up lines for what the operator's
// secret options cannot do.
std::vector<std::string> secret_dirs(const obs::Logger& log, const config::AgentConfig& config) {
  std::vector<std::string> missing;
  auto dirs = security::canonical_secret_dirs(config.secret_dirs, &missing);
  for (const auto& dir : missing) {
    log.info("--secret-dirs entry does not exist; ${file:…} references cannot read under it",
             {{"dir", dir}});
  }
  const auto refused = security::refused_secret_env_entries(config.secret_env);
  if (!refused.empty()) {
    std::string names;
    for (const auto& n : refused) names += (names.empty() ? "" : ",") + n;
    log.warn(
        "--secret-env lists AGENT_* or proxy variables: those are never given to jobs, "
        "whatever the list says",
        {{"entries", names}});
  }
  return dirs;
}

}  // namespace outpost::runtime
