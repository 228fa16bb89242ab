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

bool InSubtree(absl::string_view path, absl::string_view root_path) {
  return absl::StartsWith(path, root_path) &&
         (path.size() == root_path.size() || path[root_path.size()] == '/');
}

absl::Time StartOfDay(Date d) { return absl::FromCivil(absl::CivilSecond(d), VietnamTimeZone()); }
Date Today() { return Date(absl::ToCivilDay(absl::Now(), VietnamTimeZone())); }

// Procedures and their carriers, loaded once per request.
struct CatalogSnapshot {
  std::vector<Procedure> procedures;  // in force at the date
};

// The agencies a breakdown or a ranking lists: in today's tree those in force
// today; as filed, those in force at some time during the period.
bool Listed(const Agency& a, TreeView view, const Period& period) {
  if (view == TreeView::kCurrent) return a.InForceOn(Today());
  return (!a.valid_from || *a.valid_from < period.end) && (!a.valid_until || *a.valid_until > period.start);
}

// The agencies of `by_path` (sorted by path) in the subtree at `root`: a
// subtree lies between its path and its path + "0" ('0' follows '/'), with
// a few others (a sibling "P22.D1" of "P22") that the caller skips.
// `root_end` is root + "0".
auto SubtreeRange(const std::vector<const Agency*>& by_path, absl::string_view root, absl::string_view root_end) {
  auto less = [](const Agency* a, absl::string_view p) { return absl::string_view(a->path) < p; };
  auto begin = std::lower_bound(by_path.begin(), by_path.end(), root, less);
  return std::make_pair(begin, std::lower_bound(begin, by_path.end(), root_end, less));
}

// Whether a procedure is carried out in a scope (its subtrees at `paths`,
// as of `day`): at one of the levels of the scope's agencies, or listed
// (`listed`: its agencies, sorted by path) for one of them.
// `paths`: each root and root + "0".
bool CarriedOutIn(const Procedure& p, const std::vector<const Agency*>& listed, const absl::flat_hash_set<int>& levels,
                  const std::vector<std::pair<std::string, std::string>>& paths, Date day) {
  for (AgencyLevel l : p.levels) {
    if (levels.contains(static_cast<int>(l))) return true;
  }
  if (listed.empty()) return false;
  for (const auto& [path, path_end] : paths) {
    for (auto [it, end] = SubtreeRange(listed, path, path_end); it != end; ++it) {
      if ((*it)->InForceOn(day) && InSubtree((*it)->path, path)) return true;
    }
  }
  return false;
}

}  // namespace

absl::StatusOr<Period> ParsePeriodLabel(absl::string_view label, absl::string_view field) {
  auto bad = [&] {
    return InvalidField(field, absl::StrCat("'", label, "' is not a period: use 2025, 2025-Q3, 2025-07 or 2025-07-15"));
  };
  int year = 0;
  if (label.size() < 4 || !absl::SimpleAtoi(label.substr(0, 4), &year)) return bad();
  if (label.size() == 4) return Period{Date(year, 1, 1), Date(year + 1, 1, 1)};
  if (label.size() == 7 && label[4] == '-' && label[5] == 'Q') {
    int q = label[6] - '0';
    if (q < 1 || q > 4) return bad();
    Date start(year, 3 * (q - 1) + 1, 1);
    return Period{start, Date(absl::CivilMonth(start) + 3)};
  }
  if (label.size() == 7 && label[4] == '-') {
    int month = 0;
    if (!absl::SimpleAtoi(label.substr(5, 2), &month) || month < 1 || month > 12) return bad();
    Date start(year, month, 1);
    return Period{start, Date(absl::CivilMonth(start) + 1)};
  }
  if (label.size() == 10) {
    auto d = ParseDate(label, field);
    if (!d.ok()) return bad();
    return Period{*d, *d + 1};
  }
  return bad();
}

absl::Status ValidatePeriod(const Period& p, absl::string_view field) {
  if (p.end <= p.start) {
    return InvalidField(absl::StrCat(field, ".end"), absl::StrCat(FormatDate(p.end), " must be after the start ",
                                                                  FormatDate(p.start)));
  }
  if (p.start < Date(2000, 1, 1) || p.end > Date(2100, 1, 1)) {
    return InvalidField(field, "must lie between 2000-01-01 and 2100-01-01");
  }
  if (p.end - p.start > 366 * 20) return InvalidField(field, "spans more than 20 years");
  return absl::OkStatus();
}

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
  std::lock_guard lock(methodologies_mu_);
  return methodologies_;
}

