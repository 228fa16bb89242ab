#include "services/common/call_limits.h"

#include "absl/time/clock.h"

namespace pstrack {
namespace {

thread_local ScopedCallLimits* current_limits = nullptr;

}  // namespace

ScopedCallLimits::ScopedCallLimits(absl::Time deadline, std::function<bool()> cancelled)
    : deadline_(deadline), cancelled_(std::move(cancelled)), outer_(current_limits) {
  current_limits = this;
}

ScopedCallLimits::ScopedCallLimits(absl::Time deadline) : deadline_(deadline), outer_(current_limits) {
  current_limits = this;
}

ScopedCallLimits::~ScopedCallLimits() { current_limits = outer_; }

bool ScopedCallLimits::cancelled() const { return cancelled_ && cancelled_(); }

absl::Time CurrentCallDeadline() {
  return current_limits ? current_limits->deadline() : absl::InfiniteFuture();
}

absl::Status CheckCallLimits() {
  if (current_limits == nullptr) return absl::OkStatus();
  if (absl::Now() >= current_limits->deadline()) {
    return absl::DeadlineExceededError("the call's deadline passed; the work was stopped and nothing was committed");
  }
  if (current_limits->cancelled()) return absl::CancelledError("the client cancelled the call");
  return absl::OkStatus();
}

}  // namespace pstrack
