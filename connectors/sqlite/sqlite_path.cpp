#include "sqlite/sqlite_path.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <memory>

namespace outpost::connectors::sqlite {
namespace {

constexpr const char* kOutside =
    "the SQLite file is not under a directory the agent's operator allows (--sqlite-dirs)";

JobError refused() {
  return {ErrorCode::kPermissionDenied, kOutside, false};
}

bool under(const std::string& path, const std::string& dir) {
  if (dir == "/") return true;
  return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
         path[dir.size()] == '/';
}

bool under_any(const std::string& path, const std::vector<std::string>& dirs) {
  for (const auto& dir : dirs) {
    if (under(path, dir)) return true;
  }
  return false;
}

// realpath(3): every symbolic link, `.` and `..` resolved; nullopt (errno
// set) when a component does not exist or cannot be searched.
std::optional<std::string> real_path(const std::string& path) {
  std::unique_ptr<char, decltype(&std::free)> resolved(::realpath(path.c_str(), nullptr),
                                                       &std::free);
  if (!resolved) return std::nullopt;
  return std::string(resolved.get());
}

}  // namespace

ResolvedPath resolve_database_path(const std::string& requested,
                                   const std::vector<std::string>& dirs) {
  if (requested.find('\0') != std::string::npos) {
    return {{},
            JobError{ErrorCode::kInvalidJob, "sqlite source config: \"path\" contains NUL", false}};
  }
  if (requested.empty() || requested.front() != '/') {
    // Also ":memory:" and "": they read no file, but would still hand SQL to
    // an agent whose operator enabled no SQLite at all.
    return {{},
            JobError{ErrorCode::kInvalidJob,
                     "sqlite source config: \"path\" must be an absolute file path", false}};
  }
  if (dirs.empty()) {
    return {
        {},
        JobError{ErrorCode::kPermissionDenied,
                 "SQLite files are refused: the agent was started without --sqlite-dirs", false}};
  }
  if (auto real = real_path(requested)) {
    if (!under_any(*real, dirs)) return {{}, refused()};
    return {std::move(*real), std::nullopt};
  }
  const int err = errno;
  // Unresolvable. Say why only when the file's own directory is inside the
  // list (the name itself is then inside too); everything else gets the
  // "outside" answer, so nobody learns what exists elsewhere.
  const std::filesystem::path lexical(requested);
  const std::string name = lexical.filename().string();
  const auto parent = real_path(lexical.parent_path().string());
  if (!parent || name.empty() || name == "." || name == "..") return {{}, refused()};
  const std::string candidate = (*parent == "/" ? "" : *parent) + "/" + name;
  if (!under_any(candidate, dirs)) return {{}, refused()};
  struct stat st {};
  if (::lstat(candidate.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
    // A dangling link may point anywhere: whether its target exists is not
    // ours to tell.
    return {{}, refused()};
  }
  if (err == EACCES) {
    return {{},
            JobError{ErrorCode::kPermissionDenied,
                     "the agent may not read the SQLite file (" + candidate + ")", false}};
  }
  return {{},
          JobError{ErrorCode::kUnreachable,
                   "unable to open database file: no such file (" + candidate + ")", false}};
}

}  // namespace outpost::connectors::sqlite
