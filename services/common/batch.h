// The outcome of one item of a batch write, shared by every batch operation
// (agency and procedure imports, event batches).
#ifndef PSTRACK_SERVICES_COMMON_BATCH_H_
#define PSTRACK_SERVICES_COMMON_BATCH_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

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

// Largest batch any import accepts.
inline constexpr int kMaxBatchItems = 10000;

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_COMMON_BATCH_H_
