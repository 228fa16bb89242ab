#include "services/reports/reports.h"

#include <algorithm>
#include <map>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/agencies/agency_registry.h"
#include "services/common/page_token.h"
#include "services/common/status.h"
#include "services/figures/aggregation.h"

namespace pstrack {
namespace {


std::string Describe(const PeriodicReport& r) {
  return absl::StrCat("agency ", r.agency_code, r.subject().empty() ? "" : ", ", r.subject(), ", ", r.period_label);
}

// The agencies of a resolved scope, by code (for names and levels).
absl::StatusOr<absl::flat_hash_map<std::string, Agency>> AgenciesOf(ReportsReader& tx,
                                                                     const Metrics::ResolvedScope& scope) {
  absl::flat_hash_map<std::string, Agency> out;
  for (const std::string& path : scope.paths) {
    AgencyQuery q;
    q.root_path = path;
    q.limit = 100000000;
    PSTRACK_ASSIGN_OR_RETURN(std::vector<Agency> agencies, tx.ListAgencies(q));
    for (Agency& a : agencies) out.emplace(a.code, std::move(a));
  }
  return out;
}

// The whole tree (no parent): feed-log rows of unknown agency codes count too.
std::vector<std::string> FilterPaths(const Metrics::ResolvedScope& scope) {
  if (scope.root.parent_code.empty()) return {};
  return scope.paths;
}

}  // namespace

const std::array<const char*, kComparedCount>& ComparedNames() {
  static const std::array<const char*, kComparedCount> kNames = {
      "received",        "received_online",  "received_in_person", "received_postal",
      "finished",        "finished_early",   "finished_on_time",   "finished_late"};
  return kNames;
}

Reports::Reports(ReportsStore store, Metrics& metrics, std::shared_ptr<const WorkingCalendar> calendar, ChangeFeed* changes)
    : store_(store), metrics_(metrics), calendar_(std::move(calendar)), changes_(changes) {}

absl::Status Reports::SubmitOne(ReportsWriter& tx, PeriodicReport& r, size_t index, WriteOutcome* outcome) {
  auto f = [&](absl::string_view name) { return absl::StrCat("reports[", index, "].", name); };
  PSTRACK_RETURN_IF_ERROR(tx.LockKeys({absl::StrCat("report:", r.report_id)}));
  PSTRACK_ASSIGN_OR_RETURN(std::optional<Agency> agency, tx.FindAgency(r.agency_code));
  if (!agency) {
    return FieldError(absl::StatusCode::kNotFound, f("agency_code"),
                      absl::StrCat("agency '", r.agency_code, "' does not exist"));
  }
  if (!r.procedure_code.empty()) {
    PSTRACK_ASSIGN_OR_RETURN(std::optional<Procedure> p, tx.FindProcedure(r.procedure_code));
    if (!p) {
      return FieldError(absl::StatusCode::kNotFound, f("procedure_code"),
                        absl::StrCat("procedure '", r.procedure_code, "' does not exist"));
    }
  }
  if (!r.field.empty()) {
    ProcedureQuery q;
    q.field = r.field;
    q.limit = 1;
    PSTRACK_ASSIGN_OR_RETURN(std::vector<Procedure> in_field, tx.ListProcedures(q));
    if (in_field.empty()) {
      return FieldError(absl::StatusCode::kNotFound, f("field"),
                        absl::StrCat("no procedure of the catalog is in field '", r.field, "'"));
    }
  }
  PSTRACK_ASSIGN_OR_RETURN(std::vector<PeriodicReport> history, tx.FindReport(r.report_id));
  if (!history.empty()) {
    const PeriodicReport& current = history.front();
    if (SameContent(current, r)) {
      *outcome = WriteOutcome::kUnchanged;
      return absl::OkStatus();
    }
    if (current.agency_code != r.agency_code || current.subject() != r.subject() || current.start != r.start ||
        current.end != r.end) {
      return FieldError(absl::StatusCode::kFailedPrecondition, f("report_id"),
                        absl::StrCat("report '", r.report_id, "' is for ", Describe(current),
                                     "; a correction keeps its agency, subject and period (use a new report_id for "
                                     "other figures)"));
    }
  }
  PSTRACK_ASSIGN_OR_RETURN(std::optional<PeriodicReport> slot, tx.FindReportAt(r));
  if (slot && slot->report_id != r.report_id) {
    return FieldError(absl::StatusCode::kFailedPrecondition, f("period"),
                      absl::StrCat("report '", slot->report_id, "' already covers ", Describe(r),
                                   "; periods of one agency, subject and granularity must not overlap (to correct "
                                   "it, send report_id '", slot->report_id, "' again)"));
  }
  r.revision = history.empty() ? 1 : history.front().revision + 1;
  r.current = true;
  PSTRACK_RETURN_IF_ERROR(tx.InsertReportRevision(r));
  *outcome = WriteOutcome::kApplied;
  return absl::OkStatus();
}

std::vector<ItemOutcome> Reports::Submit(std::vector<PeriodicReport> reports, const std::string& recorded_by) {
  std::vector<ItemOutcome> out(reports.size());
  std::vector<bool> valid(reports.size(), false);
  for (size_t i = 0; i < reports.size(); ++i) {
    out[i].index = static_cast<int>(i);
    out[i].key = reports[i].report_id;
    out[i].status = ValidateReport(reports[i], absl::StrCat("reports[", i, "]"));
    valid[i] = out[i].status.ok();
  }
  const int64_t now_us = absl::ToUnixMicros(NowForStorage());
  absl::Status batch = store_.Write([&](ReportsWriter& tx) -> absl::Status {
    for (size_t i = 0; i < reports.size(); ++i) {
      if (!valid[i]) continue;
      reports[i].recorded_us = now_us;
      reports[i].recorded_by = recorded_by;
      WriteOutcome outcome = WriteOutcome::kRejected;
      absl::Status s = tx.Atomically([&] { return SubmitOne(tx, reports[i], i, &outcome); });
      if (IsDatabaseFailure(s)) return s;
      out[i].status = s;
      out[i].outcome = s.ok() ? outcome : WriteOutcome::kRejected;
    }
    return absl::OkStatus();
  });
  if (!batch.ok()) {
    RejectAll(out, batch);
    return out;
  }
  // Indicators of report-fed agencies changed: wake WatchIndicators.
  if (changes_ && CountOutcomes(out).applied > 0) changes_->Bump();
  return out;
}

absl::StatusOr<std::vector<PeriodicReport>> Reports::Get(const std::string& report_id) {
  if (report_id.empty()) return MissingField("report_id");
  std::vector<PeriodicReport> history;
  PSTRACK_RETURN_IF_ERROR(store_.Read([&](ReportsReader& tx) -> absl::Status {
    PSTRACK_ASSIGN_OR_RETURN(history, tx.FindReport(report_id));
    return absl::OkStatus();
  }));
  if (history.empty()) {
    return FieldError(absl::StatusCode::kNotFound, "report_id", absl::StrCat("report '", report_id, "' does not exist"));
  }
  return history;
}

absl::StatusOr<ReportPage> Reports::List(const std::string& agency_code, std::optional<Period> period, int page_size,
                                         const std::string& page_token) {
  if (page_size < 0) return InvalidField("page_size", "must not be negative");
  ReportQuery q;
  q.limit = page_size == 0 ? 100 : std::min(page_size, 1000);
  if (period) {
    PSTRACK_RETURN_IF_ERROR(ValidatePeriod(*period, "period"));
    q.from = period->start;
    q.until = period->end;
  }
  const std::string fingerprint = FilterFingerprint(
      absl::StrCat("reports|", agency_code, "|", period ? FormatDate(period->start) + FormatDate(period->end) : ""));
  if (!page_token.empty()) {
    PSTRACK_ASSIGN_OR_RETURN(q.after_id, DecodePageToken(page_token, fingerprint));
  }
  ReportPage page;
  PSTRACK_RETURN_IF_ERROR(store_.Read([&](ReportsReader& tx) -> absl::Status {
    if (!agency_code.empty()) {
      PSTRACK_ASSIGN_OR_RETURN(Agency root, RequireAgency(tx, agency_code, "agency_code"));
      if (!root.parent_code.empty()) q.paths = {root.path};
    }
    PSTRACK_ASSIGN_OR_RETURN(page.reports, tx.ListReports(q));
    return absl::OkStatus();
  }));
  if (static_cast<int>(page.reports.size()) == q.limit) {
    page.next_page_token = EncodePageToken(fingerprint, page.reports.back().report_id);
  }
  return page;
}

absl::StatusOr<Reconciliation> Reports::Reconcile(const ScopeRequest& scope, const Period& period) {
  PSTRACK_RETURN_IF_ERROR(ValidatePeriod(period, "period"));
  Reconciliation result;
  PSTRACK_RETURN_IF_ERROR(store_.Read([&](ReportsReader& tx) -> absl::Status {
    PSTRACK_ASSIGN_OR_RETURN(Metrics::ResolvedScope resolved, metrics_.ResolveScope(tx, scope, "scope.agency_code"));
    PSTRACK_ASSIGN_OR_RETURN(std::vector<ReportUse> uses,
                             SelectReports(tx, resolved.paths, period.start, period.end));
    for (ReportUse& u : uses) {
      if (u.role == ReportRole::kNotContained) continue;
      const PeriodicReport& r = u.report;
      ReconcileRow row;
      PSTRACK_ASSIGN_OR_RETURN(std::optional<Agency> agency, tx.FindAgency(r.agency_code));
      if (agency) row.agency_name = agency->name;
      const Counts& receipt = u.events_receipt;
      const Counts& finish = u.events_finish;
      auto set = [&](Compared c, std::optional<int64_t> reported, std::optional<int64_t> events) {
        const int i = static_cast<int>(c);
        row.reported[i] = reported.value_or(0);
        row.events[i] = events.value_or(0);
        row.compared[i] = reported.has_value() && events.has_value();
        row.missing[i] = row.compared[i] ? row.reported[i] - row.events[i] : 0;
        if (row.missing[i] != 0) row.balanced = false;
      };
      auto channel = [&](const char* name) -> std::optional<int64_t> {
        if (!u.by_channel) return std::nullopt;
        auto it = u.events_by_channel.find(name);
        return it == u.events_by_channel.end() ? 0 : it->second;
      };
      set(Compared::kReceived, r.get(Figure::kReceived), pstrack::Get(receipt, Counter::kReceived));
      set(Compared::kOnline, r.get(Figure::kReceivedOnline), pstrack::Get(receipt, Counter::kReceivedOnline));
      set(Compared::kInPerson, r.get(Figure::kReceivedInPerson), channel("in_person"));
      set(Compared::kPostal, r.get(Figure::kReceivedPostal), channel("postal"));
      set(Compared::kFinished, r.get(Figure::kFinished), pstrack::Get(finish, Counter::kFinished));
      set(Compared::kEarly, r.get(Figure::kFinishedEarly), pstrack::Get(finish, Counter::kEarly));
      set(Compared::kOnTime, r.get(Figure::kFinishedOnTime), pstrack::Get(finish, Counter::kOnTime));
      set(Compared::kLate, r.get(Figure::kFinishedLate), pstrack::Get(finish, Counter::kLate));
      const int64_t synced = row.events[static_cast<int>(Compared::kReceived)];
      row.completeness = IndicatorValue::Ratio(
          "sync_completeness", static_cast<double>(synced),
          static_cast<double>(std::max(synced, row.reported[static_cast<int>(Compared::kReceived)])), "events");
      row.completeness.sources.push_back("reports");
      row.use = std::move(u);
      result.rows.push_back(std::move(row));
    }
    return absl::OkStatus();
  }));
  PSTRACK_ASSIGN_OR_RETURN(IndicatorSetResult sync, metrics_.Indicators(scope, period, {"sync_completeness"}, std::nullopt));
  result.sync_completeness = sync.values.front();
  return result;
}

absl::StatusOr<std::vector<SilentAgency>> Reports::Silent(const ScopeRequest& scope, int working_days,
                                                          std::optional<absl::Time> as_of) {
  if (working_days < 0) return InvalidField("silent_working_days", "must not be negative");
  if (working_days == 0) working_days = 3;
  if (working_days > 366) return InvalidField("silent_working_days", "must be at most 366");
  const absl::Time at = as_of.value_or(absl::Now());
  const Date today = LocalDay(at);
  std::vector<SilentAgency> out;
  PSTRACK_RETURN_IF_ERROR(store_.Read([&](ReportsReader& tx) -> absl::Status {
    PSTRACK_ASSIGN_OR_RETURN(Metrics::ResolvedScope resolved, metrics_.ResolveScope(tx, scope, "scope.agency_code"));
    PSTRACK_ASSIGN_OR_RETURN(std::vector<FeedLast> feeds, tx.ListFeedLast(resolved.paths));
    PSTRACK_ASSIGN_OR_RETURN(auto agencies, AgenciesOf(tx, resolved));
    for (const FeedLast& f : feeds) {
      auto it = agencies.find(f.agency_code);
      // Agencies no longer in force (merged away) send nothing by design.
      if (it == agencies.end() || !it->second.InForceOn(today)) continue;
      const absl::Time last = absl::FromUnixMicros(f.last_us);
      if (last > at) continue;
      const int silent = calendar_->WorkingDaysBetween(LocalDay(last) + 1, today);
      if (silent < working_days) continue;
      out.push_back(SilentAgency{f.agency_code, it->second.name, f.last_us, silent});
    }
    return absl::OkStatus();
  }));
  std::sort(out.begin(), out.end(), [](const SilentAgency& a, const SilentAgency& b) {
    if (a.last_event_us != b.last_event_us) return a.last_event_us < b.last_event_us;
    return a.agency_code < b.agency_code;
  });
  return out;
}

namespace {

// The instant before which an open dossier has been overdue for at least
// `far` working days at `at`: overdue since a day at or before the far-th
// working day before today.
int64_t FarOverdueSince(const WorkingCalendar& calendar, absl::Time at, int far) {
  Date threshold = LocalDay(at);
  for (int n = 0; n < far;) {
    threshold = threshold - 1;
    if (calendar.IsWorkingDay(threshold)) ++n;
  }
  return absl::ToUnixMicros(StartOfDay(threshold + 1)) - 1;
}

using QualityRows = std::map<std::string, DataQualityRow>;

// Accepted, late and rejected events (by reason) from the feed log.
absl::Status AddFeedLog(ReportsReader& tx, const FeedLogQuery& query, QualityRows& rows) {
  PSTRACK_ASSIGN_OR_RETURN(std::vector<FeedLogRow> log, tx.SumFeedLog(query));
  std::map<std::string, std::map<std::string, int64_t>> reasons;
  for (const FeedLogRow& f : log) {
    DataQualityRow& row = rows[f.agency_code];
    if (f.metric == "accepted") {
      row.accepted += f.count;
      row.last_event_us = std::max(row.last_event_us, f.last_us);
    } else if (f.metric == "late") {
      row.late += f.count;
    } else if (absl::StartsWith(f.metric, "rejected:")) {
      row.rejected += f.count;
      reasons[f.agency_code][f.metric.substr(9)] += f.count;
    }
  }
  for (auto& [code, by_reason] : reasons) {
    auto& list = rows[code].rejected_by_reason;
    list.assign(by_reason.begin(), by_reason.end());
    std::stable_sort(list.begin(), list.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  }
  return absl::OkStatus();
}

// Receipts, appointment and code-date mismatches, and set-aside events
// from the agencies' own nodes.
absl::Status AddReceipts(ReportsReader& tx, const absl::flat_hash_map<std::string, Agency>& agencies,
                         const Period& period, QualityRows& rows) {
  std::vector<std::string> nodes;
  for (const auto& [code, a] : agencies) nodes.push_back(OwnNode(code));
  std::sort(nodes.begin(), nodes.end());
  AggregateQuery q{nodes, Basis::kReceipt, AggregateDim::kTotal, FormatDate(period.start), FormatDate(period.end)};
  q.by_node = true;
  q.only = {Counter::kReceived, Counter::kAppointmentMismatch, Counter::kCodeDateMismatch};
  PSTRACK_ASSIGN_OR_RETURN(auto sums, tx.SumAggregates(q));
  for (const auto& s : sums) {
    const std::string code = s.key.node_code.substr(1);
    const int64_t received = pstrack::Get(s.counts, Counter::kReceived);
    const int64_t mismatches = pstrack::Get(s.counts, Counter::kAppointmentMismatch);
    const int64_t code_dates = pstrack::Get(s.counts, Counter::kCodeDateMismatch);
    if (received == 0 && mismatches == 0 && code_dates == 0) continue;
    DataQualityRow& row = rows[code];
    row.received += received;
    row.mismatches += mismatches;
    row.code_date_mismatches += code_dates;
  }
  q.basis = Basis::kEvent;
  q.only = {Counter::kSetAside};
  PSTRACK_ASSIGN_OR_RETURN(sums, tx.SumAggregates(q));
  for (const auto& s : sums) {
    const int64_t set_aside = pstrack::Get(s.counts, Counter::kSetAside);
    if (set_aside != 0) rows[s.key.node_code.substr(1)].set_aside += set_aside;
  }
  return absl::OkStatus();
}

// Open dossiers overdue since at or before `since_us`.
absl::Status AddFarOverdue(ReportsReader& tx, const std::vector<std::string>& paths, int64_t since_us,
                           QualityRows& rows) {
  PSTRACK_ASSIGN_OR_RETURN(std::vector<OverdueByAgency> overdue, tx.CountOverdueSince(paths, since_us));
  for (const OverdueByAgency& o : overdue) {
    DataQualityRow& row = rows[o.agency_code];
    row.far_overdue += o.count;
    row.oldest_overdue_us =
        row.oldest_overdue_us == 0 ? o.oldest_overdue_us : std::min(row.oldest_overdue_us, o.oldest_overdue_us);
  }
  return absl::OkStatus();
}

// The scope's total row: sums, the oldest overdue, the latest event and
// the rejections by reason, most first.
DataQualityRow TotalOf(const std::vector<DataQualityRow>& all) {
  DataQualityRow t;
  std::map<std::string, int64_t> reasons;
  for (const DataQualityRow& row : all) {
    t.accepted += row.accepted;
    t.rejected += row.rejected;
    t.late += row.late;
    t.mismatches += row.mismatches;
    t.set_aside += row.set_aside;
    t.code_date_mismatches += row.code_date_mismatches;
    t.received += row.received;
    t.far_overdue += row.far_overdue;
    if (row.oldest_overdue_us && (!t.oldest_overdue_us || row.oldest_overdue_us < t.oldest_overdue_us)) {
      t.oldest_overdue_us = row.oldest_overdue_us;
    }
    t.last_event_us = std::max(t.last_event_us, row.last_event_us);
    for (const auto& [reason, n] : row.rejected_by_reason) reasons[reason] += n;
  }
  t.rejected_by_reason.assign(reasons.begin(), reasons.end());
  std::stable_sort(t.rejected_by_reason.begin(), t.rejected_by_reason.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  return t;
}

// Counts: highest first unless ascending; ties by agency code A-Z. The code
// sort: A-Z (it is its natural order; `ascending` does not apply).
void SortQualityRows(std::vector<DataQualityRow>& all, QualitySort sort, bool ascending) {
  auto key = [&](const DataQualityRow& r) -> int64_t {
    switch (sort) {
      case QualitySort::kIssues: return r.issues();
      case QualitySort::kRejected: return r.rejected;
      case QualitySort::kLateEvents: return r.late;
      case QualitySort::kMismatches: return r.mismatches;
      case QualitySort::kFarOverdue: return r.far_overdue;
      case QualitySort::kSetAside: return r.set_aside;
      case QualitySort::kAgencyCode: return 0;
    }
    return 0;
  };
  std::stable_sort(all.begin(), all.end(), [&](const DataQualityRow& a, const DataQualityRow& b) {
    if (sort != QualitySort::kAgencyCode && key(a) != key(b)) return ascending ? key(a) < key(b) : key(a) > key(b);
    return a.agency_code < b.agency_code;
  });
}

}  // namespace

absl::StatusOr<DataQualityPage> Reports::Quality(const DataQualityRequest& request) {
  PSTRACK_RETURN_IF_ERROR(ValidatePeriod(request.period, "period"));
  if (request.far_overdue_working_days < 0) return InvalidField("far_overdue_working_days", "must not be negative");
  if (request.far_overdue_working_days > 3660) return InvalidField("far_overdue_working_days", "must be at most 3660");
  if (request.page_size < 0) return InvalidField("page_size", "must not be negative");
  const int far = request.far_overdue_working_days == 0 ? 10 : request.far_overdue_working_days;
  const int page_size = request.page_size == 0 ? 100 : std::min(request.page_size, 1000);
  const absl::Time at = request.as_of.value_or(absl::Now());
  const int64_t overdue_since_us = FarOverdueSince(*calendar_, at, far);

  const std::string fingerprint = FilterFingerprint(
      absl::StrCat("quality|", request.scope.agency_code, "|", static_cast<int>(request.scope.view), "|",
                   FormatDate(request.period.start), FormatDate(request.period.end), "|",
                   static_cast<int>(request.sort), request.ascending ? 1 : 0, "|", far, "|",
                   request.as_of ? absl::ToUnixMicros(*request.as_of) : 0));
  size_t offset = 0;
  if (!request.page_token.empty()) {
    PSTRACK_ASSIGN_OR_RETURN(std::string last, DecodePageToken(request.page_token, fingerprint));
    if (!absl::SimpleAtoi(last, &offset)) return InvalidField("page_token", "is not a token of this listing");
  }

  QualityRows rows;
  PSTRACK_RETURN_IF_ERROR(store_.Read([&](ReportsReader& tx) -> absl::Status {
    PSTRACK_ASSIGN_OR_RETURN(Metrics::ResolvedScope resolved,
                             metrics_.ResolveScope(tx, request.scope, "scope.agency_code"));
    PSTRACK_ASSIGN_OR_RETURN(auto agencies, AgenciesOf(tx, resolved));
    PSTRACK_RETURN_IF_ERROR(AddFeedLog(
        tx, FeedLogQuery{FilterPaths(resolved), FormatDate(request.period.start), FormatDate(request.period.end)},
        rows));
    PSTRACK_RETURN_IF_ERROR(AddReceipts(tx, agencies, request.period, rows));
    PSTRACK_RETURN_IF_ERROR(AddFarOverdue(tx, resolved.paths, overdue_since_us, rows));
    for (auto& [code, row] : rows) {
      row.agency_code = code;
      if (auto it = agencies.find(code); it != agencies.end()) row.agency_name = it->second.name;
    }
    return absl::OkStatus();
  }));

  std::vector<DataQualityRow> all;
  all.reserve(rows.size());
  for (auto& [code, row] : rows) all.push_back(std::move(row));
  DataQualityPage page;
  page.total = TotalOf(all);
  SortQualityRows(all, request.sort, request.ascending);
  for (size_t i = offset; i < all.size() && page.rows.size() < static_cast<size_t>(page_size); ++i) {
    page.rows.push_back(all[i]);
  }
  if (offset + page.rows.size() < all.size()) {
    page.next_page_token = EncodePageToken(fingerprint, absl::StrCat(offset + page.rows.size()));
  }
  return page;
}

}  // namespace pstrack
