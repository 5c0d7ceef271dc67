// The server half of the Beast firewall: the only file that instantiates
// Beast's server-side operations. Everything else sees http/server.hpp.
#include "http/server.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace outpost::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace detail {

/// Shared by every copy of one request's Responder and (weakly) by its connection.
struct ResponderState {
  std::function<void(Response)> send;
  bool server_owned = false;       ///< a forgotten server request gets a 500 on destruction
  asio::any_io_executor executor;  ///< the connection's strand, for peer-gone callbacks
  std::atomic<bool> responded{false};
  std::atomic<bool> gone{false};
  std::mutex mu;
  std::vector<std::function<void()>> gone_callbacks;

  ~ResponderState() {
    if (server_owned && send && !responded.exchange(true)) {
      send(json_response(500, json_error_body("internal", "the request was not answered")));
    }
  }

  /// Runs on the connection's strand when the peer disconnected.
  void mark_gone() {
    std::vector<std::function<void()>> callbacks;
    {
      std::lock_guard lock(mu);
      if (responded.load() || gone.exchange(true)) return;
      callbacks.swap(gone_callbacks);
    }
    for (auto& cb : callbacks) cb();
  }
};

}  // namespace detail

Responder::Responder(std::function<void(Response)> send)
    : state_(std::make_shared<detail::ResponderState>()) {
  state_->send = std::move(send);
}

void Responder::operator()(Response response) const {
  if (!state_ || state_->responded.exchange(true)) return;
  {
    // Callbacks registered from now on must not run: the answer is on its way.
    std::lock_guard lock(state_->mu);
    state_->gone_callbacks.clear();
  }
  if (state_->send) state_->send(std::move(response));
}

bool Responder::peer_gone() const noexcept {
  return state_ && state_->gone.load();
}

void Responder::on_peer_gone(std::function<void()> callback) const {
  if (!state_ || !state_->executor) return;
  std::lock_guard lock(state_->mu);
  if (state_->responded.load()) return;
  if (state_->gone.load()) {
    asio::post(state_->executor, std::move(callback));
  } else {
    state_->gone_callbacks.push_back(std::move(callback));
  }
}

std::string json_error_body(std::string_view code, std::string_view message) {
  std::string out = R"({"error":{"code":")";
  auto append_escaped = [&out](std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    for (char c : s) {
      const auto u = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\') {
        out += '\\';
        out += c;
      } else if (u < 0x20) {
        out += "\\u00";
        out += kHex[u >> 4];
        out += kHex[u & 0xF];
      } else {
        out += c;
      }
    }
  };
  append_escaped(code);
  out += R"(","message":")";
  append_escaped(message);
  out += "\"}}";
  return out;
}

Response json_response(int status, std::string body) {
  Response r;
  r.status = status;
  r.headers.push_back({"Content-Type", "application/json"});
  r.body = std::move(body);
  return r;
}

namespace {

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

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
  ServerCore(asio::any_io_executor ex, ServerOptions opts, Handler h)
      : executor(std::move(ex)),
        options(std::move(opts)),
        handler(std::move(h)),
        acceptor(asio::make_strand(executor)),
        drain_timer(acceptor.get_executor()) {}

  asio::any_io_executor executor;
  ServerOptions options;
  Handler handler;
  std::optional<asio::ssl::context> ssl;
  tcp::acceptor acceptor;
  asio::steady_timer drain_timer;  // on the acceptor's strand
  std::uint16_t port = 0;

  std::mutex mu;
  std::unordered_map<std::uint64_t, std::weak_ptr<SessionBase>> sessions;
  std::uint64_t next_id = 0;
  bool stopped = false;

  void report(std::string_view message) const {
    if (options.on_error) options.on_error(message);
  }

  std::optional<std::uint64_t> add(const std::shared_ptr<SessionBase>& s) {
    std::lock_guard lock(mu);
    if (stopped) return std::nullopt;
    sessions.emplace(next_id, s);
    return next_id++;
  }

