// Catalog: the procedure catalog's use cases (upsert, import, get, list) over a
// Store, enforcing what needs the rest of the data (agencies exist, optimistic
// revisions). Thread-safe: holds no state besides the Store.
#ifndef PSTRACK_SERVICES_CATALOG_CATALOG_H_
#define PSTRACK_SERVICES_CATALOG_CATALOG_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/catalog/procedure.h"
#include "services/common/batch.h"
#include "services/catalog/catalog_store.h"

namespace pstrack {

struct ProcedureListRequest {
  std::string field = {};
  OnlineMode online_mode = OnlineMode::kUnspecified;
  std::string agency_code = {};
  AgencyLevel level = AgencyLevel::kUnspecified;
  OptionalDate as_of = {};
  std::string query = {};
  std::optional<bool> full_online_eligible = {};
  std::optional<bool> fee_bearing = {};
  int page_size = 0;
  std::string page_token = {};
};

struct ProcedureListPage {
  std::vector<Procedure> procedures;
  std::string next_page_token;
};

struct ProcedureImportItem {
  Procedure procedure;
  int source_line = 0;
};

struct UpsertResult {
  Procedure procedure;
  bool unchanged = false;
};

// Called inside the write transaction of a procedure change, to bring data
// derived with the old procedure (dossier due dates, aggregates) in step.
using ProcedureChangedHook =
    std::function<absl::Status(CatalogWriter& tx, const Procedure& before, const Procedure& after)>;

class Catalog {
 public:
  explicit Catalog(CatalogStore store, ProcedureChangedHook on_change = nullptr)
      : store_(store), on_change_(std::move(on_change)) {}

  absl::StatusOr<UpsertResult> Upsert(Procedure procedure, int64_t expected_revision = 0);
  absl::StatusOr<Procedure> Get(absl::string_view code);
  absl::StatusOr<ProcedureListPage> List(const ProcedureListRequest& request);
  std::vector<ItemOutcome> Import(const std::vector<ProcedureImportItem>& items);

 private:
  absl::StatusOr<UpsertResult> UpsertIn(CatalogWriter& tx, Procedure procedure, int64_t expected_revision);

  CatalogStore store_;
  ProcedureChangedHook on_change_;
};

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_CATALOG_CATALOG_H_
