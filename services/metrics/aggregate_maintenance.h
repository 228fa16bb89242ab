// Keeping the aggregates true to the events: the check that compares every
// stored aggregate row with a recomputation from the events (and repairs
// the differences), the rebuild from scratch, and the maintenance a schema
// migration leaves for the server (a rebuild after new counters).
// Thread-safe: the check reads one long snapshot that writers do not wait
// for; the rebuild is one write transaction.
#ifndef PSTRACK_SERVICES_METRICS_AGGREGATE_MAINTENANCE_H_
#define PSTRACK_SERVICES_METRICS_AGGREGATE_MAINTENANCE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "services/calendar/working_calendar.h"
#include "services/figures/aggregate_store.h"
#include "services/lifecycle/lifecycle.h"
#include "services/metrics/aggregate_runs.h"
#include "services/metrics/metrics_store.h"

namespace pstrack {

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

class AggregateMaintenance {
 public:
  AggregateMaintenance(MetricsStore store, std::shared_ptr<const WorkingCalendar> calendar)
      : store_(store), calendar_(std::move(calendar)) {}

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

 private:
  // Replays every dossier's events, `per_page` dossiers at a time in code
  // order: each replayed dossier goes to `on_dossier` (with its procedure,
  // if known, and its agency's path), and `after_page` runs after each page.
  absl::Status ReplayDossiers(
      MetricsReader& tx, int per_page,
      absl::FunctionRef<void(const DossierState&, const Procedure*, const std::string&)> on_dossier,
      absl::FunctionRef<absl::Status()> after_page, int64_t* dossiers);

  // The check's steps (aggregate_maintenance.cc).
  struct CheckRun;
  absl::Status ReplayExpected(MetricsReader& tx, CheckRun& run, AggregateRuns& expected,
                              absl::flat_hash_set<std::string>& rolled_up);
  absl::Status CompareStored(MetricsReader& tx, CheckRun& run, AggregateRuns& expected,
                             const absl::flat_hash_set<std::string>& rolled_up, AggregateKeyOrder order);
  absl::Status Repair(CheckRun& run);

  MetricsStore store_;
  std::shared_ptr<const WorkingCalendar> calendar_;
};

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_METRICS_AGGREGATE_MAINTENANCE_H_
