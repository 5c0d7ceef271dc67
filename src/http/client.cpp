// The agent's HTTP(S) client: the connection pool and the request/response
// exchange, the only client code that runs Beast's HTTP operations (once,
// for detail::Stream). Opening connections is client_connect.cpp; judging
// responses is response_reader.cpp. See STYLE.md, "the Beast firewall".
#include "http/client.hpp"

#include <poll.h>

#include <stdexcept>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "http/client_impl.hpp"
#include "http/proxy.hpp"
#include "http/tls.hpp"

// GCC 12 with optimisation (the asan/tsan presets build at -O1) reports a
// false -Wmismatched-new-delete at the end of every coroutine: it pairs
// asio's awaitable-frame operator delete with the wrong operator new.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace outpost::http {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using detail::Connection;
using detail::StepError;

namespace {

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

bool is_closed_by_peer_while_idle(detail::Connection& connection) {
  // A pooled connection that became readable was closed by the server (or it
  // sent something unsolicited): either way it cannot carry a new request.
  auto& socket = connection.stream.tcp().socket();
  if (!socket.is_open()) return true;
  pollfd p{socket.native_handle(), POLLIN, 0};
  return ::poll(&p, 1, 0) != 0;
}

// " (METHOD /path)" for error messages: no query string, control characters
// replaced, so it is printable in any log.
std::string request_label(const Request& request, const std::string& base_path) {
  std::string label = " (" + request.method + " " + base_path +
                      request.target.substr(0, request.target.find('?')) + ")";
  for (char& c : label) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = '?';
  }
  return label;
}

}  // namespace

std::unique_ptr<Connection> Client::Impl::take_idle() {
  const auto now = Clock::now();
  while (!idle.empty()) {
    auto connection = std::move(idle.back());  // most recently used: least likely to be stale
    idle.pop_back();
    if (now - connection->idle_since < options.idle_timeout &&
        !is_closed_by_peer_while_idle(*connection)) {
      return connection;
    }
  }
  return nullptr;
}

void Client::Impl::put_idle(std::unique_ptr<Connection> connection) {
  if (closed || idle.size() >= options.max_idle_connections) return;  // dropped: socket closes
  connection->idle_since = Clock::now();
  idle.push_back(std::move(connection));
}

Client::Impl::RequestMessage Client::Impl::build(const Request& request) const {
  RequestMessage req;
  const auto verb = bhttp::string_to_verb(request.method);
  if (verb == bhttp::verb::unknown) {
    req.method_string(request.method);
  } else {
    req.method(verb);
  }
  std::string target = options.base.path;
  if (request.target.empty() || request.target.front() != '/') target += '/';
  target += request.target;
  req.target(target);
  req.version(11);
  req.keep_alive(true);
  bool has_host = false;
  bool has_agent = false;
  bool has_accept_encoding = false;
  for (const auto& h : request.headers) {
    // Framing is ours to decide; a caller's Content-Length could desynchronise the connection.
    if (iequals(h.name, "content-length") || iequals(h.name, "transfer-encoding") ||
        iequals(h.name, "connection")) {
      continue;
    }
    has_host = has_host || iequals(h.name, "host");
    has_agent = has_agent || iequals(h.name, "user-agent");
    has_accept_encoding = has_accept_encoding || iequals(h.name, "accept-encoding");
    req.insert(h.name, h.value);
  }
  if (!has_host) req.set(bhttp::field::host, host_header);
  if (!has_agent && !options.user_agent.empty()) {
    req.set(bhttp::field::user_agent, options.user_agent);
  }
  if (!has_accept_encoding) req.set(bhttp::field::accept_encoding, "gzip");
  const std::string& body = request.shared_body ? *request.shared_body : request.body;
  req.body() = {body.data(), body.size()};
  req.prepare_payload();
  return req;
}

asio::awaitable<Client::Impl::Exchanged> Client::Impl::exchange(std::shared_ptr<Impl> self,
                                                                Connection& connection,
                                                                const RequestMessage& message,
                                                                bool head, bool reused) {
  const std::size_t limit = self->options.max_response_bytes;
  Exchanged result;
  auto [write_ec, written] = co_await bhttp::async_write(connection.stream, message, kAwait);
  (void)written;
  if (write_ec) {
    result.error = detail::classify(self->closed, limit, write_ec, "sending the request", reused);
    co_return result;
  }
  detail::ResponseParser parser;
  detail::configure_parser(parser, limit, head);
  auto [read_ec, read] =
      co_await bhttp::async_read(connection.stream, connection.buffer, parser, kAwait);
  (void)read;
  if (read_ec) {
    result.error = detail::classify(self->closed, limit, read_ec, "reading the response",
                                    reused && !parser.got_some());
    co_return result;
  }
  auto& response_message = parser.get();
  result.reusable = response_message.keep_alive() && connection.buffer.size() == 0;
  result.error = detail::to_response(response_message, limit, result.response);
  co_return result;
}

