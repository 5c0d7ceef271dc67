#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string_view>

namespace outpost {

/// Why a job is being stopped before it finished.
enum class CancelReason {
  kNone,
  kRequested,  ///< the control plane asked (cancel_requested or 410)
  kTimeout,    ///< the job's or the agent's timeout elapsed
  kLeaseLost,  ///< 409: the job went to another attempt
  kShutdown,   ///< the agent's shutdown grace ended
};

std::string_view to_string(CancelReason reason) noexcept;

/// Cooperative cancellation shared by the runtime (which cancels) and a
/// connector (which polls `cancelled()` between rows and installs a hook to
/// interrupt a blocking driver call, e.g. PQcancel or sqlite3_interrupt).
///
/// Thread safety: every member may be called from any thread. The hook runs on
/// the thread that calls `cancel()` (never on the connector's thread), at most
/// once, and never after the `HookRegistration` that installed it is gone.
class CancelToken {
 public:
  class HookRegistration;

  CancelToken() = default;
  CancelToken(const CancelToken&) = delete;
  CancelToken& operator=(const CancelToken&) = delete;

  /// Requests cancellation. The first reason wins; later calls are no-ops.
  void cancel(CancelReason reason);

  [[nodiscard]] bool cancelled() const noexcept {
    return reason_.load(std::memory_order_acquire) != CancelReason::kNone;
  }
  [[nodiscard]] CancelReason reason() const noexcept {
    return reason_.load(std::memory_order_acquire);
  }

  /// Installs `hook` until the returned registration is destroyed. If the token
  /// is already cancelled the hook runs at once, on the calling thread.
  [[nodiscard]] HookRegistration on_cancel(std::function<void()> hook);

  class HookRegistration {
   public:
    HookRegistration() = default;
    HookRegistration(HookRegistration&& other) noexcept : token_(other.token_) {
      other.token_ = nullptr;
    }
    HookRegistration& operator=(HookRegistration&&) = delete;
    HookRegistration(const HookRegistration&) = delete;
    HookRegistration& operator=(const HookRegistration&) = delete;
    ~HookRegistration();

   private:
    friend class CancelToken;
    explicit HookRegistration(CancelToken* token) : token_(token) {}
    CancelToken* token_ = nullptr;
  };

 private:
  std::atomic<CancelReason> reason_{CancelReason::kNone};
  std::mutex mutex_;  // guards hook_ and serialises it against unregistration
  std::function<void()> hook_;
};

}  // namespace outpost
