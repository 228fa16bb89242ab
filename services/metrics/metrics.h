// Metrics: the indicator use cases over a Store — indicators for an agency
// subtree and period, breakdowns, time series, rankings, methodology scores,
// external inputs, and the rebuild/check of the aggregates from raw events.
// Reads sum aggregate rows of the scope's root node (and, in today's tree,
// of former agencies that merged into it), so a query's cost follows the
// nodes and days in scope, not the number of dossiers.
// Thread-safe: the Store serialises writers; methodologies are swapped
// atomically on reload.
#ifndef PSTRACK_SERVICES_METRICS_METRICS_H_
#define PSTRACK_SERVICES_METRICS_METRICS_H_

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/calendar/working_calendar.h"
#include "services/common/batch.h"
#include "services/figures/aggregation.h"
#include "services/figures/indicators.h"
#include "services/metrics/methodology.h"
#include "services/figures/report_selection.h"
#include "services/metrics/metrics_store.h"
#include "services/metrics/period.h"
#include "services/metrics/reference_snapshot.h"

namespace pstrack {

struct IndicatorSetResult {
  Period period;
  absl::Time as_of;
  std::vector<IndicatorValue> values;
  // The periodic reports of the scope overlapping the period and what
  // became of each (everything else comes from events).
  std::vector<ReportUse> parts;
  // The event log in the same snapshot: the position the figures reflect
  // and the acknowledged events they do not contain yet.
  LogState log;
};

enum class Dimension { kChildAgency, kField, kChannel, kProcedure };
enum class Granularity { kDay, kMonth, kQuarter, kYear };

struct BreakdownRow {
  std::string key, label;
  std::vector<IndicatorValue> values;
};

struct SeriesPoint {
  Period period;
  std::vector<IndicatorValue> values;
};

struct RankEntry {
  int rank = 0;  // 0 = not ranked (value not available, or below the minimum sample)
  std::string agency_code, agency_name;
  IndicatorValue value;
  double score = 0;
  int64_t sample_size = 0;  // dossiers received in the period
  bool below_min_sample = false;
  std::optional<IndexScore> index;  // methodology rankings
  std::shared_ptr<const Methodology> methodology;  // keeps `index`'s pointers alive
};

struct ScoredIndex {
  IndexScore score;
  LogState log;  // as in IndicatorSetResult
  std::shared_ptr<const Methodology> methodology;  // keeps `score`'s pointers alive
};



class Metrics {
 public:
  Metrics(MetricsStore store, std::shared_ptr<const WorkingCalendar> calendar,
          std::shared_ptr<const MethodologyRegistry> methodologies);

  absl::StatusOr<IndicatorSetResult> Indicators(const ScopeRequest& scope, const Period& period,
                                                const std::vector<std::string>& ids,
                                                std::optional<absl::Time> as_of);
  absl::StatusOr<std::vector<BreakdownRow>> Breakdown(const ScopeRequest& scope, const Period& period,
                                                      const std::vector<std::string>& ids, Dimension dimension,
                                                      std::optional<absl::Time> as_of, LogState* log = nullptr);
  absl::StatusOr<std::vector<SeriesPoint>> TimeSeries(const ScopeRequest& scope, const Period& period,
                                                      const std::vector<std::string>& ids, Granularity granularity,
                                                      LogState* log = nullptr);
  // Ranks the children of `parent` (or its descendants of `level`) by an
  // indicator, or by a methodology's total when `methodology_id` is set.
  // An agency that received fewer than `min_sample_size` dossiers in the
  // period is listed after the ranked ones, unranked.
  absl::StatusOr<std::vector<RankEntry>> Rank(const ScopeRequest& parent, AgencyLevel level, const Period& period,
                                              const std::string& indicator_id, const std::string& methodology_id,
                                              std::optional<bool> ascending, LogState* log = nullptr,
                                              int64_t min_sample_size = 0);
  absl::StatusOr<ScoredIndex> Score(const ScopeRequest& scope, const Period& period,
                                    const std::string& methodology_id);



  // A scope as the aggregates see it: the root node (and, in today's tree,
  // the former agencies merged into it) and the agency subtrees it spans.
  struct ResolvedScope {
    Agency root;
    std::vector<std::string> nodes;  // aggregate nodes summed for the scope
    std::vector<std::string> paths;  // agency subtrees (for open dossiers and the catalog)
    bool rolled_up = false;          // every node has time roll-ups (HasRollups)
  };
  // NOT_FOUND naming `field` for an unknown agency.
  absl::StatusOr<ResolvedScope> ResolveScope(CatalogReader& tx, const ScopeRequest& scope, absl::string_view field);

