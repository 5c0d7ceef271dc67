#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/loopback_server.hpp"

namespace outpost::test {

/// A deliberately misbehaving control plane for reliability tests: plain HTTP
/// on 127.0.0.1, one thread per connection, and a handler that decides, per
/// request, whether to answer properly or to misbehave in one of the ways a
/// broken network or server does.
class HostileServer : public LoopbackServer {
 public:
  struct Request {
    std::string method;
    std::string target;
    std::string headers;  ///< raw header block
    std::string body;
    std::chrono::steady_clock::time_point at;  ///< when the request was complete
  };

  /// What to send back for one request.
  struct Action {
    enum class Kind {
      kRespond,  ///< a well-formed response with `status`, `headers`, `body`
      kRaw,      ///< `body` written as raw bytes (garbage, truncated), then close
      kHuge,     ///< a 200 with Content-Length `huge_bytes` of JSON-ish filler, streamed
      kDribble,  ///< a well-formed response written one byte per `dribble_interval`
      kHang,     ///< read the request, never answer (until the server stops)
      kClose,    ///< close the connection without a byte
    };
    Kind kind = Kind::kRespond;
    int status = 200;
    std::string headers;  ///< extra header lines, each ending in "\r\n"
    std::string body;
    std::uint64_t huge_bytes = 0;
    std::chrono::milliseconds dribble_interval{1000};

    static Action json(int status, std::string body, std::string extra_headers = {});
  };

  using Handler = std::function<Action(const Request&)>;

  explicit HostileServer(Handler handler);
  ~HostileServer() override;

  [[nodiscard]] std::string base_url() const;  ///< http://127.0.0.1:<port>/api

  /// Requests seen so far (copy), oldest first.
  [[nodiscard]] std::vector<Request> requests() const;
  /// How many requests had a target ending in `suffix`.
  [[nodiscard]] std::size_t count(const std::string& suffix) const;

 private:
  void serve(int fd) override;
  /// Carries out `action` for one request; false when the connection must close.
  bool act(int fd, const Action& action);

  Handler handler_;
  mutable std::mutex mutex_;
  std::vector<Request> requests_;
};

}  // namespace outpost::test
