#include "outpost/cancel.hpp"

#include <utility>

namespace outpost {

std::string_view to_string(CancelReason reason) noexcept {
  switch (reason) {
    case CancelReason::kNone: return "none";
    case CancelReason::kRequested: return "cancel_requested";
    case CancelReason::kTimeout: return "timeout";
    case CancelReason::kLeaseLost: return "lease_lost";
    case CancelReason::kShutdown: return "shutdown";
  }
  return "none";
}

void CancelToken::cancel(CancelReason reason) {
  CancelReason expected = CancelReason::kNone;
  if (!reason_.compare_exchange_strong(expected, reason, std::memory_order_acq_rel)) return;
  // Run the hook under the mutex so its owner cannot unregister (and destroy
  // what it points at) while it runs.
  std::lock_guard lock(mutex_);
  if (hook_) {
    auto hook = std::exchange(hook_, nullptr);
    hook();
  }
}

CancelToken::HookRegistration CancelToken::on_cancel(std::function<void()> hook) {
  std::unique_lock lock(mutex_);
  if (cancelled()) {
    lock.unlock();
    hook();
    return HookRegistration{};
  }
  hook_ = std::move(hook);
  return HookRegistration{this};
}

CancelToken::HookRegistration::~HookRegistration() {
  if (token_ == nullptr) return;
  std::lock_guard lock(token_->mutex_);
  token_->hook_ = nullptr;
}

}  // namespace outpost
