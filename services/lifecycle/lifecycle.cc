#include "services/lifecycle/lifecycle.h"

#include <algorithm>
#include <array>
#include <optional>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "services/common/status.h"

namespace pstrack {
namespace {

using K = EventKind;

// A rule the set of events breaks, and the event it sets aside.
struct Violation {
  const FilingEvent* event;
  const char* rule;
  std::string why;
};

std::optional<Violation> Impossible(const char* rule, const FilingEvent& e, std::string why) {
  return Violation{&e, rule, std::move(why)};
}

bool IsTerminal(K k) { return k == K::kResolved || k == K::kStopped || k == K::kWithdrawn || k == K::kNotAccepted; }

// Kinds that can only happen once the dossier has been received.
bool NeedsReceipt(K k) {
  switch (k) {
    case K::kProcessingStarted:
    case K::kSupplementRequested:
    case K::kSupplementReceived:
    case K::kFinancialObligationRequested:
    case K::kReappointed:
    case K::kResolved:
    case K::kResultReturned:
    case K::kStopped:
    case K::kWithdrawn:
      return true;
    default:
      return false;
  }
}

// What may still happen after the dossier ended by `end`.
bool AllowedAfter(K end, K k) {
  if (k == K::kFeedback) return true;
  if (end == K::kResolved) return k == K::kResultReturned || k == K::kPayment || k == K::kDigitised;
  if (end == K::kResultReturned) return k == K::kPayment || k == K::kDigitised;
  return false;  // stopped, withdrawn, not accepted: only feedback
}

// Judges a finish (or a stopped clock) at `judged` against a due instant.
Timeliness Judge(absl::Time judged, absl::Time due, Date appointment_date) {
  if (judged >= due) return Timeliness::kLate;
  if (LocalDay(judged) < appointment_date) return Timeliness::kEarly;
  return Timeliness::kOnTime;
}

// The events that may happen once in a dossier's history, found while
// checking that they do: the receipt, the online registration, the end
// (resolved, stopped, withdrawn, not accepted), the return of the result,
// the re-appointment. The history is sorted; all events name one agency.
struct Landmarks {
  const FilingEvent* receipt = nullptr;
  const FilingEvent* registration = nullptr;
  const FilingEvent* end = nullptr;
  const FilingEvent* returned = nullptr;
  const FilingEvent* reappointed = nullptr;
};

std::optional<Violation> FindLandmarks(const std::vector<FilingEvent>& events, Landmarks& m) {
  const FilingEvent& first = events.front();
  for (const FilingEvent& e : events) {
    if (e.agency_code != first.agency_code) {
      return Impossible("one_agency", e,
                        absl::StrCat("dossier '", e.dossier_code, "' is filed at agency '", first.agency_code,
                                     "'; an event cannot name agency '", e.agency_code, "'"));
    }
    if (e.kind == K::kReceived) {
      if (m.receipt) {
        return Impossible("single_receipt", e, absl::StrCat("already received by event '", m.receipt->event_id, "'"));
      }
      m.receipt = &e;
    }
    if (e.kind == K::kRegisteredOnline) {
      if (m.registration) {
        return Impossible("single_registration", e,
                          absl::StrCat("already registered by event '", m.registration->event_id, "'"));
      }
      m.registration = &e;
    }
    if (IsTerminal(e.kind)) {
      if (m.end) {
        return Impossible("single_end", e,
                          absl::StrCat("the dossier already ended: ", EventKindName(m.end->kind), " by event '",
                                       m.end->event_id, "'"));
      }
      m.end = &e;
    }
    if (e.kind == K::kResultReturned) {
      if (m.returned) {
        return Impossible("single_return", e,
                          absl::StrCat("result already returned by event '", m.returned->event_id, "'"));
      }
      m.returned = &e;
    }
    if (e.kind == K::kReappointed) {
      if (m.reappointed) {
        return Impossible("single_reappointment", e,
                          absl::StrCat("a dossier may be re-appointed with an apology at most once; event '",
                                       m.reappointed->event_id, "' already did"));
      }
      m.reappointed = &e;
    }
  }
  return std::nullopt;
}

// Every event that names a procedure names the same one.
std::optional<Violation> CheckOneProcedure(const std::vector<FilingEvent>& events) {
  std::string procedure;
  for (const FilingEvent& e : events) {
    if (e.procedure_code.empty()) continue;
    if (procedure.empty()) {
      procedure = e.procedure_code;
    } else if (e.procedure_code != procedure) {
      return Impossible("one_procedure", e,
                        absl::StrCat("the dossier is for procedure '", procedure, "', not '", e.procedure_code, "'"));
    }
  }
  return std::nullopt;
}

// The landmarks in a possible order: received or refused, registered before
// the receipt, nothing before the dossier existed, the result returned
// after it was resolved.
std::optional<Violation> CheckOrder(const std::vector<FilingEvent>& events, const Landmarks& m) {
  if (m.receipt && m.end && m.end->kind == K::kNotAccepted) {
    return Impossible("received_or_not_accepted", *m.end,
                      absl::StrCat("the dossier was received by event '", m.receipt->event_id,
                                   "'; it cannot also be refused at the counter"));
  }
  if (m.registration && m.receipt && ReplayOrderLess(*m.receipt, *m.registration)) {
    return Impossible("registered_before_receipt", *m.registration,
                      absl::StrCat("the dossier was received earlier, by event '", m.receipt->event_id, "'"));
  }
  // The first known event that opened the dossier.
  const FilingEvent* opened = m.registration ? m.registration : m.receipt;
  for (const FilingEvent& e : events) {
    if (m.receipt && NeedsReceipt(e.kind) && ReplayOrderLess(e, *m.receipt)) {
      return Impossible(
          "after_receipt", e,
          absl::StrCat("it happened before the dossier was received (event '", m.receipt->event_id, "')"));
    }
    if (opened && &e != opened && ReplayOrderLess(e, *opened) && e.kind != K::kRegisteredOnline) {
      return Impossible("after_opening", e,
                        absl::StrCat("it happened before the dossier existed (event '", opened->event_id, "')"));
    }
  }
  if (m.returned && m.end && m.end->kind == K::kResolved && ReplayOrderLess(*m.returned, *m.end)) {
    return Impossible("returned_after_resolved", *m.returned,
                      absl::StrCat("the result was returned before it was resolved (event '", m.end->event_id, "')"));
  }
  if (m.returned && m.end && m.end->kind != K::kResolved) {
    return Impossible("single_end", *m.returned,
                      absl::StrCat("the dossier ended without a result: ", EventKindName(m.end->kind), " by event '",
                                   m.end->event_id, "'"));
  }
  return std::nullopt;
}

// Nothing but what the end (or the return of the result) allows follows it.
std::optional<Violation> CheckNothingAfterEnd(const std::vector<FilingEvent>& events, const Landmarks& m) {
  for (const FilingEvent* last : {m.end, m.returned}) {
    if (!last) continue;
    bool after = false;
    for (const FilingEvent& e : events) {
      if (&e == last) {
        after = true;
        continue;
      }
      if (after && !AllowedAfter(last->kind, e.kind) && !(last->kind == K::kResolved && &e == m.returned)) {
        return Impossible(
            "nothing_after_end", e,
            absl::StrCat("the dossier already ended (", EventKindName(last->kind), " by event '", last->event_id,
                         "'); only feedback",
                         last->kind == K::kStopped || last->kind == K::kWithdrawn || last->kind == K::kNotAccepted
                             ? ""
                             : ", payments, digitisation and the return of the result",
                         " may follow"));
      }
    }
  }
  return std::nullopt;
}

// The first rule the sorted events break, if any, with the event it sets
// aside.
std::optional<Violation> CheckHistory(const std::vector<FilingEvent>& events) {
  Landmarks landmarks;
  if (auto v = FindLandmarks(events, landmarks)) return v;
  if (auto v = CheckOneProcedure(events)) return v;
  if (auto v = CheckOrder(events, landmarks)) return v;
  return CheckNothingAfterEnd(events, landmarks);
}

SetAsideEvent SetAside(const FilingEvent& e, const char* rule, std::string why) {
  return SetAsideEvent{e.event_id, e.kind, e.occurred_at, rule, std::move(why)};
}

// Sets aside, one at a time, the event each broken rule names, until the
// rest is a possible history. Deterministic: the checks run over the set in
// replay order, so the same set always sets aside the same events.
std::vector<SetAsideEvent> SetAsideImpossible(std::vector<FilingEvent>& events) {
  std::vector<SetAsideEvent> out;
  while (std::optional<Violation> v = CheckHistory(events)) {
    out.push_back(SetAside(*v->event, v->rule, std::move(v->why)));
    events.erase(events.begin() + (v->event - events.data()));
  }
  return out;
}

}  // namespace

absl::string_view TimelinessName(Timeliness t) {
  static constexpr std::array<absl::string_view, 7> kNames = {"unspecified", "early",   "on_time",       "late",
                                                              "within_time", "overdue", "not_applicable"};
  int i = static_cast<int>(t);
  return i >= 0 && i < 7 ? kNames[i] : "unknown";
}

absl::string_view DossierStatusName(DossierStatus s) {
  static constexpr std::array<absl::string_view, 11> kNames = {
      "unspecified",          "registered_online", "received", "not_accepted", "processing",     "supplement_requested",
      "financial_obligation", "withdrawn",         "stopped",  "resolved",     "result_returned"};
  int i = static_cast<int>(s);
  return i >= 0 && i < 11 ? kNames[i] : "unknown";
}

Appointment ComputeAppointment(absl::Time start, uint32_t amount, TimeUnit unit, const WorkingCalendar& calendar) {
  const absl::TimeZone tz = VietnamTimeZone();
  const absl::CivilSecond local = absl::ToCivilSecond(start, tz);
  const Date day(local);
  Appointment a;
  if (calendar.IsWorkingDay(day) && local.hour() < kAfternoonCutoffHour) {
    a.clock_day = day;
    a.clock_start = start;
  } else {
    // After 15:00, or on a day off: handled from the next working day.
    a.clock_day = calendar.NextWorkingDayOnOrAfter(day + 1);
    a.clock_start = StartOfDay(a.clock_day) + absl::Minutes(calendar.office_hours().morning_start_minute);
  }
  if (unit == TimeUnit::kWorkingHours && amount > 0) {
    a.due_time = calendar.AddWorkingHours(a.clock_start, static_cast<int>(amount));
    a.appointment_date = LocalDay(a.due_time - absl::Nanoseconds(1));
  } else {
    const int days = unit == TimeUnit::kWorkingDays ? static_cast<int>(amount) : 0;
    a.appointment_date = calendar.AddWorkingDays(a.clock_day, days);
    a.due_time = StartOfDay(a.appointment_date + 1);  // the appointment date ends at 24:00
  }
  a.provisional = calendar.IsProvisional(a.clock_day.year()) || calendar.IsProvisional(a.appointment_date.year());
  return a;
}

Timeliness TimelinessAt(const DossierState& s, absl::Time t, bool portal) {
  if (s.finished() && *s.finish_time <= t) return portal ? s.portal_timeliness : s.timeliness;
  if (!s.received() || t < *s.received_time || !s.appointment) return Timeliness::kNotApplicable;
  const absl::Time due = portal && s.portal_due_time ? *s.portal_due_time : s.appointment->due_time;
  // While the dossier waits for a supplement the clock is stopped.
  const absl::Time judged = s.supplement_wait_since && *s.supplement_wait_since <= t ? *s.supplement_wait_since : t;
  return judged >= due ? Timeliness::kOverdue : Timeliness::kWithinTime;
}

std::optional<absl::Time> OverdueFrom(const DossierState& s, bool portal) {
  if (!s.received() || !s.appointment) return std::nullopt;
  const absl::Time due = portal && s.portal_due_time ? *s.portal_due_time : s.appointment->due_time;
  // Judged at the stop of the clock once it stopped: overdue only if it
  // stopped at or after the due time, and then from the due time on.
  if (s.supplement_wait_since && *s.supplement_wait_since < due) return std::nullopt;
  return due;
}

namespace {

// Replays sorted events that form a possible history into a state: one
// event at a time (Apply), then the outcome (Finish).
class Replayer {
 public:
  Replayer(DossierState& s, const WorkingCalendar& calendar, const Procedure* procedure)
      : s_(s), calendar_(calendar), procedure_(procedure) {}

