// Dossier histories for the order-independence tests (issue 22): dossiers
// of the benchmark generator (tools/gen), every event kind among them, plus
// events added on purpose to break the lifecycle rules of
// docs/lifecycle.md ("Set-aside events"), so that the replay really sets
// events aside; and the ways to mess up their delivery (shuffled, resent,
// cut into random batches).
#ifndef PSTRACK_TESTS_GENERATED_HISTORIES_H_
#define PSTRACK_TESTS_GENERATED_HISTORIES_H_

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "services/calendar/working_calendar.h"
#include "services/common/dates.h"
#include "services/lifecycle/event.h"
#include "tools/gen/generator.h"

namespace pstrack::testing {

// What a set of histories is made of and what the rule-breakers are meant
// to do, written from docs/lifecycle.md, not from the code's output.
struct Histories {
  gen::GenOptions options;
  gen::World world;
  std::vector<FilingEvent> events;  // generated and added, in replay order
  std::set<EventKind> generated_kinds;
  std::map<std::string, int> events_per_dossier;  // by dossier code
  // Added events a rule must set aside, with the rule (one breaker per
  // dossier); a receipt set aside by a registration naming another
  // procedure is listed under the receipt's id.
  std::map<std::string, std::string> must_set_aside;
  // Events that look out of place but that another event makes possible (a
  // payment before the receipt, after an online registration that comes
  // even earlier): they must count.
  std::set<std::string> must_count;
  int added = 0;  // events added to the generated ones
};

namespace histories_internal {

inline absl::Time Seconds(absl::Time t) { return absl::FromUnixSeconds(absl::ToUnixSeconds(t)); }

// One generated dossier's landmarks (its events are in replay order).
struct Dossier {
  std::vector<FilingEvent> events;
  const FilingEvent* registration = nullptr;
  const FilingEvent* receipt = nullptr;
  const FilingEvent* end = nullptr;  // resolved, withdrawn, stopped or not accepted
  const FilingEvent* returned = nullptr;
  const FilingEvent* reappointed = nullptr;
  void Index() {
    for (const FilingEvent& e : events) {
      switch (e.kind) {
        case EventKind::kRegisteredOnline: registration = &e; break;
        case EventKind::kReceived: receipt = &e; break;
        case EventKind::kResolved:
        case EventKind::kWithdrawn:
        case EventKind::kStopped:
        case EventKind::kNotAccepted: end = &e; break;
        case EventKind::kResultReturned: returned = &e; break;
        case EventKind::kReappointed: reappointed = &e; break;
        default: break;
      }
    }
  }
  bool ended_by(EventKind k) const { return end != nullptr && end->kind == k; }
};

enum class Breaker {
  kSecondReceiptLater,           // single_receipt: the added one
  kSecondReceiptEarlier,         // single_receipt: the generated one (not listed)
  kPaymentBeforeOpening,         // after_opening
  kFeedbackBeforeOpening,        // after_opening
  kSecondReappointment,          // single_reappointment
  kProcessingAfterEnd,           // nothing_after_end (after a withdrawal or a stop)
  kReturnBeforeResolution,       // returned_after_resolved
  kRegistrationOtherProcedure,   // one_procedure: the registration (after the receipt)
  kRegistrationOtherProcedureFirst,  // one_procedure: the receipt (the registration comes first)
  kNotAcceptedAfterReceipt,      // received_or_not_accepted
  kReappointmentNotLater,        // reappointment_later
  kProcessingBeforeReceipt,      // after_receipt
  kRegistrationAfterReceipt,     // registered_before_receipt
  kStopAfterResolution,          // single_end
  kEarlyPaymentAfterRegistration,  // nothing: a registration before the payment makes it possible
  kCount,
};

class Adder {
 public:
  explicit Adder(const gen::World& world) : world_(world) {
    for (const Agency& a : world.agencies) agencies_[a.code] = &a;
    for (const Procedure& p : world.procedures) procedures_[p.code] = &p;
  }

  // Whether `b` applies to `d` (its shape allows it, and its agency is in
  // force on the days the added events fall on).
  bool Applies(Breaker b, const Dossier& d) const {
    std::vector<FilingEvent> added;
    return Make(b, d, "probe", &added, nullptr, nullptr);
  }

  // Appends the events of `b` for `d`, with ids "<code>/x<tag>..."; notes
  // what must happen to them.
  void Add(Breaker b, const Dossier& d, const std::string& tag, std::vector<FilingEvent>* out, Histories* h) {
    std::vector<FilingEvent> added;
    std::string set_aside_id, rule;
    if (!Make(b, d, tag, &added, &set_aside_id, &rule)) return;
    if (h != nullptr) {
      if (!set_aside_id.empty()) h->must_set_aside[set_aside_id] = rule;
      if (b == Breaker::kEarlyPaymentAfterRegistration) {
        for (const FilingEvent& e : added) {
          if (e.kind == EventKind::kPayment) h->must_count.insert(e.event_id);
        }
      }
    }
    out->insert(out->end(), added.begin(), added.end());
  }

