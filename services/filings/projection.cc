#include "services/filings/projection.h"

#include "services/common/ceilings.h"
#include "services/common/status.h"
#include "services/figures/aggregation.h"
#include "services/filings/filings.h"
#include "services/filings/lookups.h"

namespace pstrack {

absl::StatusOr<Projected> ProjectDossiers(FilingWriter& tx, const std::vector<std::string>& codes,
                                          const WorkingCalendar& calendar, absl::Time now) {
  PSTRACK_ASSIGN_OR_RETURN(std::vector<LoggedEvent> pending, tx.PendingEventsOf(codes));
  return ProjectLogged(tx, std::move(pending), calendar, now);
}

absl::StatusOr<Projected> ProjectLogged(FilingWriter& tx, std::vector<LoggedEvent> pending,
                                        const WorkingCalendar& calendar, absl::Time now) {
  Projected out;
  if (pending.empty()) return out;
  std::map<std::string, std::vector<FilingEvent>> fresh;
  std::vector<StoredEvent> moved;
  std::vector<int64_t> seqs;
  for (LoggedEvent& p : pending) {
    PSTRACK_ASSIGN_OR_RETURN(FilingEvent e, DecodeEvent(p.event.content));
    fresh[p.event.dossier_code].push_back(std::move(e));
    seqs.push_back(p.seq);
    moved.push_back(std::move(p.event));
  }
  std::vector<std::string> touched;
  for (const auto& [code, unused] : fresh) touched.push_back(code);
  PSTRACK_ASSIGN_OR_RETURN(std::vector<StoredEvent> stored, tx.LoadDossierEvents(touched));
  PSTRACK_ASSIGN_OR_RETURN(auto projected, DecodeByDossier(stored));

  Lookups lookups(tx);
  std::vector<const FilingEvent*> named;
  for (const auto& [code, events] : fresh) {
    for (const FilingEvent& e : events) named.push_back(&e);
  }
  for (const auto& [code, events] : projected) {
    for (const FilingEvent& e : events) named.push_back(&e);
  }
  PSTRACK_RETURN_IF_ERROR(lookups.Prefetch(named));

  AggregateDeltas deltas;
  std::vector<DossierRow> rows;
  for (auto& [code, events] : fresh) {
    const std::vector<FilingEvent>& before = projected[code];
    std::vector<FilingEvent> all = before;
    all.insert(all.end(), events.begin(), events.end());
    PSTRACK_ASSIGN_OR_RETURN(const Procedure* procedure, ProcedureOf(all, lookups));
    PSTRACK_ASSIGN_OR_RETURN(DossierState state, Replay(std::move(all), calendar, procedure));
    PSTRACK_ASSIGN_OR_RETURN(const Agency* agency, lookups.FindAgency(state.agency_code));
    if (agency == nullptr) {
      return absl::DataLossError(absl::StrCat("dossier '", code, "' names agency '", state.agency_code,
                                              "', which is not in the tree"));
    }
    // The dossier's previous contribution out, the new one in.
    if (!before.empty()) {
      PSTRACK_ASSIGN_OR_RETURN(const Procedure* old_procedure, ProcedureOf(before, lookups));
      PSTRACK_ASSIGN_OR_RETURN(DossierState old_state, Replay(before, calendar, old_procedure));
      AccumulateDossier(old_state, old_procedure, agency->path, -1, &deltas);
    }
    AccumulateDossier(state, procedure, agency->path, +1, &deltas);
    rows.push_back(ToDossierRow(state, agency->path, now));
    out.dossiers.emplace(code, std::move(state));
  }
  PSTRACK_ASSIGN_OR_RETURN(int64_t removed, tx.RemoveFromLog(seqs));
  if (removed != static_cast<int64_t>(seqs.size())) {
    return absl::AbortedError("events of this projection were projected by another transaction meanwhile");
  }
  PSTRACK_RETURN_IF_ERROR(tx.InsertEvents(moved));
  PSTRACK_RETURN_IF_ERROR(tx.PutDossiers(rows));
  if (!CeilingOn(Ceiling::kNoAggregates)) PSTRACK_RETURN_IF_ERROR(tx.AddAggregates(NonZeroRows(std::move(deltas))));
  out.events = static_cast<int64_t>(moved.size());
  return out;
}

}  // namespace pstrack
