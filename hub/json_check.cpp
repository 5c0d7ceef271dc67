#include "json_check.hpp"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace outpost::hub {
namespace {

// A cursor over the text; every function returns false on the first error.
class Checker {
 public:
  explicit Checker(std::string_view text) : p_(text.data()), end_(text.data() + text.size()) {}

  bool document() {
    skip_space();
    if (!value()) return false;
    skip_space();
    return p_ == end_;
  }

 private:
  // Arrays and objects are checked with an explicit stack (one byte per
  // level: ']' or '}'), so hostile nesting cannot exhaust the call stack.
  bool value() {
    char stack[kMaxJsonDepth];
    std::size_t depth = 0;
    for (;;) {
      // A value is expected here.
      if (p_ == end_) return false;
      const char c = *p_;
      if (c == '[' || c == '{') {
        if (depth == kMaxJsonDepth) return false;
        ++p_;
        skip_space();
        stack[depth++] = c == '[' ? ']' : '}';
        if (p_ != end_ && *p_ == stack[depth - 1]) {  // empty container
          ++p_;
          --depth;
        } else {
          if (c == '{' && !member_name()) return false;
          continue;
        }
      } else if (c == '"') {
        if (!string()) return false;
      } else if (c == 't') {
        if (!literal("true")) return false;
      } else if (c == 'f') {
        if (!literal("false")) return false;
      } else if (c == 'n') {
        if (!literal("null")) return false;
      } else if (!number()) {
        return false;
      }
      // After a value: a separator, or the ends of enclosing containers.
      for (;;) {
        if (depth == 0) return true;
        skip_space();
        if (p_ == end_) return false;
        if (*p_ == ',') {
          ++p_;
          skip_space();
          if (stack[depth - 1] == '}' && !member_name()) return false;
          break;  // the next value
        }
        if (*p_ != stack[depth - 1]) return false;
        ++p_;
        --depth;
      }
    }
  }

  // `"name"` and the colon, leaving the cursor on the member's value.
  bool member_name() {
    if (p_ == end_ || *p_ != '"' || !string()) return false;
    skip_space();
    if (p_ == end_ || *p_ != ':') return false;
    ++p_;
    skip_space();
    return true;
  }

  void skip_space() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }

  bool literal(std::string_view word) {
    if (static_cast<std::size_t>(end_ - p_) < word.size()) return false;
    if (std::string_view(p_, word.size()) != word) return false;
    p_ += word.size();
    return true;
  }

  static bool digit(char c) { return c >= '0' && c <= '9'; }

  bool digits() {
    if (p_ == end_ || !digit(*p_)) return false;
    while (p_ != end_ && digit(*p_)) ++p_;
    return true;
  }

  bool number() {
    const char* start = p_;
    if (p_ != end_ && *p_ == '-') ++p_;
    if (p_ == end_) return false;
    if (*p_ == '0') {
      ++p_;
    } else if (!digits()) {
      return false;
    }
    bool floating = false;
    if (p_ != end_ && *p_ == '.') {
      ++p_;
      if (!digits()) return false;
      floating = true;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (!digits()) return false;
      floating = true;
    }
    // What does not fit a 64-bit integer is read as a double, and one that
    // overflows to infinity is refused (as nlohmann::json does: its readers
    // could not hold it). Short integers, the common case, skip strtod.
    if (!floating && p_ - start <= 18) return true;
    const std::string token(start, p_);
    return std::isfinite(std::strtod(token.c_str(), nullptr));
  }

  int hex4() {
    if (end_ - p_ < 4) return -1;
    int v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = *p_++;
      v <<= 4;
      if (c >= '0' && c <= '9') {
        v |= c - '0';
      } else if (c >= 'a' && c <= 'f') {
        v |= c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        v |= c - 'A' + 10;
      } else {
        return -1;
      }
    }
    return v;
  }

  // After the backslash of \u: four hex digits, and a low surrogate's
  // escape right after a high one.
  bool unicode_escape() {
    const int first = hex4();
    if (first < 0) return false;
    if (first >= 0xDC00 && first <= 0xDFFF) return false;  // a lone low surrogate
    if (first < 0xD800 || first > 0xDBFF) return true;
    if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
    p_ += 2;
    const int second = hex4();
    return second >= 0xDC00 && second <= 0xDFFF;
  }

  // One UTF-8 sequence starting with a byte >= 0x80 (RFC 3629, table 3-7 of
  // the Unicode standard).
  bool utf8() {
    const auto b0 = static_cast<std::uint8_t>(*p_);
    std::uint8_t lo = 0x80;
    std::uint8_t hi = 0xBF;
    int continuation = 0;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      continuation = 1;
    } else if (b0 == 0xE0) {
      continuation = 2, lo = 0xA0;
    } else if ((b0 >= 0xE1 && b0 <= 0xEC) || b0 == 0xEE || b0 == 0xEF) {
      continuation = 2;
    } else if (b0 == 0xED) {
      continuation = 2, hi = 0x9F;  // no UTF-16 surrogates
    } else if (b0 == 0xF0) {
      continuation = 3, lo = 0x90;
    } else if (b0 >= 0xF1 && b0 <= 0xF3) {
      continuation = 3;
    } else if (b0 == 0xF4) {
      continuation = 3, hi = 0x8F;  // nothing above U+10FFFF
    } else {
      return false;
    }
    ++p_;
    for (int i = 0; i < continuation; ++i) {
      if (p_ == end_) return false;
      const auto b = static_cast<std::uint8_t>(*p_);
      if (b < lo || b > hi) return false;
      lo = 0x80, hi = 0xBF;  // only the second byte has narrower bounds
      ++p_;
    }
    return true;
  }

  bool string() {
    ++p_;  // the opening quote
    while (p_ != end_) {
      const auto c = static_cast<std::uint8_t>(*p_);
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c < 0x20) return false;
      if (c == '\\') {
        ++p_;
        if (p_ == end_) return false;
        const char e = *p_++;
        if (e == 'u') {
          if (!unicode_escape()) return false;
        } else if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' &&
                   e != 'r' && e != 't') {
          return false;
        }
      } else if (c >= 0x80) {
        if (!utf8()) return false;
      } else {
        ++p_;
      }
    }
    return false;
  }

  const char* p_;
  const char* end_;
};

}  // namespace

bool is_json(std::string_view text) noexcept {
  return Checker(text).document();
}

}  // namespace outpost::hub
