// Flushing a write-ahead log outside the write lock. Each commit takes a
// ticket under the lock (Committed); after releasing the lock, the writer
// waits (WaitDurable) until a flush that began after its commit has ended.
// One flush covers every commit before it, so concurrent writers share
// flushes, and the next transaction runs while the log is flushed instead
// of after: on SQLite the commit itself then skips its fsync
// (synchronous=NORMAL) and this makes it durable before anyone is told.
// Thread-safe.
#ifndef PSTRACK_STORAGE_DURABLE_LOG_H_
#define PSTRACK_STORAGE_DURABLE_LOG_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace pstrack {

class DurableLog {
 public:
  // `flush` makes everything written so far durable. A failed flush aborts
  // the process: after a failed fsync the kernel may have dropped the
  // unwritten pages, and a commit already visible to readers could be gone
  // after a crash; only recovery from the files is safe (PostgreSQL panics
  // for the same reason).
  explicit DurableLog(std::function<absl::Status()> flush) : flush_(std::move(flush)) {}

  // A flush of the file at `path` (fdatasync), reopened if the file was
  // replaced. The directory is flushed once too, so a newly created log is
  // found after a crash.
  static std::function<absl::Status()> FileFlush(std::string path);

  // Called under the write lock, after a commit: its ticket.
  uint64_t Committed();
  // Returns once a flush begun after commit `ticket` has ended.
  void WaitDurable(uint64_t ticket);

  // Flushes so far (for tests and benchmarks).
  int64_t flushes() const;

 private:
  std::function<absl::Status()> flush_;
  mutable absl::Mutex mu_;
  absl::CondVar flushed_cv_;
  uint64_t committed_ ABSL_GUARDED_BY(mu_) = 0;  // tickets handed out
  uint64_t durable_ ABSL_GUARDED_BY(mu_) = 0;    // every ticket up to this is durable
  bool flushing_ ABSL_GUARDED_BY(mu_) = false;
  int64_t flushes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace pstrack

#endif  // PSTRACK_STORAGE_DURABLE_LOG_H_