  absl::Status Apply(const FilingEvent& e) {
    s_.last_event_time = std::max(s_.last_event_time, e.occurred_at);
    if (!e.procedure_code.empty()) s_.procedure_code = e.procedure_code;
    auto finish = [&](FinishKind kind) {
      if (s_.finished()) return;
      s_.finish_kind = kind;
      s_.finish_time = e.occurred_at;
    };
    switch (e.kind) {
      case K::kRegisteredOnline:
        s_.registered_time = e.occurred_at;
        if (s_.status == DossierStatus::kUnspecified) s_.status = DossierStatus::kRegisteredOnline;
        break;
      case K::kReceived:
        Receive(e);
        break;
      case K::kNotAccepted:
        finish(FinishKind::kNotAccepted);
        s_.status = DossierStatus::kNotAccepted;
        break;
      case K::kProcessingStarted:
        s_.status = DossierStatus::kProcessing;
        break;
      case K::kSupplementRequested:
        ++s_.supplement_requests;
        if (!s_.supplement_wait_since) s_.supplement_wait_since = e.occurred_at;
        s_.status = DossierStatus::kSupplementRequested;
        break;
      case K::kSupplementReceived:
        ReceiveSupplement(e);
        break;
      case K::kFinancialObligationRequested:
        s_.status = DossierStatus::kFinancialObligation;
        break;
      case K::kPayment:
        s_.paid_amount_vnd += e.amount_vnd;
        if (e.paid_online) {
          s_.paid_online = true;
          s_.paid_online_amount_vnd += e.amount_vnd;
        }
        if (s_.status == DossierStatus::kFinancialObligation) s_.status = DossierStatus::kProcessing;
        break;
      case K::kReappointed:
        Reappoint(e);
        break;
      case K::kResolved:
        finish(FinishKind::kResolved);
        s_.electronic_result = e.electronic_result;
        s_.processed_electronically = e.processed_electronically;
        s_.signed_electronically = e.signed_electronically;
        s_.status = DossierStatus::kResolved;
        break;
      case K::kResultReturned:
        finish(FinishKind::kResultReturned);
        s_.returned_remotely = e.returned_remotely;
        s_.status = DossierStatus::kResultReturned;
        break;
      case K::kStopped:
        finish(FinishKind::kStopped);
        s_.status = DossierStatus::kStopped;
        break;
      case K::kWithdrawn:
        finish(FinishKind::kWithdrawn);
        s_.status = DossierStatus::kWithdrawn;
        break;
      case K::kDigitised:
        s_.digitised_documents |= e.digitised_documents;
        s_.digitised_result |= e.digitised_result;
        s_.reused_data |= e.reused_data;
        s_.population_db_used |= e.population_db_used;
        s_.shared_for_reuse |= e.shared_for_reuse;
        break;
      case K::kFeedback:
        s_.rating = e.rating;
        ++s_.feedback_count;
        s_.complaint |= e.complaint;
        break;
      case K::kUnspecified:
        return absl::InvalidArgumentError("event without a kind");
    }
    return absl::OkStatus();
  }

