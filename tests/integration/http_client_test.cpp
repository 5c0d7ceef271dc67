// The HTTP client against real servers on loopback: plain HTTP behaviour,
// keep-alive, bounds, timeouts and cancellation.
#include "http/client.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "support/fault_proxy.hpp"
#include "support/hostile_server.hpp"
#include "support/process.hpp"

namespace outpost::http {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::HostileServer;

ClientOptions options_for(std::uint16_t port) {
  ClientOptions options;
  options.base = parse_url("http://127.0.0.1:" + std::to_string(port) + "/api").value();
  options.user_agent = "outpost-agent/test";
  return options;
}

Request post(std::string target, std::string body = "{}") {
  Request request;
  request.method = "POST";
  request.target = std::move(target);
  request.headers.push_back({"Authorization", "Bearer secret-token-123"});
  request.headers.push_back({"Content-Type", "application/json"});
  request.body = std::move(body);
  return request;
}

/// Runs one send() to completion on `io`.
Outcome run(asio::io_context& io, Client& client, Request request,
            std::chrono::milliseconds timeout = 5s) {
  std::optional<Outcome> outcome;
  asio::co_spawn(io, client.send(std::move(request), timeout),
                 [&](std::exception_ptr error, Outcome result) {
                   if (error) std::rethrow_exception(error);
                   outcome = std::move(result);
                 });
  io.restart();
  io.run();
  EXPECT_TRUE(outcome.has_value());
  return outcome.value_or(Outcome{});
}

/// Closes `client` once `server` holds `count` requests (polled on the io_context).
asio::awaitable<void> close_when_held(HostileServer* server, Client* client, std::size_t count) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (server->requests().size() < count) {
    timer.expires_after(5ms);
    co_await timer.async_wait(asio::use_awaitable);
  }
  client->close();
}

/// Emits a terminal cancellation on `signal` once `server` holds `count` requests.
asio::awaitable<void> cancel_when_held(HostileServer* server, asio::cancellation_signal* signal,
                                       std::size_t count) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (server->requests().size() < count) {
    timer.expires_after(5ms);
    co_await timer.async_wait(asio::use_awaitable);
  }
  signal->emit(asio::cancellation_type::terminal);
}

HostileServer::Action action(HostileServer::Action::Kind kind) {
  HostileServer::Action a;
  a.kind = kind;
  return a;
}

HostileServer::Action ok_json(std::string body = R"({"ok":true})") {
  return HostileServer::Action::json(200, std::move(body));
}

