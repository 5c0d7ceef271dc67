#include "support/http_test_client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <stdexcept>

namespace outpost::test {

using Clock = std::chrono::steady_clock;

namespace {

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

/// Waits for `events` on fd; throws on timeout.
void wait_fd(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int rc = ::poll(&p, 1, remaining_ms(deadline));
    if (rc > 0) return;
    if (rc == 0) throw std::runtime_error("HTTP test client: timed out");
    if (errno != EINTR) throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
  }
}

int open_socket(const std::string& host, std::uint16_t port, Clock::time_point deadline) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0 || !res) {
    throw std::runtime_error("HTTP test client: cannot resolve " + host);
  }
  const int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  const int rc = fd < 0 ? -1 : ::connect(fd, res->ai_addr, res->ai_addrlen);
  ::freeaddrinfo(res);
  if (fd < 0) throw std::runtime_error("socket() failed");
  if (rc != 0 && errno != EINPROGRESS) {
    ::close(fd);
    throw std::runtime_error("HTTP test client: connect failed: " +
                             std::string(std::strerror(errno)));
  }
  wait_fd(fd, POLLOUT, deadline);
  int err = 0;
  socklen_t len = sizeof err;
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) {
    ::close(fd);
    throw std::runtime_error("HTTP test client: connect failed: " +
                             std::string(std::strerror(err)));
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

std::string ssl_error() {
  char buf[256];
  ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
  return buf;
}

}  // namespace

std::optional<std::string> HttpResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (iequal(k, name)) return v;
  }
  return std::nullopt;
}

struct HttpTestClient::Conn {
  int fd = -1;
  SSL_CTX* ctx = nullptr;
  SSL* ssl = nullptr;
  ~Conn() {
    if (ssl) SSL_free(ssl);
    if (ctx) SSL_CTX_free(ctx);
    if (fd >= 0) ::close(fd);
  }
};

HttpTestClient::HttpTestClient(std::string host, std::uint16_t port,
                               std::optional<TlsClientOptions> tls)
    : host_(std::move(host)), port_(port), tls_(std::move(tls)) {}

HttpTestClient::~HttpTestClient() {
  close();
}

void HttpTestClient::set_header(std::string name, std::string value) {
  for (auto& [k, v] : default_headers_) {
    if (iequal(k, name)) {
      v = std::move(value);
      return;
    }
  }
  default_headers_.emplace_back(std::move(name), std::move(value));
}

void HttpTestClient::close() {
  delete conn_;
  conn_ = nullptr;
  buffer_.clear();
}

void HttpTestClient::connect(Clock::time_point deadline) {
  auto conn = std::make_unique<Conn>();
  conn->fd = open_socket(host_, port_, deadline);
  if (tls_) {
    conn->ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(conn->ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(conn->ctx, SSL_VERIFY_PEER, nullptr);
    if (SSL_CTX_load_verify_locations(conn->ctx, tls_->ca_file.c_str(), nullptr) != 1) {
      throw std::runtime_error("cannot load CA " + tls_->ca_file + ": " + ssl_error());
    }
    if (!tls_->cert_file.empty() &&
        (SSL_CTX_use_certificate_chain_file(conn->ctx, tls_->cert_file.c_str()) != 1 ||
         SSL_CTX_use_PrivateKey_file(conn->ctx, tls_->key_file.c_str(), SSL_FILETYPE_PEM) != 1)) {
      throw std::runtime_error("cannot load client certificate: " + ssl_error());
    }
    conn->ssl = SSL_new(conn->ctx);
    SSL_set_fd(conn->ssl, conn->fd);
    SSL_set_tlsext_host_name(conn->ssl, tls_->server_name.c_str());
    X509_VERIFY_PARAM* param = SSL_get0_param(conn->ssl);
    in_addr ip{};
    if (inet_pton(AF_INET, tls_->server_name.c_str(), &ip) == 1) {
      X509_VERIFY_PARAM_set1_ip_asc(param, tls_->server_name.c_str());
    } else {
      X509_VERIFY_PARAM_set1_host(param, tls_->server_name.c_str(), 0);
    }
    for (;;) {
      const int rc = SSL_connect(conn->ssl);
      if (rc == 1) break;
      const int err = SSL_get_error(conn->ssl, rc);
      if (err == SSL_ERROR_WANT_READ) {
        wait_fd(conn->fd, POLLIN, deadline);
      } else if (err == SSL_ERROR_WANT_WRITE) {
        wait_fd(conn->fd, POLLOUT, deadline);
      } else {
        throw std::runtime_error("TLS handshake failed: " + ssl_error());
      }
    }
  }
  conn_ = conn.release();
  buffer_.clear();
}

void HttpTestClient::write_all(const std::string& data, Clock::time_point deadline) {
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n;
    if (conn_->ssl) {
      const int rc = SSL_write(conn_->ssl, data.data() + off, static_cast<int>(data.size() - off));
      if (rc <= 0) {
        const int err = SSL_get_error(conn_->ssl, rc);
        if (err == SSL_ERROR_WANT_READ)
          wait_fd(conn_->fd, POLLIN, deadline);
        else if (err == SSL_ERROR_WANT_WRITE)
          wait_fd(conn_->fd, POLLOUT, deadline);
        else
          throw std::runtime_error("TLS write failed: " + ssl_error());
        continue;
      }
      n = rc;
    } else {
      n = ::send(conn_->fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          wait_fd(conn_->fd, POLLOUT, deadline);
          continue;
        }
        throw std::runtime_error(std::string("send failed: ") + std::strerror(errno));
      }
    }
    off += static_cast<std::size_t>(n);
  }
}

