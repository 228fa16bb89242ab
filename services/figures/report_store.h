// Periodic reports as stored: every revision, the current one per slot.
// Thread-compatible.
#ifndef PSTRACK_SERVICES_FIGURES_REPORT_STORE_H_
#define PSTRACK_SERVICES_FIGURES_REPORT_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/common/dates.h"
#include "services/figures/report.h"
#include "services/common/transactions.h"

namespace pstrack {

// Current reports (PeriodicReport), ordered by report id.
struct ReportQuery {
  // Agencies of these subtrees (by path); empty = every agency.
  std::vector<std::string> paths = {};
  // Reports overlapping [from, until) (or, with contained_only, lying
  // inside it); unset = any period.
  OptionalDate from = {}, until = {};
  bool contained_only = false;
  std::string after_id = {};  // keyset pagination
  int limit = 100;
};

class ReportReader {
 public:
  virtual ~ReportReader() = default;
  // Every revision of a report, newest first (empty: unknown id).
  virtual absl::StatusOr<std::vector<PeriodicReport>> FindReport(absl::string_view report_id) = 0;
  // The current report of an agency for a subject, granularity and period
  // start, if any.
  virtual absl::StatusOr<std::optional<PeriodicReport>> FindReportAt(const PeriodicReport& slot) = 0;
  virtual absl::StatusOr<std::vector<PeriodicReport>> ListReports(const ReportQuery& query) = 0;
  // Every revision of every report, by id and revision (for copies).
  virtual absl::StatusOr<std::vector<PeriodicReport>> AllReportRevisions() = 0;
};

class ReportWriter : public virtual ReportReader, public virtual TransactionControl {
 public:
  // Stores a report revision as given; when it is current, the earlier
  // current revision of its id stops being current.
  virtual absl::Status InsertReportRevision(const PeriodicReport& report) = 0;
};

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_FIGURES_REPORT_STORE_H_
