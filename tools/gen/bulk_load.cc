#include "tools/gen/bulk_load.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/status.h"
#include "services/filings/filings.h"
#include "services/lifecycle/lifecycle.h"
#include "services/figures/aggregation.h"
#include "storage/store.h"

namespace pstrack::gen {
namespace {

// Receipts and registrations first, then replay order: the order in which
// Filings::Record takes a new dossier's events (its first gives the agency).
bool RecordOrderLess(const FilingEvent& a, const FilingEvent& b) {
  auto anchor = [](const FilingEvent& e) {
    return e.kind == EventKind::kReceived || e.kind == EventKind::kRegisteredOnline ? 0 : 1;
  };
  if (anchor(a) != anchor(b)) return anchor(a) < anchor(b);
  return ReplayOrderLess(a, b);
}

}  // namespace

absl::Status BulkLoad(Store& store, const GenOptions& options, const World& world,
                      std::shared_ptr<const WorkingCalendar> calendar, const BulkLoadOptions& bulk) {
  // Agencies and procedures as stored (paths, normalized procedures), as
  // Filings reads them.
  std::vector<Agency> agencies;
  std::vector<Procedure> procedures;
  PSTRACK_RETURN_IF_ERROR(store.Read([&](ReadTransaction& tx) -> absl::Status {
    AgencyQuery aq;
    aq.limit = 100000000;
    PSTRACK_ASSIGN_OR_RETURN(agencies, tx.ListAgencies(aq));
    ProcedureQuery pq;
    pq.limit = 100000000;
    PSTRACK_ASSIGN_OR_RETURN(procedures, tx.ListProcedures(pq));
    return absl::OkStatus();
  }));
  absl::flat_hash_map<std::string, const std::string*> path_of;
  for (const Agency& a : agencies) path_of[a.code] = &a.path;
  absl::flat_hash_map<std::string, const Procedure*> procedure_of;
  for (const Procedure& p : procedures) procedure_of[p.code] = &p;

  int64_t events_loaded = 0;
  std::vector<FilingEvent> events;
  for (int64_t first = 0; first < options.dossiers; first += bulk.per_transaction) {
    const int64_t end = std::min(options.dossiers, first + bulk.per_transaction);
    const absl::Time now = absl::Now();
    AggregateDeltas deltas;
    std::vector<DossierRow> rows;
    std::vector<StoredEvent> stored;
    rows.reserve(end - first);
    for (int64_t i = first; i < end; ++i) {
      events.clear();
      DossierEvents(options, world, i, &events);
      if (events.empty()) continue;
      std::sort(events.begin(), events.end(), RecordOrderLess);
      const Procedure* procedure = nullptr;
      for (const FilingEvent& e : events) {
        if (e.procedure_code.empty()) continue;
        auto it = procedure_of.find(e.procedure_code);
        if (it == procedure_of.end()) {
          return absl::FailedPreconditionError(absl::StrCat("procedure ", e.procedure_code, " is not in the store"));
        }
        procedure = it->second;
        break;
      }
      auto path = path_of.find(events.front().agency_code);
      if (path == path_of.end()) {
        return absl::FailedPreconditionError(absl::StrCat("agency ", events.front().agency_code, " is not in the store"));
      }
      absl::StatusOr<DossierState> state = Replay(events, *calendar, procedure);
      if (!state.ok()) {
        return absl::FailedPreconditionError(
            absl::StrCat("generated dossier ", events.front().dossier_code, " does not replay: ", state.status().message()));
      }
      rows.push_back(ToDossierRow(*state, *path->second, now));
      AccumulateDossier(*state, procedure, *path->second, +1, &deltas);
      if (bulk.with_events) {
        for (const FilingEvent& e : events) stored.push_back(ToStored(e, now));
      }
      events_loaded += events.size();
    }
    PSTRACK_RETURN_IF_ERROR(store.Write([&](WriteTransaction& tx) -> absl::Status {
      if (bulk.with_events) PSTRACK_RETURN_IF_ERROR(tx.InsertEvents(stored));
      PSTRACK_RETURN_IF_ERROR(tx.PutDossiers(rows));
      return tx.AddAggregates(NonZeroRows(deltas));
    }));
    if (bulk.progress) bulk.progress(end, events_loaded);
  }
  return absl::OkStatus();
}

}  // namespace pstrack::gen
