#include "storage/sql/sqlite_dialect.h"

#include <algorithm>
#include <array>
#include <bit>
#include <stdexcept>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "services/common/status.h"
#include "services/figures/contribution.h"

namespace pstrack::sql {
namespace {

class SqliteRow final : public Row {
 public:
  explicit SqliteRow(sqlite3_stmt* st) : st_(st) {}
  void Text(int column, std::string& into) const override {
    const unsigned char* t = sqlite3_column_text(st_, column);
    into.assign(t ? reinterpret_cast<const char*>(t) : "", t ? sqlite3_column_bytes(st_, column) : 0);
  }
  int64_t Number(int column) const override { return sqlite3_column_int64(st_, column); }

 private:
  sqlite3_stmt* st_;
};

}  // namespace

SqliteDialect::SqliteDialect(soci::session& session)
    : session_(session), statements_(static_cast<soci::sqlite3_session_backend*>(session.get_backend())->conn_) {}

// BEGIN, COMMIT and ROLLBACK are prepared once per connection too: parsing
// them was a tenth of a one-row read such as an API key lookup.
void SqliteDialect::Run(const char* text) {
  sqlite3_stmt* st = statements_.Get(text);
  if (st == nullptr) throw std::runtime_error(sqlite3_errmsg(statements_.db()));
  const int rc = sqlite3_step(st);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
    const std::string message = sqlite3_errmsg(statements_.db());
    sqlite3_reset(st);
    throw std::runtime_error(message);
  }
  sqlite3_reset(st);
}

// IMMEDIATE: a writer takes the write lock at once, so two writers never
// deadlock upgrading. The call's deadline stops statements through the
// progress handler (CheckCallLimits), not here.
void SqliteDialect::Begin(bool write, absl::Duration) { Run(write ? "BEGIN IMMEDIATE" : "BEGIN"); }
void SqliteDialect::Commit() { Run("COMMIT"); }
void SqliteDialect::Rollback() { Run("ROLLBACK"); }

size_t SqliteDialect::ChunkEnd(size_t begin, size_t n, size_t max) const {
  return begin + std::bit_floor(std::min(n - begin, max));
}

size_t SqliteDialect::ListLength(size_t n) const { return std::bit_ceil(n); }

// Reading columns straight from SQLite: soci's per-column conversions were
// a third of a wide sum.
absl::Status SqliteDialect::Step(const DynamicQuery& q, absl::FunctionRef<void(sqlite3_stmt*)> on_row) {
  std::vector<size_t> in_text;
  const std::string text = q.Text(/*anonymous=*/true, &in_text);
  sqlite3_stmt* st = statements_.Get(text);
  auto failure = [&] {
    const std::string message = sqlite3_errmsg(statements_.db());
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

// A prepared statement of the connection: parsing was most of a small
// query (an API key, a procedure) and of a BEGIN ... COMMIT.
absl::Status SqliteDialect::Fetch(DynamicQuery& q, absl::FunctionRef<void(Columns&)> bind_into,
                                  absl::FunctionRef<void()> on_row) {
  Columns columns;
  bind_into(columns);
  absl::Status failed;
  absl::Status status = Step(q, [&](sqlite3_stmt* st) {
    if (!failed.ok()) return;
    failed = Guard([&] {
      columns.Read(st);
      on_row();
    });
  });
  return status.ok() ? failed : status;
}

absl::Status SqliteDialect::Execute(DynamicQuery& q) {
  return Step(q, [](sqlite3_stmt*) {});
}

absl::Status SqliteDialect::ForEachRow(DynamicQuery& q, int, int, absl::FunctionRef<void(const Row&)> on_row) {
  return Step(q, [&](sqlite3_stmt* st) { on_row(SqliteRow(st)); });
}

// Multi-row statements binding every counter and the change count, so that
// one text per chunk size serves every batch (a zero costs a few
// instructions; parsing a new text was a tenth of a small batch).
absl::Status SqliteDialect::UpsertAggregates(const AggregateUpsert& upsert) {
  const auto& names = CounterNames();
  const std::vector<const AggregateRow*>& group = upsert.rows;
  std::string columns = "node_code, basis, dim, dim_value, day";
  std::string updates;
  for (int i = 0; i < kCounterCount; ++i) {
    absl::StrAppend(&columns, ", ", names[i]);
    absl::StrAppend(&updates, i ? ", " : "", names[i], " = aggregates.", names[i], " + excluded.", names[i]);
  }
  absl::StrAppend(&columns, ", changes");
  absl::StrAppend(&updates, ", changes = aggregates.changes + excluded.changes");
  std::string returning;
  if (upsert.turns != nullptr) {
    returning = " RETURNING node_code, dim_value, day";
    for (Counter c : kPresenceCounters) absl::StrAppend(&returning, ", ", names[static_cast<int>(c)]);
  }
  const size_t per_statement = kMaxParamsPerStatement / (6 + kCounterCount);
  for (size_t begin = 0, end = 0; begin < group.size(); begin = end) {
    end = ChunkEnd(begin, group.size(), per_statement);
    DynamicQuery q;
    q.sql = absl::StrCat("INSERT INTO aggregates (", columns, ") VALUES ");
    for (size_t i = begin; i < end; ++i) {
      const AggregateRow& r = *group[i];
      absl::StrAppend(&q.sql, i > begin ? ", (" : "(", q.Bind(r.key.node_code), ", ", q.Bind(upsert.basis), ", ",
                      q.Bind(static_cast<int>(r.key.dim)), ", ", q.Bind(r.key.dim_value), ", ", q.Bind(r.key.day));
      for (int c = 0; c < kCounterCount; ++c) absl::StrAppend(&q.sql, ", ", q.BindInt64(r.counts[c]));
      auto it = upsert.changes_of.find(&r);
      absl::StrAppend(&q.sql, ", ", q.BindInt64(it == upsert.changes_of.end() ? 0 : it->second), ")");
    }
    absl::StrAppend(&q.sql, " ON CONFLICT (node_code, basis, dim, dim_value, day) DO UPDATE SET ", updates, returning);
    if (upsert.turns == nullptr) {
      PSTRACK_RETURN_IF_ERROR(Execute(q));
      continue;
    }
    // The rows come back in no promised order: matched by key (one
    // statement holds one basis and one dimension).
    using Slot = std::tuple<absl::string_view, absl::string_view, absl::string_view>;
    absl::flat_hash_map<Slot, const AggregateRow*> sent;
    for (size_t i = begin; i < end; ++i) {
      sent[Slot{group[i]->key.node_code, group[i]->key.dim_value, group[i]->key.day}] = group[i];
    }
    std::string node, value, day;
    std::array<int64_t, kPresenceCounters.size()> now{};
    PSTRACK_RETURN_IF_ERROR(ForEachRow(q, 3, static_cast<int>(now.size()), [&](const Row& row) {
      row.Text(0, node);
      row.Text(1, value);
      row.Text(2, day);
      for (size_t c = 0; c < now.size(); ++c) now[c] = row.Number(3 + static_cast<int>(c));
      auto it = sent.find(Slot{node, value, day});
      if (it == sent.end() || !TurnsPresence(it->second->counts, now)) return;
      ++(*upsert.turns)[AggregateKey{node, static_cast<Basis>(upsert.basis), AggregateDim::kTotal, "", day}];
    }));
  }
  return absl::OkStatus();
}

}  // namespace pstrack::sql
