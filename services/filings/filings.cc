#include "services/filings/filings.h"

#include "services/common/call_limits.h"
#include "services/common/ceilings.h"

#include "services/agencies/agency_registry.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/page_token.h"
#include "services/common/status.h"
#include "services/common/log.h"
#include "services/figures/aggregation.h"
#include "services/filings/lookups.h"
#include "services/filings/projection.h"

namespace pstrack {

StoredEvent ToStored(const FilingEvent& e, absl::Time now) {
  StoredEvent s;
  s.event_id = e.event_id;
  s.dossier_code = e.dossier_code;
  s.occurred_us = absl::ToUnixMicros(e.occurred_at);
  s.kind = static_cast<int>(e.kind);
  s.content = EncodeEvent(e);
  s.recorded_us = absl::ToUnixMicros(now);
  return s;
}

namespace {


std::string LocalDayText(absl::Time t) { return FormatDate(LocalDay(t)); }

std::string ListFingerprint(const DossierListRequest& r) {
  return FilterFingerprint(absl::StrCat(
      "dossiers|", r.agency_code, "|", r.procedure_code, "|", static_cast<int>(r.status), "|",
      static_cast<int>(r.channel), "|", FormatOptionalDate(r.received_from), "|", FormatOptionalDate(r.received_until),
      "|", FormatOptionalDate(r.finished_from), "|", FormatOptionalDate(r.finished_until), "|", r.overdue_only, "|",
      r.due_within_working_days, "|",
      r.as_of ? absl::ToUnixMicros(*r.as_of) : -1));
}

}  // namespace

DossierRow ToDossierRow(const DossierState& s, const std::string& agency_path, absl::Time now) {
  DossierRow r;
  r.code = s.code;
  r.agency_code = s.agency_code;
  r.agency_path = agency_path;
  r.procedure_code = s.procedure_code;
  r.status = static_cast<int>(s.status);
  r.channel = static_cast<int>(s.channel);
  if (s.received_time) {
    r.received_us = absl::ToUnixMicros(*s.received_time);
    r.received_day = LocalDayText(*s.received_time);
  }
  if (s.appointment) r.due_us = absl::ToUnixMicros(s.appointment->due_time);
  if (auto t = OverdueFrom(s, false)) r.overdue_from_us = absl::ToUnixMicros(*t);
  if (auto t = OverdueFrom(s, true)) r.portal_overdue_from_us = absl::ToUnixMicros(*t);
  if (s.finish_time) {
    r.finish_us = absl::ToUnixMicros(*s.finish_time);
    r.finish_day = LocalDayText(*s.finish_time);
  }
  if (s.supplement_wait_since) r.wait_since_us = absl::ToUnixMicros(*s.supplement_wait_since);
  r.event_count = s.event_count;
  r.updated_us = absl::ToUnixMicros(now);
  return r;
}

std::string RejectionReason(const absl::Status& status) {
  std::string reason(absl::StatusCodeToString(status.code()));
  const absl::string_view message = status.message();
  const size_t colon = message.find(": ");
  if (colon == absl::string_view::npos || colon == 0) return reason;
  const absl::string_view field = message.substr(0, colon);
  if (field.find(' ') != absl::string_view::npos) return reason;
  absl::StrAppend(&reason, " ");
  // "events[12].agency_code" -> "events[].agency_code".
  for (size_t i = 0; i < field.size(); ++i) {
    reason.push_back(field[i]);
    if (field[i] == '[') {
      while (i + 1 < field.size() && absl::ascii_isdigit(static_cast<unsigned char>(field[i + 1]))) ++i;
    }
  }
  return reason;
}

namespace {

// The feed-log rows of a committed batch: per agency (as sent), the local
// day the event occurred (the arrival day for an event refused before its
// time could be read) and metric; last_us is the arrival.
std::vector<FeedLogRow> FeedLog(const std::vector<FilingEvent>& events, const std::vector<ItemOutcome>& outcomes,
                                const std::vector<EarlyRejection>& early, const WorkingCalendar& calendar,
                                absl::Time now) {
  const std::string arrival_day = LocalDayText(now);
  const Date today = LocalDay(now);
  const int64_t now_us = absl::ToUnixMicros(now);
  std::map<std::tuple<std::string, std::string, std::string>, int64_t> counts;  // (agency, day, metric)
  for (size_t i = 0; i < events.size(); ++i) {
    const ItemOutcome& o = outcomes[i];
    const FilingEvent& e = events[i];
    const bool timed = e.occurred_at != absl::InfinitePast() && e.occurred_at != absl::InfiniteFuture();
    const std::string day = timed ? LocalDayText(e.occurred_at) : arrival_day;
    if (o.outcome == WriteOutcome::kApplied) {
      ++counts[{e.agency_code, day, "accepted"}];
      const Date occurred = LocalDay(e.occurred_at);
      if (today > calendar.AddWorkingDays(occurred, 1)) ++counts[{e.agency_code, day, "late"}];
    } else if (o.outcome == WriteOutcome::kRejected && !o.status.ok()) {
      ++counts[{e.agency_code, day, "rejected:" + RejectionReason(o.status)}];
    }
  }
  for (const EarlyRejection& r : early) {
    ++counts[{r.agency_code, arrival_day, "rejected:" + RejectionReason(r.status)}];
  }
  std::vector<FeedLogRow> rows;
  rows.reserve(counts.size());
  for (const auto& [key, n] : counts) {
    rows.push_back(FeedLogRow{std::get<0>(key), std::get<1>(key), std::get<2>(key), n, now_us});
  }
  return rows;
}

// The dossiers as of every event the store has, projected or still in the
// log, replayed.
absl::StatusOr<std::map<std::string, std::vector<FilingEvent>>> LoadAllEvents(FilingReader& tx,
                                                                               const std::vector<std::string>& codes) {
  // The log first, as FindStored reads it; an event the projector moved
  // in between is in both, and counted once.
  PSTRACK_ASSIGN_OR_RETURN(std::vector<LoggedEvent> logged, tx.PendingEventsOf(codes));
  PSTRACK_ASSIGN_OR_RETURN(std::vector<StoredEvent> stored, tx.LoadDossierEvents(codes));
  absl::flat_hash_set<std::string> ids;
  for (const StoredEvent& e : stored) ids.insert(e.event_id);
  for (LoggedEvent& e : logged) {
    if (!ids.contains(e.event.event_id)) stored.push_back(std::move(e.event));
  }
  return DecodeByDossier(stored);
}

// An event may name only an agency in force on the local day it occurred,
// with one exception: a dossier the agency received before it ended (its
// code dates it before the end) may be processed, finished and rated
// after the end, as in-flight dossiers were at the 2025 mergers. Opening a
// dossier (registration, receipt, refusal at the counter) needs the agency
// in force. A check of the event alone, so the set of events decides.
absl::Status InForce(const Agency& agency, const FilingEvent& e) {
  const Date day = LocalDay(e.occurred_at);
  if (agency.InForceOn(day)) return absl::OkStatus();
  const bool opens = e.kind == EventKind::kRegisteredOnline || e.kind == EventKind::kReceived ||
                     e.kind == EventKind::kNotAccepted;
  if (!opens && agency.valid_until && day >= *agency.valid_until) {
    const OptionalDate coded = DossierCodeDate(e.dossier_code);
    if (coded && agency.InForceOn(*coded)) return absl::OkStatus();
  }
  std::string why = absl::StrCat("agency '", agency.code, "' is not in force on ", FormatDate(day));
  if (agency.valid_from && day < *agency.valid_from) {
    absl::StrAppend(&why, " (it begins on ", FormatDate(*agency.valid_from), ")");
  } else if (agency.valid_until) {
    absl::StrAppend(&why, " (it ended on ", FormatDate(*agency.valid_until),
                    agency.successor_code.empty() ? "" : absl::StrCat("; its successor is '", agency.successor_code, "'"),
                    opens ? "" : "; only dossiers it received before its end may follow it", ")");
  }
  return InvalidField("event.agency_code", why);
}

// One batch's way into the store, as named steps (Filings::RecordWithAudit
// runs them in order). Before the transaction: each event checked on its
// own, then against the others of the batch. Inside it: the dossiers locked
// against other processes, the events already stored found, the agencies
// and procedures looked up, each dossier's history replayed, and the
// result projected (events, index rows, aggregate deltas). A step decides
// the events it can (applied, unchanged or rejected); the others stay open
// for the next.
class Batch {
 public:
  Batch(const std::vector<FilingEvent>& events, const std::vector<int>& source_lines,
        const WorkingCalendar& calendar, absl::Time now)
      : events_(events), calendar_(calendar), now_(now), open_(events.size(), true), encoded_(events.size()) {
    result_.outcomes.resize(events.size());
    for (size_t i = 0; i < events.size(); ++i) {
      ItemOutcome& o = result_.outcomes[i];
      o.index = static_cast<int>(i);
      o.key = events[i].event_id;
      o.source_line = i < source_lines.size() ? source_lines[i] : 0;
    }
  }

