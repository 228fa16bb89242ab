// The outcome of one item of a batch write, shared by every batch operation
// (agency and procedure imports, event batches).
#ifndef PSTRACK_SERVICES_COMMON_BATCH_H_
#define PSTRACK_SERVICES_COMMON_BATCH_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace pstrack {

enum class WriteOutcome { kApplied, kUnchanged, kRejected };

struct ItemOutcome {
  int index = 0;
  WriteOutcome outcome = WriteOutcome::kRejected;
  absl::Status status;  // the reason, for kRejected
  std::string key;
  int source_line = 0;
};

struct BatchCounts {
  int applied = 0, unchanged = 0, rejected = 0;
};

inline BatchCounts CountOutcomes(const std::vector<ItemOutcome>& items) {
  BatchCounts c;
  for (const auto& i : items) {
    (i.outcome == WriteOutcome::kApplied ? c.applied : i.outcome == WriteOutcome::kUnchanged ? c.unchanged : c.rejected)++;
  }
  return c;
}

// After a batch transaction failed (and rolled back) nothing of it landed:
// every item is reported rejected with the failure.
inline void RejectAll(std::vector<ItemOutcome>& outcomes, const absl::Status& failure) {
  for (auto& o : outcomes) {
    o.outcome = WriteOutcome::kRejected;
    o.status = absl::Status(failure.code(), absl::StrCat("batch not committed: ", failure.message()));
  }
}

// Largest batch any import accepts.
inline constexpr int kMaxBatchItems = 10000;

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_COMMON_BATCH_H_
