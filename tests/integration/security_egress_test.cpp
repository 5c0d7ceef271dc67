// The egress allowlist against a real loopback listener: a denied host never
// sees a connection attempt; an allowed one does.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "security/egress.hpp"
#include "support/process.hpp"

namespace outpost::security {
namespace {

/// A listener on 127.0.0.1:0 that accepts and counts connections on a thread.
class CountingListener {
 public:
  CountingListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_, 16) != 0) {
      throw std::runtime_error("cannot listen on 127.0.0.1");
    }
    socklen_t length = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &length);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~CountingListener() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] int accepted() const { return accepted_.load(); }

 private:
  void run() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      const int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client >= 0) {
        ++accepted_;
        ::close(client);
      }
    }
  }

  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<int> accepted_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

/// What a connector does: resolve through the guard, then dial only the
/// addresses it returned. Returns how many connects succeeded.
int dial_through(const NetworkGuard& guard, const std::string& host, std::uint16_t port,
                 std::optional<JobError>& error) {
  const ResolvedHost resolved = guard.resolve(host, port);
  error = resolved.error;
  int connected = 0;
  for (const auto& address : resolved.addresses) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    if (::inet_pton(AF_INET, address.c_str(), &addr.sin_addr) != 1) continue;
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) ++connected;
    ::close(fd);
  }
  return connected;
}

TEST(EgressIntegration, DeniedLoopbackIsNeverDialled) {
  CountingListener listener;
  const EgressGuard guard({"10.0.0.0/8"});
  std::optional<JobError> error;
  EXPECT_EQ(dial_through(guard, "127.0.0.1", listener.port(), error), 0);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, ErrorCode::kEgressDenied);
  EXPECT_NE(error->message.find("127.0.0.1"), std::string::npos) << error->message;

  // A control connection through an allowing guard: once it is accepted, any
  // earlier attempt would have been accepted before it, so exactly one accept
  // proves the denied host saw nothing.
  const EgressGuard allow_loopback({"127.0.0.0/8"});
  std::optional<JobError> no_error;
  EXPECT_EQ(dial_through(allow_loopback, "127.0.0.1", listener.port(), no_error), 1);
  EXPECT_FALSE(no_error);
  ASSERT_TRUE(test::eventually([&] { return listener.accepted() >= 1; }, std::chrono::seconds(5)));
  EXPECT_EQ(listener.accepted(), 1);
}

TEST(EgressIntegration, NameResolvingToAForbiddenAddressIsDenied) {
  CountingListener listener;
  const EgressGuard guard({"10.0.0.0/8"});
  std::optional<JobError> error;
  EXPECT_EQ(dial_through(guard, "localhost", listener.port(), error), 0);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, ErrorCode::kEgressDenied);
  EXPECT_NE(error->message.find("localhost"), std::string::npos) << error->message;

  const EgressGuard by_name({"LOCALHOST"});
  std::optional<JobError> no_error;
  EXPECT_GE(dial_through(by_name, "localhost", listener.port(), no_error), 1);
  EXPECT_FALSE(no_error);
  ASSERT_TRUE(test::eventually([&] { return listener.accepted() >= 1; }, std::chrono::seconds(5)));
  EXPECT_EQ(listener.accepted(), 1);
}

TEST(EgressIntegration, NameWhoseAddressesAreAllInsideACidrIsAllowed) {
  const EgressGuard guard({"127.0.0.0/8", "::1"});
  const auto resolved = guard.resolve("localhost", 5432);
  ASSERT_FALSE(resolved.error) << resolved.error->message;
  EXPECT_FALSE(resolved.addresses.empty());
}

}  // namespace
}  // namespace outpost::security
