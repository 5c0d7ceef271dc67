#include "security/secrets.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "observability/log.hpp"

namespace outpost::security {
namespace {

constexpr std::size_t kMaxFileBytes = 1024 * 1024;

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
