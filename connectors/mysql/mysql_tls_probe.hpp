#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <variant>

#include "outpost/errors.hpp"

namespace outpost::connectors::mysql {

/// Certificate verification against a host name while dialling a numeric
/// address (issue 14, class 4). Connector/C checks the certificate against
/// the host it dials, and would resolve a name itself (a second lookup the
/// egress policy never saw). So, before the real login, this probe dials the
/// permitted `address`, asks for TLS as a MySQL client does (SSLRequest),
/// and verifies the server's certificate chain against `ca_file` and its name
/// against `name` with OpenSSL. It returns the certificate's SHA-1
/// fingerprint (40 hex digits), which the real connection to the same
/// address then pins (MARIADB_OPT_TLS_PEER_FP, checked before any
/// credential is sent): a server that cannot present that very certificate —
/// and prove it holds its key — never sees the login.
///
/// Blocking; `timeout` bounds each step. The error is tls_error (the
/// certificate or handshake) or unreachable/timeout (the connection).
std::variant<std::string, JobError> probe_certificate(const std::string& address,
                                                      std::uint16_t port, const std::string& name,
                                                      const std::string& ca_file,
                                                      std::chrono::seconds timeout);

}  // namespace outpost::connectors::mysql
