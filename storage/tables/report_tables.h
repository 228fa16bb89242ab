// Periodic reports, every revision.
// Implements its part of a store's transactions (storage/sql_transaction.h).
// Thread-compatible: used inside one transaction.
#ifndef PSTRACK_STORAGE_TABLES_REPORT_TABLES_H_
#define PSTRACK_STORAGE_TABLES_REPORT_TABLES_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/figures/report_store.h"
#include "storage/sql/context.h"

namespace pstrack::sql {

class SqlReportTables : public virtual ReportWriter, protected virtual SqlContext {
 public:
  absl::StatusOr<std::vector<PeriodicReport>> FindReport(absl::string_view report_id) override;
  absl::StatusOr<std::optional<PeriodicReport>> FindReportAt(const PeriodicReport& slot) override;
  absl::StatusOr<std::vector<PeriodicReport>> ListReports(const ReportQuery& query) override;
  absl::StatusOr<std::vector<PeriodicReport>> AllReportRevisions() override;
  absl::Status InsertReportRevision(const PeriodicReport& r) override;

 protected:
  static constexpr const char* kReportColumns =
      "SELECT report_id, revision, current, agency_code, subject_kind, subject, period_label, figures, source, "
      "recorded_us, recorded_by FROM reports";
  absl::StatusOr<std::vector<PeriodicReport>> QueryReports(DynamicQuery& q);
  static std::string SubjectValue(const PeriodicReport& r);
};

}  // namespace pstrack::sql

#endif  // PSTRACK_STORAGE_TABLES_REPORT_TABLES_H_
