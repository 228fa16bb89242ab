// What one dossier contributes to the indicator aggregates, as a pure
// function of its replayed state and its procedure. Intake counts go to the
// receipt day, outcome counts to the finish day (DOMAIN.md section 6). When a
// dossier's state changes, ingestion retracts the old contribution and adds
// the new one in the same transaction, so aggregates stay exact whatever the
// order events arrive in. Thread-safe (pure).
#ifndef PSTRACK_SERVICES_FIGURES_CONTRIBUTION_H_
#define PSTRACK_SERVICES_FIGURES_CONTRIBUTION_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "services/catalog/procedure.h"
#include "services/lifecycle/lifecycle.h"

namespace pstrack {

// The counters kept per bucket. Order is the storage column order: append
// only (a new counter needs a migration).
enum class Counter {
  // Receipt basis (day = receipt day).
  kReceived = 0,
  kReceivedOnline,
  kReceivedEligibleFullOnline,   // of procedures eligible for full-process online service
  kReceivedFullOnline,           // of procedures offered full online, submitted online
  kReceivedFeeNonZero,           // of fee-bearing procedures with a non-zero amount paid
  kPaidOnline,                   // ... of which paid online
  kDigitised,                    // documents and result digitised
  kDigitisedDocuments,
  kReusedData,
  kSharedForReuse,
  kPopulationDbUsed,
  // Finish basis (day = finish day).
  kFinished,                     // resolved, result returned or stopped (the rule's denominator)
  kEarly,
  kOnTime,
  kLate,
  kPortalFinished,               // also withdrawn
  kPortalEarly,
  kPortalOnTime,
  kPortalLate,
  kApology,                      // finished with an apology re-appointment
  kResolved,                     // resolved or result returned
  kElectronicResult,
  kFullyElectronic,
  kProcessingDays,               // sum of working days, for the average
  kRated,                        // finished dossiers with feedback
  kSatisfied,                    // ... rated very satisfied or satisfied
  kComplaint,                    // ... with a complaint or petition
  kLateOrDisliked,               // finished (rule) late, or with a complaint or a dissatisfied rating
  // Clock basis (day = the bucket of an instant, see ClockBucket): what is
  // open and overdue at the end of any day is a sum of these, not a scan.
  kOpened,                       // has a due time; at its receipt
  kClosed,                       // ... at its finish
  kOverdueStarted,               // has an overdue instant (rule); at max(receipt, that instant)
  kOverdueEnded,                 // ... at max(that, finish), once finished
  kPortalOverdueStarted,         // the same by portal practice
  kPortalOverdueEnded,
  // Receipt basis again (added later; columns are append-only).
  kAppointmentMismatch,          // the declared appointment date differs from the computed one
  kCodeDateMismatch,             // the dossier code's date part is not the receipt day
  // Event basis (day = the day the event occurred): data quality.
  kSetAside,                     // events a lifecycle rule set aside (Replay)
  kCount,
};
inline constexpr int kCounterCount = static_cast<int>(Counter::kCount);
// Column names, in Counter order (storage and docs).
const std::array<const char*, kCounterCount>& CounterNames();

// The counters whose presence (> 0) on a procedure row the catalog
// figures read: a procedure had a dossier paid / received online in a
// period (Metrics::PositiveBits). A write that turns one on or off on a
// procedure row adds a change to its node, basis and day
// (AggregateRow::changes), so that what was derived from them is known to
// be current without reading them again.
inline constexpr std::array<Counter, 2> kPresenceCounters = {Counter::kPaidOnline, Counter::kReceivedOnline};

// kEvent rows are kept in total only (no breakdown by channel, field or
// procedure): they count events, not dossiers.
enum class Basis { kReceipt = 1, kFinish = 2, kClock = 3, kEvent = 4 };

// The clock-basis bucket of an instant: the local day d with the instant in
// (start of d, start of d+1]. So the buckets before day D hold exactly the
// instants at or before the start of D, and "open at midnight" is a sum.
Date ClockBucket(absl::Time t);

using Counts = std::array<int64_t, kCounterCount>;

// Whether adding `delta` to a row turned one of its presence counters on
// or off, given what they hold after the write (`now`, in kPresenceCounters
// order). The one rule every store applies when it counts changes.
inline bool TurnsPresence(const Counts& delta, const std::array<int64_t, kPresenceCounters.size()>& now) {
  bool turned = false;
  for (size_t c = 0; c < kPresenceCounters.size(); ++c) {
    const int64_t before = now[c] - delta[static_cast<int>(kPresenceCounters[c])];
    turned |= (before > 0) != (now[c] > 0);
  }
  return turned;
}

// into += from, counter by counter.
void AddCounts(Counts& into, const Counts& from);

struct Contribution {
  Basis basis = Basis::kReceipt;
  Date day;
  Counts counts{};
};

// The procedure attributes that matter; absent procedure = all false.
std::vector<Contribution> ContributionsOf(const DossierState& state, const Procedure* procedure);

// True if `state` is fully electronic (DOMAIN.md section 6: submitted online
// or digitised at receipt, processed and signed electronically, result
// issued electronically, paid online where a fee applies).
bool FullyElectronic(const DossierState& state, const Procedure* procedure);

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_FIGURES_CONTRIBUTION_H_