TEST(HttpClient, PlainRequestAndResponse) {
  HostileServer server([](const HostileServer::Request& r) {
    return HostileServer::Action::json(201, R"({"echo":")" + r.body + "\"}", "X-Test: yes\r\n");
  });
  asio::io_context io;
  Client client(io.get_executor(), options_for(server.port()));
  const Outcome outcome = run(io, client, post("/v1/agent/connect", "hello"));
  ASSERT_TRUE(outcome.ok()) << outcome.error;
  EXPECT_EQ(outcome.response->status, 201);
  EXPECT_EQ(outcome.response->body, R"({"echo":"hello"})");
  bool saw_header = false;
  for (const auto& h : outcome.response->headers)
    saw_header |= h.name == "X-Test" && h.value == "yes";
  EXPECT_TRUE(saw_header);

  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/api/v1/agent/connect");
  EXPECT_EQ(requests[0].body, "hello");
  const std::string& head = requests[0].headers;
  EXPECT_NE(head.find("Host: 127.0.0.1:" + std::to_string(server.port()) + "\r\n"),
            std::string::npos)
      << head;
  EXPECT_NE(head.find("User-Agent: outpost-agent/test\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("Authorization: Bearer secret-token-123\r\n"), std::string::npos);
  EXPECT_NE(head.find("Content-Length: 5\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("Accept-Encoding: gzip\r\n"), std::string::npos) << head;
}

TEST(HttpClient, ErrorStatusIsAResponseNotAFailure) {
  HostileServer server([](const HostileServer::Request&) {
    return HostileServer::Action::json(401, R"({"error":{"code":"unauthorized"}})");
  });
  asio::io_context io;
  Client client(io.get_executor(), options_for(server.port()));
  const Outcome outcome = run(io, client, post("/v1/agent/connect"));
  ASSERT_TRUE(outcome.ok()) << outcome.error;
  EXPECT_EQ(outcome.response->status, 401);
  EXPECT_EQ(outcome.failure, FailureKind::kNone);
}

TEST(HttpClient, KeepAliveReusesOneConnection) {
  HostileServer server([](const HostileServer::Request&) { return ok_json(); });
  test::FaultProxy counter(server.port());  // counts the TCP connections it accepts
  asio::io_context io;
  Client client(io.get_executor(), options_for(counter.port()));
  for (int i = 0; i < 3; ++i) {
    const Outcome outcome = run(io, client, post("/v1/agent/heartbeat"));
    ASSERT_TRUE(outcome.ok()) << outcome.error;
  }
  EXPECT_EQ(server.count("/heartbeat"), 3u);
  EXPECT_EQ(counter.accepted(), 1u);
  EXPECT_EQ(client.connections_opened(), 1u);
}

TEST(HttpClient, ConcurrentRequestsUseTheirOwnConnections) {
  HostileServer server([](const HostileServer::Request& r) {
    if (r.target.ends_with("/slow")) {
      HostileServer::Action a = ok_json(R"({"slow":true})");
      a.kind = HostileServer::Action::Kind::kDribble;
      a.dribble_interval = 1ms;
      return a;
    }
    return ok_json();
  });
  asio::io_context io;
  Client client(io.get_executor(), options_for(server.port()));
  std::optional<Outcome> first;
  std::optional<Outcome> second;
  asio::co_spawn(io, client.send(post("/slow"), 10s),
                 [&](std::exception_ptr, Outcome o) { first = std::move(o); });
  asio::co_spawn(io, client.send(post("/fast"), 10s),
                 [&](std::exception_ptr, Outcome o) { second = std::move(o); });
  io.run();
  ASSERT_TRUE(first && first->ok()) << (first ? first->error : "no outcome");
  ASSERT_TRUE(second && second->ok()) << (second ? second->error : "no outcome");
  EXPECT_EQ(first->response->body, R"({"slow":true})");
  EXPECT_EQ(second->response->body, R"({"ok":true})");
  EXPECT_EQ(client.connections_opened(), 2u);
  // Both connections went back to the pool: the next two requests open none.
  run(io, client, post("/a"));
  run(io, client, post("/b"));
  EXPECT_EQ(client.connections_opened(), 2u);
}

TEST(HttpClient, RetriesOnceWhenAPooledConnectionWasClosed) {
  std::atomic<int> seen{0};
  HostileServer server([&](const HostileServer::Request&) {
    // The second request arrives on the pooled connection: drop it unanswered,
    // as a server that timed the idle connection out at that instant would.
    if (++seen == 2) return action(HostileServer::Action::Kind::kClose);
    return ok_json();
  });
  test::FaultProxy counter(server.port());
  asio::io_context io;
  Client client(io.get_executor(), options_for(counter.port()));
  ASSERT_TRUE(run(io, client, post("/one")).ok());
  const Outcome outcome = run(io, client, post("/two"));
  ASSERT_TRUE(outcome.ok()) << outcome.error;
  EXPECT_EQ(server.count("/two"), 2u);  // sent twice: once on the dead connection, once fresh
  EXPECT_EQ(counter.accepted(), 2u);
}

TEST(HttpClient, FreshConnectionClosedWithoutAnswerIsNotRetried) {
  HostileServer server(
      [](const HostileServer::Request&) { return action(HostileServer::Action::Kind::kClose); });
  asio::io_context io;
  Client client(io.get_executor(), options_for(server.port()));
  const Outcome outcome = run(io, client, post("/v1/agent/jobs/claim"));
  EXPECT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.failure, FailureKind::kIo);
  EXPECT_NE(outcome.error.find("closed by the server"), std::string::npos) << outcome.error;
  EXPECT_EQ(server.count("/claim"), 1u);
}

TEST(HttpClient, GzipResponseIsInflated) {
  const std::string json = R"({"jobs":[)" + std::string(100'000, ' ') + "]}";
  HostileServer server([&](const HostileServer::Request&) {
    return HostileServer::Action::json(200, gzip(json), "Content-Encoding: gzip\r\n");
  });
  asio::io_context io;
  Client client(io.get_executor(), options_for(server.port()));
  const Outcome outcome = run(io, client, post("/v1/agent/jobs/claim"));
  ASSERT_TRUE(outcome.ok()) << outcome.error;
  EXPECT_EQ(outcome.response->body, json);
}

TEST(HttpClient, GzipBombIsBoundedByTheDecompressedSize) {
  const std::string bomb = gzip(std::string(50 * 1024 * 1024, '\0'));  // ~50 KiB compressed
  HostileServer server([&](const HostileServer::Request&) {
    return HostileServer::Action::json(200, bomb, "Content-Encoding: gzip\r\n");
  });
  asio::io_context io;
  ClientOptions options = options_for(server.port());
  options.max_response_bytes = 1024 * 1024;
  Client client(io.get_executor(), options);
  const Outcome outcome = run(io, client, post("/v1/agent/jobs/claim"));
  EXPECT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.failure, FailureKind::kTooLarge) << outcome.error;
}

TEST(HttpClient, CorruptGzipIsAProtocolError) {
  HostileServer server([](const HostileServer::Request&) {
    return HostileServer::Action::json(200, "this is not gzip", "Content-Encoding: gzip\r\n");
  });
  asio::io_context io;
  Client client(io.get_executor(), options_for(server.port()));
  const Outcome outcome = run(io, client, post("/x"));
  EXPECT_EQ(outcome.failure, FailureKind::kProtocol) << outcome.error;
}

TEST(HttpClient, OversizedResponseIsTooLarge) {
  HostileServer server([](const HostileServer::Request&) {
    HostileServer::Action a;
    a.kind = HostileServer::Action::Kind::kHuge;
    a.huge_bytes = 200ull * 1024 * 1024;
    return a;
  });
  asio::io_context io;
  ClientOptions options = options_for(server.port());
  options.max_response_bytes = 1024 * 1024;
  Client client(io.get_executor(), options);
  const Outcome outcome = run(io, client, post("/x"), 30s);
  EXPECT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.failure, FailureKind::kTooLarge);
  EXPECT_NE(outcome.error.find("1048576"), std::string::npos) << outcome.error;
}

TEST(HttpClient, GarbageIsAProtocolError) {
  HostileServer server([](const HostileServer::Request&) {
    HostileServer::Action a;
    a.kind = HostileServer::Action::Kind::kRaw;
    a.body = "SSH-2.0-OpenSSH_9.2\r\n\r\n";
    return a;
  });
  asio::io_context io;
  Client client(io.get_executor(), options_for(server.port()));
  const Outcome outcome = run(io, client, post("/x"));
  EXPECT_EQ(outcome.failure, FailureKind::kProtocol) << outcome.error;
}

TEST(HttpClient, SilentServerTimesOutWithinTheDeadline) {
  HostileServer server(
      [](const HostileServer::Request&) { return action(HostileServer::Action::Kind::kHang); });
  asio::io_context io;
  Client client(io.get_executor(), options_for(server.port()));
  const auto start = std::chrono::steady_clock::now();
  const Outcome outcome = run(io, client, post("/v1/agent/jobs/claim"), 300ms);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(outcome.failure, FailureKind::kTimeout) << outcome.error;
  EXPECT_NE(outcome.error.find("timed out"), std::string::npos) << outcome.error;
  EXPECT_GE(elapsed, 290ms);
  // The deadline holds: one request, no hidden retry (the wall-clock bound
  // only catches a wait that never ends; a loaded machine may be slow).
  EXPECT_EQ(server.count("/v1/agent/jobs/claim"), 1u);
  EXPECT_LT(elapsed, 30s);
}

TEST(HttpClient, HandshakeTimeoutIsHonoured) {
  // A TCP server that accepts but never speaks TLS: the ClientHello is never answered.
  HostileServer server([](const HostileServer::Request&) { return ok_json(); });
  asio::io_context io;
  ClientOptions options = options_for(server.port());
  options.base.scheme = "https";
  options.handshake_timeout = 300ms;
  Client client(io.get_executor(), options);
  const auto start = std::chrono::steady_clock::now();
  const Outcome outcome = run(io, client, post("/x"), 30s);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(outcome.failure, FailureKind::kTimeout) << outcome.error;
  EXPECT_NE(outcome.error.find("TLS handshake"), std::string::npos) << outcome.error;
  EXPECT_GE(elapsed, 290ms);
  EXPECT_LT(elapsed, 5s);  // the handshake deadline, not the 30 s total
}

TEST(HttpClient, ConnectTimeoutIsHonoured) {
  // A listener whose accept queue is full: Linux drops further SYNs, so a
  // connect() neither succeeds nor fails until the client gives up.
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 0), 0);
  socklen_t len = sizeof addr;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  std::vector<int> fillers;
  for (int i = 0; i < 4; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    (void)::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    fillers.push_back(fd);
  }
  asio::io_context io;
  ClientOptions options = options_for(ntohs(addr.sin_port));
  options.connect_timeout = 300ms;
  Client client(io.get_executor(), options);
  const auto start = std::chrono::steady_clock::now();
  const Outcome outcome = run(io, client, post("/x"), 30s);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  for (int fd : fillers) ::close(fd);
  ::close(listener);
  EXPECT_EQ(outcome.failure, FailureKind::kTimeout) << outcome.error;
  EXPECT_NE(outcome.error.find("connecting to 127.0.0.1:"), std::string::npos) << outcome.error;
  EXPECT_GE(elapsed, 290ms);
  EXPECT_LT(elapsed, 5s);
}

