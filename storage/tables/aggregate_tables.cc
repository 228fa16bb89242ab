#include "storage/tables/aggregate_tables.h"

#include <algorithm>
#include <array>
#include <bit>
#include <map>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/common/text.h"

namespace pstrack::sql {

namespace {

// The [lo, hi) day ranges, per grain, whose rows add up to [from, until)
// ("" = from the beginning): whole years as year rows, whole months as
// month rows, the rest as days. Without years when sums are asked per
// month, days only when asked per day.
struct GrainRange {
  int grain;
  std::string lo, hi;
};

std::vector<GrainRange> TileRange(const std::string& from, const std::string& until, bool by_month, bool by_day) {
  if (by_day || until.size() != 10 || (!from.empty() && from.size() != 10)) return {{0, from, until}};
  auto month_start = [](const std::string& d) { return d.substr(0, 7) + "-01"; };
  auto next_month = [](const std::string& d) {
    int y = std::stoi(d.substr(0, 4)), m = std::stoi(d.substr(5, 2));
    if (++m == 13) {
      m = 1;
      ++y;
    }
    return absl::StrFormat("%04d-%02d-01", y, m);
  };
  auto year_start = [](const std::string& d) { return d.substr(0, 4) + "-01-01"; };
  auto next_year = [](const std::string& d) { return absl::StrFormat("%04d-01-01", std::stoi(d.substr(0, 4)) + 1); };
  // Month-aligned inner range [m_lo, m_hi).
  const std::string m_lo = from.empty() ? "" : (month_start(from) == from ? from : next_month(from));
  const std::string m_hi = month_start(until);
  if (!from.empty() && m_lo >= m_hi) return {{0, from, until}};
  std::vector<GrainRange> out;
  auto add = [&](int grain, const std::string& lo, const std::string& hi) {
    if (lo < hi || (lo.empty() && !hi.empty())) out.push_back({grain, lo, hi});
  };
  add(0, from, m_lo.empty() ? "" : m_lo);
  add(0, m_hi, until);
  if (by_month) {
    add(kMonthGrain, m_lo, m_hi);
    return out;
  }
  const std::string y_lo = m_lo.empty() ? "" : (year_start(m_lo) == m_lo ? m_lo : next_year(m_lo));
  const std::string y_hi = year_start(m_hi);
  if (!m_lo.empty() && y_lo >= y_hi) {
    add(kMonthGrain, m_lo, m_hi);
    return out;
  }
  add(kMonthGrain, m_lo, y_lo.empty() ? "" : y_lo);
  add(kMonthGrain, y_hi, m_hi);
  add(kYearGrain, y_lo, y_hi);
  return out;
}

}  // namespace

absl::Status SqlAggregateTables::AddAggregates(const std::vector<AggregateRow>& deltas) {
  // One statement may not touch a row twice (PostgreSQL): equal keys are
  // merged first. Rows from an AggregateDeltas map come sorted and unique.
  const std::vector<AggregateRow>* rows = &deltas;
  std::vector<AggregateRow> merged;
  auto less = [](const AggregateRow& a, const AggregateRow& b) { return a.key < b.key; };
  if (!std::is_sorted(deltas.begin(), deltas.end(), less) ||
      std::adjacent_find(deltas.begin(), deltas.end(),
                         [](const AggregateRow& a, const AggregateRow& b) { return a.key == b.key; }) != deltas.end()) {
    merged = deltas;
    std::stable_sort(merged.begin(), merged.end(), less);
    size_t out = 0;
    for (size_t i = 0; i < merged.size(); ++i) {
      if (out > 0 && merged[out - 1].key == merged[i].key) {
        AddCounts(merged[out - 1].counts, merged[i].counts);
      } else {
        if (out != i) merged[out] = std::move(merged[i]);
        ++out;
      }
    }
    merged.resize(out);
    rows = &merged;
  }
  // Change counts (AggregateRow::changes): procedure rows are written
  // first, returning their presence counters; a row whose counter turned
  // on or off adds a change to the total row of its node, basis and day,
  // written with the other rows. Every writer takes its rows in this
  // order (procedure rows, then the others, each in key order), so two
  // PostgreSQL writers lock the rows they share in the same order.
  std::vector<const AggregateRow*> procedure_rows, other_rows;
  for (const AggregateRow& r : *rows) {
    (r.key.dim == AggregateDim::kProcedure ? procedure_rows : other_rows).push_back(&r);
  }
  std::map<AggregateKey, int64_t> flips;  // total row -> changes
  absl::flat_hash_map<const AggregateRow*, int64_t> changes_of;
  PSTRACK_RETURN_IF_ERROR(UpsertAggregates(procedure_rows, changes_of, &flips));
  // Totals of a flip that no counter of this write moves: added.
  std::vector<AggregateRow> unmoved_totals;
  for (const AggregateRow* r : other_rows) {
    auto it = r->key.dim == AggregateDim::kTotal ? flips.find(r->key) : flips.end();
    if (it == flips.end()) continue;
    changes_of[r] = it->second;
    flips.erase(it);
  }
  for (const auto& [key, changes] : flips) unmoved_totals.push_back(AggregateRow{key, Counts{}, changes});
  if (!unmoved_totals.empty()) {
    for (const AggregateRow& r : unmoved_totals) {
      other_rows.push_back(&r);
      changes_of[&r] = r.changes;
    }
    std::sort(other_rows.begin(), other_rows.end(),
              [](const AggregateRow* a, const AggregateRow* b) { return a->key < b->key; });
  }
  return UpsertAggregates(other_rows, changes_of, nullptr);
}

absl::Status SqlAggregateTables::ClearAggregates() {
  PSTRACK_RETURN_IF_ERROR(Guard([&] { sql_ << "DELETE FROM aggregates"; }));
  // The change counts start again from zero: what readers derived and
  // checked against them must not be taken for current (AggregateRow).
  return BumpReferenceVersion();
}

absl::StatusOr<std::vector<AggregateRow>> SqlAggregateTables::SumAggregates(const AggregateQuery& query) {
  std::vector<AggregateRow> out;
  if (query.nodes.empty()) return out;
  // Rows are copied out one by one; breakdowns return thousands.
  if (query.by_dim_value || query.by_node || query.by_month || query.by_day) out.reserve(4096);
  const auto& names = CounterNames();
  const std::vector<GrainRange> ranges = query.rolled_up
                                             ? TileRange(query.from_day, query.until_day, query.by_month, query.by_day)
                                             : std::vector<GrainRange>{{0, query.from_day, query.until_day}};
  const size_t per_statement = kMaxParamsPerStatement / ranges.size();
  for (size_t begin = 0; begin < query.nodes.size(); begin += per_statement) {
    size_t end = std::min(query.nodes.size(), begin + per_statement);
    DynamicQuery q;
    const std::string node = query.by_node ? "node_code" : "''";
    const std::string value = query.by_dim_value ? "dim_value" : "''";
    const std::string day = query.by_day ? "day" : query.by_month ? "substr(day, 1, 7)" : "''";
    q.sql = absl::StrCat("SELECT ", node, ", ", value, ", ", day);
    std::array<bool, kCounterCount> summed{};
    for (int i = 0; i < kCounterCount; ++i) summed[i] = query.only.empty();
    for (Counter c : query.only) summed[static_cast<int>(c)] = true;
    std::string columns;
    for (int i = 0; i < kCounterCount; ++i) {
      // Only the counters asked for travel (each column costs per row).
      if (summed[i]) absl::StrAppend(&q.sql, ", SUM(", names[i], ")");
      if (summed[i]) absl::StrAppend(&columns, ", ", names[i]);
    }
    if (query.with_changes) {
      absl::StrAppend(&q.sql, ", SUM(changes)");
      absl::StrAppend(&columns, ", changes");
    }
    // One indexed range per grain (node, basis, dim lead the key).
    absl::StrAppend(&q.sql, " FROM (");
    for (size_t r = 0; r < ranges.size(); ++r) {
      absl::StrAppend(&q.sql, r ? " UNION ALL " : "", "SELECT node_code, dim_value, day", columns,
                      " FROM aggregates WHERE basis = ", q.Bind(static_cast<int>(query.basis) + ranges[r].grain),
                      " AND dim = ", q.Bind(static_cast<int>(query.dim)), " AND day >= ", q.Bind(ranges[r].lo),
                      " AND day < ", q.Bind(ranges[r].hi), " AND node_code IN (");
      for (size_t i = begin; i < end; ++i) absl::StrAppend(&q.sql, i > begin ? ", " : "", q.Bind(query.nodes[i]));
      absl::StrAppend(&q.sql, ")");
    }
    absl::StrAppend(&q.sql, ") AS tiles GROUP BY 1, 2, 3");
    AggregateRow row;
    row.key.basis = query.basis;
    row.key.dim = query.dim;
    int sums = query.with_changes ? 1 : 0;
    for (int i = 0; i < kCounterCount; ++i) sums += summed[i] ? 1 : 0;
    PSTRACK_RETURN_IF_ERROR(dialect_.ForEachRow(q, 3, sums, [&](const Row& r) {
      r.Text(0, row.key.node_code);
      r.Text(1, row.key.dim_value);
      r.Text(2, row.key.day);
      int column = 3;
      for (int i = 0; i < kCounterCount; ++i) row.counts[i] = summed[i] ? r.Number(column++) : 0;
      row.changes = query.with_changes ? r.Number(column) : 0;
      out.push_back(row);
    }));
  }
  return out;
}

absl::StatusOr<std::vector<std::vector<std::string>>> SqlAggregateTables::PositiveValues(
    const AggregateQuery& query, const std::vector<Counter>& counters) {
  std::vector<std::vector<std::string>> out(counters.size());
  PSTRACK_RETURN_IF_ERROR(
      ForEachPositiveValue(query, counters, /*by_node=*/false,
                           [&](const std::string&, const std::string& value, const std::vector<int>& flags) {
                             for (size_t c = 0; c < counters.size(); ++c) {
                               if (flags[c]) out[c].push_back(value);
                             }
                           }));
  for (auto& values : out) SortUnique(values);
  return out;
}

absl::Status SqlAggregateTables::ForEachPositiveValue(
    const AggregateQuery& query, const std::vector<Counter>& counters, bool by_node,
    absl::FunctionRef<void(const std::string&, const std::string&, const std::vector<int>&)> on_row) {
  if (query.nodes.empty() || counters.empty()) return absl::OkStatus();
  const std::vector<GrainRange> ranges =
      query.rolled_up ? TileRange(query.from_day, query.until_day, /*by_month=*/false, /*by_day=*/false)
                      : std::vector<GrainRange>{{0, query.from_day, query.until_day}};
  const size_t per_statement = kMaxParamsPerStatement / ranges.size();
  // ", CASE WHEN c1 > 0 THEN 1 ELSE 0 END, ..." (integers on both
  // backends: PostgreSQL's "c1 > 0" is a boolean) and "(c1 > 0 OR ...)".
  std::string flags, any;
  for (size_t c = 0; c < counters.size(); ++c) {
    const char* column = CounterNames()[static_cast<int>(counters[c])];
    absl::StrAppend(&flags, ", CASE WHEN ", column, " > 0 THEN 1 ELSE 0 END");
    absl::StrAppend(&any, c ? " OR " : "", column, " > 0");
  }
  std::string node, value;
  std::vector<int> positive(counters.size());
  for (size_t begin = 0; begin < query.nodes.size(); begin += per_statement) {
    const size_t end = std::min(query.nodes.size(), begin + per_statement);
    DynamicQuery q;
    // Without nodes, UNION and DISTINCT drop the repeats in SQL (cheaper
    // than in C++ for one node's few thousand rows); per node, a
    // ranking's tens of thousands of rows made that temporary B-tree the
    // larger cost, so the callers drop the repeats.
    for (size_t r = 0; r < ranges.size(); ++r) {
      absl::StrAppend(&q.sql, r ? (by_node ? " UNION ALL " : " UNION ") : "",
                      by_node ? "SELECT node_code" : "SELECT DISTINCT ''", ", dim_value", flags,
                      " FROM aggregates WHERE basis = ", q.Bind(static_cast<int>(query.basis) + ranges[r].grain),
                      " AND dim = ", q.Bind(static_cast<int>(query.dim)), " AND day >= ", q.Bind(ranges[r].lo),
                      " AND day < ", q.Bind(ranges[r].hi), " AND (", any, ") AND node_code IN (");
      for (size_t i = begin; i < end; ++i) absl::StrAppend(&q.sql, i > begin ? ", " : "", q.Bind(query.nodes[i]));
      absl::StrAppend(&q.sql, ")");
    }
    PSTRACK_RETURN_IF_ERROR(dialect_.ForEachRow(q, 2, static_cast<int>(counters.size()), [&](const Row& r) {
      r.Text(0, node);
      r.Text(1, value);
      for (size_t c = 0; c < counters.size(); ++c) positive[c] = r.Number(static_cast<int>(c) + 2) != 0;
      on_row(node, value, positive);
    }));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<AggregateRow>> SqlAggregateTables::AllAggregates() {
  const auto& names = CounterNames();
  DynamicQuery q;
  q.sql = "SELECT node_code, basis, dim, dim_value, day";
  std::string nonzero;
  for (int i = 0; i < kCounterCount; ++i) {
    absl::StrAppend(&q.sql, ", ", names[i]);
    absl::StrAppend(&nonzero, i ? " OR " : "", names[i], " <> 0");
  }
  // Day-grain rows only: the roll-ups are this store's business.
  absl::StrAppend(&q.sql, " FROM aggregates WHERE basis < ", kMonthGrain, " AND (", nonzero,
                  ") ORDER BY node_code, basis, dim, dim_value, day");
  std::vector<AggregateRow> out;
  PSTRACK_RETURN_IF_ERROR(FetchAggregateRows(q, &out));
  return out;
}

StoredAggregateOrder SqlAggregateTables::aggregate_order() const { return dialect_.aggregate_order(); }

absl::StatusOr<std::vector<AggregateRow>> SqlAggregateTables::AggregatePage(const std::optional<AggregateKey>& after,
                                                                            int limit) {
  const auto& names = CounterNames();
  // The primary key's columns (migrations 3 and 8), so that the range and
  // the order are the index's.
  const bool day_first = aggregate_order() == StoredAggregateOrder::kDayThenValue;
  const char* key = day_first ? "node_code, basis, dim, day, dim_value" : "node_code, basis, dim, dim_value, day";
  DynamicQuery q;
  q.sql = "SELECT node_code, basis, dim, dim_value, day";
  for (int i = 0; i < kCounterCount; ++i) absl::StrAppend(&q.sql, ", ", names[i]);
  absl::StrAppend(&q.sql, " FROM aggregates");
  if (after) {
    const std::string node = q.Bind(after->node_code);
    const std::string basis = q.Bind(static_cast<int>(after->basis));
    const std::string dim = q.Bind(static_cast<int>(after->dim));
    const std::string day = q.Bind(after->day);
    const std::string value = q.Bind(after->dim_value);
    absl::StrAppend(&q.sql, " WHERE (", key, ") > (", node, ", ", basis, ", ", dim, ", ", day_first ? day : value, ", ",
                    day_first ? value : day, ")");
  }
  absl::StrAppend(&q.sql, " ORDER BY ", key, " LIMIT ", std::max(1, limit));
  std::vector<AggregateRow> out;
  out.reserve(std::max(1, limit));
  PSTRACK_RETURN_IF_ERROR(FetchAggregateRows(q, &out));
  return out;
}

absl::Status SqlAggregateTables::UpsertAggregates(const std::vector<const AggregateRow*>& rows,
                                                  const absl::flat_hash_map<const AggregateRow*, int64_t>& changes_of,
                                                  std::map<AggregateKey, int64_t>* flips) {
  // One statement (or a few) per basis, written as the dialect writes them.
  std::map<int, std::vector<const AggregateRow*>> by_basis;
  for (const AggregateRow* r : rows) by_basis[static_cast<int>(r->key.basis)].push_back(r);
  for (const auto& [basis, group] : by_basis) {
    std::array<bool, kCounterCount> moved{};
    bool any = false;
    for (const AggregateRow* r : group) {
      for (int i = 0; i < kCounterCount; ++i) moved[i] |= r->counts[i] != 0;
      any |= changes_of.contains(r);
    }
    for (bool m : moved) any |= m;
    if (!any) continue;
    // Rows that move no presence counter cannot turn one on or off (a
    // finish-basis procedure row): their statements return nothing.
    bool watch = false;
    for (Counter c : kPresenceCounters) watch |= flips != nullptr && moved[static_cast<int>(c)];
    PSTRACK_RETURN_IF_ERROR(dialect_.UpsertAggregates(
        AggregateUpsert{.basis = basis, .rows = group, .changes_of = changes_of, .turns = watch ? flips : nullptr}));
  }
  return absl::OkStatus();
}

std::string SqlAggregateTables::NonZeroCondition(absl::string_view prefix) {
  std::string out;
  const auto& names = CounterNames();
  for (int i = 0; i < kCounterCount; ++i) absl::StrAppend(&out, i ? " OR " : "", prefix, names[i], " <> 0");
  return out;
}

void SqlAggregateTables::SortUnique(std::vector<std::string>& values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
}

absl::Status SqlAggregateTables::FetchAggregateRows(DynamicQuery& q, std::vector<AggregateRow>* out) {
  AggregateRow row;
  int basis = 0, dim = 0;
  std::array<long long, kCounterCount> counts{};
  return Fetch(
      q,
      [&](Columns& st) {
        st.exchange(Into(row.key.node_code));
        st.exchange(Into(basis));
        st.exchange(Into(dim));
        st.exchange(Into(row.key.dim_value));
        st.exchange(Into(row.key.day));
        for (int i = 0; i < kCounterCount; ++i) st.exchange(Into(counts[i]));
      },
      [&] {
        row.key.basis = static_cast<Basis>(basis);
        row.key.dim = static_cast<AggregateDim>(dim);
        for (int i = 0; i < kCounterCount; ++i) row.counts[i] = counts[i];
        out->push_back(row);
      });
}

}  // namespace pstrack::sql
