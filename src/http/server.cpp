// The server's listening half: binding, the accept loop and stopping with a
// drain. Asio only; each connection runs in server_session.cpp, the one
// server file that instantiates Beast.
#include "http/server.hpp"

#include <stdexcept>
#include <string>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "http/server_core.hpp"
#include "http/tls.hpp"

namespace outpost::http {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace detail {

ServerCore::ServerCore(asio::any_io_executor ex, ServerOptions opts, Handler h)
    : executor(std::move(ex)),
      options(std::move(opts)),
      handler(std::move(h)),
      acceptor(asio::make_strand(executor)),
      drain_timer(acceptor.get_executor()) {}

void ServerCore::report(std::string_view message) const {
  if (options.on_error) options.on_error(message);
}

std::optional<std::uint64_t> ServerCore::add(const std::shared_ptr<SessionBase>& session) {
  std::lock_guard lock(mu);
  if (stopped) return std::nullopt;
  sessions.emplace(next_id, session);
  return next_id++;
}

void ServerCore::remove(std::uint64_t id) {
  bool last = false;
  {
    std::lock_guard lock(mu);
    sessions.erase(id);
    last = stopped && sessions.empty();
  }
  if (last) {
    // Nothing left to drain: drop the timer so the executor can run dry.
    asio::post(acceptor.get_executor(),
               [self = shared_from_this()] { self->drain_timer.cancel(); });
  }
}

std::vector<std::shared_ptr<SessionBase>> ServerCore::live_sessions() {
  std::vector<std::shared_ptr<SessionBase>> out;
  for (auto& [id, weak] : sessions) {
    if (auto s = weak.lock()) out.push_back(std::move(s));
  }
  return out;
}

void ServerCore::stop() {
  std::vector<std::shared_ptr<SessionBase>> live;
  {
    std::lock_guard lock(mu);
    if (stopped) return;
    stopped = true;
    live = live_sessions();
  }
  auto self = shared_from_this();
  asio::post(acceptor.get_executor(), [self, any = !live.empty()] {
    error_code ec;
    self->acceptor.close(ec);
    if (!any) return;
    self->drain_timer.expires_after(self->options.drain_timeout);
    self->drain_timer.async_wait([self](error_code wait_ec) {
      if (wait_ec) return;
      std::vector<std::shared_ptr<SessionBase>> rest;
      {
        std::lock_guard lock(self->mu);
        rest = self->live_sessions();
      }
      for (auto& s : rest) s->force_close();
    });
  });
  for (auto& s : live) s->request_stop();
}

}  // namespace detail

namespace {

asio::awaitable<void> accept_loop(std::shared_ptr<detail::ServerCore> server) {
  asio::steady_timer backoff(server->acceptor.get_executor());
  for (;;) {
    auto [ec, socket] = co_await server->acceptor.async_accept(asio::make_strand(server->executor),
                                                               asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted || !server->acceptor.is_open()) co_return;
    if (ec) {
      // Typically EMFILE: back off instead of spinning on the error.
      server->report("accept failed: " + ec.message());
      backoff.expires_after(std::chrono::milliseconds(50));
      co_await backoff.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    error_code opt_ec;
    socket.set_option(tcp::no_delay(true), opt_ec);
    detail::start_session(server, std::move(socket));
  }
}

// Binds and listens on options.host:options.port; returns the bound port.
std::uint16_t listen(tcp::acceptor& acceptor, const ServerOptions& o) {
  error_code ec;
  const auto address = asio::ip::make_address(o.host, ec);
  const std::string where = o.host + ":" + std::to_string(o.port);
  if (ec) throw std::runtime_error("cannot listen on " + where + ": not an IP address");
  const tcp::endpoint endpoint(address, o.port);
  if (acceptor.open(endpoint.protocol(), ec); !ec) {
    acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (acceptor.bind(endpoint, ec); !ec) {
      acceptor.listen(asio::socket_base::max_listen_connections, ec);
    }
  }
  if (ec) throw std::runtime_error("cannot listen on " + where + ": " + ec.message());
  return acceptor.local_endpoint().port();
}

}  // namespace

struct Server::Impl : detail::ServerCore {
  using ServerCore::ServerCore;
};

Server::Server(asio::any_io_executor executor, ServerOptions options, Handler handler)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(options), std::move(handler))) {
  const auto& o = impl_->options;
  if (o.tls_cert.empty() != o.tls_key.empty()) {
    throw std::runtime_error("TLS needs both a certificate and a key");
  }
  if (!o.tls_client_ca.empty() && o.tls_cert.empty()) {
    throw std::runtime_error("a client CA (mutual TLS) needs a server certificate and key");
  }
  if (!o.tls_cert.empty()) {
    impl_->ssl.emplace(asio::ssl::context::tls_server);
    configure_server_context(impl_->ssl->native_handle(), {o.tls_cert, o.tls_key, o.tls_client_ca});
  }
  impl_->port = listen(impl_->acceptor, o);
}

Server::~Server() {
  if (impl_) impl_->stop();
}

std::uint16_t Server::port() const noexcept {
  return impl_->port;
}

void Server::start() {
  asio::co_spawn(impl_->acceptor.get_executor(), accept_loop(impl_),
                 [server = impl_](const std::exception_ptr& e) {
                   if (!e) return;
                   try {
                     std::rethrow_exception(e);
                   } catch (const std::exception& ex) {
                     server->report(std::string("accept loop failed: ") + ex.what());
                   }
                 });
}

void Server::stop() {
  impl_->stop();
}

}  // namespace outpost::http
