#include "http/tls.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace outpost::http {
namespace {

// The most specific reason OpenSSL queued, then the queue is cleared so it
// cannot leak into an unrelated later error.
std::string last_openssl_error() {
  unsigned long code = 0;
  unsigned long last = 0;
  while ((code = ERR_get_error()) != 0) last = code;
  if (last == 0) return "unknown error";
  char text[256];
  ERR_error_string_n(last, text, sizeof text);
  return text;
}

// True for OpenSSL's subject-hash names: 8 hex digits, a dot, a digit.
bool is_hash_link_name(const std::string& name) {
  if (name.size() < 10 || name[8] != '.') return false;
  for (std::size_t i = 0; i < 8; ++i) {
    if (std::isxdigit(static_cast<unsigned char>(name[i])) == 0) return false;
  }
  return std::isdigit(static_cast<unsigned char>(name[9])) != 0;
}

// Trusts the system store through its hashed directory (/etc/ssl/certs on
// Debian), which OpenSSL reads lazily: only the issuers a handshake needs.
// Loading the bundle file instead parses every CA at start-up (about 50 ms
// and 2 MiB per client). False when there is no such directory, or when the
// operator named a bundle with SSL_CERT_FILE: then the default paths apply.
bool use_hashed_system_dir(SSL_CTX* context) {
  if (std::getenv(X509_get_default_cert_file_env()) != nullptr) return false;
  const char* env = std::getenv(X509_get_default_cert_dir_env());
  const std::string dir = env != nullptr ? env : X509_get_default_cert_dir();
  std::error_code ec;
  bool hashed = false;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (is_hash_link_name(it->path().filename().string())) {
      hashed = true;
      break;
    }
  }
  if (!hashed) return false;
  if (SSL_CTX_load_verify_dir(context, dir.c_str()) != 1) {
    ERR_clear_error();
    return false;
  }
  return true;
}

bool is_ip_literal(const std::string& host) {
  unsigned char buffer[16];
  return ::inet_pton(AF_INET, host.c_str(), buffer) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

}  // namespace

void configure_client_context(SSL_CTX* context, const TlsClientFiles& files) {
  SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
  SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nullptr);
  // A host without a system store (a distroless image) still works with ca_file.
  if (!use_hashed_system_dir(context) && SSL_CTX_set_default_verify_paths(context) != 1) {
    ERR_clear_error();
  }
  if (!files.ca_file.empty() &&
      SSL_CTX_load_verify_locations(context, files.ca_file.c_str(), nullptr) != 1) {
    throw std::runtime_error("cannot load CA file '" + files.ca_file +
                             "': " + last_openssl_error());
  }
  if (files.client_cert.empty() != files.client_key.empty()) {
    throw std::runtime_error("mutual TLS needs both a client certificate and its key");
  }
  if (files.client_cert.empty()) return;
  if (SSL_CTX_use_certificate_chain_file(context, files.client_cert.c_str()) != 1) {
    throw std::runtime_error("cannot load client certificate '" + files.client_cert +
                             "': " + last_openssl_error());
  }
  if (SSL_CTX_use_PrivateKey_file(context, files.client_key.c_str(), SSL_FILETYPE_PEM) != 1) {
    throw std::runtime_error("cannot load client key '" + files.client_key +
                             "': " + last_openssl_error());
  }
  if (SSL_CTX_check_private_key(context) != 1) {
    ERR_clear_error();
    throw std::runtime_error("client key '" + files.client_key + "' does not match certificate '" +
                             files.client_cert + "'");
  }
}

void configure_server_context(SSL_CTX* context, const TlsServerFiles& files) {
  SSL_CTX_set_options(context, SSL_OP_ALL | SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1 |
                                   SSL_OP_SINGLE_DH_USE);
  SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
  if (SSL_CTX_use_certificate_chain_file(context, files.cert.c_str()) != 1) {
    throw std::runtime_error("cannot load TLS certificate '" + files.cert +
                             "': " + last_openssl_error());
  }
  if (SSL_CTX_use_PrivateKey_file(context, files.key.c_str(), SSL_FILETYPE_PEM) != 1) {
    throw std::runtime_error("cannot load TLS key '" + files.key + "': " + last_openssl_error());
  }
  if (SSL_CTX_check_private_key(context) != 1) {
    ERR_clear_error();
    throw std::runtime_error("TLS key '" + files.key + "' does not match certificate '" +
                             files.cert + "'");
  }
  if (files.client_ca.empty()) return;
  if (SSL_CTX_load_verify_locations(context, files.client_ca.c_str(), nullptr) != 1) {
    throw std::runtime_error("cannot load TLS client CA '" + files.client_ca +
                             "': " + last_openssl_error());
  }
  SSL_CTX_set_verify(context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
}

void prepare_client_session(SSL* session, const std::string& host) {
  X509_VERIFY_PARAM* param = SSL_get0_param(session);
  if (is_ip_literal(host)) {
    X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
    return;
  }
  SSL_set_tlsext_host_name(session, host.c_str());
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
}

std::string describe_verify_failure(long verify_result, const std::string& host) {
  std::string text = "certificate verify failed: ";
  text += X509_verify_cert_error_string(verify_result);
  switch (verify_result) {
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
      text += " (the server's CA is not trusted; pass it with --ca-file)";
      break;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      text += " (the certificate is not valid for host name '" + host + "')";
      break;
    case X509_V_ERR_CERT_HAS_EXPIRED: text += " (the server's certificate has expired)"; break;
    case X509_V_ERR_CERT_NOT_YET_VALID:
      text += " (the certificate is not valid yet: check the clocks of this host and the server)";
      break;
    default: break;
  }
  return text;
}

}  // namespace outpost::http
