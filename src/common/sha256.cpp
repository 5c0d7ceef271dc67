#include "common/sha256.hpp"

#include <openssl/evp.h>

#include <stdexcept>

namespace outpost::common {

std::string sha256_digest(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 failed");
  }
  return {reinterpret_cast<const char*>(digest), length};
}

std::string sha256_hex(std::string_view data) {
  static constexpr char kHex[] = "0123456789abcdef";
  const std::string digest = sha256_digest(data);
  std::string out;
  out.reserve(digest.size() * 2);
  for (const char c : digest) {
    const auto byte = static_cast<unsigned char>(c);
    out += kHex[byte >> 4];
    out += kHex[byte & 0x0f];
  }
  return out;
}

}  // namespace outpost::common
