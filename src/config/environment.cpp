#include "config/environment.hpp"

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>

namespace outpost::config {
namespace {

// A token file or options file is small; refuse anything that is clearly not one
// (a device, a huge log) instead of reading it whole.
constexpr std::uintmax_t kMaxFileBytes = 16 * 1024 * 1024;

}  // namespace

std::optional<std::string> ProcessEnvironment::variable(const std::string& name) const {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

FileRead ProcessEnvironment::read_file(const std::string& path) const {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec) return {std::nullopt, ec.message()};
  if (std::filesystem::is_directory(status)) return {std::nullopt, "it is a directory"};
  std::ifstream in(path, std::ios::binary);
  if (!in) return {std::nullopt, std::strerror(errno)};
  // Read in chunks with a cap rather than trusting the size: pipes such as
  // <(...) or /dev/stdin have none, and /dev/zero never ends.
  std::string content;
  std::array<char, 8192> chunk{};
  while (in.read(chunk.data(), chunk.size()) || in.gcount() > 0) {
    content.append(chunk.data(), static_cast<std::size_t>(in.gcount()));
    if (content.size() > kMaxFileBytes) return {std::nullopt, "it is larger than 16 MiB"};
  }
  if (in.bad()) return {std::nullopt, "read error"};
  return {std::move(content), {}};
}

std::string ProcessEnvironment::identity(const std::string& path) const {
  std::error_code ec;
  auto canonical = std::filesystem::weakly_canonical(path, ec);
  if (ec) return std::filesystem::absolute(path, ec).lexically_normal().string();
  return canonical.string();
}

std::optional<std::string> MapEnvironment::variable(const std::string& name) const {
  const auto it = variables.find(name);
  if (it == variables.end()) return std::nullopt;
  return it->second;
}

FileRead MapEnvironment::read_file(const std::string& path) const {
  const auto it = files.find(identity(path));
  if (it == files.end()) return {std::nullopt, "No such file or directory"};
  return {it->second, {}};
}

std::string MapEnvironment::identity(const std::string& path) const {
  return std::filesystem::path(path).lexically_normal().string();
}

}  // namespace outpost::config
