// The dossier lifecycle (services/lifecycle/lifecycle.h), table-driven over the
// shipped 2025 calendar: appointment dates, the 15:00 rule, supplements,
// re-appointment, outcomes by rule and by portal practice, impossible
// histories, and order independence.
#include "services/lifecycle/lifecycle.h"

#include <algorithm>
#include <functional>
#include <numeric>

#include "gtest/gtest.h"

namespace pstrack {
namespace {

const WorkingCalendar& Calendar() {
  static const WorkingCalendar* calendar = [] {
    auto c = WorkingCalendar::LoadDirectory(std::string(PSTRACK_SOURCE_DIR) + "/data/calendar");
    EXPECT_TRUE(c.ok()) << c.status();
    return new WorkingCalendar(*std::move(c));
  }();
  return *calendar;
}

absl::Time Local(int y, int m, int d, int hh = 0, int mm = 0) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, mm, 0), VietnamTimeZone());
}

Procedure Days(uint32_t n) {
  Procedure p;
  p.code = "1.000001";
  p.resolution_amount = n;
  p.resolution_unit = TimeUnit::kWorkingDays;
  return p;
}

Procedure Hours(uint32_t n) {
  Procedure p = Days(0);
  p.resolution_amount = n;
  p.resolution_unit = TimeUnit::kWorkingHours;
  return p;
}

// Builds events of one dossier with ids e1, e2, ...
class History {
 public:
  History& Add(EventKind kind, absl::Time at, std::function<void(FilingEvent&)> fill = nullptr) {
    FilingEvent e;
    e.event_id = "e" + std::to_string(events_.size() + 1);
    e.dossier_code = "P22.STP-250602-0001";
    e.agency_code = "P22.STP";
    e.occurred_at = at;
    e.kind = kind;
    if (kind == EventKind::kReceived || kind == EventKind::kRegisteredOnline) e.procedure_code = "1.000001";
    if (kind == EventKind::kReceived) e.channel = Channel::kOnline;
    if (fill) fill(e);
    events_.push_back(e);
    return *this;
  }
  absl::StatusOr<DossierState> Replay(const Procedure& p) const { return pstrack::Replay(events_, Calendar(), &p); }
  DossierState MustReplay(const Procedure& p) const {
    auto s = Replay(p);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *s : DossierState();
  }
  std::vector<FilingEvent>& events() { return events_; }

 private:
  std::vector<FilingEvent> events_;
};

using K = EventKind;

struct AppointmentCase {
  const char* name;
  absl::Time received;
  Procedure procedure;
  Date expected_clock_day;
  Date expected_appointment;
};

TEST(AppointmentTest, TableOfReceiptsAndStatutoryTimes) {
  const AppointmentCase cases[] = {
      {"Monday morning, 3 days", Local(2025, 6, 2, 10), Days(3), Date(2025, 6, 2), Date(2025, 6, 5)},
      {"Monday 14:59 is before the cutoff", Local(2025, 6, 2, 14, 59), Days(3), Date(2025, 6, 2), Date(2025, 6, 5)},
      {"Monday 15:00 counts from Tuesday", Local(2025, 6, 2, 15), Days(3), Date(2025, 6, 3), Date(2025, 6, 6)},
      {"Friday after 15:00 counts from Monday", Local(2025, 6, 6, 16), Days(3), Date(2025, 6, 9), Date(2025, 6, 12)},
      {"Saturday counts from Monday", Local(2025, 6, 7, 10), Days(3), Date(2025, 6, 9), Date(2025, 6, 12)},
      {"Across 30 April - 4 May 2025", Local(2025, 4, 29, 9), Days(3), Date(2025, 4, 29), Date(2025, 5, 7)},
      {"Saturday 26 April 2025 is a make-up working day", Local(2025, 4, 25, 10), Days(1), Date(2025, 4, 25),
       Date(2025, 4, 26)},
      {"Received on the make-up Saturday", Local(2025, 4, 26, 9), Days(1), Date(2025, 4, 26), Date(2025, 4, 28)},
      {"On the spot", Local(2025, 6, 3, 9), Days(0), Date(2025, 6, 3), Date(2025, 6, 3)},
      {"On the spot after 15:00", Local(2025, 6, 3, 16), Days(0), Date(2025, 6, 4), Date(2025, 6, 4)},
      {"Across Tết 2026 (16-20 February off)", Local(2026, 2, 13, 9), Days(2), Date(2026, 2, 13),
       Date(2026, 2, 24)},
  };
  for (const auto& c : cases) {
    Appointment a = ComputeAppointment(c.received, c.procedure.resolution_amount, c.procedure.resolution_unit,
                                       Calendar());
    EXPECT_EQ(a.clock_day, c.expected_clock_day) << c.name;
    EXPECT_EQ(a.appointment_date, c.expected_appointment) << c.name;
    EXPECT_EQ(a.due_time, absl::FromCivil(absl::CivilSecond(c.expected_appointment + 1), VietnamTimeZone())) << c.name;
    EXPECT_FALSE(a.provisional) << c.name;
  }
}

