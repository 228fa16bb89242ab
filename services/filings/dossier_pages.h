// Walking stored dossiers a page at a time with their events: what the
// re-derivations (rederive.h) and the aggregate rebuild and check
// (metrics/aggregate_maintenance.h) all do, so that memory stays bounded at
// any size. Thread-compatible (uses the caller's transaction).
#ifndef PSTRACK_SERVICES_FILINGS_DOSSIER_PAGES_H_
#define PSTRACK_SERVICES_FILINGS_DOSSIER_PAGES_H_

#include <map>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "services/filings/filing_store.h"
#include "services/lifecycle/event.h"

namespace pstrack {

// A page's events, decoded, by dossier code.
using EventsByDossier = std::map<std::string, std::vector<FilingEvent>>;

// Visits the dossiers matching `query` in code order, `per_page` at a time,
// each page with its events; stops at the call's deadline or cancellation
// (CheckCallLimits) and at the first error `on_page` returns.
absl::Status ForEachDossierPage(DossierReader& tx, DossierQuery query, int per_page,
                                absl::FunctionRef<absl::Status(const std::vector<DossierRow>&, EventsByDossier&)> on_page);

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_FILINGS_DOSSIER_PAGES_H_
