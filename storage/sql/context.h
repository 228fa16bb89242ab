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
#include "storage/sql/query.h"
#include "storage/sql/statements.h"

namespace pstrack::sql {

class SqlContext {
 public:
  SqlContext(soci::session& session, StatementCache* cache, PgPrepared* pg)
      : sql_(session), anonymous_(session.get_backend_name() == "sqlite3"), cache_(cache), pg_(pg) {}

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
  // Where the multi-row statement that starts at row `begin` of `n` ends:
  // at most `max` rows, and with a statement cache (SQLite) a power of two,
  // so that batches of any size reuse a few prepared texts instead of
  // parsing a new one each.
  size_t ChunkEnd(size_t begin, size_t n, size_t max) const;
  template <typename Fn>
  absl::Status Guard(Fn&& fn) {
    try {
      fn();
      return absl::OkStatus();
    } catch (const std::exception& e) {
      return DatabaseError(e);
    }
  }
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
  // Runs a statement built at run time: `bind_into` attaches the into()
  // variables, `on_row` runs after each fetched row.
  template <typename BindInto, typename OnRow>
  absl::Status Fetch(DynamicQuery& q, BindInto&& bind_into, OnRow&& on_row) {
    if (cache_ != nullptr) {
      // A prepared statement of the connection: parsing was most of a small
      // query (an API key, a procedure) and of a BEGIN ... COMMIT.
      Columns columns;
      bind_into(columns);
      absl::Status failed;
      absl::Status status = FetchCached(q, [&](sqlite3_stmt* st) {
        if (!failed.ok()) return;
        failed = Guard([&] {
          columns.Read(st);
          on_row();
        });
      });
      return status.ok() ? failed : status;
    }
    return Guard([&] {
      soci::statement st(sql_);
      Columns columns(&st);
      bind_into(columns);
      const std::string text = q.BindAll(st, anonymous_);
      st.alloc();
      st.prepare(text);
      st.define_and_bind();
      st.execute(false);
      while (st.fetch()) on_row();
    });
  }
  absl::Status Execute(DynamicQuery& q);
  absl::Status ExecuteCached(const DynamicQuery& q);
  // Runs `q` as a statement prepared once per connection (SQLite, with a
  // cache_) and calls on_row for each row, reading columns straight from
  // SQLite: soci's per-column conversions were a third of a wide sum.
  absl::Status FetchCached(const DynamicQuery& q, absl::FunctionRef<void(sqlite3_stmt*)> on_row);

  soci::session& sql_;
  // SQLite: positional "?" placeholders (named ones cost O(n) each to bind).
  const bool anonymous_;
  StatementCache* cache_;  // the SQLite connection's; null on PostgreSQL
  PgPrepared* pg_;         // the PostgreSQL writer's; null otherwise
  int savepoints_ = 0;
  bool reference_bumped_ = false;  // this transaction moved the reference version
};
}  // namespace pstrack::sql

#endif  // PSTRACK_STORAGE_SQL_CONTEXT_H_
