// The projection: what the event log's events change, made real. For each
// dossier with pending events it replays the whole set (the projected events
// and the pending ones), retracts the dossier's previous contribution from
// the aggregates and adds the new one, writes its index row, and moves the
// pending events from the log into the dossier's stored history, all in the
// caller's write transaction. Per dossier it is idempotent (a dossier with
// nothing pending is left as it is), so it can run with the append that
// logged the events or behind it, in any grouping, and a crash at any point
// is recovered by projecting what the log still holds. Thread-compatible.
#ifndef PSTRACK_SERVICES_FILINGS_PROJECTION_H_
#define PSTRACK_SERVICES_FILINGS_PROJECTION_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/calendar/working_calendar.h"
#include "services/filings/filing_store.h"
#include "services/lifecycle/lifecycle.h"

namespace pstrack {

struct Projected {
  // The state of each dossier projected, after the projection.
  std::map<std::string, DossierState> dossiers;
  int64_t events = 0;  // moved from the log
};

// Projects every pending event of these dossiers (codes without pending
// events are skipped). The caller leads the projection (LeadProjection):
// no other transaction projects meanwhile; writers may append to these
// dossiers, and what they append waits for the next round.
absl::StatusOr<Projected> ProjectDossiers(FilingWriter& tx, const std::vector<std::string>& dossier_codes,
                                          const WorkingCalendar& calendar, absl::Time now);
// Projects these logged events (a round of the oldest: a dossier's later
// events, if any, wait for a later round). The caller leads the
// projection; ABORTED (and the caller's transaction must roll back) if
// another transaction projected some of them meanwhile.
absl::StatusOr<Projected> ProjectLogged(FilingWriter& tx, std::vector<LoggedEvent> pending,
                                        const WorkingCalendar& calendar, absl::Time now);

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_FILINGS_PROJECTION_H_
