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

#include <condition_variable>
#include <functional>
#include <mutex>
#include <vector>

#include "absl/functional/function_ref.h"

namespace pstrack {

template <typename Item>
class GroupCommit {
 public:
  // `flush(items, hand_on)` writes a whole group and fills in each item's
  // result; it runs on the leader's thread, outside the lock, and may call
  // `hand_on` once the next group can start (called after it otherwise).
  using Flush = std::function<void(std::vector<Item*>&, absl::FunctionRef<void()> hand_on)>;
  explicit GroupCommit(Flush flush) : flush_(std::move(flush)) {}

  // Returns once `item` has been flushed (by this thread or another).
  void Submit(Item* item) {
    Waiter me;
    me.item = item;
    std::unique_lock lock(mu_);
    queue_.push_back(&me);
    if (leading_) {
      me.cv.wait(lock, [&] { return me.done || me.lead; });
      if (me.done) return;
    }
    leading_ = true;
    std::vector<Waiter*> group;
    group.swap(queue_);  // later arrivals form the next group
    lock.unlock();
    std::vector<Item*> items;
    items.reserve(group.size());
    for (Waiter* w : group) items.push_back(w->item);
    bool handed_on = false;
    auto hand_on = [&] {
      if (handed_on) return;
      handed_on = true;
      std::lock_guard relock(mu_);
      // Only one waiter wakes to lead the next group. (Waking every waiter
      // for each group, one shared condition variable, cost a context
      // switch per waiting call per group: with 64 concurrent unary writes,
      // more than the writes themselves.)
      if (queue_.empty()) {
        leading_ = false;
      } else {
        queue_.front()->lead = true;
        queue_.front()->cv.notify_one();
      }
    };
    flush_(items, hand_on);
    hand_on();
    lock.lock();
    // Then the callers of this group, whose calls can return. Notified under
    // the lock: a waiter's Waiter lives on its stack until it sees `done`.
    for (Waiter* w : group) {
      if (w == &me) continue;
      w->done = true;
      w->cv.notify_one();
    }
  }

 private:
  struct Waiter {
    Item* item = nullptr;
    std::condition_variable cv;
    bool done = false;  // flushed by another thread's group
    bool lead = false;  // handed the lead of the next group
  };
  Flush flush_;
  std::mutex mu_;
  std::vector<Waiter*> queue_;
  bool leading_ = false;  // a group is being written, or its lead handed on
};

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_COMMON_GROUP_COMMIT_H_
