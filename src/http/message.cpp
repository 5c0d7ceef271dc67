#include "http/message.hpp"

#include <libdeflate.h>
#include <zlib.h>

#include <array>
#include <cstdint>
#include <memory>
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

namespace {

// zlib's streaming inflate: any gzip or zlib stream, with a specific error
// for each way it can be wrong, and never more than max_bytes of output.
Inflated inflate_streaming(std::string_view data, std::size_t max_bytes) {
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

struct CompressorFree {
  void operator()(libdeflate_compressor* c) const noexcept { libdeflate_free_compressor(c); }
};

struct DecompressorFree {
  void operator()(libdeflate_decompressor* d) const noexcept { libdeflate_free_decompressor(d); }
};

// The common case in one call: a single gzip member whose trailer (ISIZE,
// the size modulo 2^32) fits the limit is inflated straight into a buffer of
// that size. Anything else (a zlib stream, several members, trailing bytes,
// a trailer that lies, corrupt data) returns nullopt and goes to zlib, whose
// verdict and messages stay the reference.
std::optional<std::string> inflate_whole(std::string_view data, std::size_t max_bytes) {
  constexpr std::size_t kMinGzip = 18;  // 10-byte header, empty block, 8-byte trailer
  if (data.size() < kMinGzip || static_cast<unsigned char>(data[0]) != 0x1f ||
      static_cast<unsigned char>(data[1]) != 0x8b) {
    return std::nullopt;
  }
  const auto* tail = reinterpret_cast<const unsigned char*>(data.data() + data.size() - 4);
  const std::size_t isize = std::size_t{tail[0]} | std::size_t{tail[1]} << 8 |
                            std::size_t{tail[2]} << 16 | std::size_t{tail[3]} << 24;
  if (isize > max_bytes) return std::nullopt;
  thread_local const std::unique_ptr<libdeflate_decompressor, DecompressorFree> decompressor(
      libdeflate_alloc_decompressor());
  if (!decompressor) return std::nullopt;
  std::string out(isize, '\0');
  std::size_t in_used = 0;
  std::size_t out_used = 0;
  const auto rc = libdeflate_gzip_decompress_ex(decompressor.get(), data.data(), data.size(),
                                                out.data(), out.size(), &in_used, &out_used);
  if (rc != LIBDEFLATE_SUCCESS || in_used != data.size() || out_used != isize) return std::nullopt;
  return out;
}

}  // namespace

Inflated gunzip(std::string_view data, std::size_t max_bytes) {
  if (auto whole = inflate_whole(data, max_bytes)) {
    Inflated out;
    out.data = std::move(*whole);
    return out;
  }
  return inflate_streaming(data, max_bytes);
}

std::string gzip(std::string_view data) {
  // Level 1: on NDJSON result parts it keeps most of the higher levels'
  // ratio at a fraction of the CPU, and the agent compresses every part it
  // sends. libdeflate compresses a whole buffer about three times faster
  // than zlib's level 1 and a little smaller (docs/benchmarks.md).
  thread_local const std::unique_ptr<libdeflate_compressor, CompressorFree> compressor(
      libdeflate_alloc_compressor(1));
  if (!compressor) throw std::runtime_error("libdeflate: out of memory for a compressor");
  // Compressed into an uninitialised buffer of the worst-case size (only
  // the pages written become resident), then copied to one of the exact
  // size: a part in flight holds its compressed size, not its bound.
  const std::size_t bound = libdeflate_gzip_compress_bound(compressor.get(), data.size());
  const std::unique_ptr<char[]> scratch(new char[bound]);
  const std::size_t size =
      libdeflate_gzip_compress(compressor.get(), data.data(), data.size(), scratch.get(), bound);
  if (size == 0) throw std::runtime_error("libdeflate: gzip output larger than its bound");
  return std::string(scratch.get(), size);
}

}  // namespace outpost::http
