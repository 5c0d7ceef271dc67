// The agent's HTTP(S) client: the one translation unit of the agent that
// includes Beast (see STYLE.md, "the Beast firewall").
#include "http/client.hpp"

#include <openssl/ssl.h>
#include <poll.h>

#include <algorithm>
#include <stdexcept>
#include <tuple>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

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
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

std::string_view to_string(FailureKind kind) noexcept {
  switch (kind) {
    case FailureKind::kNone: return "none";
    case FailureKind::kResolve: return "resolve";
    case FailureKind::kConnect: return "connect";
    case FailureKind::kProxy: return "proxy";
    case FailureKind::kTls: return "tls";
    case FailureKind::kTimeout: return "timeout";
    case FailureKind::kTooLarge: return "too_large";
    case FailureKind::kProtocol: return "protocol";
    case FailureKind::kIo: return "io";
    case FailureKind::kCancelled: return "cancelled";
  }
  return "unknown";
}

namespace {

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
constexpr std::uint32_t kHeaderLimit = 64 * 1024;
constexpr std::size_t kProxyResponseLimit = 16 * 1024;

using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using ResponseParser = bhttp::response_parser<bhttp::string_body>;

/// The limits every response is read with (send() and parse_response()).
void configure_parser(ResponseParser& parser, std::size_t max_body_bytes, bool head_request) {
  parser.header_limit(kHeaderLimit);
  parser.body_limit(max_body_bytes);
  parser.skip(head_request);
}

/// Plain TCP or TLS over TCP, decided per connection at run time, behind one
/// type: Beast's HTTP read/write operations are instantiated once, for
/// Stream, instead of once per transport (they dominate compile time).
class Stream {
 public:
  using executor_type = beast::tcp_stream::executor_type;

  Stream(const asio::any_io_executor& executor, ssl::context& context) : tls_(executor, context) {}

  executor_type get_executor() noexcept { return tls_.get_executor(); }
  beast::tcp_stream& tcp() noexcept { return tls_.next_layer(); }
  TlsStream& tls() noexcept { return tls_; }
  void start_tls() noexcept { tls_on_ = true; }

  template <typename MutableBuffers, typename Handler>
  auto async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    if (tls_on_) return tls_.async_read_some(buffers, std::forward<Handler>(handler));
    return tcp().async_read_some(buffers, std::forward<Handler>(handler));
  }

  template <typename ConstBuffers, typename Handler>
  auto async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    if (tls_on_) return tls_.async_write_some(buffers, std::forward<Handler>(handler));
    return tcp().async_write_some(buffers, std::forward<Handler>(handler));
  }

 private:
  TlsStream tls_;
  bool tls_on_ = false;
};

struct Connection {
  Connection(const asio::any_io_executor& executor, ssl::context& context)
      : stream(executor, context) {}
  Stream stream;
  beast::flat_buffer buffer;
  Clock::time_point idle_since;
};

/// Why a step failed; kind == kNone means it succeeded.
struct StepError {
  FailureKind kind = FailureKind::kNone;
  std::string message;
  bool retryable = false;  ///< a reused connection died before the response began
  explicit operator bool() const noexcept { return kind != FailureKind::kNone; }
};

std::string host_port(const Url& url) {
  const bool v6 = url.host.find(':') != std::string::npos;
  return (v6 ? "[" + url.host + "]" : url.host) + ":" + std::to_string(url.port);
}

bool is_connection_closed(const error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::connection_aborted || ec == ssl::error::stream_truncated;
}

bool is_closed_by_peer_while_idle(Connection& connection) {
  // A pooled connection that became readable was closed by the server (or it
  // sent something unsolicited): either way it cannot carry a new request.
  auto& socket = connection.stream.tcp().socket();
  if (!socket.is_open()) return true;
  pollfd p{socket.native_handle(), POLLIN, 0};
  return ::poll(&p, 1, 0) != 0;
}

}  // namespace

struct Client::Impl {
  struct InFlight {
    Connection* connection = nullptr;
    asio::steady_timer* wait = nullptr;
  };

  Impl(asio::any_io_executor ex, ClientOptions opts)
      : executor(std::move(ex)), options(std::move(opts)), context(ssl::context::tls_client) {}

  asio::any_io_executor executor;
  ClientOptions options;
  ssl::context context;
  std::string proxy_authorization;  // "Basic …" or empty; never logged
  std::string host_header;
  std::vector<std::unique_ptr<Connection>> idle;
  std::vector<InFlight*> in_flight;
  std::size_t opened = 0;
  bool closed = false;

  /// Registers a send() with its Impl for close(), for as long as it runs.
  class FlightGuard {
   public:
    FlightGuard(std::vector<InFlight*>& list, InFlight* flight) : list_(list), flight_(flight) {
      list_.push_back(flight_);
    }
    ~FlightGuard() { list_.erase(std::remove(list_.begin(), list_.end(), flight_), list_.end()); }
    FlightGuard(const FlightGuard&) = delete;
    FlightGuard& operator=(const FlightGuard&) = delete;