  // Each event on its own (ValidateEvent), and not later than the clock
  // allows.
  void Validate(absl::Duration clock_allowance) {
    for (size_t i = 0; i < events_.size(); ++i) {
      absl::Status valid = ValidateEvent(events_[i]);
      if (valid.ok() && events_[i].occurred_at > now_ + clock_allowance) {
        valid = InvalidField("event.occurred_at",
                             absl::StrCat(absl::FormatTime("%Y-%m-%d %H:%M:%S%Ez", events_[i].occurred_at,
                                                           VietnamTimeZone()),
                                          " is in the future: the server's clock says ",
                                          absl::FormatTime("%Y-%m-%d %H:%M:%S%Ez", now_, VietnamTimeZone()),
                                          " (allowance ", absl::FormatDuration(clock_allowance), ")"));
      }
      if (!valid.ok()) {
        Decide(i, WriteOutcome::kRejected, valid);
        continue;
      }
      encoded_[i] = EncodeEvent(events_[i]);
    }
  }

  // The same id twice in one batch: a copy follows the first; different
  // content is a conflict.
  void DedupeWithinBatch() {
    absl::flat_hash_map<std::string, size_t> first_with_id;
    for (size_t i = 0; i < events_.size(); ++i) {
      if (!open_[i]) continue;
      auto [it, inserted] = first_with_id.emplace(events_[i].event_id, i);
      if (inserted) continue;
      if (encoded_[it->second] == encoded_[i]) {
        copies_.emplace_back(i, it->second);
        open_[i] = false;
      } else {
        Decide(i, WriteOutcome::kRejected,
               FieldError(absl::StatusCode::kAlreadyExists, "event.event_id",
                          absl::StrCat("'", events_[i].event_id,
                                       "' appears twice in this batch with different content; event ids must be "
                                       "unique")));
      }
    }
  }

