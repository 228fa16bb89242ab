// The deadline and cancellation of the RPC the current thread is serving,
// so that long work deep below the RPC layer (SQL statements, loops over
// dossiers) can stop when the client has given up. Set once per call by the
// RPC guard; read by the store (SQLite progress handler, PostgreSQL
// statement_timeout) and by long loops (CheckCallLimits()).
#ifndef PSTRACK_SERVICES_COMMON_CALL_LIMITS_H_
#define PSTRACK_SERVICES_COMMON_CALL_LIMITS_H_

#include <functional>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace pstrack {

// While alive, the current thread serves a call with this deadline;
// `cancelled` (optional) reports a client cancellation. Nests: the inner
// scope wins until it ends.
class ScopedCallLimits {
 public:
  ScopedCallLimits(absl::Time deadline, std::function<bool()> cancelled);
  explicit ScopedCallLimits(absl::Time deadline);
  ~ScopedCallLimits();
  ScopedCallLimits(const ScopedCallLimits&) = delete;
  ScopedCallLimits& operator=(const ScopedCallLimits&) = delete;

  absl::Time deadline() const { return deadline_; }
  bool cancelled() const;

 private:
  absl::Time deadline_;
  std::function<bool()> cancelled_;
  ScopedCallLimits* outer_;
};

// The deadline of the current call; InfiniteFuture() outside a call.
absl::Time CurrentCallDeadline();
// OK while the call may go on; DEADLINE_EXCEEDED once its deadline has
// passed; CANCELLED once the client cancelled. Cheap enough for loops.
absl::Status CheckCallLimits();

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_COMMON_CALL_LIMITS_H_
