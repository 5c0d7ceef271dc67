// Over 400 lines: the Beast session is kept in one TU on purpose, so its
// operations are instantiated once (see server.cpp).
// One server connection: the server half of the Beast firewall, the only
// server file that instantiates Beast's operations, once, for
// detail::Stream (plain or TLS). Everything else sees http/server.hpp.
#include <array>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "http/peer_watch.hpp"
#include "http/responder_state.hpp"
#include "http/server_core.hpp"
#include "http/stream.hpp"

namespace outpost::http::detail {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
constexpr std::uint32_t kHeaderLimit = 16 * 1024;

bool is_http_parse_error(const error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category();
}

/// A request the server refuses: status, code and message of the JSON answer.
struct Refusal {
  int status;
  std::string code;
  std::string message;
};

using Parser = bhttp::request_parser<bhttp::string_body>;

/// What a failed header or body read means for the client: an answer, or
/// nothing (the peer went away, a timeout, a TLS failure).
std::optional<Refusal> refusal_for(const error_code& ec, std::size_t max_body, bool body) {
  if (ec == bhttp::error::body_limit) {
    return Refusal{413, "body_too_large",
                   "request body exceeds " + std::to_string(max_body) + " bytes"};
  }
  if (!body && ec == bhttp::error::header_limit) {
    return Refusal{431, "header_too_large", "request headers exceed 16 KiB"};
  }
  // A peer that closed between requests is no error; one that closed
  // mid-request gets no answer either (it cannot read one).
  if (is_http_parse_error(ec) && (body || ec != bhttp::error::end_of_stream) &&
      ec != bhttp::error::partial_message) {
    return Refusal{
        400, "bad_request",
        std::string(body ? "malformed HTTP request body: " : "malformed HTTP request: ") +
            ec.message()};
  }
  return std::nullopt;
}

/// Beast's message as the facade's Request, inflating a gzip body within
/// the size limit; a Refusal for an encoding we do not take.
std::variant<Request, Refusal> to_request(bhttp::request<bhttp::string_body> msg,
                                          std::size_t max_body) {
  Request req;
  req.method = std::string(msg.method_string());
  req.target = std::string(msg.target());
  std::string encoding;
  for (const auto& field : msg) {
    if (field.name() == bhttp::field::content_encoding) {
      encoding = std::string(field.value());
      continue;
    }
    req.headers.push_back({std::string(field.name_string()), std::string(field.value())});
  }
  req.body = std::move(msg.body());
  if (encoding.empty() || iequals(encoding, "identity")) return req;
  if (!iequals(encoding, "gzip") && !iequals(encoding, "x-gzip")) {
    return Refusal{415, "unsupported_encoding", "Content-Encoding must be gzip or identity"};
  }
  auto inflated = gunzip(req.body, max_body);
  if (!inflated.data) {
    return Refusal{inflated.too_large ? 413 : 400,
                   inflated.too_large ? "body_too_large" : "bad_request",
                   "request body: " + inflated.error};
  }
  req.body = std::move(*inflated.data);
  return req;
}

bool wants_close(const Response& r) {
  auto c = r.header("Connection");
  return c && iequals(*c, "close");
}

/// One connection: reads requests one after another, hands each to the
/// handler and waits (possibly for a long time) for its Responder.
class Session : public SessionBase, public std::enable_shared_from_this<Session> {
 public:
  Session(std::shared_ptr<ServerCore> server, tcp::socket accepted)
      : server_(std::move(server)),
        stream_(std::move(accepted), server_->ssl ? &*server_->ssl : nullptr),
        wake_(stream_.get_executor()),
        watch_(std::make_shared<PeerWatch>(
            socket(), [this] { return stream_.tls_on(); }, [this] { peer_disconnected(); })) {}

  void set_id(std::uint64_t id) { id_ = id; }
  asio::any_io_executor executor() { return stream_.get_executor(); }

