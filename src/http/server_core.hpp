#pragma once

// Private to src/http: what server.cpp (listening, accepting, stopping) and
// server_session.cpp (one connection, the Beast part) share. Asio, no Beast.

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "http/server.hpp"

namespace outpost::http::detail {

/// What the server needs from a connection to stop it.
class SessionBase {
 public:
  virtual ~SessionBase() = default;
  /// Close when idle, or after the response in progress. Thread safe.
  virtual void request_stop() = 0;
  /// Close now. Thread safe.
  virtual void force_close() = 0;
};

/// Everything the connections share; Server::Impl is this under its private name.
struct ServerCore : std::enable_shared_from_this<ServerCore> {
  ServerCore(boost::asio::any_io_executor ex, ServerOptions opts, Handler h);

  boost::asio::any_io_executor executor;
  ServerOptions options;
  Handler handler;
  std::optional<boost::asio::ssl::context> ssl;
  boost::asio::ip::tcp::acceptor acceptor;
  boost::asio::steady_timer drain_timer;  // on the acceptor's strand
  std::uint16_t port = 0;

  std::mutex mu;
  std::unordered_map<std::uint64_t, std::weak_ptr<SessionBase>> sessions;
  std::uint64_t next_id = 0;
  bool stopped = false;

  /// Tells options.on_error, if set.
  void report(std::string_view message) const;
  /// Registers a connection; nullopt once the server is stopping.
  std::optional<std::uint64_t> add(const std::shared_ptr<SessionBase>& session);
  void remove(std::uint64_t id);
  /// Stops accepting; closes idle connections now and busy ones after their
  /// response or options.drain_timeout.
  void stop();

 private:
  std::vector<std::shared_ptr<SessionBase>> live_sessions();  // mu held
};

/// Runs one accepted connection until it closes (server_session.cpp).
void start_session(const std::shared_ptr<ServerCore>& server, boost::asio::ip::tcp::socket socket);

}  // namespace outpost::http::detail