TEST(HttpClient, ConnectionRefusedIsAConnectFailure) {
  const std::uint16_t port = test::free_port();  // nothing listens there
  asio::io_context io;
  Client client(io.get_executor(), options_for(port));
  const Outcome outcome = run(io, client, post("/v1/agent/connect"));
  EXPECT_EQ(outcome.failure, FailureKind::kConnect);
  EXPECT_NE(outcome.error.find("refused"), std::string::npos) << outcome.error;
  EXPECT_EQ(outcome.error.find("secret-token-123"), std::string::npos) << outcome.error;
}

TEST(HttpClient, UnknownHostIsAResolveFailure) {
  asio::io_context io;
  ClientOptions options;
  options.base = parse_url("http://no-such-host.invalid/api").value();
  Client client(io.get_executor(), options);
  const Outcome outcome = run(io, client, post("/x"));
  EXPECT_EQ(outcome.failure, FailureKind::kResolve) << outcome.error;
  EXPECT_NE(outcome.error.find("no-such-host.invalid"), std::string::npos);
}

TEST(HttpClient, CloseCancelsRequestsInFlight) {
  HostileServer server(
      [](const HostileServer::Request&) { return action(HostileServer::Action::Kind::kHang); });
  asio::io_context io;
  Client client(io.get_executor(), options_for(server.port()));
  std::optional<Outcome> a;
  std::optional<Outcome> b;
  asio::co_spawn(io, client.send(post("/a"), 30s), [&](std::exception_ptr, Outcome o) { a = o; });
  asio::co_spawn(io, client.send(post("/b"), 30s), [&](std::exception_ptr, Outcome o) { b = o; });
  asio::co_spawn(io, close_when_held(&server, &client, 2), asio::detached);
  const auto start = std::chrono::steady_clock::now();
  io.run();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->failure, FailureKind::kCancelled) << a->error;
  EXPECT_EQ(b->failure, FailureKind::kCancelled) << b->error;
  const Outcome after = run(io, client, post("/c"));
  EXPECT_EQ(after.failure, FailureKind::kCancelled);
}

