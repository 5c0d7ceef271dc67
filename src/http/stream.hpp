#pragma once

// Private to src/http, and Beast: include it only from the TUs that run
// Beast's operations (client.cpp, client_connect.cpp, server_session.cpp).

#include <optional>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace outpost::http::detail {

using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

/// Plain TCP or TLS over TCP, decided per connection at run time, behind one
/// type: Beast's HTTP read/write operations are instantiated once, for
/// Stream, instead of once per transport (they dominate compile time).
/// Reads and writes go through TLS once start_tls() was called (after a
/// successful handshake on tls()), else straight to TCP.
class Stream {
 public:
  using executor_type = boost::beast::tcp_stream::executor_type;

  /// A client connection: TCP first (connect, proxy CONNECT), TLS after
  /// the handshake when `context` is given. The TLS layer then exists from
  /// the start so it can wrap the same TCP stream; a plain-HTTP client
  /// (null `context`) has none.
  Stream(const boost::asio::any_io_executor& executor, boost::asio::ssl::context* context) {
    if (context != nullptr) {
      tls_.emplace(executor, *context);
    } else {
      plain_.emplace(executor);
    }
  }
  /// A server connection on an accepted socket: TLS when `context` is given
  /// (the handshake still has to run), plain TCP otherwise, so a plain
  /// server never allocates TLS state per connection.
  Stream(boost::asio::ip::tcp::socket socket, boost::asio::ssl::context* context) {
    if (context != nullptr) {
      tls_.emplace(std::move(socket), *context);
    } else {
      plain_.emplace(std::move(socket));
    }
  }

  executor_type get_executor() noexcept { return tcp().get_executor(); }
  boost::beast::tcp_stream& tcp() noexcept { return tls_ ? tls_->next_layer() : *plain_; }
  /// Only when constructed with a TLS context.
  TlsStream& tls() noexcept { return *tls_; }
  void start_tls() noexcept { tls_on_ = true; }
  [[nodiscard]] bool tls_on() const noexcept { return tls_on_; }

  template <typename MutableBuffers, typename Handler>
  auto async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    if (tls_on_) return tls_->async_read_some(buffers, std::forward<Handler>(handler));
    return tcp().async_read_some(buffers, std::forward<Handler>(handler));
  }

  template <typename ConstBuffers, typename Handler>
  auto async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    if (tls_on_) return tls_->async_write_some(buffers, std::forward<Handler>(handler));
    return tcp().async_write_some(buffers, std::forward<Handler>(handler));
  }

 private:
  std::optional<boost::beast::tcp_stream> plain_;
  std::optional<TlsStream> tls_;
  bool tls_on_ = false;
};

}  // namespace outpost::http::detail