  void remove(std::uint64_t id) {
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

  std::vector<std::shared_ptr<SessionBase>> live_sessions() {
    std::vector<std::shared_ptr<SessionBase>> out;
    for (auto& [id, weak] : sessions) {
      if (auto s = weak.lock()) out.push_back(std::move(s));
    }
    return out;
  }

  void stop() {
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
};

bool is_http_parse_error(const error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category();
}

template <class Stream>
constexpr bool kIsTls = std::is_same_v<Stream, TlsStream>;

/// One connection: reads requests one after another, hands each to the
/// handler and waits (possibly for a long time) for its Responder.
template <class Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  template <class... StreamArgs>
  Session(std::shared_ptr<ServerCore> server, std::uint64_t id, StreamArgs&&... args)
      : server_(std::move(server)),
        id_(id),
        stream_(std::forward<StreamArgs>(args)...),
        wake_(stream_.get_executor()),
        recheck_(stream_.get_executor()) {}

  void set_id(std::uint64_t id) { id_ = id; }
  asio::any_io_executor stream_executor() { return stream_.get_executor(); }

  void request_stop() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
      self->stopping_ = true;
      if (self->phase_ != Phase::kBusy) self->close_socket();
    });
  }

  void force_close() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
      self->stopping_ = true;
      self->forced_ = true;
      self->close_socket();
      self->wake_.cancel();
    });
  }

  static asio::awaitable<void> run(std::shared_ptr<Session> self) {
    co_await self->serve();
    self->watching_ = false;
    self->recheck_.cancel();
    self->close_socket();
    self->server_->remove(self->id_);
  }

 private:
  enum class Phase { kIdle, kReading, kBusy };

  const ServerOptions& options() const { return server_->options; }
  tcp::socket& socket() { return beast::get_lowest_layer(stream_).socket(); }

  void close_socket() {
    error_code ec;
    socket().shutdown(tcp::socket::shutdown_both, ec);
    socket().close(ec);
  }

  asio::awaitable<void> serve() {
    auto& lowest = beast::get_lowest_layer(stream_);
    if constexpr (kIsTls<Stream>) {
      lowest.expires_after(options().header_timeout);
      auto [ec] = co_await stream_.async_handshake(asio::ssl::stream_base::server,
                                                   asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;  // plain-text probes, bad or missing client certificates
    }
    bool first = true;
    while (!stopping_) {
      // Wait for the first byte of the next request under the idle timeout;
      // the header timeout then only runs while a request is actually arriving.
      phase_ = Phase::kIdle;
      if (buffer_.size() == 0) {
        lowest.expires_after(first ? options().header_timeout : options().idle_timeout);
        auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(8192),
                                                        asio::as_tuple(asio::use_awaitable));
        if (ec) co_return;
        buffer_.commit(n);
      }
      first = false;
      phase_ = Phase::kReading;
      auto request = co_await read_request();
      if (!request) co_return;
      phase_ = Phase::kBusy;
      const bool keep_alive = request->second;
      Response response = co_await dispatch(std::move(request->first));
      if (forced_ || peer_gone_) co_return;
      const bool close_after = !keep_alive || stopping_ || wants_close(response);
      if (!co_await write(std::move(response), !close_after)) co_return;
      if (close_after) {
        co_await graceful_close();
        co_return;
      }
    }
  }

  static bool wants_close(const Response& r) {
    auto c = r.header("Connection");
    return c && iequals(*c, "close");
  }

  /// Reads one request; on a protocol error answers it and returns nullopt.
  asio::awaitable<std::optional<std::pair<Request, bool>>> read_request() {
    auto& lowest = beast::get_lowest_layer(stream_);
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(16 * 1024);
    parser.body_limit(options().max_body_bytes);

    lowest.expires_after(options().header_timeout);
    auto [hec, hn] = co_await bhttp::async_read_header(stream_, buffer_, parser,
                                                       asio::as_tuple(asio::use_awaitable));
    (void)hn;
    if (hec) {
      if (hec == bhttp::error::body_limit) {
        // Beast checks Content-Length against the limit while parsing the header.
        co_await fail(
            413, "body_too_large",
            "request body exceeds " + std::to_string(options().max_body_bytes) + " bytes");
      } else if (hec == bhttp::error::header_limit) {
        co_await fail(431, "header_too_large", "request headers exceed 16 KiB");
      } else if (is_http_parse_error(hec) && hec != bhttp::error::end_of_stream &&
                 hec != bhttp::error::partial_message) {
        co_await fail(400, "bad_request", "malformed HTTP request: " + hec.message());
      }
      co_return std::nullopt;
    }
    auto& head = parser.get();
    if (parser.content_length() && *parser.content_length() > options().max_body_bytes) {
      co_await fail(413, "body_too_large",
                    "request body exceeds " + std::to_string(options().max_body_bytes) + " bytes");
      co_return std::nullopt;
    }
    if (auto expect = head.find(bhttp::field::expect);
        expect != head.end() && iequals(expect->value(), "100-continue")) {
      bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, head.version()};
      lowest.expires_after(options().body_timeout);
      auto [cec, cn] =
          co_await bhttp::async_write(stream_, cont, asio::as_tuple(asio::use_awaitable));
      (void)cn;
      if (cec) co_return std::nullopt;
    }
    if (!parser.is_done()) {
      lowest.expires_after(options().body_timeout);
      auto [bec, bn] =
          co_await bhttp::async_read(stream_, buffer_, parser, asio::as_tuple(asio::use_awaitable));
      (void)bn;
      if (bec == bhttp::error::body_limit) {
        co_await fail(
            413, "body_too_large",
            "request body exceeds " + std::to_string(options().max_body_bytes) + " bytes");
        co_return std::nullopt;
      }
      if (bec) {
        if (is_http_parse_error(bec) && bec != bhttp::error::partial_message) {
          co_await fail(400, "bad_request", "malformed HTTP request body: " + bec.message());
        }
        co_return std::nullopt;
      }
    }
    lowest.expires_never();

    auto msg = parser.release();
    Request req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    error_code peer_ec;
    const auto peer = socket().remote_endpoint(peer_ec);
    if (!peer_ec) req.remote_address = peer.address().to_string();
    std::string encoding;
    for (const auto& field : msg) {
      if (field.name() == bhttp::field::content_encoding) {
        encoding = std::string(field.value());
        continue;
      }
      req.headers.push_back({std::string(field.name_string()), std::string(field.value())});
    }
    req.body = std::move(msg.body());
    if (!encoding.empty() && !iequals(encoding, "identity")) {
      if (!iequals(encoding, "gzip") && !iequals(encoding, "x-gzip")) {
        co_await fail(415, "unsupported_encoding", "Content-Encoding must be gzip or identity");
        co_return std::nullopt;
      }
      auto inflated = gunzip(req.body, options().max_body_bytes);
      if (!inflated.data) {
        co_await fail(inflated.too_large ? 413 : 400,
                      inflated.too_large ? "body_too_large" : "bad_request",
                      "request body: " + inflated.error);
        co_return std::nullopt;
      }
      req.body = std::move(*inflated.data);
    }
    co_return std::make_pair(std::move(req), msg.keep_alive());
  }

  /// Hands the request to the handler and waits for its Responder (or for the
  /// peer to disconnect, or for a forced stop).
  asio::awaitable<Response> dispatch(Request req) {
    pending_.reset();
    const std::uint64_t seq = ++seq_;
    auto state = std::make_shared<detail::ResponderState>();
    state->server_owned = true;
    state->executor = stream_.get_executor();
    std::weak_ptr<Session> weak = this->shared_from_this();
    state->send = [weak, seq, ex = stream_.get_executor()](Response r) {
      asio::post(ex, [weak, seq, r = std::move(r)]() mutable {
        if (auto self = weak.lock()) self->deliver(seq, std::move(r));
      });
    };
    responder_ = state;
    try {
      server_->handler(std::move(req), Responder(state));
      state.reset();
    } catch (const std::exception& e) {
      state->responded = true;
      state.reset();
      server_->report(std::string("request handler threw: ") + e.what());
      if (!pending_) pending_ = json_response(500, json_error_body("internal", "internal error"));
    }
    if (!pending_) start_peer_watch();
    while (!pending_ && !peer_gone_ && !forced_) {
      wake_.expires_at(asio::steady_timer::time_point::max());
      co_await wake_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    stop_peer_watch();
    if (pending_) co_return std::move(*pending_);
    co_return Response{};
  }

  void deliver(std::uint64_t seq, Response r) {
    if (seq != seq_ || pending_ || phase_ != Phase::kBusy) return;
    pending_ = std::move(r);
    wake_.cancel();
  }

  // Disconnect detection while a request is pending: a plain socket that
  // becomes readable with nothing to read has been closed by the peer. When
  // bytes are waiting instead (a pipelined request, or a TLS close_notify we
  // cannot decrypt here), fall back to asking the kernel for POLLRDHUP.
  void start_peer_watch() {
    watching_ = true;
    socket().async_wait(tcp::socket::wait_read, [weak = this->weak_from_this()](error_code ec) {
      auto self = weak.lock();
      if (!self || !self->watching_ || ec) return;
      self->on_readable();
    });
  }

  void stop_peer_watch() {
    if (!watching_) return;
    watching_ = false;
    error_code ec;
    socket().cancel(ec);
    recheck_.cancel();
  }

  void on_readable() {
    char byte = 0;
    const auto n = ::recv(socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
      peer_disconnected();
    } else if (n < 0) {
      start_peer_watch();
    } else if (kIsTls<Stream> && byte == 0x15) {
      peer_disconnected();  // a TLS 1.2 alert record: close_notify
    } else {
      poll_for_hangup();
    }
  }

  void poll_for_hangup() {
    recheck_.expires_after(std::chrono::milliseconds(200));
    recheck_.async_wait([weak = this->weak_from_this()](error_code ec) {
      auto self = weak.lock();
      if (!self || !self->watching_ || ec) return;
      pollfd p{self->socket().native_handle(), POLLRDHUP, 0};
      if (::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0) {
        self->peer_disconnected();
      } else {
        self->poll_for_hangup();
      }
    });
  }

  void peer_disconnected() {
    watching_ = false;
    peer_gone_ = true;
    if (auto state = responder_.lock()) state->mark_gone();
    wake_.cancel();
  }

  asio::awaitable<bool> write(Response response, bool keep_alive) {
    if (response.stream) co_return co_await write_stream(std::move(response), keep_alive);
    bhttp::response<bhttp::string_body> res;
    res.version(11);
    res.result(static_cast<unsigned>(response.status > 0 ? response.status : 500));
    bool has_type = false;
    for (auto& h : response.headers) {
      if (iequals(h.name, "Content-Length") || iequals(h.name, "Connection")) continue;
      if (iequals(h.name, "Content-Type")) has_type = true;
      res.insert(h.name, h.value);
    }
    if (!has_type && !response.body.empty())
      res.set(bhttp::field::content_type, "application/json");
    res.set(bhttp::field::server, options().server_name);
    res.keep_alive(keep_alive);
    res.body() = std::move(response.body);
    res.prepare_payload();
    beast::get_lowest_layer(stream_).expires_after(options().body_timeout);
    auto [ec, n] = co_await bhttp::async_write(stream_, res, asio::as_tuple(asio::use_awaitable));
    (void)n;
    co_return !ec;
  }

  /// Sends a BodySource's pieces as chunks, asking for the next piece only
  /// once the previous one is written, so a slow client holds one piece.
  asio::awaitable<bool> write_stream(Response response, bool keep_alive) {
    bhttp::response<bhttp::empty_body> res;
    res.version(11);
    res.result(static_cast<unsigned>(response.status > 0 ? response.status : 200));
    for (auto& h : response.headers) {
      if (iequals(h.name, "Content-Length") || iequals(h.name, "Connection") ||
          iequals(h.name, "Transfer-Encoding")) {
        continue;
      }
      res.insert(h.name, h.value);
    }
    res.set(bhttp::field::server, options().server_name);
    res.keep_alive(keep_alive);
    res.chunked(true);
    auto& lowest = beast::get_lowest_layer(stream_);
    bhttp::response_serializer<bhttp::empty_body> sr{res};
    lowest.expires_after(options().body_timeout);
    auto [hec, hn] =
        co_await bhttp::async_write_header(stream_, sr, asio::as_tuple(asio::use_awaitable));
    (void)hn;
    if (hec) co_return false;
    struct Slot {
      bool ready = false;
      std::optional<std::string> piece;
    };
    for (;;) {
      auto slot = std::make_shared<Slot>();
      std::weak_ptr<Session> weak = this->shared_from_this();
      response.stream->next(
          [slot, weak, ex = stream_.get_executor()](std::optional<std::string> piece) {
            asio::post(ex, [slot, weak, piece = std::move(piece)]() mutable {
              slot->piece = std::move(piece);
              slot->ready = true;
              if (auto self = weak.lock()) self->wake_.cancel();
            });
          });
      while (!slot->ready && !forced_) {
        wake_.expires_at(asio::steady_timer::time_point::max());
        co_await wake_.async_wait(asio::as_tuple(asio::use_awaitable));
      }
      if (!slot->ready || !slot->piece) co_return false;  // forced stop, or the source failed
      lowest.expires_after(options().body_timeout);
      if (slot->piece->empty()) {
        auto [ec, n] = co_await asio::async_write(stream_, bhttp::make_chunk_last(),
                                                  asio::as_tuple(asio::use_awaitable));
        (void)n;
        co_return !ec;
      }
      auto [ec, n] =
          co_await asio::async_write(stream_, bhttp::make_chunk(asio::buffer(*slot->piece)),
                                     asio::as_tuple(asio::use_awaitable));
      (void)n;
      if (ec) co_return false;
    }
  }

  /// Answers a request we refuse and closes, draining what the client is
  /// still sending so that it sees the answer rather than a reset.
  asio::awaitable<void> fail(int status, std::string_view code, std::string message) {
    phase_ = Phase::kBusy;
    auto r = json_response(status, json_error_body(code, message));
    if (co_await write(std::move(r), false)) co_await graceful_close();
  }

  // No TLS close_notify: the response carried its length, so the client
  // knows it is complete; what matters is that closing with unread request
  // bytes does not turn into a reset that destroys the answer in flight.
  asio::awaitable<void> graceful_close() {
    auto& lowest = beast::get_lowest_layer(stream_);
    error_code ec;
    socket().shutdown(tcp::socket::shutdown_send, ec);
    std::array<char, 16384> sink{};
    lowest.expires_after(std::chrono::seconds(1));
    for (;;) {
      auto [rec, n] =
          co_await lowest.async_read_some(asio::buffer(sink), asio::as_tuple(asio::use_awaitable));
      (void)n;
      if (rec) break;
    }
  }

  std::shared_ptr<ServerCore> server_;
  std::uint64_t id_;
  Stream stream_;
  beast::flat_buffer buffer_;
  asio::steady_timer wake_;
  asio::steady_timer recheck_;
  std::optional<Response> pending_;
  std::weak_ptr<detail::ResponderState> responder_;
  Phase phase_ = Phase::kIdle;
  std::uint64_t seq_ = 0;  ///< numbers requests so a late answer never reaches the next one
  bool stopping_ = false;
  bool forced_ = false;
  bool peer_gone_ = false;
  bool watching_ = false;
};