bool HttpTestClient::read_some(Clock::time_point deadline) {
  char buf[16384];
  for (;;) {
    if (conn_->ssl) {
      const int rc = SSL_read(conn_->ssl, buf, sizeof buf);
      if (rc > 0) {
        buffer_.append(buf, static_cast<std::size_t>(rc));
        return true;
      }
      const int err = SSL_get_error(conn_->ssl, rc);
      if (err == SSL_ERROR_WANT_READ) {
        wait_fd(conn_->fd, POLLIN, deadline);
      } else if (err == SSL_ERROR_WANT_WRITE) {
        wait_fd(conn_->fd, POLLOUT, deadline);
      } else if (err == SSL_ERROR_ZERO_RETURN || err == SSL_ERROR_SYSCALL || err == SSL_ERROR_SSL) {
        ERR_clear_error();
        return false;  // closed (with or without close_notify)
      }
    } else {
      const ssize_t n = ::recv(conn_->fd, buf, sizeof buf, 0);
      if (n > 0) {
        buffer_.append(buf, static_cast<std::size_t>(n));
        return true;
      }
      if (n == 0) return false;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        wait_fd(conn_->fd, POLLIN, deadline);
      } else if (errno == ECONNRESET) {
        return false;
      } else if (errno != EINTR) {
        throw std::runtime_error(std::string("recv failed: ") + std::strerror(errno));
      }
    }
  }
}

HttpResponse HttpTestClient::read_response(Clock::time_point deadline, bool head) {
  std::size_t end;
  while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!read_some(deadline)) throw std::runtime_error("connection closed before a response");
  }
  HttpResponse r;
  const std::string head_text = buffer_.substr(0, end);
  buffer_.erase(0, end + 4);
  std::size_t line_end = head_text.find("\r\n");
  const std::string status_line = head_text.substr(0, line_end);
  if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.size() < 12) {
    throw std::runtime_error("malformed status line: " + status_line);
  }
  r.status = std::atoi(status_line.c_str() + 9);
  while (line_end != std::string::npos) {
    const std::size_t start = line_end + 2;
    line_end = head_text.find("\r\n", start);
    std::string line = head_text.substr(
        start, line_end == std::string::npos ? std::string::npos : line_end - start);
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    r.headers.emplace_back(line.substr(0, colon), value);
  }
  if (head || r.status == 204 || r.status == 304 || (r.status >= 100 && r.status < 200)) return r;
  if (auto te = r.header("Transfer-Encoding"); te && iequal(*te, "chunked")) {
    for (;;) {
      std::size_t crlf;
      while ((crlf = buffer_.find("\r\n")) == std::string::npos) {
        if (!read_some(deadline)) throw std::runtime_error("truncated chunked body");
      }
      const std::size_t size = std::strtoul(buffer_.c_str(), nullptr, 16);
      buffer_.erase(0, crlf + 2);
      while (buffer_.size() < size + 2) {
        if (!read_some(deadline)) throw std::runtime_error("truncated chunked body");
      }
      r.body.append(buffer_, 0, size);
      buffer_.erase(0, size + 2);
      if (size == 0) return r;
    }
  }
  if (auto cl = r.header("Content-Length")) {
    const std::size_t len = std::strtoull(cl->c_str(), nullptr, 10);
    while (buffer_.size() < len) {
      if (!read_some(deadline)) throw std::runtime_error("truncated body");
    }
    r.body = buffer_.substr(0, len);
    buffer_.erase(0, len);
    return r;
  }
  while (read_some(deadline)) {
  }
  r.body = std::move(buffer_);
  buffer_.clear();
  close();
  return r;
}

