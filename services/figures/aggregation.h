// Turning dossier contributions into aggregate rows: each contribution goes
// to the filing agency and every ancestor (so a subtree's figure is the rows
// of its root), in total and by channel, procedure field and procedure; and
// to the filing agency's own node (OwnNode). The top levels also get time
// roll-ups (kRolledUpDepth).
// Used by ingestion (retract old, add new, same transaction) and by the
// rebuild from raw events. Pure; thread-compatible.
#ifndef PSTRACK_SERVICES_FIGURES_AGGREGATION_H_
#define PSTRACK_SERVICES_FIGURES_AGGREGATION_H_

#include <map>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "services/figures/aggregate_store.h"
#include "services/figures/contribution.h"

namespace pstrack {

using AggregateDeltas = std::map<AggregateKey, Counts>;

// The aggregate node of an agency's own dossiers, without its subtree
// ("=" + code; agency codes never start with "="). Receipt and finish
// basis, total and channel dimensions only.
std::string OwnNode(absl::string_view agency_code);

// The nation and the provinces (the first two levels of the tree) also get
// month and year roll-up rows (MonthRollup, YearRollup): their long periods
// then read a few rows. Below, a commune's year is a few hundred day rows
// anyway, and roll-ups there would add a row per dossier for nothing.
inline constexpr size_t kRolledUpDepth = 2;
// True if the node of the agency at `agency_path` has roll-ups.
bool HasRollups(absl::string_view agency_path);

// Adds sign * the dossier's contributions (sign is +1 or -1).
void AccumulateDossier(const DossierState& state, const Procedure* procedure, const std::string& agency_path,
                       int sign, AggregateDeltas* deltas);
// The same contributions, each handed to `add` (a key may come more than
// once); without the time roll-ups if `with_rollups` is false (they are the
// sums of the day rows: the aggregate check derives them from those).
void ForEachAggregateContribution(const DossierState& state, const Procedure* procedure,
                                  const std::string& agency_path,
                                  absl::FunctionRef<void(const AggregateKey&, const Counts&)> add,
                                  bool with_rollups = true);

// The rows of `deltas` with at least one non-zero counter, in key order
// (the second form empties `deltas`, moving its keys).
std::vector<AggregateRow> NonZeroRows(const AggregateDeltas& deltas);
std::vector<AggregateRow> NonZeroRows(AggregateDeltas&& deltas);

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_FIGURES_AGGREGATION_H_
