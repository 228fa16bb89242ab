#include "storage/tables/metrics_tables.h"

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

absl::StatusOr<std::optional<ExternalInputRow>> SqlMetricsTables::FindExternalInput(absl::string_view input_id) {
  DynamicQuery q;
  q.sql = absl::StrCat(kExternalColumns, " WHERE input_id = ", q.Bind(std::string(input_id)));
  PSTRACK_ASSIGN_OR_RETURN(auto rows, QueryExternalInputs(q));
  if (rows.empty()) return std::optional<ExternalInputRow>();
  return std::optional<ExternalInputRow>(std::move(rows.front()));
}

absl::StatusOr<std::vector<ExternalInputRow>> SqlMetricsTables::ListExternalInputs(absl::string_view agency_code,
                                                                                   absl::string_view indicator_id) {
  DynamicQuery q;
  q.sql = absl::StrCat(kExternalColumns, " WHERE 1 = 1");
  if (!agency_code.empty()) absl::StrAppend(&q.sql, " AND agency_code = ", q.Bind(std::string(agency_code)));
  if (!indicator_id.empty()) absl::StrAppend(&q.sql, " AND indicator_id = ", q.Bind(std::string(indicator_id)));
  absl::StrAppend(&q.sql, " ORDER BY start_day, input_id");
  return QueryExternalInputs(q);
}

absl::Status SqlMetricsTables::PutExternalInput(const ExternalInputRow& r) {
  DynamicQuery q;
  q.sql = absl::StrCat(
      "INSERT INTO external_inputs (input_id, agency_code, indicator_id, start_day, end_day, numerator, "
      "denominator, value, source, recorded_us) VALUES (",
      q.Bind(r.input_id), ", ", q.Bind(r.agency_code), ", ", q.Bind(r.indicator_id), ", ", q.Bind(FormatDate(r.start)),
      ", ", q.Bind(FormatDate(r.end)), ", ", q.BindDouble(r.numerator), ", ", q.BindDouble(r.denominator), ", ",
      q.BindDouble(r.value), ", ", q.Bind(r.source), ", ", q.BindInt64(r.recorded_us),
      ") ON CONFLICT (input_id) DO UPDATE SET agency_code = excluded.agency_code, indicator_id = "
      "excluded.indicator_id, start_day = excluded.start_day, end_day = excluded.end_day, numerator = "
      "excluded.numerator, denominator = excluded.denominator, value = excluded.value, source = excluded.source, "
      "recorded_us = excluded.recorded_us");
  return Execute(q);
}

absl::StatusOr<std::vector<std::string>> SqlMetricsTables::PendingMaintenance() {
  DynamicQuery q;
  q.sql = "SELECT task FROM maintenance ORDER BY task";
  std::vector<std::string> out;
  std::string task;
  PSTRACK_RETURN_IF_ERROR(Fetch(
      q, [&](Columns& st) { st.exchange(Into(task)); }, [&] { out.push_back(task); }));
  return out;
}

absl::Status SqlMetricsTables::CompleteMaintenance(absl::string_view task) {
  DynamicQuery q;
  q.sql = absl::StrCat("DELETE FROM maintenance WHERE task = ", q.Bind(std::string(task)));
  return Execute(q);
}

absl::StatusOr<std::vector<ExternalInputRow>> SqlMetricsTables::QueryExternalInputs(DynamicQuery& q) {
  std::vector<ExternalInputRow> out;
  ExternalInputRow r;
  std::string start, end;
  long long recorded = 0;
  PSTRACK_RETURN_IF_ERROR(Fetch(
      q,
      [&](Columns& st) {
        st.exchange(Into(r.input_id));
        st.exchange(Into(r.agency_code));
        st.exchange(Into(r.indicator_id));
        st.exchange(Into(start));
        st.exchange(Into(end));
        st.exchange(Into(r.numerator));
        st.exchange(Into(r.denominator));
        st.exchange(Into(r.value));
        st.exchange(Into(r.source));
        st.exchange(Into(recorded));
      },
      [&] {
        auto s = ParseDate(start, "start_day");
        auto e = ParseDate(end, "end_day");
        if (s.ok()) r.start = *s;
        if (e.ok()) r.end = *e;
        r.recorded_us = recorded;
        out.push_back(r);
      }));
  return out;
}

}  // namespace pstrack::sql
