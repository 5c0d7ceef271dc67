#pragma once

// Private to the SDK: the pieces parse_job_params shares between the
// parsers of params.cpp and params_jobs.cpp.

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "outpost/params.hpp"

namespace outpost::params_detail {

/// An invalid_job error with `message`.
JobError invalid(std::string message);

/// A positive integer that fits in int64, or nullopt when it is not one.
std::optional<std::uint64_t> positive_integer(const nlohmann::json& value);

/// A name field: a non-empty string without NUL.
std::optional<JobError> name_field(const nlohmann::json& p, const char* key, bool required,
                                   std::optional<std::string>& out);

/// `table` (required) and `schema` (optional).
std::optional<JobError> parse_table(const nlohmann::json& p, TableRef& out);

/// jobs-v1.1 `profile` and `query_log` (params_jobs.cpp).
std::optional<JobError> parse_profile(const nlohmann::json& p, ProfileParams& out);
std::optional<JobError> parse_query_log(const nlohmann::json& p, QueryLogParams& out);

}  // namespace outpost::params_detail
