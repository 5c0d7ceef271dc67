#include "support/rogue_mysql_server.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <optional>
#include <stdexcept>

namespace outpost::test {
namespace {

// Capability flags of the greeting (protocol 4.1, secure connection, plugin auth).
constexpr std::uint32_t kCapabilities = 0x00000001 | 0x00000002 | 0x00000004 | 0x00000008 |
                                        0x00000080 | 0x00000200 | 0x00002000 | 0x00008000 |
                                        0x00020000 | 0x00080000;

struct Packet {
  std::uint8_t seq = 0;
  std::string payload;
  std::string raw;  // header + payload as received
};

void put_u16(std::string& out, std::uint32_t v) {
  out.push_back(static_cast<char>(v & 0xFF));
  out.push_back(static_cast<char>((v >> 8) & 0xFF));
}

bool write_packet(int fd, std::uint8_t seq, const std::string& payload) {
  std::string out;
  const auto n = static_cast<std::uint32_t>(payload.size());
  out.push_back(static_cast<char>(n & 0xFF));
  out.push_back(static_cast<char>((n >> 8) & 0xFF));
  out.push_back(static_cast<char>((n >> 16) & 0xFF));
  out.push_back(static_cast<char>(seq));
  out += payload;
  std::size_t sent = 0;
  while (sent < out.size()) {
    const auto w = ::send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (w <= 0) return false;
    sent += static_cast<std::size_t>(w);
  }
  return true;
}

// Reads exactly `n` bytes unless the peer closes or `wake` becomes readable.
bool read_exact(int fd, int wake, char* buffer, std::size_t n) {
  std::size_t got = 0;
  while (got < n) {
    pollfd fds[2] = {{fd, POLLIN, 0}, {wake, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) continue;
    if (fds[1].revents != 0) return false;
    const auto r = ::recv(fd, buffer + got, n - got, 0);
    if (r <= 0) return false;
    got += static_cast<std::size_t>(r);
  }
  return true;
}

std::optional<Packet> read_packet(int fd, int wake) {
  char header[4];
  if (!read_exact(fd, wake, header, 4)) return std::nullopt;
  const std::size_t length =
      static_cast<unsigned char>(header[0]) |
      (static_cast<std::size_t>(static_cast<unsigned char>(header[1])) << 8) |
      (static_cast<std::size_t>(static_cast<unsigned char>(header[2])) << 16);
  Packet p;
  p.seq = static_cast<std::uint8_t>(header[3]);
  p.payload.resize(length);
  if (length > 0 && !read_exact(fd, wake, p.payload.data(), length)) return std::nullopt;
  p.raw.assign(header, 4);
  p.raw += p.payload;
  return p;
}

std::string ok_packet() {
  return std::string("\x00\x00\x00\x02\x00\x00\x00", 7);  // OK, 0 rows, autocommit, 0 warnings
}

std::string greeting() {
  std::string g;
  g.push_back(10);  // protocol v10
  g += "8.0.36-rogue";
  g.push_back('\0');
  g += std::string("\x07\x00\x00\x00", 4);  // connection id
  g += "abcdefgh";                          // scramble, first 8 bytes
  g.push_back('\0');
  put_u16(g, kCapabilities & 0xFFFF);
  g.push_back(static_cast<char>(45));  // utf8mb4_general_ci
  put_u16(g, 0x0002);                  // status: autocommit
  put_u16(g, kCapabilities >> 16);
  g.push_back(21);  // scramble length
  g += std::string(10, '\0');
  g += "ijklmnopqrst";  // scramble, last 12 bytes
  g.push_back('\0');
  g += "mysql_native_password";
  g.push_back('\0');
  return g;
}

}  // namespace

RogueMysqlServer::RogueMysqlServer(std::string filename)
    : LoopbackServer("RogueMysqlServer"), filename_(std::move(filename)) {
  start();
}

RogueMysqlServer::~RogueMysqlServer() {
  stop();  // connection threads first: they use this object
}

std::string RogueMysqlServer::received_after_request() const {
  std::lock_guard lock(mutex_);
  return received_;
}

bool RogueMysqlServer::wait_for_close(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return closed_.wait_for(lock, timeout, [this] { return closed_after_request_ > 0; });
}

bool RogueMysqlServer::admit(int /*fd*/) {
  ++connections_;
  return true;
}

void RogueMysqlServer::serve(int fd) {
  bool requested = false;
  auto record = [&](const Packet& p) {
    if (!requested) return;
    std::lock_guard lock(mutex_);
    received_ += p.raw;
  };
  auto finish = [&] {
    if (!requested) return;
    {
      std::lock_guard lock(mutex_);
      ++closed_after_request_;
    }
    closed_.notify_all();
  };
  if (!write_packet(fd, 0, greeting())) return finish();
  auto login = read_packet(fd, wake_fd());
  if (!login || !write_packet(fd, static_cast<std::uint8_t>(login->seq + 1), ok_packet())) {
    return finish();
  }
  for (;;) {
    auto command = read_packet(fd, wake_fd());
    if (!command) return finish();
    record(*command);
    if (command->payload.empty()) continue;
    const auto code = static_cast<unsigned char>(command->payload[0]);
    if (code == 0x01) return finish();  // COM_QUIT
    if (code != 0x03) {                 // anything but COM_QUERY: OK
      if (!write_packet(fd, 1, ok_packet())) return finish();
      continue;
    }
    // LOCAL INFILE request: 0xFB followed by the file name.
    if (!write_packet(fd, 1, "\xFB" + filename_)) return finish();
    requested = true;
    ++requests_;
    // The client answers with the file's packets and an empty one (or only
    // the empty one, when it refuses); everything is recorded.
    for (;;) {
      auto data = read_packet(fd, wake_fd());
      if (!data) return finish();
      record(*data);
      if (data->payload.empty()) {
        if (!write_packet(fd, static_cast<std::uint8_t>(data->seq + 1), ok_packet())) {
          return finish();
        }
        break;
      }
    }
  }
}

}  // namespace outpost::test
