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
  const std::string text = q.Text(DynamicQuery::Placeholders::kAnonymous, &in_text);
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

// One prepared single-row statement per shape (with or without RETURNING),
// bound directly: SQLite runs a multi-row VALUES list row by row anyway,
// and building, scanning and hashing the text of a 100-row statement of 43
// parameters each was a third of the upsert.
absl::Status SqliteDialect::UpsertAggregates(const AggregateUpsert& upsert) {
  const bool watch = upsert.turns != nullptr;
  std::string& text = upsert_text_[watch];
  if (text.empty()) {
    const auto& names = CounterNames();
    std::string columns = "node_code, basis, dim, dim_value, day", values = "?, ?, ?, ?, ?", updates;
    for (int i = 0; i < kCounterCount; ++i) {
      absl::StrAppend(&columns, ", ", names[i]);
      absl::StrAppend(&values, ", ?");
      absl::StrAppend(&updates, i ? ", " : "", names[i], " = aggregates.", names[i], " + excluded.", names[i]);
    }
    text = absl::StrCat("INSERT INTO aggregates (", columns, ", changes) VALUES (", values,
                        ", ?) ON CONFLICT (node_code, basis, dim, dim_value, day) DO UPDATE SET ", updates,
                        ", changes = aggregates.changes + excluded.changes");
    if (watch) {
      absl::StrAppend(&text, " RETURNING ");
      for (Counter c : kPresenceCounters) {
        absl::StrAppend(&text, c == kPresenceCounters.front() ? "" : ", ", names[static_cast<int>(c)]);
      }
    }
  }
  sqlite3_stmt* st = statements_.Get(text);
  auto failure = [&] {
    const std::string message = sqlite3_errmsg(statements_.db());
    if (st != nullptr) sqlite3_reset(st);
    return DatabaseError(std::runtime_error(message));
  };
  if (st == nullptr) return failure();
  std::array<int64_t, kPresenceCounters.size()> now{};
  for (const AggregateRow* r : upsert.rows) {
    auto text_at = [&](int column, const std::string& value) {
      return sqlite3_bind_text(st, column, value.data(), static_cast<int>(value.size()), SQLITE_STATIC);
    };
    int rc = text_at(1, r->key.node_code);
    rc |= sqlite3_bind_int(st, 2, upsert.basis);
    rc |= sqlite3_bind_int(st, 3, static_cast<int>(r->key.dim));
    rc |= text_at(4, r->key.dim_value);
    rc |= text_at(5, r->key.day);
    for (int c = 0; c < kCounterCount; ++c) rc |= sqlite3_bind_int64(st, 6 + c, r->counts[c]);
    auto changes = upsert.changes_of.find(r);
    rc |= sqlite3_bind_int64(st, 6 + kCounterCount, changes == upsert.changes_of.end() ? 0 : changes->second);
    if (rc != SQLITE_OK) return failure();
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
      for (size_t c = 0; c < now.size(); ++c) now[c] = sqlite3_column_int64(st, static_cast<int>(c));
      if (TurnsPresence(r->counts, now)) {
        ++(*upsert.turns)[AggregateKey{r->key.node_code, static_cast<Basis>(upsert.basis), AggregateDim::kTotal, "",
                                       r->key.day}];
      }
      rc = sqlite3_step(st);
    }
    if (rc != SQLITE_DONE) return failure();
    sqlite3_reset(st);
  }
  return absl::OkStatus();
}

}  // namespace pstrack::sql
