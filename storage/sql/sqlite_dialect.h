// The SQLite dialect: every statement is prepared once per connection
// (StatementCache) and rows are read straight from SQLite; one writer, so
// key locks are nothing. Thread-compatible (one connection).
#ifndef PSTRACK_STORAGE_SQL_SQLITE_DIALECT_H_
#define PSTRACK_STORAGE_SQL_SQLITE_DIALECT_H_

#include <string>
#include <vector>

#include "storage/sql/dialect.h"
#include "storage/sql/statements.h"

namespace pstrack::sql {

class SqliteDialect final : public Dialect {
 public:
  // `session` is a SQLite connection; it must outlive the dialect, whose
  // prepared statements are finalized when it is destroyed.
  explicit SqliteDialect(soci::session& session);

  soci::session& session() override { return session_; }
  void Begin(bool write, absl::Duration left) override;
  void Commit() override;
  void Rollback() override;
  size_t ChunkEnd(size_t begin, size_t n, size_t max) const override;
  size_t ListLength(size_t n) const override;
  std::string Null(DynamicQuery& q) const override { return q.BindNull(); }
  absl::Status Fetch(DynamicQuery& q, absl::FunctionRef<void(Columns&)> bind_into,
                     absl::FunctionRef<void()> on_row) override;
  absl::Status Execute(DynamicQuery& q) override;
  absl::Status ForEachRow(DynamicQuery& q, int texts, int numbers, absl::FunctionRef<void(const Row&)> on_row) override;
  // SQLite clusters a node's rows by day first: a month of a breakdown is
  // one range.
  StoredAggregateOrder aggregate_order() const override { return StoredAggregateOrder::kDayThenValue; }
  absl::Status UpsertAggregates(const AggregateUpsert& upsert) override;
  absl::Status LockKeys(const std::vector<std::string>&) override { return absl::OkStatus(); }
  absl::StatusOr<bool> Lock(int64_t, bool) override { return true; }
  const char* LastLogSeqQuery() const override {
    return "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'event_log'), 0)";
  }
  const char* InsertedLogSeqQuery() const override { return "SELECT last_insert_rowid()"; }

 private:
  // Runs a fixed text (BEGIN, COMMIT, ...) as a prepared statement; throws.
  void Run(const char* text);
  // Runs `q` as a prepared statement of the connection and calls `on_row`
  // for each row.
  absl::Status Step(const DynamicQuery& q, absl::FunctionRef<void(sqlite3_stmt*)> on_row);

  soci::session& session_;
  StatementCache statements_;
  std::string upsert_text_[2];  // UpsertAggregates: without, with RETURNING
};

}  // namespace pstrack::sql

#endif  // PSTRACK_STORAGE_SQL_SQLITE_DIALECT_H_
