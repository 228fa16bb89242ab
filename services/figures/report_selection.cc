#include "services/figures/report_selection.h"

#include <algorithm>
#include <set>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/common/status.h"
#include "services/figures/aggregation.h"
#include "services/figures/indicators.h"

namespace pstrack {
namespace {

int MonthIndex(Date d) {
  const absl::CivilMonth m(d);
  return static_cast<int>(m.year() * 12 + m.month() - 1);
}

std::string MonthText(int index) { return absl::StrFormat("%04d-%02d", index / 12, index % 12 + 1); }

}  // namespace

const char* ReportRoleName(ReportRole role) {
  switch (role) {
    case ReportRole::kCounted: return "counted";
    case ReportRole::kEventsWin: return "events_win";
    case ReportRole::kCovered: return "covered";
    case ReportRole::kNotContained: return "not_contained";
  }
  return "counted";
}

absl::StatusOr<std::vector<ReportUse>> SelectReports(ReportSelectionReader& tx, const std::vector<std::string>& paths,
                                                     Date start, Date end) {
  std::vector<ReportUse> uses;
  ReportQuery q;
  q.paths = paths;
  q.from = start;
  q.until = end;
  q.limit = 10000;
  while (true) {
    PSTRACK_ASSIGN_OR_RETURN(std::vector<PeriodicReport> page, tx.ListReports(q));
    for (PeriodicReport& r : page) {
      ReportUse u;
      u.report = std::move(r);
      uses.push_back(std::move(u));
    }
    if (static_cast<int>(page.size()) < q.limit) break;
    q.after_id = uses.back().report.report_id;
  }
  if (uses.empty()) return uses;

  // The agencies' own events per month of the query period.
  std::set<std::string> agencies;
  for (const ReportUse& u : uses) agencies.insert(u.report.agency_code);
  std::vector<std::string> nodes;
  for (const std::string& code : agencies) nodes.push_back(OwnNode(code));
  const std::string from = FormatDate(start), until = FormatDate(end);
  // (node, month) -> counts
  std::map<std::pair<std::string, std::string>, Counts> receipt, finish;
  std::map<std::pair<std::string, std::string>, std::map<std::string, int64_t>> by_channel;
  for (Basis basis : {Basis::kReceipt, Basis::kFinish}) {
    AggregateQuery a{nodes, basis, AggregateDim::kTotal, from, until};
    a.by_node = true;
    a.by_month = true;
    PSTRACK_ASSIGN_OR_RETURN(auto rows, tx.SumAggregates(a));
    for (const auto& row : rows) {
      AddCounts((basis == Basis::kReceipt ? receipt : finish)[{row.key.node_code, row.key.day}], row.counts);
    }
  }
  AggregateQuery c{nodes, Basis::kReceipt, AggregateDim::kChannel, from, until};
  c.by_node = true;
  c.by_month = true;
  c.by_dim_value = true;
  c.only = {Counter::kReceived};
  PSTRACK_ASSIGN_OR_RETURN(auto channel_rows, tx.SumAggregates(c));
  for (const auto& row : channel_rows) {
    by_channel[{row.key.node_code, row.key.day}][row.key.dim_value] += Get(row.counts, Counter::kReceived);
  }

  // Fields of the procedures that reports name (a field report covers them).
  absl::flat_hash_map<std::string, std::string> field_of;
  for (const ReportUse& u : uses) {
    const std::string& code = u.report.procedure_code;
    if (code.empty() || field_of.contains(code)) continue;
    PSTRACK_ASSIGN_OR_RETURN(std::optional<Procedure> p, tx.FindProcedure(code));
    field_of[code] = p ? p->field : "";
  }

  std::sort(uses.begin(), uses.end(), [](const ReportUse& a, const ReportUse& b) {
    const PeriodicReport& x = a.report;
    const PeriodicReport& y = b.report;
    return std::make_tuple(x.agency_code, static_cast<int>(x.subject_kind()), -static_cast<int>(x.granularity),
                           x.start, x.subject()) < std::make_tuple(y.agency_code, static_cast<int>(y.subject_kind()),
                                                                   -static_cast<int>(y.granularity), y.start,
                                                                   y.subject());
  });
  // (agency, month, subject) -> the report covering it; subject "" = all.
  std::map<std::tuple<std::string, int, std::string>, std::string> covered;
  for (ReportUse& u : uses) {
    const PeriodicReport& r = u.report;
    const int first = MonthIndex(r.start), last = MonthIndex(r.end - 1);
    const std::string node = OwnNode(r.agency_code);
    for (int m = first; m <= last; ++m) {
      const std::string month = MonthText(m);
      if (auto it = receipt.find({node, month}); it != receipt.end()) AddCounts(u.events_receipt, it->second);
      if (auto it = finish.find({node, month}); it != finish.end()) AddCounts(u.events_finish, it->second);
      if (auto it = by_channel.find({node, month}); it != by_channel.end()) {
        for (const auto& [channel, n] : it->second) u.events_by_channel[channel] += n;
      }
    }
    u.agency_sent_events =
        Get(u.events_receipt, Counter::kReceived) > 0 || Get(u.events_finish, Counter::kFinished) > 0;
    u.by_channel = r.subject_kind() == ReportSubject::kAgency;
    if (!u.by_channel) {
      // The same dossiers as the report: its field or procedure.
      u.events_receipt = {};
      u.events_finish = {};
      u.events_by_channel.clear();
      const AggregateDim dim =
          r.subject_kind() == ReportSubject::kField ? AggregateDim::kField : AggregateDim::kProcedure;
      const std::string value = r.procedure_code.empty() ? r.field : r.procedure_code;
      for (Basis basis : {Basis::kReceipt, Basis::kFinish}) {
        AggregateQuery a{{r.agency_code}, basis, dim, FormatDate(r.start), FormatDate(r.end)};
        a.by_dim_value = true;
        PSTRACK_ASSIGN_OR_RETURN(auto rows, tx.SumAggregates(a));
        for (const auto& row : rows) {
          if (row.key.dim_value == value) AddCounts(basis == Basis::kReceipt ? u.events_receipt : u.events_finish, row.counts);
        }
      }
    }
    if (r.start < start || r.end > end) {
      u.role = ReportRole::kNotContained;
      u.note = absl::StrCat("its period ", r.period_label, " is not inside the query period");
      continue;
    }
    // Subjects whose coverage includes this report's dossiers.
    std::vector<std::string> wider = {""};
    if (r.subject_kind() != ReportSubject::kAgency) wider.push_back(r.subject());
    if (r.subject_kind() == ReportSubject::kProcedure && !field_of[r.procedure_code].empty()) {
      wider.push_back(absl::StrCat("field:", field_of[r.procedure_code]));
    }
    std::string by;
    for (int m = first; m <= last && by.empty(); ++m) {
      for (const std::string& s : wider) {
        auto it = covered.find({r.agency_code, m, s});
        if (it != covered.end()) {
          by = it->second;
          break;
        }
      }
    }
    if (!by.empty()) {
      u.role = ReportRole::kCovered;
      u.note = absl::StrCat("report '", by, "' already covers these dossiers");
      continue;
    }
    for (int m = first; m <= last; ++m) covered[{r.agency_code, m, r.subject()}] = r.report_id;
    if (u.agency_sent_events) {
      u.role = ReportRole::kEventsWin;
      u.note = "the agency sent events for this period: they count, and Reconcile compares the two";
      continue;
    }
    u.role = ReportRole::kCounted;
    u.note = "the agency sent no events for this period: the report counts";
  }
  return uses;
}

}  // namespace pstrack
