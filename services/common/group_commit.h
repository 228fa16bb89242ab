// Group commit: callers that want a durable write at the same time share one
// transaction (and one fsync). The first caller to find no group in flight
// becomes the leader: it takes every queued item, runs `flush` on them all,
// and wakes their callers; those that arrived meanwhile form the next group,
// led by the first of them. `flush` may hand the lead on early, once its
// transaction has released the write lock (Store::Write's `released`): the
// next group's transaction then runs while this group's log is flushed.
// Used for unary event recording and audit records, where per-call commits
// would cap throughput at one fsync per call. Thread-safe.
#ifndef PSTRACK_SERVICES_COMMON_GROUP_COMMIT_H_
#define PSTRACK_SERVICES_COMMON_GROUP_COMMIT_H_

#include <atomic>
#include <functional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

#include "absl/functional/function_ref.h"
#include "services/common/telemetry.h"

namespace pstrack {

// The metric of group sizes, by queue ("events": unary event recording,
// "audit": audit records).
inline telemetry::Family<telemetry::HistogramSeries>& GroupCommitSizes() {
  return telemetry::Registry::Global().Histogram(
      "pstrack_write_group_size", "Calls committed together in one transaction (group commit), by queue.",
      {1, 2, 4, 8, 16, 32, 64, 128, 256}, {"queue"});
}

template <typename Item>
class GroupCommit {
 public:
  // `flush(items, hand_on)` writes a whole group and fills in each item's
  // result; it runs on the leader's thread, outside the lock, and may call
  // `hand_on` once the next group can start (called after it otherwise).
  using Flush = std::function<void(std::vector<Item*>&, absl::FunctionRef<void()> hand_on)>;
  explicit GroupCommit(Flush flush) : flush_(std::move(flush)) {}

  // Group sizes are observed into `sizes` (the metrics); null for none.
  void set_group_sizes(telemetry::HistogramSeries* sizes) { sizes_ = sizes; }
  // Callers waiting for their item's flush now (queued or in a group).
  int waiting() const { return waiting_.load(std::memory_order_relaxed); }

  // Returns once `item` has been flushed (by this thread or another).
  void Submit(Item* item) {
    waiting_.fetch_add(1, std::memory_order_relaxed);
    struct Done {
      std::atomic<int>& n;
      ~Done() { n.fetch_sub(1, std::memory_order_relaxed); }
    } done{waiting_};
    Waiter me;
    me.item = item;
    mu_.Lock();
    queue_.push_back(&me);
    if (leading_) {
      while (!me.done && !me.lead) me.cv.Wait(&mu_);
      if (me.done) {
        mu_.Unlock();
        return;
      }
    }
    leading_ = true;
    std::vector<Waiter*> group;
    group.swap(queue_);  // later arrivals form the next group
    mu_.Unlock();
    std::vector<Item*> items;
    items.reserve(group.size());
    for (Waiter* w : group) items.push_back(w->item);
    if (sizes_ != nullptr) sizes_->Observe(static_cast<double>(items.size()));
    bool handed_on = false;
    auto hand_on = [&] {
      if (handed_on) return;
      handed_on = true;
      absl::MutexLock relock(&mu_);
      // Only one waiter wakes to lead the next group. (Waking every waiter
      // for each group, one shared condition variable, cost a context
      // switch per waiting call per group: with 64 concurrent unary writes,
      // more than the writes themselves.)
      if (queue_.empty()) {
        leading_ = false;
      } else {
        queue_.front()->lead = true;
        queue_.front()->cv.Signal();
      }
    };
    flush_(items, hand_on);
    hand_on();
    // Then the callers of this group, whose calls can return. Signalled
    // under the lock: a waiter's Waiter lives on its stack until it sees
    // `done`.
    absl::MutexLock relock(&mu_);
    for (Waiter* w : group) {
      if (w == &me) continue;
      w->done = true;
      w->cv.Signal();
    }
  }

 private:
  struct Waiter {
    Item* item = nullptr;
    absl::CondVar cv;
    // Both under GroupCommit::mu_ (a nested struct cannot name it in an
    // annotation).
    bool done = false;  // flushed by another thread's group
    bool lead = false;  // handed the lead of the next group
  };
  Flush flush_;
  telemetry::HistogramSeries* sizes_ = nullptr;
  std::atomic<int> waiting_{0};
  absl::Mutex mu_;
  std::vector<Waiter*> queue_ ABSL_GUARDED_BY(mu_);
  bool leading_ ABSL_GUARDED_BY(mu_) = false;  // a group is being written, or its lead handed on
};

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_COMMON_GROUP_COMMIT_H_
