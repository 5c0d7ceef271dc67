// The bare --token flag reading from standard input when it is a pipe.
#include "config/token_reader.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "config/command_line.hpp"

namespace outpost::config {
namespace {

/// A pipe whose write end is filled and closed up front (the text is small
/// enough for the pipe buffer).
class Pipe {
 public:
  explicit Pipe(std::string_view text) {
    EXPECT_EQ(::pipe(fds_), 0);
    EXPECT_EQ(::write(fds_[1], text.data(), text.size()), static_cast<ssize_t>(text.size()));
    ::close(fds_[1]);
  }
  ~Pipe() { ::close(fds_[0]); }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  [[nodiscard]] int read_fd() const { return fds_[0]; }

 private:
  int fds_[2] = {-1, -1};
};

TEST(TokenReader, ReadsOneTrimmedLineFromAPipe) {
  Pipe pipe("  piped-token-7890 \r\nsecond line is not read\n");
  FdTokenReader reader(pipe.read_fd());
  std::string error;
  EXPECT_EQ(reader.read_token(&error), "piped-token-7890") << error;
  // Only the first line was consumed.
  char rest[6] = {};
  EXPECT_EQ(::read(pipe.read_fd(), rest, 6), 6);
  EXPECT_EQ(std::string(rest, 6), "second");
}

TEST(TokenReader, LastLineWithoutNewLine) {
  Pipe pipe("piped-token-7890");
  FdTokenReader reader(pipe.read_fd());
  EXPECT_EQ(reader.read_token(nullptr), "piped-token-7890");
}

TEST(TokenReader, EmptyInputIsAnError) {
  Pipe pipe("");
  FdTokenReader reader(pipe.read_fd());
  std::string error;
  EXPECT_FALSE(reader.read_token(&error));
  EXPECT_NE(error.find("no token was read from standard input"), std::string::npos) << error;
}

TEST(TokenReader, BareTokenFlagThroughTheParser) {
  Pipe pipe("piped-token-7890\n");
  FdTokenReader reader(pipe.read_fd());
  const ParseResult result = parse_command_line({"--url", "https://cp.example.com/api", "--token"},
                                                MapEnvironment{}, reader);
  ASSERT_EQ(result.outcome, ParseResult::Outcome::kRun) << result.text;
  EXPECT_EQ(result.config.token, "piped-token-7890");
}

// Reads what the terminal shows on the master side until `needle` appears or
// the deadline passes.
std::string read_screen_until(int master, std::string_view needle, std::chrono::seconds deadline) {
  std::string screen;
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (screen.find(needle) == std::string::npos && std::chrono::steady_clock::now() < end) {
    pollfd pfd{master, POLLIN, 0};
    if (::poll(&pfd, 1, 50) <= 0) continue;
    char buffer[256];
    const ssize_t n = ::read(master, buffer, sizeof buffer);
    if (n > 0) screen.append(buffer, static_cast<std::size_t>(n));
  }
  return screen;
}

TEST(TokenReader, TerminalPromptsWithoutEchoAndRestoresIt) {
  int master = -1;
  int slave = -1;
  ASSERT_EQ(::openpty(&master, &slave, nullptr, nullptr, nullptr), 0);
  std::optional<std::string> token;
  std::thread reader_thread([&] {
    FdTokenReader reader(slave, slave);
    token = reader.read_token(nullptr);
  });
  // The prompt appears only once echo is off; then "type" the token.
  const std::string prompt = read_screen_until(master, "Access token", std::chrono::seconds(10));
  EXPECT_NE(prompt.find("Access token (input hidden): "), std::string::npos) << prompt;
  const std::string typed = "pty-token-1234\n";
  ASSERT_EQ(::write(master, typed.data(), typed.size()), static_cast<ssize_t>(typed.size()));
  reader_thread.join();
  EXPECT_EQ(token, "pty-token-1234");
  // Whatever the terminal echoed after the prompt: the new line, not the token.
  const std::string echoed = read_screen_until(master, "\n", std::chrono::seconds(2));
  EXPECT_EQ(echoed.find("pty-token"), std::string::npos) << echoed;
  termios after{};
  ASSERT_EQ(::tcgetattr(slave, &after), 0);
  EXPECT_NE(after.c_lflag & ECHO, 0u) << "echo not restored";
  ::close(master);
  ::close(slave);
}

TEST(TokenReader, Trim) {
  EXPECT_EQ(trim(" \t a b \r\n"), "a b");
  EXPECT_EQ(trim("\n\n"), "");
  EXPECT_EQ(trim("x"), "x");
}

}  // namespace
}  // namespace outpost::config
