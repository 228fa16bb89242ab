// The PostgreSQL dialect: statements through soci with named placeholders,
// the call's deadline as statement_timeout, a batch of aggregate rows as
// arrays in one prepared statement (PgPrepared), and writers of the same
// keys serialised by advisory locks. Thread-compatible (one connection).
#ifndef PSTRACK_STORAGE_SQL_POSTGRES_DIALECT_H_
#define PSTRACK_STORAGE_SQL_POSTGRES_DIALECT_H_

#include <string>
#include <vector>

#include "storage/sql/dialect.h"
#include "storage/sql/statements.h"

namespace pstrack::sql {

class PostgresDialect final : public Dialect {
 public:
  // `session` is a PostgreSQL connection; it must outlive the dialect.
  explicit PostgresDialect(soci::session& session);

  soci::session& session() override { return session_; }
  void Begin(bool write, absl::Duration left) override;
  void Commit() override { session_ << "COMMIT"; }
  void Rollback() override { session_ << "ROLLBACK"; }
  size_t ChunkEnd(size_t begin, size_t n, size_t max) const override { return begin + std::min(n - begin, max); }
  size_t ListLength(size_t n) const override { return n; }
  // A literal: the server parses every statement anyway.
  std::string Null(DynamicQuery&) const override { return "NULL"; }
  absl::Status Fetch(DynamicQuery& q, absl::FunctionRef<void(Columns&)> bind_into,
                     absl::FunctionRef<void()> on_row) override;
  absl::Status Execute(DynamicQuery& q) override;
  absl::Status ForEachRow(DynamicQuery& q, int texts, int numbers, absl::FunctionRef<void(const Row&)> on_row) override;
  // PostgreSQL's key has the dimension value before the day.
  StoredAggregateOrder aggregate_order() const override { return StoredAggregateOrder::kValueThenDay; }
  absl::Status UpsertAggregates(const AggregateUpsert& upsert) override;
  absl::Status LockKeys(const std::vector<std::string>& keys) override;
  absl::StatusOr<bool> Lock(int64_t key, bool wait) override;
  // Not transactional: it may name a value an unfinished transaction took.
  const char* LastLogSeqQuery() const override {
    return "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM event_log_seq_seq";
  }
  const char* InsertedLogSeqQuery() const override { return "SELECT currval('event_log_seq_seq')"; }

 private:
  soci::session& session_;
  PgPrepared prepared_;
};

}  // namespace pstrack::sql

#endif  // PSTRACK_STORAGE_SQL_POSTGRES_DIALECT_H_
