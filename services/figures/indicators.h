// The built-in indicators of DOMAIN.md section 6 (and the extra rates the
// 766 index reads): their definitions, and their values computed from the
// totals of a scope and period. Pure; thread-safe.
#ifndef PSTRACK_SERVICES_FIGURES_INDICATORS_H_
#define PSTRACK_SERVICES_FIGURES_INDICATORS_H_

#include <string>
#include <vector>

#include "services/figures/contribution.h"
#include "services/figures/indicator_value.h"

namespace pstrack {

struct IndicatorDefinition {
  std::string id;
  std::string name;
  std::string numerator;
  std::string denominator;
  std::string source;
  std::string unit;          // "ratio", "count", "working_days"
  std::string period_basis;  // "receipt", "finish", "instant", "catalog", "finish+instant"
  bool lower_is_better = false;
};

const std::vector<IndicatorDefinition>& BuiltinIndicators();
const IndicatorDefinition* FindIndicator(absl::string_view id);
std::vector<std::string> BuiltinIndicatorIds();

// Catalog figures for a scope at a date: the procedures carried out by the
// agencies of the scope and in force then.
struct CatalogTotals {
  int64_t procedures = 0;
  int64_t online = 0;                 // partial or full
  int64_t full = 0;
  int64_t eligible = 0;               // eligible for full-process online service
  int64_t fee_bearing = 0;
  int64_t fee_online_payment = 0;     // fee-bearing and integrated with online payment
  int64_t fee_with_online_paid = 0;   // fee-bearing with at least one dossier paid online in the period
  int64_t online_with_online_dossier = 0;  // offered online with at least one online dossier in the period
  int64_t population_db_connected = 0;
};

struct ScopeTotals {
  Counts receipt{};  // dossiers received in the period
  Counts finish{};   // dossiers finished in the period
  int64_t open = 0;            // open at the instant (the period's end, or as_of)
  int64_t open_overdue = 0;
  int64_t open_portal_overdue = 0;
  CatalogTotals catalog;
  bool has_catalog = false;    // catalog figures were computed
  bool has_instant = false;    // instant figures were computed
};

int64_t Get(const Counts& counts, Counter c);

// The value of one built-in indicator. Not available (with the reason) when
// the denominator is zero or the figures it needs are not in `totals`.
IndicatorValue ComputeIndicator(const IndicatorDefinition& definition, const ScopeTotals& totals);

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_FIGURES_INDICATORS_H_
