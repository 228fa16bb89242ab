// Which periodic reports count for a scope and period, and why (the rule of
// docs/indicators.md, "Reported figures"):
//  1. A report counts only if its period lies inside the query period.
//  2. Per agency, reports are taken whole-agency first, then per field, then
//     per procedure, and within each the coarsest period first (year,
//     quarter, month). A report any of whose months is already covered, for
//     its subject or a wider one (the agency, or a procedure's field), is
//     left out whole: a report cannot be split, and counting it would count
//     the covered months twice.
//  3. Events win: a report of an agency that sent events of dossiers
//     received or finished in the report's period (any of its dossiers,
//     whatever the report's subject) is not counted (the events are), and
//     reconciliation compares the two instead.
// Thread-compatible; reads through the given transaction.
#ifndef PSTRACK_SERVICES_FIGURES_REPORT_SELECTION_H_
#define PSTRACK_SERVICES_FIGURES_REPORT_SELECTION_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/figures/contribution.h"
#include "services/catalog/catalog_store.h"
#include "services/figures/aggregate_store.h"
#include "services/figures/report.h"
#include "services/figures/report_store.h"

namespace pstrack {

enum class ReportRole {
  kCounted,       // its figures are in the indicators
  kEventsWin,     // the agency sent events for the period: they count instead
  kCovered,       // another report already covers its dossiers
  kNotContained,  // its period is not inside the query period
};
const char* ReportRoleName(ReportRole role);  // "counted", "events_win", ...

struct ReportUse {
  PeriodicReport report;
  ReportRole role = ReportRole::kCounted;
  std::string note;  // why, in words
  // The events of the same dossiers as the report, over its period:
  // receipt-basis and finish-basis counts. For a whole-agency report, the
  // agency's own (OwnNode) and its receipts by channel name; for a field or
  // procedure report, that breakdown of the agency's node (its subtree:
  // exact for agencies without filing sub-agencies, as one-stop centres
  // are), with no channel split.
  Counts events_receipt{};
  Counts events_finish{};
  std::map<std::string, int64_t> events_by_channel;
  bool by_channel = false;  // events_by_channel is known
  // The agency sent events of dossiers received or finished in the period.
  bool agency_sent_events = false;
};

// What the rule reads: the catalog (a report's field), the reports and the
// events' aggregates.
class ReportSelectionReader : public virtual CatalogReader,
                              public virtual AggregateReader,
                              public virtual ReportReader {};

// The reports of the agencies under `paths` overlapping [start, end), each
// with its role, ordered by agency code, subject and period.
absl::StatusOr<std::vector<ReportUse>> SelectReports(ReportSelectionReader& tx, const std::vector<std::string>& paths,
                                                     Date start, Date end);

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_FIGURES_REPORT_SELECTION_H_
