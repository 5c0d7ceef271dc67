// The bare --token flag reading from standard input when it is a pipe.
#include "config/token_reader.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

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

TEST(TokenReader, Trim) {
  EXPECT_EQ(trim(" \t a b \r\n"), "a b");
  EXPECT_EQ(trim("\n\n"), "");
  EXPECT_EQ(trim("x"), "x");
}

}  // namespace
}  // namespace outpost::config