  // The appointment mismatch and, for a finished dossier, its outcome.
  void Finish() {
    std::sort(s_.set_aside.begin(), s_.set_aside.end(), [](const SetAsideEvent& a, const SetAsideEvent& b) {
      return std::tie(a.occurred_at, a.kind, a.event_id) < std::tie(b.occurred_at, b.kind, b.event_id);
    });
    s_.appointment_mismatch =
        s_.declared_appointment && received_with_procedure_ && *s_.declared_appointment != first_appointment_;

    if (s_.finished()) {
      if (s_.finish_kind == FinishKind::kNotAccepted || !s_.received() || !s_.appointment) {
        s_.timeliness = s_.portal_timeliness = Timeliness::kNotApplicable;
      } else {
        // A dossier that ends while waiting for a supplement is judged when its
        // clock stopped.
        const absl::Time judged = s_.supplement_wait_since ? *s_.supplement_wait_since : *s_.finish_time;
        s_.timeliness = s_.finish_kind == FinishKind::kWithdrawn
                            ? Timeliness::kNotApplicable
                            : Judge(judged, s_.appointment->due_time, s_.appointment->appointment_date);
        if (s_.supplement_requests > 1) {
          s_.portal_timeliness = Timeliness::kLate;  // portal practice
        } else {
          const absl::Time due = *s_.portal_due_time;
          s_.portal_timeliness = Judge(judged, due, LocalDay(due - absl::Nanoseconds(1)));
        }
        const int days = calendar_.WorkingDaysBetween(first_clock_day_, LocalDay(judged)) - wait_days_;
        s_.processing_working_days = std::max(0, days);
      }
    }
  }

