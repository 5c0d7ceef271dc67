#pragma once

#include <openssl/types.h>

#include <string>

namespace outpost::http {

/// TLS settings applied to an OpenSSL context (no Asio or Beast here: the
/// client and server files own the streams, this file owns the policy).
struct TlsClientFiles {
  std::string ca_file;      ///< extra CA bundle, added to the system store
  std::string client_cert;  ///< PEM chain for mutual TLS
  std::string client_key;   ///< PEM key matching client_cert
};

/// Makes `context` a verifying TLS 1.2+ client context: peer verification on,
/// the system trust store plus `files.ca_file`, and the client certificate
/// when one is given. Throws std::runtime_error naming the file that could
/// not be loaded (or a certificate/key mismatch).
void configure_client_context(SSL_CTX* context, const TlsClientFiles& files);

/// Prepares one connection to `host`: SNI (names only; RFC 6066 forbids IP
/// literals there) and host-name or IP-address verification of the server's
/// certificate, checked by OpenSSL during the handshake.
void prepare_client_session(SSL* session, const std::string& host);

/// Server-side TLS files (http::ServerOptions).
struct TlsServerFiles {
  std::string cert;       ///< PEM chain
  std::string key;        ///< PEM key matching cert
  std::string client_ca;  ///< when set, clients must present a certificate it signed
};

/// Makes `context` a TLS 1.2+ server context with `files` loaded, requiring
/// a client certificate when `files.client_ca` is set. Throws
/// std::runtime_error naming the file that could not be loaded (or a
/// certificate/key mismatch).
void configure_server_context(SSL_CTX* context, const TlsServerFiles& files);

/// A readable reason for a failed certificate check (an X509_V_ERR_* value),
/// with the usual fix: "certificate verify failed: self-signed certificate
/// (the server's CA is not trusted; pass it with --ca-file)".
[[nodiscard]] std::string describe_verify_failure(long verify_result, const std::string& host);

}  // namespace outpost::http
