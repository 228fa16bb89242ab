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

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/calendar/working_calendar.h"
#include "services/common/batch.h"
#include "services/figures/aggregation.h"
#include "services/figures/indicators.h"
#include "services/metrics/methodology.h"
#include "services/figures/report_selection.h"
#include "services/metrics/metrics_store.h"

namespace pstrack {

// A half-open date range.
struct Period {
  Date start, end;
};

// "2025", "2025-Q3", "2025-07", "2025-07-15".
absl::StatusOr<Period> ParsePeriodLabel(absl::string_view label, absl::string_view field);
// Checks order and bounds (2000-01-01 .. 2100-01-01, at most 20 years).
absl::Status ValidatePeriod(const Period& period, absl::string_view field);

enum class TreeView { kCurrent, kAsFiled };

struct ScopeRequest {
  std::string agency_code;
  TreeView view = TreeView::kCurrent;
};

struct IndicatorSetResult {
  Period period;
  absl::Time as_of;
  std::vector<IndicatorValue> values;
  // The periodic reports of the scope overlapping the period and what
  // became of each (everything else comes from events).
  std::vector<ReportUse> parts;
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
  int rank = 0;  // 0 = not ranked (value not available)
  std::string agency_code, agency_name;
  IndicatorValue value;
  double score = 0;
};

struct ScoredIndex {
  IndexScore score;
  std::shared_ptr<const Methodology> methodology;  // keeps `score`'s pointers alive
};

// The largest numerator, denominator or value an external input may give.
inline constexpr double kMaxExternalFigure = 1e12;

struct ExternalInput {
  std::string input_id, agency_code, indicator_id;
  Period period;
  double numerator = 0, denominator = 0, value = 0;
  std::string source;
};

// A stored aggregate row that differs from the events: its key, what the
// events give and what is stored.
struct AggregateDifferenceSample {
  AggregateKey key;
  Counts expected{}, stored{};
};

struct AggregateCheck {
  int64_t dossiers = 0;
  // Keys with a non-zero counter in the events' figures or in the store.
  int64_t rows_compared = 0;
  int64_t rows_differing = 0;
  // Of those: expected from the events but not stored; stored but not
  // expected; stored with other counts.
  int64_t rows_missing = 0, rows_unexpected = 0, rows_changed = 0;
  bool repaired = false;
  int64_t rows_repaired = 0;
  // The first differing rows in key order, and the nodes and days with the
  // most differing rows (most first), at most kMaxSamples each.
  static constexpr size_t kMaxSamples = 20;
  std::vector<AggregateDifferenceSample> samples;
  std::vector<std::pair<std::string, int64_t>> nodes, days;
  // The expected rows beyond the memory budget went to this many sorted
  // runs of this many bytes in the work directory.
  int spill_runs = 0;
  int64_t spill_bytes = 0;
};

struct AggregateCheckOptions {
  // With `repair`, each differing row gets the difference added, a page of
  // rows per write transaction (writes go on meanwhile: the corrections are
  // deltas, like every write's).
  bool repair = false;
  // Bytes of expected rows kept in memory before a sorted run is written;
  // a quarter of it more for one node's time roll-ups during the merge, and
  // with `repair` a quarter for the corrections.
  size_t memory_budget = size_t{64} << 20;
  // Where the runs go; empty: the system's temporary directory.
  std::string work_dir;
  int dossiers_per_page = 1000;
  int rows_per_page = 20000;
  int rows_per_repair = 1000;
  // Tests: called after each page of dossiers is replayed, inside the
  // snapshot.
  std::function<void()> after_page;
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
                                                      std::optional<absl::Time> as_of);
  absl::StatusOr<std::vector<SeriesPoint>> TimeSeries(const ScopeRequest& scope, const Period& period,
                                                      const std::vector<std::string>& ids, Granularity granularity);
  // Ranks the children of `parent` (or its descendants of `level`) by an
  // indicator, or by a methodology's total when `methodology_id` is set.
  absl::StatusOr<std::vector<RankEntry>> Rank(const ScopeRequest& parent, AgencyLevel level, const Period& period,
                                              const std::string& indicator_id, const std::string& methodology_id,
                                              std::optional<bool> ascending);
  absl::StatusOr<ScoredIndex> Score(const ScopeRequest& scope, const Period& period,
                                    const std::string& methodology_id);

  std::vector<ItemOutcome> SubmitExternalInputs(const std::vector<ExternalInput>& inputs);
  absl::StatusOr<std::vector<ExternalInput>> ListExternalInputs(const std::string& agency_code,
                                                                const std::string& indicator_id);

