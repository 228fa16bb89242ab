#include "services/figures/aggregation.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/lifecycle/event.h"

namespace pstrack {

AggregateKey MonthRollup(const AggregateKey& day_key) {
  AggregateKey k = day_key;
  k.basis = static_cast<Basis>(static_cast<int>(day_key.basis) + kMonthGrain);
  k.day = day_key.day.substr(0, 7) + "-01";
  return k;
}

AggregateKey YearRollup(const AggregateKey& day_key) {
  AggregateKey k = day_key;
  k.basis = static_cast<Basis>(static_cast<int>(day_key.basis) + kYearGrain);
  k.day = day_key.day.substr(0, 4) + "-01-01";
  return k;
}

void AccumulateDossier(const DossierState& state, const Procedure* procedure, const std::string& agency_path,
                       int sign, AggregateDeltas* deltas) {
  ForEachAggregateContribution(state, procedure, agency_path, [&](const AggregateKey& key, const Counts& counts) {
    Counts& target = (*deltas)[key];
    for (int i = 0; i < kCounterCount; ++i) target[i] += sign * counts[i];
  });
}

void ForEachAggregateContribution(const DossierState& state, const Procedure* procedure,
                                  const std::string& agency_path,
                                  absl::FunctionRef<void(const AggregateKey&, const Counts&)> add, bool with_rollups) {
  std::vector<Contribution> contributions = ContributionsOf(state, procedure);
  if (contributions.empty()) return;
  const std::vector<std::string> nodes = absl::StrSplit(agency_path, '/');
  const std::pair<AggregateDim, std::string> dims[] = {
      {AggregateDim::kTotal, ""},
      {AggregateDim::kChannel, std::string(ChannelName(state.channel))},
      {AggregateDim::kField, procedure ? procedure->field : ""},
      {AggregateDim::kProcedure, state.procedure_code},
  };
  for (const Contribution& c : contributions) {
    const std::string day = FormatDate(c.day);
    // Open and overdue counts are asked of scopes, not of breakdowns.
    const size_t dim_count = c.basis == Basis::kClock || c.basis == Basis::kEvent ? 1 : std::size(dims);
    for (size_t n = 0; n < nodes.size(); ++n) {
      for (size_t d = 0; d < dim_count; ++d) {
        const auto& [dim, value] = dims[d];
        const AggregateKey key{nodes[n], c.basis, dim, value, day};
        add(key, c.counts);
        if (with_rollups && n < kRolledUpDepth) {
          add(MonthRollup(key), c.counts);
          add(YearRollup(key), c.counts);
        }
      }
    }
    // The filing agency's own dossiers (without its subtree), in total and
    // by channel: what reconciliation compares a centre's report with.
    if (c.basis == Basis::kClock || nodes.empty()) continue;
    const std::string own = OwnNode(nodes.back());
    for (size_t d = 0; d < std::min<size_t>(dim_count, 2); ++d) {
      const auto& [dim, value] = dims[d];
      add(AggregateKey{own, c.basis, dim, value, day}, c.counts);
    }
  }
}

bool HasRollups(absl::string_view agency_path) {
  return static_cast<size_t>(std::count(agency_path.begin(), agency_path.end(), '/')) < kRolledUpDepth;
}

std::string OwnNode(absl::string_view agency_code) { return absl::StrCat("=", agency_code); }

std::vector<AggregateRow> NonZeroRows(AggregateDeltas&& deltas) {
  // Moved out node by node: copying each key's strings was a tenth of
  // ingestion.
  std::vector<AggregateRow> out;
  out.reserve(deltas.size());
  while (!deltas.empty()) {
    auto node = deltas.extract(deltas.begin());
    bool any = false;
    for (int64_t c : node.mapped()) any |= c != 0;
    if (any) out.push_back(AggregateRow{std::move(node.key()), node.mapped()});
  }
  return out;
}

std::vector<AggregateRow> NonZeroRows(const AggregateDeltas& deltas) {
  std::vector<AggregateRow> out;
  out.reserve(deltas.size());
  for (const auto& [key, counts] : deltas) {
    bool any = false;
    for (int64_t c : counts) any |= c != 0;
    if (any) out.push_back(AggregateRow{key, counts});
  }
  return out;
}

}  // namespace pstrack
