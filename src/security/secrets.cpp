#include "security/secrets.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <utility>
#include <vector>

#include "observability/log.hpp"

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

FileLookup read_secret_file(const std::string& path) {
  // O_NONBLOCK: opening a FIFO must not hang the job; it is refused below.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return {std::nullopt, std::strerror(errno)};
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return {std::nullopt, std::strerror(errno)};
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

}  // namespace

void add_protected_secret_file(std::string path) {
  if (path.empty()) return;
  ProtectedFiles& files = protected_files();
  const std::lock_guard lock(files.mutex);
  files.paths.push_back(std::move(path));
}

SecretLookups process_lookups() {
  return {[](const std::string& name) -> std::optional<std::string> {
            const char* value = std::getenv(name.c_str());
            if (value == nullptr) return std::nullopt;
            return std::string(value);
          },
          read_secret_file};
}

SecretResult resolve_secret_refs(const nlohmann::json& config) {
  ExpandResult expanded = expand_secret_refs(config, process_lookups());
  for (auto& secret : expanded.secrets) obs::add_secret(std::move(secret));
  return {std::move(expanded.config), std::move(expanded.error)};
}

}  // namespace outpost::security
