#pragma once

#include <cstddef>
#include <string_view>

namespace outpost::hub {

/// Deepest nesting of arrays and objects is_json() accepts.
constexpr std::size_t kMaxJsonDepth = 512;

/// True when `text` is exactly one JSON value (RFC 8259), optionally
/// surrounded by whitespace, in valid UTF-8 (no overlong forms, surrogates or
/// code points above U+10FFFF; `\u` escapes must pair surrogates), nested at
/// most kMaxJsonDepth deep.
///
/// It accepts what nlohmann::json::accept accepts (tests/fuzz/json_check
/// checks the two against each other) but builds nothing: the hub validates
/// every line of every result part with it, and the DOM-free lexer of
/// nlohmann::json still cost most of the hub's CPU while a result streamed.
[[nodiscard]] bool is_json(std::string_view text) noexcept;

}  // namespace outpost::hub
