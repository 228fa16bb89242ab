#include "services/filings/rederive.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/call_limits.h"
#include "services/common/status.h"
#include "services/filings/dossier_pages.h"
#include "services/filings/filings.h"
#include "services/figures/aggregation.h"

namespace pstrack {
namespace {

bool AffectsDerivedData(const Procedure& a, const Procedure& b) {
  return a.online_mode != b.online_mode || a.full_online_eligible != b.full_online_eligible ||
         a.fee_bearing != b.fee_bearing || a.field != b.field || a.resolution_amount != b.resolution_amount ||
         a.resolution_unit != b.resolution_unit;
}

}  // namespace

absl::Status RederiveProcedure(FilingWriter& tx, const WorkingCalendar& calendar, const Procedure& before,
                               const Procedure& after) {
  if (!AffectsDerivedData(before, after)) return absl::OkStatus();
  PSTRACK_RETURN_IF_ERROR(LeadTheProjection(tx));
  DossierQuery q;
  q.procedure_code = after.code;
  const absl::Time now = NowForStorage();
  return ForEachDossierPage(tx, q, 1000, [&](const std::vector<DossierRow>& rows, EventsByDossier& events) -> absl::Status {
    AggregateDeltas deltas;
    std::vector<DossierRow> updated;
    for (const DossierRow& row : rows) {
      PSTRACK_ASSIGN_OR_RETURN(DossierState old_state, Replay(events[row.code], calendar, &before));
      PSTRACK_ASSIGN_OR_RETURN(DossierState new_state, Replay(events[row.code], calendar, &after));
      AccumulateDossier(old_state, &before, row.agency_path, -1, &deltas);
      AccumulateDossier(new_state, &after, row.agency_path, +1, &deltas);
      updated.push_back(ToDossierRow(new_state, row.agency_path, now));
    }
    PSTRACK_RETURN_IF_ERROR(tx.PutDossiers(updated));
    return tx.AddAggregates(NonZeroRows(std::move(deltas)));
  });
}

absl::Status RederiveMovedSubtree(FilingWriter& tx, const WorkingCalendar& calendar, absl::string_view old_path,
                                  absl::string_view new_path) {
  PSTRACK_RETURN_IF_ERROR(LeadTheProjection(tx));
  DossierQuery q;
  q.agency_path = std::string(old_path);
  const absl::Time now = NowForStorage();
  std::map<std::string, std::optional<Procedure>> procedures;
  return ForEachDossierPage(tx, q, 1000, [&](const std::vector<DossierRow>& rows, EventsByDossier& events) -> absl::Status {
    AggregateDeltas deltas;
    std::vector<DossierRow> updated;
    for (const DossierRow& row : rows) {
      const Procedure* procedure = nullptr;
      if (!row.procedure_code.empty()) {
        if (!procedures.contains(row.procedure_code)) {
          PSTRACK_ASSIGN_OR_RETURN(procedures[row.procedure_code], tx.FindProcedure(row.procedure_code));
        }
        auto& p = procedures[row.procedure_code];
        procedure = p ? &*p : nullptr;
      }
      PSTRACK_ASSIGN_OR_RETURN(DossierState state, Replay(events[row.code], calendar, procedure));
      const std::string moved = absl::StrCat(new_path, row.agency_path.substr(old_path.size()));
      AccumulateDossier(state, procedure, row.agency_path, -1, &deltas);
      AccumulateDossier(state, procedure, moved, +1, &deltas);
      updated.push_back(ToDossierRow(state, moved, now));
    }
    PSTRACK_RETURN_IF_ERROR(tx.PutDossiers(updated));
    return tx.AddAggregates(NonZeroRows(std::move(deltas)));
  });
}

}  // namespace pstrack
