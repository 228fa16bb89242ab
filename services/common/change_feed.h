// ChangeFeed: a version number writers bump after each commit that changed
// data, and readers wait on. Writers never block on readers (a bump is an
// increment and a notify), so a slow watcher cannot hold ingestion back.
// Thread-safe.
#ifndef PSTRACK_SERVICES_COMMON_CHANGE_FEED_H_
#define PSTRACK_SERVICES_COMMON_CHANGE_FEED_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

#include "absl/time/time.h"

namespace pstrack {

class ChangeFeed {
 public:
  void Bump() {
    {
      std::lock_guard lock(mu_);
      ++version_;
    }
    cv_.notify_all();
  }
  uint64_t version() const {
    std::lock_guard lock(mu_);
    return version_;
  }
  // Waits until the version differs from `seen` or `deadline` passes;
  // returns the current version.
  uint64_t WaitForChange(uint64_t seen, absl::Time deadline) const {
    std::unique_lock lock(mu_);
    cv_.wait_until(lock, absl::ToChronoTime(deadline), [&] { return version_ != seen; });
    return version_;
  }

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  uint64_t version_ = 0;
};

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_COMMON_CHANGE_FEED_H_
