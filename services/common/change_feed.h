// ChangeFeed: a version number writers bump after each commit that changed
// data, and readers wait on. Writers never block on readers (a bump is an
// increment and a notify), so a slow watcher cannot hold ingestion back.
// Thread-safe.
#ifndef PSTRACK_SERVICES_COMMON_CHANGE_FEED_H_
#define PSTRACK_SERVICES_COMMON_CHANGE_FEED_H_

#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

#include "absl/time/time.h"

namespace pstrack {

class ChangeFeed {
 public:
  void Bump() {
    {
      absl::MutexLock lock(&mu_);
      ++version_;
    }
    cv_.SignalAll();
  }
  uint64_t version() const {
    absl::MutexLock lock(&mu_);
    return version_;
  }
  // Waits until the version differs from `seen` or `deadline` passes;
  // returns the current version.
  uint64_t WaitForChange(uint64_t seen, absl::Time deadline) const {
    absl::MutexLock lock(&mu_);
    while (version_ == seen) {
      if (cv_.WaitWithDeadline(&mu_, deadline)) break;  // the deadline passed
    }
    return version_;
  }

 private:
  mutable absl::Mutex mu_;
  mutable absl::CondVar cv_;
  uint64_t version_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_COMMON_CHANGE_FEED_H_
