#include "services/metrics/metrics.h"

#include "services/common/call_limits.h"
#include "services/common/checked_math.h"
#include "services/common/log.h"

#include <algorithm>
#include <filesystem>
#include <cmath>
#include <set>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "services/agencies/agency_registry.h"
#include "services/common/status.h"
#include "services/lifecycle/event.h"
#include "services/lifecycle/lifecycle.h"
#include "services/metrics/aggregate_runs.h"
#include "services/figures/aggregation.h"

namespace pstrack {
namespace {


// The agencies a breakdown or a ranking lists: in today's tree those in force
// today; as filed, those in force at some time during the period.
bool Listed(const Agency& a, TreeView view, const Period& period) {
  if (view == TreeView::kCurrent) return a.InForceOn(Today());
  return (!a.valid_from || *a.valid_from < period.end) && (!a.valid_until || *a.valid_until > period.start);
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ResolveIndicatorIds(const std::vector<std::string>& ids,
                                                             absl::string_view field) {
  if (ids.empty()) return BuiltinIndicatorIds();
  for (const auto& id : ids) {
    if (!FindIndicator(id)) {
      return InvalidField(field, absl::StrCat("'", id, "' is not an indicator; ListIndicators gives the ids (e.g. "
                                                       "on_time_rate, online_submission_rate)"));
    }
  }
  return ids;
}

Metrics::Metrics(MetricsStore store, std::shared_ptr<const WorkingCalendar> calendar,
                 std::shared_ptr<const MethodologyRegistry> methodologies)
    : store_(store), calendar_(std::move(calendar)), methodologies_(std::move(methodologies)) {}

std::shared_ptr<const MethodologyRegistry> Metrics::methodologies() const {
  absl::MutexLock lock(&methodologies_mu_);
  return methodologies_;
}

void Metrics::SetMethodologies(std::shared_ptr<const MethodologyRegistry> registry) {
  absl::MutexLock lock(&methodologies_mu_);
  methodologies_ = std::move(registry);
}

absl::StatusOr<Metrics::ResolvedScope> Metrics::Resolve(CatalogReader& tx, const Agency& root, TreeView view) {
  ResolvedScope scope;
  scope.root = root;
  scope.nodes = {root.code};
  scope.paths = {root.path};
  scope.rolled_up = HasRollups(root.path);
  if (view == TreeView::kAsFiled) return scope;
  // Today's tree: former agencies outside the subtree whose successor (as of
  // today) lies inside it count under it. The agencies come from the
  // in-memory reference copy.
  PSTRACK_ASSIGN_OR_RETURN(std::shared_ptr<const ReferenceSnapshot> reference, reference_.Get(tx));
  const std::vector<const Agency*>& ended_agencies = reference->ended;
  const absl::flat_hash_map<std::string, const Agency*>& all_by_code = reference->by_code;
  const Date today = Today();
  std::vector<const Agency*> candidates;
  for (const Agency* ended : ended_agencies) {
    const Agency& a = *ended;
    if (InSubtree(a.path, root.path)) continue;
    std::string code = a.successor_code;
    const Agency* final_agency = nullptr;
    for (int hops = 0; !code.empty() && hops < 64; ++hops) {
      auto it = all_by_code.find(code);
      if (it != all_by_code.end() && it->second->valid_until && !it->second->InForceOn(today)) {
        code = it->second->successor_code;
        continue;
      }
      auto found = all_by_code.find(code);
      if (found != all_by_code.end()) final_agency = found->second;
      break;
    }
    if (final_agency && InSubtree(final_agency->path, root.path)) candidates.push_back(&a);
  }
  for (const Agency* a : candidates) {
    bool covered = false;
    for (const Agency* b : candidates) {
      if (a != b && InSubtree(a->path, b->path)) covered = true;
    }
    if (covered) continue;
    scope.nodes.push_back(a->code);
    scope.paths.push_back(a->path);
    scope.rolled_up = scope.rolled_up && HasRollups(a->path);
  }
  return scope;
}

absl::StatusOr<Metrics::ResolvedScope> Metrics::ResolveScope(CatalogReader& tx, const ScopeRequest& scope,
                                                             absl::string_view field) {
  PSTRACK_ASSIGN_OR_RETURN(Agency root, RequireAgency(tx, scope.agency_code, field));
  return Resolve(tx, root, scope.view);
}

namespace {

// The day whose start is `at`, if `at` is a local midnight.
std::optional<Date> MidnightDay(absl::Time at) {
  const absl::CivilSecond local = absl::ToCivilSecond(at, VietnamTimeZone());
  if (local != absl::CivilSecond(absl::CivilDay(local)) || at != absl::FromCivil(local, VietnamTimeZone())) {
    return std::nullopt;
  }
  return Date(absl::CivilDay(local));
}

// Open and overdue at a midnight from the clock-basis sums before it.
OpenCounts OpenFromClock(const Counts& c) {
  OpenCounts out;
  out.open = Get(c, Counter::kOpened) - Get(c, Counter::kClosed);
  out.overdue = Get(c, Counter::kOverdueStarted) - Get(c, Counter::kOverdueEnded);
  out.portal_overdue = Get(c, Counter::kPortalOverdueStarted) - Get(c, Counter::kPortalOverdueEnded);
  return out;
}

}  // namespace

absl::StatusOr<OpenCounts> Metrics::OpenAt(MetricsReader& tx, const ResolvedScope& scope, absl::Time at) {
  const std::optional<Date> midnight = MidnightDay(at);
  // Within a day (a live query): counted from the dossier index.
  if (!midnight) return tx.CountOpen(scope.paths, absl::ToUnixMicros(at));
  // At a midnight: the clock-basis buckets before that day hold exactly the
  // instants at or before it (ClockBucket), so open = opened - closed.
  AggregateQuery q{scope.nodes, Basis::kClock, AggregateDim::kTotal, "", FormatDate(*midnight)};
  q.rolled_up = scope.rolled_up;
  PSTRACK_ASSIGN_OR_RETURN(auto rows, tx.SumAggregates(q));
  Counts c{};
  for (const auto& row : rows) AddCounts(c, row.counts);
  return OpenFromClock(c);
}

absl::StatusOr<Metrics::Prefetched> Metrics::Prefetch(MetricsReader& tx, const std::vector<ResolvedScope>& scopes,
                                                      const Period& period, absl::Time as_of, bool with_catalog) {
  Prefetched out;
  const std::string from = FormatDate(period.start), until = FormatDate(period.end);
  const std::optional<Date> midnight = MidnightDay(as_of);
  if (midnight) out.clock.emplace();
  if (with_catalog) {
    out.positive.emplace();
    PSTRACK_ASSIGN_OR_RETURN(out.reference, reference_.Get(tx));
  }
  // Scopes whose nodes have roll-ups read them; the others read days. The
  // sums are the same either way, so a node in both lists is harmless.
  for (bool rolled_up : {true, false}) {
    std::set<std::string> node_set;
    for (const ResolvedScope& scope : scopes) {
      if (scope.rolled_up == rolled_up) node_set.insert(scope.nodes.begin(), scope.nodes.end());
    }
    if (node_set.empty()) continue;
    const std::vector<std::string> nodes(node_set.begin(), node_set.end());
    absl::flat_hash_map<std::string, int64_t> receipt_changes;
    auto sum_by_node = [&](Basis basis, const std::string& lo, const std::string& hi,
                           absl::flat_hash_map<std::string, Counts>& into) -> absl::Status {
      AggregateQuery q{nodes, basis, AggregateDim::kTotal, lo, hi};
      q.rolled_up = rolled_up;
      q.by_node = true;
      q.with_changes = with_catalog && basis == Basis::kReceipt;
      PSTRACK_ASSIGN_OR_RETURN(auto rows, tx.SumAggregates(q));
      for (const auto& row : rows) {
        AddCounts(into[row.key.node_code], row.counts);
        if (q.with_changes) receipt_changes[row.key.node_code] += row.changes;
      }
      return absl::OkStatus();
    };
    PSTRACK_RETURN_IF_ERROR(sum_by_node(Basis::kReceipt, from, until, out.receipt));
    PSTRACK_RETURN_IF_ERROR(sum_by_node(Basis::kFinish, from, until, out.finish));
    if (midnight) PSTRACK_RETURN_IF_ERROR(sum_by_node(Basis::kClock, "", FormatDate(*midnight), *out.clock));
    if (with_catalog) {
      const ReferenceSnapshot& reference = *out.reference;
      auto cache_key = [&](const std::string& node) {
        return absl::StrCat(node, "|", rolled_up ? "r" : "d", "|", from, "|", until);
      };
      // Nodes whose bits are cached at the count read now; the others are read.
      std::vector<std::string> unread;
      {
        absl::MutexLock lock(&positive_mu_);
        if (positive_version_ != reference.version) {
          positive_cache_.clear();
          positive_version_ = reference.version;
        }
        for (const std::string& node : nodes) {
          auto it = positive_cache_.find(cache_key(node));
          if (it != positive_cache_.end() && it->second.changes == receipt_changes[node]) {
            (*out.positive)[node] = it->second.bits;
          } else {
            unread.push_back(node);
          }
        }
      }
      if (unread.empty()) continue;
      AggregateQuery q{unread, Basis::kReceipt, AggregateDim::kProcedure, from, until};
      q.rolled_up = rolled_up;
      std::vector<uint8_t>* bits = nullptr;
      std::string last_node;
      size_t hint = 0;
      PSTRACK_RETURN_IF_ERROR(tx.ForEachPositiveValue(
          q, {kPresenceCounters.begin(), kPresenceCounters.end()}, /*by_node=*/true,
          [&](const std::string& node, const std::string& value, const std::vector<int>& flags) {
            // Rows come mostly a node at a time (the key leads with it).
            if (bits == nullptr || node != last_node) {
              bits = &(*out.positive)[node];
              bits->resize(reference.procedures.size());
              last_node = node;
              hint = 0;
            }
            const std::optional<size_t> i = reference.IndexOf(value, hint);
            if (i) (*bits)[*i] |= PositiveBits(flags);  // not in the catalog: never counted
          }));
      absl::MutexLock lock(&positive_mu_);
      if (positive_version_ != reference.version) continue;  // a newer snapshot has been seen
      if (positive_cache_.size() + unread.size() > kPositiveCacheEntries) positive_cache_.clear();
      for (const std::string& node : unread) {
        std::vector<uint8_t>& node_bits = (*out.positive)[node];
        node_bits.resize(reference.procedures.size());
        positive_cache_[cache_key(node)] = PositiveEntry{receipt_changes[node], node_bits};
      }
    }
  }
  return out;
}



absl::StatusOr<ScopeTotals> Metrics::Totals(MetricsReader& tx, const ResolvedScope& scope, const Period& period,
                                            absl::Time as_of, bool with_catalog, const Prefetched* prefetched) {
  ScopeTotals t;
  const std::string from = FormatDate(period.start), until = FormatDate(period.end);
  auto add_prefetched = [&](const absl::flat_hash_map<std::string, Counts>& sums, Counts& into) {
    for (const std::string& node : scope.nodes) {
      auto it = sums.find(node);
      if (it != sums.end()) AddCounts(into, it->second);
    }
  };
  if (prefetched) {
    add_prefetched(prefetched->receipt, t.receipt);
    add_prefetched(prefetched->finish, t.finish);
  } else {
    for (Basis basis : {Basis::kReceipt, Basis::kFinish}) {
      AggregateQuery q{scope.nodes, basis, AggregateDim::kTotal, from, until};
      q.rolled_up = scope.rolled_up;
      PSTRACK_ASSIGN_OR_RETURN(auto rows, tx.SumAggregates(q));
      for (const auto& row : rows) AddCounts(basis == Basis::kReceipt ? t.receipt : t.finish, row.counts);
    }
  }
  OpenCounts open;
  if (prefetched && prefetched->clock) {
    Counts clock{};
    add_prefetched(*prefetched->clock, clock);
    open = OpenFromClock(clock);
  } else {
    PSTRACK_ASSIGN_OR_RETURN(open, OpenAt(tx, scope, as_of));
  }
  t.open = open.open;
  t.open_overdue = open.overdue;
  t.open_portal_overdue = open.portal_overdue;
  t.has_instant = true;
  if (!with_catalog) return t;
  // Procedures carried out in the scope and in force on the period's last day.
  const Date day = period.end - 1;
  std::shared_ptr<const ReferenceSnapshot> reference = prefetched ? prefetched->reference : nullptr;
  if (reference == nullptr) {
    PSTRACK_ASSIGN_OR_RETURN(reference, reference_.Get(tx));
  }
  const std::shared_ptr<const ReferenceSnapshot::ScopeCatalog> catalog = reference->CatalogOf(scope.paths, day);
  // Per procedure: kPaidOnlineBit / kReceivedOnlineBit when a dossier of the
  // scope and period was paid / received online.
  const std::vector<Procedure>& procedures = reference->procedures;
  std::vector<uint8_t> merged;
  const std::vector<uint8_t>* positive = &merged;
  if (prefetched && prefetched->positive && scope.nodes.size() == 1) {
    auto it = prefetched->positive->find(scope.nodes.front());
    if (it != prefetched->positive->end()) positive = &it->second;
  } else if (prefetched && prefetched->positive) {
    merged.resize(procedures.size());
    for (const std::string& node : scope.nodes) {
      auto it = prefetched->positive->find(node);
      if (it == prefetched->positive->end()) continue;
      for (size_t i = 0; i < merged.size(); ++i) merged[i] |= it->second[i];
    }
  } else {
    merged.resize(procedures.size());
    AggregateQuery by_procedure{scope.nodes, Basis::kReceipt, AggregateDim::kProcedure, from, until};
    by_procedure.rolled_up = scope.rolled_up;
    size_t hint = 0;
    PSTRACK_RETURN_IF_ERROR(tx.ForEachPositiveValue(
        by_procedure, {kPresenceCounters.begin(), kPresenceCounters.end()}, /*by_node=*/false,
        [&](const std::string&, const std::string& value, const std::vector<int>& flags) {
          const std::optional<size_t> i = reference->IndexOf(value, hint);
          if (i) merged[*i] |= PositiveBits(flags);
        }));
  }
  CatalogTotals& c = t.catalog;
  c = catalog->totals;
  for (uint32_t i : catalog->carried) {
    const Procedure& p = procedures[i];
    const uint8_t bits = i < positive->size() ? (*positive)[i] : 0;
    c.fee_with_online_paid += p.fee_bearing && (bits & kPaidOnlineBit);
    c.online_with_online_dossier += p.OffersOnline() && (bits & kReceivedOnlineBit);
  }
  t.has_catalog = true;
  return t;
}

namespace {

// Adds the counted reports' shares to an indicator computed from events
// (report_selection.h says which count), and computes sync completeness:
// dossiers received from events over that plus what the reports of the
// agencies say is missing from them.
// `instant_day`: the day at whose start the indicators' instant lies, if it
// does (open-at-end figures of reports ending then are usable).
void AddReports(const std::vector<ReportUse>& uses, int64_t events_received, std::optional<Date> instant_day,
                IndicatorValue& v) {
  const IndicatorDefinition& d = *FindIndicator(v.id);
  if (v.id == "sync_completeness") {
    int64_t missing = 0, compared = 0;
    for (const ReportUse& u : uses) {
      if (u.role != ReportRole::kCounted && u.role != ReportRole::kEventsWin) continue;
      ++compared;
      // Both terms are non-negative counts: the difference cannot wrap.
      const int64_t beyond = u.report.value(Figure::kReceived) - Get(u.events_receipt, Counter::kReceived);
      if (!CheckedAdd(missing, std::max<int64_t>(0, beyond), &missing)) {
        v = IndicatorValue::Unavailable(v.id, "the reported figures are too large to add up");
        return;
      }
    }
    int64_t expected = 0;
    if (!CheckedAdd(events_received, missing, &expected)) {
      v = IndicatorValue::Unavailable(v.id, "the reported figures are too large to add up");
      return;
    }
    if (compared == 0) {
      v = IndicatorValue::Unavailable(v.id, "no periodic report in this scope and period to compare the synced "
                                            "dossiers with");
      return;
    }
    v = IndicatorValue::Ratio(v.id, static_cast<double>(events_received), static_cast<double>(expected), "events");
    v.sources.push_back("reports");
    v.note = absl::StrCat(compared, " reports compared; ", missing, " reported dossiers not synced");
    return;
  }
  int counted = 0, lacking = 0, shared = 0;
  double numerator = 0, denominator = 0;
  for (const ReportUse& u : uses) {
    if (u.role != ReportRole::kCounted) continue;
    ++counted;
    const ReportShare share = ShareOf(v.id, u.report, instant_day && *instant_day == u.report.end);
    if (share.kind == ReportShare::kNotDerivable) continue;
    if (share.kind == ReportShare::kLacking) {
      ++lacking;
      continue;
    }
    ++shared;
    numerator += share.numerator;
    denominator += share.denominator;
  }
  if (counted == 0 || d.period_basis == "catalog") return;
  if (shared == 0 && lacking == 0) {
    v.note = absl::StrCat("events only: reports do not carry what this indicator needs (", counted,
                          " reports of agencies without events are not in it)");
    return;
  }
  if (lacking > 0) {
    v.note = absl::StrCat(lacking, " of ", counted,
                          " counted reports lack the figures this indicator needs and are not in it");
  }
  if (shared == 0) return;
  const bool from_events = v.numerator != 0 || v.denominator != 0;
  const double n = v.numerator + numerator, den = v.denominator + denominator;
  IndicatorValue merged;
  if (d.unit == "ratio") {
    merged = IndicatorValue::Ratio(v.id, n, den, from_events ? "events" : "reports");
  } else {
    merged.id = v.id;
    merged.numerator = merged.value = n;
    merged.denominator = den;
    merged.available = true;
    merged.sources = {from_events ? "events" : "reports"};
  }
  if (from_events) merged.sources.push_back("reports");
  merged.note = v.note;
  v = std::move(merged);
}

bool NeedsCatalog(const std::vector<std::string>& ids) {
  for (const auto& id : ids) {
    if (FindIndicator(id)->period_basis == "catalog") return true;
  }
  return false;
}

absl::Time DefaultAsOf(const Period& period, std::optional<absl::Time> as_of) {
  if (as_of) return *as_of;
  return std::min(StartOfDay(period.end), absl::Now());
}

}  // namespace

absl::StatusOr<std::vector<IndicatorValue>> Metrics::Values(MetricsReader& tx, const ResolvedScope& scope,
                                                            const Period& period, const std::vector<std::string>& ids,
                                                            absl::Time as_of, std::vector<ReportUse>* parts,
                                                            const Prefetched* prefetched) {
  PSTRACK_ASSIGN_OR_RETURN(ScopeTotals totals, Totals(tx, scope, period, as_of, NeedsCatalog(ids), prefetched));
  std::vector<IndicatorValue> out;
  for (const auto& id : ids) out.push_back(ComputeIndicator(*FindIndicator(id), totals));
  PSTRACK_ASSIGN_OR_RETURN(std::vector<ReportUse> uses, SelectReports(tx, scope.paths, period.start, period.end));
  std::optional<Date> instant_day;
  if (as_of == StartOfDay(period.end)) instant_day = period.end;
  for (IndicatorValue& v : out) AddReports(uses, Get(totals.receipt, Counter::kReceived), instant_day, v);
  if (parts) *parts = std::move(uses);
  return out;
}

absl::StatusOr<IndicatorSetResult> Metrics::Indicators(const ScopeRequest& scope, const Period& period,
                                                       const std::vector<std::string>& requested,
                                                       std::optional<absl::Time> as_of) {
  PSTRACK_RETURN_IF_ERROR(ValidatePeriod(period, "period"));
  PSTRACK_ASSIGN_OR_RETURN(std::vector<std::string> ids, ResolveIndicatorIds(requested, "indicator_ids"));
  IndicatorSetResult result;
  result.period = period;
  result.as_of = DefaultAsOf(period, as_of);
  PSTRACK_RETURN_IF_ERROR(store_.Read([&](MetricsReader& tx) -> absl::Status {
    PSTRACK_ASSIGN_OR_RETURN(Agency root, RequireAgency(tx, scope.agency_code, "scope.agency_code"));
    PSTRACK_ASSIGN_OR_RETURN(ResolvedScope resolved, Resolve(tx, root, scope.view));
    PSTRACK_ASSIGN_OR_RETURN(result.values, Values(tx, resolved, period, ids, result.as_of, &result.parts));
    PSTRACK_ASSIGN_OR_RETURN(result.log, tx.GetLogState());
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<std::vector<BreakdownRow>> Metrics::Breakdown(const ScopeRequest& scope, const Period& period,
                                                             const std::vector<std::string>& requested,
                                                             Dimension dimension, std::optional<absl::Time> as_of,
                                                             LogState* log) {
  PSTRACK_RETURN_IF_ERROR(ValidatePeriod(period, "period"));
  PSTRACK_ASSIGN_OR_RETURN(std::vector<std::string> ids, ResolveIndicatorIds(requested, "indicator_ids"));
  const absl::Time instant = DefaultAsOf(period, as_of);
  std::vector<BreakdownRow> rows;
  PSTRACK_RETURN_IF_ERROR(store_.Read([&](MetricsReader& tx) -> absl::Status {
    if (log != nullptr) {
      PSTRACK_ASSIGN_OR_RETURN(*log, tx.GetLogState());
    }
    PSTRACK_ASSIGN_OR_RETURN(Agency root, RequireAgency(tx, scope.agency_code, "scope.agency_code"));
    if (dimension == Dimension::kChildAgency) {
      AgencyQuery q;
      q.root_path = root.path;
      q.max_depth = root.depth + 1;
      q.limit = 1000000;
      PSTRACK_ASSIGN_OR_RETURN(auto children, tx.ListAgencies(q));
      std::vector<const Agency*> listed;
      std::vector<ResolvedScope> scopes;
      for (const Agency& child : children) {
        if (child.code == root.code || !Listed(child, scope.view, period)) continue;
        PSTRACK_ASSIGN_OR_RETURN(ResolvedScope resolved, Resolve(tx, child, scope.view));
        listed.push_back(&child);
        scopes.push_back(std::move(resolved));
      }
      PSTRACK_ASSIGN_OR_RETURN(Prefetched prefetched, Prefetch(tx, scopes, period, instant, NeedsCatalog(ids)));
      for (size_t i = 0; i < listed.size(); ++i) {
        BreakdownRow row{listed[i]->code, listed[i]->name, {}};
        PSTRACK_ASSIGN_OR_RETURN(row.values, Values(tx, scopes[i], period, ids, instant, nullptr, &prefetched));
        rows.push_back(std::move(row));
      }
      return absl::OkStatus();
    }
    PSTRACK_ASSIGN_OR_RETURN(ResolvedScope resolved, Resolve(tx, root, scope.view));
    const AggregateDim dim = dimension == Dimension::kField     ? AggregateDim::kField
                             : dimension == Dimension::kChannel ? AggregateDim::kChannel
                                                                : AggregateDim::kProcedure;
    std::map<std::string, ScopeTotals> per_value;
    for (Basis basis : {Basis::kReceipt, Basis::kFinish}) {
      AggregateQuery q{resolved.nodes, basis, dim, FormatDate(period.start), FormatDate(period.end)};
      q.rolled_up = resolved.rolled_up;
      q.by_dim_value = true;
      PSTRACK_ASSIGN_OR_RETURN(auto sums, tx.SumAggregates(q));
      for (const auto& s : sums) {
        AddCounts(basis == Basis::kReceipt ? per_value[s.key.dim_value].receipt : per_value[s.key.dim_value].finish,
                  s.counts);
      }
    }
    for (const auto& [value, totals] : per_value) {
      BreakdownRow row{value, value, {}};
      for (const auto& id : ids) row.values.push_back(ComputeIndicator(*FindIndicator(id), totals));
      rows.push_back(std::move(row));
    }
    return absl::OkStatus();
  }));
  return rows;
}

absl::StatusOr<std::vector<SeriesPoint>> Metrics::TimeSeries(const ScopeRequest& scope, const Period& period,
                                                             const std::vector<std::string>& requested,
                                                             Granularity granularity, LogState* log) {
  PSTRACK_RETURN_IF_ERROR(ValidatePeriod(period, "period"));
  PSTRACK_ASSIGN_OR_RETURN(std::vector<std::string> ids, ResolveIndicatorIds(requested, "indicator_ids"));
  // The points: calendar days, months, quarters or years overlapping the period, cut to it.
  std::vector<Period> points;
  for (Date d = period.start; d < period.end;) {
    Date next;
    switch (granularity) {
      case Granularity::kDay: next = d + 1; break;
      case Granularity::kMonth: next = Date(absl::CivilMonth(d) + 1); break;
      case Granularity::kQuarter: {
        absl::CivilMonth m(d);
        next = Date(absl::CivilMonth(m.year(), ((m.month() - 1) / 3) * 3 + 1) + 3);
        break;
      }
      case Granularity::kYear: next = Date(absl::CivilYear(d) + 1); break;
    }
    points.push_back(Period{d, std::min(next, period.end)});
    d = next;
    if (points.size() > 1000) return InvalidField("granularity", "gives more than 1000 points for this period");
  }
  std::vector<SeriesPoint> out;
  PSTRACK_RETURN_IF_ERROR(store_.Read([&](MetricsReader& tx) -> absl::Status {
    if (log != nullptr) {
      PSTRACK_ASSIGN_OR_RETURN(*log, tx.GetLogState());
    }
    PSTRACK_ASSIGN_OR_RETURN(Agency root, RequireAgency(tx, scope.agency_code, "scope.agency_code"));
    PSTRACK_ASSIGN_OR_RETURN(ResolvedScope resolved, Resolve(tx, root, scope.view));
    for (const Period& p : points) {
      SeriesPoint point{p, {}};
      PSTRACK_ASSIGN_OR_RETURN(point.values, Values(tx, resolved, p, ids, DefaultAsOf(p, std::nullopt)));
      out.push_back(std::move(point));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<IndexScore> Metrics::ScoreIn(MetricsReader& tx, const ResolvedScope& scope, const Period& period,
                                            const Methodology& methodology, const Prefetched* prefetched) {
  std::map<std::string, IndicatorValue> values;
  std::vector<std::string> builtin = methodology.BuiltinInputs();
  std::sort(builtin.begin(), builtin.end());
  builtin.erase(std::unique(builtin.begin(), builtin.end()), builtin.end());
  PSTRACK_ASSIGN_OR_RETURN(auto computed, Values(tx, scope, period, builtin, DefaultAsOf(period, std::nullopt),
                                                 /*parts=*/nullptr, prefetched));
  for (auto& v : computed) values["builtin:" + v.id] = v;
  // Every external input of the agency in one query (a ranking scores many).
  PSTRACK_ASSIGN_OR_RETURN(auto inputs, tx.ListExternalInputs(scope.root.code, ""));
  for (const std::string& id : methodology.ExternalInputs()) {
    // The input for exactly this period, else the narrowest one covering it
    // (the latest recorded on ties).
    const ExternalInputRow* best = nullptr;
    for (const auto& in : inputs) {
      if (in.indicator_id != id || in.start > period.start || in.end < period.end) continue;
      if (!best || (in.end - in.start) < (best->end - best->start) ||
          ((in.end - in.start) == (best->end - best->start) && in.recorded_us > best->recorded_us)) {
        best = &in;
      }
    }
    IndicatorValue v;
    if (!best) {
      v = IndicatorValue::Unavailable(id, "no external input submitted for this agency and period");
    } else if (best->denominator > 0) {
      v = IndicatorValue::Ratio(id, best->numerator, best->denominator, "external:" + best->source);
    } else {
      v.id = id;
      v.value = best->value;
      v.available = true;
      v.sources = {"external:" + best->source};
    }
    values["external:" + id] = v;
  }
  return pstrack::Score(methodology, values);
}

absl::StatusOr<ScoredIndex> Metrics::Score(const ScopeRequest& scope, const Period& period,
                                           const std::string& methodology_id) {
  PSTRACK_RETURN_IF_ERROR(ValidatePeriod(period, "period"));
  std::shared_ptr<const MethodologyRegistry> registry = methodologies();
  if (!registry) return absl::FailedPreconditionError("methodology_id: no methodologies are loaded");
  PSTRACK_ASSIGN_OR_RETURN(const Methodology* methodology, registry->Find(methodology_id));
  ScoredIndex result;
  // Keep the registry (and so the methodology) alive as long as the result.
  result.methodology = std::shared_ptr<const Methodology>(registry, methodology);
  PSTRACK_RETURN_IF_ERROR(store_.Read([&](MetricsReader& tx) -> absl::Status {
    PSTRACK_ASSIGN_OR_RETURN(Agency root, RequireAgency(tx, scope.agency_code, "scope.agency_code"));
    PSTRACK_ASSIGN_OR_RETURN(ResolvedScope resolved, Resolve(tx, root, scope.view));
    PSTRACK_ASSIGN_OR_RETURN(result.score, ScoreIn(tx, resolved, period, *methodology));
    PSTRACK_ASSIGN_OR_RETURN(result.log, tx.GetLogState());
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<std::vector<RankEntry>> Metrics::Rank(const ScopeRequest& parent, AgencyLevel level,
                                                     const Period& period, const std::string& indicator_id,
                                                     const std::string& methodology_id,
                                                     std::optional<bool> ascending, LogState* log,
                                                     int64_t min_sample_size) {
  PSTRACK_RETURN_IF_ERROR(ValidatePeriod(period, "period"));
  if (min_sample_size < 0) return InvalidField("min_sample_size", "must not be negative");
  if (indicator_id.empty() == methodology_id.empty()) {
    return InvalidField("indicator_id", "set exactly one of indicator_id and methodology_id");
  }
  const IndicatorDefinition* definition = nullptr;
  if (!indicator_id.empty()) {
    definition = FindIndicator(indicator_id);
    if (!definition) return InvalidField("indicator_id", absl::StrCat("'", indicator_id, "' is not an indicator"));
  }
  std::shared_ptr<const MethodologyRegistry> registry = methodologies();
  const Methodology* methodology = nullptr;
  if (!methodology_id.empty()) {
    if (!registry) return absl::FailedPreconditionError("methodology_id: no methodologies are loaded");
    PSTRACK_ASSIGN_OR_RETURN(methodology, registry->Find(methodology_id));
  }
  std::vector<RankEntry> entries;
  PSTRACK_RETURN_IF_ERROR(store_.Read([&](MetricsReader& tx) -> absl::Status {
    if (log != nullptr) {
      PSTRACK_ASSIGN_OR_RETURN(*log, tx.GetLogState());
    }
    PSTRACK_ASSIGN_OR_RETURN(Agency root, RequireAgency(tx, parent.agency_code, "parent.agency_code"));
    AgencyQuery q;
    q.root_path = root.path;
    if (level == AgencyLevel::kUnspecified) {
      q.max_depth = root.depth + 1;
    } else {
      q.level = level;
    }
    q.limit = 1000000;
    PSTRACK_ASSIGN_OR_RETURN(auto agencies, tx.ListAgencies(q));
    std::vector<const Agency*> ranked;
    std::vector<ResolvedScope> scopes;
    for (const Agency& a : agencies) {
      if (a.code == root.code || !Listed(a, parent.view, period)) continue;
      PSTRACK_ASSIGN_OR_RETURN(ResolvedScope resolved, Resolve(tx, a, parent.view));
      ranked.push_back(&a);
      scopes.push_back(std::move(resolved));
    }
    // Every ranked agency's sums in a few statements.
    const absl::Time as_of = DefaultAsOf(period, std::nullopt);
    const bool catalog = NeedsCatalog(definition ? std::vector<std::string>{indicator_id} : methodology->BuiltinInputs());
    PSTRACK_ASSIGN_OR_RETURN(Prefetched prefetched, Prefetch(tx, scopes, period, as_of, catalog));
    for (size_t i = 0; i < ranked.size(); ++i) {
      const Agency& a = *ranked[i];
      const ResolvedScope& resolved = scopes[i];
      RankEntry e;
      e.agency_code = a.code;
      e.agency_name = a.name;
      if (definition) {
        PSTRACK_ASSIGN_OR_RETURN(auto values,
                                 Values(tx, resolved, period, {indicator_id, "received"}, as_of, nullptr, &prefetched));
        e.value = values.front();
        e.score = e.value.value;
        e.sample_size = static_cast<int64_t>(values.back().value);
      } else {
        PSTRACK_ASSIGN_OR_RETURN(IndexScore s, ScoreIn(tx, resolved, period, *methodology, &prefetched));
        PSTRACK_ASSIGN_OR_RETURN(auto received, Values(tx, resolved, period, {"received"}, as_of, nullptr, &prefetched));
        e.sample_size = static_cast<int64_t>(received.front().value);
        e.score = s.total_points;
        e.value.id = methodology->id;
        e.value.value = s.total_points;
        e.value.numerator = s.total_points;
        e.value.denominator = s.max_points;
        e.value.available = true;
        e.index = std::move(s);
        e.methodology = std::shared_ptr<const Methodology>(registry, methodology);
      }
      e.below_min_sample = e.sample_size < min_sample_size;
      entries.push_back(std::move(e));
    }
    return absl::OkStatus();
  }));
  const bool asc = ascending.value_or(definition && definition->lower_is_better);
  // Ranked first (available, enough dossiers), by score; then the others
  // by code.
  auto ranked = [](const RankEntry& e) { return e.value.available && !e.below_min_sample; };
  std::stable_sort(entries.begin(), entries.end(), [&](const RankEntry& a, const RankEntry& b) {
    if (ranked(a) != ranked(b)) return ranked(a);
    if (!ranked(a)) return a.agency_code < b.agency_code;
    if (a.score != b.score) return asc ? a.score < b.score : a.score > b.score;
    return a.agency_code < b.agency_code;
  });
  // Competition ranking: equal values share a rank (1, 2, 2, 4).
  for (size_t i = 0; i < entries.size(); ++i) {
    if (!ranked(entries[i])) break;
    entries[i].rank = i > 0 && entries[i - 1].score == entries[i].score ? entries[i - 1].rank : static_cast<int>(i) + 1;
  }
  return entries;
}



}  // namespace pstrack
