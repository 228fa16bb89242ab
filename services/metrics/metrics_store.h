// What the metrics read and write: the figures' sources (filing_store.h,
// report_store.h), external inputs and the maintenance a migration leaves.
// Thread-compatible.
#ifndef PSTRACK_SERVICES_METRICS_METRICS_STORE_H_
#define PSTRACK_SERVICES_METRICS_METRICS_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/common/dates.h"
#include "services/figures/report_selection.h"
#include "services/filings/filing_store.h"
#include "services/common/transactions.h"

namespace pstrack {

// A figure pstrack cannot derive, submitted per agency and period.
struct ExternalInputRow {
  std::string input_id, agency_code, indicator_id;
  Date start, end;  // [start, end)
  double numerator = 0, denominator = 0, value = 0;
  std::string source;
  int64_t recorded_us = 0;
};

class ExternalInputReader {
 public:
  virtual ~ExternalInputReader() = default;
  virtual absl::StatusOr<std::optional<ExternalInputRow>> FindExternalInput(absl::string_view input_id) = 0;
  // Inputs of an agency (and indicator, when not empty), by start day then id.
  virtual absl::StatusOr<std::vector<ExternalInputRow>> ListExternalInputs(absl::string_view agency_code,
                                                                           absl::string_view indicator_id) = 0;
};

class ExternalInputWriter : public virtual ExternalInputReader, public virtual TransactionControl {
 public:
  virtual absl::Status PutExternalInput(const ExternalInputRow& row) = 0;
};

class MaintenanceReader {
 public:
  virtual ~MaintenanceReader() = default;
  // Work a migration left for the server (e.g. "rebuild_aggregates").
  virtual absl::StatusOr<std::vector<std::string>> PendingMaintenance() = 0;
};

class MaintenanceWriter : public virtual MaintenanceReader, public virtual TransactionControl {
 public:
  virtual absl::Status CompleteMaintenance(absl::string_view task) = 0;
};

class MetricsReader : public virtual FilingReader, public virtual ReportSelectionReader, public virtual ExternalInputReader, public virtual MaintenanceReader {};

class MetricsWriter : public virtual MetricsReader, public virtual AggregateWriter, public virtual EventLogWriter, public virtual ExternalInputWriter, public virtual MaintenanceWriter {};

using MetricsStore = Transactions<MetricsReader, MetricsWriter>;

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_METRICS_METRICS_STORE_H_
