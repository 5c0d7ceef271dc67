// Opening a connection to the control plane: resolve under a deadline,
// connect, CONNECT through a proxy, TLS handshake with verify diagnostics.
// Asio and Beast's TLS stream, but none of Beast's HTTP operations.
#include <openssl/ssl.h>

#include <cstdlib>
#include <stdexcept>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>

#include "http/client_impl.hpp"
#include "http/tls.hpp"

// GCC 12 with optimisation (the asan/tsan presets build at -O1) reports a
// false -Wmismatched-new-delete at the end of every coroutine: it pairs
// asio's awaitable-frame operator delete with the wrong operator new.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace outpost::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using detail::StepError;

namespace {

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kProxyResponseLimit = 16 * 1024;

// The CONNECT request for `authority`, with the proxy credentials if any.
std::string connect_head(const std::string& authority, const ClientOptions& options,
                         const std::string& proxy_authorization) {
  std::string head = "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n";
  if (!options.user_agent.empty()) head += "User-Agent: " + options.user_agent + "\r\n";
  if (!proxy_authorization.empty()) {
    head += "Proxy-Authorization: " + proxy_authorization + "\r\n";
  }
  return head + "\r\n";
}

// Judges the proxy's answer to CONNECT: `reply` holds what was read,
// `header_size` the length of its head.
StepError judge_connect_reply(const std::string& reply, std::size_t header_size,
                              const std::string& proxy, const std::string& authority,
                              bool sent_credentials) {
  // "HTTP/1.1 200 Connection established"
  const std::string status_line = reply.substr(0, reply.find("\r\n"));
  if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.size() < 12) {
    return {FailureKind::kProxy, "proxy " + proxy + " did not answer CONNECT with HTTP"};
  }
  const int status = std::atoi(status_line.c_str() + 9);
  if (status == 407) {
    return {FailureKind::kProxy,
            "proxy " + proxy +
                (sent_credentials
                     ? " rejected the credentials from the proxy URL (407)"
                     : " requires authentication (407): put user:password in the proxy URL")};
  }
  if (status < 200 || status > 299) {
    return {FailureKind::kProxy,
            "proxy " + proxy + " refused CONNECT to " + authority + ": " + status_line.substr(9)};
  }
  if (reply.size() > header_size) {
    return {FailureKind::kProxy, "proxy " + proxy + " sent data before the tunnel was used"};
  }
  return {};
}

}  // namespace

namespace detail {

std::string host_port(const Url& url) {
  const bool v6 = url.host.find(':') != std::string::npos;
  return (v6 ? "[" + url.host + "]" : url.host) + ":" + std::to_string(url.port);
}

}  // namespace detail

using detail::host_port;

asio::awaitable<std::tuple<StepError, tcp::resolver::results_type>> Client::Impl::resolve(
    std::shared_ptr<Impl> self, Url hop, InFlight& flight, Clock::time_point deadline) {
  // asio cannot abandon a getaddrinfo() in progress, so the coroutine waits on
  // a timer that the resolve completion cancels: the deadline (or close())
  // ends the wait even while the lookup is still running on asio's thread.
  struct State {
    explicit State(const asio::any_io_executor& ex) : resolver(ex), done(ex) {}
    tcp::resolver resolver;
    asio::steady_timer done;
    error_code ec;
    tcp::resolver::results_type results;
    bool finished = false;
  };
  auto state = std::make_shared<State>(self->executor);
  state->done.expires_at(deadline);
  state->resolver.async_resolve(hop.host, std::to_string(hop.port),
                                [state](error_code ec, tcp::resolver::results_type results) {
                                  state->ec = ec;
                                  state->results = std::move(results);
                                  state->finished = true;
                                  state->done.cancel();
                                });
  flight.wait = &state->done;
  auto [wait_ec] = co_await state->done.async_wait(kAwait);
  flight.wait = nullptr;
  if (self->closed) {
    co_return std::tuple{StepError{FailureKind::kCancelled, "client closed"},
                         tcp::resolver::results_type{}};
  }
  if (!state->finished) {
    state->resolver.cancel();
    // Aborted without a result: the caller's cancellation slot fired.
    if (wait_ec == asio::error::operation_aborted) {
      co_return std::tuple{StepError{FailureKind::kCancelled, "cancelled while resolving"},
                           tcp::resolver::results_type{}};
    }
    co_return std::tuple{StepError{FailureKind::kTimeout, "resolving " + hop.host + " timed out"},
                         tcp::resolver::results_type{}};
  }
  if (state->ec) {
    co_return std::tuple{
        StepError{FailureKind::kResolve, "cannot resolve " + hop.host + ": " + state->ec.message()},
        tcp::resolver::results_type{}};
  }
  co_return std::tuple{StepError{}, std::move(state->results)};
}