 private:
  // The receipt starts the statutory clock and the portal's.
  void Receive(const FilingEvent& e) {
    s_.received_time = e.occurred_at;
    s_.channel = e.channel;
    s_.declared_appointment = e.declared_appointment;
    if (procedure_) {
      s_.appointment =
          ComputeAppointment(e.occurred_at, procedure_->resolution_amount, procedure_->resolution_unit, calendar_);
      received_with_procedure_ = true;
      first_appointment_ = s_.appointment->appointment_date;
      first_clock_day_ = s_.appointment->clock_day;
      portal_base_due_ = s_.appointment->due_time;
      portal_base_date_ = s_.appointment->appointment_date;
      s_.portal_due_time = portal_base_due_;
    }
    s_.status = DossierStatus::kReceived;
  }

  // A complete supplement restarts the statutory clock and extends the
  // portal's by the wait.
  void ReceiveSupplement(const FilingEvent& e) {
    // A receipt whose request is not (yet) known has no effect.
    if (!s_.supplement_wait_since) return;
    wait_days_ += calendar_.WorkingDaysBetween(LocalDay(*s_.supplement_wait_since), LocalDay(e.occurred_at));
    s_.supplement_wait_since.reset();
    if (procedure_) {
      // Decree 61/2018 Art. 19(4): the clock restarts from zero.
      s_.appointment =
          ComputeAppointment(e.occurred_at, procedure_->resolution_amount, procedure_->resolution_unit, calendar_);
      // Portal practice: the waiting time is not counted.
      Date extended = calendar_.AddWorkingDays(portal_base_date_, wait_days_);
      s_.portal_due_time = portal_base_due_ + absl::Hours(24) * static_cast<double>(extended - portal_base_date_);
    }
    s_.status = DossierStatus::kProcessing;
  }