  std::shared_ptr<const MethodologyRegistry> methodologies() const;
  void SetMethodologies(std::shared_ptr<const MethodologyRegistry> registry);

 private:
  absl::StatusOr<ResolvedScope> Resolve(CatalogReader& tx, const Agency& root, TreeView view);
  // Open and overdue dossiers of the scope at `at`: a sum of clock-basis
  // buckets at a local midnight, the dossier index otherwise.
  absl::StatusOr<OpenCounts> OpenAt(MetricsReader& tx, const ResolvedScope& scope, absl::Time at);
  // Aggregate sums fetched at once for many scopes (a ranking, a breakdown
  // by child): one statement per kind for all their nodes instead of one
  // per scope. Keyed by node; a scope's figure is the sum over its nodes.
  struct Prefetched {
    absl::flat_hash_map<std::string, Counts> receipt, finish;
    // Clock-basis sums before the instant's day, when the instant is a
    // midnight (OpenAt counts from the dossier index otherwise).
    std::optional<absl::flat_hash_map<std::string, Counts>> clock;
    // When the catalog is asked for: node -> a byte per procedure (its
    // position in `reference->procedures`), kPaidOnlineBit and
    // kReceivedOnlineBit set when some dossier of the period was.
    std::optional<absl::flat_hash_map<std::string, std::vector<uint8_t>>> positive;
    std::shared_ptr<const ReferenceSnapshot> reference;  // the positions' snapshot
  };
  static constexpr uint8_t kPaidOnlineBit = 1, kReceivedOnlineBit = 2;
  // The bits of a ForEachPositiveValue row read with kPresenceCounters
  // (kPaidOnline, kReceivedOnline).
  static_assert(kPresenceCounters[0] == Counter::kPaidOnline && kPresenceCounters[1] == Counter::kReceivedOnline);
  static uint8_t PositiveBits(const std::vector<int>& flags) {
    return (flags[0] ? kPaidOnlineBit : 0) | (flags[1] ? kReceivedOnlineBit : 0);
  }
  absl::StatusOr<Prefetched> Prefetch(MetricsReader& tx, const std::vector<ResolvedScope>& scopes,
                                      const Period& period, absl::Time as_of, bool with_catalog);
  // `prefetched`, when given, was fetched for a set of scopes including
  // this one, with the same period and instant.
  absl::StatusOr<ScopeTotals> Totals(MetricsReader& tx, const ResolvedScope& scope, const Period& period,
                                     absl::Time as_of, bool with_catalog, const Prefetched* prefetched = nullptr);
  // Events first, then the reports of agencies without events for their
  // period (report_selection.h); `parts` (optional) gets every report seen.
  absl::StatusOr<std::vector<IndicatorValue>> Values(MetricsReader& tx, const ResolvedScope& scope,
                                                     const Period& period, const std::vector<std::string>& ids,
                                                     absl::Time as_of, std::vector<ReportUse>* parts = nullptr,
                                                     const Prefetched* prefetched = nullptr);
  absl::StatusOr<IndexScore> ScoreIn(MetricsReader& tx, const ResolvedScope& scope, const Period& period,
                                     const Methodology& methodology, const Prefetched* prefetched = nullptr);

  MetricsStore store_;
  std::shared_ptr<const WorkingCalendar> calendar_;
  // The agency tree and the catalog, kept while they do not change.
  ReferenceCache reference_;

  // Prefetched::positive of a node over a range, kept with the range's
  // change count (AggregateRow::changes) when it was read: reused while the
  // count and the reference version stay the same, which is exactly while
  // no procedure row of the range has changed presence. A ranking's
  // catalog indicators read tens of thousands of procedure rows; its
  // provinces' totals (read anyway) carry the counts, which most writes do
  // not move (they add to procedures that had such dossiers already). Key:
  // node, grain, range.
  struct PositiveEntry {
    int64_t changes = 0;
    std::vector<uint8_t> bits;
  };
  static constexpr size_t kPositiveCacheEntries = 4096;  // about 8 MiB
  absl::Mutex positive_mu_;
  std::string positive_version_ ABSL_GUARDED_BY(positive_mu_);  // the reference version of the entries
  absl::flat_hash_map<std::string, PositiveEntry> positive_cache_ ABSL_GUARDED_BY(positive_mu_);

  mutable absl::Mutex methodologies_mu_;
  std::shared_ptr<const MethodologyRegistry> methodologies_ ABSL_GUARDED_BY(methodologies_mu_);
};

// Checks requested indicator ids (empty = every built-in one).
absl::StatusOr<std::vector<std::string>> ResolveIndicatorIds(const std::vector<std::string>& ids,
                                                             absl::string_view field);

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_METRICS_METRICS_H_
