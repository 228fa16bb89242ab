#include "services/figures/contribution.h"

#include <algorithm>
#include <map>

#include "services/common/checked_math.h"

namespace pstrack {
namespace {


void Add(Counts& c, Counter k, int64_t n = 1) { c[static_cast<int>(k)] += n; }

}  // namespace

const std::array<const char*, kCounterCount>& CounterNames() {
  static const std::array<const char*, kCounterCount> kNames = {
      "received",          "received_online",   "received_eligible_full_online", "received_full_online",
      "received_fee_nonzero", "paid_online",     "digitised",         "digitised_documents",
      "reused_data",       "shared_for_reuse",  "population_db_used",
      "finished",          "early",             "on_time",           "late",
      "portal_finished",   "portal_early",      "portal_on_time",    "portal_late",
      "apology",           "resolved",          "electronic_result", "fully_electronic",
      "processing_days",   "rated",             "satisfied",         "complaint",
      "late_or_disliked", "opened",            "closed",            "overdue_started",
      "overdue_ended",     "portal_overdue_started", "portal_overdue_ended",
      "appointment_mismatch", "code_date_mismatch", "set_aside"};
  return kNames;
}

bool FullyElectronic(const DossierState& s, const Procedure* p) {
  const bool submitted = s.channel == Channel::kOnline || s.digitised_documents;
  const bool paid = !(p && p->fee_bearing && s.paid_amount_vnd > 0) || s.paid_online;
  return submitted && s.processed_electronically && s.signed_electronically && s.electronic_result && paid;
}

void AddCounts(Counts& into, const Counts& from) {
  for (int i = 0; i < kCounterCount; ++i) into[i] = SaturatingAdd(into[i], from[i]);
}

Date ClockBucket(absl::Time t) { return LocalDay(t - absl::Microseconds(1)); }

namespace {

// Open and overdue spans on the clock basis, from exactly the fields the
// dossier index stores (ToDossierRow) and CountOpen reads: open at t is
// "received <= t, has a due time, not finished by t"; overdue adds
// "OverdueFrom <= t". A span [start, end) adds +1 at start's bucket and +1
// to the matching "ended" counter at end's bucket.
void AddClockSpans(const DossierState& s, std::vector<Contribution>* out) {
  if (!s.received_time || !s.appointment) return;
  auto add = [&](Counter counter, absl::Time at) {
    Contribution c;
    c.basis = Basis::kClock;
    c.day = ClockBucket(at);
    Add(c.counts, counter);
    out->push_back(c);
  };
  auto span = [&](Counter started, Counter ended, absl::Time start) {
    add(started, start);
    if (s.finish_time) add(ended, std::max(start, *s.finish_time));
  };
  span(Counter::kOpened, Counter::kClosed, *s.received_time);
  if (auto from = OverdueFrom(s, false)) {
    span(Counter::kOverdueStarted, Counter::kOverdueEnded, std::max(*s.received_time, *from));
  }
  if (auto from = OverdueFrom(s, true)) {
    span(Counter::kPortalOverdueStarted, Counter::kPortalOverdueEnded, std::max(*s.received_time, *from));
  }
}

// Each set-aside event on the day it occurred.
void AddSetAside(const DossierState& s, std::vector<Contribution>* out) {
  std::map<Date, int64_t> by_day;
  for (const SetAsideEvent& e : s.set_aside) ++by_day[LocalDay(e.occurred_at)];
  for (const auto& [day, n] : by_day) {
    Contribution c;
    c.basis = Basis::kEvent;
    c.day = day;
    Add(c.counts, Counter::kSetAside, n);
    out->push_back(c);
  }
}

}  // namespace

std::vector<Contribution> ContributionsOf(const DossierState& s, const Procedure* p) {
  std::vector<Contribution> out;
  AddClockSpans(s, &out);
  AddSetAside(s, &out);
  // A dossier counts only once it has been received (not merely registered,
  // not refused at the counter).
  if (!s.received()) return out;
  Contribution intake;
  intake.basis = Basis::kReceipt;
  intake.day = LocalDay(*s.received_time);
  Counts& c = intake.counts;
  Add(c, Counter::kReceived);
  if (s.channel == Channel::kOnline) Add(c, Counter::kReceivedOnline);
  if (p && p->full_online_eligible) Add(c, Counter::kReceivedEligibleFullOnline);
  if (p && p->online_mode == OnlineMode::kFull && s.channel == Channel::kOnline) Add(c, Counter::kReceivedFullOnline);
  if (p && p->fee_bearing && s.paid_amount_vnd > 0) {
    Add(c, Counter::kReceivedFeeNonZero);
    if (s.paid_online) Add(c, Counter::kPaidOnline);
  }
  if (s.digitised_documents && s.digitised_result) Add(c, Counter::kDigitised);
  if (s.digitised_documents) Add(c, Counter::kDigitisedDocuments);
  if (s.reused_data) Add(c, Counter::kReusedData);
  if (s.shared_for_reuse) Add(c, Counter::kSharedForReuse);
  if (s.population_db_used) Add(c, Counter::kPopulationDbUsed);
  if (s.appointment_mismatch) Add(c, Counter::kAppointmentMismatch);
  if (OptionalDate coded = DossierCodeDate(s.code); coded && *coded != intake.day) Add(c, Counter::kCodeDateMismatch);
  out.push_back(intake);

  if (!s.finished() || s.finish_kind == FinishKind::kNotAccepted) return out;
  Contribution outcome;
  outcome.basis = Basis::kFinish;
  outcome.day = LocalDay(*s.finish_time);
  Counts& f = outcome.counts;
  if (s.timeliness == Timeliness::kEarly || s.timeliness == Timeliness::kOnTime ||
      s.timeliness == Timeliness::kLate) {
    Add(f, Counter::kFinished);
    Add(f, s.timeliness == Timeliness::kEarly    ? Counter::kEarly
           : s.timeliness == Timeliness::kOnTime ? Counter::kOnTime
                                                 : Counter::kLate);
    if (s.reappointed_date) Add(f, Counter::kApology);
    // Decision 766 satisfaction (5.4): each dossier counts once against it.
    if (s.timeliness == Timeliness::kLate || s.complaint || s.rating == Rating::kDissatisfied) {
      Add(f, Counter::kLateOrDisliked);
    }
    if (s.processing_working_days) Add(f, Counter::kProcessingDays, *s.processing_working_days);
    if (FullyElectronic(s, p)) Add(f, Counter::kFullyElectronic);
  }
  if (s.portal_timeliness == Timeliness::kEarly || s.portal_timeliness == Timeliness::kOnTime ||
      s.portal_timeliness == Timeliness::kLate) {
    Add(f, Counter::kPortalFinished);
    Add(f, s.portal_timeliness == Timeliness::kEarly    ? Counter::kPortalEarly
           : s.portal_timeliness == Timeliness::kOnTime ? Counter::kPortalOnTime
                                                        : Counter::kPortalLate);
  }
  if (s.finish_kind == FinishKind::kResolved || s.finish_kind == FinishKind::kResultReturned) {
    Add(f, Counter::kResolved);
    if (s.electronic_result) Add(f, Counter::kElectronicResult);
  }
  if (s.feedback_count > 0) {
    Add(f, Counter::kRated);
    if (s.rating == Rating::kVerySatisfied || s.rating == Rating::kSatisfied) Add(f, Counter::kSatisfied);
    if (s.complaint) Add(f, Counter::kComplaint);
  }
  out.push_back(outcome);
  return out;
}

}  // namespace pstrack
