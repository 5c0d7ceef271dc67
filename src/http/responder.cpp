// The server's plain half: Responder (one answer per request, peer-gone
// notice) and the JSON error bodies. No Asio or Beast: the connection hands
// its send and post paths in through detail::ResponderState.
#include "http/server.hpp"

#include "common/text.hpp"
#include "http/responder_state.hpp"

namespace outpost::http {

namespace detail {

ResponderState::~ResponderState() {
  if (server_owned && send && !responded.exchange(true)) {
    send(json_response(500, json_error_body("internal", "the request was not answered")));
  }
}

void ResponderState::mark_gone() {
  std::vector<std::function<void()>> callbacks;
  {
    std::lock_guard lock(mu);
    if (responded.load() || gone.exchange(true)) return;
    callbacks.swap(gone_callbacks);
  }
  for (auto& cb : callbacks) cb();
}

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
  if (!state_ || !state_->post) return;
  std::lock_guard lock(state_->mu);
  if (state_->responded.load()) return;
  if (state_->gone.load()) {
    state_->post(std::move(callback));
  } else {
    state_->gone_callbacks.push_back(std::move(callback));
  }
}

std::string json_error_body(std::string_view code, std::string_view message) {
  std::string out = R"({"error":{"code":)";
  common::append_json_string(out, code);
  out += R"(,"message":)";
  common::append_json_string(out, message);
  out += "}}";
  return out;
}

Response json_response(int status, std::string body) {
  Response r;
  r.status = status;
  r.headers.push_back({"Content-Type", "application/json"});
  r.body = std::move(body);
  return r;
}

}  // namespace outpost::http
