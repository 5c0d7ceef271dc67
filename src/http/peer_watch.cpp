#include "http/peer_watch.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

namespace outpost::http::detail {

using boost::system::error_code;
using tcp = boost::asio::ip::tcp;

PeerWatch::PeerWatch(tcp::socket& socket, std::function<bool()> tls_on,
                     std::function<void()> on_gone)
    : socket_(socket),
      recheck_(socket.get_executor()),
      tls_on_(std::move(tls_on)),
      on_gone_(std::move(on_gone)) {}

// A socket that becomes readable with nothing to read has been closed by the
// peer. When bytes are waiting instead (a pipelined request, or a TLS
// close_notify we cannot decrypt here), fall back to asking the kernel for
// POLLRDHUP.
void PeerWatch::start() {
  watching_ = true;
  socket_.async_wait(tcp::socket::wait_read, [weak = weak_from_this()](error_code ec) {
    auto self = weak.lock();
    if (!self || !self->watching_ || ec) return;
    self->on_readable();
  });
}

void PeerWatch::stop() {
  if (!watching_) return;
  watching_ = false;
  error_code ec;
  socket_.cancel(ec);
  recheck_.cancel();
}

void PeerWatch::abandon() noexcept {
  watching_ = false;
  recheck_.cancel();
}

void PeerWatch::on_readable() {
  char byte = 0;
  const auto n = ::recv(socket_.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  const bool hung_up = n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
  // A TLS 1.2 alert record (close_notify) ends the peer as a hang-up does.
  const bool alert = n > 0 && byte == 0x15 && tls_on_();
  if (hung_up || alert) {
    gone();
  } else if (n < 0) {
    start();
  } else {
    poll_for_hangup();
  }
}

void PeerWatch::poll_for_hangup() {
  recheck_.expires_after(std::chrono::milliseconds(200));
  recheck_.async_wait([weak = weak_from_this()](error_code ec) {
    auto self = weak.lock();
    if (!self || !self->watching_ || ec) return;
    pollfd p{self->socket_.native_handle(), POLLRDHUP, 0};
    if (::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0) {
      self->gone();
    } else {
      self->poll_for_hangup();
    }
  });
}

void PeerWatch::gone() {
  watching_ = false;
  on_gone_();
}

}  // namespace outpost::http::detail