asio::awaitable<Outcome> Client::Impl::send(std::shared_ptr<Impl> self, Request request,
                                            std::chrono::milliseconds total_timeout) {
  const auto deadline = Clock::now() + total_timeout;
  const std::string label = request_label(request, self->options.base.path);
  auto failed = [&](StepError error) {
    Outcome outcome;
    outcome.failure = error.kind;
    outcome.error = std::move(error.message) + label;
    if (outcome.failure == FailureKind::kTimeout) {
      outcome.error += "; total timeout " + std::to_string(total_timeout.count()) + " ms";
    }
    return outcome;
  };
  if (self->closed) co_return failed({FailureKind::kCancelled, "client closed"});
  // Never put a CR/LF/NUL on the wire: it would inject headers or a second request.
  if (auto unsafe = unsafe_request_field(request)) {
    co_return failed({FailureKind::kProtocol, "refused to send the request: " + *unsafe});
  }

  InFlight flight;
  FlightGuard guard(self->in_flight, &flight);
  const auto message = self->build(request);
  const bool head = iequals(request.method, "HEAD");
  for (int attempt = 0;; ++attempt) {
    auto connection = attempt == 0 ? self->take_idle() : nullptr;
    const bool reused = connection != nullptr;
    if (!reused) {
      connection =
          std::make_unique<Connection>(self->executor, self->context ? &*self->context : nullptr);
      flight.connection = connection.get();
      auto error = co_await open(self, *connection, flight, deadline);
      if (error) co_return failed(std::move(error));
    }
    flight.connection = connection.get();
    connection->stream.tcp().expires_at(deadline);
    auto result = co_await exchange(self, *connection, message, head, reused);
    flight.connection = nullptr;
    if (result.error.retryable && attempt == 0) continue;
    if (result.error) co_return failed(std::move(result.error));
    if (result.reusable) self->put_idle(std::move(connection));
    Outcome outcome;
    outcome.response = std::move(result.response);
    co_return outcome;
  }
}

Client::Client(boost::asio::any_io_executor executor, ClientOptions options) {
  if (options.base.scheme != "http" && options.base.scheme != "https") {
    throw std::invalid_argument("control plane URL must be http:// or https://");
  }
  if (options.base.host.empty() || options.base.port == 0) {
    throw std::invalid_argument("control plane URL has no host or port");
  }
  if (options.proxy && options.proxy->is_https()) {
    throw std::invalid_argument("only http:// proxies are supported");
  }
  impl_ = std::make_shared<Impl>(std::move(executor), std::move(options));
  // Only an https:// control plane is ever spoken to over TLS (proxies are
  // http://), so a plain-HTTP agent does not read the CA store at all.
  if (impl_->options.base.is_https()) {
    configure_client_context(
        impl_->context->native_handle(),
        {impl_->options.ca_file, impl_->options.client_cert, impl_->options.client_key});
  }
  const Url& base = impl_->options.base;
  const bool default_port = base.port == (base.is_https() ? 443 : 80);
  impl_->host_header =
      default_port ? (base.host.find(':') != std::string::npos ? "[" + base.host + "]" : base.host)
                   : detail::host_port(base);
  if (impl_->options.proxy && !impl_->options.proxy->userinfo.empty()) {
    impl_->proxy_authorization = basic_proxy_authorization(*impl_->options.proxy);
  }
}

Client::~Client() {
  close();
}

asio::awaitable<Outcome> Client::send(Request request, std::chrono::milliseconds total_timeout) {
  return Impl::send(impl_, std::move(request), total_timeout);
}

void Client::close() {
  impl_->closed = true;
  impl_->idle.clear();
  for (auto* flight : impl_->in_flight) {
    if (flight->wait != nullptr) flight->wait->cancel();
    if (flight->connection != nullptr) flight->connection->stream.tcp().close();
  }
}

std::size_t Client::connections_opened() const noexcept {
  return impl_->opened;
}

}  // namespace outpost::http
