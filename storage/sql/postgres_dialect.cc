#include "storage/sql/postgres_dialect.h"

#include <algorithm>
#include <array>
#include <memory>
#include <stdexcept>
#include <tuple>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/common/status.h"
#include "services/figures/contribution.h"

namespace pstrack::sql {
namespace {

// A PostgreSQL array literal ('{...}') of texts or of numbers.
void AppendArrayText(std::string* out, absl::string_view value) {
  out->push_back(out->empty() ? '{' : ',');
  out->push_back('"');
  for (char c : value) {
    if (c == '"' || c == '\\') out->push_back('\\');
    out->push_back(c);
  }
  out->push_back('"');
}
void AppendArrayNumber(std::string* out, int64_t value) {
  out->push_back(out->empty() ? '{' : ',');
  absl::StrAppend(out, value);
}

// A row fetched through soci into these variables.
class FetchedRow final : public Row {
 public:
  FetchedRow(const std::vector<std::string>& texts, const std::vector<long long>& numbers,
             const std::vector<soci::indicator>& null)
      : texts_(texts), numbers_(numbers), null_(null) {}
  void Text(int column, std::string& into) const override { into = texts_[column]; }
  int64_t Number(int column) const override {
    const size_t i = column - texts_.size();
    return null_[i] == soci::i_ok ? numbers_[i] : 0;
  }