TEST(HttpClient, CancellationSlotCancelsOneRequestOnly) {
  HostileServer server([](const HostileServer::Request& r) {
    return r.target.ends_with("/hang") ? action(HostileServer::Action::Kind::kHang) : ok_json();
  });
  asio::io_context io;
  Client client(io.get_executor(), options_for(server.port()));
  asio::cancellation_signal signal;
  std::optional<Outcome> cancelled;
  asio::co_spawn(io, client.send(post("/hang"), 30s),
                 asio::bind_cancellation_slot(signal.slot(), [&](std::exception_ptr, Outcome o) {
                   cancelled = std::move(o);
                 }));
  asio::co_spawn(io, cancel_when_held(&server, &signal, 1), asio::detached);
  io.run();
  ASSERT_TRUE(cancelled.has_value());
  EXPECT_EQ(cancelled->failure, FailureKind::kCancelled) << cancelled->error;
  // The client itself stays usable (unlike after close()).
  const Outcome next = run(io, client, post("/next"));
  EXPECT_TRUE(next.ok()) << next.error;
}

TEST(HttpClient, HeadResponseHasNoBody) {
  HostileServer server([](const HostileServer::Request&) {
    // A HEAD answer announces a length but carries no body.
    HostileServer::Action a;
    a.kind = HostileServer::Action::Kind::kRaw;
    a.body = "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n";
    return a;
  });
  asio::io_context io;
  Client client(io.get_executor(), options_for(server.port()));
  Request head;
  head.method = "HEAD";
  head.target = "/x";
  const Outcome outcome = run(io, client, head);
  ASSERT_TRUE(outcome.ok()) << outcome.error;
  EXPECT_EQ(outcome.response->status, 200);
  EXPECT_TRUE(outcome.response->body.empty());
}