  void request_stop() override {
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      self->stopping_ = true;
      if (self->phase_ != Phase::kBusy) self->close_socket();
    });
  }

  void force_close() override {
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      self->stopping_ = true;
      self->forced_ = true;
      self->close_socket();
      self->wake_.cancel();
    });
  }

  static asio::awaitable<void> run(std::shared_ptr<Session> self) {
    co_await self->serve();
    self->watch_->abandon();
    self->close_socket();
    self->server_->remove(self->id_);
  }

 private:
  enum class Phase { kIdle, kReading, kBusy };

  const ServerOptions& options() const { return server_->options; }
  tcp::socket& socket() { return stream_.tcp().socket(); }

  void close_socket() {
    error_code ec;
    socket().shutdown(tcp::socket::shutdown_both, ec);
    socket().close(ec);
  }

  asio::awaitable<bool> handshake() {
    if (!server_->ssl) co_return true;
    stream_.tcp().expires_after(options().header_timeout);
    auto [ec] = co_await stream_.tls().async_handshake(asio::ssl::stream_base::server, kAwait);
    if (ec) co_return false;  // plain-text probes, bad or missing client certificates
    stream_.start_tls();
    co_return true;
  }

  // Waits for the first byte of the next request under the idle timeout; the
  // header timeout then only runs while a request is actually arriving.
  asio::awaitable<bool> await_next_request(bool first) {
    if (buffer_.size() != 0) co_return true;
    stream_.tcp().expires_after(first ? options().header_timeout : options().idle_timeout);
    auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(8192), kAwait);
    if (ec) co_return false;
    buffer_.commit(n);
    co_return true;
  }

  asio::awaitable<void> serve() {
    if (!co_await handshake()) co_return;
    for (bool first = true; !stopping_; first = false) {
      phase_ = Phase::kIdle;
      if (!co_await await_next_request(first)) co_return;
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

  /// Reads the head of a request into parser_ and, for `Expect:
  /// 100-continue`, invites the body. False when the request cannot go on;
  /// `refusal_` then says what to answer, if anything.
  asio::awaitable<bool> read_head() {
    stream_.tcp().expires_after(options().header_timeout);
    auto [ec, n] = co_await bhttp::async_read_header(stream_, buffer_, *parser_, kAwait);
    (void)n;
    if (ec) {
      refusal_ = refusal_for(ec, options().max_body_bytes, false);
      co_return false;
    }
    if (parser_->content_length() && *parser_->content_length() > options().max_body_bytes) {
      refusal_ = refusal_for(bhttp::error::body_limit, options().max_body_bytes, false);
      co_return false;
    }
    auto& head = parser_->get();
    if (auto expect = head.find(bhttp::field::expect);
        expect != head.end() && iequals(expect->value(), "100-continue")) {
      bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, head.version()};
      stream_.tcp().expires_after(options().body_timeout);
      auto [cec, cn] = co_await bhttp::async_write(stream_, cont, kAwait);
      (void)cn;
      if (cec) co_return false;
    }
    co_return true;
  }

  asio::awaitable<bool> read_body() {
    if (parser_->is_done()) co_return true;
    stream_.tcp().expires_after(options().body_timeout);
    auto [ec, n] = co_await bhttp::async_read(stream_, buffer_, *parser_, kAwait);
    (void)n;
    if (ec) refusal_ = refusal_for(ec, options().max_body_bytes, true);
    co_return !ec;
  }

  /// Reads one request; on a protocol error answers it and returns nullopt.
  asio::awaitable<std::optional<std::pair<Request, bool>>> read_request() {
    refusal_.reset();
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(options().max_body_bytes);
    if (co_await read_head() && co_await read_body()) {
      stream_.tcp().expires_never();
      const bool keep_alive = parser_->get().keep_alive();
      auto converted = to_request(parser_->release(), options().max_body_bytes);
      if (auto* req = std::get_if<Request>(&converted)) {
        req->remote_address = peer_address();
        co_return std::make_pair(std::move(*req), keep_alive);
      }
      refusal_ = std::get<Refusal>(std::move(converted));
    }
    if (refusal_) co_await fail(refusal_->status, refusal_->code, std::move(refusal_->message));
    co_return std::nullopt;
  }

  /// The peer's address as text (empty if the socket cannot tell), asked of
  /// the kernel once per connection rather than once per request.
  const std::string& peer_address() {
    if (!peer_address_) {
      error_code ec;
      const auto peer = socket().remote_endpoint(ec);
      peer_address_ = ec ? std::string() : peer.address().to_string();
    }
    return *peer_address_;
  }

  /// The Responder for the request numbered `seq`: its answer is posted to
  /// this connection's strand; peer-gone callbacks run there too.
  std::shared_ptr<ResponderState> responder_for(std::uint64_t seq) {
    auto state = std::make_shared<ResponderState>();
    state->server_owned = true;
    state->post = [ex = stream_.get_executor()](std::function<void()> fn) {
      asio::post(ex, std::move(fn));
    };
    std::weak_ptr<Session> weak = shared_from_this();
    state->send = [weak, seq, ex = stream_.get_executor()](Response r) {
      asio::post(ex, [weak, seq, r = std::move(r)]() mutable {
        if (auto self = weak.lock()) self->deliver(seq, std::move(r));
      });
    };
    return state;
  }

  /// Hands the request to the handler and waits for its Responder (or for the
  /// peer to disconnect, or for a forced stop).
  asio::awaitable<Response> dispatch(Request req) {
    pending_.reset();
    auto state = responder_for(++seq_);
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
    if (!pending_) watch_->start();
    while (!pending_ && !peer_gone_ && !forced_) {
      wake_.expires_at(asio::steady_timer::time_point::max());
      co_await wake_.async_wait(kAwait);
    }
    watch_->stop();
    if (pending_) co_return std::move(*pending_);
    co_return Response{};
  }

  void deliver(std::uint64_t seq, Response r) {
    if (seq != seq_ || pending_ || phase_ != Phase::kBusy) return;
    pending_ = std::move(r);
    wake_.cancel();
  }

  void peer_disconnected() {
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
    if (!has_type && !response.body.empty()) {
      res.set(bhttp::field::content_type, "application/json");
    }
    res.set(bhttp::field::server, options().server_name);
    res.keep_alive(keep_alive);
    res.body() = std::move(response.body);
    res.prepare_payload();
    stream_.tcp().expires_after(options().body_timeout);
    auto [ec, n] = co_await bhttp::async_write(stream_, res, kAwait);
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
    bhttp::response_serializer<bhttp::empty_body> sr{res};
    stream_.tcp().expires_after(options().body_timeout);
    auto [hec, hn] = co_await bhttp::async_write_header(stream_, sr, kAwait);
    (void)hn;
    if (hec) co_return false;
    for (;;) {
      auto piece = co_await next_piece(*response.stream);
      if (!piece) co_return false;  // forced stop, or the source failed
      stream_.tcp().expires_after(options().body_timeout);
      if (piece->empty()) {
        auto [ec, n] = co_await asio::async_write(stream_, bhttp::make_chunk_last(), kAwait);
        (void)n;
        co_return !ec;
      }
      auto [ec, n] =
          co_await asio::async_write(stream_, bhttp::make_chunk(asio::buffer(*piece)), kAwait);
      (void)n;
      if (ec) co_return false;
    }
  }

  /// The source's next piece, delivered from any thread; nullopt when the
  /// source failed or the connection is being force-closed.
  asio::awaitable<std::optional<std::string>> next_piece(BodySource& source) {
    struct Slot {
      bool ready = false;
      std::optional<std::string> piece;
    };
    auto slot = std::make_shared<Slot>();
    std::weak_ptr<Session> weak = shared_from_this();
    source.next([slot, weak, ex = stream_.get_executor()](std::optional<std::string> piece) {
      asio::post(ex, [slot, weak, piece = std::move(piece)]() mutable {
        slot->piece = std::move(piece);
        slot->ready = true;
        if (auto self = weak.lock()) self->wake_.cancel();
      });
    });
    while (!slot->ready && !forced_) {
      wake_.expires_at(asio::steady_timer::time_point::max());
      co_await wake_.async_wait(kAwait);
    }
    if (!slot->ready) co_return std::nullopt;
    co_return std::move(slot->piece);
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
    error_code ec;
    socket().shutdown(tcp::socket::shutdown_send, ec);
    std::array<char, 16384> sink{};
    stream_.tcp().expires_after(std::chrono::seconds(1));
    for (;;) {
      auto [rec, n] = co_await stream_.tcp().async_read_some(asio::buffer(sink), kAwait);
      (void)n;
      if (rec) break;
    }
  }

  std::shared_ptr<ServerCore> server_;
  std::uint64_t id_ = 0;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<Parser> parser_;             ///< the request being read
  std::optional<Refusal> refusal_;           ///< why it is refused, when it is
  std::optional<std::string> peer_address_;  ///< the peer's address, read once
  asio::steady_timer wake_;
  std::shared_ptr<PeerWatch> watch_;  // after stream_: destroyed before the socket it watches
  std::optional<Response> pending_;
  std::weak_ptr<ResponderState> responder_;
  Phase phase_ = Phase::kIdle;
  std::uint64_t seq_ = 0;  ///< numbers requests so a late answer never reaches the next one
  bool stopping_ = false;
  bool forced_ = false;
  bool peer_gone_ = false;
};

}  // namespace

void start_session(const std::shared_ptr<ServerCore>& server, tcp::socket socket) {
  auto session = std::make_shared<Session>(server, std::move(socket));
  auto id = server->add(session);
  if (!id) return;
  session->set_id(*id);
  asio::co_spawn(session->executor(), Session::run(session), [server](const std::exception_ptr& e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      server->report(std::string("connection failed: ") + ex.what());
    }
  });
}

}  // namespace outpost::http::detail
