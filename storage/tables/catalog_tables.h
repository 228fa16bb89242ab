// The procedures and their agency lists, and the reference version.
// Implements its part of a store's transactions (storage/sql_transaction.h).
// Thread-compatible: used inside one transaction.
#ifndef PSTRACK_STORAGE_TABLES_CATALOG_TABLES_H_
#define PSTRACK_STORAGE_TABLES_CATALOG_TABLES_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/catalog/catalog_store.h"
#include "storage/sql/context.h"

namespace pstrack::sql {

class SqlCatalogTables : public virtual CatalogWriter, protected virtual SqlContext {
 public:
  absl::StatusOr<int64_t> CountProcedures() override { return Count("procedures"); }
  absl::StatusOr<std::optional<Procedure>> FindProcedure(absl::string_view code) override;
  absl::StatusOr<std::vector<Procedure>> FindProcedures(const std::vector<std::string>& codes) override;
  absl::StatusOr<std::vector<Procedure>> ListProcedures(const ProcedureQuery& query) override;
  absl::Status PutProcedure(const Procedure& p) override;
  absl::StatusOr<std::string> ReferenceVersion() override;

 protected:
  absl::StatusOr<std::vector<Procedure>> QueryProcedures(DynamicQuery& q);
};

}  // namespace pstrack::sql

#endif  // PSTRACK_STORAGE_TABLES_CATALOG_TABLES_H_
