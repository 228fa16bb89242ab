// The events and the dossier index.
// Implements its part of a store's transactions (storage/sql_transaction.h).
// Thread-compatible: used inside one transaction.
#ifndef PSTRACK_STORAGE_TABLES_DOSSIER_TABLES_H_
#define PSTRACK_STORAGE_TABLES_DOSSIER_TABLES_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/filings/filing_store.h"
#include "storage/sql/context.h"

namespace pstrack::sql {

class SqlDossierTables : public virtual DossierWriter, protected virtual SqlContext {
 public:
  absl::StatusOr<std::vector<StoredEvent>> FindEvents(const std::vector<std::string>& ids) override;
  absl::StatusOr<std::vector<StoredEvent>> LoadDossierEvents(const std::vector<std::string>& codes) override;
  // Projected or still in the event log.
  absl::StatusOr<int64_t> CountEvents() override {
    PSTRACK_ASSIGN_OR_RETURN(int64_t projected, Count("filing_events"));
    PSTRACK_ASSIGN_OR_RETURN(int64_t logged, Count("event_log"));
    return projected + logged;
  }
  absl::StatusOr<std::optional<DossierRow>> FindDossier(absl::string_view code) override;
  absl::StatusOr<std::vector<DossierRow>> ListDossiers(const DossierQuery& query) override;
  absl::Status InsertEvents(const std::vector<StoredEvent>& events) override;
  absl::Status PutDossiers(const std::vector<DossierRow>& rows) override;
  absl::StatusOr<OpenCounts> CountOpen(const std::vector<std::string>& paths, int64_t at_us) override;
  absl::StatusOr<std::vector<OverdueByAgency>> CountOverdueSince(const std::vector<std::string>& paths,
                                                                 int64_t since_us) override;

 protected:
  absl::StatusOr<std::vector<StoredEvent>> QueryEventsWhere(const char* column, const std::vector<std::string>& keys);
  absl::StatusOr<std::vector<DossierRow>> QueryDossiers(DynamicQuery& q);
};

}  // namespace pstrack::sql

#endif  // PSTRACK_STORAGE_TABLES_DOSSIER_TABLES_H_
