#include "util.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <ctime>
#include <stdexcept>
#include <vector>

namespace outpost::hub {

std::string rfc3339(SystemTime t) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  auto secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

namespace {

// Reads exactly `n` digits at `pos` (advancing it); -1 when they are not there.
int digits(std::string_view text, std::size_t& pos, std::size_t n) {
  if (pos + n > text.size()) return -1;
  int v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = text[pos + i];
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  pos += n;
  return v;
}

bool expect(std::string_view text, std::size_t& pos, std::string_view chars) {
  if (pos >= text.size() || chars.find(text[pos]) == std::string_view::npos) return false;
  ++pos;
  return true;
}

}  // namespace

std::optional<SystemTime> parse_rfc3339(std::string_view text) {
  std::size_t pos = 0;
  std::tm tm{};
  const int year = digits(text, pos, 4);
  const bool date_ok = year >= 1970 && expect(text, pos, "-") &&
                       (tm.tm_mon = digits(text, pos, 2) - 1) >= 0 && tm.tm_mon < 12 &&
                       expect(text, pos, "-") && (tm.tm_mday = digits(text, pos, 2)) >= 1 &&
                       tm.tm_mday <= 31 && expect(text, pos, "Tt ");
  const bool time_ok = date_ok && (tm.tm_hour = digits(text, pos, 2)) >= 0 && tm.tm_hour < 24 &&
                       expect(text, pos, ":") && (tm.tm_min = digits(text, pos, 2)) >= 0 &&
                       tm.tm_min < 60 && expect(text, pos, ":") &&
                       (tm.tm_sec = digits(text, pos, 2)) >= 0 && tm.tm_sec <= 60;
  if (!time_ok) return std::nullopt;
  tm.tm_year = year - 1900;
  long long ms = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int scale = 100;
    const std::size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      ms += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  long long offset_s = 0;
  if (expect(text, pos, "Zz")) {
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    const int sign = text[pos++] == '-' ? -1 : 1;
    const int h = digits(text, pos, 2);
    if (h < 0 || h > 23 || !expect(text, pos, ":")) return std::nullopt;
    const int m = digits(text, pos, 2);
    if (m < 0 || m > 59) return std::nullopt;
    offset_s = sign * (h * 3600LL + m * 60LL);
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  const std::time_t secs = timegm(&tm);
  if (secs == static_cast<std::time_t>(-1)) return std::nullopt;
  return SystemTime(std::chrono::milliseconds((secs - offset_s) * 1000LL + ms));
}

std::string random_hex(std::size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) {
    throw std::runtime_error("the OpenSSL random generator failed");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes * 2);
  for (unsigned char c : raw) {
    out += kHex[c >> 4];
    out += kHex[c & 0xF];
  }
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::optional<std::string_view> bearer_token(const http::Request& request) {
  auto h = request.header("Authorization");
  if (!h) return std::nullopt;
  std::string_view v = *h;
  constexpr std::string_view kScheme = "Bearer ";
  if (v.size() <= kScheme.size() || !http::iequals(v.substr(0, kScheme.size()), kScheme)) {
    return std::nullopt;
  }
  v.remove_prefix(kScheme.size());
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  if (v.empty()) return std::nullopt;
  return v;
}

std::optional<std::string> query_param(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) == key) {
      const auto raw = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
      std::string out;
      out.reserve(raw.size());
      for (std::size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] == '+') {
          out.push_back(' ');
        } else if (raw[i] != '%') {
          out.push_back(raw[i]);
        } else {
          auto hex = [](char c) {
            return c >= '0' && c <= '9'   ? c - '0'
                   : c >= 'a' && c <= 'f' ? c - 'a' + 10
                   : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                          : -1;
          };
          const int hi = i + 2 < raw.size() ? hex(raw[i + 1]) : -1;
          const int lo = i + 2 < raw.size() ? hex(raw[i + 2]) : -1;
          if (hi < 0 || lo < 0) {
            throw BadRequest{"invalid_query", "bad percent escape in the query string"};
          }
          out.push_back(static_cast<char>(hi * 16 + lo));
          i += 2;
        }
      }
      return out;
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

http::Response error_response(int status, std::string_view code, std::string_view message) {
  return json_reply(status, Json{{"error", {{"code", code}, {"message", message}}}});
}

http::Response json_reply(int status, const Json& body) {
  http::Response r;
  r.status = status;
  r.headers.push_back({"Content-Type", "application/json"});
  // Replace invalid UTF-8 coming from agents instead of throwing mid-response.
  r.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  return r;
}

Json parse_object(std::string_view body) {
  Json j = Json::parse(body, nullptr, false);
  if (j.is_discarded()) throw BadRequest{"invalid_json", "the request body is not valid JSON"};
  if (!j.is_object()) throw BadRequest{"invalid_json", "the request body must be a JSON object"};
  return j;
}

namespace {
[[noreturn]] void wrong_type(const char* key, const char* expected) {
  throw BadRequest{"invalid_field", std::string("field '") + key + "' must be " + expected};
}
}  // namespace

std::optional<std::string> opt_string(const Json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) wrong_type(key, "a string");
  return it->get<std::string>();
}

std::string req_string(const Json& obj, const char* key) {
  auto v = opt_string(obj, key);
  if (!v || v->empty()) {
    throw BadRequest{"missing_field",
                     std::string("field '") + key + "' (a non-empty string) is required"};
  }
  return *v;
}

std::optional<std::int64_t> opt_int(const Json& obj, const char* key, std::int64_t min,
                                    std::int64_t max) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer()) wrong_type(key, "an integer");
  const auto v = it->get<std::int64_t>();
  if (v < min || v > max) {
    throw BadRequest{"invalid_field", std::string("field '") + key + "' must be between " +
                                          std::to_string(min) + " and " + std::to_string(max)};
  }
  return v;
}

std::optional<Json> opt_object(const Json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!it->is_object()) wrong_type(key, "an object");
  return *it;
}

}  // namespace outpost::hub
