// The aggregate rows as the figures see them (keys, counts, the time
// roll-ups, the sums a query asks for) and their reader and writer, which
// storage/ implements. Thread-compatible.
#ifndef PSTRACK_SERVICES_FIGURES_AGGREGATE_STORE_H_
#define PSTRACK_SERVICES_FIGURES_AGGREGATE_STORE_H_

#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/common/transactions.h"
#include "services/figures/contribution.h"

namespace pstrack {

// Aggregate buckets: per agency node (the filing agency and each of its
// ancestors, so a subtree's total is the rows of its root), basis (receipt or
// finish day), breakdown dimension and day.
enum class AggregateDim { kTotal = 0, kChannel = 1, kField = 2, kProcedure = 3 };

struct AggregateKey {
  std::string node_code;
  Basis basis = Basis::kReceipt;
  AggregateDim dim = AggregateDim::kTotal;
  std::string dim_value;  // "" for kTotal
  std::string day;        // "YYYY-MM-DD"
  bool operator<(const AggregateKey& o) const {
    return std::tie(node_code, basis, dim, dim_value, day) < std::tie(o.node_code, o.basis, o.dim, o.dim_value, o.day);
  }
  bool operator==(const AggregateKey& o) const {
    return std::tie(node_code, basis, dim, dim_value, day) == std::tie(o.node_code, o.basis, o.dim, o.dim_value, o.day);
  }
};

struct AggregateRow {
  AggregateKey key;
  Counts counts{};
  // Not a figure: how many times a procedure row of this node, basis and
  // day turned a presence counter (kPresenceCounters) on or off (both at
  // once: one), kept on the total row; AddAggregates counts it (ignoring
  // the field in its input). It only grows, so an unchanged sum over a range means that no
  // procedure row of the range changed presence: readers check what they
  // derived from presence (a ranking's catalog figures) with it. Rebuilding
  // the aggregates restarts it, and moves the reference version
  // (ReadTransaction::ReferenceVersion) for that reason.
  int64_t changes = 0;
};

// The order of a store's aggregate rows (its primary key) after node, basis
// and dimension: SQLite clusters them by day first (a month of a breakdown
// is one range), PostgreSQL's key has the dimension value first.
enum class StoredAggregateOrder { kValueThenDay, kDayThenValue };

// Time roll-ups. Besides its day rows (basis 1..3), a node may have month
// rows (basis + kMonthGrain, day "YYYY-MM-01") and year rows (basis +
// kYearGrain, day "YYYY-01-01"), each the sum of its days. Which nodes have
// them is the writer's choice (services/figures/aggregation.h); a query
// says whether its nodes do (AggregateQuery::rolled_up).
inline constexpr int kMonthGrain = 10, kYearGrain = 20;
AggregateKey MonthRollup(const AggregateKey& day_key);
AggregateKey YearRollup(const AggregateKey& day_key);

// Sums of aggregate rows for some nodes, one basis and one dimension, over
// [from_day, until_day), grouped as asked.
struct AggregateQuery {
  std::vector<std::string> nodes;
  Basis basis = Basis::kReceipt;
  AggregateDim dim = AggregateDim::kTotal;
  std::string from_day, until_day;
  bool by_node = false;       // keep node_code in the result
  bool by_dim_value = false;  // keep dim_value
  bool by_month = false;      // day becomes "YYYY-MM"
  bool by_day = false;        // keep the day
  // Only these counters are summed (the others come back 0); empty = all.
  // Fewer sums make wide scans (a year of every procedure) much cheaper.
  std::vector<Counter> only = {};
  // Every node has month and year roll-ups: long ranges read those. False
  // reads the day rows, which every node has.
  bool rolled_up = false;
  // Also sum AggregateRow::changes.
  bool with_changes = false;
};

class AggregateReader {
 public:
  virtual ~AggregateReader() = default;
  virtual absl::StatusOr<std::vector<AggregateRow>> SumAggregates(const AggregateQuery& query) = 0;
  // For each of `counters`, the distinct dim values (sorted) of the query's
  // nodes and range where it is positive in some row (the query's grouping
  // and `only` are ignored). Stored counts are sums of dossiers'
  // contributions and never negative, so these are exactly the values whose
  // sum is positive, found in one scan without summing (which costs several
  // times more on wide breakdowns).
  virtual absl::StatusOr<std::vector<std::vector<std::string>>> PositiveValues(
      const AggregateQuery& query, const std::vector<Counter>& counters) = 0;
  // The rows behind PositiveValues, streamed: for each row with a positive
  // counter, its node ("" unless `by_node`), dim value and one 0/1 flag per
  // counter. A value may come more than once (per flag combination, and
  // per node, day and grain when by node): callers drop the repeats. What a
  // ranking reads, every node in one statement, without building strings.
  virtual absl::Status ForEachPositiveValue(
      const AggregateQuery& query, const std::vector<Counter>& counters, bool by_node,
      absl::FunctionRef<void(const std::string& node, const std::string& value, const std::vector<int>& flags)>
          on_row) = 0;
  // Every stored aggregate row with a non-zero counter (for checks).
  virtual absl::StatusOr<std::vector<AggregateRow>> AllAggregates() = 0;
  // The stored aggregate rows of every grain (zero rows too), in the
  // store's key order: up to `limit` after `after` (none: from the first).
  // A page is one indexed range read, whatever the table's size.
  virtual StoredAggregateOrder aggregate_order() const = 0;
  virtual absl::StatusOr<std::vector<AggregateRow>> AggregatePage(const std::optional<AggregateKey>& after,
                                                                  int limit) = 0;
};

class AggregateWriter : public virtual AggregateReader, public virtual TransactionControl {
 public:
  // Adds each row's counts to the stored bucket (creating it), in
  // multi-row statements. Negative counts retract. Counts the change counts
  // of the total rows (AggregateRow::changes).
  virtual absl::Status AddAggregates(const std::vector<AggregateRow>& deltas) = 0;
  virtual absl::Status ClearAggregates() = 0;
};

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_FIGURES_AGGREGATE_STORE_H_
