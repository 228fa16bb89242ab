// The event log: acknowledged events waiting for the projection
// (services/filings/projection.h). Implements its part of a store's
// transactions (storage/sql_transaction.h).
// Thread-compatible: used inside one transaction.
#ifndef PSTRACK_STORAGE_TABLES_EVENT_LOG_TABLES_H_
#define PSTRACK_STORAGE_TABLES_EVENT_LOG_TABLES_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/filings/filing_store.h"
#include "storage/sql/context.h"

namespace pstrack::sql {

class SqlEventLogTables : public virtual EventLogWriter, protected virtual SqlContext {
 public:
  absl::StatusOr<std::vector<StoredEvent>> FindLoggedEvents(const std::vector<std::string>& event_ids) override;
  absl::StatusOr<std::vector<LoggedEvent>> PendingEvents(int limit) override;
  absl::StatusOr<bool> PendingThrough(int64_t seq) override;
  absl::StatusOr<std::vector<LoggedEvent>> PendingEventsOf(const std::vector<std::string>& dossier_codes) override;
  absl::StatusOr<LogState> GetLogState() override;
  absl::StatusOr<int64_t> AppendToLog(const std::vector<StoredEvent>& events) override;
  absl::StatusOr<int64_t> RemoveFromLog(const std::vector<int64_t>& seqs) override;
  absl::StatusOr<bool> LeadProjection(bool wait) override;

 private:
  // Log rows whose `column` is one of `keys` (a few thousand a statement).
  absl::StatusOr<std::vector<LoggedEvent>> QueryLogWhere(const char* column, const std::vector<std::string>& keys);
  absl::StatusOr<std::vector<LoggedEvent>> QueryLog(DynamicQuery& q);
};

}  // namespace pstrack::sql

#endif  // PSTRACK_STORAGE_TABLES_EVENT_LOG_TABLES_H_