   private:
    std::vector<InFlight*>& list_;
    InFlight* flight_;
  };

  std::unique_ptr<Connection> take_idle();
  void put_idle(std::unique_ptr<Connection> connection);
  bhttp::request<bhttp::string_body> build(const Request& request) const;

  static asio::awaitable<Outcome> send(std::shared_ptr<Impl> self, Request request,
                                       std::chrono::milliseconds total_timeout);
  static asio::awaitable<StepError> open(std::shared_ptr<Impl> self, Connection& connection,
                                         InFlight& flight, Clock::time_point deadline);
  static asio::awaitable<std::tuple<StepError, tcp::resolver::results_type>> resolve(
      std::shared_ptr<Impl> self, Url hop, InFlight& flight, Clock::time_point deadline);
  static asio::awaitable<StepError> proxy_connect(std::shared_ptr<Impl> self,
                                                  Connection& connection,
                                                  Clock::time_point deadline);
  static asio::awaitable<StepError> handshake(std::shared_ptr<Impl> self, Connection& connection,
                                              Clock::time_point deadline);
};

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

bhttp::request<bhttp::string_body> Client::Impl::build(const Request& request) const {
  bhttp::request<bhttp::string_body> req;
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
  req.body() = request.body;
  req.prepare_payload();
  return req;
}

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
  std::string head = "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n";
  if (!self->options.user_agent.empty()) head += "User-Agent: " + self->options.user_agent + "\r\n";
  if (!self->proxy_authorization.empty()) {
    head += "Proxy-Authorization: " + self->proxy_authorization + "\r\n";
  }
  head += "\r\n";
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
  // "HTTP/1.1 200 Connection established"
  const std::string status_line = reply.substr(0, reply.find("\r\n"));
  if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.size() < 12) {
    co_return StepError{FailureKind::kProxy,
                        "proxy " + proxy + " did not answer CONNECT with HTTP"};
  }
  const int status = std::atoi(status_line.c_str() + 9);
  if (status == 407) {
    co_return StepError{FailureKind::kProxy,
                        "proxy " + proxy +
                            (self->proxy_authorization.empty()
                                 ? " requires authentication (407): put user:password in the "
                                   "proxy URL"
                                 : " rejected the credentials from the proxy URL (407)")};
  }
  if (status < 200 || status > 299) {
    co_return StepError{FailureKind::kProxy, "proxy " + proxy + " refused CONNECT to " + authority +
                                                 ": " + status_line.substr(9)};
  }
  if (reply.size() > header_size) {
    co_return StepError{FailureKind::kProxy,
                        "proxy " + proxy + " sent data before the tunnel was used"};
  }
  co_return StepError{};
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

namespace {

StepError classify(bool closed, std::size_t max_bytes, const error_code& ec,
                   const std::string& doing, bool reused_and_untouched) {
  if (closed || ec == asio::error::operation_aborted) {
    // Either close() or the caller's cancellation slot (bound at co_spawn).
    return {FailureKind::kCancelled,
            "request cancelled while " + doing + (closed ? ": client closed" : "")};
  }
  if (ec == beast::error::timeout) {
    return {FailureKind::kTimeout, "request timed out while " + doing};
  }
  if (ec == bhttp::error::body_limit) {
    return {FailureKind::kTooLarge,
            "response body exceeds the limit of " + std::to_string(max_bytes) + " bytes"};
  }
  if (ec == bhttp::error::header_limit) {
    return {FailureKind::kTooLarge,
            "response header exceeds " + std::to_string(kHeaderLimit) + " bytes"};
  }
  if (is_connection_closed(ec)) {
    return {FailureKind::kIo, "connection closed by the server while " + doing,
            reused_and_untouched};
  }
  if (ec.category() == asio::error::get_ssl_category()) {
    return {FailureKind::kTls, "TLS error while " + doing + ": " + ec.message()};
  }
  if (ec.category() == bhttp::make_error_code(bhttp::error::bad_version).category()) {
    return {FailureKind::kProtocol, "invalid HTTP response: " + ec.message()};
  }
  return {FailureKind::kIo, "I/O error while " + doing + ": " + ec.message()};
}

std::string lower_trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

/// Turns Beast's message into the facade's Response, decoding gzip within the bound.
StepError to_response(bhttp::response<bhttp::string_body>& message, std::size_t limit,
                      Response& out) {
  out.status = static_cast<int>(message.result_int());
  for (const auto& field : message) {
    out.headers.push_back({std::string(field.name_string()), std::string(field.value())});
  }
  const std::string encoding = lower_trimmed(message[bhttp::field::content_encoding]);
  if (encoding.empty() || encoding == "identity" || message.body().empty()) {
    out.body = std::move(message.body());
    return {};
  }
  if (encoding != "gzip" && encoding != "x-gzip" && encoding != "deflate") {
    return {FailureKind::kProtocol, "unsupported Content-Encoding '" + encoding + "'"};
  }
  // Bounded on the decompressed size: a small "gzip bomb" fails as kTooLarge.
  auto inflated = gunzip(message.body(), limit);
  if (inflated.data) {
    out.body = std::move(*inflated.data);
    return {};
  }
  if (inflated.too_large) {
    return {FailureKind::kTooLarge, "response body " + inflated.error + " (the limit)"};
  }
  return {FailureKind::kProtocol, "invalid gzip response body: " + inflated.error};
}

/// A SyncReadStream over bytes already received, then end of stream: lets
/// parse_response() run Beast's own read loop (need_more, put_eof) on them.
class ReceivedBytes {
 public:
  explicit ReceivedBytes(std::string_view data) : data_(data) {}

