// What the statements of every table group share within one transaction:
// its connection, the connection's prepared statements, and the helpers that
// run statements built at run time. Each table group (storage/tables/)
// derives from it virtually, so a transaction has one. Thread-compatible.
#ifndef PSTRACK_STORAGE_SQL_CONTEXT_H_
#define PSTRACK_STORAGE_SQL_CONTEXT_H_

#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "services/common/status.h"
#include "soci/soci.h"
#include "services/filings/filing_store.h"
#include "storage/sql/dialect.h"
#include "storage/sql/query.h"

namespace pstrack::sql {

class SqlContext {
 public:
  explicit SqlContext(Dialect& dialect) : sql_(dialect.session()), dialect_(dialect) {}

 protected:
  // Every write to the tree or the catalog moves the reference version
  // (once per transaction), which readers compare to keep their copies.
  absl::Status BumpReferenceVersion();
  // --- Periodic reports and the feed log (migration 6) ---
  // " AND (<column> in one of the subtrees)"; nothing for no paths.
  static void AppendPathFilter(DynamicQuery& q, absl::string_view column, const std::vector<std::string>& paths);
  // " AND agency_code IN (agencies of the subtrees)".
  static void AppendAgencyFilter(DynamicQuery& q, const std::vector<std::string>& paths);
  static std::string LikePattern(absl::string_view folded);
  size_t ChunkEnd(size_t begin, size_t n, size_t max) const { return dialect_.ChunkEnd(begin, n, max); }
  // The rows of `select` (a table's "SELECT ... FROM ...") whose code is
  // one of `codes`, a few thousand codes per statement.
  template <typename T, typename Query>
  absl::StatusOr<std::vector<T>> FindByCodes(const std::string& select, const std::vector<std::string>& codes,
                                             Query query) {
    std::vector<T> out;
    for (size_t begin = 0, end = 0; begin < codes.size(); begin = end) {
      end = ChunkEnd(begin, codes.size(), kMaxParamsPerStatement);
      DynamicQuery q;
      q.sql = absl::StrCat(select, " WHERE code IN (");
      for (size_t i = begin; i < end; ++i) absl::StrAppend(&q.sql, i > begin ? ", " : "", q.Bind(codes[i]));
      absl::StrAppend(&q.sql, ")");
      PSTRACK_ASSIGN_OR_RETURN(std::vector<T> found, query(q));
      for (T& row : found) out.push_back(std::move(row));
    }
    return out;
  }
  absl::StatusOr<int64_t> Count(const char* table);
  // Inserts stored events into `table` (filing_events or event_log, which
  // share these columns), in multi-row statements.
  absl::Status InsertEventRows(const char* table, const std::vector<StoredEvent>& events);
  // Runs a statement built at run time: `bind_into` attaches the into()
  // variables, `on_row` runs after each fetched row.
  absl::Status Fetch(DynamicQuery& q, absl::FunctionRef<void(Columns&)> bind_into, absl::FunctionRef<void()> on_row) {
    return dialect_.Fetch(q, bind_into, on_row);
  }
  absl::Status Execute(DynamicQuery& q) { return dialect_.Execute(q); }

  soci::session& sql_;
  Dialect& dialect_;  // the connection's
  int savepoints_ = 0;
  bool reference_bumped_ = false;  // this transaction moved the reference version
};
}  // namespace pstrack::sql

#endif  // PSTRACK_STORAGE_SQL_CONTEXT_H_