// Issue 14 class 7: a CR, LF or NUL in a header value or the target is never
// sent (Beast would serialise it and the server would see an injected header
// or a second request); the call fails as a protocol error instead.
TEST(HttpClient, RefusesToSendControlCharactersInHeadersOrTarget) {
  HostileServer server(
      [](const HostileServer::Request&) { return HostileServer::Action::json(200, "{}"); });
  asio::io_context io;
  Client client(io.get_executor(), options_for(server.port()));
  const std::string injected = "l1\r\nX-Injected: yes\r\n\r\nGET /api/smuggled HTTP/1.1";
  std::vector<Request> bad;
  for (const std::string& value :
       {injected, std::string("l1\nX-Injected: yes"), std::string("l1\0X", 4)}) {
    Request header = post("/v1/agent/jobs/job_1/parts/0");
    header.headers.push_back({"X-Lease-Token", value});
    bad.push_back(std::move(header));
    bad.push_back(post("/v1/agent/jobs/" + value + "/result"));
  }
  for (auto& request : bad) {
    const Outcome outcome = run(io, client, std::move(request));
    EXPECT_FALSE(outcome.ok());
    EXPECT_EQ(outcome.failure, FailureKind::kProtocol) << outcome.error;
    EXPECT_NE(outcome.error.find("refused to send"), std::string::npos) << outcome.error;
    for (const char c : outcome.error) EXPECT_FALSE(c == '\r' || c == '\n' || c == '\0');
  }
  EXPECT_EQ(server.requests().size(), 0u) << "a request with a control character was sent";
  EXPECT_EQ(client.connections_opened(), 0u);
  // The same client still sends a clean request.
  EXPECT_TRUE(run(io, client, post("/v1/agent/jobs/job_1/result")).ok());
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].headers.find("X-Injected"), std::string::npos);
}

}  // namespace
}  // namespace outpost::http
