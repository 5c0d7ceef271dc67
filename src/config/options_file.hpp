#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/environment.hpp"

namespace outpost::config {

/// How deep `@FILE` arguments may nest inside options files.
inline constexpr int kMaxOptionsFileDepth = 8;

/// Splits the text of an options file into arguments: words separated by white
/// space and new lines; single or double quotes group words (`--token "a b"`),
/// a backslash escapes the next character outside single quotes; a line whose
/// first non-blank character is `#` is a comment. Returns nullopt and sets
/// `error` on an unterminated quote.
std::optional<std::vector<std::string>> split_options_text(std::string_view text,
                                                           std::string* error);

/// Replaces every argument "@FILE" by the arguments read from FILE, in place, so
/// that later arguments still win. Nested @FILE inside a file is expanded too,
/// up to kMaxOptionsFileDepth; a file that includes itself (directly or not) is
/// an error. Relative paths are relative to the working directory. Returns
/// nullopt and sets `error` (one line) when a file is missing, unreadable,
/// badly quoted, cyclic or nested too deep.
std::optional<std::vector<std::string>> expand_options_files(const std::vector<std::string>& args,
                                                             const Environment& env,
                                                             std::string* error);

}  // namespace outpost::config
