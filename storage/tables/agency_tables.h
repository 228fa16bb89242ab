// The agencies table (the tree, by path).
// Implements its part of a store's transactions (storage/sql_transaction.h).
// Thread-compatible: used inside one transaction.
#ifndef PSTRACK_STORAGE_TABLES_AGENCY_TABLES_H_
#define PSTRACK_STORAGE_TABLES_AGENCY_TABLES_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/agencies/agency_store.h"
#include "storage/sql/context.h"

namespace pstrack::sql {

class SqlAgencyTables : public virtual AgencyWriter, protected virtual SqlContext {
 public:
  absl::StatusOr<std::optional<Agency>> FindAgency(absl::string_view code) override;
  absl::StatusOr<std::vector<Agency>> FindAgencies(const std::vector<std::string>& codes) override;
  absl::StatusOr<std::vector<Agency>> ListAgencies(const AgencyQuery& query) override;
  absl::StatusOr<int64_t> CountAgencies() override { return Count("agencies"); }
  absl::Status InsertAgency(const Agency& a) override;
  absl::Status UpdateAgency(const Agency& a) override;
  absl::Status MoveDescendants(absl::string_view old_path, absl::string_view new_path, int depth_delta) override;

 protected:
  absl::StatusOr<std::vector<Agency>> QueryAgencies(DynamicQuery& q);
};

}  // namespace pstrack::sql

#endif  // PSTRACK_STORAGE_TABLES_AGENCY_TABLES_H_
