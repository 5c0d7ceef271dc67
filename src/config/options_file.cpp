#include "config/options_file.hpp"

#include <algorithm>

namespace outpost::config {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

class Expander {
 public:
  Expander(const Environment& env, std::string* error) : env_(env), error_(error) {}

  bool expand(const std::vector<std::string>& args, std::vector<std::string>& out, int depth) {
    for (const auto& arg : args) {
      if (arg.size() < 2 || arg.front() != '@') {
        out.push_back(arg);
        continue;
      }
      if (!expand_file(arg.substr(1), out, depth)) return false;
    }
    return true;
  }

 private:
  bool expand_file(const std::string& path, std::vector<std::string>& out, int depth) {
    if (depth >= kMaxOptionsFileDepth) {
      return fail("options file '" + path + "' is nested more than " +
                  std::to_string(kMaxOptionsFileDepth) + " levels deep; flatten the @FILE chain");
    }
    const std::string identity = env_.identity(path);
    if (std::find(stack_.begin(), stack_.end(), identity) != stack_.end()) {
      std::string chain;
      for (const auto& entry : stack_) chain += entry + " -> ";
      return fail("options file cycle: " + chain + identity + "; remove the @" + path +
                  " that includes itself");
    }
    const FileRead read = env_.read_file(path);
    if (!read.content) {
      return fail("cannot read options file '" + path + "': " + read.error +
                  " (relative paths are relative to the working directory)");
    }
    std::string split_error;
    auto words = split_options_text(*read.content, &split_error);
    if (!words) return fail("options file '" + path + "': " + split_error);
    stack_.push_back(identity);
    const bool ok = expand(*words, out, depth + 1);
    stack_.pop_back();
    return ok;
  }

  bool fail(std::string message) {
    if (error_ != nullptr) *error_ = std::move(message);
    return false;
  }

  const Environment& env_;
  std::string* error_;
  std::vector<std::string> stack_;
};

}  // namespace

std::optional<std::vector<std::string>> split_options_text(std::string_view text,
                                                           std::string* error) {
  std::vector<std::string> words;
  std::string current;
  bool in_word = false;
  bool at_line_start = true;  // only blanks seen since the last new line
  std::size_t line = 1;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 byte order mark
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (at_line_start && c == '#') {
      while (i < text.size() && text[i] != '\n') ++i;
      ++line;
      continue;
    }
    if (is_space(c)) {
      if (in_word) words.push_back(std::move(current));
      current.clear();
      in_word = false;
      if (c == '\n') {
        at_line_start = true;
        ++line;
      }
      continue;
    }
    at_line_start = false;
    in_word = true;
    if (c == '\'' || c == '"') {
      const std::size_t open_line = line;
      std::size_t j = i + 1;
      for (; j < text.size() && text[j] != c; ++j) {
        // Inside double quotes a backslash escapes a quote or a backslash.
        if (c == '"' && text[j] == '\\' && j + 1 < text.size() &&
            (text[j + 1] == '"' || text[j + 1] == '\\')) {
          ++j;
        }
        if (text[j] == '\n') ++line;
        current.push_back(text[j]);
      }
      if (j >= text.size()) {
        if (error != nullptr) {
          *error = std::string("unterminated ") + (c == '"' ? "double" : "single") +
                   " quote on line " + std::to_string(open_line) + "; close it with " + c;
        }
        return std::nullopt;
      }
      i = j;
      continue;
    }
    if (c == '\\' && i + 1 < text.size()) {
      current.push_back(text[++i]);
      continue;
    }
    current.push_back(c);
  }
  if (in_word) words.push_back(std::move(current));
  return words;
}

std::optional<std::vector<std::string>> expand_options_files(const std::vector<std::string>& args,
                                                             const Environment& env,
                                                             std::string* error) {
  std::vector<std::string> out;
  Expander expander(env, error);
  if (!expander.expand(args, out, 0)) return std::nullopt;
  return out;
}

}  // namespace outpost::config
