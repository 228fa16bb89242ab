// The dossier lifecycle as a pure function: Replay(events, calendar,
// procedure) -> DossierState. Here live the rules of DOMAIN.md sections 4-5:
// which histories are possible, the appointment date in working days (15:00
// rule, supplement restarts, one apology re-appointment), and the outcome
// (early / on time / late) by Circular 01/2018 and by the national portal's
// practice. Knows nothing of gRPC or SQL. Thread-safe (no state).
#ifndef PSTRACK_SERVICES_LIFECYCLE_LIFECYCLE_H_
#define PSTRACK_SERVICES_LIFECYCLE_LIFECYCLE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "services/calendar/working_calendar.h"
#include "services/catalog/procedure.h"
#include "services/lifecycle/event.h"

namespace pstrack {

// Numbered as the national portal syncs it (and pstrack.v1.DossierStatus).
enum class DossierStatus {
  kUnspecified = 0,
  kRegisteredOnline = 1,
  kReceived = 2,
  kNotAccepted = 3,
  kProcessing = 4,
  kSupplementRequested = 5,
  kFinancialObligation = 6,
  kWithdrawn = 7,
  kStopped = 8,
  kResolved = 9,
  kResultReturned = 10,
};

// Numbered as pstrack.v1.Timeliness.
enum class Timeliness {
  kUnspecified = 0,
  kEarly = 1,
  kOnTime = 2,
  kLate = 3,
  kWithinTime = 4,
  kOverdue = 5,
  kNotApplicable = 6,
};
absl::string_view TimelinessName(Timeliness t);
absl::string_view DossierStatusName(DossierStatus s);

// What ended the dossier, if anything.
enum class FinishKind { kNone = 0, kResolved, kResultReturned, kStopped, kWithdrawn, kNotAccepted };

// The statutory clock of a dossier from one starting instant.
struct Appointment {
  absl::Time clock_start;  // the receipt, or 08:00 of the next working day after 15:00 / a day off
  Date clock_day;
  Date appointment_date;   // ngày hẹn trả
  absl::Time due_time;     // end of the appointment date (24:00), or the hour for hour-based procedures
  bool provisional = false;  // a provisional (unpublished) calendar year was used
};

// Receipt (or complete supplement) at `start` + the procedure's statutory
// time, in working days or working hours (Decree 61/2018 Art. 19; a dossier
// received after 15:00 is handled from the next working day).
Appointment ComputeAppointment(absl::Time start, uint32_t amount, TimeUnit unit, const WorkingCalendar& calendar);

inline constexpr int kAfternoonCutoffHour = 15;

// An event of the dossier's set that a lifecycle rule sets aside: it is
// kept (stored, listed with the dossier) but has no effect on the state.
// Which events a set sets aside is a function of the set alone.
struct SetAsideEvent {
  std::string event_id;
  EventKind kind = EventKind::kUnspecified;
  absl::Time occurred_at;
  std::string rule;    // "after_opening", "single_receipt", ... (docs/lifecycle.md)
  std::string reason;  // why, naming the event it conflicts with
};

struct DossierState {
  std::string code, agency_code, procedure_code;
  DossierStatus status = DossierStatus::kUnspecified;
  Channel channel = Channel::kUnspecified;
  std::optional<absl::Time> registered_time, received_time;
  // The statutory clock by the rule: restarted by the last complete supplement.
  std::optional<Appointment> appointment;
  // The portal's clock: from receipt, extended by supplement waits.
  std::optional<absl::Time> portal_due_time;
  OptionalDate declared_appointment;
  bool appointment_mismatch = false;  // declared and computed dates differ
  OptionalDate reappointed_date;      // from the apology letter
  bool apology_late = false;          // apology given later than one day before the due date
  FinishKind finish_kind = FinishKind::kNone;
  std::optional<absl::Time> finish_time;
  // For a finished dossier: early / on time / late (or not applicable);
  // unspecified while open (use TimelinessAt).
  Timeliness timeliness = Timeliness::kUnspecified;
  Timeliness portal_timeliness = Timeliness::kUnspecified;
  int supplement_requests = 0;
  std::optional<absl::Time> supplement_wait_since;  // an open supplement request
  int64_t paid_amount_vnd = 0;
  int64_t paid_online_amount_vnd = 0;
  bool paid_online = false;
  bool electronic_result = false, processed_electronically = false, signed_electronically = false;
  bool returned_remotely = false;
  bool digitised_documents = false, digitised_result = false, reused_data = false, population_db_used = false,
       shared_for_reuse = false;
  Rating rating = Rating::kUnspecified;  // the latest feedback
  int feedback_count = 0;
  bool complaint = false;
  // Working days from the clock start to the finish, supplement waits excluded.
  std::optional<int> processing_working_days;
  int event_count = 0;  // every event of the set, set aside or not
  absl::Time last_event_time = absl::InfinitePast();  // of the events that count
  // The events the rules set aside, in replay order.
  std::vector<SetAsideEvent> set_aside;

  bool received() const { return received_time.has_value(); }
  bool finished() const { return finish_kind != FinishKind::kNone; }
};

// Timeliness at instant `t`: a finished dossier keeps its outcome; an open
// one is within time or overdue (not overdue while waiting for a supplement,
// the clock being stopped); a dossier not yet received is not applicable.
Timeliness TimelinessAt(const DossierState& state, absl::Time t, bool portal_practice);

// For an open dossier: the instant from which it counts as overdue, so that
// "overdue at t" is "open at t and t >= OverdueFrom" (what TimelinessAt
// says, in a form an index can answer). Never (nullopt) when the dossier has
// no due time, or its clock stopped for a supplement before the due time.
std::optional<absl::Time> OverdueFrom(const DossierState& state, bool portal_practice);

// The code of the procedure a dossier's events make it one of: the one named
// by the first of them, in replay order, that names one (an event naming
// another is set aside by one_procedure). The `procedure` to give Replay,
// found the same way whatever order the events are in; empty when no event
// names one.
std::string ProcedureCodeOf(const std::vector<FilingEvent>& events);

// Replays a dossier's events (any order; they are sorted by ReplayOrderLess)
// into its state. When the set is not a possible history, the events the
// broken rules name are set aside (DossierState::set_aside, with the rule)
// and the rest is replayed: a rule never makes the replay fail, and the
// result depends on the set alone, not on the order it arrived in.
// `procedure` (the one ProcedureCodeOf names) supplies the statutory time;
// with none, no appointment is computed. Fails only on an empty set or an event without a kind.
absl::StatusOr<DossierState> Replay(std::vector<FilingEvent> events, const WorkingCalendar& calendar,
                                    const Procedure* procedure);

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_LIFECYCLE_LIFECYCLE_H_
