#include "storage/tables/dossier_tables.h"

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

struct NullableInt64 {
  long long value = 0;
  soci::indicator ind = soci::i_null;
  std::optional<int64_t> get() const { return ind == soci::i_ok ? std::optional<int64_t>(value) : std::nullopt; }
};

struct DossierDbRow {
  std::string code, agency_code, agency_path;
  NullableText procedure_code, received_day, finish_day;
  int status = 0, channel = 0, event_count = 0;
  NullableInt64 received_us, due_us, finish_us, wait_since_us, overdue_from_us, portal_overdue_from_us;
  long long updated_us = 0;

  static constexpr const char* kColumns =
      "code, agency_code, agency_path, procedure_code, status, channel, received_us, received_day, due_us, "
      "finish_us, finish_day, wait_since_us, event_count, updated_us, overdue_from_us, portal_overdue_from_us";

  void Exchange(Columns& st) {
    st.exchange(Into(code));
    st.exchange(Into(agency_code));
    st.exchange(Into(agency_path));
    st.exchange(Into(procedure_code.value, procedure_code.ind));
    st.exchange(Into(status));
    st.exchange(Into(channel));
    st.exchange(Into(received_us.value, received_us.ind));
    st.exchange(Into(received_day.value, received_day.ind));
    st.exchange(Into(due_us.value, due_us.ind));
    st.exchange(Into(finish_us.value, finish_us.ind));
    st.exchange(Into(finish_day.value, finish_day.ind));
    st.exchange(Into(wait_since_us.value, wait_since_us.ind));
    st.exchange(Into(event_count));
    st.exchange(Into(updated_us));
    st.exchange(Into(overdue_from_us.value, overdue_from_us.ind));
    st.exchange(Into(portal_overdue_from_us.value, portal_overdue_from_us.ind));
  }

  DossierRow ToRow() const {
    DossierRow r;
    r.code = code;
    r.agency_code = agency_code;
    r.agency_path = agency_path;
    r.procedure_code = procedure_code.get();
    r.status = status;
    r.channel = channel;
    r.received_us = received_us.get();
    r.received_day = received_day.get();
    r.due_us = due_us.get();
    r.finish_us = finish_us.get();
    r.finish_day = finish_day.get();
    r.wait_since_us = wait_since_us.get();
    r.event_count = event_count;
    r.updated_us = updated_us;
    r.overdue_from_us = overdue_from_us.get();
    r.portal_overdue_from_us = portal_overdue_from_us.get();
    return r;
  }
};

}  // namespace

absl::StatusOr<std::vector<StoredEvent>> SqlDossierTables::FindEvents(const std::vector<std::string>& ids) {
  return QueryEventsWhere("event_id", ids);
}

absl::StatusOr<std::vector<StoredEvent>> SqlDossierTables::LoadDossierEvents(const std::vector<std::string>& codes) {
  return QueryEventsWhere("dossier_code", codes);
}

absl::StatusOr<std::optional<DossierRow>> SqlDossierTables::FindDossier(absl::string_view code) {
  DynamicQuery q;
  q.sql = absl::StrCat("SELECT ", DossierDbRow::kColumns, " FROM dossiers WHERE code = ", q.Bind(std::string(code)));
  PSTRACK_ASSIGN_OR_RETURN(auto rows, QueryDossiers(q));
  if (rows.empty()) return std::optional<DossierRow>();
  return std::optional<DossierRow>(std::move(rows.front()));
}

