#include "storage/sql/context.h"

#include <algorithm>
#include <bit>

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

size_t SqlContext::ChunkEnd(size_t begin, size_t n, size_t max) const {
  size_t take = std::min(n - begin, max);
  if (cache_ != nullptr) take = std::bit_floor(take);
  return begin + take;
}

absl::StatusOr<int64_t> SqlContext::Count(const char* table) {
  long long n = 0;
  PSTRACK_RETURN_IF_ERROR(Guard([&] { sql_ << "SELECT COUNT(*) FROM " << table, soci::into(n); }));
  return static_cast<int64_t>(n);
}

absl::Status SqlContext::Execute(DynamicQuery& q) {
  if (cache_ != nullptr) return ExecuteCached(q);
  return Guard([&] {
    soci::statement st(sql_);
    const std::string text = q.BindAll(st, anonymous_);
    st.alloc();
    st.prepare(text);
    st.define_and_bind();
    st.execute(true);
  });
}

absl::Status SqlContext::ExecuteCached(const DynamicQuery& q) {
  return FetchCached(q, [](sqlite3_stmt*) {});
}

absl::Status SqlContext::FetchCached(const DynamicQuery& q, absl::FunctionRef<void(sqlite3_stmt*)> on_row) {
  std::vector<size_t> in_text;
  const std::string text = q.Text(/*anonymous=*/true, &in_text);
  sqlite3_stmt* st = cache_->Get(text);
  auto failure = [&] {
    const std::string message = sqlite3_errmsg(cache_->db());
    if (st != nullptr) {
      sqlite3_reset(st);
      sqlite3_clear_bindings(st);
    }
    return DatabaseError(std::runtime_error(message));
  };
  if (st == nullptr) return failure();
  for (size_t p = 0; p < in_text.size(); ++p) {
    if (q.BindNative(st, static_cast<int>(p + 1), in_text[p]) != SQLITE_OK) return failure();
  }
  int rc = sqlite3_step(st);
  while (rc == SQLITE_ROW) {
    on_row(st);
    rc = sqlite3_step(st);
  }
  if (rc != SQLITE_DONE) return failure();
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return absl::OkStatus();
}
}  // namespace pstrack::sql