 private:
  const std::vector<std::string>& texts_;
  const std::vector<long long>& numbers_;
  const std::vector<soci::indicator>& null_;
};

}  // namespace

PostgresDialect::PostgresDialect(soci::session& session)
    : session_(session), prepared_(static_cast<soci::postgresql_session_backend*>(session.get_backend())->conn_) {}

void PostgresDialect::Begin(bool write, absl::Duration left) {
  session_ << (write ? "BEGIN" : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  // The server stops the statement when the call's deadline passes
  // (statement_timeout takes at most INT_MAX ms; a farther deadline is no
  // deadline).
  if (left < absl::Hours(24 * 20)) {
    session_ << "SET LOCAL statement_timeout = " << std::max<long long>(1, absl::ToInt64Milliseconds(left) + 1);
  }
}

// Straight through libpq: one round trip per statement, its parameters as
// text (soci prepared each statement in a round trip of its own and bound
// its thousands of parameters one by one: most of a PostgreSQL batch's
// time).
namespace {

std::unique_ptr<PGresult, void (*)(PGresult*)> Run(PGconn* conn, DynamicQuery& q) {
  std::vector<const char*> values;
  const std::string text = q.PositionalText(&values);
  std::unique_ptr<PGresult, void (*)(PGresult*)> result(
      PQexecParams(conn, text.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr, nullptr, 0),
      PQclear);
  const ExecStatusType status = PQresultStatus(result.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    throw std::runtime_error(result ? PQresultErrorMessage(result.get()) : PQerrorMessage(conn));
  }
  return result;
}

}  // namespace

absl::Status PostgresDialect::Fetch(DynamicQuery& q, absl::FunctionRef<void(Columns&)> bind_into,
                                    absl::FunctionRef<void()> on_row) {
  return Guard([&] {
    Columns columns;
    bind_into(columns);
    auto result = Run(prepared_.conn(), q);
    const int rows = PQntuples(result.get());
    for (int row = 0; row < rows; ++row) {
      columns.Read(result.get(), row);
      on_row();
    }
  });
}

absl::Status PostgresDialect::Execute(DynamicQuery& q) {
  return Guard([&] { Run(prepared_.conn(), q); });
}

absl::Status PostgresDialect::ForEachRow(DynamicQuery& q, int texts, int numbers,
                                         absl::FunctionRef<void(const Row&)> on_row) {
  std::vector<std::string> text(texts);
  std::vector<long long> number(numbers);
  std::vector<soci::indicator> null(numbers, soci::i_ok);
  const FetchedRow row(text, number, null);
  return Fetch(
      q,
      [&](Columns& st) {
        for (std::string& t : text) st.exchange(Into(t));
        for (int i = 0; i < numbers; ++i) st.exchange(Into(number[i], null[i]));
      },
      [&] { on_row(row); });
}

// One basis's rows as arrays, every counter and the change count, in one
// prepared statement: a batch sends a few array parameters instead of a
// statement of thousands of placeholders that the server parses and plans
// again, and that soci binds one by one.
absl::Status PostgresDialect::UpsertAggregates(const AggregateUpsert& upsert) {
  const auto& names = CounterNames();
  constexpr int kKeyColumns = 5, kParams = kKeyColumns + kCounterCount + 1;
  static const std::array<std::string, 2> kText = [&] {
    std::string columns = "node_code, basis, dim, dim_value, day";
    std::string arrays = "$1::text[], $2::int[], $3::int[], $4::text[], $5::text[]";
    std::string updates;
    for (int i = 0; i < kCounterCount; ++i) {
      absl::StrAppend(&columns, ", ", names[i]);
      absl::StrAppend(&arrays, ", $", kKeyColumns + 1 + i, "::bigint[]");
      absl::StrAppend(&updates, i ? ", " : "", names[i], " = aggregates.", names[i], " + excluded.", names[i]);
    }
    absl::StrAppend(&columns, ", changes");
    absl::StrAppend(&arrays, ", $", kParams, "::bigint[]");
    absl::StrAppend(&updates, ", changes = aggregates.changes + excluded.changes");
    const std::string text =
        absl::StrCat("INSERT INTO aggregates (", columns, ") SELECT * FROM unnest(", arrays,
                     ") ON CONFLICT (node_code, basis, dim, dim_value, day) DO UPDATE SET ", updates);
    std::string returning = " RETURNING node_code, dim_value, day";
    for (Counter c : kPresenceCounters) absl::StrAppend(&returning, ", ", names[static_cast<int>(c)]);
    return std::array<std::string, 2>{text, text + returning};
  }();
  const std::vector<const AggregateRow*>& group = upsert.rows;
  std::vector<std::string> arrays(kParams);
  for (const AggregateRow* r : group) {
    AppendArrayText(&arrays[0], r->key.node_code);
    AppendArrayNumber(&arrays[1], upsert.basis);
    AppendArrayNumber(&arrays[2], static_cast<int>(r->key.dim));
    AppendArrayText(&arrays[3], r->key.dim_value);
    AppendArrayText(&arrays[4], r->key.day);
    for (int i = 0; i < kCounterCount; ++i) AppendArrayNumber(&arrays[kKeyColumns + i], r->counts[i]);
    auto it = upsert.changes_of.find(r);
    AppendArrayNumber(&arrays[kParams - 1], it == upsert.changes_of.end() ? 0 : it->second);
  }
  std::vector<const char*> values;
  for (std::string& a : arrays) {
    a.push_back('}');
    values.push_back(a.c_str());
  }
  const std::string& text = kText[upsert.turns != nullptr ? 1 : 0];
  return Guard([&] {
    const std::string name = prepared_.Name(text, kParams);
    PGresult* r = PQexecPrepared(prepared_.conn(), name.c_str(), kParams, values.data(), nullptr, nullptr, 0);
    std::unique_ptr<PGresult, void (*)(PGresult*)> result(r, PQclear);
    const ExecStatusType status = PQresultStatus(r);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) throw std::runtime_error(PQresultErrorMessage(r));
    if (upsert.turns == nullptr) return;
    // Matched by key: the rows come back in no promised order (one
    // statement holds one basis, and a group's procedure rows one
    // dimension).
    using Slot = std::tuple<absl::string_view, absl::string_view, absl::string_view>;
    absl::flat_hash_map<Slot, const AggregateRow*> sent;
    for (const AggregateRow* g : group) sent[Slot{g->key.node_code, g->key.dim_value, g->key.day}] = g;
    std::array<int64_t, kPresenceCounters.size()> now{};
    for (int row = 0; row < PQntuples(r); ++row) {
      auto it = sent.find(Slot{PQgetvalue(r, row, 0), PQgetvalue(r, row, 1), PQgetvalue(r, row, 2)});
      if (it == sent.end()) continue;
      for (size_t c = 0; c < now.size(); ++c) {
        if (!absl::SimpleAtoi(PQgetvalue(r, row, 3 + static_cast<int>(c)), &now[c])) {
          throw std::runtime_error("a returned counter is not a number");
        }
      }
      if (!TurnsPresence(it->second->counts, now)) continue;
      ++(*upsert.turns)[AggregateKey{PQgetvalue(r, row, 0), static_cast<Basis>(upsert.basis), AggregateDim::kTotal, "",
                                     PQgetvalue(r, row, 2)}];
    }
  });
}

// Transaction-scoped advisory locks, taken in a fixed order (by hash) so
// that two replicas cannot deadlock.
absl::Status PostgresDialect::LockKeys(const std::vector<std::string>& keys) {
  for (size_t begin = 0; begin < keys.size(); begin += kMaxParamsPerStatement) {
    size_t end = std::min(keys.size(), begin + kMaxParamsPerStatement);
    DynamicQuery q;
    q.sql = "SELECT COUNT(pg_advisory_xact_lock(h)) FROM (SELECT DISTINCT hashtextextended(k, 0) AS h FROM (VALUES ";
    for (size_t i = begin; i < end; ++i) absl::StrAppend(&q.sql, i > begin ? ", (" : "(", q.Bind(keys[i]), ")");
    absl::StrAppend(&q.sql, ") AS v(k) ORDER BY h) AS ordered");
    long long n = 0;
    PSTRACK_RETURN_IF_ERROR(Fetch(
        q, [&](Columns& st) { st.exchange(Into(n)); }, [] {}));
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> PostgresDialect::Lock(int64_t key, bool wait) {
  DynamicQuery q;
  q.sql = wait ? absl::StrCat("SELECT 1 FROM (SELECT pg_advisory_xact_lock(", q.BindInt64(key), ")) AS taken")
               : absl::StrCat("SELECT CASE WHEN pg_try_advisory_xact_lock(", q.BindInt64(key), ") THEN 1 ELSE 0 END");
  int locked = 0;
  PSTRACK_RETURN_IF_ERROR(Fetch(
      q, [&](Columns& st) { st.exchange(Into(locked)); }, [] {}));
  return locked == 1;
}

}  // namespace pstrack::sql
