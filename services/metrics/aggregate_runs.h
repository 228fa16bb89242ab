// Aggregate rows of any size, in bounded memory: rows are added in any order
// and read back once, in a store's key order, equal keys summed. Beyond a
// memory budget the buffered rows go to a sorted run file (a compact record
// per row: the key, then only the non-zero counters); reading merges the
// runs and what is still in memory. The aggregate check builds the expected
// rows with it and merges them with the stored rows, page by page (external
// merge: time n log(runs), memory the budget plus a read buffer per run).
// Thread-compatible.
#ifndef PSTRACK_SERVICES_METRICS_AGGREGATE_RUNS_H_
#define PSTRACK_SERVICES_METRICS_AGGREGATE_RUNS_H_

#include <cstdint>
#include <array>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/figures/aggregation.h"
#include "services/metrics/metrics_store.h"

namespace pstrack {

// The order a store keeps aggregate rows in (its primary key):
// node, basis, dimension, then the day and the dimension value in the order
// StoredAggregateOrder names (SQLite clusters by day first, PostgreSQL's key
// has the value first). Strings compare as bytes, as both stores do.
struct AggregateKeyOrder {
  StoredAggregateOrder stored = StoredAggregateOrder::kValueThenDay;
  bool operator()(const AggregateKey& a, const AggregateKey& b) const;
};

struct AggregateKeyHash {
  size_t operator()(const AggregateKey& k) const {
    return absl::HashOf(k.node_code, static_cast<int>(k.basis), static_cast<int>(k.dim), k.dim_value, k.day);
  }
};

class AggregateRuns {
 public:
  // `memory_budget`: bytes of buffered rows (estimated) before a run is
  // written; `spill_dir`: where run files go (removed by the destructor).
  AggregateRuns(AggregateKeyOrder order, size_t memory_budget, std::string spill_dir);
  ~AggregateRuns();
  AggregateRuns(const AggregateRuns&) = delete;
  AggregateRuns& operator=(const AggregateRuns&) = delete;

  // Adds the rows' counts (summing with what has the same key). Only before
  // the first Next().
  absl::Status Add(AggregateDeltas&& rows);
  absl::Status Add(const AggregateKey& key, const Counts& counts);

  // The next row in key order, every key once with its counts summed; rows
  // whose counts are all zero are skipped. False at the end.
  absl::StatusOr<bool> Next(AggregateRow* row);

  int runs_written() const { return runs_written_; }
  int64_t bytes_written() const { return bytes_written_; }
  size_t peak_buffered_bytes() const { return peak_buffered_bytes_; }

 private:
  class Run;
  // A key as buffered: its strings by their number in strings_, so that
  // summing hashes four integers and sorting compares integers (the strings
  // are ranked once per sort; there are a few thousand).
  struct PackedKey {
    uint32_t node = 0, value = 0, day = 0;
    uint8_t basis = 0, dim = 0;
    bool operator==(const PackedKey& o) const {
      return node == o.node && value == o.value && day == o.day && basis == o.basis && dim == o.dim;
    }
    template <typename H>
    friend H AbslHashValue(H h, const PackedKey& k) {
      return H::combine(std::move(h), k.node, k.value, k.day, k.basis, k.dim);
    }
  };
  uint32_t Intern(const std::string& s);
  void AddToRow(uint32_t position, const Counts& counts);
  Counts RowCounts(uint32_t position) const;
  AggregateKey Unpack(const PackedKey& k) const;
  // The buffered rows' positions in key order.
  std::vector<uint32_t> SortedBuffer() const;
  absl::Status Spill();
  // Merges runs into one while there are more than kMaxOpenRuns (each open
  // run holds a read buffer).
  absl::Status ReduceRuns();
  absl::Status StartMerge();
  absl::StatusOr<bool> NextMerged(AggregateRow* row);

  AggregateKeyOrder order_;
  size_t memory_budget_;
  std::string spill_dir_;
  absl::flat_hash_map<std::string, uint32_t> ids_;
  std::vector<std::string> strings_;
  // The buffer: rows summed by key, at most capacity_ of them (from the
  // memory budget, allocated once).
  size_t capacity_ = 0;
  absl::flat_hash_map<PackedKey, uint32_t> index_;  // -> position in keys_ and rows_
  std::vector<PackedKey> keys_;
  // The sums in 32 bits (a row is a few hundred dossiers' contributions at
  // most, in practice): half the memory, so twice the rows a run. A sum
  // that does not fit moves, whole, to wide_ (the run files keep 64 bits).
  using NarrowCounts = std::array<int32_t, kCounterCount>;
  std::vector<NarrowCounts> rows_;
  absl::flat_hash_map<uint32_t, Counts> wide_;  // position -> its sums
  size_t peak_buffered_bytes_ = 0;
  std::vector<std::unique_ptr<Run>> runs_;
  int next_file_ = 0;
  int runs_written_ = 0;
  int64_t bytes_written_ = 0;
  bool merging_ = false;
  // The merge: each run's current row, and the buffer's position.
  std::vector<AggregateRow> heads_;
  std::vector<size_t> heap_;  // the runs with a head, smallest key on top
  std::vector<uint32_t> buffer_sorted_;
  size_t buffer_at_ = 0;
  AggregateKey buffer_key_;  // of buffer_sorted_[buffer_at_]
};

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_METRICS_AGGREGATE_RUNS_H_
