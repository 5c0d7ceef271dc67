#include <string>
#include <vector>

#include "postgres/pg_jobs.hpp"

namespace outpost::connectors::postgres {

// Everything comes from the session's probe (pg_privileges.cpp), which ran
// as the first statement of this new connection: no further round trip.
JobResult run_test_connection(Session& session, JobContext& ctx, std::int64_t connect_ms) {
  if (ctx.cancel.cancelled()) return cancelled_result(ctx.cancel);
  const SessionInfo* info = session.info();
  if (info == nullptr) {
    return JobResult::failure(ErrorCode::kPermissionDenied,
                              "could not read the login's privileges");
  }
  const std::string& version = info->server_version;  // "15.14 (Debian 15.14-0+deb12u1)"
  nlohmann::json details = nlohmann::json::array();
  for (const auto& p : info->privileges)
    details.push_back({{"name", p.name}, {"detail", p.detail}});
  const bool allowed = privileged_login_allowed(ctx.policy, ctx.job.source);

  nlohmann::json result = {{"ok", true},
                           {"server_version", "PostgreSQL " + version.substr(0, version.find(' '))},
                           {"latency_ms", info->probe_ms},
                           {"connect_ms", connect_ms},
                           {"database", info->database},
                           {"user", info->user},
                           // Can do more than read: every privilege the gate refuses,
                           // not only table writes (running programs, server files, …).
                           {"role_can_write", info->privileged()},
                           {"write_privileges", info->names()},
                           {"privileges", std::move(details)},
                           {"privileged_login_allowed", allowed}};
  if (!info->notes.empty()) result["notes"] = info->notes;
  if (info->privileged()) {
    std::string why;
    for (const auto& p : info->privileges) why += (why.empty() ? "" : "; ") + p.detail;
    result["warnings"] = nlohmann::json::array(
        {"role \"" + info->user + "\" can do more than read (" + why + "). " +
         (allowed ? std::string("Query and metadata jobs still run on it because the operator "
                                "allowed privileged logins for this source. ")
                  : std::string("Query and metadata jobs on this source are refused with "
                                "permission_denied until it is replaced by a read-only login or "
                                "the operator opts in. ")) +
         "See the least-privilege recipe in docs/connectors.md"});
  }
  return JobResult::success(std::move(result));
}

}  // namespace outpost::connectors::postgres