 private:
  FilingEvent Event(const Dossier& d, const std::string& id, EventKind kind, absl::Time at) const {
    FilingEvent e;
    e.event_id = absl::StrCat(d.events.front().dossier_code, "/x", id);
    e.dossier_code = d.events.front().dossier_code;
    e.agency_code = d.events.front().agency_code;
    e.kind = kind;
    e.occurred_at = Seconds(at);
    return e;
  }

  // A procedure whose statutory time and field differ from `code`'s, so
  // that replaying with the wrong one would show.
  const Procedure* OtherProcedure(const std::string& code) const {
    const Procedure* mine = procedures_.at(code);
    for (const Procedure& p : world_.procedures) {
      if (p.field != mine->field && p.resolution_amount != mine->resolution_amount &&
          p.resolution_unit == TimeUnit::kWorkingDays && p.full_online_eligible != mine->full_online_eligible) {
        return &p;
      }
    }
    for (const Procedure& p : world_.procedures) {
      if (p.field != mine->field && p.resolution_amount != mine->resolution_amount) return &p;
    }
    return nullptr;
  }

  bool Make(Breaker b, const Dossier& d, const std::string& tag, std::vector<FilingEvent>* out,
            std::string* set_aside_id, std::string* rule) const {
    using K = EventKind;
    const FilingEvent* r = d.receipt;
    const absl::Time first = d.events.front().occurred_at;
    auto note = [&](const std::string& id, const char* why) {
      if (set_aside_id == nullptr) return;
      *set_aside_id = id;
      *rule = why;
    };
    switch (b) {
      case Breaker::kSecondReceiptLater:
      case Breaker::kSecondReceiptEarlier: {
        if (r == nullptr) return false;
        FilingEvent e = *r;
        e.event_id = absl::StrCat(r->dossier_code, "/x", tag);
        e.channel = r->channel == Channel::kPostal ? Channel::kInPerson : Channel::kPostal;
        e.declared_appointment.reset();
        const bool later = b == Breaker::kSecondReceiptLater;
        e.occurred_at = Seconds(r->occurred_at + (later ? absl::Minutes(20) : -absl::Minutes(10)));
        if (later) note(e.event_id, "single_receipt");
        out->push_back(e);
        break;
      }
      case Breaker::kPaymentBeforeOpening: {
        if (r == nullptr) return false;
        FilingEvent e = Event(d, tag, K::kPayment, first - absl::Hours(26));
        e.amount_vnd = 50000;
        note(e.event_id, "after_opening");
        out->push_back(e);
        break;
      }
      case Breaker::kFeedbackBeforeOpening: {
        if (r == nullptr) return false;
        FilingEvent e = Event(d, tag, K::kFeedback, first - absl::Hours(5));
        e.rating = Rating::kDissatisfied;
        e.complaint = true;
        note(e.event_id, "after_opening");
        out->push_back(e);
        break;
      }
      case Breaker::kSecondReappointment: {
        if (r == nullptr || !d.ended_by(K::kResolved) || d.reappointed != nullptr) return false;
        const absl::Duration span = d.end->occurred_at - r->occurred_at;
        if (span < absl::Hours(1)) return false;
        const Date far = LocalDay(d.end->occurred_at) + 200;
        FilingEvent first_one = Event(d, tag + "a", K::kReappointed, r->occurred_at + span / 3);
        first_one.new_appointment = far;
        first_one.reason = "thiếu hồ sơ liên thông";
        FilingEvent second = Event(d, tag + "b", K::kReappointed, r->occurred_at + span * 2 / 3);
        second.new_appointment = far + 10;
        second.reason = "lần hai";
        note(second.event_id, "single_reappointment");
        out->push_back(first_one);
        out->push_back(second);
        break;
      }
      case Breaker::kProcessingAfterEnd: {
        if (!d.ended_by(K::kWithdrawn) && !d.ended_by(K::kStopped)) return false;
        FilingEvent e = Event(d, tag, K::kProcessingStarted, d.end->occurred_at + absl::Hours(1));
        note(e.event_id, "nothing_after_end");
        out->push_back(e);
        break;
      }
      case Breaker::kReturnBeforeResolution: {
        if (r == nullptr || !d.ended_by(K::kResolved) || d.returned != nullptr) return false;
        const absl::Duration span = d.end->occurred_at - r->occurred_at;
        if (span < absl::Minutes(10)) return false;
        FilingEvent e = Event(d, tag, K::kResultReturned, r->occurred_at + span / 2);
        e.returned_remotely = true;
        note(e.event_id, "returned_after_resolved");
        out->push_back(e);
        break;
      }
      case Breaker::kRegistrationOtherProcedure:
      case Breaker::kRegistrationOtherProcedureFirst: {
        if (r == nullptr || d.registration != nullptr) return false;
        const Procedure* other = OtherProcedure(r->procedure_code);
        if (other == nullptr) return false;
        const bool after = b == Breaker::kRegistrationOtherProcedure;
        FilingEvent e = Event(d, tag, K::kRegisteredOnline, r->occurred_at + (after ? absl::Hours(1) : -absl::Hours(2)));
        e.procedure_code = other->code;
        note(after ? e.event_id : r->event_id, "one_procedure");
        out->push_back(e);
        break;
      }
      case Breaker::kNotAcceptedAfterReceipt: {
        if (r == nullptr || d.end != nullptr) return false;  // an open dossier: a second end would be single_end
        FilingEvent e = Event(d, tag, K::kNotAccepted, r->occurred_at + absl::Minutes(1));
        e.reason = "hồ sơ không hợp lệ";
        note(e.event_id, "received_or_not_accepted");
        out->push_back(e);
        break;
      }
      case Breaker::kReappointmentNotLater: {
        if (r == nullptr || !d.ended_by(K::kResolved) || d.reappointed != nullptr) return false;
        const absl::Duration span = d.end->occurred_at - r->occurred_at;
        if (span < absl::Minutes(10)) return false;
        FilingEvent e = Event(d, tag, K::kReappointed, r->occurred_at + span / 2);
        e.new_appointment = LocalDay(r->occurred_at);  // never after the appointment date
        e.reason = "ngày hẹn cũ";
        note(e.event_id, "reappointment_later");
        out->push_back(e);
        break;
      }
      case Breaker::kProcessingBeforeReceipt: {
        if (r == nullptr) return false;
        FilingEvent e = Event(d, tag, K::kProcessingStarted, r->occurred_at - absl::Minutes(30));
        if (d.registration != nullptr && e.occurred_at <= d.registration->occurred_at) return false;
        note(e.event_id, "after_receipt");
        out->push_back(e);
        break;
      }
      case Breaker::kRegistrationAfterReceipt: {
        if (r == nullptr || d.registration != nullptr) return false;
        FilingEvent e = Event(d, tag, K::kRegisteredOnline, r->occurred_at + absl::Minutes(30));
        e.procedure_code = r->procedure_code;
        note(e.event_id, "registered_before_receipt");
        out->push_back(e);
        break;
      }
      case Breaker::kStopAfterResolution: {
        if (!d.ended_by(K::kResolved)) return false;
        FilingEvent e = Event(d, tag, K::kStopped, d.end->occurred_at + absl::Hours(2));
        e.reason = "dừng sau khi đã giải quyết";
        note(e.event_id, "single_end");
        out->push_back(e);
        break;
      }
      case Breaker::kEarlyPaymentAfterRegistration: {
        if (r == nullptr || d.registration != nullptr) return false;
        FilingEvent registration = Event(d, tag + "r", K::kRegisteredOnline, r->occurred_at - absl::Hours(50));
        registration.procedure_code = r->procedure_code;
        FilingEvent payment = Event(d, tag + "p", K::kPayment, r->occurred_at - absl::Hours(26));
        payment.amount_vnd = 120000;
        payment.paid_online = true;
        out->push_back(registration);
        out->push_back(payment);
        break;
      }
      case Breaker::kCount:
        return false;
    }
    // Every added event is well formed: the agency is in force on its day,
    // and it is not in the future.
    const Agency* agency = agencies_.at(d.events.front().agency_code);
    for (const FilingEvent& e : *out) {
      if (!agency->InForceOn(LocalDay(e.occurred_at)) || e.occurred_at > absl::Now()) return false;
      if (!ValidateEvent(e).ok()) return false;
    }
    return true;
  }

