#pragma once

// Private to the SQLite connector: which database files a job may open, from
// the operator's --sqlite-dirs (OperatorPolicy::sqlite_dirs).

#include <optional>
#include <string>
#include <vector>

#include "outpost/errors.hpp"

namespace outpost::connectors::sqlite {

struct ResolvedPath {
  std::string path;  ///< canonical: no symbolic link, `.` or `..` left
  std::optional<JobError> error;
};

/// Resolves `requested` (an absolute path from the source config) and checks
/// that the file lies under one of `dirs` (absolute and canonical). Symbolic
/// links and `..` are followed before the check, so neither can leave a
/// listed directory.
///
/// Errors say nothing about files outside the list: one message for "outside"
/// whether such a file exists or not (its existence is only looked at once
/// the policy check has passed). A missing file is reported as such only when
/// its directory is provably inside the list.
ResolvedPath resolve_database_path(const std::string& requested,
                                   const std::vector<std::string>& dirs);

}  // namespace outpost::connectors::sqlite
