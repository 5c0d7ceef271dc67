#pragma once

// Private to src/http, and Beast: Client::Impl, shared by client.cpp
// (connection pool, request/response exchange, the facade) and
// client_connect.cpp (resolve, connect, proxy CONNECT, TLS handshake).

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/span_body.hpp>

#include "http/client.hpp"
#include "http/response_reader.hpp"
#include "http/stream.hpp"

namespace outpost::http {
namespace detail {

using Clock = std::chrono::steady_clock;

struct Connection {
  /// `context` is null for a plain-HTTP client: the connection then has no
  /// TLS layer at all.
  Connection(const boost::asio::any_io_executor& executor, boost::asio::ssl::context* context)
      : stream(executor, context) {}
  Stream stream;
  boost::beast::flat_buffer buffer;
  Clock::time_point idle_since;
};

/// "host:port", IPv6 hosts in brackets.
std::string host_port(const Url& url);

}  // namespace detail

struct Client::Impl {
  using Clock = detail::Clock;
  using Connection = detail::Connection;
  using StepError = detail::StepError;
  /// The body is a view of the Request's (shared) body, which send() keeps
  /// alive until the exchange is over: a part is never copied to be sent.
  using RequestMessage = boost::beast::http::request<boost::beast::http::span_body<const char>>;

  /// What close() must reach in one send(): its connection and any timer it waits on.
  struct InFlight {
    Connection* connection = nullptr;
    boost::asio::steady_timer* wait = nullptr;
  };

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

  Impl(boost::asio::any_io_executor ex, ClientOptions opts)
      : executor(std::move(ex)), options(std::move(opts)) {
    if (options.base.is_https()) context.emplace(boost::asio::ssl::context::tls_client);
  }

  boost::asio::any_io_executor executor;
  ClientOptions options;
  /// Only for an https:// base URL (proxies are http://): a plain-HTTP agent
  /// never initialises OpenSSL's TLS state, per client or per connection.
  std::optional<boost::asio::ssl::context> context;
  std::string proxy_authorization;  // "Basic …" or empty; never logged
  std::string host_header;
  std::vector<std::unique_ptr<Connection>> idle;
  std::vector<InFlight*> in_flight;
  std::size_t opened = 0;
  bool closed = false;

  std::unique_ptr<Connection> take_idle();
  void put_idle(std::unique_ptr<Connection> connection);
  RequestMessage build(const Request& request) const;

  // Coroutines take the Impl by shared_ptr so it outlives them; the
  // references (connection, flight) point into the calling send()'s frame,
  // which awaits each call at once.
  static boost::asio::awaitable<Outcome> send(std::shared_ptr<Impl> self, Request request,
                                              std::chrono::milliseconds total_timeout);
  /// What one write-and-read on a connection gave.
  struct Exchanged {
    StepError error;
    Response response;
    bool reusable = false;  ///< keep-alive and nothing unread: back to the pool
  };
  static boost::asio::awaitable<Exchanged> exchange(std::shared_ptr<Impl> self,
                                                    Connection& connection,
                                                    const RequestMessage& message, bool head,
                                                    bool reused);
  static boost::asio::awaitable<StepError> open(std::shared_ptr<Impl> self, Connection& connection,
                                                InFlight& flight, Clock::time_point deadline);
  static boost::asio::awaitable<std::tuple<StepError, boost::asio::ip::tcp::resolver::results_type>>
  resolve(std::shared_ptr<Impl> self, Url hop, InFlight& flight, Clock::time_point deadline);
  static boost::asio::awaitable<StepError> proxy_connect(std::shared_ptr<Impl> self,
                                                         Connection& connection,
                                                         Clock::time_point deadline);
  static boost::asio::awaitable<StepError> handshake(std::shared_ptr<Impl> self,
                                                     Connection& connection,
                                                     Clock::time_point deadline);
};

}  // namespace outpost::http
