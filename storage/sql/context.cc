#include "storage/sql/context.h"

#include <algorithm>

namespace pstrack::sql {

absl::Status SqlContext::BumpReferenceVersion() {
  if (reference_bumped_) return absl::OkStatus();
  reference_bumped_ = true;
  return Guard([&] { sql_ << "UPDATE reference_version SET version = version + 1 WHERE id = 1"; });
}

void SqlContext::AppendPathFilter(DynamicQuery& q, absl::string_view column, const std::vector<std::string>& paths) {
  if (paths.empty()) return;
  absl::StrAppend(&q.sql, " AND (");
  for (size_t i = 0; i < paths.size(); ++i) {
    absl::StrAppend(&q.sql, i ? " OR " : "", column, " = ", q.Bind(paths[i]), " OR (", column,
                    " >= ", q.Bind(paths[i] + "/"), " AND ", column, " < ", q.Bind(SubtreeEnd(paths[i])), ")");
  }
  absl::StrAppend(&q.sql, ")");
}

void SqlContext::AppendAgencyFilter(DynamicQuery& q, const std::vector<std::string>& paths) {
  if (paths.empty()) return;
  absl::StrAppend(&q.sql, " AND agency_code IN (SELECT code FROM agencies WHERE 1 = 1");
  AppendPathFilter(q, "path", paths);
  absl::StrAppend(&q.sql, ")");
}

std::string SqlContext::LikePattern(absl::string_view folded) {
  std::string escaped = absl::StrReplaceAll(folded, {{"\\", "\\\\"}, {"%", "\\%"}, {"_", "\\_"}});
  return absl::StrCat("%", escaped, "%");
}

absl::StatusOr<int64_t> SqlContext::Count(const char* table) {
  long long n = 0;
  PSTRACK_RETURN_IF_ERROR(Guard([&] { sql_ << "SELECT COUNT(*) FROM " << table, soci::into(n); }));
  return static_cast<int64_t>(n);
}


absl::Status SqlContext::InsertEventRows(const char* table, const std::vector<StoredEvent>& events) {
  constexpr size_t kColumns = 6;
  for (size_t begin = 0, end = 0; begin < events.size(); begin = end) {
    end = ChunkEnd(begin, events.size(), kMaxParamsPerStatement / kColumns);
    DynamicQuery q;
    q.sql = absl::StrCat("INSERT INTO ", table,
                         " (event_id, dossier_code, occurred_us, kind, content, recorded_us) VALUES ");
    for (size_t i = begin; i < end; ++i) {
      const StoredEvent& e = events[i];
      absl::StrAppend(&q.sql, i > begin ? ", (" : "(", q.Bind(e.event_id), ", ", q.Bind(e.dossier_code), ", ",
                      q.BindInt64(e.occurred_us), ", ", q.Bind(e.kind), ", ", q.Bind(e.content), ", ",
                      q.BindInt64(e.recorded_us), ")");
    }
    PSTRACK_RETURN_IF_ERROR(Execute(q));
  }
  return absl::OkStatus();
}

}  // namespace pstrack::sql
