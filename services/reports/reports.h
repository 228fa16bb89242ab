// Reports: recording centres' periodic reports (idempotent by report id,
// corrections kept as revisions), and the checks a provincial office runs on
// its centres: reconciliation of reported and event-derived counts, streams
// gone silent, and a data-quality view per agency. The indicators that use
// reports are computed by Metrics (report_selection.h says which count).
// Thread-safe: the Store serialises writers.
#ifndef PSTRACK_SERVICES_REPORTS_REPORTS_H_
#define PSTRACK_SERVICES_REPORTS_REPORTS_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/calendar/working_calendar.h"
#include "services/common/batch.h"
#include "services/common/change_feed.h"
#include "services/metrics/metrics.h"
#include "services/figures/report.h"
#include "services/figures/report_selection.h"
#include "services/reports/reports_store.h"

namespace pstrack {

struct ReportPage {
  std::vector<PeriodicReport> reports;
  std::string next_page_token;
};

// The figures reconciliation compares, in pstrack.v1.ReconciledFigures order.
enum class Compared { kReceived, kOnline, kInPerson, kPostal, kFinished, kEarly, kOnTime, kLate, kCount };
inline constexpr int kComparedCount = static_cast<int>(Compared::kCount);
const std::array<const char*, kComparedCount>& ComparedNames();  // "received", "received_online", ...

struct ReconcileRow {
  ReportUse use;
  std::string agency_name;
  std::array<int64_t, kComparedCount> reported{}, events{}, missing{};
  std::array<bool, kComparedCount> compared{};  // the report gave this part (and events can say)
  IndicatorValue completeness;
  bool balanced = true;
};

struct Reconciliation {
  std::vector<ReconcileRow> rows;
  IndicatorValue sync_completeness;
};

struct SilentAgency {
  std::string agency_code, agency_name;
  int64_t last_event_us = 0;
  int working_days_silent = 0;
};

enum class QualitySort { kIssues, kRejected, kLateEvents, kMismatches, kFarOverdue, kAgencyCode, kSetAside };

struct DataQualityRequest {
  ScopeRequest scope;
  Period period;
  QualitySort sort = QualitySort::kIssues;
  bool ascending = false;
  int far_overdue_working_days = 10;
  std::optional<absl::Time> as_of = {};
  int page_size = 100;
  std::string page_token = {};
};

struct DataQualityRow {
  std::string agency_code, agency_name;
  int64_t accepted = 0, rejected = 0, late = 0, mismatches = 0, received = 0, far_overdue = 0;
  int64_t set_aside = 0;           // events a lifecycle rule set aside, by the day they occurred
  int64_t code_date_mismatches = 0;  // dossiers received on another day than their code says
  std::vector<std::pair<std::string, int64_t>> rejected_by_reason;  // most frequent first
  int64_t oldest_overdue_us = 0;  // 0 = none
  int64_t last_event_us = 0;      // 0 = none
  int64_t issues() const { return rejected + late + mismatches + far_overdue + set_aside + code_date_mismatches; }
};

struct DataQualityPage {
  std::vector<DataQualityRow> rows;
  DataQualityRow total;
  std::string next_page_token;
};

class Reports {
 public:
  // `changes` (optional) is bumped after reports land, like events.
  Reports(ReportsStore store, Metrics& metrics, std::shared_ptr<const WorkingCalendar> calendar,
          ChangeFeed* changes = nullptr);

  // Validates and records each report on its own (ItemOutcome per report).
  std::vector<ItemOutcome> Submit(std::vector<PeriodicReport> reports, const std::string& recorded_by);
  // Every revision, newest first; NOT_FOUND naming report_id.
  absl::StatusOr<std::vector<PeriodicReport>> Get(const std::string& report_id);
  // Current reports of a subtree ("" = everything) overlapping a period.
  absl::StatusOr<ReportPage> List(const std::string& agency_code, std::optional<Period> period, int page_size,
                                  const std::string& page_token);
  absl::StatusOr<Reconciliation> Reconcile(const ScopeRequest& scope, const Period& period);
  absl::StatusOr<std::vector<SilentAgency>> Silent(const ScopeRequest& scope, int working_days,
                                                   std::optional<absl::Time> as_of);
  absl::StatusOr<DataQualityPage> Quality(const DataQualityRequest& request);

 private:
  absl::Status SubmitOne(ReportsWriter& tx, PeriodicReport& report, size_t index, WriteOutcome* outcome);

  ReportsStore store_;
  Metrics& metrics_;
  std::shared_ptr<const WorkingCalendar> calendar_;
  ChangeFeed* changes_;
};

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_REPORTS_REPORTS_H_
