#include "storage/tables/event_log_tables.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace pstrack::sql {

namespace {

constexpr char kLogColumns[] = "seq, event_id, dossier_code, occurred_us, kind, content, recorded_us";

// The lock key of the projection (Dialect::Lock): one projector at a time.
constexpr int64_t kProjectionLock = 766767;

}  // namespace

absl::StatusOr<std::vector<LoggedEvent>> SqlEventLogTables::QueryLog(DynamicQuery& q) {
  std::vector<LoggedEvent> out;
  LoggedEvent e;
  long long seq = 0, occurred = 0, recorded = 0;
  PSTRACK_RETURN_IF_ERROR(Fetch(
      q,
      [&](Columns& st) {
        st.exchange(Into(seq));
        st.exchange(Into(e.event.event_id));
        st.exchange(Into(e.event.dossier_code));
        st.exchange(Into(occurred));
        st.exchange(Into(e.event.kind));
        st.exchange(Into(e.event.content));
        st.exchange(Into(recorded));
      },
      [&] {
        e.seq = seq;
        e.event.occurred_us = occurred;
        e.event.recorded_us = recorded;
        out.push_back(e);
      }));
  return out;
}

absl::StatusOr<std::vector<LoggedEvent>> SqlEventLogTables::QueryLogWhere(const char* column,
                                                                         const std::vector<std::string>& keys) {
  std::vector<LoggedEvent> out;
  for (size_t begin = 0; begin < keys.size(); begin += kMaxParamsPerStatement) {
    const size_t end = std::min(keys.size(), begin + kMaxParamsPerStatement);
    DynamicQuery q;
    q.sql = absl::StrCat("SELECT ", kLogColumns, " FROM event_log WHERE ", column, " IN (");
    for (size_t i = begin; i < end; ++i) absl::StrAppend(&q.sql, i > begin ? ", " : "", q.Bind(keys[i]));
    // Padded to a power of two by repeating the last key (SQLite prepares
    // one text per length).
    for (size_t i = end - begin; i < dialect_.ListLength(end - begin); ++i) {
      absl::StrAppend(&q.sql, ", ", q.Bind(keys[end - 1]));
    }
    absl::StrAppend(&q.sql, ") ORDER BY seq");
    PSTRACK_ASSIGN_OR_RETURN(std::vector<LoggedEvent> rows, QueryLog(q));
    for (LoggedEvent& row : rows) out.push_back(std::move(row));
  }
  return out;
}

absl::StatusOr<std::vector<StoredEvent>> SqlEventLogTables::FindLoggedEvents(const std::vector<std::string>& ids) {
  PSTRACK_ASSIGN_OR_RETURN(std::vector<LoggedEvent> rows, QueryLogWhere("event_id", ids));
  std::vector<StoredEvent> out;
  out.reserve(rows.size());
  for (LoggedEvent& row : rows) out.push_back(std::move(row.event));
  return out;
}

absl::StatusOr<std::vector<LoggedEvent>> SqlEventLogTables::PendingEvents(int limit) {
  DynamicQuery q;
  q.sql = absl::StrCat("SELECT ", kLogColumns, " FROM event_log ORDER BY seq LIMIT ", q.Bind(limit));
  return QueryLog(q);
}

absl::StatusOr<bool> SqlEventLogTables::PendingThrough(int64_t seq) {
  DynamicQuery q;
  q.sql = absl::StrCat("SELECT CASE WHEN EXISTS (SELECT 1 FROM event_log WHERE seq <= ", q.BindInt64(seq),
                       ") THEN 1 ELSE 0 END");
  int pending = 0;
  PSTRACK_RETURN_IF_ERROR(Fetch(
      q, [&](Columns& st) { st.exchange(Into(pending)); }, [] {}));
  return pending != 0;
}

absl::StatusOr<std::vector<LoggedEvent>> SqlEventLogTables::PendingEventsOf(const std::vector<std::string>& codes) {
  return QueryLogWhere("dossier_code", codes);
}

absl::StatusOr<LogState> SqlEventLogTables::GetLogState() {
  LogState state;
  DynamicQuery q;
  q.sql = "SELECT COUNT(*), COALESCE(MIN(seq), 0) FROM event_log";
  long long pending = 0, first = 0;
  PSTRACK_RETURN_IF_ERROR(Fetch(
      q,
      [&](Columns& st) {
        st.exchange(Into(pending));
        st.exchange(Into(first));
      },
      [] {}));
  DynamicQuery last;
  last.sql = dialect_.LastLogSeqQuery();
  long long last_seq = 0;
  PSTRACK_RETURN_IF_ERROR(Fetch(
      last, [&](Columns& st) { st.exchange(Into(last_seq)); }, [] {}));
  state.pending = pending;
  state.first_pending_seq = first;
  state.last_seq = std::max<int64_t>(last_seq, first + pending - 1);
  return state;
}

absl::StatusOr<int64_t> SqlEventLogTables::AppendToLog(const std::vector<StoredEvent>& events) {
  if (events.empty()) return 0;
  PSTRACK_RETURN_IF_ERROR(InsertEventRows("event_log", events));
  // A multi-row insert numbers its rows in order: the last is the highest.
  DynamicQuery q;
  q.sql = dialect_.InsertedLogSeqQuery();
  long long seq = 0;
  PSTRACK_RETURN_IF_ERROR(Fetch(
      q, [&](Columns& st) { st.exchange(Into(seq)); }, [] {}));
  return seq;
}

absl::StatusOr<int64_t> SqlEventLogTables::RemoveFromLog(const std::vector<int64_t>& seqs) {
  int64_t removed = 0;
  for (size_t begin = 0, end = 0; begin < seqs.size(); begin = end) {
    end = ChunkEnd(begin, seqs.size(), kMaxParamsPerStatement);
    DynamicQuery q;
    q.sql = "DELETE FROM event_log WHERE seq IN (";
    for (size_t i = begin; i < end; ++i) absl::StrAppend(&q.sql, i > begin ? ", " : "", q.BindInt64(seqs[i]));
    absl::StrAppend(&q.sql, ") RETURNING seq");
    long long seq = 0;
    PSTRACK_RETURN_IF_ERROR(Fetch(
        q, [&](Columns& st) { st.exchange(Into(seq)); }, [&] { ++removed; }));
  }
  return removed;
}

absl::StatusOr<bool> SqlEventLogTables::LeadProjection(bool wait) { return dialect_.Lock(kProjectionLock, wait); }

}  // namespace pstrack::sql