TEST(AppointmentTest, WorkingHoursSkipLunchNightsAndWeekends) {
  // 8 working hours from Monday 10:00: 10-12 and 13-17 (6 h), then 8-10 Tuesday.
  Appointment a = ComputeAppointment(Local(2025, 6, 2, 10), 8, TimeUnit::kWorkingHours, Calendar());
  EXPECT_EQ(a.due_time, Local(2025, 6, 3, 10));
  EXPECT_EQ(a.appointment_date, Date(2025, 6, 3));
  // Friday 16:00 is after 15:00: the clock starts Monday 08:00.
  Appointment b = ComputeAppointment(Local(2025, 6, 6, 16), 4, TimeUnit::kWorkingHours, Calendar());
  EXPECT_EQ(b.clock_start, Local(2025, 6, 9, 8));
  EXPECT_EQ(b.due_time, Local(2025, 6, 9, 12));
}

TEST(AppointmentTest, YearsWithoutDataAreProvisional) {
  Appointment a = ComputeAppointment(Local(2031, 6, 2, 10), 3, TimeUnit::kWorkingDays, Calendar());
  EXPECT_TRUE(a.provisional);
}

struct OutcomeCase {
  const char* name;
  absl::Time finished;
  Timeliness expected;
};

TEST(OutcomeTest, EarlyOnTimeLateByTheAppointmentDate) {
  // Received Monday 2 June 2025 10:00, 3 working days: appointment Thursday 5 June.
  const OutcomeCase cases[] = {
      {"a day before", Local(2025, 6, 4, 16), Timeliness::kEarly},
      {"on the appointment date", Local(2025, 6, 5, 9), Timeliness::kOnTime},
      {"last minute of the appointment date", Local(2025, 6, 5, 23, 59), Timeliness::kOnTime},
      {"the next day", Local(2025, 6, 6, 0), Timeliness::kLate},
  };
  for (const auto& c : cases) {
    History h;
    h.Add(K::kReceived, Local(2025, 6, 2, 10)).Add(K::kResolved, c.finished);
    DossierState s = h.MustReplay(Days(3));
    EXPECT_EQ(s.timeliness, c.expected) << c.name;
    EXPECT_EQ(s.portal_timeliness, c.expected) << c.name;
    EXPECT_EQ(s.status, DossierStatus::kResolved);
    EXPECT_EQ(s.finish_kind, FinishKind::kResolved);
  }
}

TEST(OutcomeTest, HourBasedProcedures) {
  // 8 hours from Monday 10:00: due Tuesday 10:00.
  const OutcomeCase cases[] = {
      {"same day", Local(2025, 6, 2, 16), Timeliness::kEarly},
      {"due day, before the hour", Local(2025, 6, 3, 9), Timeliness::kOnTime},
      {"due day, after the hour", Local(2025, 6, 3, 11), Timeliness::kLate},
  };
  for (const auto& c : cases) {
    History h;
    h.Add(K::kReceived, Local(2025, 6, 2, 10)).Add(K::kResolved, c.finished);
    EXPECT_EQ(h.MustReplay(Hours(8)).timeliness, c.expected) << c.name;
  }
}

