// What differs between SQLite and PostgreSQL once a connection is open: how
// a transaction begins, how statements built at run time are prepared and
// run, how rows are read, how a batch of aggregate rows is written, how
// writers of the same keys are kept apart. One object per connection
// (SqliteDialect, PostgresDialect); the table groups (storage/tables/) and
// the store speak only to this interface, so no code elsewhere asks which
// backend it runs on.
//
// Thread-compatible: a connection and its dialect are used by one thread
// at a time (the writer under the store's lock, a reader from the pool).
#ifndef PSTRACK_STORAGE_SQL_DIALECT_H_
#define PSTRACK_STORAGE_SQL_DIALECT_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "services/figures/aggregate_store.h"
#include "soci/soci.h"
#include "storage/sql/query.h"

namespace pstrack::sql {

// One fetched row, read by column position (NULL reads as "" or 0).
class Row {
 public:
  virtual void Text(int column, std::string& into) const = 0;
  virtual int64_t Number(int column) const = 0;

 protected:
  ~Row() = default;
};

// Aggregate rows of one basis to add to the stored ones (their counts and
// their change counts): what AggregateWriter::AddAggregates hands the
// dialect once it has merged and ordered them.
struct AggregateUpsert {
  int basis = 0;
  const std::vector<const AggregateRow*>& rows;
  const absl::flat_hash_map<const AggregateRow*, int64_t>& changes_of;  // absent: 0
  // Set: the rows that turned a presence counter on or off (TurnsPresence)
  // count a change on their total row here.
  std::map<AggregateKey, int64_t>* turns = nullptr;
};

class Dialect {
 public:
  virtual ~Dialect() = default;
  virtual soci::session& session() = 0;

  // Begins a transaction (reads see one snapshot; a write takes the write
  // lock at once) whose statements stop at the call's deadline `left`
  // from now; Commit and Rollback end it. They throw as soci does.
  virtual void Begin(bool write, absl::Duration left) = 0;
  virtual void Commit() = 0;
  virtual void Rollback() = 0;

  // Where the multi-row statement that starts at row `begin` of `n` ends:
  // at most `max` rows (SQLite: a power of two, so that a few prepared texts
  // serve batches of any size).
  virtual size_t ChunkEnd(size_t begin, size_t n, size_t max) const = 0;
  // How long an IN list of `n` keys is made by repeating its last key
  // (SQLite: a power of two, for the same reason).
  virtual size_t ListLength(size_t n) const = 0;
  // An absent value in a multi-row statement.
  virtual std::string Null(DynamicQuery& q) const = 0;

  // Runs `q`: for each row, the variables `bind_into` attached are filled
  // and `on_row` runs (an exception it throws becomes the status).
  virtual absl::Status Fetch(DynamicQuery& q, absl::FunctionRef<void(Columns&)> bind_into,
                             absl::FunctionRef<void()> on_row) = 0;
  virtual absl::Status Execute(DynamicQuery& q) = 0;
  // Runs `q`, whose first `texts` columns are text and the next `numbers`
  // integers, handing each row to `on_row` without copying it into
  // variables first: the wide scans (aggregate sums).
  virtual absl::Status ForEachRow(DynamicQuery& q, int texts, int numbers,
                                  absl::FunctionRef<void(const Row&)> on_row) = 0;

  // The order of the aggregate rows' primary key after node, basis, dim.
  virtual StoredAggregateOrder aggregate_order() const = 0;
  // Adds the rows' counts and change counts to the stored rows.
  virtual absl::Status UpsertAggregates(const AggregateUpsert& upsert) = 0;
  // TransactionControl::LockKeys.
  virtual absl::Status LockKeys(const std::vector<std::string>& keys) = 0;
  // Takes a lock held until the transaction ends: if no other transaction
  // holds it, or (with `wait`) once none does. SQLite: always at once; it
  // has one writer.
  virtual absl::StatusOr<bool> Lock(int64_t key, bool wait) = 0;
  // A query of one integer: the highest sequence number the event log has
  // handed out (0 if none).
  virtual const char* LastLogSeqQuery() const = 0;
  // A query of one integer: the last sequence number this connection's
  // inserts into the event log took.
  virtual const char* InsertedLogSeqQuery() const = 0;
};

}  // namespace pstrack::sql

#endif  // PSTRACK_STORAGE_SQL_DIALECT_H_
