#include "services/catalog/catalog.h"

#include "services/agencies/agency_registry.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/page_token.h"
#include "services/common/status.h"
#include "services/common/text.h"

namespace pstrack {
namespace {

std::string Tristate(const std::optional<bool>& b) { return b ? (*b ? "1" : "0") : "-"; }

std::string ListFingerprint(const ProcedureListRequest& r) {
  return FilterFingerprint(absl::StrCat("procedures|", r.field, "|", static_cast<int>(r.online_mode), "|",
                                        r.agency_code, "|", static_cast<int>(r.level), "|",
                                        FormatOptionalDate(r.as_of), "|", r.query, "|",
                                        Tristate(r.full_online_eligible), "|", Tristate(r.fee_bearing)));
}

}  // namespace

absl::StatusOr<UpsertResult> Catalog::UpsertIn(CatalogWriter& tx, Procedure p, int64_t expected_revision) {
  p.Normalize();
  PSTRACK_RETURN_IF_ERROR(ValidateProcedureFields(p));
  for (const std::string& code : p.agency_codes) {
    PSTRACK_ASSIGN_OR_RETURN(auto agency, tx.FindAgency(code));
    if (!agency) {
      return FieldError(absl::StatusCode::kNotFound, "procedure.agency_codes",
                        absl::StrCat("agency '", code, "' does not exist"));
    }
  }
  PSTRACK_ASSIGN_OR_RETURN(auto existing, tx.FindProcedure(p.code));
  if (expected_revision != 0) {
    int64_t stored = existing ? existing->revision : 0;
    if (stored != expected_revision) {
      return FieldError(absl::StatusCode::kFailedPrecondition, "expected_revision",
                        absl::StrCat("procedure '", p.code, "' is at revision ", stored, ", not ",
                                     expected_revision, "; read it again and retry"));
    }
  }
  if (existing && existing->SameContent(p)) return UpsertResult{*existing, true};
  absl::Time now = NowForStorage();
  p.revision = existing ? existing->revision + 1 : 1;
  p.create_time = existing ? existing->create_time : now;
  p.update_time = now;
  PSTRACK_RETURN_IF_ERROR(tx.PutProcedure(p));
  if (existing && on_change_) PSTRACK_RETURN_IF_ERROR(on_change_(tx, *existing, p));
  return UpsertResult{std::move(p), false};
}

absl::StatusOr<UpsertResult> Catalog::Upsert(Procedure procedure, int64_t expected_revision) {
  if (expected_revision < 0) return InvalidField("expected_revision", "must not be negative");
  UpsertResult result;
  PSTRACK_RETURN_IF_ERROR(store_.Write([&](CatalogWriter& tx) -> absl::Status {
    PSTRACK_ASSIGN_OR_RETURN(result, UpsertIn(tx, std::move(procedure), expected_revision));
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<Procedure> Catalog::Get(absl::string_view code) {
  PSTRACK_RETURN_IF_ERROR(ValidateProcedureCode(code, "code"));
  std::optional<Procedure> found;
  PSTRACK_RETURN_IF_ERROR(store_.Read([&](CatalogReader& tx) -> absl::Status {
    PSTRACK_ASSIGN_OR_RETURN(found, tx.FindProcedure(code));
    return absl::OkStatus();
  }));
  if (!found) {
    return FieldError(absl::StatusCode::kNotFound, "code", absl::StrCat("procedure '", code, "' does not exist"));
  }
  return *found;
}

absl::StatusOr<ProcedureListPage> Catalog::List(const ProcedureListRequest& r) {
  PSTRACK_ASSIGN_OR_RETURN(KeysetPager pager, KeysetPager::Make(r.page_size, ListFingerprint(r)));
  if (static_cast<int>(r.level) < 0 || static_cast<int>(r.level) > kMaxAgencyLevel) {
    return InvalidField("level", "unknown level");
  }
  if (static_cast<int>(r.online_mode) < 0 || static_cast<int>(r.online_mode) > 3) {
    return InvalidField("online_mode", "unknown mode");
  }
  ProcedureQuery q;
  PSTRACK_ASSIGN_OR_RETURN(q.after_code, pager.After(r.page_token));
  q.field = r.field;
  q.online_mode = r.online_mode;
  q.level = r.level;
  q.as_of = r.as_of;
  q.query_folded = FoldForSearch(r.query);
  q.full_online_eligible = r.full_online_eligible;
  q.fee_bearing = r.fee_bearing;
  q.limit = pager.fetch_limit();
  ProcedureListPage page;
  PSTRACK_RETURN_IF_ERROR(store_.Read([&](CatalogReader& tx) -> absl::Status {
    if (!r.agency_code.empty()) {
      PSTRACK_ASSIGN_OR_RETURN(Agency agency, RequireAgency(tx, r.agency_code, "agency_code"));
      q.agency_code = agency.code;
      q.agency_level = agency.level;
    }
    PSTRACK_ASSIGN_OR_RETURN(page.procedures, tx.ListProcedures(q));
    return absl::OkStatus();
  }));
  page.next_page_token = pager.Trim(page.procedures, [](const Procedure& p) { return p.code; });
  return page;
}

std::vector<ItemOutcome> Catalog::Import(const std::vector<ProcedureImportItem>& items) {
  std::vector<ItemOutcome> outcomes(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    outcomes[i].index = static_cast<int>(i);
    outcomes[i].key = items[i].procedure.code;
    outcomes[i].source_line = items[i].source_line;
  }
  absl::Status batch = store_.Write([&](CatalogWriter& tx) -> absl::Status {
    for (size_t i = 0; i < items.size(); ++i) {
      ItemOutcome& o = outcomes[i];
      absl::StatusOr<UpsertResult> r;
      absl::Status s = tx.Atomically([&]() -> absl::Status {
        r = UpsertIn(tx, items[i].procedure, 0);
        return r.status();
      });
      if (s.ok()) {
        o.outcome = r->unchanged ? WriteOutcome::kUnchanged : WriteOutcome::kApplied;
      } else {
        o.status = s;
        if (s.code() == absl::StatusCode::kInternal || s.code() == absl::StatusCode::kUnavailable) return s;
      }
    }
    return absl::OkStatus();
  });
  if (!batch.ok()) {
    RejectAll(outcomes, batch);
  }
  return outcomes;
}

}  // namespace pstrack
