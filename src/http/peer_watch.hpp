#pragma once

// Private to src/http (Asio, no Beast): notices that a client disconnected
// while its request is pending, so a long poll is not answered to nobody.

#include <functional>
#include <memory>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

namespace outpost::http::detail {

/// Watches one connection's socket between start() and stop(); calls
/// `on_gone` once, on the socket's executor, when the peer has closed it.
/// Used on the connection's strand only. Hold it in a shared_ptr (its
/// pending waits keep only a weak reference) and destroy it before the socket.
class PeerWatch : public std::enable_shared_from_this<PeerWatch> {
 public:
  /// `tls_on`: the connection speaks TLS, so an alert record means close_notify.
  PeerWatch(boost::asio::ip::tcp::socket& socket, std::function<bool()> tls_on,
            std::function<void()> on_gone);

  void start();
  /// Cancels the watch (the response is ready); on_gone will not be called.
  void stop();
  /// Stops without touching the socket (it is closing anyway).
  void abandon() noexcept;

 private:
  void on_readable();
  void poll_for_hangup();
  void gone();

  boost::asio::ip::tcp::socket& socket_;
  boost::asio::steady_timer recheck_;
  std::function<bool()> tls_on_;
  std::function<void()> on_gone_;
  bool watching_ = false;
};

}  // namespace outpost::http::detail
