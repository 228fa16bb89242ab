// The agency tree as its use cases read and write it (storage/ implements
// it; services/common/transactions.h says how). Thread-compatible: a
// transaction is used by one thread, inside its callback.
#ifndef PSTRACK_SERVICES_AGENCIES_AGENCY_STORE_H_
#define PSTRACK_SERVICES_AGENCIES_AGENCY_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/agencies/agency.h"
#include "services/common/transactions.h"

namespace pstrack {

// Filters for listing agencies; results come ordered by path.
struct AgencyQuery {
  std::string root_path;  // subtree (root included); empty = everything
  int max_depth = 0;      // absolute depth limit; 0 = none
  AgencyLevel level = AgencyLevel::kUnspecified;
  OptionalDate as_of;
  std::string name_folded;  // FoldForSearch() of the name substring
  bool ended_only = false;  // only agencies with a valid_until
  std::string after_path;   // keyset pagination: paths strictly after this
  int limit = 100;
};

class AgencyReader {
 public:
  virtual ~AgencyReader() = default;
  virtual absl::StatusOr<std::optional<Agency>> FindAgency(absl::string_view code) = 0;
  // Those of `codes` that exist, in no particular order: one statement per
  // few thousand codes (a batch's lookups one by one were a third of
  // PostgreSQL ingestion, each a round trip).
  virtual absl::StatusOr<std::vector<Agency>> FindAgencies(const std::vector<std::string>& codes) = 0;
  virtual absl::StatusOr<std::vector<Agency>> ListAgencies(const AgencyQuery& query) = 0;
  virtual absl::StatusOr<int64_t> CountAgencies() = 0;
};

class AgencyWriter : public virtual AgencyReader, public virtual TransactionControl {
 public:
  // Inserts a new agency (code not yet present).
  virtual absl::Status InsertAgency(const Agency& agency) = 0;
  // Replaces the stored agency with the same code (all fields, including
  // path, depth, revision and times).
  virtual absl::Status UpdateAgency(const Agency& agency) = 0;
  // Rewrites the paths of every strict descendant of `old_path` to sit under
  // `new_path`, shifting their depth by `depth_delta`.
  virtual absl::Status MoveDescendants(absl::string_view old_path, absl::string_view new_path,
                                       int depth_delta) = 0;
};

using AgencyStore = Transactions<AgencyReader, AgencyWriter>;

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_AGENCIES_AGENCY_STORE_H_
