#include "storage/tables/report_tables.h"

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

absl::StatusOr<std::vector<PeriodicReport>> SqlReportTables::FindReport(absl::string_view report_id) {
  DynamicQuery q;
  q.sql =
      absl::StrCat(kReportColumns, " WHERE report_id = ", q.Bind(std::string(report_id)), " ORDER BY revision DESC");
  return QueryReports(q);
}

absl::StatusOr<std::optional<PeriodicReport>> SqlReportTables::FindReportAt(const PeriodicReport& slot) {
  DynamicQuery q;
  q.sql = absl::StrCat(kReportColumns, " WHERE current = 1 AND agency_code = ", q.Bind(slot.agency_code),
                       " AND subject_kind = ", q.Bind(static_cast<int>(slot.subject_kind())));
  absl::StrAppend(&q.sql, " AND subject = ", q.Bind(SubjectValue(slot)),
                  " AND granularity = ", q.Bind(static_cast<int>(slot.granularity)));
  absl::StrAppend(&q.sql, " AND start_day = ", q.Bind(FormatDate(slot.start)));
  PSTRACK_ASSIGN_OR_RETURN(auto rows, QueryReports(q));
  if (rows.empty()) return std::optional<PeriodicReport>();
  return std::optional<PeriodicReport>(std::move(rows.front()));
}

absl::StatusOr<std::vector<PeriodicReport>> SqlReportTables::ListReports(const ReportQuery& query) {
  DynamicQuery q;
  q.sql = absl::StrCat(kReportColumns, " WHERE current = 1 AND report_id > ", q.Bind(query.after_id));
  if (query.from && query.until) {
    if (query.contained_only) {
      absl::StrAppend(&q.sql, " AND start_day >= ", q.Bind(FormatDate(*query.from)),
                      " AND end_day <= ", q.Bind(FormatDate(*query.until)));
    } else {
      absl::StrAppend(&q.sql, " AND start_day < ", q.Bind(FormatDate(*query.until)), " AND end_day > ",
                      q.Bind(FormatDate(*query.from)));
    }
  }
  if (!query.paths.empty()) {
    // Per report (few), not a list of every agency of the subtree.
    absl::StrAppend(&q.sql, " AND EXISTS (SELECT 1 FROM agencies a WHERE a.code = reports.agency_code");
    AppendPathFilter(q, "a.path", query.paths);
    absl::StrAppend(&q.sql, ")");
  }
  absl::StrAppend(&q.sql, " ORDER BY report_id LIMIT ", q.Bind(query.limit));
  return QueryReports(q);
}

absl::StatusOr<std::vector<PeriodicReport>> SqlReportTables::AllReportRevisions() {
  DynamicQuery q;
  q.sql = absl::StrCat(kReportColumns, " ORDER BY report_id, revision");
  return QueryReports(q);
}

absl::Status SqlReportTables::InsertReportRevision(const PeriodicReport& r) {
  if (r.current) {
    DynamicQuery clear;
    clear.sql =
        absl::StrCat("UPDATE reports SET current = 0 WHERE current = 1 AND report_id = ", clear.Bind(r.report_id));
    PSTRACK_RETURN_IF_ERROR(Execute(clear));
  }
  DynamicQuery q;
  q.sql = absl::StrCat(
      "INSERT INTO reports (report_id, revision, current, agency_code, subject_kind, subject, granularity, "
      "period_label, start_day, end_day, figures, source, recorded_us, recorded_by) VALUES (",
      q.Bind(r.report_id), ", ", q.Bind(r.revision), ", ", q.Bind(r.current ? 1 : 0), ", ");
  absl::StrAppend(&q.sql, q.Bind(r.agency_code), ", ", q.Bind(static_cast<int>(r.subject_kind())), ", ",
                  q.Bind(SubjectValue(r)), ", ", q.Bind(static_cast<int>(r.granularity)), ", ");
  absl::StrAppend(&q.sql, q.Bind(r.period_label), ", ", q.Bind(FormatDate(r.start)), ", ", q.Bind(FormatDate(r.end)),
                  ", ", q.Bind(EncodeFigures(r)), ", ");
  absl::StrAppend(&q.sql, q.Bind(r.source), ", ", q.BindInt64(r.recorded_us), ", ", q.Bind(r.recorded_by), ")");
  return Execute(q);
}

absl::StatusOr<std::vector<PeriodicReport>> SqlReportTables::QueryReports(DynamicQuery& q) {
  std::vector<PeriodicReport> out;
  PeriodicReport r;
  std::string subject, figures;
  int current = 0, kind = 0;
  long long recorded = 0;
  absl::Status decode = absl::OkStatus();
  PSTRACK_RETURN_IF_ERROR(Fetch(
      q,
      [&](Columns& st) {
        st.exchange(Into(r.report_id));
        st.exchange(Into(r.revision));
        st.exchange(Into(current));
        st.exchange(Into(r.agency_code));
        st.exchange(Into(kind));
        st.exchange(Into(subject));
        st.exchange(Into(r.period_label));
        st.exchange(Into(figures));
        st.exchange(Into(r.source));
        st.exchange(Into(recorded));
        st.exchange(Into(r.recorded_by));
      },
      [&] {
        PeriodicReport row = r;
        row.current = current != 0;
        row.recorded_us = recorded;
        row.procedure_code = kind == static_cast<int>(ReportSubject::kProcedure) ? subject : "";
        row.field = kind == static_cast<int>(ReportSubject::kField) ? subject : "";
        absl::Status s = DecodeFigures(figures, &row);
        if (s.ok()) s = ParseReportPeriod(row.period_label, "period_label", &row.start, &row.end, &row.granularity);
        if (!s.ok() && decode.ok()) decode = s;
        out.push_back(std::move(row));
      }));
  PSTRACK_RETURN_IF_ERROR(decode);
  return out;
}

std::string SqlReportTables::SubjectValue(const PeriodicReport& r) {
  return !r.procedure_code.empty() ? r.procedure_code : r.field;
}

}  // namespace pstrack::sql