TEST(OutcomeTest, FinishIsTheFirstOfResolvedReturnedStopped) {
  History h;
  h.Add(K::kReceived, Local(2025, 6, 2, 10))
      .Add(K::kResolved, Local(2025, 6, 5, 10))
      .Add(K::kResultReturned, Local(2025, 6, 9, 10));
  DossierState s = h.MustReplay(Days(3));
  EXPECT_EQ(*s.finish_time, Local(2025, 6, 5, 10));
  EXPECT_EQ(s.timeliness, Timeliness::kOnTime);
  EXPECT_EQ(s.status, DossierStatus::kResultReturned);
  History returned_only;
  returned_only.Add(K::kReceived, Local(2025, 6, 2, 10)).Add(K::kResultReturned, Local(2025, 6, 6, 10));
  EXPECT_EQ(returned_only.MustReplay(Days(3)).timeliness, Timeliness::kLate);
  History stopped;
  stopped.Add(K::kReceived, Local(2025, 6, 2, 10)).Add(K::kStopped, Local(2025, 6, 3, 10));
  DossierState st = stopped.MustReplay(Days(3));
  EXPECT_EQ(st.timeliness, Timeliness::kEarly);
  EXPECT_EQ(st.status, DossierStatus::kStopped);
}

TEST(OutcomeTest, SupplementRestartsTheClockAndThePortalPausesIt) {
  History h;
  h.Add(K::kReceived, Local(2025, 6, 2, 10))                // appointment 5 June
      .Add(K::kSupplementRequested, Local(2025, 6, 3, 9))   // clock stops
      .Add(K::kSupplementReceived, Local(2025, 6, 9, 10))   // restart: appointment 12 June
      .Add(K::kResolved, Local(2025, 6, 11, 10));
  DossierState s = h.MustReplay(Days(3));
  EXPECT_EQ(s.appointment->appointment_date, Date(2025, 6, 12));
  EXPECT_EQ(s.timeliness, Timeliness::kEarly);
  // Portal: 5 June + the 4 working days waited (3, 4, 5, 6 June) = 11 June.
  EXPECT_EQ(*s.portal_due_time, absl::FromCivil(absl::CivilSecond(2025, 6, 12, 0, 0, 0), VietnamTimeZone()));
  EXPECT_EQ(s.portal_timeliness, Timeliness::kOnTime);
  EXPECT_EQ(s.supplement_requests, 1);
  // Working days from receipt to finish, waits excluded: 2..11 June is 7, minus 4.
  EXPECT_EQ(*s.processing_working_days, 3);
}

TEST(OutcomeTest, MoreThanOneSupplementRequestIsLateForThePortal) {
  History h;
  h.Add(K::kReceived, Local(2025, 6, 2, 10))
      .Add(K::kSupplementRequested, Local(2025, 6, 2, 11))
      .Add(K::kSupplementReceived, Local(2025, 6, 3, 9))
      .Add(K::kSupplementRequested, Local(2025, 6, 3, 10))
      .Add(K::kSupplementReceived, Local(2025, 6, 4, 9))
      .Add(K::kResolved, Local(2025, 6, 4, 15));
  DossierState s = h.MustReplay(Days(3));
  EXPECT_EQ(s.timeliness, Timeliness::kEarly);
  EXPECT_EQ(s.portal_timeliness, Timeliness::kLate);
  EXPECT_EQ(s.supplement_requests, 2);
}

TEST(OutcomeTest, ReappointmentDoesNotMakeALateDossierOnTime) {
  History h;
  h.Add(K::kReceived, Local(2025, 6, 2, 10))
      .Add(K::kReappointed, Local(2025, 6, 4, 9), [](FilingEvent& e) { e.new_appointment = Date(2025, 6, 10); })
      .Add(K::kResolved, Local(2025, 6, 9, 10));
  DossierState s = h.MustReplay(Days(3));
  EXPECT_EQ(s.timeliness, Timeliness::kLate);
  EXPECT_EQ(*s.reappointed_date, Date(2025, 6, 10));
  EXPECT_FALSE(s.apology_late);  // 4 June is at least one day before 5 June
  History late_apology;
  late_apology.Add(K::kReceived, Local(2025, 6, 2, 10))
      .Add(K::kReappointed, Local(2025, 6, 5, 9), [](FilingEvent& e) { e.new_appointment = Date(2025, 6, 10); });
  EXPECT_TRUE(late_apology.MustReplay(Days(3)).apology_late);
}

