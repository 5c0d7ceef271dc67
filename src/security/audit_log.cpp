#include "security/audit_log.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <ostream>
#include <stdexcept>
#include <system_error>

#include <nlohmann/json.hpp>

namespace outpost::security {
namespace {

constexpr std::string_view kHashKey = ",\"hash\":\"";
// `,"hash":"` + 64 hex digits + `"}`
constexpr std::size_t kHashSuffixSize = kHashKey.size() + 64 + 2;
constexpr std::size_t kMaxLineBytes = 1024 * 1024;

std::string now_rfc3339() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  char buffer[40];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buffer, static_cast<int>(ms));
  return out;
}

bool is_hex64(const nlohmann::json& value) {
  if (!value.is_string()) return false;
  const auto& s = value.get_ref<const std::string&>();
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// The last line of the open file (without its newline), read backwards with
// pread(); empty when the file is empty.
std::string last_line(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw std::system_error(errno, std::generic_category(), path);
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size == 0) return {};
  std::string tail;
  std::uint64_t end = size;
  char buffer[4096];
  for (;;) {
    const std::uint64_t start = end > sizeof buffer ? end - sizeof buffer : 0;
    const auto want = static_cast<std::size_t>(end - start);
    const ssize_t n = ::pread(fd, buffer, want, static_cast<off_t>(start));
    if (n != static_cast<ssize_t>(want)) {
      throw std::runtime_error("audit log " + path + ": cannot read its last line");
    }
    tail.insert(0, buffer, want);
    if (tail.back() != '\n') {
      throw std::runtime_error("audit log " + path +
                               " ends with an incomplete line; check it with "
                               "`outpost-agent audit-verify` and move it aside");
    }
    const auto newline = tail.rfind('\n', tail.size() - 2);
    if (newline != std::string::npos || tail.size() == 1) {
      const std::size_t from = newline == std::string::npos ? 0 : newline + 1;
      return tail.substr(from, tail.size() - 1 - from);
    }
    if (start == 0) return tail.substr(0, tail.size() - 1);
    if (tail.size() > kMaxLineBytes) {
      throw std::runtime_error("audit log " + path + ": last line longer than 1 MiB");
    }
    end = start;
  }
}

// Why `line` (number `number`) is bad given the hash of the line before, or
// empty when it is good.
std::string check_line(const std::string& line, std::size_t number, const std::string& prev) {
  if (line.size() > kMaxLineBytes) return "longer than 1 MiB";
  const nlohmann::json record = nlohmann::json::parse(line, nullptr, false);
  if (record.is_discarded() || !record.is_object()) return "not a JSON object";
  for (const char* key : {"time", "job_id", "source", "outcome"}) {
    if (!record.contains(key) || !record[key].is_string()) {
      return std::string("field '") + key + "' missing or not a string";
    }
  }
  for (const char* key : {"attempt", "rows", "bytes"}) {
    if (!record.contains(key) || !record[key].is_number_integer()) {
      return std::string("field '") + key + "' missing or not an integer";
    }
  }
  for (const char* key : {"statement_sha256", "prev", "hash"}) {
    if (!record.contains(key) || !is_hex64(record[key])) {
      return std::string("field '") + key + "' missing or not a SHA-256 hex digest";
    }
  }
  if (line.size() < kHashSuffixSize ||
      line.compare(line.size() - kHashSuffixSize, kHashKey.size(), kHashKey) != 0 ||
      !line.ends_with("\"}")) {
    return "'hash' is not the last field (the line was rewritten)";
  }
  const std::string body = line.substr(0, line.size() - kHashSuffixSize);
  if (sha256_hex(body) != record["hash"].get<std::string>()) {
    return "content does not match its hash (the line was edited)";
  }
  if (record["prev"].get<std::string>() != prev) {
    if (number == 1) return "prev is not the genesis value (lines were removed from the start)";
    return "prev does not match line " + std::to_string(number - 1) +
           " (a line was removed, reordered or edited before this one)";
  }
  return {};
}

}  // namespace

AuditLog::AuditLog(std::string path) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    throw std::runtime_error("audit log " + path_ + ": cannot open: " + std::strerror(errno));
  }
  try {
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      throw std::runtime_error("audit log " + path_ + ": in use by another process (" +
                               std::strerror(errno) + ")");
    }
    const std::string last = last_line(fd_, path_);
    prev_ = last.empty() ? std::string(kAuditGenesis) : sha256_hex(last);
  } catch (...) {
    ::close(fd_);
    throw;
  }
}

AuditLog::~AuditLog() {
  if (fd_ >= 0) ::close(fd_);
}

void AuditLog::record(const AuditRecord& record) {
  nlohmann::ordered_json line;
  line["time"] = now_rfc3339();
  line["job_id"] = record.job_id;
  line["attempt"] = record.attempt;
  line["source"] = record.source;
  line["statement_sha256"] = sha256_hex(record.statement);
  line["rows"] = record.rows;
  line["bytes"] = record.bytes;
  line["outcome"] = record.outcome;

  const std::lock_guard lock(mutex_);
  line["prev"] = prev_;
  // Invalid UTF-8 from the control plane (a job id) is replaced, not thrown on.
  std::string body = line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  body.pop_back();  // the closing '}'
  std::string text = body + std::string(kHashKey) + sha256_hex(body) + "\"}";
  text += '\n';
  std::string_view rest = text;
  while (!rest.empty()) {
    const ssize_t n = ::write(fd_, rest.data(), rest.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "audit log " + path_ + ": write");
    }
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
  prev_ = sha256_hex(std::string_view(text).substr(0, text.size() - 1));
}

int verify_audit_log(const std::string& path, std::ostream& out) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    out << "cannot read " << path << ": " << std::strerror(errno) << "\n";
    return 2;
  }
  if (S_ISDIR(st.st_mode)) {
    out << "cannot read " << path << ": is a directory\n";
    return 2;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    out << "cannot read " << path << ": " << std::strerror(errno) << "\n";
    return 2;
  }
  std::string prev(kAuditGenesis);
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (in.eof()) {
      out << "line " << number << ": incomplete (no newline at the end; written during a crash?)\n";
      return 1;
    }
    if (const std::string why = check_line(line, number, prev); !why.empty()) {
      out << "line " << number << ": " << why << "\n";
      return 1;
    }
    prev = sha256_hex(line);
  }
  if (in.bad()) {
    out << "cannot read " << path << ": read error after line " << number << "\n";
    return 2;
  }
  out << "ok: " << number << " lines\n";
  return 0;
}

}  // namespace outpost::security