  // Another server process may be writing the same dossiers: wait for it
  // before reading anything (each later statement sees its commit).
  absl::Status Lock(FilingWriter& tx) {
    std::set<std::string> touched;
    for (size_t i : Open()) touched.insert(events_[i].dossier_code);
    return tx.LockKeys(std::vector<std::string>(touched.begin(), touched.end()));
  }

  // Ids already stored: the same content is a duplicate, other content a
  // conflict.
  absl::Status FindStored(FilingReader& tx) {
    std::vector<std::string> ids;
    for (size_t i : Open()) ids.push_back(events_[i].event_id);
    // Still in the log, or projected: read in that order, because the
    // projector (another transaction, PostgreSQL) moves events from the log
    // to the events atomically: an event gone from the log is then among
    // the events.
    PSTRACK_ASSIGN_OR_RETURN(std::vector<StoredEvent> existing, tx.FindLoggedEvents(ids));
    PSTRACK_ASSIGN_OR_RETURN(std::vector<StoredEvent> projected, tx.FindEvents(ids));
    for (StoredEvent& e : projected) existing.push_back(std::move(e));
    absl::flat_hash_map<std::string, const StoredEvent*> by_id;
    for (const StoredEvent& s : existing) by_id[s.event_id] = &s;
    for (size_t i : Open()) {
      auto it = by_id.find(events_[i].event_id);
      if (it == by_id.end()) continue;
      if (it->second->content == encoded_[i]) {
        Decide(i, WriteOutcome::kUnchanged);
      } else {
        Decide(i, WriteOutcome::kRejected,
               FieldError(absl::StatusCode::kAlreadyExists, "event.event_id",
                          absl::StrCat("event '", events_[i].event_id,
                                       "' was already recorded with different content (dossier '",
                                       it->second->dossier_code, "'); event ids must be unique")));
      }
    }
    return absl::OkStatus();
  }