TEST(OutcomeTest, WithdrawnAndNotAccepted) {
  History w;
  w.Add(K::kReceived, Local(2025, 6, 2, 10)).Add(K::kWithdrawn, Local(2025, 6, 9, 10));
  DossierState s = w.MustReplay(Days(3));
  EXPECT_EQ(s.timeliness, Timeliness::kNotApplicable);  // not resolved: outside the rule
  EXPECT_EQ(s.portal_timeliness, Timeliness::kLate);    // portal: a withdrawal ends the clock
  EXPECT_EQ(s.status, DossierStatus::kWithdrawn);
  History n;
  n.Add(K::kRegisteredOnline, Local(2025, 6, 2, 8)).Add(K::kNotAccepted, Local(2025, 6, 2, 10));
  DossierState ns = n.MustReplay(Days(3));
  EXPECT_EQ(ns.status, DossierStatus::kNotAccepted);
  EXPECT_EQ(ns.timeliness, Timeliness::kNotApplicable);
  EXPECT_FALSE(ns.received());
}

TEST(OutcomeTest, OpenDossiersAreJudgedAtAnInstant) {
  History h;
  h.Add(K::kReceived, Local(2025, 6, 2, 10));
  DossierState s = h.MustReplay(Days(3));
  EXPECT_EQ(TimelinessAt(s, Local(2025, 6, 2, 9), false), Timeliness::kNotApplicable);
  EXPECT_EQ(TimelinessAt(s, Local(2025, 6, 5, 23), false), Timeliness::kWithinTime);
  EXPECT_EQ(TimelinessAt(s, Local(2025, 6, 6, 0), false), Timeliness::kOverdue);
  // While waiting for a supplement the clock is stopped.
  h.Add(K::kSupplementRequested, Local(2025, 6, 4, 9));
  DossierState waiting = h.MustReplay(Days(3));
  EXPECT_EQ(TimelinessAt(waiting, Local(2025, 7, 1), false), Timeliness::kWithinTime);
  EXPECT_EQ(waiting.status, DossierStatus::kSupplementRequested);
}

// OverdueFrom (what the dossier index stores) says the same as TimelinessAt
// for open dossiers at every hour of a month, with and without a supplement
// wait before or after the due time.
TEST(OutcomeTest, OverdueFromAgreesWithTimelinessAt) {
  History plain, early_wait, late_wait, resumed;
  plain.Add(K::kReceived, Local(2025, 6, 2, 10));
  early_wait.Add(K::kReceived, Local(2025, 6, 2, 10)).Add(K::kSupplementRequested, Local(2025, 6, 4, 9));
  late_wait.Add(K::kReceived, Local(2025, 6, 2, 10)).Add(K::kSupplementRequested, Local(2025, 6, 9, 9));
  resumed.Add(K::kReceived, Local(2025, 6, 2, 10))
      .Add(K::kSupplementRequested, Local(2025, 6, 3, 9))
      .Add(K::kSupplementReceived, Local(2025, 6, 5, 9));
  int overdue_hours = 0;
  for (History* h : {&plain, &early_wait, &late_wait, &resumed}) {
    for (bool portal : {false, true}) {
      DossierState s = h->MustReplay(Days(3));
      std::optional<absl::Time> from = OverdueFrom(s, portal);
      for (absl::Time t = Local(2025, 6, 2, 11); t < Local(2025, 7, 2); t += absl::Hours(1)) {
        const bool overdue = TimelinessAt(s, t, portal) == Timeliness::kOverdue;
        EXPECT_EQ(from.has_value() && t >= *from, overdue) << absl::FormatTime(t) << " portal=" << portal;
        overdue_hours += overdue;
      }
    }
  }
  EXPECT_GT(overdue_hours, 100);
}

TEST(StateTest, StatusPaymentDigitisationFeedbackAndDeclaredDate) {
  History h;
  h.Add(K::kRegisteredOnline, Local(2025, 6, 2, 8))
      .Add(K::kReceived, Local(2025, 6, 2, 10), [](FilingEvent& e) { e.declared_appointment = Date(2025, 6, 6); })
      .Add(K::kDigitised, Local(2025, 6, 2, 10), [](FilingEvent& e) { e.digitised_documents = true; })
      .Add(K::kProcessingStarted, Local(2025, 6, 2, 11))
      .Add(K::kFinancialObligationRequested, Local(2025, 6, 3, 9), [](FilingEvent& e) { e.amount_vnd = 50000; })
      .Add(K::kPayment, Local(2025, 6, 3, 10), [](FilingEvent& e) {
        e.amount_vnd = 50000;
        e.paid_online = true;
      });
  DossierState mid = h.MustReplay(Days(3));
  EXPECT_EQ(mid.status, DossierStatus::kProcessing);
  EXPECT_TRUE(mid.paid_online);
  EXPECT_EQ(mid.paid_amount_vnd, 50000);
  EXPECT_TRUE(mid.appointment_mismatch);  // declared 6 June, computed 5 June
  EXPECT_EQ(mid.channel, Channel::kOnline);
  h.Add(K::kResolved, Local(2025, 6, 4, 9), [](FilingEvent& e) { e.electronic_result = true; })
      .Add(K::kFeedback, Local(2025, 6, 5, 9), [](FilingEvent& e) { e.rating = Rating::kSatisfied; });
  DossierState s = h.MustReplay(Days(3));
  EXPECT_TRUE(s.electronic_result);
  EXPECT_TRUE(s.digitised_documents);
  EXPECT_EQ(s.rating, Rating::kSatisfied);
  EXPECT_EQ(s.event_count, 8);
}