  // Compares every stored aggregate row with a recomputation from the
  // events, both read in one snapshot that writers do not wait for: the
  // events' figures are built a page of dossiers at a time into sorted runs
  // (bounded memory, AggregateRuns) and merged with the stored rows, read a
  // page at a time in key order; time proportional to the data. Stops
  // within a page of the call's deadline or cancellation. With
  // options.repair, then adds each difference to its row (in pages).
  absl::StatusOr<AggregateCheck> CheckAggregates(const AggregateCheckOptions& options = {});
  // Clears the aggregates and rebuilds them from the events in one write
  // transaction (the writer waits): what a migration that adds counters
  // needs, before the server serves. Restarts the change counts and moves
  // the reference version.
  absl::StatusOr<AggregateCheck> RebuildAggregates();
  // Runs what a migration left to do (a rebuild of the aggregates after new
  // counters); called by the server before it serves.
  absl::Status RunPendingMaintenance();

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
  // Replays every dossier's events, `per_page` dossiers at a time in code
  // order: each replayed dossier goes to `on_dossier` (with its procedure,
  // if known, and its agency's path), and `after_page` runs after each page.
  absl::Status ReplayDossiers(
      MetricsReader& tx, int per_page,
      absl::FunctionRef<void(const DossierState&, const Procedure*, const std::string&)> on_dossier,
      absl::FunctionRef<absl::Status()> after_page, int64_t* dossiers);
  absl::StatusOr<ResolvedScope> Resolve(CatalogReader& tx, const Agency& root, TreeView view);
  // Open and overdue dossiers of the scope at `at`: a sum of clock-basis
  // buckets at a local midnight, the dossier index otherwise.
  absl::StatusOr<OpenCounts> OpenAt(MetricsReader& tx, const ResolvedScope& scope, absl::Time at);
  // Aggregate sums fetched at once for many scopes (a ranking, a breakdown
  // by child): one statement per kind for all their nodes instead of one
  // per scope. Keyed by node; a scope's figure is the sum over its nodes.
  struct ReferenceSnapshot;
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
  // The agency tree and the catalog, read once and kept while the
  // database's ReferenceVersion() stays the same: the catalog indicators
  // need all of it for every query.
  struct ReferenceSnapshot {
    std::string version;
    std::vector<Agency> agencies;
    std::vector<Procedure> procedures;  // with their agency lists
    absl::flat_hash_map<std::string, const Agency*> by_code;  // into `agencies`
    std::vector<const Agency*> ended;                          // agencies with a valid_until
    // Per procedure (same positions), its listed agencies that exist, by path.
    std::vector<std::vector<const Agency*>> procedure_agencies;
    std::vector<const Agency*> by_path;                        // `agencies` sorted by path
    absl::flat_hash_map<std::string, size_t> procedure_index;  // code -> position in `procedures`

    // The catalog of a scope (the subtrees at `paths`) on `day`: the
    // procedures in force and carried out there (positions in
    // `procedures`), and the counts that depend on nothing else (the two
    // counts of dossiers left zero). Depends on this snapshot only, so it
    // is computed once per scope and day: a ranking asks it of every
    // province on every call (a quarter of its time, in SubtreeRange).
    struct ScopeCatalog {
      CatalogTotals totals;
      std::vector<uint32_t> carried;
    };
    std::shared_ptr<const ScopeCatalog> CatalogOf(const std::vector<std::string>& paths, Date day) const;
    static constexpr size_t kScopeCatalogs = 1024;  // kept at most (about 8 KiB each)
    mutable std::mutex scope_catalogs_mu;
    mutable absl::flat_hash_map<std::string, std::shared_ptr<const ScopeCatalog>> scope_catalogs;

    // The position of procedure `code`, if in the catalog. `procedures` is
    // in code order and so are a node's aggregate rows (their key ends with
    // the code): a short walk on from the last match (`hint`) finds most
    // codes of a scan without hashing them (a tenth of a ranking's time).
    std::optional<size_t> IndexOf(const std::string& code, size_t& hint) const {
      for (size_t i = hint, end = std::min(procedures.size(), hint + 4); i < end; ++i) {
        if (procedures[i].code == code) {
          hint = i + 1;
          return i;
        }
      }
      auto it = procedure_index.find(code);
      if (it == procedure_index.end()) return std::nullopt;
      hint = it->second + 1;
      return it->second;
    }
  };
  absl::StatusOr<std::shared_ptr<const ReferenceSnapshot>> Reference(CatalogReader& tx);
  std::mutex reference_mu_;
  std::shared_ptr<const ReferenceSnapshot> reference_;

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
  std::mutex positive_mu_;
  std::string positive_version_;  // the reference version of the entries
  absl::flat_hash_map<std::string, PositiveEntry> positive_cache_;

  mutable std::mutex methodologies_mu_;
  std::shared_ptr<const MethodologyRegistry> methodologies_;
};

// Checks requested indicator ids (empty = every built-in one).
absl::StatusOr<std::vector<std::string>> ResolveIndicatorIds(const std::vector<std::string>& ids,
                                                             absl::string_view field);

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_METRICS_METRICS_H_
