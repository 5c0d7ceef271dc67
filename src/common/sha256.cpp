#include "common/sha256.hpp"

#include <openssl/evp.h>

#include <stdexcept>

namespace outpost::common {

namespace {

// OpenSSL 3 looks EVP_sha256() up in its provider tables on every digest
// (an EVP_MD_fetch: locks and a hash lookup, 1.8 % of the hub's CPU per
// job, where every request hashes its bearer token); fetched once here, the
// method is reused by every thread. It lives until exit.
const EVP_MD* sha256_method() {
  static const EVP_MD* const method = [] {
    const EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return fetched != nullptr ? fetched : EVP_sha256();
  }();
  return method;
}

}  // namespace

std::string sha256_digest(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &length, sha256_method(), nullptr) != 1) {
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