struct ImpossibleCase {
  const char* rule;
  const char* set_aside;  // the event id the rule sets aside
  std::function<void(History&)> build;
};

// Compares what the figures read of two states.
void ExpectSameState(const DossierState& a, const DossierState& b, const std::string& what) {
  EXPECT_EQ(a.status, b.status) << what;
  EXPECT_EQ(a.timeliness, b.timeliness) << what;
  EXPECT_EQ(a.portal_timeliness, b.portal_timeliness) << what;
  EXPECT_EQ(a.received_time, b.received_time) << what;
  EXPECT_EQ(a.finish_time, b.finish_time) << what;
  EXPECT_EQ(a.finish_kind, b.finish_kind) << what;
  EXPECT_EQ(a.reappointed_date, b.reappointed_date) << what;
  EXPECT_EQ(a.supplement_requests, b.supplement_requests) << what;
  EXPECT_EQ(a.paid_amount_vnd, b.paid_amount_vnd) << what;
  EXPECT_EQ(a.rating, b.rating) << what;
  EXPECT_EQ(a.procedure_code, b.procedure_code) << what;
  EXPECT_EQ(a.appointment.has_value(), b.appointment.has_value()) << what;
  if (a.appointment && b.appointment) {
    EXPECT_EQ(a.appointment->due_time, b.appointment->due_time) << what;
  }
}

// A rule the set breaks sets aside the event it names and never fails the
// replay; the state is the replay of the other events.
TEST(ImpossibleHistoryTest, EachRuleSetsAsideTheEventItNames) {
  const absl::Time t0 = Local(2025, 6, 2, 10);
  const ImpossibleCase cases[] = {
      {"after_receipt", "e2", [&](History& h) { h.Add(K::kReceived, t0).Add(K::kResolved, t0 - absl::Hours(1)); }},
      {"single_receipt", "e2", [&](History& h) { h.Add(K::kReceived, t0).Add(K::kReceived, t0 + absl::Hours(1)); }},
      {"single_reappointment", "e3",
       [&](History& h) {
         h.Add(K::kReceived, t0)
             .Add(K::kReappointed, t0 + absl::Hours(1), [](FilingEvent& e) { e.new_appointment = Date(2025, 6, 9); })
             .Add(K::kReappointed, t0 + absl::Hours(2), [](FilingEvent& e) { e.new_appointment = Date(2025, 6, 12); });
       }},
      {"reappointment_later", "e2",
       [&](History& h) {
         h.Add(K::kReceived, t0).Add(K::kReappointed, t0 + absl::Hours(1),
                                     [](FilingEvent& e) { e.new_appointment = Date(2025, 6, 5); });
       }},
      {"nothing_after_end", "e3",
       [&](History& h) { h.Add(K::kReceived, t0).Add(K::kWithdrawn, t0 + absl::Hours(1)).Add(K::kProcessingStarted, t0 + absl::Hours(2)); }},
      {"nothing_after_end", "e3",
       [&](History& h) { h.Add(K::kReceived, t0).Add(K::kResolved, t0 + absl::Hours(1)).Add(K::kSupplementRequested, t0 + absl::Hours(2)); }},
      {"single_end", "e3",
       [&](History& h) { h.Add(K::kReceived, t0).Add(K::kResolved, t0 + absl::Hours(1)).Add(K::kStopped, t0 + absl::Hours(2)); }},
      {"returned_after_resolved", "e2",
       [&](History& h) { h.Add(K::kReceived, t0).Add(K::kResultReturned, t0 + absl::Hours(1)).Add(K::kResolved, t0 + absl::Hours(2)); }},
      {"received_or_not_accepted", "e2",
       [&](History& h) { h.Add(K::kReceived, t0).Add(K::kNotAccepted, t0 + absl::Hours(1)); }},
      {"registered_before_receipt", "e2",
       [&](History& h) { h.Add(K::kReceived, t0).Add(K::kRegisteredOnline, t0 + absl::Hours(1)); }},
      {"one_agency", "e2",
       [&](History& h) {
         h.Add(K::kReceived, t0).Add(K::kResolved, t0 + absl::Hours(1), [](FilingEvent& e) { e.agency_code = "P24"; });
       }},
      {"one_procedure", "e2",
       [&](History& h) {
         h.Add(K::kReceived, t0).Add(K::kResolved, t0 + absl::Hours(1), [](FilingEvent& e) { e.procedure_code = "2.000002"; });
       }},
      {"after_opening", "e2",
       [&](History& h) { h.Add(K::kReceived, t0).Add(K::kFeedback, t0 - absl::Hours(5), [](FilingEvent& e) { e.rating = Rating::kNeutral; }); }},
  };
  for (const auto& c : cases) {
    History h;
    c.build(h);
    const DossierState s = h.MustReplay(Days(3));
    ASSERT_EQ(s.set_aside.size(), 1u) << c.rule;
    EXPECT_EQ(s.set_aside[0].rule, c.rule);
    EXPECT_EQ(s.set_aside[0].event_id, c.set_aside) << c.rule;
    EXPECT_FALSE(s.set_aside[0].reason.empty()) << c.rule;
    EXPECT_EQ(s.event_count, static_cast<int>(h.events().size())) << c.rule;
    // The state is what the other events alone give.
    std::vector<FilingEvent> kept;
    for (const FilingEvent& e : h.events()) {
      if (e.event_id != c.set_aside) kept.push_back(e);
    }
    const Procedure p = Days(3);
    auto without = Replay(kept, Calendar(), &p);
    ASSERT_TRUE(without.ok()) << without.status();
    EXPECT_TRUE(without->set_aside.empty()) << c.rule;
    ExpectSameState(s, *without, c.rule);
  }
}