  // The apology letter's new date; one not after the current date is set
  // aside (rule reappointment_later).
  void Reappoint(const FilingEvent& e) {
    if (s_.appointment) {
      if (*e.new_appointment <= s_.appointment->appointment_date) {
        s_.set_aside.push_back(
            SetAside(e, "reappointment_later",
                     absl::StrCat("the new appointment date ", FormatDate(*e.new_appointment),
                                  " is not after the current one, ", FormatDate(s_.appointment->appointment_date))));
        return;
      }
      // Due no later than one day before the appointment date.
      s_.apology_late = LocalDay(e.occurred_at) > s_.appointment->appointment_date - 1;
    }
    s_.reappointed_date = e.new_appointment;
  }

  DossierState& s_;
  const WorkingCalendar& calendar_;
  const Procedure* procedure_;
  bool received_with_procedure_ = false;  // then first_appointment_ holds
  Date first_appointment_;
  Date first_clock_day_;
  int wait_days_ = 0;  // working days spent waiting for supplements
  absl::Time portal_base_due_;
  Date portal_base_date_;
};

}  // namespace

std::string ProcedureCodeOf(const std::vector<FilingEvent>& events) {
  const FilingEvent* first = nullptr;
  for (const FilingEvent& e : events) {
    if (!e.procedure_code.empty() && (first == nullptr || ReplayOrderLess(e, *first))) first = &e;
  }
  return first == nullptr ? std::string() : first->procedure_code;
}

absl::StatusOr<DossierState> Replay(std::vector<FilingEvent> events, const WorkingCalendar& calendar,
                                    const Procedure* procedure) {
  if (events.empty()) return absl::InvalidArgumentError("a dossier needs at least one event");
  std::sort(events.begin(), events.end(), ReplayOrderLess);
  DossierState s;
  s.code = events.front().dossier_code;
  s.agency_code = events.front().agency_code;
  s.event_count = static_cast<int>(events.size());
  s.set_aside = SetAsideImpossible(events);
  Replayer replayer(s, calendar, procedure);
  for (const FilingEvent& e : events) PSTRACK_RETURN_IF_ERROR(replayer.Apply(e));
  replayer.Finish();
  return s;
}

}  // namespace pstrack