HttpResponse HttpTestClient::request(
    const std::string& method, const std::string& target, const std::string& body,
    const std::vector<std::pair<std::string, std::string>>& headers,
    std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::string req =
      method + " " + target + " HTTP/1.1\r\nHost: " + host_ + ":" + std::to_string(port_) + "\r\n";
  bool has_length = false;
  auto add = [&](const std::string& k, const std::string& v) {
    if (iequal(k, "Content-Length")) has_length = true;
    req += k + ": " + v + "\r\n";
  };
  for (const auto& [k, v] : default_headers_) {
    bool overridden = false;
    for (const auto& h : headers) overridden = overridden || iequal(h.first, k);
    if (!overridden) add(k, v);
  }
  for (const auto& [k, v] : headers) add(k, v);
  if (!has_length && (!body.empty() || method == "POST" || method == "PUT")) {
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n";
  req += body;
  // A kept-alive connection the server closed in the meantime fails on the
  // first read: retry once on a fresh connection (requests here are idempotent
  // in the tests' eyes only when nothing at all came back).
  for (int tries = 0;; ++tries) {
    const bool reused = conn_ != nullptr;
    if (!conn_) connect(deadline);
    try {
      write_all(req, deadline);
      auto r = read_response(deadline, method == "HEAD");
      if (auto c = r.header("Connection"); c && iequal(*c, "close")) close();
      return r;
    } catch (const std::runtime_error& e) {
      close();
      if (!reused || tries > 0 || std::string(e.what()).find("timed out") != std::string::npos) {
        throw;
      }
    }
  }
}

std::string HttpTestClient::raw_exchange(const std::string& host, std::uint16_t port,
                                         const std::string& bytes,
                                         std::chrono::milliseconds timeout, bool* closed) {
  const auto deadline = Clock::now() + timeout;
  HttpTestClient c(host, port);
  c.connect(deadline);
  if (!bytes.empty()) c.write_all(bytes, deadline);
  bool was_closed = false;
  try {
    while (c.read_some(deadline)) {
    }
    was_closed = true;
  } catch (const std::runtime_error&) {
    // deadline reached with the connection still open
  }
  if (closed) *closed = was_closed;
  return c.buffer_;
}

namespace {

void run(const std::string& command) {
  const std::string full = command + " >/dev/null 2>&1";
  if (std::system(full.c_str()) != 0) throw std::runtime_error("command failed: " + command);
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

void make_ca(const std::string& dir, const std::string& name) {
  run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2"
      " -subj /CN=" +
      name + " -keyout " + dir + "/" + name + ".key -out " + dir + "/" + name + ".pem");
}

void make_leaf(const std::string& dir, const std::string& ca, const std::string& name,
               const std::string& extensions) {
  const std::string base = dir + "/" + name;
  write_file(base + ".ext", extensions);
  run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=" + name +
      " -keyout " + base + ".key -out " + base + ".csr");
  run("openssl x509 -req -days 2 -in " + base + ".csr -CA " + dir + "/" + ca + ".pem -CAkey " +
      dir + "/" + ca + ".key -CAcreateserial -extfile " + base + ".ext -out " + base + ".pem");
}

}  // namespace

TestCertificates make_test_certificates(const std::string& dir) {
  make_ca(dir, "test-ca");
  make_ca(dir, "other-ca");
  make_leaf(dir, "test-ca", "server",
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
  make_leaf(dir, "test-ca", "client", "extendedKeyUsage=clientAuth\n");
  make_leaf(dir, "other-ca", "intruder", "extendedKeyUsage=clientAuth\n");
  TestCertificates c;
  c.ca_cert = dir + "/test-ca.pem";
  c.server_cert = dir + "/server.pem";
  c.server_key = dir + "/server.key";
  c.client_cert = dir + "/client.pem";
  c.client_key = dir + "/client.key";
  c.other_client_cert = dir + "/intruder.pem";
  c.other_client_key = dir + "/intruder.key";
  return c;
}

}  // namespace outpost::test