// The case, from a generated history: registered online 09:48,
// paid 09:52, received 13:24. Without the registration the payment comes
// before the dossier existed and is set aside, whatever arrived first; the
// registration brings it back.
TEST(ImpossibleHistoryTest, ALaterEventBringsBackASetAsideOne) {
  History h;
  h.Add(K::kReceived, Local(2025, 6, 2, 13, 24))
      .Add(K::kPayment, Local(2025, 6, 2, 9, 52), [](FilingEvent& e) {
        e.amount_vnd = 30000;
        e.paid_online = true;
      });
  DossierState before = h.MustReplay(Days(3));
  ASSERT_EQ(before.set_aside.size(), 1u);
  EXPECT_EQ(before.set_aside[0].event_id, "e2");
  EXPECT_EQ(before.set_aside[0].rule, "after_opening");
  EXPECT_EQ(before.paid_amount_vnd, 0);
  EXPECT_TRUE(before.received());
  h.Add(K::kRegisteredOnline, Local(2025, 6, 2, 9, 48));
  DossierState after = h.MustReplay(Days(3));
  EXPECT_TRUE(after.set_aside.empty());
  EXPECT_EQ(after.paid_amount_vnd, 30000);
  EXPECT_TRUE(after.paid_online);
  EXPECT_EQ(after.event_count, 3);
}

TEST(ImpossibleHistoryTest, FeedbackAfterWithdrawalIsAllowed) {
  History h;
  h.Add(K::kReceived, Local(2025, 6, 2, 10))
      .Add(K::kWithdrawn, Local(2025, 6, 3, 10))
      .Add(K::kFeedback, Local(2025, 6, 4, 10), [](FilingEvent& e) { e.rating = Rating::kDissatisfied; });
  EXPECT_EQ(h.MustReplay(Days(3)).rating, Rating::kDissatisfied);
}

TEST(ImpossibleHistoryTest, EventsBeforeAnUnknownReceiptWaitForIt) {
  // A resolution that arrives before its receipt is accepted; the dossier
  // counts nowhere until the receipt comes.
  History h;
  h.Add(K::kResolved, Local(2025, 6, 4, 10));
  DossierState s = h.MustReplay(Days(3));
  EXPECT_FALSE(s.received());
  EXPECT_EQ(s.timeliness, Timeliness::kNotApplicable);
  h.Add(K::kReceived, Local(2025, 6, 2, 10));
  EXPECT_EQ(h.MustReplay(Days(3)).timeliness, Timeliness::kEarly);
}

