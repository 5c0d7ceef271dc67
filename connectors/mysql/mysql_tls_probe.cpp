#include "mysql/mysql_tls_probe.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>

namespace outpost::connectors::mysql {
namespace {

constexpr std::uint32_t kClientLongPassword = 0x1;
constexpr std::uint32_t kClientProtocol41 = 0x200;
constexpr std::uint32_t kClientSsl = 0x800;
constexpr std::uint32_t kClientSecureConnection = 0x8000;
constexpr std::size_t kMaxGreeting = 4096;

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

JobError tls_error(const std::string& what) {
  return JobError{ErrorCode::kTlsError, what, false};
}

// Connects within `timeout`; nullopt on success.
std::optional<JobError> connect_socket(Fd& sock, const std::string& address, std::uint16_t port,
                                       std::chrono::seconds timeout) {
  sockaddr_storage storage{};
  socklen_t length = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
  if (inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    length = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    length = sizeof(sockaddr_in6);
  } else {
    return JobError{ErrorCode::kInternal, "not a numeric address: " + address, false};
  }
  sock.fd = ::socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (sock.fd < 0) return JobError{ErrorCode::kInternal, "socket() failed", true};
  const int ms = static_cast<int>(timeout.count() * 1000);
  if (::connect(sock.fd, reinterpret_cast<sockaddr*>(&storage), length) != 0) {
    if (errno != EINPROGRESS) {
      return JobError{ErrorCode::kUnreachable,
                      "connecting to " + address + " failed: " + std::strerror(errno), true};
    }
    pollfd p{sock.fd, POLLOUT, 0};
    if (::poll(&p, 1, ms) != 1) {
      return JobError{ErrorCode::kTimeout, "connecting to " + address + " timed out", true};
    }
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(sock.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      return JobError{ErrorCode::kUnreachable,
                      "connecting to " + address + " failed: " + std::strerror(err), true};
    }
  }
  // Blocking from here on, each read and write bounded by the timeout.
  ::fcntl(sock.fd, F_SETFL, ::fcntl(sock.fd, F_GETFL) & ~O_NONBLOCK);
  timeval tv{static_cast<time_t>(timeout.count()), 0};
  ::setsockopt(sock.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(sock.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return std::nullopt;
}

bool read_exact(int fd, unsigned char* out, std::size_t n) {
  std::size_t got = 0;
  while (got < n) {
    const auto r = ::recv(fd, out + got, n - got, 0);
    if (r <= 0) return false;
    got += static_cast<std::size_t>(r);
  }
  return true;
}

// Reads the server greeting and checks that it offers TLS.
std::optional<JobError> read_greeting(int fd, const std::string& address) {
  std::array<unsigned char, 4> header{};
  if (!read_exact(fd, header.data(), header.size())) {
    return JobError{ErrorCode::kUnreachable, "no greeting from the server at " + address, true};
  }
  const std::size_t length = header[0] | (header[1] << 8) | (header[2] << 16);
  if (length < 2 || length > kMaxGreeting) {
    return tls_error("unexpected greeting from the server at " + address);
  }
  std::string payload(length, '\0');
  if (!read_exact(fd, reinterpret_cast<unsigned char*>(payload.data()), length)) {
    return JobError{ErrorCode::kUnreachable, "no greeting from the server at " + address, true};
  }
  if (static_cast<unsigned char>(payload[0]) == 0xFF) {
    return JobError{ErrorCode::kUnreachable, "the server at " + address + " refused the connection",
                    true};
  }
  // protocol(1) version\0 id(4) scramble(8) filler(1) capabilities(2)
  const auto version_end = payload.find('\0', 1);
  const std::size_t caps_at = version_end + 1 + 4 + 8 + 1;
  if (version_end == std::string::npos || caps_at + 2 > payload.size()) {
    return tls_error("unexpected greeting from the server at " + address);
  }
  const unsigned caps =
      static_cast<unsigned char>(payload[caps_at]) |
      (static_cast<unsigned>(static_cast<unsigned char>(payload[caps_at + 1])) << 8);
  if ((caps & kClientSsl) == 0) {
    return tls_error("ssl_mode requires TLS but the server at " + address + " does not offer it");
  }
  return std::nullopt;
}

bool send_ssl_request(int fd) {
  std::array<unsigned char, 36> packet{};
  packet[0] = 32;  // payload length, sequence 1
  packet[3] = 1;
  const std::uint32_t caps =
      kClientLongPassword | kClientProtocol41 | kClientSsl | kClientSecureConnection;
  for (int i = 0; i < 4; ++i) packet[4 + i] = static_cast<unsigned char>(caps >> (8 * i));
  packet[10] = 0x00;  // max packet 16 MiB (0x01000000)
  packet[11] = 0x01;
  packet[12] = 45;  // utf8mb4_general_ci
  return ::send(fd, packet.data(), packet.size(), MSG_NOSIGNAL) ==
         static_cast<ssize_t>(packet.size());
}

std::string openssl_error() {
  const unsigned long code = ERR_get_error();
  if (code == 0) return "handshake failed";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

}  // namespace

std::variant<std::string, JobError> probe_certificate(const std::string& address,
                                                      std::uint16_t port, const std::string& name,
                                                      const std::string& ca_file,
                                                      std::chrono::seconds timeout) {
  Fd sock;
  if (auto error = connect_socket(sock, address, port, timeout)) return *error;
  if (auto error = read_greeting(sock.fd, address)) return *error;
  if (!send_ssl_request(sock.fd)) {
    return JobError{ErrorCode::kUnreachable, "the server at " + address + " closed the link", true};
  }

  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()),
                                                        SSL_CTX_free);
  if (!ctx || SSL_CTX_load_verify_locations(ctx.get(), ca_file.c_str(), nullptr) != 1) {
    return tls_error("cannot load ssl_ca " + ca_file + ": " + openssl_error());
  }
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), SSL_free);
  if (!ssl) return tls_error("SSL_new failed");
  in6_addr scratch{};
  const bool numeric = inet_pton(AF_INET, name.c_str(), &scratch) == 1 ||
                       inet_pton(AF_INET6, name.c_str(), &scratch) == 1;
  if (numeric) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl.get()), name.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl.get(), name.c_str());
    SSL_set1_host(ssl.get(), name.c_str());
  }
  SSL_set_fd(ssl.get(), sock.fd);
  ERR_clear_error();
  if (SSL_connect(ssl.get()) != 1) {
    const long verify = SSL_get_verify_result(ssl.get());
    return tls_error(
        "TLS to " + name + " at " + address + " failed: " +
        (verify != X509_V_OK ? X509_verify_cert_error_string(verify) : openssl_error()));
  }
  X509* cert = SSL_get_peer_certificate(ssl.get());
  if (cert == nullptr) return tls_error("the server at " + address + " sent no certificate");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  const int ok = X509_digest(cert, EVP_sha1(), digest, &size);
  X509_free(cert);
  if (ok != 1 || size != 20) return tls_error("cannot fingerprint the server certificate");
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string hex;
  for (unsigned i = 0; i < size; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xF]);
  }
  return hex;
}

}  // namespace outpost::connectors::mysql
