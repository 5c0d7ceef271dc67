#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace outpost::test {

/// A response as the test client read it.
struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  /// First header with this name (case-insensitive).
  [[nodiscard]] std::optional<std::string> header(std::string_view name) const;
};

/// TLS settings of the test client (OpenSSL directly on the socket).
struct TlsClientOptions {
  std::string ca_file;    ///< trust anchor for the server certificate (verification is on)
  std::string cert_file;  ///< client certificate for mutual TLS (optional)
  std::string key_file;
  std::string server_name = "localhost";  ///< SNI and the name checked in the certificate
};

/// A small blocking HTTP/1.1 client for tests: plain POSIX sockets (and
/// OpenSSL for https), one keep-alive connection reopened when the server
/// closed it, a deadline on every request. No Beast, no Asio, so any test
/// can talk to any server with it. Not thread safe: one client per thread.
class HttpTestClient {
 public:
  HttpTestClient(std::string host, std::uint16_t port,
                 std::optional<TlsClientOptions> tls = std::nullopt);
  ~HttpTestClient();
  HttpTestClient(const HttpTestClient&) = delete;
  HttpTestClient& operator=(const HttpTestClient&) = delete;

  /// Header sent with every request (e.g. Authorization); replaces one of the same name.
  void set_header(std::string name, std::string value);

  /// Sends a request and reads the whole response. Throws std::runtime_error
  /// on connection failure, TLS failure, malformed response or timeout.
  HttpResponse request(const std::string& method, const std::string& target,
                       const std::string& body = {},
                       const std::vector<std::pair<std::string, std::string>>& headers = {},
                       std::chrono::milliseconds timeout = std::chrono::seconds(30));

  HttpResponse get(const std::string& target) { return request("GET", target); }
  HttpResponse post(const std::string& target, const std::string& body) {
    return request("POST", target, body, {{"Content-Type", "application/json"}});
  }

  /// Closes the connection (the next request opens a new one).
  void close();

  /// Opens a fresh plain connection, sends `bytes`, and returns everything
  /// the server sent until it closed the connection or `timeout` passed.
  /// `closed` (optional) tells which of the two happened.
  static std::string raw_exchange(const std::string& host, std::uint16_t port,
                                  const std::string& bytes, std::chrono::milliseconds timeout,
                                  bool* closed = nullptr);

 private:
  struct Conn;
  void connect(std::chrono::steady_clock::time_point deadline);
  void write_all(const std::string& data, std::chrono::steady_clock::time_point deadline);
  /// Reads at least one byte into buffer_; false on orderly close.
  bool read_some(std::chrono::steady_clock::time_point deadline);
  HttpResponse read_response(std::chrono::steady_clock::time_point deadline, bool head);

  std::string host_;
  std::uint16_t port_;
  std::optional<TlsClientOptions> tls_;
  std::vector<std::pair<std::string, std::string>> default_headers_;
  Conn* conn_ = nullptr;
  std::string buffer_;
};

/// Creates a throwaway CA, a server certificate for 127.0.0.1/localhost and
/// a client certificate signed by that CA, with the openssl command line, in `dir`.
struct TestCertificates {
  std::string ca_cert, server_cert, server_key, client_cert, client_key;
  /// A client certificate from a different CA (must be refused).
  std::string other_client_cert, other_client_key;
};
TestCertificates make_test_certificates(const std::string& dir);

}  // namespace outpost::test