  const gen::World& world_;
  std::map<std::string, const Agency*> agencies_;
  std::map<std::string, const Procedure*> procedures_;
};

}  // namespace histories_internal

// `take` of the dossiers the generator makes with `options`, evenly spread
// over them, and for each event kind none of those has, one more dossier
// that has it. With `rule_breakers`, each rule breaker is added to
// `per_breaker` dossiers of its own, and `mixed` more dossiers get three
// random breakers each.
inline Histories MakeHistories(const gen::GenOptions& options, int64_t take, bool rule_breakers,
                               int per_breaker = 3, int mixed = 12) {
  using histories_internal::Breaker;
  using histories_internal::Dossier;
  Histories h;
  h.options = options;
  h.world = gen::MakeWorld(h.options);
  const int64_t stride = std::max<int64_t>(1, options.dossiers / take);
  std::set<int64_t> chosen;
  for (int64_t i = 0; i < take; ++i) chosen.insert(std::min(options.dossiers - 1, i * stride));
  std::set<EventKind> kinds;
  for (int64_t i : chosen) {
    std::vector<FilingEvent> events;
    gen::DossierEvents(h.options, h.world, i, &events);
    for (const FilingEvent& e : events) kinds.insert(e.kind);
  }
  for (int64_t i = 0; i < options.dossiers && static_cast<int>(kinds.size()) < kMaxEventKind; ++i) {
    std::vector<FilingEvent> events;
    gen::DossierEvents(h.options, h.world, i, &events);
    bool wanted = false;
    for (const FilingEvent& e : events) wanted |= !kinds.contains(e.kind);
    if (!wanted) continue;
    chosen.insert(i);
    for (const FilingEvent& e : events) kinds.insert(e.kind);
  }
  std::vector<Dossier> all(chosen.size());
  size_t n = 0;
  for (int64_t i : chosen) {
    Dossier& d = all[n++];
    gen::DossierEvents(h.options, h.world, i, &d.events);
    d.Index();
    for (const FilingEvent& e : d.events) h.generated_kinds.insert(e.kind);
  }
  std::vector<FilingEvent> added;
  if (rule_breakers) {
    std::mt19937_64 rng(options.seed * 7919 + static_cast<uint64_t>(take));
    histories_internal::Adder adder(h.world);
    std::vector<size_t> order(all.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
    std::set<size_t> used;
    for (int b = 0; b < static_cast<int>(Breaker::kCount); ++b) {
      int n = 0;
      for (size_t i : order) {
        if (n == per_breaker) break;
        if (used.contains(i) || !adder.Applies(static_cast<Breaker>(b), all[i])) continue;
        used.insert(i);
        adder.Add(static_cast<Breaker>(b), all[i], absl::StrCat(b), &added, &h);
        ++n;
      }
    }
    // A few dossiers break several rules at once (what is set aside then is
    // the replay's to decide; only that it does not depend on the order).
    int m = 0;
    for (size_t i : order) {
      if (m == mixed) break;
      if (used.contains(i) || all[i].receipt == nullptr) continue;
      used.insert(i);
      ++m;
      for (int k = 0; k < 3; ++k) {
        const auto b = static_cast<Breaker>(rng() % static_cast<uint64_t>(Breaker::kCount));
        if (adder.Applies(b, all[i])) adder.Add(b, all[i], absl::StrCat("m", k, "_", static_cast<int>(b)), &added, nullptr);
      }
    }
  }
  for (Dossier& d : all) h.events.insert(h.events.end(), d.events.begin(), d.events.end());
  h.added = static_cast<int>(added.size());
  h.events.insert(h.events.end(), added.begin(), added.end());
  std::sort(h.events.begin(), h.events.end(), ReplayOrderLess);
  for (const FilingEvent& e : h.events) ++h.events_per_dossier[e.dossier_code];
  return h;
}

// `events` shuffled, with about `resent` of them sent a second time (same
// id, same content) at another random place.
inline std::vector<FilingEvent> ShuffledWithCopies(const std::vector<FilingEvent>& events, double resent,
                                                   std::mt19937_64& rng) {
  std::vector<FilingEvent> out = events;
  std::bernoulli_distribution copy(resent);
  for (const FilingEvent& e : events) {
    if (copy(rng)) out.push_back(e);
  }
  std::shuffle(out.begin(), out.end(), rng);
  return out;
}

// `events` cut, in order, into pieces of random sizes in [min_size, max_size].
inline std::vector<std::vector<FilingEvent>> CutRandomly(const std::vector<FilingEvent>& events, int min_size,
                                                         int max_size, std::mt19937_64& rng) {
  std::uniform_int_distribution<int> size(min_size, max_size);
  std::vector<std::vector<FilingEvent>> out;
  for (size_t from = 0; from < events.size();) {
    const size_t to = std::min(events.size(), from + static_cast<size_t>(size(rng)));
    out.emplace_back(events.begin() + static_cast<std::ptrdiff_t>(from), events.begin() + static_cast<std::ptrdiff_t>(to));
    from = to;
  }
  return out;
}

}  // namespace pstrack::testing

#endif  // PSTRACK_TESTS_GENERATED_HISTORIES_H_
