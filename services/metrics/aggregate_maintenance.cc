#include "services/metrics/aggregate_maintenance.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "services/common/call_limits.h"
#include "services/common/log.h"
#include "services/common/status.h"
#include "services/figures/aggregation.h"
#include "services/filings/dossier_pages.h"
#include "services/lifecycle/lifecycle.h"
#include "services/metrics/aggregate_runs.h"

namespace pstrack {

absl::Status AggregateMaintenance::RunPendingMaintenance() {
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

absl::Status AggregateMaintenance::ReplayDossiers(
    MetricsReader& tx, int per_page,
    absl::FunctionRef<void(const DossierState&, const Procedure*, const std::string&)> on_dossier,
    absl::FunctionRef<absl::Status()> after_page, int64_t* dossiers) {
  absl::flat_hash_map<std::string, std::optional<Agency>> agencies;
  absl::flat_hash_map<std::string, std::optional<Procedure>> procedures;
  return ForEachDossierPage(
      tx, DossierQuery{}, per_page, [&](const std::vector<DossierRow>& rows, EventsByDossier& by_dossier) {
        for (const DossierRow& r : rows) {
          std::vector<FilingEvent>& events = by_dossier[r.code];
          const Procedure* procedure = nullptr;
          if (const std::string code = ProcedureCodeOf(events); !code.empty()) {
            if (!procedures.contains(code)) {
              PSTRACK_ASSIGN_OR_RETURN(procedures[code], tx.FindProcedure(code));
            }
            auto& p = procedures[code];
            procedure = p ? &*p : nullptr;
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
        return after_page();
      });
}

absl::StatusOr<AggregateCheck> AggregateMaintenance::RebuildAggregates() {
  AggregateCheck check;
  PSTRACK_RETURN_IF_ERROR(store_.Write([&](MetricsWriter& tx) -> absl::Status {
    // As the projection's lead: no round projects meanwhile.
    PSTRACK_RETURN_IF_ERROR(LeadTheProjection(tx));
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

// One check's state: its options and work directory, the result so far,
// the corrections (with repair) and the differing rows per node and day.
struct AggregateMaintenance::CheckRun {
  explicit CheckRun(const AggregateCheckOptions& o)
      : options(o), work(o.work_dir.empty() ? std::filesystem::temp_directory_path().string() : o.work_dir) {}
  const AggregateCheckOptions& options;
  const std::string work;
  AggregateCheck check;
  std::unique_ptr<AggregateRuns> corrections;
  absl::flat_hash_map<std::string, int64_t> by_node, by_day;
};

absl::StatusOr<AggregateCheck> AggregateMaintenance::CheckAggregates(const AggregateCheckOptions& options) {
  CheckRun run(options);
  const absl::Time started = absl::Now();
  PSTRACK_RETURN_IF_ERROR(store_.ReadLongSnapshot([&](MetricsReader& tx) -> absl::Status {
    const AggregateKeyOrder order{tx.aggregate_order()};
    AggregateRuns expected(order, options.memory_budget, run.work);
    absl::flat_hash_set<std::string> rolled_up;
    PSTRACK_RETURN_IF_ERROR(ReplayExpected(tx, run, expected, rolled_up));
    const absl::Duration replayed_in = absl::Now() - started;
    if (options.repair) run.corrections = std::make_unique<AggregateRuns>(order, options.memory_budget / 4, run.work);
    PSTRACK_RETURN_IF_ERROR(CompareStored(tx, run, expected, rolled_up, order));
    run.check.spill_runs = expected.runs_written();
    run.check.spill_bytes = expected.bytes_written();
    LogInfo("aggregate check: ", run.check.dossiers, " dossiers replayed in ", absl::FormatDuration(replayed_in),
            " (", run.check.spill_runs, " sorted runs, ", run.check.spill_bytes >> 20, " MiB), ",
            run.check.rows_compared, " rows compared in ", absl::FormatDuration(absl::Now() - started - replayed_in),
            "; ", run.check.rows_differing, " differ");
    return absl::OkStatus();
  }));
  run.check.nodes = Largest(run.by_node, AggregateCheck::kMaxSamples);
  run.check.days = Largest(run.by_day, AggregateCheck::kMaxSamples);
  if (run.corrections && run.check.rows_differing > 0) PSTRACK_RETURN_IF_ERROR(Repair(run));
  return std::move(run.check);
}

// 1. What the events give, in sorted runs. Without the time roll-ups: the
// merge derives them from the day rows (they were half of the rows added).
// The nodes that have them are the first kRolledUpDepth of each dossier's
// path.
absl::Status AggregateMaintenance::ReplayExpected(MetricsReader& tx, CheckRun& run, AggregateRuns& expected,
                                                  absl::flat_hash_set<std::string>& rolled_up) {
  std::string last_path;
  absl::Status added;
  return ReplayDossiers(
      tx, run.options.dossiers_per_page,
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
        if (run.options.after_page) run.options.after_page();
        PSTRACK_RETURN_IF_ERROR(store_.LongSnapshotGrowth());
        return added;
      },
      &run.check.dossiers);
}

// 2. The expected rows (with their roll-ups) merged with the stored ones,
// both in key order, a page of stored rows at a time.
absl::Status AggregateMaintenance::CompareStored(MetricsReader& tx, CheckRun& run, AggregateRuns& expected,
                                                 const absl::flat_hash_set<std::string>& rolled_up,
                                                 AggregateKeyOrder order) {
  AggregateCheck& check = run.check;
  auto compare = [&](const AggregateKey& key, const Counts& want, const Counts& have) -> absl::Status {
    const bool want_any = AnyCount(want), have_any = AnyCount(have);
    if (!want_any && !have_any) return absl::OkStatus();
    ++check.rows_compared;
    if (want == have) return absl::OkStatus();
    ++check.rows_differing;
    ++(!have_any ? check.rows_missing : !want_any ? check.rows_unexpected : check.rows_changed);
    if (check.samples.size() < AggregateCheck::kMaxSamples) check.samples.push_back({key, want, have});
    ++run.by_node[key.node_code];
    ++run.by_day[key.day];
    if (run.corrections) {
      Counts delta{};
      for (int i = 0; i < kCounterCount; ++i) delta[i] = want[i] - have[i];
      PSTRACK_RETURN_IF_ERROR(run.corrections->Add(key, delta));
    }
    return absl::OkStatus();
  };
  const Counts zero{};
  WithRollups with_rollups(expected, order, rolled_up, run.options.memory_budget / 4, run.work);
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
      PSTRACK_ASSIGN_OR_RETURN(stored, tx.AggregatePage(after, run.options.rows_per_page));
      at = 0;
      stored_done = stored.size() < static_cast<size_t>(run.options.rows_per_page);
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
  return absl::OkStatus();
}

// 3. The repair: each difference added to its row, a page per write
// transaction. Writes since the snapshot added their own deltas to the same
// rows, so the sum is right whatever they did.
absl::Status AggregateMaintenance::Repair(CheckRun& run) {
  std::vector<AggregateRow> page;
  AggregateRow row;
  while (true) {
    PSTRACK_ASSIGN_OR_RETURN(bool more, run.corrections->Next(&row));
    if (more) page.push_back(std::move(row));
    if (page.size() == static_cast<size_t>(run.options.rows_per_repair) || (!more && !page.empty())) {
      PSTRACK_RETURN_IF_ERROR(CheckCallLimits());
      PSTRACK_RETURN_IF_ERROR(store_.Write([&](MetricsWriter& tx) { return tx.AddAggregates(page); }));
      run.check.rows_repaired += static_cast<int64_t>(page.size());
      page.clear();
    }
    if (!more) break;
  }
  run.check.repaired = true;
  return absl::OkStatus();
}

}  // namespace pstrack