// Every permutation of a dossier's events replays to the same state.
TEST(OrderIndependenceTest, EveryPermutationGivesTheSameState) {
  History h;
  h.Add(K::kRegisteredOnline, Local(2025, 6, 2, 8))
      .Add(K::kReceived, Local(2025, 6, 2, 10))
      .Add(K::kDigitised, Local(2025, 6, 2, 10), [](FilingEvent& e) { e.digitised_documents = true; })
      .Add(K::kSupplementRequested, Local(2025, 6, 3, 9))
      .Add(K::kSupplementReceived, Local(2025, 6, 5, 9))
      .Add(K::kResolved, Local(2025, 6, 9, 10))
      .Add(K::kFeedback, Local(2025, 6, 9, 10), [](FilingEvent& e) { e.rating = Rating::kSatisfied; });
  std::vector<FilingEvent> events = h.events();
  const Procedure p = Days(3);
  auto reference = Replay(events, Calendar(), &p);
  ASSERT_TRUE(reference.ok()) << reference.status();
  std::vector<int> order(events.size());
  std::iota(order.begin(), order.end(), 0);
  int permutations = 0;
  do {
    std::vector<FilingEvent> shuffled;
    for (int i : order) shuffled.push_back(events[i]);
    auto s = Replay(shuffled, Calendar(), &p);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->timeliness, reference->timeliness);
    EXPECT_EQ(s->portal_timeliness, reference->portal_timeliness);
    EXPECT_EQ(s->status, reference->status);
    EXPECT_EQ(s->appointment->appointment_date, reference->appointment->appointment_date);
    EXPECT_EQ(*s->finish_time, *reference->finish_time);
    EXPECT_EQ(*s->processing_working_days, *reference->processing_working_days);
    EXPECT_EQ(s->rating, reference->rating);
    ++permutations;
  } while (std::next_permutation(order.begin(), order.end()));
  EXPECT_EQ(permutations, 5040);
}

// A set that breaks rules sets aside the same events, with the same rules,
// whatever order it comes in.
TEST(OrderIndependenceTest, EveryPermutationSetsAsideTheSameEvents) {
  History h;
  h.Add(K::kReceived, Local(2025, 6, 2, 10))
      .Add(K::kPayment, Local(2025, 6, 2, 9), [](FilingEvent& e) { e.amount_vnd = 1000; })
      .Add(K::kReceived, Local(2025, 6, 2, 11))
      .Add(K::kReappointed, Local(2025, 6, 3, 9), [](FilingEvent& e) { e.new_appointment = Date(2025, 6, 12); })
      .Add(K::kReappointed, Local(2025, 6, 4, 9), [](FilingEvent& e) { e.new_appointment = Date(2025, 6, 20); })
      .Add(K::kResolved, Local(2025, 6, 9, 10))
      .Add(K::kStopped, Local(2025, 6, 10, 10));
  std::vector<FilingEvent> events = h.events();
  const Procedure p = Days(3);
  auto reference = Replay(events, Calendar(), &p);
  ASSERT_TRUE(reference.ok()) << reference.status();
  // Hand-checked: the early payment, the second receipt, the second
  // re-appointment and the stop after the resolution.
  std::vector<std::string> expected = {"e2", "e3", "e5", "e7"};
  std::vector<std::string> got;
  for (const SetAsideEvent& e : reference->set_aside) got.push_back(e.event_id);
  EXPECT_EQ(got, expected);
  std::vector<int> order(events.size());
  std::iota(order.begin(), order.end(), 0);
  do {
    std::vector<FilingEvent> shuffled;
    for (int i : order) shuffled.push_back(events[i]);
    auto s = Replay(shuffled, Calendar(), &p);
    ASSERT_TRUE(s.ok());
    ASSERT_EQ(s->set_aside.size(), reference->set_aside.size());
    for (size_t i = 0; i < s->set_aside.size(); ++i) {
      EXPECT_EQ(s->set_aside[i].event_id, reference->set_aside[i].event_id);
      EXPECT_EQ(s->set_aside[i].rule, reference->set_aside[i].rule);
    }
    ExpectSameState(*s, *reference, "permutation");
  } while (std::next_permutation(order.begin(), order.end()));
}

}  // namespace
}  // namespace pstrack