  // The agencies and procedures the events name (unknown ones reject their
  // event), and the stored histories of the dossiers left, with what those
  // name (a receipt sent in an earlier batch).
  absl::Status LookUp(FilingReader& tx) {
    lookups_.emplace(tx);
    std::vector<const FilingEvent*> named;
    for (size_t i : Open()) named.push_back(&events_[i]);
    PSTRACK_RETURN_IF_ERROR(lookups_->Prefetch(named));
    for (size_t i : Open()) {
      const FilingEvent& e = events_[i];
      PSTRACK_ASSIGN_OR_RETURN(const Agency* agency, lookups_->FindAgency(e.agency_code));
      if (!agency) {
        Decide(i, WriteOutcome::kRejected,
               FieldError(absl::StatusCode::kNotFound, "event.agency_code",
                          absl::StrCat("agency '", e.agency_code, "' does not exist")));
        continue;
      }
      if (absl::Status in_force = InForce(*agency, e); !in_force.ok()) {
        Decide(i, WriteOutcome::kRejected, std::move(in_force));
        continue;
      }
      if (!e.procedure_code.empty()) {
        PSTRACK_ASSIGN_OR_RETURN(const Procedure* procedure, lookups_->FindProcedure(e.procedure_code));
        if (!procedure) {
          Decide(i, WriteOutcome::kRejected,
                 FieldError(absl::StatusCode::kNotFound, "event.procedure_code",
                            absl::StrCat("procedure '", e.procedure_code, "' does not exist")));
          continue;
        }
      }
      by_dossier_[e.dossier_code].push_back(i);
    }
    return absl::OkStatus();
  }

  // The well-formed events, appended to the event log: from here on they
  // are acknowledged (once the transaction commits).
  absl::Status Append(FilingWriter& tx) {
    std::vector<StoredEvent> logged;
    std::vector<size_t> appended;
    for (const auto& [code, indices] : by_dossier_) {
      for (size_t i : indices) {
        logged.push_back(ToStored(events_[i], now_));
        appended.push_back(i);
      }
    }
    PSTRACK_ASSIGN_OR_RETURN(last_seq_, tx.AppendToLog(logged));
    for (size_t i : appended) Decide(i, WriteOutcome::kApplied);
    return absl::OkStatus();
  }

  // Projects the dossiers this batch appended to, in its transaction, as
  // the projection's lead (after another process's round, if one runs).
  absl::Status Project(FilingWriter& tx) {
    PSTRACK_RETURN_IF_ERROR(LeadTheProjection(tx));
    std::vector<std::string> codes;
    for (const auto& [code, unused] : by_dossier_) codes.push_back(code);
    PSTRACK_ASSIGN_OR_RETURN(Projected projected, ProjectDossiers(tx, codes, calendar_, now_));
    result_.dossiers = std::move(projected.dossiers);
    return absl::OkStatus();
  }

  // The state of each dossier this batch appended to, replayed from every
  // event stored (the projector projects them later).
  absl::Status Replayed(FilingReader& tx) {
    std::vector<std::string> codes;
    for (const auto& [code, unused] : by_dossier_) codes.push_back(code);
    if (codes.empty()) return absl::OkStatus();
    PSTRACK_ASSIGN_OR_RETURN(auto by_dossier, LoadAllEvents(tx, codes));
    for (auto& [code, events] : by_dossier) {
      PSTRACK_ASSIGN_OR_RETURN(const Procedure* procedure, ProcedureOf(events, *lookups_));
      PSTRACK_ASSIGN_OR_RETURN(DossierState state, Replay(std::move(events), calendar_, procedure));
      result_.dossiers.emplace(code, std::move(state));
    }
    return absl::OkStatus();
  }

  // The highest log sequence number this batch appended (0: none).
  int64_t last_seq() const { return last_seq_; }
  bool appended_any() const { return last_seq_ > 0; }

  // The outcomes as they will be reported (copies following their
  // originals), for the audit rows written in the same transaction.
  std::vector<ItemOutcome> FinalOutcomes() const {
    std::vector<ItemOutcome> out = result_.outcomes;
    FollowOriginals(out);
    return out;
  }
  const std::vector<ItemOutcome>& outcomes() const { return result_.outcomes; }

  // The result once the transaction committed.
  RecordResult Committed(bool audited) {
    FollowOriginals(result_.outcomes);
    result_.audited = audited;
    return std::move(result_);
  }
  // The result when it did not: every event not rejected on its own merits
  // is rejected with the batch's failure; nothing was applied.
  RecordResult NotCommitted(const absl::Status& batch) {
    for (ItemOutcome& o : result_.outcomes) {
      if (o.outcome == WriteOutcome::kRejected && !o.status.ok() && o.status.code() != absl::StatusCode::kInternal &&
          o.status.code() != absl::StatusCode::kUnavailable && o.status.code() != absl::StatusCode::kDataLoss) {
        continue;  // rejected on its own merits, before the failure
      }
      o.outcome = WriteOutcome::kRejected;
      o.status = absl::Status(batch.code(), absl::StrCat("batch not committed: ", batch.message()));
    }
    result_.dossiers.clear();
    return std::move(result_);
  }