void Metrics::SetMethodologies(std::shared_ptr<const MethodologyRegistry> registry) {
  std::lock_guard lock(methodologies_mu_);
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
  PSTRACK_ASSIGN_OR_RETURN(std::shared_ptr<const ReferenceSnapshot> reference, Reference(tx));
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
    PSTRACK_ASSIGN_OR_RETURN(out.reference, Reference(tx));
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
        std::lock_guard lock(positive_mu_);
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
      std::lock_guard lock(positive_mu_);
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


absl::Status Metrics::RunPendingMaintenance() {
  std::vector<std::string> tasks;
  PSTRACK_RETURN_IF_ERROR(store_.Read([&](MetricsReader& tx) -> absl::Status {
    PSTRACK_ASSIGN_OR_RETURN(tasks, tx.PendingMaintenance());
    return absl::OkStatus();
  }));
  for (const std::string& task : tasks) {
    if (task != "rebuild_aggregates") continue;
    LogInfo("maintenance: rebuilding the aggregates after a schema migration");
    PSTRACK_ASSIGN_OR_RETURN(AggregateCheck check, RebuildAggregates());
    LogInfo("maintenance: aggregates rebuilt from ", check.dossiers, " dossiers");
    PSTRACK_RETURN_IF_ERROR(store_.Write([&](MetricsWriter& tx) { return tx.CompleteMaintenance(task); }));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const Metrics::ReferenceSnapshot>> Metrics::Reference(CatalogReader& tx) {
  PSTRACK_ASSIGN_OR_RETURN(std::string version, tx.ReferenceVersion());
  {
    std::lock_guard lock(reference_mu_);
    if (reference_ && reference_->version == version) return reference_;
  }
  auto snapshot = std::make_shared<ReferenceSnapshot>();
  snapshot->version = version;
  AgencyQuery aq;
  aq.limit = 100000000;
  PSTRACK_ASSIGN_OR_RETURN(snapshot->agencies, tx.ListAgencies(aq));
  ProcedureQuery pq;
  pq.limit = 100000000;
  PSTRACK_ASSIGN_OR_RETURN(snapshot->procedures, tx.ListProcedures(pq));
  snapshot->by_code.reserve(snapshot->agencies.size());
  for (const Agency& a : snapshot->agencies) {
    snapshot->by_code[a.code] = &a;
    if (a.valid_until) snapshot->ended.push_back(&a);
  }
  snapshot->procedure_agencies.resize(snapshot->procedures.size());
  for (size_t i = 0; i < snapshot->procedures.size(); ++i) {
    for (const std::string& code : snapshot->procedures[i].agency_codes) {
      auto it = snapshot->by_code.find(code);
      if (it != snapshot->by_code.end()) snapshot->procedure_agencies[i].push_back(it->second);
    }
    std::sort(snapshot->procedure_agencies[i].begin(), snapshot->procedure_agencies[i].end(),
              [](const Agency* a, const Agency* b) { return a->path < b->path; });
  }
  for (size_t i = 0; i < snapshot->procedures.size(); ++i) snapshot->procedure_index[snapshot->procedures[i].code] = i;
  for (const Agency& a : snapshot->agencies) snapshot->by_path.push_back(&a);
  std::sort(snapshot->by_path.begin(), snapshot->by_path.end(),
            [](const Agency* a, const Agency* b) { return a->path < b->path; });
  std::lock_guard lock(reference_mu_);
  reference_ = std::move(snapshot);
  return reference_;
}

std::shared_ptr<const Metrics::ReferenceSnapshot::ScopeCatalog> Metrics::ReferenceSnapshot::CatalogOf(
    const std::vector<std::string>& paths, Date day) const {
  const std::string key = absl::StrCat(FormatDate(day), "|", absl::StrJoin(paths, "|"));
  {
    std::lock_guard lock(scope_catalogs_mu);
    auto it = scope_catalogs.find(key);
    if (it != scope_catalogs.end()) return it->second;
  }
  // The levels of the agencies in scope.
  absl::flat_hash_set<int> levels;
  std::vector<std::pair<std::string, std::string>> ranges;
  for (const std::string& path : paths) {
    ranges.emplace_back(path, path + "0");
    for (auto [it, end] = SubtreeRange(by_path, path, ranges.back().second); it != end; ++it) {
      if ((*it)->InForceOn(day) && InSubtree((*it)->path, path)) levels.insert(static_cast<int>((*it)->level));
    }
  }
  auto out = std::make_shared<ScopeCatalog>();
  CatalogTotals& c = out->totals;
  for (size_t i = 0; i < procedures.size(); ++i) {
    const Procedure& p = procedures[i];
    if (!p.InForceOn(day) || !CarriedOutIn(p, procedure_agencies[i], levels, ranges, day)) continue;
    out->carried.push_back(static_cast<uint32_t>(i));
    ++c.procedures;
    c.online += p.OffersOnline();
    c.full += p.online_mode == OnlineMode::kFull;
    c.eligible += p.full_online_eligible;
    c.fee_bearing += p.fee_bearing;
    c.fee_online_payment += p.fee_bearing && p.online_payment_integrated;
    c.population_db_connected += p.population_db_connected;
  }
  std::lock_guard lock(scope_catalogs_mu);
  if (scope_catalogs.size() >= kScopeCatalogs) scope_catalogs.clear();
  scope_catalogs.emplace(key, out);
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
    PSTRACK_ASSIGN_OR_RETURN(reference, Reference(tx));
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
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<std::vector<BreakdownRow>> Metrics::Breakdown(const ScopeRequest& scope, const Period& period,
                                                             const std::vector<std::string>& requested,
                                                             Dimension dimension, std::optional<absl::Time> as_of) {
  PSTRACK_RETURN_IF_ERROR(ValidatePeriod(period, "period"));
  PSTRACK_ASSIGN_OR_RETURN(std::vector<std::string> ids, ResolveIndicatorIds(requested, "indicator_ids"));
  const absl::Time instant = DefaultAsOf(period, as_of);
  std::vector<BreakdownRow> rows;
  PSTRACK_RETURN_IF_ERROR(store_.Read([&](MetricsReader& tx) -> absl::Status {
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
                                                             Granularity granularity) {
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
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<std::vector<RankEntry>> Metrics::Rank(const ScopeRequest& parent, AgencyLevel level,
                                                     const Period& period, const std::string& indicator_id,
                                                     const std::string& methodology_id,
                                                     std::optional<bool> ascending) {
  PSTRACK_RETURN_IF_ERROR(ValidatePeriod(period, "period"));
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
        PSTRACK_ASSIGN_OR_RETURN(auto values, Values(tx, resolved, period, {indicator_id}, as_of, nullptr, &prefetched));
        e.value = values.front();
        e.score = e.value.value;
      } else {
        PSTRACK_ASSIGN_OR_RETURN(IndexScore s, ScoreIn(tx, resolved, period, *methodology, &prefetched));
        e.score = s.total_points;
        e.value.id = methodology->id;
        e.value.value = s.total_points;
        e.value.numerator = s.total_points;
        e.value.denominator = s.max_points;
        e.value.available = true;
      }
      entries.push_back(std::move(e));
    }
    return absl::OkStatus();
  }));
  const bool asc = ascending.value_or(definition && definition->lower_is_better);
  std::stable_sort(entries.begin(), entries.end(), [&](const RankEntry& a, const RankEntry& b) {
    if (a.value.available != b.value.available) return a.value.available;
    if (!a.value.available) return a.agency_code < b.agency_code;
    if (a.score != b.score) return asc ? a.score < b.score : a.score > b.score;
    return a.agency_code < b.agency_code;
  });
  // Competition ranking: equal values share a rank (1, 2, 2, 4).
  for (size_t i = 0; i < entries.size(); ++i) {
    if (!entries[i].value.available) break;
    entries[i].rank = i > 0 && entries[i - 1].value.available && entries[i - 1].score == entries[i].score
                          ? entries[i - 1].rank
                          : static_cast<int>(i) + 1;
  }
  return entries;
}

std::vector<ItemOutcome> Metrics::SubmitExternalInputs(const std::vector<ExternalInput>& inputs) {
  std::vector<ItemOutcome> out(inputs.size());
  std::shared_ptr<const MethodologyRegistry> registry = methodologies();
  std::set<std::string> known;
  if (registry) {
    for (const Methodology* m : registry->All()) {
      for (const auto& id : m->ExternalInputs()) known.insert(id);
    }
  }
  absl::Status batch = store_.Write([&](MetricsWriter& tx) -> absl::Status {
    for (size_t i = 0; i < inputs.size(); ++i) {
      const ExternalInput& in = inputs[i];
      ItemOutcome& o = out[i];
      o.index = static_cast<int>(i);
      o.key = in.input_id;
      auto check = [&]() -> absl::Status {
        if (in.input_id.empty() || in.input_id.size() > 128) {
          return InvalidField("input.input_id", "must be 1..128 characters");
        }
        if (!known.contains(in.indicator_id)) {
          return InvalidField("input.indicator_id",
                              absl::StrCat("'", in.indicator_id, "' is not an external input of any loaded methodology",
                                           known.empty() ? "" : absl::StrCat(" (known: ", absl::StrJoin(known, ", "), ")")));
        }
        PSTRACK_RETURN_IF_ERROR(ValidatePeriod(in.period, "input.period"));
        for (auto [name, v] : {std::pair<const char*, double>{"input.numerator", in.numerator},
                               {"input.denominator", in.denominator}, {"input.value", in.value}}) {
          if (!std::isfinite(v) || v < 0) return InvalidField(name, "must be a finite number, not negative");
          // Survey respondents, complaints, points: far below this, and
          // sums of many stay exact in a double (below 2^53).
          if (v > kMaxExternalFigure) {
            return InvalidField(name, absl::StrCat("is ", v, "; at most ", kMaxExternalFigure));
          }
        }
        if (in.denominator > 0 && in.numerator > in.denominator) {
          return InvalidField("input.numerator", "is larger than the denominator");
        }
        if (in.denominator == 0 && in.numerator != 0) {
          return InvalidField("input.denominator", "is zero while the numerator is not");
        }
        if (in.denominator == 0 && in.value > 1) {
          return InvalidField("input.value", absl::StrCat(in.value, " is not a rate in [0, 1] (write 87.59% as 0.8759, "
                                                                    "or give a numerator and a denominator)"));
        }
        PSTRACK_ASSIGN_OR_RETURN(Agency agency, RequireAgency(tx, in.agency_code, "input.agency_code"));
        (void)agency;
        return absl::OkStatus();
      }();
      if (!check.ok()) {
        o.status = check;
        continue;
      }
      ExternalInputRow row{in.input_id, in.agency_code, in.indicator_id, in.period.start, in.period.end,
                           in.numerator,  in.denominator, in.value,       in.source,       absl::ToUnixMicros(absl::Now())};
      PSTRACK_ASSIGN_OR_RETURN(auto existing, tx.FindExternalInput(in.input_id));
      if (existing && existing->agency_code == row.agency_code && existing->indicator_id == row.indicator_id &&
          existing->start == row.start && existing->end == row.end && existing->numerator == row.numerator &&
          existing->denominator == row.denominator && existing->value == row.value && existing->source == row.source) {
        o.outcome = WriteOutcome::kUnchanged;
        continue;
      }
      PSTRACK_RETURN_IF_ERROR(tx.PutExternalInput(row));
      o.outcome = WriteOutcome::kApplied;
    }
    return absl::OkStatus();
  });
  if (!batch.ok()) {
    RejectAll(out, batch);
  }
  return out;
}

absl::StatusOr<std::vector<ExternalInput>> Metrics::ListExternalInputs(const std::string& agency_code,
                                                                       const std::string& indicator_id) {
  std::vector<ExternalInput> out;
  PSTRACK_RETURN_IF_ERROR(store_.Read([&](MetricsReader& tx) -> absl::Status {
    if (!agency_code.empty()) {
      PSTRACK_RETURN_IF_ERROR(RequireAgency(tx, agency_code, "agency_code").status());
    }
    PSTRACK_ASSIGN_OR_RETURN(auto rows, tx.ListExternalInputs(agency_code, indicator_id));
    for (const auto& r : rows) {
      out.push_back(ExternalInput{r.input_id, r.agency_code, r.indicator_id, Period{r.start, r.end}, r.numerator,
                                  r.denominator, r.value, r.source});
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::Status Metrics::ReplayDossiers(
    MetricsReader& tx, int per_page,
    absl::FunctionRef<void(const DossierState&, const Procedure*, const std::string&)> on_dossier,
    absl::FunctionRef<absl::Status()> after_page, int64_t* dossiers) {
  absl::flat_hash_map<std::string, std::optional<Agency>> agencies;
  absl::flat_hash_map<std::string, std::optional<Procedure>> procedures;
  DossierQuery q;
  q.limit = per_page;
  // A page of dossiers at a time: memory stays bounded at any size.
  while (true) {
    // Long work: stop at the call's deadline or cancellation.
    PSTRACK_RETURN_IF_ERROR(CheckCallLimits());
    PSTRACK_ASSIGN_OR_RETURN(auto rows, tx.ListDossiers(q));
    if (rows.empty()) break;
    std::vector<std::string> codes;
    codes.reserve(rows.size());
    for (const auto& r : rows) codes.push_back(r.code);
    PSTRACK_ASSIGN_OR_RETURN(auto stored, tx.LoadDossierEvents(codes));
    std::map<std::string, std::vector<FilingEvent>> by_dossier;
    for (const auto& s : stored) {
      PSTRACK_ASSIGN_OR_RETURN(FilingEvent e, DecodeEvent(s.content));
      by_dossier[s.dossier_code].push_back(std::move(e));
    }
    for (const auto& r : rows) {
      std::vector<FilingEvent>& events = by_dossier[r.code];
      const Procedure* procedure = nullptr;
      for (const auto& e : events) {
        if (e.procedure_code.empty()) continue;
        if (!procedures.contains(e.procedure_code)) {
          PSTRACK_ASSIGN_OR_RETURN(procedures[e.procedure_code], tx.FindProcedure(e.procedure_code));
        }
        auto& p = procedures[e.procedure_code];
        procedure = p ? &*p : nullptr;
        break;
      }
      if (!agencies.contains(r.agency_code)) {
        PSTRACK_ASSIGN_OR_RETURN(agencies[r.agency_code], tx.FindAgency(r.agency_code));
      }
      const auto& agency = agencies[r.agency_code];
      if (!agency) return absl::DataLossError(absl::StrCat("dossier '", r.code, "' names a missing agency"));
      PSTRACK_ASSIGN_OR_RETURN(DossierState state, Replay(events, *calendar_, procedure));
      on_dossier(state, procedure, agency->path);
      ++*dossiers;
    }
    PSTRACK_RETURN_IF_ERROR(after_page());
    q.after_code = rows.back().code;
  }
  return absl::OkStatus();
}

absl::StatusOr<AggregateCheck> Metrics::RebuildAggregates() {
  AggregateCheck check;
  PSTRACK_RETURN_IF_ERROR(store_.Write([&](MetricsWriter& tx) -> absl::Status {
    PSTRACK_RETURN_IF_ERROR(tx.ClearAggregates());
    AggregateDeltas page;
    return ReplayDossiers(
        tx, 1000,
        [&](const DossierState& state, const Procedure* procedure, const std::string& path) {
          AccumulateDossier(state, procedure, path, +1, &page);
        },
        [&] { return tx.AddAggregates(NonZeroRows(std::move(page))); }, &check.dossiers);
  }));
  check.repaired = true;
  return check;
}

namespace {

bool AnyCount(const Counts& c) {
  for (int64_t v : c) {
    if (v != 0) return true;
  }
  return false;
}

// The expected rows in key order with the time roll-ups of the nodes that
// have them (MonthRollup, YearRollup: sums of the node's day rows) put in
// their place: they sort after the node's day rows and before the next
// node's rows, so they are summed while the day rows go by and given out
// then, in order. They go through an AggregateRuns of their own: a node's
// roll-ups (the nation's: every procedure, field and channel in every month
// and year) are tens of thousands of rows, held within `memory_budget`.
class WithRollups {
 public:
  WithRollups(AggregateRuns& days, AggregateKeyOrder order, const absl::flat_hash_set<std::string>& nodes,
              size_t memory_budget, std::string work_dir)
      : days_(days), order_(order), nodes_(nodes), memory_budget_(memory_budget), work_dir_(std::move(work_dir)) {}

  absl::StatusOr<bool> Next(AggregateRow* row) {
    while (true) {
      if (draining_) {
        PSTRACK_ASSIGN_OR_RETURN(bool more, rollups_->Next(row));
        if (more) return true;
        draining_ = false;
        rollups_.reset();
        continue;
      }
      if (!has_next_ && !done_) {
        PSTRACK_ASSIGN_OR_RETURN(has_next_, days_.Next(&next_));
        done_ = !has_next_;
      }
      // The node's roll-ups go out before the next node's first row (or
      // at the end).
      if (rollups_ != nullptr && (!has_next_ || next_.key.node_code != node_)) {
        draining_ = true;
        continue;
      }
      if (!has_next_) return false;
      has_next_ = false;
      if (static_cast<int>(next_.key.basis) < kMonthGrain && nodes_.contains(next_.key.node_code)) {
        if (rollups_ == nullptr) {
          rollups_ = std::make_unique<AggregateRuns>(order_, memory_budget_, work_dir_);
          node_ = next_.key.node_code;
        }
        PSTRACK_RETURN_IF_ERROR(rollups_->Add(MonthRollup(next_.key), next_.counts));
        PSTRACK_RETURN_IF_ERROR(rollups_->Add(YearRollup(next_.key), next_.counts));
      }
      *row = std::move(next_);
      return true;
    }
  }

 private:
  AggregateRuns& days_;
  AggregateKeyOrder order_;
  const absl::flat_hash_set<std::string>& nodes_;
  size_t memory_budget_;
  std::string work_dir_;
  AggregateRow next_;
  bool has_next_ = false, done_ = false;
  std::string node_;
  std::unique_ptr<AggregateRuns> rollups_;  // of node_
  bool draining_ = false;
};

// The entries with the largest counts, most first (ties by key), at most n.
std::vector<std::pair<std::string, int64_t>> Largest(const absl::flat_hash_map<std::string, int64_t>& counts,
                                                      size_t n) {
  std::vector<std::pair<std::string, int64_t>> out(counts.begin(), counts.end());
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (out.size() > n) out.resize(n);
  return out;
}

}  // namespace

absl::StatusOr<AggregateCheck> Metrics::CheckAggregates(const AggregateCheckOptions& options) {
  AggregateCheck check;
  const std::string work =
      options.work_dir.empty() ? std::filesystem::temp_directory_path().string() : options.work_dir;
  std::unique_ptr<AggregateRuns> corrections;
  absl::flat_hash_map<std::string, int64_t> by_node, by_day;
  const absl::Time started = absl::Now();
  PSTRACK_RETURN_IF_ERROR(store_.ReadLongSnapshot([&](MetricsReader& tx) -> absl::Status {
    const AggregateKeyOrder order{tx.aggregate_order()};
    // 1. What the events give, in sorted runs.
    // Without the time roll-ups: the merge derives them from the day rows
    // (they were half of the rows added). The nodes that have them are the
    // first kRolledUpDepth of each dossier's path.
    AggregateRuns expected(order, options.memory_budget, work);
    absl::flat_hash_set<std::string> rolled_up;
    std::string last_path;
    absl::Status added;
    PSTRACK_RETURN_IF_ERROR(ReplayDossiers(
        tx, options.dossiers_per_page,
        [&](const DossierState& state, const Procedure* procedure, const std::string& path) {
          if (path != last_path) {
            last_path = path;
            std::vector<absl::string_view> nodes = absl::StrSplit(path, '/');
            for (size_t n = 0; n < nodes.size() && n < kRolledUpDepth; ++n) rolled_up.emplace(nodes[n]);
          }
          ForEachAggregateContribution(
              state, procedure, path,
              [&](const AggregateKey& key, const Counts& counts) {
                if (added.ok()) added = expected.Add(key, counts);
              },
              /*with_rollups=*/false);
        },
        [&] {
          if (options.after_page) options.after_page();
          PSTRACK_RETURN_IF_ERROR(store_.LongSnapshotGrowth());
          return added;
        },
        &check.dossiers));
    const absl::Duration replayed_in = absl::Now() - started;
    if (options.repair) corrections = std::make_unique<AggregateRuns>(order, options.memory_budget / 4, work);

    // 2. Merged with what is stored, both in key order.
    auto compare = [&](const AggregateKey& key, const Counts& want, const Counts& have) -> absl::Status {
      const bool want_any = AnyCount(want), have_any = AnyCount(have);
      if (!want_any && !have_any) return absl::OkStatus();
      ++check.rows_compared;
      if (want == have) return absl::OkStatus();
      ++check.rows_differing;
      ++(!have_any ? check.rows_missing : !want_any ? check.rows_unexpected : check.rows_changed);
      if (check.samples.size() < AggregateCheck::kMaxSamples) check.samples.push_back({key, want, have});
      ++by_node[key.node_code];
      ++by_day[key.day];
      if (corrections) {
        Counts delta{};
        for (int i = 0; i < kCounterCount; ++i) delta[i] = want[i] - have[i];
        PSTRACK_RETURN_IF_ERROR(corrections->Add(key, delta));
      }
      return absl::OkStatus();
    };
    const Counts zero{};
    WithRollups with_rollups(expected, order, rolled_up, options.memory_budget / 4, work);
    AggregateRow want;
    PSTRACK_ASSIGN_OR_RETURN(bool has_want, with_rollups.Next(&want));
    std::vector<AggregateRow> stored;
    size_t at = 0;
    bool stored_done = false;
    std::optional<AggregateKey> after;
    int64_t merged = 0;
    while (true) {
      if (at == stored.size() && !stored_done) {
        PSTRACK_RETURN_IF_ERROR(CheckCallLimits());
        PSTRACK_RETURN_IF_ERROR(store_.LongSnapshotGrowth());
        PSTRACK_ASSIGN_OR_RETURN(stored, tx.AggregatePage(after, options.rows_per_page));
        at = 0;
        stored_done = stored.size() < static_cast<size_t>(options.rows_per_page);
        if (!stored.empty()) after = stored.back().key;
      }
      const bool has_stored = at < stored.size();
      if (!has_want && !has_stored) break;
      if (++merged % 65536 == 0) PSTRACK_RETURN_IF_ERROR(CheckCallLimits());
      if (has_stored && (!has_want || order(stored[at].key, want.key))) {
        PSTRACK_RETURN_IF_ERROR(compare(stored[at].key, zero, stored[at].counts));
        ++at;
        continue;
      }
      if (has_stored && !order(want.key, stored[at].key)) {  // the same key
        PSTRACK_RETURN_IF_ERROR(compare(want.key, want.counts, stored[at].counts));
        ++at;
      } else {
        PSTRACK_RETURN_IF_ERROR(compare(want.key, want.counts, zero));
      }
      PSTRACK_ASSIGN_OR_RETURN(has_want, with_rollups.Next(&want));
    }
    check.spill_runs = expected.runs_written();
    check.spill_bytes = expected.bytes_written();
    LogInfo("aggregate check: ", check.dossiers, " dossiers replayed in ", absl::FormatDuration(replayed_in), " (",
            check.spill_runs, " sorted runs, ", check.spill_bytes >> 20, " MiB), ", check.rows_compared,
            " rows compared in ", absl::FormatDuration(absl::Now() - started - replayed_in), "; ",
            check.rows_differing, " differ");
    return absl::OkStatus();
  }));
  check.nodes = Largest(by_node, AggregateCheck::kMaxSamples);
  check.days = Largest(by_day, AggregateCheck::kMaxSamples);

  // 3. The repair: each difference added to its row, a page per write
  // transaction. Writes since the snapshot added their own deltas to the
  // same rows, so the sum is right whatever they did.
  if (corrections && check.rows_differing > 0) {
    std::vector<AggregateRow> page;
    AggregateRow row;
    while (true) {
      PSTRACK_ASSIGN_OR_RETURN(bool more, corrections->Next(&row));
      if (more) page.push_back(std::move(row));
      if (page.size() == static_cast<size_t>(options.rows_per_repair) || (!more && !page.empty())) {
        PSTRACK_RETURN_IF_ERROR(CheckCallLimits());
        PSTRACK_RETURN_IF_ERROR(store_.Write([&](MetricsWriter& tx) { return tx.AddAggregates(page); }));
        check.rows_repaired += static_cast<int64_t>(page.size());
        page.clear();
      }
      if (!more) break;
    }
    check.repaired = true;
  }
  return check;
}

}  // namespace pstrack
