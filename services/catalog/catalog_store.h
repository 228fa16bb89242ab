// The procedure catalog as its use cases read and write it, and the
// reference data (the agency tree and the catalog) as one. Thread-compatible.
#ifndef PSTRACK_SERVICES_CATALOG_CATALOG_STORE_H_
#define PSTRACK_SERVICES_CATALOG_CATALOG_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/agencies/agency_store.h"
#include "services/catalog/procedure.h"
#include "services/common/transactions.h"

namespace pstrack {

// Filters for listing procedures; results come ordered by code.
struct ProcedureQuery {
  std::string field;
  OnlineMode online_mode = OnlineMode::kUnspecified;
  // Carried out by this agency: listed explicitly, or offered at its level.
  std::string agency_code;
  AgencyLevel agency_level = AgencyLevel::kUnspecified;
  AgencyLevel level = AgencyLevel::kUnspecified;
  OptionalDate as_of;
  std::string query_folded;  // substring of the folded name, or exact code
  std::optional<bool> full_online_eligible;
  std::optional<bool> fee_bearing;
  std::string after_code;
  int limit = 100;
};

class ProcedureReader {
 public:
  virtual ~ProcedureReader() = default;
  virtual absl::StatusOr<std::optional<Procedure>> FindProcedure(absl::string_view code) = 0;
  virtual absl::StatusOr<std::vector<Procedure>> FindProcedures(const std::vector<std::string>& codes) = 0;
  virtual absl::StatusOr<std::vector<Procedure>> ListProcedures(const ProcedureQuery& query) = 0;
  virtual absl::StatusOr<int64_t> CountProcedures() = 0;
};

// The reference data: the agency tree and the catalog.
class CatalogReader : public virtual AgencyReader, public virtual ProcedureReader {
 public:
  // A fingerprint of the agency tree and the catalog that changes with every
  // write to them (counts, revision sums, latest update times; a procedure's
  // agency list changes with its revision): lets a
  // process keep a copy in memory and notice another replica's changes.
  virtual absl::StatusOr<std::string> ReferenceVersion() = 0;
};

class CatalogWriter : public virtual CatalogReader, public virtual TransactionControl {
 public:
  // Inserts or replaces a procedure and its agency list.
  virtual absl::Status PutProcedure(const Procedure& procedure) = 0;
};

using CatalogStore = Transactions<CatalogReader, CatalogWriter>;

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_CATALOG_CATALOG_STORE_H_
