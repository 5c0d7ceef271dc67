#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/command_line.hpp"

namespace outpost::config::testing {

/// A TokenReader that hands out a fixed token (or fails) and counts calls.
class FakeTokenReader final : public TokenReader {
 public:
  std::optional<std::string> token;
  int calls = 0;
  std::optional<std::string> read_token(std::string* error) override {
    ++calls;
    if (!token && error != nullptr) *error = "no token on standard input";
    return token;
  }
};

inline const std::vector<std::string> kBase{"--url", "https://cp.example.com/api", "--token",
                                            "example-token-1234"};

inline std::vector<std::string> with_base(std::vector<std::string> extra) {
  std::vector<std::string> args = kBase;
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

inline ParseResult parse(const std::vector<std::string>& args, const MapEnvironment& env = {}) {
  FakeTokenReader reader;
  return parse_command_line(args, env, reader);
}

}  // namespace outpost::config::testing
