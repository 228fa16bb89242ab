#include "services/agencies/agency_registry.h"

#include <algorithm>
#include <deque>
#include <map>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "services/common/page_token.h"
#include "services/common/status.h"
#include "services/common/text.h"

namespace pstrack {
namespace {

absl::Status NotFound(absl::string_view field, absl::string_view code) {
  return FieldError(absl::StatusCode::kNotFound, field, absl::StrCat("agency '", code, "' does not exist"));
}

// Checks the successor: it exists, is in force on the day the agency ends,
// and following successors from it never comes back to the agency.
absl::Status CheckSuccessor(AgencyReader& tx, const Agency& a) {
  if (a.successor_code.empty()) return absl::OkStatus();
  PSTRACK_ASSIGN_OR_RETURN(auto successor, tx.FindAgency(a.successor_code));
  if (!successor) return NotFound("agency.successor_code", a.successor_code);
  if (!successor->InForceOn(*a.valid_until)) {
    return FieldError(absl::StatusCode::kFailedPrecondition, "agency.successor_code",
                      absl::StrCat("successor '", a.successor_code, "' is not in force on ",
                                   FormatDate(*a.valid_until), ", the day '", a.code, "' ends"));
  }
  std::vector<std::string> chain = {a.code, successor->code};
  std::optional<Agency> cur = successor;
  for (int hops = 0; cur && !cur->successor_code.empty(); ++hops) {
    if (cur->successor_code == a.code || hops > 64) {
      chain.push_back(a.code);
      return FieldError(absl::StatusCode::kFailedPrecondition, "agency.successor_code",
                        absl::StrCat("successor links would form a cycle: ", absl::StrJoin(chain, " -> ")));
    }
    chain.push_back(cur->successor_code);
    PSTRACK_ASSIGN_OR_RETURN(cur, tx.FindAgency(cur->successor_code));
  }
  return absl::OkStatus();
}

std::string ListFingerprint(const AgencyListRequest& r) {
  return FilterFingerprint(absl::StrCat("agencies|", r.root_code, "|", r.max_depth, "|",
                                        static_cast<int>(r.level), "|", FormatOptionalDate(r.as_of), "|",
                                        r.name_contains));
}

}  // namespace

absl::StatusOr<Agency> RequireAgency(AgencyReader& tx, absl::string_view code, absl::string_view field) {
  PSTRACK_RETURN_IF_ERROR(ValidateAgencyCode(code, field));
  PSTRACK_ASSIGN_OR_RETURN(auto agency, tx.FindAgency(code));
  if (!agency) return NotFound(field, code);
  return *std::move(agency);
}

absl::StatusOr<AgencyField> ParseAgencyField(absl::string_view path) {
  static const std::map<absl::string_view, AgencyField> kFields = {
      {"name", AgencyField::kName},
      {"level", AgencyField::kLevel},
      {"parent_code", AgencyField::kParentCode},
      {"admin_code", AgencyField::kAdminCode},
      {"valid_from", AgencyField::kValidFrom},
      {"valid_until", AgencyField::kValidUntil},
      {"successor_code", AgencyField::kSuccessorCode},
  };
  auto it = kFields.find(path);
  if (it == kFields.end()) {
    return InvalidField("update_mask", absl::StrCat("'", path,
                                                    "' is not an updatable field (name, level, parent_code, "
                                                    "admin_code, valid_from, valid_until, successor_code)"));
  }
  return it->second;
}

absl::StatusOr<AgencyRegistry::Written> AgencyRegistry::CreateIn(AgencyWriter& tx, const Agency& input) {
  PSTRACK_RETURN_IF_ERROR(ValidateAgencyFields(input));
  PSTRACK_ASSIGN_OR_RETURN(auto existing, tx.FindAgency(input.code));
  if (existing) {
    if (existing->SameContent(input)) return Written{*existing, false};
    return FieldError(absl::StatusCode::kAlreadyExists, "agency.code",
                      absl::StrCat("agency '", input.code,
                                   "' already exists with different fields; use UpdateAgency to change it"));
  }
  Agency a = input;
  if (a.level == AgencyLevel::kNation) {
    AgencyQuery q;
    q.level = AgencyLevel::kNation;
    q.limit = 1;
    PSTRACK_ASSIGN_OR_RETURN(auto nations, tx.ListAgencies(q));
    if (!nations.empty()) {
      return FieldError(absl::StatusCode::kFailedPrecondition, "agency.level",
                        absl::StrCat("the tree already has a nation, '", nations[0].code, "'"));
    }
    a.path = a.code;
    a.depth = 0;
  } else {
    PSTRACK_ASSIGN_OR_RETURN(auto parent, tx.FindAgency(a.parent_code));
    if (!parent) return NotFound("agency.parent_code", a.parent_code);
    PSTRACK_RETURN_IF_ERROR(CheckParentLevel(a, *parent));
    a.path = absl::StrCat(parent->path, "/", a.code);
    a.depth = parent->depth + 1;
    if (a.depth >= static_cast<int>(kMaxPathDepth)) {
      return FieldError(absl::StatusCode::kFailedPrecondition, "agency.parent_code",
                        absl::StrCat("the tree may be at most ", kMaxPathDepth, " levels deep"));
    }
  }
  PSTRACK_RETURN_IF_ERROR(CheckSuccessor(tx, a));
  a.revision = 1;
  a.create_time = a.update_time = NowForStorage();
  PSTRACK_RETURN_IF_ERROR(tx.InsertAgency(a));
  return Written{a, true};
}

absl::StatusOr<AgencyRegistry::Written> AgencyRegistry::ReplaceIn(AgencyWriter& tx, const Agency& existing,
                                                                  Agency a) {
  PSTRACK_RETURN_IF_ERROR(ValidateAgencyFields(a));
  if (existing.SameContent(a)) return Written{existing, false};
  if ((a.level == AgencyLevel::kNation) != (existing.level == AgencyLevel::kNation)) {
    return FieldError(absl::StatusCode::kFailedPrecondition, "agency.level",
                      "the nation's level cannot change, nor can another agency become the nation");
  }
  a.path = existing.path;
  a.depth = existing.depth;
  if (a.level != AgencyLevel::kNation) {
    PSTRACK_ASSIGN_OR_RETURN(auto parent, tx.FindAgency(a.parent_code));
    if (!parent) return NotFound("agency.parent_code", a.parent_code);
    if (InSubtree(parent->path, existing.path)) {
      return FieldError(absl::StatusCode::kFailedPrecondition, "agency.parent_code",
                        absl::StrCat("moving '", a.code, "' under '", parent->code,
                                     "' would make a cycle: '", parent->code, "' is in its subtree"));
    }
    PSTRACK_RETURN_IF_ERROR(CheckParentLevel(a, *parent));
    a.path = absl::StrCat(parent->path, "/", a.code);
    a.depth = parent->depth + 1;
  }
  if (a.level != existing.level) {
    AgencyQuery children;
    children.root_path = existing.path;
    children.max_depth = existing.depth + 1;
    children.limit = 1000000;
    PSTRACK_ASSIGN_OR_RETURN(auto rows, tx.ListAgencies(children));
    for (const Agency& child : rows) {
      if (child.code != a.code && !LevelMayHaveParent(child.level, a.level)) {
        return FieldError(absl::StatusCode::kFailedPrecondition, "agency.level",
                          absl::StrCat("child '", child.code, "' (", AgencyLevelName(child.level),
                                       ") cannot sit under a ", AgencyLevelName(a.level)));
      }
    }
  }
  PSTRACK_RETURN_IF_ERROR(CheckSuccessor(tx, a));
  a.revision = existing.revision + 1;
  a.create_time = existing.create_time;
  a.update_time = NowForStorage();
  PSTRACK_RETURN_IF_ERROR(tx.UpdateAgency(a));
  if (a.path != existing.path) {
    PSTRACK_RETURN_IF_ERROR(tx.MoveDescendants(existing.path, a.path, a.depth - existing.depth));
    if (on_move_) PSTRACK_RETURN_IF_ERROR(on_move_(tx, existing.path, a.path));
  }
  return Written{a, true};
}

absl::StatusOr<Agency> AgencyRegistry::Create(const Agency& agency) {
  Agency result;
  PSTRACK_RETURN_IF_ERROR(store_.Write([&](AgencyWriter& tx) -> absl::Status {
    PSTRACK_ASSIGN_OR_RETURN(Written w, CreateIn(tx, agency));
    result = std::move(w.agency);
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<Agency> AgencyRegistry::Update(const Agency& changes, const std::vector<AgencyField>& mask,
                                              int64_t expected_revision) {
  PSTRACK_RETURN_IF_ERROR(ValidateAgencyCode(changes.code, "agency.code"));
  if (mask.empty()) return InvalidField("update_mask", "name at least one field to change");
  Agency result;
  PSTRACK_RETURN_IF_ERROR(store_.Write([&](AgencyWriter& tx) -> absl::Status {
    PSTRACK_ASSIGN_OR_RETURN(auto existing, tx.FindAgency(changes.code));
    if (!existing) return NotFound("agency.code", changes.code);
    if (expected_revision != 0 && expected_revision != existing->revision) {
      return FieldError(absl::StatusCode::kFailedPrecondition, "expected_revision",
                        absl::StrCat("agency '", changes.code, "' is at revision ", existing->revision,
                                     ", not ", expected_revision, "; read it again and retry"));
    }
    Agency updated = *existing;
    for (AgencyField f : mask) {
      switch (f) {
        case AgencyField::kName: updated.name = changes.name; break;
        case AgencyField::kLevel: updated.level = changes.level; break;
        case AgencyField::kParentCode: updated.parent_code = changes.parent_code; break;
        case AgencyField::kAdminCode: updated.admin_code = changes.admin_code; break;
        case AgencyField::kValidFrom: updated.valid_from = changes.valid_from; break;
        case AgencyField::kValidUntil: updated.valid_until = changes.valid_until; break;
        case AgencyField::kSuccessorCode: updated.successor_code = changes.successor_code; break;
      }
    }
    PSTRACK_ASSIGN_OR_RETURN(Written w, ReplaceIn(tx, *existing, std::move(updated)));
    result = std::move(w.agency);
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<Agency> AgencyRegistry::Get(absl::string_view code) {
  PSTRACK_RETURN_IF_ERROR(ValidateAgencyCode(code, "code"));
  std::optional<Agency> found;
  PSTRACK_RETURN_IF_ERROR(store_.Read([&](AgencyReader& tx) -> absl::Status {
    PSTRACK_ASSIGN_OR_RETURN(found, tx.FindAgency(code));
    return absl::OkStatus();
  }));
  if (!found) return NotFound("code", code);
  return *found;
}

absl::StatusOr<AgencyListPage> AgencyRegistry::List(const AgencyListRequest& request) {
  PSTRACK_ASSIGN_OR_RETURN(KeysetPager pager, KeysetPager::Make(request.page_size, ListFingerprint(request)));
  if (request.max_depth < 0) return InvalidField("max_depth", "must not be negative");
  if (request.max_depth > 0 && request.root_code.empty()) {
    return InvalidField("max_depth", "needs root_code");
  }
  if (static_cast<int>(request.level) < 0 || static_cast<int>(request.level) > kMaxAgencyLevel) {
    return InvalidField("level", "unknown level");
  }
  AgencyQuery q;
  PSTRACK_ASSIGN_OR_RETURN(q.after_path, pager.After(request.page_token));
  q.level = request.level;
  q.as_of = request.as_of;
  q.name_folded = FoldForSearch(request.name_contains);
  q.limit = pager.fetch_limit();
  AgencyListPage page;
  PSTRACK_RETURN_IF_ERROR(store_.Read([&](AgencyReader& tx) -> absl::Status {
    if (!request.root_code.empty()) {
      PSTRACK_ASSIGN_OR_RETURN(Agency root, RequireAgency(tx, request.root_code, "root_code"));
      q.root_path = root.path;
      if (request.max_depth > 0) q.max_depth = root.depth + request.max_depth;
    }
    PSTRACK_ASSIGN_OR_RETURN(page.agencies, tx.ListAgencies(q));
    return absl::OkStatus();
  }));
  page.next_page_token = pager.Trim(page.agencies, [](const Agency& a) { return a.path; });
  return page;
}

std::vector<ItemOutcome> AgencyRegistry::Import(const std::vector<AgencyImportItem>& items) {
  std::vector<ItemOutcome> outcomes(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    outcomes[i].index = static_cast<int>(i);
    outcomes[i].key = items[i].agency.code;
    outcomes[i].source_line = items[i].source_line;
  }
  if (items.empty()) return outcomes;

  // Order the batch so that an item comes after the items it depends on
  // (its parent and successor, when they are in the batch): Kahn's algorithm,
  // stable with respect to the input order.
  absl::flat_hash_map<std::string, std::vector<size_t>> by_code;
  for (size_t i = 0; i < items.size(); ++i) by_code[items[i].agency.code].push_back(i);
  std::vector<std::vector<size_t>> dependents(items.size());
  std::vector<int> pending(items.size(), 0);
  for (size_t i = 0; i < items.size(); ++i) {
    for (const std::string* dep : {&items[i].agency.parent_code, &items[i].agency.successor_code}) {
      if (dep->empty() || *dep == items[i].agency.code) continue;
      auto it = by_code.find(*dep);
      if (it == by_code.end()) continue;
      for (size_t j : it->second) {
        dependents[j].push_back(i);
        ++pending[i];
      }
    }
  }
  std::deque<size_t> ready;
  for (size_t i = 0; i < items.size(); ++i) {
    if (pending[i] == 0) ready.push_back(i);
  }
  std::vector<size_t> order;
  while (!ready.empty()) {
    size_t i = ready.front();
    ready.pop_front();
    order.push_back(i);
    for (size_t d : dependents[i]) {
      if (--pending[d] == 0) ready.push_back(d);
    }
  }
  std::vector<bool> in_cycle(items.size(), false);
  for (size_t i = 0; i < items.size(); ++i) {
    if (pending[i] > 0) in_cycle[i] = true;
  }

  absl::Status batch = store_.Write([&](AgencyWriter& tx) -> absl::Status {
    for (size_t i = 0; i < items.size(); ++i) {
      if (!in_cycle[i]) continue;
      outcomes[i].status = FieldError(absl::StatusCode::kFailedPrecondition, "agency.parent_code",
                                      absl::StrCat("'", items[i].agency.code,
                                                   "' is part of a cycle of parent or successor links "
                                                   "within the import"));
    }
    for (size_t i : order) {
      const Agency& a = items[i].agency;
      absl::StatusOr<Written> w;
      absl::Status s = tx.Atomically([&]() -> absl::Status {
        auto existing = tx.FindAgency(a.code);
        if (!existing.ok()) return existing.status();
        w = *existing ? ReplaceIn(tx, **existing, a) : CreateIn(tx, a);
        return w.status();
      });
      if (s.ok()) {
        outcomes[i].outcome = w->changed ? WriteOutcome::kApplied : WriteOutcome::kUnchanged;
      } else {
        outcomes[i].status = s;
        if (s.code() == absl::StatusCode::kInternal || s.code() == absl::StatusCode::kUnavailable) return s;
      }
    }
    return absl::OkStatus();
  });
  if (!batch.ok()) {
    // The transaction rolled back: nothing of the batch landed.
    RejectAll(outcomes, batch);
  }
  return outcomes;
}

absl::StatusOr<SuccessorResolution> AgencyRegistry::ResolveSuccessor(absl::string_view code, Date as_of) {
  PSTRACK_RETURN_IF_ERROR(ValidateAgencyCode(code, "code"));
  SuccessorResolution out;
  PSTRACK_RETURN_IF_ERROR(store_.Read([&](AgencyReader& tx) -> absl::Status {
    PSTRACK_ASSIGN_OR_RETURN(auto cur, tx.FindAgency(code));
    if (!cur) return NotFound("code", code);
    out.lineage.push_back(cur->code);
    if (cur->valid_from && as_of < *cur->valid_from) {
      return FieldError(absl::StatusCode::kFailedPrecondition, "as_of",
                        absl::StrCat("agency '", code, "' did not exist yet on ", FormatDate(as_of)));
    }
    while (!cur->InForceOn(as_of)) {
      if (cur->successor_code.empty() || out.lineage.size() > 64) {
        return FieldError(absl::StatusCode::kFailedPrecondition, "as_of",
                          absl::StrCat("agency '", cur->code, "' is not in force on ", FormatDate(as_of),
                                       " and has no successor"));
      }
      PSTRACK_ASSIGN_OR_RETURN(cur, tx.FindAgency(cur->successor_code));
      if (!cur) return absl::InternalError("successor link to a missing agency");
      out.lineage.push_back(cur->code);
    }
    out.agency = *cur;
    return absl::OkStatus();
  }));
  return out;
}

}  // namespace pstrack
