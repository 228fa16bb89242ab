// AgencyRegistry: the agency tree's use cases (create, update, move, import,
// list, successor resolution) over a Store. Enforces the rules that need the
// rest of the tree: parent and successor exist, levels fit, no cycles, paths
// of moved subtrees rewritten in the same transaction.
// Thread-safe: holds no state besides the Store.
#ifndef PSTRACK_SERVICES_AGENCIES_AGENCY_REGISTRY_H_
#define PSTRACK_SERVICES_AGENCIES_AGENCY_REGISTRY_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/agencies/agency.h"
#include "services/common/batch.h"
#include "services/agencies/agency_store.h"

namespace pstrack {

// Client-settable agency fields, as named in UpdateAgency's update_mask.
enum class AgencyField { kName, kLevel, kParentCode, kAdminCode, kValidFrom, kValidUntil, kSuccessorCode };
absl::StatusOr<AgencyField> ParseAgencyField(absl::string_view path);

struct AgencyListRequest {
  std::string root_code = {};
  int max_depth = 0;  // relative to the root; 0 = unlimited
  AgencyLevel level = AgencyLevel::kUnspecified;
  OptionalDate as_of = {};
  std::string name_contains = {};
  int page_size = 0;
  std::string page_token = {};
};

struct AgencyListPage {
  std::vector<Agency> agencies;
  std::string next_page_token;
};

struct AgencyImportItem {
  Agency agency;
  int source_line = 0;
};

struct SuccessorResolution {
  Agency agency;
  std::vector<std::string> lineage;
};

// The agency named by a request field: INVALID_ARGUMENT if the code is
// malformed, NOT_FOUND if no agency has it; both name `field`.
absl::StatusOr<Agency> RequireAgency(AgencyReader& tx, absl::string_view code, absl::string_view field);

// Called inside the write transaction that moved the subtree at `old_path`
// to `new_path`, to bring data derived with the old paths in step.
using SubtreeMovedHook =
    std::function<absl::Status(AgencyWriter& tx, absl::string_view old_path, absl::string_view new_path)>;

class AgencyRegistry {
 public:
  explicit AgencyRegistry(AgencyStore store, SubtreeMovedHook on_move = nullptr)
      : store_(store), on_move_(std::move(on_move)) {}

  // Idempotent by code: identical content returns the stored agency.
  absl::StatusOr<Agency> Create(const Agency& agency);
  absl::StatusOr<Agency> Update(const Agency& changes, const std::vector<AgencyField>& mask,
                                int64_t expected_revision);
  absl::StatusOr<Agency> Get(absl::string_view code);
  absl::StatusOr<AgencyListPage> List(const AgencyListRequest& request);
  // Creates or fully replaces each item, parents and successors first.
  std::vector<ItemOutcome> Import(const std::vector<AgencyImportItem>& items);
  absl::StatusOr<SuccessorResolution> ResolveSuccessor(absl::string_view code, Date as_of);

 private:
  struct Written {
    Agency agency;
    bool changed = false;
  };
  absl::StatusOr<Written> CreateIn(AgencyWriter& tx, const Agency& agency);
  absl::StatusOr<Written> ReplaceIn(AgencyWriter& tx, const Agency& existing, Agency updated);

  AgencyStore store_;
  SubtreeMovedHook on_move_;
};

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_AGENCIES_AGENCY_REGISTRY_H_
