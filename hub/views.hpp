#pragma once

// JSON views of the store's records, as the admin API shows them.

#include <string>

#include "store/records.hpp"

namespace outpost::hub {

/// "agt_<n>" for token "tok_<n>": one agent per token; the instances sharing
/// a token are its replicas.
std::string agent_id_for(const std::string& token_id);

/// A job as GET /v1/admin/jobs/{id} shows it, "rows" null (the caller fills
/// rows and metadata tables from the stored parts).
Json job_view(const JobRecord& job);
/// A job as GET /v1/admin/jobs lists it: the view without "rows" (also not
/// inside "result").
Json job_summary(const JobRecord& job);

Json token_view(const TokenRecord& token);
/// A source with literal secrets in its config masked (mask_secrets).
Json source_view(const SourceRecord& source);
Json instance_view(const InstanceRecord& instance, const std::string& name, bool revoked);
/// A schedule as GET /v1/admin/schedules lists it.
Json schedule_view(const ScheduleRecord& schedule);

}  // namespace outpost::hub