asio::awaitable<void> accept_loop(std::shared_ptr<ServerCore> server) {
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
    auto spawn = [&](auto session) {
      auto id = server->add(session);
      if (!id) return;
      session->set_id(*id);
      auto strand = session->stream_executor();
      asio::co_spawn(strand, std::remove_reference_t<decltype(*session)>::run(session),
                     [server](std::exception_ptr e) {
                       if (!e) return;
                       try {
                         std::rethrow_exception(e);
                       } catch (const std::exception& ex) {
                         server->report(std::string("connection failed: ") + ex.what());
                       }
                     });
    };
    if (server->ssl) {
      spawn(std::make_shared<Session<TlsStream>>(server, 0, std::move(socket), *server->ssl));
    } else {
      spawn(std::make_shared<Session<PlainStream>>(server, 0, std::move(socket)));
    }
  }
}

void load_tls(asio::ssl::context& ctx, const ServerOptions& o) {
  ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                  asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                  asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  auto load = [](const std::string& what, const std::string& file, auto&& fn) {
    error_code ec;
    fn(ec);
    if (ec)
      throw std::runtime_error("cannot load TLS " + what + " '" + file + "': " + ec.message());
  };
  load("certificate", o.tls_cert,
       [&](error_code& ec) { ctx.use_certificate_chain_file(o.tls_cert, ec); });
  load("key", o.tls_key,
       [&](error_code& ec) { ctx.use_private_key_file(o.tls_key, asio::ssl::context::pem, ec); });
  if (SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
    throw std::runtime_error("TLS key '" + o.tls_key + "' does not match certificate '" +
                             o.tls_cert + "'");
  }
  if (!o.tls_client_ca.empty()) {
    load("client CA", o.tls_client_ca,
         [&](error_code& ec) { ctx.load_verify_file(o.tls_client_ca, ec); });
    ctx.set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
  }
}

}  // namespace

