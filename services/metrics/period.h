// The periods and scopes metrics are asked for: a half-open date range
// ("2025", "2025-Q3", ...) and an agency subtree, seen in today's tree or
// as filed. Plain values; thread-compatible.
#ifndef PSTRACK_SERVICES_METRICS_PERIOD_H_
#define PSTRACK_SERVICES_METRICS_PERIOD_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/common/dates.h"

namespace pstrack {

// A half-open date range.
struct Period {
  Date start, end;
};

// "2025", "2025-Q3", "2025-07", "2025-07-15".
absl::StatusOr<Period> ParsePeriodLabel(absl::string_view label, absl::string_view field);
// Checks order and bounds (2000-01-01 .. 2100-01-01, at most 20 years).
absl::Status ValidatePeriod(const Period& period, absl::string_view field);

enum class TreeView { kCurrent, kAsFiled };

struct ScopeRequest {
  std::string agency_code;
  TreeView view = TreeView::kCurrent;
};

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_METRICS_PERIOD_H_
