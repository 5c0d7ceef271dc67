#include "config/token_reader.hpp"

#include <termios.h>
#include <unistd.h>
#include <csignal>

#include <cerrno>
#include <cstring>

namespace outpost::config {
namespace {

// A token is a header value, not a document: stop reading long before a
// mistaken `< /dev/zero` could exhaust memory.
constexpr std::size_t kMaxTokenBytes = 64 * 1024;

// Terminal state to restore from a signal handler if the prompt is interrupted.
struct termios g_saved_termios;
volatile std::sig_atomic_t g_saved_fd = -1;

extern "C" void restore_echo_and_reraise(int sig) {
  if (g_saved_fd >= 0) ::tcsetattr(g_saved_fd, TCSAFLUSH, &g_saved_termios);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

/// Turns echo off on a terminal for its lifetime.
class EchoOff {
 public:
  explicit EchoOff(int fd) : fd_(fd) {
    if (::tcgetattr(fd, &g_saved_termios) != 0) return;
    struct termios quiet = g_saved_termios;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;  // still move to the next line on Enter
    g_saved_fd = fd;
    old_int_ = std::signal(SIGINT, restore_echo_and_reraise);
    old_term_ = std::signal(SIGTERM, restore_echo_and_reraise);
    ::tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  ~EchoOff() {
    if (g_saved_fd < 0) return;
    ::tcsetattr(fd_, TCSAFLUSH, &g_saved_termios);
    g_saved_fd = -1;
    std::signal(SIGINT, old_int_);
    std::signal(SIGTERM, old_term_);
  }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

 private:
  int fd_;
  void (*old_int_)(int) = SIG_DFL;
  void (*old_term_)(int) = SIG_DFL;
};

void write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Reads up to the first new line (not past it, so nothing else on stdin is lost).
std::optional<std::string> read_line(int fd, std::string* error) {
  std::string line;
  char c = 0;
  while (true) {
    const ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      if (error != nullptr) *error = std::string("cannot read the token: ") + std::strerror(errno);
      return std::nullopt;
    }
    if (n == 0 || c == '\n') break;
    line.push_back(c);
    if (line.size() > kMaxTokenBytes) {
      if (error != nullptr) *error = "the token read from standard input is longer than 64 KiB";
      return std::nullopt;
    }
  }
  return line;
}

}  // namespace

std::string trim(const std::string& text) {
  constexpr std::string_view kBlank = " \t\r\n\f\v";
  const auto first = text.find_first_not_of(kBlank);
  if (first == std::string::npos) return {};
  const auto last = text.find_last_not_of(kBlank);
  return text.substr(first, last - first + 1);
}

std::optional<std::string> FdTokenReader::read_token(std::string* error) {
  std::optional<std::string> line;
  if (::isatty(fd_) != 0) {
    // Echo goes off before the prompt shows, so nothing typed after the
    // prompt can be echoed.
    EchoOff echo_off(fd_);
    write_all(prompt_fd_, "Access token (input hidden): ");
    line = read_line(fd_, error);
  } else {
    line = read_line(fd_, error);
  }
  if (!line) return std::nullopt;
  std::string token = trim(*line);
  if (token.empty()) {
    if (error != nullptr) {
      *error =
          "--token was given without a value and no token was read from standard input; "
          "pass --token VALUE, --token-file PATH or AGENT_TOKEN";
    }
    return std::nullopt;
  }
  return token;
}

}  // namespace outpost::config
