#include "http/message.hpp"

#include <zlib.h>

#include <array>
#include <stdexcept>

#include "common/text.hpp"

namespace outpost::http {
namespace {

std::optional<std::string_view> find_header(const std::vector<Header>& headers,
                                            std::string_view name) {
  for (const auto& h : headers) {
    if (iequals(h.name, name)) return std::string_view(h.value);
  }
  return std::nullopt;
}

// RFC 9110 tchar.
bool token_char(char c) noexcept {
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (const char c : s) {
    if (!token_char(c)) return false;
  }
  return true;
}

// Field values: visible characters, spaces, tabs and obs-text; no CR, LF, NUL
// or other control characters.
bool safe_value(std::string_view s) noexcept {
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t') || c == 0x7F) return false;
  }
  return true;
}

// A request target: no control characters, spaces or tabs either.
bool safe_target(std::string_view s) noexcept {
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7F) return false;
  }
  return true;
}

}  // namespace

std::optional<std::string> unsafe_request_field(const Request& request) {
  if (!is_token(request.method)) return std::string("the request method is not an HTTP token");
  if (!safe_target(request.target)) {
    return std::string("the request target holds a space or a control character");
  }
  for (const auto& h : request.headers) {
    if (!is_token(h.name)) return std::string("a header name is not an HTTP token");
    if (!safe_value(h.value)) {
      return "header " + h.name + " holds CR, LF, NUL or another control character";
    }
  }
  return std::nullopt;
}

std::optional<std::string_view> Request::header(std::string_view name) const {
  return find_header(headers, name);
}

std::optional<std::string_view> Response::header(std::string_view name) const {
  return find_header(headers, name);
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  return common::ascii_iequals(a, b);
}

Inflated gunzip(std::string_view data, std::size_t max_bytes) {
  Inflated out;
  z_stream zs{};
  // 15 + 32: accept both gzip and zlib headers.
  if (inflateInit2(&zs, 15 + 32) != Z_OK) {
    out.error = "zlib initialisation failed";
    return out;
  }
  std::string result;
  std::array<char, 16384> chunk{};
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(chunk.data());
    zs.avail_out = static_cast<uInt>(chunk.size());
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      out.error = (rc == Z_BUF_ERROR)
                      ? "truncated gzip data"
                      : std::string("invalid gzip data: ") + (zs.msg ? zs.msg : "corrupt stream");
      inflateEnd(&zs);
      return out;
    }
    const std::size_t produced = chunk.size() - zs.avail_out;
    if (result.size() + produced > max_bytes) {
      out.too_large = true;
      out.error = "inflated body exceeds " + std::to_string(max_bytes) + " bytes";
      inflateEnd(&zs);
      return out;
    }
    result.append(chunk.data(), produced);
    if (rc == Z_OK && zs.avail_in == 0 && produced == 0) {
      out.error = "truncated gzip data";
      inflateEnd(&zs);
      return out;
    }
  }
  inflateEnd(&zs);
  out.data = std::move(result);
  return out;
}

std::string gzip(std::string_view data) {
  z_stream zs{};
  // 15 + 16: gzip wrapper rather than zlib.
  // Level 1: on NDJSON result parts it keeps most of level 6's ratio at about
  // a quarter of the CPU, and the agent compresses every part it sends.
  if (deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("zlib deflateInit2 failed");
  }
  std::string out;
  out.resize(deflateBound(&zs, static_cast<uLong>(data.size())) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) throw std::runtime_error("zlib deflate failed");
  out.resize(zs.total_out);
  return out;
}

}  // namespace outpost::http