absl::StatusOr<std::vector<DossierRow>> SqlDossierTables::ListDossiers(const DossierQuery& query) {
  DynamicQuery q;
  q.sql = absl::StrCat("SELECT ", DossierDbRow::kColumns, " FROM dossiers WHERE 1 = 1");
  if (!query.agency_path.empty()) {
    absl::StrAppend(&q.sql, " AND (agency_path = ", q.Bind(query.agency_path),
                    " OR (agency_path >= ", q.Bind(query.agency_path + "/"), " AND agency_path < ",
                    q.Bind(SubtreeEnd(query.agency_path)), "))");
  }
  if (!query.procedure_code.empty()) {
    absl::StrAppend(&q.sql, " AND procedure_code = ", q.Bind(query.procedure_code));
  }
  if (query.status != 0) absl::StrAppend(&q.sql, " AND status = ", q.Bind(query.status));
  if (query.channel != 0) absl::StrAppend(&q.sql, " AND channel = ", q.Bind(query.channel));
  if (query.received_from) absl::StrAppend(&q.sql, " AND received_day >= ", q.Bind(FormatDate(*query.received_from)));
  if (query.received_until) absl::StrAppend(&q.sql, " AND received_day < ", q.Bind(FormatDate(*query.received_until)));
  if (query.finished_from) absl::StrAppend(&q.sql, " AND finish_day >= ", q.Bind(FormatDate(*query.finished_from)));
  if (query.finished_until) absl::StrAppend(&q.sql, " AND finish_day < ", q.Bind(FormatDate(*query.finished_until)));
  if (query.overdue_at_us) {
    absl::StrAppend(&q.sql, " AND finish_us IS NULL AND overdue_from_us <= ", q.BindInt64(*query.overdue_at_us));
  }
  if (query.due_between_us) {
    absl::StrAppend(&q.sql, " AND finish_us IS NULL AND overdue_from_us > ", q.BindInt64(query.due_between_us->first),
                    " AND overdue_from_us <= ", q.BindInt64(query.due_between_us->second));
  }
  if (!query.after_code.empty()) absl::StrAppend(&q.sql, " AND code > ", q.Bind(query.after_code));
  absl::StrAppend(&q.sql, " ORDER BY code LIMIT ", q.Bind(query.limit));
  return QueryDossiers(q);
}

absl::Status SqlDossierTables::InsertEvents(const std::vector<StoredEvent>& events) {
  return InsertEventRows("filing_events", events);
}

absl::Status SqlDossierTables::PutDossiers(const std::vector<DossierRow>& rows) {
  constexpr size_t kColumns = 16;
  for (size_t begin = 0, end = 0; begin < rows.size(); begin = end) {
    end = ChunkEnd(begin, rows.size(), kMaxParamsPerStatement / kColumns);
    DynamicQuery q;
    auto null = [&] { return dialect_.Null(q); };
    auto opt = [&](const std::optional<int64_t>& v) { return v ? q.BindInt64(*v) : null(); };
    auto text = [&](const std::string& v) { return v.empty() ? null() : q.Bind(v); };
    q.sql =
        "INSERT INTO dossiers (code, agency_code, agency_path, procedure_code, status, channel, received_us, "
        "received_day, due_us, finish_us, finish_day, wait_since_us, event_count, updated_us, overdue_from_us, "
        "portal_overdue_from_us) VALUES ";
    for (size_t i = begin; i < end; ++i) {
      const DossierRow& r = rows[i];
      absl::StrAppend(&q.sql, i > begin ? ", (" : "(", q.Bind(r.code), ", ", q.Bind(r.agency_code), ", ",
                      q.Bind(r.agency_path), ", ", text(r.procedure_code), ", ", q.Bind(r.status), ", ",
                      q.Bind(r.channel), ", ", opt(r.received_us), ", ", text(r.received_day), ", ", opt(r.due_us),
                      ", ", opt(r.finish_us), ", ", text(r.finish_day), ", ", opt(r.wait_since_us), ", ",
                      q.Bind(r.event_count), ", ", q.BindInt64(r.updated_us), ", ", opt(r.overdue_from_us), ", ",
                      opt(r.portal_overdue_from_us), ")");
    }
    absl::StrAppend(&q.sql,
                    " ON CONFLICT (code) DO UPDATE SET agency_code = excluded.agency_code, "
                    "agency_path = excluded.agency_path, procedure_code = excluded.procedure_code, "
                    "status = excluded.status, channel = excluded.channel, received_us = excluded.received_us, "
                    "received_day = excluded.received_day, due_us = excluded.due_us, finish_us = excluded.finish_us, "
                    "finish_day = excluded.finish_day, wait_since_us = excluded.wait_since_us, "
                    "event_count = excluded.event_count, updated_us = excluded.updated_us, "
                    "overdue_from_us = excluded.overdue_from_us, "
                    "portal_overdue_from_us = excluded.portal_overdue_from_us");
    PSTRACK_RETURN_IF_ERROR(Execute(q));
  }
  return absl::OkStatus();
}

