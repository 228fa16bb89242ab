// The aggregate rows: upserts of deltas with their change counts, range sums over the time grains, pages in key order.
// Implements its part of a store's transactions (storage/sql_transaction.h).
// Thread-compatible: used inside one transaction.
#ifndef PSTRACK_STORAGE_TABLES_AGGREGATE_TABLES_H_
#define PSTRACK_STORAGE_TABLES_AGGREGATE_TABLES_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/figures/aggregate_store.h"
#include "storage/sql/context.h"

namespace pstrack::sql {

class SqlAggregateTables : public virtual AggregateWriter, protected virtual SqlContext {
 public:
  absl::Status AddAggregates(const std::vector<AggregateRow>& deltas) override;
  absl::Status ClearAggregates() override;
  absl::StatusOr<std::vector<AggregateRow>> SumAggregates(const AggregateQuery& query) override;
  absl::StatusOr<std::vector<std::vector<std::string>>> PositiveValues(const AggregateQuery& query,
                                                                       const std::vector<Counter>& counters) override;
  absl::Status ForEachPositiveValue(
      const AggregateQuery& query, const std::vector<Counter>& counters, bool by_node,
      absl::FunctionRef<void(const std::string&, const std::string&, const std::vector<int>&)> on_row) override;
  absl::StatusOr<std::vector<AggregateRow>> AllAggregates() override;
  StoredAggregateOrder aggregate_order() const override;
  absl::StatusOr<std::vector<AggregateRow>> AggregatePage(const std::optional<AggregateKey>& after, int limit) override;

 protected:
  // Adds `rows` (in key order) to the aggregates, with the change counts
  // that `changes_of` gives (zero for the others). With `flips`: the
  // statements return each row's presence counters (kPresenceCounters),
  // and `flips` counts, per total row, the rows that turned one on or off.
  absl::Status UpsertAggregates(const std::vector<const AggregateRow*>& rows,
                                const absl::flat_hash_map<const AggregateRow*, int64_t>& changes_of,
                                std::map<AggregateKey, int64_t>* flips);
  // "c1 <> 0 OR c2 <> 0 ..." over every counter, columns prefixed.
  static std::string NonZeroCondition(absl::string_view prefix);
  static void SortUnique(std::vector<std::string>& values);
  // Appends the rows of `q`, which selects node_code, basis, dim,
  // dim_value, day and every counter in CounterNames() order.
  absl::Status FetchAggregateRows(DynamicQuery& q, std::vector<AggregateRow>* out);
};

}  // namespace pstrack::sql

#endif  // PSTRACK_STORAGE_TABLES_AGGREGATE_TABLES_H_
