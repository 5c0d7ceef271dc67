#include "security/secrets.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <utility>
#include <vector>

#include "observability/log.hpp"
#include "observability/redaction.hpp"

namespace outpost::security {
namespace {

constexpr std::size_t kMaxFileBytes = 1024 * 1024;

struct ProtectedFiles {
  std::mutex mutex;
  std::vector<std::string> paths;  // guarded by mutex
};

ProtectedFiles& protected_files() {
  static ProtectedFiles files;
  return files;
}

// Whether the open file is one a job may never read (see secrets.hpp).
std::optional<std::string> protected_reason(int fd, const struct stat& opened) {
  struct statfs fs {};
  if (::fstatfs(fd, &fs) != 0) return std::string(std::strerror(errno));
  if (fs.f_type == PROC_SUPER_MAGIC || fs.f_type == SYSFS_MAGIC) {
    return std::string("files on /proc and /sys are never given to jobs");
  }
  ProtectedFiles& files = protected_files();
  const std::lock_guard lock(files.mutex);
  for (const auto& path : files.paths) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && st.st_dev == opened.st_dev &&
        st.st_ino == opened.st_ino) {
      return std::string("the agent's own credentials are never given to jobs");
    }
  }
  return std::nullopt;
}

bool under_dir(std::string_view path, const std::string& dir) {
  if (dir == "/") return true;
  return path == dir ||
         (path.starts_with(dir) && path.size() > dir.size() && path[dir.size()] == '/');
}

bool under_any(std::string_view path, const std::vector<std::string>& dirs) {
  return std::any_of(dirs.begin(), dirs.end(),
                     [&](const std::string& d) { return under_dir(path, d); });
}

bool under_proc_or_sys(std::string_view path) {
  return under_dir(path, "/proc") || under_dir(path, "/sys");
}

constexpr std::string_view kOutsideDirs =
    "the file is not under --secret-dirs (the directories the operator lets references read)";

std::string lower_ascii(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The path an open descriptor really names, from the kernel.
std::optional<std::string> fd_path(int fd) {
  const std::string link = "/proc/self/fd/" + std::to_string(fd);
  char buffer[PATH_MAX + 1];
  const ssize_t n = ::readlink(link.c_str(), buffer, PATH_MAX);
  if (n <= 0) return std::nullopt;
  return std::string(buffer, static_cast<std::size_t>(n));
}

FileLookup read_secret_file(const std::string& path, const std::vector<std::string>& dirs) {
  // The canonical path (every link, "..", /proc/self/root resolved) decides.
  char* real = ::realpath(path.c_str(), nullptr);
  if (real == nullptr) {
    const int err = errno;
    // Outside the directories ("a/../.." counted), do not tell whether the
    // file exists.
    const std::string normal = std::filesystem::path(path).lexically_normal().string();
    if (!under_any(normal, dirs)) return {std::nullopt, std::string(kOutsideDirs)};
    return {std::nullopt, std::strerror(err)};
  }
  const std::string canonical(real);
  std::free(real);
  if (under_proc_or_sys(canonical)) {
    return {std::nullopt, "files on /proc and /sys are never given to jobs"};
  }
  if (!under_any(canonical, dirs)) return {std::nullopt, std::string(kOutsideDirs)};
  // O_NOFOLLOW: a link swapped in after realpath() is refused, not followed.
  // O_NONBLOCK: opening a FIFO must not hang the job; it is refused below.
  const int fd =
      ::open(canonical.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW);
  if (fd < 0) return {std::nullopt, std::strerror(errno)};
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return {std::nullopt, std::strerror(errno)};
  // A directory on the way swapped for a link after realpath(): what was
  // opened is not what was checked. The kernel names the open file; without
  // /proc, the file at the checked path must be the one opened.
  if (const auto opened_path = fd_path(fd)) {
    if (*opened_path != canonical) return {std::nullopt, "the file changed while it was opened"};
  } else {
    struct stat at_path {};
    if (::lstat(canonical.c_str(), &at_path) != 0 || at_path.st_dev != st.st_dev ||
        at_path.st_ino != st.st_ino) {
      return {std::nullopt, "the file changed while it was opened"};
    }
  }
  if (!S_ISREG(st.st_mode)) return {std::nullopt, "not a regular file"};
  if (auto reason = protected_reason(fd, st)) return {std::nullopt, std::move(*reason)};
  if (static_cast<std::uint64_t>(st.st_size) > kMaxFileBytes) {
    return {std::nullopt, "file larger than 1 MiB"};
  }
  std::string contents;
  char buffer[8192];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      return {std::nullopt, std::strerror(errno)};
    }
    if (n == 0) break;
    contents.append(buffer, static_cast<std::size_t>(n));
    if (contents.size() > kMaxFileBytes) return {std::nullopt, "file larger than 1 MiB"};
  }
  return {std::move(contents), {}};
}