absl::StatusOr<OpenCounts> SqlDossierTables::CountOpen(const std::vector<std::string>& paths, int64_t at_us) {
  OpenCounts out;
  for (const std::string& path : paths) {
    DynamicQuery q;
    // Overdue at t: open at t and t >= overdue_from (OverdueFrom in
    // services/lifecycle/lifecycle.h); every placeholder appears once.
    q.sql = absl::StrCat("SELECT COUNT(*), SUM(CASE WHEN overdue_from_us <= ", q.BindInt64(at_us),
                         " THEN 1 ELSE 0 END), SUM(CASE WHEN portal_overdue_from_us <= ", q.BindInt64(at_us),
                         " THEN 1 ELSE 0 END) FROM dossiers WHERE (agency_path = ", q.Bind(path),
                         " OR (agency_path >= ", q.Bind(path + "/"), " AND agency_path < ", q.Bind(SubtreeEnd(path)),
                         ")) AND received_us <= ", q.BindInt64(at_us), " AND (finish_us IS NULL OR finish_us > ",
                         q.BindInt64(at_us), ") AND due_us IS NOT NULL");
    long long open = 0, overdue = 0, portal = 0;
    soci::indicator i1 = soci::i_ok, i2 = soci::i_ok, i3 = soci::i_ok;
    PSTRACK_RETURN_IF_ERROR(Fetch(
        q,
        [&](Columns& st) {
          st.exchange(Into(open, i1));
          st.exchange(Into(overdue, i2));
          st.exchange(Into(portal, i3));
        },
        [&] {
          out.open += i1 == soci::i_ok ? open : 0;
          out.overdue += i2 == soci::i_ok ? overdue : 0;
          out.portal_overdue += i3 == soci::i_ok ? portal : 0;
        }));
  }
  return out;
}

absl::StatusOr<std::vector<OverdueByAgency>> SqlDossierTables::CountOverdueSince(const std::vector<std::string>& paths,
                                                                                 int64_t since_us) {
  DynamicQuery q;
  q.sql = absl::StrCat(
      "SELECT agency_code, COUNT(*), MIN(overdue_from_us) FROM dossiers WHERE finish_us IS NULL AND "
      "overdue_from_us <= ",
      q.BindInt64(since_us));
  AppendPathFilter(q, "agency_path", paths);
  absl::StrAppend(&q.sql, " GROUP BY agency_code ORDER BY agency_code");
  std::vector<OverdueByAgency> out;
  OverdueByAgency r;
  long long count = 0, oldest = 0;
  PSTRACK_RETURN_IF_ERROR(Fetch(
      q,
      [&](Columns& st) {
        st.exchange(Into(r.agency_code));
        st.exchange(Into(count));
        st.exchange(Into(oldest));
      },
      [&] {
        r.count = count;
        r.oldest_overdue_us = oldest;
        out.push_back(r);
      }));
  return out;
}

absl::StatusOr<std::vector<StoredEvent>> SqlDossierTables::QueryEventsWhere(const char* column,
                                                                            const std::vector<std::string>& keys) {
  std::vector<StoredEvent> out;
  for (size_t begin = 0; begin < keys.size(); begin += kMaxParamsPerStatement) {
    size_t end = std::min(keys.size(), begin + kMaxParamsPerStatement);
    DynamicQuery q;
    q.sql = absl::StrCat(
        "SELECT event_id, dossier_code, occurred_us, kind, content, recorded_us FROM filing_events "
        "WHERE ",
        column, " IN (");
    for (size_t i = begin; i < end; ++i) absl::StrAppend(&q.sql, i > begin ? ", " : "", q.Bind(keys[i]));
    // Prepared once per list length (SQLite): the list is padded to a
    // power of two by repeating its last key, which selects nothing more.
    for (size_t i = end - begin; i < dialect_.ListLength(end - begin); ++i) {
      absl::StrAppend(&q.sql, ", ", q.Bind(keys[end - 1]));
    }
    absl::StrAppend(&q.sql, ") ORDER BY dossier_code, occurred_us, event_id");
    StoredEvent e;
    long long occurred = 0, recorded = 0;
    PSTRACK_RETURN_IF_ERROR(Fetch(
        q,
        [&](Columns& st) {
          st.exchange(Into(e.event_id));
          st.exchange(Into(e.dossier_code));
          st.exchange(Into(occurred));
          st.exchange(Into(e.kind));
          st.exchange(Into(e.content));
          st.exchange(Into(recorded));
        },
        [&] {
          e.occurred_us = occurred;
          e.recorded_us = recorded;
          out.push_back(e);
        }));
  }
  return out;
}

absl::StatusOr<std::vector<DossierRow>> SqlDossierTables::QueryDossiers(DynamicQuery& q) {
  std::vector<DossierRow> out;
  DossierDbRow row;
  PSTRACK_RETURN_IF_ERROR(Fetch(
      q, [&](Columns& st) { row.Exchange(st); }, [&] { out.push_back(row.ToRow()); }));
  return out;
}

}  // namespace pstrack::sql