 private:
  void Decide(size_t i, WriteOutcome outcome, absl::Status status = absl::OkStatus()) {
    result_.outcomes[i].outcome = outcome;
    result_.outcomes[i].status = std::move(status);
    open_[i] = false;
  }
  // The events still to be decided, in batch order.
  std::vector<size_t> Open() const {
    std::vector<size_t> out;
    for (size_t i = 0; i < events_.size(); ++i) {
      if (open_[i]) out.push_back(i);
    }
    return out;
  }
  // A copy of an event in the same batch ends as its original did.
  void FollowOriginals(std::vector<ItemOutcome>& outcomes) const {
    for (auto [copy, original] : copies_) {
      outcomes[copy].outcome = outcomes[original].outcome == WriteOutcome::kRejected ? WriteOutcome::kRejected
                                                                                     : WriteOutcome::kUnchanged;
      outcomes[copy].status = outcomes[original].status;
    }
  }

  const std::vector<FilingEvent>& events_;
  const WorkingCalendar& calendar_;
  const absl::Time now_;
  RecordResult result_;
  std::vector<bool> open_;                         // still to be decided
  std::vector<std::string> encoded_;               // of the valid events
  std::vector<std::pair<size_t, size_t>> copies_;  // (copy, original)
  std::optional<Lookups> lookups_;
  std::map<std::string, std::vector<size_t>> by_dossier_;  // the events of each dossier
  int64_t last_seq_ = 0;
};

}  // namespace

Filings::Filings(FilingStore store, std::shared_ptr<const WorkingCalendar> calendar, ChangeFeed* changes)
    : store_(store),
      calendar_(std::move(calendar)),
      changes_(changes),
      group_commit_([this](std::vector<Pending*>& group, absl::FunctionRef<void()> hand_on) {
        RecordGroup(group, hand_on);
      }) {
  group_commit_.set_group_sizes(&GroupCommitSizes().With({"events"}));
}

RecordResult Filings::RecordTogether(const std::vector<FilingEvent>& events, const std::vector<EarlyRejection>& early,
                                     const AuditBuilder* audit) {
  Pending pending{&events, &early, audit, {}};
  group_commit_.Submit(&pending);
  return std::move(pending.result);
}

void Filings::RecordGroup(std::vector<Pending*>& group, absl::FunctionRef<void()> hand_on) {
  std::vector<FilingEvent> all;
  std::vector<EarlyRejection> early;
  for (const Pending* p : group) {
    all.insert(all.end(), p->events->begin(), p->events->end());
    early.insert(early.end(), p->early->begin(), p->early->end());
  }
  // The group is everyone's: the leader's own deadline must not cut it short.
  ScopedCallLimits no_limits(absl::InfiniteFuture());
  // Each caller's outcomes: its slice of the group's, indexed from 0.
  auto slice = [&](const std::vector<ItemOutcome>& outcomes, size_t offset, size_t n) {
    std::vector<ItemOutcome> mine(outcomes.begin() + offset, outcomes.begin() + offset + n);
    for (size_t i = 0; i < n; ++i) mine[i].index = static_cast<int>(i);
    return mine;
  };
  const AuditRows audits = [&](const std::vector<ItemOutcome>& outcomes) {
    std::vector<AuditRow> rows;
    size_t offset = 0;
    for (const Pending* p : group) {
      if (p->audit != nullptr) rows.push_back((*p->audit)(slice(outcomes, offset, p->events->size())));
      offset += p->events->size();
    }
    return rows;
  };
  // With the projector running, the callers' dossiers are replayed for
  // their answers and left to it: unary writers on different servers then
  // never write the same aggregate rows.
  RecordResult merged =
      RecordWithAudit(all, {}, early, &audits, hand_on, background_ ? AfterAppend::kReplay : AfterAppend::kProject);
  size_t offset = 0;
  for (Pending* p : group) {
    const size_t n = p->events->size();
    p->result.outcomes = slice(merged.outcomes, offset, n);
    p->result.audited = p->audit != nullptr && merged.audited;
    for (const FilingEvent& e : *p->events) {
      auto it = merged.dossiers.find(e.dossier_code);
      if (it != merged.dossiers.end()) p->result.dossiers.insert(*it);
    }
    offset += n;
  }
}

RecordResult Filings::Record(const std::vector<FilingEvent>& events, const std::vector<int>& source_lines,
                             const std::vector<EarlyRejection>& early) {
  return RecordWithAudit(events, source_lines, early, nullptr, [] {},
                         background_ ? AfterAppend::kNothing : AfterAppend::kProject);
}

RecordResult Filings::RecordWithAudit(const std::vector<FilingEvent>& events, const std::vector<int>& source_lines,
                                      const std::vector<EarlyRejection>& early, const AuditRows* audits,
                                      absl::FunctionRef<void()> released, AfterAppend after) {
  const bool project = after == AfterAppend::kProject;
  if (events.empty() && early.empty()) return {};
  ++appends_in_flight_;
  struct Done {
    std::atomic<int>& n;
    std::atomic<int64_t>& last;
    ~Done() {
      last = absl::ToUnixMicros(absl::Now());
      --n;
    }
  } done{appends_in_flight_, last_append_us_};
  const absl::Time now = NowForStorage();
  Batch batch(events, source_lines, *calendar_, now);
  batch.Validate(clock_allowance_);
  batch.DedupeWithinBatch();
  const absl::Status written = store_.Write(
      [&](FilingWriter& tx) -> absl::Status {
        PSTRACK_RETURN_IF_ERROR(batch.Lock(tx));
        PSTRACK_RETURN_IF_ERROR(batch.FindStored(tx));
        PSTRACK_RETURN_IF_ERROR(batch.LookUp(tx));
        PSTRACK_RETURN_IF_ERROR(batch.Append(tx));
        if (project) PSTRACK_RETURN_IF_ERROR(batch.Project(tx));
        if (after == AfterAppend::kReplay) PSTRACK_RETURN_IF_ERROR(batch.Replayed(tx));
        if (audits != nullptr) PSTRACK_RETURN_IF_ERROR(tx.InsertAudit((*audits)(batch.FinalOutcomes())));
        if (!feed_log_) return absl::OkStatus();
        return tx.AddFeedLog(FeedLog(events, batch.outcomes(), early, *calendar_, now));
      },
      released);
  if (!written.ok()) return batch.NotCommitted(written);
  if (!project && batch.appended_any()) {
    // Acknowledged: durable in the log. The projector takes it from here.
    int64_t seen = acknowledged_seq_.load();
    while (seen < batch.last_seq() && !acknowledged_seq_.compare_exchange_weak(seen, batch.last_seq())) {
    }
    absl::MutexLock lock(&projection_mu_);
    projection_work_ = true;
    projection_cv_.SignalAll();
  }
  RecordResult result = batch.Committed(audits != nullptr);
  if (changes_ && project && !result.dossiers.empty()) changes_->Bump();
  return result;
}

Filings::~Filings() { StopProjection(); }

void Filings::StopProjection() {
  {
    absl::MutexLock lock(&projection_mu_);
    projector_stop_ = true;
    projection_cv_.SignalAll();
  }
  if (projector_.joinable()) projector_.join();
}

void Filings::set_projection_held(bool held) {
  absl::MutexLock lock(&projection_mu_);
  projection_held_ = held;
  projection_work_ = true;
  projection_cv_.SignalAll();
}

void Filings::StartProjection() {
  if (background_.exchange(true)) return;
  projector_ = std::thread([this] { ProjectorLoop(); });
}

void Filings::ProjectorLoop() {
  // Another process's events (PostgreSQL) and what a crash left in the log
  // are found by the periodic round.
  constexpr absl::Duration kIdleRound = absl::Milliseconds(200);
  for (;;) {
    {
      absl::MutexLock lock(&projection_mu_);
      if (!projection_work_ && !projector_stop_) projection_cv_.WaitWithTimeout(&projection_mu_, kIdleRound);
      while (projection_held_ && !projector_stop_) projection_cv_.Wait(&projection_mu_);
      if (projector_stop_) return;
      projection_work_ = false;
    }
    // Round after round while full rounds come back, but no further than
    // the round in progress once asked to stop: with another replica
    // appending, the backlog may never drain (and a SIGTERM would wait for
    // it).
    for (;;) {
      YieldToWrites();
      absl::StatusOr<int64_t> moved = ProjectPending(projection_round_);
      if (absl::MutexLock lock(&projection_mu_); projector_stop_) return;
      if (!moved.ok() && moved.status().code() == absl::StatusCode::kAborted) continue;  // raced: again
      if (!moved.ok()) {
        LogError("projection of the event log failed (retried): ", moved.status().ToString());
        absl::SleepFor(absl::Milliseconds(100));
        break;
      }
      if (*moved < projection_round_) break;
    }
  }
}

void Filings::YieldToWrites() {
  constexpr int64_t kQuietUs = 30000;
  if (!yield_to_writes_) return;
  for (;;) {
    if (readers_waiting_.load() > 0) return;
    if (appends_in_flight_.load() == 0 && absl::ToUnixMicros(absl::Now()) - last_append_us_.load() >= kQuietUs) return;
    absl::MutexLock lock(&projection_mu_);
    if (projector_stop_ || acknowledged_seq_.load() - projected_through_ >= kProjectionBacklogToYield) return;
    projection_cv_.WaitWithTimeout(&projection_mu_, absl::Milliseconds(2));
  }
}

absl::StatusOr<int64_t> Filings::ProjectPending(int max_events) {
  const absl::Time now = NowForStorage();
  int64_t moved = 0;
  std::optional<LogState> after;
  // Everyone's events: no caller's deadline applies.
  ScopedCallLimits no_limits(absl::InfiniteFuture());
  // Beside the writes: on PostgreSQL a connection of its own, so appends
  // go on while a round is projected.
  PSTRACK_RETURN_IF_ERROR(store_.WriteBeside([&](FilingWriter& tx) -> absl::Status {
    PSTRACK_ASSIGN_OR_RETURN(bool lead, tx.LeadProjection(/*wait=*/false));
    if (lead) {
      PSTRACK_ASSIGN_OR_RETURN(std::vector<LoggedEvent> oldest, tx.PendingEvents(max_events));
      if (!oldest.empty()) {
        PSTRACK_ASSIGN_OR_RETURN(Projected projected, ProjectLogged(tx, std::move(oldest), *calendar_, now));
        moved = projected.events;
      }
    }
    // Also when another process is the lead (PostgreSQL): what it projected
    // is news for this process's readers and watches.
    PSTRACK_ASSIGN_OR_RETURN(after, tx.GetLogState());
    return absl::OkStatus();
  }));
  bool advanced = false;  // the projection moved since this process last looked
  if (after) {
    absl::MutexLock lock(&projection_mu_);
    projected_through_ = std::max(projected_through_, after->position());
    advanced = after->position() != announced_position_;
    announced_position_ = after->position();
    projection_cv_.SignalAll();
  }
  if ((moved > 0 || advanced) && changes_) changes_->Bump();
  return moved;
}

bool Filings::WaitForProjection(absl::Time deadline) {
  const int64_t target = acknowledged_seq_.load();
  if (target == 0) return true;  // nothing acknowledged unprojected, ever
  {
    absl::MutexLock lock(&projection_mu_);
    if (verified_through_ >= target) return true;
  }
  ++readers_waiting_;
  struct Done {
    std::atomic<int>& n;
    ~Done() { --n; }
  } done{readers_waiting_};
  for (;;) {
    // Asked of the database, not read off a log position: on PostgreSQL a
    // position can pass events whose transaction commits later (sequence
    // numbers are handed out before commit), and a reader that trusted it
    // would miss its own write. Every event this process acknowledged up to
    // `target` is committed: none still visible in the log means all are
    // projected (by this process or another).
    bool pending = true;
    const absl::Status read = store_.Read([&](FilingReader& tx) -> absl::Status {
      PSTRACK_ASSIGN_OR_RETURN(pending, tx.PendingThrough(target));
      return absl::OkStatus();
    });
    absl::MutexLock lock(&projection_mu_);
    if (read.ok() && !pending) verified_through_ = std::max(verified_through_, target);
    if (verified_through_ >= target) return true;
    if (absl::Now() >= deadline) return false;
    projection_cv_.WaitWithDeadline(&projection_mu_, std::min(deadline, absl::Now() + absl::Milliseconds(20)));
  }
}

absl::StatusOr<LogState> Filings::Log() {
  LogState state;
  PSTRACK_RETURN_IF_ERROR(store_.Read([&](FilingReader& tx) -> absl::Status {
    PSTRACK_ASSIGN_OR_RETURN(state, tx.GetLogState());
    return absl::OkStatus();
  }));
  return state;
}

absl::StatusOr<DossierView> Filings::Get(absl::string_view code, std::optional<absl::Time> as_of, bool with_events) {
  PSTRACK_RETURN_IF_ERROR(ValidateDossierCode(code, "code"));
  DossierView view;
  view.as_of = as_of.value_or(absl::Now());
  PSTRACK_RETURN_IF_ERROR(store_.Read([&](FilingReader& tx) -> absl::Status {
    // Projected and still in the log: the dossier as of every event this
    // server has.
    PSTRACK_ASSIGN_OR_RETURN(auto by_dossier, LoadAllEvents(tx, {std::string(code)}));
    std::vector<FilingEvent>& events = by_dossier[std::string(code)];
    if (events.empty()) {
      return FieldError(absl::StatusCode::kNotFound, "code", absl::StrCat("dossier '", code, "' does not exist"));
    }
    Lookups lookups(tx);
    PSTRACK_ASSIGN_OR_RETURN(const Procedure* procedure, ProcedureOf(events, lookups));
    PSTRACK_ASSIGN_OR_RETURN(view.state, Replay(events, *calendar_, procedure));
    if (with_events) {
      std::sort(events.begin(), events.end(), ReplayOrderLess);
      view.events = std::move(events);
    }
    return absl::OkStatus();
  }));
  view.timeliness = TimelinessAt(view.state, view.as_of, false);
  view.portal_timeliness = TimelinessAt(view.state, view.as_of, true);
  return view;
}

absl::StatusOr<DossierPage> Filings::List(const DossierListRequest& r) {
  PSTRACK_ASSIGN_OR_RETURN(KeysetPager pager, KeysetPager::Make(r.page_size, ListFingerprint(r)));
  for (const auto& [from, until, field] : {std::tuple(r.received_from, r.received_until, "received"),
                                           std::tuple(r.finished_from, r.finished_until, "finished")}) {
    if (from && until && *until <= *from) {
      return InvalidField(absl::StrCat(field, ".end"), "must be after start");
    }
  }
  DossierQuery q;
  PSTRACK_ASSIGN_OR_RETURN(q.after_code, pager.After(r.page_token));
  const absl::Time as_of = r.as_of.value_or(absl::Now());
  q.procedure_code = r.procedure_code;
  q.status = static_cast<int>(r.status);
  q.channel = static_cast<int>(r.channel);
  q.received_from = r.received_from;
  q.received_until = r.received_until;
  q.finished_from = r.finished_from;
  q.finished_until = r.finished_until;
  if (r.overdue_only) q.overdue_at_us = absl::ToUnixMicros(as_of);
  if (r.due_within_working_days != 0) {
    if (r.overdue_only) return InvalidField("due_within_working_days", "not with overdue_only");
    if (r.due_within_working_days < 0 || r.due_within_working_days > 60) {
      return InvalidField("due_within_working_days", "must be 1..60 working days");
    }
    // Due before the day after the n-th working day ends.
    const Date last = calendar_->AddWorkingDays(LocalDay(as_of), r.due_within_working_days);
    q.due_between_us = {absl::ToUnixMicros(as_of), absl::ToUnixMicros(StartOfDay(last + 1))};
  }
  q.limit = pager.fetch_limit();
  DossierPage page;
  PSTRACK_RETURN_IF_ERROR(store_.Read([&](FilingReader& tx) -> absl::Status {
    if (!r.agency_code.empty()) {
      PSTRACK_ASSIGN_OR_RETURN(Agency agency, RequireAgency(tx, r.agency_code, "agency_code"));
      q.agency_path = agency.path;
    }
    PSTRACK_ASSIGN_OR_RETURN(std::vector<DossierRow> rows, tx.ListDossiers(q));
    page.next_page_token = pager.Trim(rows, [](const DossierRow& row) { return row.code; });
    std::vector<std::string> codes;
    for (const auto& row : rows) codes.push_back(row.code);
    PSTRACK_ASSIGN_OR_RETURN(auto stored, tx.LoadDossierEvents(codes));
    PSTRACK_ASSIGN_OR_RETURN(auto by_dossier, DecodeByDossier(stored));
    Lookups lookups(tx);
    for (const auto& row : rows) {
      std::vector<FilingEvent>& events = by_dossier[row.code];
      if (events.empty()) return absl::DataLossError(absl::StrCat("dossier '", row.code, "' has no stored events"));
      PSTRACK_ASSIGN_OR_RETURN(const Procedure* procedure, ProcedureOf(events, lookups));
      DossierView view;
      PSTRACK_ASSIGN_OR_RETURN(view.state, Replay(events, *calendar_, procedure));
      view.as_of = as_of;
      view.timeliness = TimelinessAt(view.state, as_of, false);
      view.portal_timeliness = TimelinessAt(view.state, as_of, true);
      if (r.overdue_only && view.timeliness != Timeliness::kOverdue) continue;
      if (r.due_within_working_days != 0 && view.timeliness == Timeliness::kOverdue) continue;
      page.dossiers.push_back(std::move(view));
    }
    return absl::OkStatus();
  }));
  return page;
}

}  // namespace pstrack
