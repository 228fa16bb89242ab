#include "services/metrics/reference_snapshot.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/common/status.h"

namespace pstrack {
namespace {

// The agencies of `by_path` (sorted by path) in the subtree at `root`: a
// subtree lies between its path and its path + "0" ('0' follows '/'), with
// a few others (a sibling "P22.D1" of "P22") that the caller skips.
// `root_end` is SubtreeEnd(root).
auto SubtreeRange(const std::vector<const Agency*>& by_path, absl::string_view root, absl::string_view root_end) {
  auto less = [](const Agency* a, absl::string_view p) { return absl::string_view(a->path) < p; };
  auto begin = std::lower_bound(by_path.begin(), by_path.end(), root, less);
  return std::make_pair(begin, std::lower_bound(begin, by_path.end(), root_end, less));
}

// Whether a procedure is carried out in a scope (its subtrees at `paths`,
// as of `day`): at one of the levels of the scope's agencies, or listed
// (`listed`: its agencies, sorted by path) for one of them.
// `paths`: each root and SubtreeEnd(root).
bool CarriedOutIn(const Procedure& p, const std::vector<const Agency*>& listed, const absl::flat_hash_set<int>& levels,
                  const std::vector<std::pair<std::string, std::string>>& paths, Date day) {
  for (AgencyLevel l : p.levels) {
    if (levels.contains(static_cast<int>(l))) return true;
  }
  if (listed.empty()) return false;
  for (const auto& [path, path_end] : paths) {
    for (auto [it, end] = SubtreeRange(listed, path, path_end); it != end; ++it) {
      if ((*it)->InForceOn(day) && InSubtree((*it)->path, path)) return true;
    }
  }
  return false;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const ReferenceSnapshot>> ReferenceCache::Get(CatalogReader& tx) {
  PSTRACK_ASSIGN_OR_RETURN(std::string version, tx.ReferenceVersion());
  {
    absl::MutexLock lock(&mu_);
    if (snapshot_ && snapshot_->version == version) return snapshot_;
  }
  auto snapshot = std::make_shared<ReferenceSnapshot>();
  snapshot->version = version;
  AgencyQuery aq;
  aq.limit = 100000000;
  PSTRACK_ASSIGN_OR_RETURN(snapshot->agencies, tx.ListAgencies(aq));
  ProcedureQuery pq;
  pq.limit = 100000000;
  PSTRACK_ASSIGN_OR_RETURN(snapshot->procedures, tx.ListProcedures(pq));
  snapshot->by_code.reserve(snapshot->agencies.size());
  for (const Agency& a : snapshot->agencies) {
    snapshot->by_code[a.code] = &a;
    if (a.valid_until) snapshot->ended.push_back(&a);
  }
  snapshot->procedure_agencies.resize(snapshot->procedures.size());
  for (size_t i = 0; i < snapshot->procedures.size(); ++i) {
    for (const std::string& code : snapshot->procedures[i].agency_codes) {
      auto it = snapshot->by_code.find(code);
      if (it != snapshot->by_code.end()) snapshot->procedure_agencies[i].push_back(it->second);
    }
    std::sort(snapshot->procedure_agencies[i].begin(), snapshot->procedure_agencies[i].end(),
              [](const Agency* a, const Agency* b) { return a->path < b->path; });
  }
  for (size_t i = 0; i < snapshot->procedures.size(); ++i) snapshot->procedure_index[snapshot->procedures[i].code] = i;
  for (const Agency& a : snapshot->agencies) snapshot->by_path.push_back(&a);
  std::sort(snapshot->by_path.begin(), snapshot->by_path.end(),
            [](const Agency* a, const Agency* b) { return a->path < b->path; });
  absl::MutexLock lock(&mu_);
  snapshot_ = std::move(snapshot);
  return snapshot_;
}

std::shared_ptr<const ReferenceSnapshot::ScopeCatalog> ReferenceSnapshot::CatalogOf(
    const std::vector<std::string>& paths, Date day) const {
  const std::string key = absl::StrCat(FormatDate(day), "|", absl::StrJoin(paths, "|"));
  {
    absl::MutexLock lock(&scope_catalogs_mu);
    auto it = scope_catalogs.find(key);
    if (it != scope_catalogs.end()) return it->second;
  }
  // The levels of the agencies in scope.
  absl::flat_hash_set<int> levels;
  std::vector<std::pair<std::string, std::string>> ranges;
  for (const std::string& path : paths) {
    ranges.emplace_back(path, SubtreeEnd(path));
    for (auto [it, end] = SubtreeRange(by_path, path, ranges.back().second); it != end; ++it) {
      if ((*it)->InForceOn(day) && InSubtree((*it)->path, path)) levels.insert(static_cast<int>((*it)->level));
    }
  }
  auto out = std::make_shared<ScopeCatalog>();
  CatalogTotals& c = out->totals;
  for (size_t i = 0; i < procedures.size(); ++i) {
    const Procedure& p = procedures[i];
    if (!p.InForceOn(day) || !CarriedOutIn(p, procedure_agencies[i], levels, ranges, day)) continue;
    out->carried.push_back(static_cast<uint32_t>(i));
    ++c.procedures;
    c.online += p.OffersOnline();
    c.full += p.online_mode == OnlineMode::kFull;
    c.eligible += p.full_online_eligible;
    c.fee_bearing += p.fee_bearing;
    c.fee_online_payment += p.fee_bearing && p.online_payment_integrated;
    c.population_db_connected += p.population_db_connected;
  }
  absl::MutexLock lock(&scope_catalogs_mu);
  if (scope_catalogs.size() >= kScopeCatalogs) scope_catalogs.clear();
  scope_catalogs.emplace(key, out);
  return out;
}

}  // namespace pstrack
