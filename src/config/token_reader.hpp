#pragma once

#include <optional>
#include <string>

namespace outpost::config {

/// Where `--token` given as a bare flag gets its value.
class TokenReader {
 public:
  virtual ~TokenReader() = default;
  /// Reads the token; nullopt with `error` set (never containing the token)
  /// when none could be read.
  virtual std::optional<std::string> read_token(std::string* error) = 0;
};

/// Reads the token from a file descriptor (standard input by default). On a
/// terminal it writes a prompt to `prompt_fd` and turns echo off while the
/// line is typed (restored even if SIGINT/SIGTERM arrives meanwhile); from a
/// pipe or file it reads one line. Surrounding white space is trimmed.
class FdTokenReader final : public TokenReader {
 public:
  explicit FdTokenReader(int fd = 0, int prompt_fd = 2) : fd_(fd), prompt_fd_(prompt_fd) {}
  std::optional<std::string> read_token(std::string* error) override;

 private:
  int fd_;
  int prompt_fd_;
};

/// Removes leading and trailing white space (spaces, tabs, CR, LF).
std::string trim(const std::string& text);

}  // namespace outpost::config