constexpr std::array<std::string_view, 4> kProxyVariables{"http_proxy", "https_proxy", "all_proxy",
                                                          "no_proxy"};

}  // namespace

void add_protected_secret_file(std::string path) {
  if (path.empty()) return;
  ProtectedFiles& files = protected_files();
  const std::lock_guard lock(files.mutex);
  files.paths.push_back(std::move(path));
}

std::vector<std::string> canonical_secret_dirs(const std::vector<std::string>& dirs,
                                               std::vector<std::string>* missing) {
  std::vector<std::string> out;
  for (const auto& dir : dirs) {
    char* real = dir.empty() || dir[0] != '/' ? nullptr : ::realpath(dir.c_str(), nullptr);
    struct stat st {};
    if (real == nullptr || ::stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
      if (missing != nullptr) missing->push_back(dir);
      std::free(real);
      continue;
    }
    std::string canonical(real);
    std::free(real);
    if (std::find(out.begin(), out.end(), canonical) == out.end())
      out.push_back(std::move(canonical));
  }
  return out;
}

bool env_never_given(std::string_view name) {
  const std::string lower = lower_ascii(name);
  if (lower.starts_with("agent_")) return true;
  return std::find(kProxyVariables.begin(), kProxyVariables.end(), lower) != kProxyVariables.end();
}

bool env_listed(std::string_view name, const std::vector<std::string>& entries) {
  return std::any_of(entries.begin(), entries.end(), [&](const std::string& entry) {
    if (!entry.empty() && entry.back() == '*') {
      return name.starts_with(std::string_view(entry).substr(0, entry.size() - 1));
    }
    return name == entry;
  });
}

std::vector<std::string> refused_secret_env_entries(const std::vector<std::string>& entries) {
  std::vector<std::string> out;
  for (const auto& entry : entries) {
    bool refused = false;
    if (!entry.empty() && entry.back() == '*') {
      const std::string prefix = lower_ascii(std::string_view(entry).substr(0, entry.size() - 1));
      // A prefix that covers AGENT_* or a proxy variable (e.g. "A*", "HTTP*", "*").
      refused = std::string_view("agent_").starts_with(prefix) || prefix.starts_with("agent_") ||
                std::any_of(kProxyVariables.begin(), kProxyVariables.end(),
                            [&](std::string_view v) { return v.starts_with(prefix); });
    } else {
      refused = env_never_given(entry);
    }
    if (refused) out.push_back(entry);
  }
  return out;
}

SecretLookups process_lookups(const SecretScope& scope) {
  return {[env = scope.env](const std::string& name) -> std::optional<std::string> {
            if (env_never_given(name) || !env_listed(name, env)) return std::nullopt;
            const char* value = std::getenv(name.c_str());
            if (value == nullptr) return std::nullopt;
            return std::string(value);
          },
          [dirs = scope.dirs](const std::string& path) { return read_secret_file(path, dirs); },
          [env = scope.env](const std::string& name) { return env_listed(name, env); }};
}

SecretResult resolve_secret_refs(const nlohmann::json& config, const SecretScope& scope) {
  ExpandOptions options;
  options.credential_positions_only = !scope.operator_source;
  ExpandResult expanded = expand_secret_refs(config, process_lookups(scope), options);
  SecretResult out{std::move(expanded.config), std::move(expanded.error), {}};
  for (const auto& secret : expanded.secrets) {
    for (auto& variant : obs::secret_variants(secret)) {
      obs::add_secret(variant);
      if (std::find(out.secrets.begin(), out.secrets.end(), variant) == out.secrets.end()) {
        out.secrets.push_back(std::move(variant));
      }
    }
  }
  return out;
}

}  // namespace outpost::security
