#pragma once

// Private to src/http: the state behind http::Responder, shared by
// responder.cpp (the facade) and server_session.cpp (the connection that
// fills in `send` and `post`). No Asio or Beast here.

#include <atomic>
#include <functional>
#include <mutex>
#include <vector>

#include "http/message.hpp"

namespace outpost::http::detail {

/// Shared by every copy of one request's Responder and (weakly) by its connection.
struct ResponderState {
  std::function<void(Response)> send;
  /// Runs a callback on the connection's strand (peer-gone callbacks); empty
  /// for a Responder that wraps a plain callable.
  std::function<void(std::function<void()>)> post;
  bool server_owned = false;  ///< a forgotten server request gets a 500 on destruction
  std::atomic<bool> responded{false};
  std::atomic<bool> gone{false};
  std::mutex mu;
  std::vector<std::function<void()>> gone_callbacks;

  ResponderState() = default;
  ResponderState(const ResponderState&) = delete;
  ResponderState& operator=(const ResponderState&) = delete;
  ~ResponderState();

  /// Runs on the connection's strand when the peer disconnected.
  void mark_gone();
};

}  // namespace outpost::http::detail