  template <typename MutableBuffers>
  std::size_t read_some(const MutableBuffers& buffers, error_code& ec) {
    if (data_.empty()) {
      ec = asio::error::eof;
      return 0;
    }
    const std::size_t n = asio::buffer_copy(buffers, asio::buffer(data_.data(), data_.size()));
    data_.remove_prefix(n);
    ec = {};
    return n;
  }

  template <typename MutableBuffers>
  std::size_t read_some(const MutableBuffers& buffers) {
    error_code ec;
    const std::size_t n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

 private:
  std::string_view data_;
};

}  // namespace

Outcome parse_response(std::string_view raw, std::size_t max_response_bytes, bool head_request) {
  auto failed = [](StepError error) {
    Outcome outcome;
    outcome.failure = error.kind;
    outcome.error = std::move(error.message);
    return outcome;
  };
  ReceivedBytes stream(raw);
  beast::flat_buffer buffer;
  ResponseParser parser;
  configure_parser(parser, max_response_bytes, head_request);
  error_code ec;
  bhttp::read(stream, buffer, parser, ec);
  if (ec) {
    return failed(classify(false, max_response_bytes, ec, "reading the response", false));
  }
  Outcome outcome;
  outcome.response.emplace();
  if (auto error = to_response(parser.get(), max_response_bytes, *outcome.response)) {
    return failed(std::move(error));
  }
  return outcome;
}

asio::awaitable<Outcome> Client::Impl::send(std::shared_ptr<Impl> self, Request request,
                                            std::chrono::milliseconds total_timeout) {
  const auto deadline = Clock::now() + total_timeout;
  std::string label = " (" + request.method + " " + self->options.base.path +
                      request.target.substr(0, request.target.find('?')) + ")";
  for (char& c : label) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = '?';  // printable in any log
  }
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
      connection = std::make_unique<Connection>(self->executor, self->context);
      flight.connection = connection.get();
      auto error = co_await open(self, *connection, flight, deadline);
      if (error) co_return failed(std::move(error));
    }
    flight.connection = connection.get();

    connection->stream.tcp().expires_at(deadline);
    auto [write_ec, written] = co_await bhttp::async_write(connection->stream, message, kAwait);
    (void)written;
    if (write_ec) {
      auto error = classify(self->closed, self->options.max_response_bytes, write_ec,
                            "sending the request", reused);
      if (error.retryable && attempt == 0) continue;
      co_return failed(std::move(error));
    }

    ResponseParser parser;
    configure_parser(parser, self->options.max_response_bytes, head);
    auto [read_ec, read] =
        co_await bhttp::async_read(connection->stream, connection->buffer, parser, kAwait);
    (void)read;
    if (read_ec) {
      auto error = classify(self->closed, self->options.max_response_bytes, read_ec,
                            "reading the response", reused && !parser.got_some());
      if (error.retryable && attempt == 0) continue;
      co_return failed(std::move(error));
    }
    flight.connection = nullptr;

    auto& response_message = parser.get();
    const bool keep_alive = response_message.keep_alive();
    Outcome outcome;
    outcome.response.emplace();
    if (auto error =
            to_response(response_message, self->options.max_response_bytes, *outcome.response)) {
      co_return failed(std::move(error));
    }
    if (keep_alive && connection->buffer.size() == 0) self->put_idle(std::move(connection));
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
        impl_->context.native_handle(),
        {impl_->options.ca_file, impl_->options.client_cert, impl_->options.client_key});
  }
  const Url& base = impl_->options.base;
  const bool default_port = base.port == (base.is_https() ? 443 : 80);
  impl_->host_header =
      default_port ? (base.host.find(':') != std::string::npos ? "[" + base.host + "]" : base.host)
                   : host_port(base);
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
