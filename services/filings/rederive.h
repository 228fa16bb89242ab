// Keeping derived data in step when the reference data it was derived with
// changes: a procedure's statutory time, online mode, eligibility, fee or
// field (dossier due dates and aggregates), or an agency's place in the tree
// (dossier index paths and the ancestors that hold their aggregates). Runs
// inside the write transaction of the change; its cost follows the dossiers
// concerned. Thread-compatible (uses the caller's transaction).
#ifndef PSTRACK_SERVICES_FILINGS_REDERIVE_H_
#define PSTRACK_SERVICES_FILINGS_REDERIVE_H_

#include "absl/status/status.h"
#include "services/calendar/working_calendar.h"
#include "services/catalog/procedure.h"
#include "services/filings/filing_store.h"

namespace pstrack {

absl::Status RederiveProcedure(FilingWriter& tx, const WorkingCalendar& calendar, const Procedure& before,
                               const Procedure& after);

absl::Status RederiveMovedSubtree(FilingWriter& tx, const WorkingCalendar& calendar, absl::string_view old_path,
                                  absl::string_view new_path);

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_FILINGS_REDERIVE_H_
