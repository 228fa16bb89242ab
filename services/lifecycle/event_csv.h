// Reading filing events from CSV files (what `pstrack event send` accepts),
// one result per data line. Columns, by name (only the first six are
// required): event_id, dossier_code, agency_code, procedure_code,
// occurred_at, kind, channel, declared_appointment_date,
// new_appointment_date, reason, amount_vnd, online, electronic_result,
// processed_electronically, signed_electronically, returned_remotely,
// documents, result, reused_data, population_db_used, shared_for_reuse,
// rating, complaint. occurred_at is RFC 3339 ("2025-06-02T10:00:00+07:00")
// or Vietnam local time "2025-06-02 10:00[:00]". Pure; thread-safe.
#ifndef PSTRACK_SERVICES_LIFECYCLE_EVENT_CSV_H_
#define PSTRACK_SERVICES_LIFECYCLE_EVENT_CSV_H_

#include <vector>

#include "absl/status/statusor.h"
#include "services/lifecycle/event.h"

namespace pstrack {

struct EventCsvRow {
  int line = 0;
  absl::StatusOr<FilingEvent> event;
};

absl::StatusOr<std::vector<EventCsvRow>> ParseEventCsv(absl::string_view text);

// RFC 3339, or Vietnam local "YYYY-MM-DD HH:MM[:SS]".
absl::StatusOr<absl::Time> ParseInstant(absl::string_view text, absl::string_view field);

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_LIFECYCLE_EVENT_CSV_H_
