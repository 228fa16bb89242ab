// External inputs and the maintenance a migration leaves.
// Implements its part of a store's transactions (storage/sql_transaction.h).
// Thread-compatible: used inside one transaction.
#ifndef PSTRACK_STORAGE_TABLES_METRICS_TABLES_H_
#define PSTRACK_STORAGE_TABLES_METRICS_TABLES_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/metrics/metrics_store.h"
#include "storage/sql/context.h"

namespace pstrack::sql {

class SqlMetricsTables : public virtual ExternalInputWriter,
                         public virtual MaintenanceWriter,
                         protected virtual SqlContext {
 public:
  absl::StatusOr<std::optional<ExternalInputRow>> FindExternalInput(absl::string_view input_id) override;
  absl::StatusOr<std::vector<ExternalInputRow>> ListExternalInputs(absl::string_view agency_code,
                                                                   absl::string_view indicator_id) override;
  absl::Status PutExternalInput(const ExternalInputRow& r) override;
  absl::StatusOr<std::vector<std::string>> PendingMaintenance() override;
  absl::Status CompleteMaintenance(absl::string_view task) override;

 protected:
  static constexpr const char* kExternalColumns =
      "SELECT input_id, agency_code, indicator_id, start_day, end_day, numerator, denominator, value, source, "
      "recorded_us FROM external_inputs";
  absl::StatusOr<std::vector<ExternalInputRow>> QueryExternalInputs(DynamicQuery& q);
};

}  // namespace pstrack::sql

#endif  // PSTRACK_STORAGE_TABLES_METRICS_TABLES_H_
