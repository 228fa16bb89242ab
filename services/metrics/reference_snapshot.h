// The agency tree and the catalog in memory, for the metrics that need all
// of them on every query (the catalog indicators, scopes in today's tree):
// read once, kept while the database's reference version stays the same.
// Thread-safe: a snapshot is immutable once built (its per-scope catalog
// memo has its own mutex); the cache swaps snapshots under its mutex.
#ifndef PSTRACK_SERVICES_METRICS_REFERENCE_SNAPSHOT_H_
#define PSTRACK_SERVICES_METRICS_REFERENCE_SNAPSHOT_H_

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "services/catalog/catalog_store.h"
#include "services/figures/indicators.h"

namespace pstrack {

// The agency tree and the catalog, read once and kept while the
// database's ReferenceVersion() stays the same: the catalog indicators
// need all of it for every query.
struct ReferenceSnapshot {
  std::string version;
  std::vector<Agency> agencies;
  std::vector<Procedure> procedures;  // with their agency lists
  absl::flat_hash_map<std::string, const Agency*> by_code;  // into `agencies`
  std::vector<const Agency*> ended;                          // agencies with a valid_until
  // Per procedure (same positions), its listed agencies that exist, by path.
  std::vector<std::vector<const Agency*>> procedure_agencies;
  std::vector<const Agency*> by_path;                        // `agencies` sorted by path
  absl::flat_hash_map<std::string, size_t> procedure_index;  // code -> position in `procedures`

  // The catalog of a scope (the subtrees at `paths`) on `day`: the
  // procedures in force and carried out there (positions in
  // `procedures`), and the counts that depend on nothing else (the two
  // counts of dossiers left zero). Depends on this snapshot only, so it
  // is computed once per scope and day: a ranking asks it of every
  // province on every call (a quarter of its time, in SubtreeRange).
  struct ScopeCatalog {
    CatalogTotals totals;
    std::vector<uint32_t> carried;
  };
  std::shared_ptr<const ScopeCatalog> CatalogOf(const std::vector<std::string>& paths, Date day) const;
  static constexpr size_t kScopeCatalogs = 1024;  // kept at most (about 8 KiB each)
  mutable absl::Mutex scope_catalogs_mu;
  mutable absl::flat_hash_map<std::string, std::shared_ptr<const ScopeCatalog>> scope_catalogs
      ABSL_GUARDED_BY(scope_catalogs_mu);

  // The position of procedure `code`, if in the catalog. `procedures` is
  // in code order and so are a node's aggregate rows (their key ends with
  // the code): a short walk on from the last match (`hint`) finds most
  // codes of a scan without hashing them (a tenth of a ranking's time).
  std::optional<size_t> IndexOf(const std::string& code, size_t& hint) const {
    for (size_t i = hint, end = std::min(procedures.size(), hint + 4); i < end; ++i) {
      if (procedures[i].code == code) {
        hint = i + 1;
        return i;
      }
    }
    auto it = procedure_index.find(code);
    if (it == procedure_index.end()) return std::nullopt;
    hint = it->second + 1;
    return it->second;
  }
};

class ReferenceCache {
 public:
  // The snapshot of the database's current reference data: the kept one
  // while the reference version is the same, else read anew.
  absl::StatusOr<std::shared_ptr<const ReferenceSnapshot>> Get(CatalogReader& tx);

 private:
  absl::Mutex mu_;
  std::shared_ptr<const ReferenceSnapshot> snapshot_ ABSL_GUARDED_BY(mu_);
};

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_METRICS_REFERENCE_SNAPSHOT_H_
