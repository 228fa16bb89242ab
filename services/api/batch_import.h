// What every batch call does around its use case: the size check (one
// limit, one wording), translating each item from its proto (a failure is
// that item's outcome), handing the good ones to the use case, and putting
// its outcomes back at the items' places in the request.
// Thread-compatible: used within one call.
#ifndef PSTRACK_SERVICES_API_BATCH_IMPORT_H_
#define PSTRACK_SERVICES_API_BATCH_IMPORT_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "services/common/batch.h"
#include "services/common/status.h"

namespace pstrack {

// INVALID_ARGUMENT naming `field` for an empty batch or one of more than
// kMaxBatchItems (`noun`: what the items are, "events").
inline absl::Status CheckBatchSize(absl::string_view field, int n, absl::string_view noun) {
  if (n == 0) return InvalidField(field, "is empty");
  if (n > kMaxBatchItems) {
    return InvalidField(field, absl::StrCat(n, " ", noun, "; at most ", kMaxBatchItems,
                                            " per call: split the batch"));
  }
  return absl::OkStatus();
}

// Outcomes for `n` items in request order. `translate(i, outcome)` sets the
// outcome's key (and source line) and returns the domain item, or the
// status that rejects it; `apply(items)` runs the use case on the good ones
// (in request order) and returns their outcomes.
template <typename Item, typename Translate, typename Apply>
std::vector<ItemOutcome> ImportItems(int n, Translate&& translate, Apply&& apply) {
  std::vector<ItemOutcome> outcomes(n);
  std::vector<Item> items;
  std::vector<int> positions;
  for (int i = 0; i < n; ++i) {
    outcomes[i].index = i;
    absl::StatusOr<Item> item = translate(i, outcomes[i]);
    if (!item.ok()) {
      outcomes[i].status = item.status();
      continue;
    }
    items.push_back(*std::move(item));
    positions.push_back(i);
  }
  std::vector<ItemOutcome> done = apply(std::move(items));
  for (size_t k = 0; k < done.size(); ++k) {
    done[k].index = positions[k];
    outcomes[positions[k]] = std::move(done[k]);
  }
  return outcomes;
}

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_API_BATCH_IMPORT_H_