asio::awaitable<StepError> Client::Impl::proxy_connect(std::shared_ptr<Impl> self,
                                                       Connection& connection,
                                                       Clock::time_point deadline) {
  const std::string authority = host_port(self->options.base);
  const std::string proxy = host_port(*self->options.proxy);
  const std::string head = connect_head(authority, self->options, self->proxy_authorization);
  connection.stream.tcp().expires_at(deadline);
  auto [write_ec, written] =
      co_await asio::async_write(connection.stream, asio::buffer(head), kAwait);
  (void)written;
  if (write_ec == asio::error::operation_aborted) {
    co_return StepError{FailureKind::kCancelled, "cancelled during CONNECT"};
  }
  if (write_ec) {
    co_return StepError{FailureKind::kProxy,
                        "proxy " + proxy + " closed the connection: " + write_ec.message()};
  }
  std::string reply;
  auto [read_ec, header_size] = co_await asio::async_read_until(
      connection.stream, asio::dynamic_buffer(reply, kProxyResponseLimit), "\r\n\r\n", kAwait);
  if (read_ec == asio::error::operation_aborted) {
    co_return StepError{FailureKind::kCancelled, "cancelled during CONNECT"};
  }
  if (read_ec == beast::error::timeout) {
    co_return StepError{FailureKind::kTimeout,
                        "proxy " + proxy + " did not answer CONNECT in time"};
  }
  if (read_ec) {
    co_return StepError{FailureKind::kProxy,
                        "proxy " + proxy + " failed during CONNECT: " + read_ec.message()};
  }
  co_return judge_connect_reply(reply, header_size, proxy, authority,
                                !self->proxy_authorization.empty());
}

asio::awaitable<StepError> Client::Impl::handshake(std::shared_ptr<Impl> self,
                                                   Connection& connection,
                                                   Clock::time_point deadline) {
  const std::string& host = self->options.base.host;
  SSL* native = connection.stream.tls().native_handle();
  prepare_client_session(native, host);
  connection.stream.tcp().expires_at(deadline);
  auto [ec] = co_await connection.stream.tls().async_handshake(ssl::stream_base::client, kAwait);
  if (!ec) {
    connection.stream.start_tls();
    co_return StepError{};
  }
  const std::string where = "TLS handshake with " + host_port(self->options.base);
  if (ec == beast::error::timeout) co_return StepError{FailureKind::kTimeout, where + " timed out"};
  if (ec == asio::error::operation_aborted) {
    co_return StepError{FailureKind::kCancelled, where + " cancelled"};
  }
  const long verify = SSL_get_verify_result(native);
  if (verify != X509_V_OK) {
    co_return StepError{FailureKind::kTls, where + ": " + describe_verify_failure(verify, host)};
  }
  co_return StepError{FailureKind::kTls, where + " failed: " + ec.message()};
}

asio::awaitable<StepError> Client::Impl::open(std::shared_ptr<Impl> self, Connection& connection,
                                              InFlight& flight, Clock::time_point deadline) {
  const ClientOptions& o = self->options;
  const Url& hop = o.proxy ? *o.proxy : o.base;
  const std::string what = (o.proxy ? "proxy " : "") + host_port(hop);
  const auto connect_deadline = std::min(deadline, Clock::now() + o.connect_timeout);
  auto [resolve_error, endpoints] = co_await resolve(self, hop, flight, connect_deadline);
  if (resolve_error) co_return resolve_error;

  ++self->opened;
  connection.stream.tcp().expires_at(connect_deadline);
  auto [ec, endpoint] = co_await connection.stream.tcp().async_connect(endpoints, kAwait);
  (void)endpoint;
  if (self->closed) co_return StepError{FailureKind::kCancelled, "client closed"};
  if (ec == beast::error::timeout) {
    co_return StepError{FailureKind::kTimeout, "connecting to " + what + " timed out"};
  }
  if (ec == asio::error::operation_aborted) {
    co_return StepError{FailureKind::kCancelled, "cancelled while connecting to " + what};
  }
  if (ec) {
    co_return StepError{FailureKind::kConnect, "cannot connect to " + what + ": " + ec.message()};
  }
  error_code ignored;
  connection.stream.tcp().socket().set_option(tcp::no_delay(true), ignored);

  if (o.proxy) {
    auto error = co_await proxy_connect(self, connection, connect_deadline);
    if (self->closed) co_return StepError{FailureKind::kCancelled, "client closed"};
    if (error) co_return error;
  }
  if (o.base.is_https()) {
    const auto tls_deadline = std::min(deadline, Clock::now() + o.handshake_timeout);
    auto error = co_await handshake(self, connection, tls_deadline);
    if (self->closed) co_return StepError{FailureKind::kCancelled, "client closed"};
    if (error) co_return error;
  }
  co_return StepError{};
}

}  // namespace outpost::http
