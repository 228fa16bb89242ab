// Copying a whole pstrack database into another (typically an embedded
// SQLite file into PostgreSQL when a deployment moves up). Reference data,
// periodic reports (every revision), API keys (revoked ones too) and the
// feed log are copied as they are (the audit log is not: it stays with the
// source);
// dossier events are re-ingested through Filings so that the target's
// dossier index and aggregates are derived there, exactly as live ingestion
// would. Not safe against concurrent writers of the source.
#ifndef PSTRACK_SERVICES_ADMIN_COPY_DATABASE_H_
#define PSTRACK_SERVICES_ADMIN_COPY_DATABASE_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "services/calendar/working_calendar.h"
#include "storage/store.h"

namespace pstrack {

struct CopyReport {
  int64_t agencies = 0, procedures = 0, dossiers = 0, events = 0, external_inputs = 0, reports = 0, api_keys = 0;
};

// FAILED_PRECONDITION if the target already holds agencies or events.
// `progress` (optional) is told the events copied so far.
absl::StatusOr<CopyReport> CopyDatabase(Store& from, Store& to, std::shared_ptr<const WorkingCalendar> calendar,
                                        const std::function<void(int64_t)>& progress = nullptr);

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_ADMIN_COPY_DATABASE_H_
