#include "outpost/row_writer.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace outpost {
namespace {

constexpr std::int64_t kMaxSafeInteger = (std::int64_t{1} << 53) - 1;
constexpr char kHex[] = "0123456789abcdef";
constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Length of the valid UTF-8 sequence starting at s[i], or 0 if invalid.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  std::size_t len = 0;
  unsigned min = 0;
  unsigned cp = 0;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2, cp = c & 0x1Fu, min = 0x80;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3, cp = c & 0x0Fu, min = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4, cp = c & 0x07u, min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0u) != 0x80u) return 0;
    cp = (cp << 6) | (cc & 0x3Fu);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

template <typename T>
void append_number(std::string& out, T value) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  (void)ec;
  out.append(buf, end);
}

}  // namespace

void RowWriter::append_json_string(std::string& out, std::string_view text) {
  out.push_back('"');
  std::size_t run_start = 0;
  std::size_t i = 0;
  auto flush = [&] { out.append(text.data() + run_start, i - run_start); };
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      const std::size_t len = utf8_sequence_length(text, i);
      if (len > 0) {
        i += len;
        continue;
      }
      flush();
      out.append("\xEF\xBF\xBD");  // U+FFFD for an invalid byte
      run_start = ++i;
      continue;
    }
    flush();
    switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      case '\b': out.append("\\b"); break;
      case '\f': out.append("\\f"); break;
      default:
        out.append("\\u00");
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xF]);
    }
    run_start = ++i;
  }
  flush();
  out.push_back('"');
}

void RowWriter::append_base64(std::string& out, std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  std::size_t n = bytes.size();
  out.reserve(out.size() + (n + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const unsigned v = (unsigned{p[i]} << 16) | (unsigned{p[i + 1]} << 8) | p[i + 2];
    out.push_back(kBase64[(v >> 18) & 63]);
    out.push_back(kBase64[(v >> 12) & 63]);
    out.push_back(kBase64[(v >> 6) & 63]);
    out.push_back(kBase64[v & 63]);
  }
  if (i < n) {
    unsigned v = unsigned{p[i]} << 16;
    if (i + 1 < n) v |= unsigned{p[i + 1]} << 8;
    out.push_back(kBase64[(v >> 18) & 63]);
    out.push_back(kBase64[(v >> 12) & 63]);
    out.push_back(i + 1 < n ? kBase64[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
}

void RowWriter::null_value() {
  separator();
  out_->append("null");
}

void RowWriter::boolean(bool value) {
  separator();
  out_->append(value ? "true" : "false");
}

void RowWriter::integer(std::int64_t value) {
  separator();
  if (value > kMaxSafeInteger || value < -kMaxSafeInteger) {
    out_->push_back('"');
    append_number(*out_, value);
    out_->push_back('"');
  } else {
    append_number(*out_, value);
  }
}

void RowWriter::unsigned_integer(std::uint64_t value) {
  separator();
  if (value > static_cast<std::uint64_t>(kMaxSafeInteger)) {
    out_->push_back('"');
    append_number(*out_, value);
    out_->push_back('"');
  } else {
    append_number(*out_, value);
  }
}

void RowWriter::number(double value) {
  separator();
  if (std::isnan(value)) {
    out_->append("\"NaN\"");
  } else if (std::isinf(value)) {
    out_->append(value > 0 ? "\"Infinity\"" : "\"-Infinity\"");
  } else {
    append_number(*out_, value);  // shortest round-trip form
  }
}

bool RowWriter::admit(std::size_t bytes) {
  if (!over_limit_ && fits(bytes)) return true;
  over_limit_ = true;
  out_->append("null");
  return false;
}

void RowWriter::string(std::string_view text) {
  separator();
  if (!admit(text.size() + 2)) return;
  append_json_string(*out_, text);
}

void RowWriter::binary(std::string_view bytes) {
  separator();
  if (!admit((bytes.size() + 2) / 3 * 4 + 2)) return;
  out_->push_back('"');
  append_base64(*out_, bytes);
  out_->push_back('"');
}

void RowWriter::raw_json(std::string_view json) {
  separator();
  if (!admit(json.size())) return;
  out_->append(json);
}

}  // namespace outpost