struct Server::Impl : ServerCore {
  using ServerCore::ServerCore;
};

Server::Server(asio::any_io_executor executor, ServerOptions options, Handler handler)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(options), std::move(handler))) {
  auto& o = impl_->options;
  if (o.tls_cert.empty() != o.tls_key.empty()) {
    throw std::runtime_error("TLS needs both a certificate and a key");
  }
  if (!o.tls_client_ca.empty() && o.tls_cert.empty()) {
    throw std::runtime_error("a client CA (mutual TLS) needs a server certificate and key");
  }
  if (!o.tls_cert.empty()) {
    impl_->ssl.emplace(asio::ssl::context::tls_server);
    load_tls(*impl_->ssl, o);
  }
  error_code ec;
  const auto address = asio::ip::make_address(o.host, ec);
  const std::string where = o.host + ":" + std::to_string(o.port);
  if (ec) throw std::runtime_error("cannot listen on " + where + ": not an IP address");
  const tcp::endpoint endpoint(address, o.port);
  auto& acc = impl_->acceptor;
  if (acc.open(endpoint.protocol(), ec); !ec) {
    acc.set_option(asio::socket_base::reuse_address(true), ec);
    if (acc.bind(endpoint, ec); !ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) throw std::runtime_error("cannot listen on " + where + ": " + ec.message());
  impl_->port = acc.local_endpoint().port();
}

Server::~Server() {
  if (impl_) impl_->stop();
}

std::uint16_t Server::port() const noexcept {
  return impl_->port;
}

void Server::start() {
  asio::co_spawn(impl_->acceptor.get_executor(), accept_loop(impl_),
                 [server = impl_](std::exception_ptr e) {
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
