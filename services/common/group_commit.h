// Group commit: callers that want a durable write at the same time share one
// transaction (and one fsync). The first caller to find no group in flight
// becomes the leader: it takes every queued item, runs `flush` on them all,
// and wakes the others; those that arrived meanwhile form the next group.
// Used for unary event recording and audit records, where per-call commits
// would cap throughput at one fsync per call. Thread-safe.
#ifndef PSTRACK_SERVICES_COMMON_GROUP_COMMIT_H_
#define PSTRACK_SERVICES_COMMON_GROUP_COMMIT_H_

#include <condition_variable>
#include <functional>
#include <mutex>
#include <vector>

namespace pstrack {

template <typename Item>
class GroupCommit {
 public:
  // `flush` writes a whole group and fills in each item's result; it runs on
  // the leader's thread, outside the lock.
  explicit GroupCommit(std::function<void(std::vector<Item*>&)> flush) : flush_(std::move(flush)) {}

  // Returns once `item` has been flushed (by this thread or another).
  void Submit(Item* item) {
    std::unique_lock lock(mu_);
    queue_.push_back(item);
    const uint64_t my_group = next_group_;
    while (flushed_groups_ <= my_group) {
      if (leading_) {
        cv_.wait(lock);
        continue;
      }
      leading_ = true;
      std::vector<Item*> group;
      group.swap(queue_);
      ++next_group_;  // later arrivals join the next group
      lock.unlock();
      flush_(group);
      lock.lock();
      ++flushed_groups_;
      leading_ = false;
      cv_.notify_all();
    }
  }

 private:
  std::function<void(std::vector<Item*>&)> flush_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Item*> queue_;
  bool leading_ = false;
  uint64_t next_group_ = 0;     // the group queued items join
  uint64_t flushed_groups_ = 0;  // groups 0..flushed_groups_-1 are done
};

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_COMMON_GROUP_COMMIT_H_
