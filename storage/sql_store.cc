// SOCI implementation of Store for SQLite and PostgreSQL. Everything SOCI
// touches stays in this file.
#include <array>
#include <atomic>
#include <bit>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <variant>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "services/common/call_limits.h"
#include "services/common/ceilings.h"
#include "services/common/log.h"
#include "services/common/status.h"
#include "services/common/text.h"
#include "soci/postgresql/soci-postgresql.h"
#include "soci/soci.h"
#include "soci/sqlite3/soci-sqlite3.h"
#include "storage/database_url.h"
#include "storage/durable_log.h"
#include "storage/private_file.h"
#include "storage/migrations.h"
#include "storage/store.h"

namespace pstrack {
namespace {

// SOCI declares SQLite's API inside namespace sqlite_api.
using namespace sqlite_api;  // NOLINT(build/namespaces)
using Backend = DatabaseUrl::Backend;

// Converts a SOCI exception into a status the RPC layer can report.
absl::Status DatabaseError(const std::exception& e) {
  absl::string_view what = e.what();
  // Stopped because the call's deadline passed or the client cancelled
  // (SQLite's progress handler, PostgreSQL's statement_timeout).
  if (absl::StrContains(what, "interrupted") || absl::StrContains(what, "statement timeout") ||
      absl::StrContains(what, "canceling statement")) {
    absl::Status limits = CheckCallLimits();
    if (!limits.ok()) return limits;
    if (absl::StrContains(what, "statement timeout")) {
      return absl::DeadlineExceededError("the call's deadline passed; the query was stopped");
    }
  }
  // SQLITE_FULL (the disk, or StoreOptions::max_database_mib), and
  // PostgreSQL's disk_full (53100) or a file it could not extend.
  if (absl::StrContains(what, "database or disk is full") || absl::StrContains(what, "No space left on device") ||
      absl::StrContains(what, "could not extend file") || absl::StrContains(what, "disk full")) {
    return absl::ResourceExhaustedError(
        "the database disk is full: nothing of this write was stored. The operator must free space on the "
        "database's volume (or raise --max_db_mib); then send the same write again (it is idempotent)");
  }
  if (absl::StrContains(what, "locked") || absl::StrContains(what, "busy") ||
      absl::StrContains(what, "could not serialize") || absl::StrContains(what, "deadlock")) {
    return absl::UnavailableError(absl::StrCat("database busy, retry: ", what));
  }
  return absl::InternalError(absl::StrCat("database error: ", what));
}

int64_t ToMicros(absl::Time t) { return absl::ToUnixMicros(t); }
absl::Time FromMicros(long long us) { return absl::FromUnixMicros(us); }

// Binds a growing list of positional parameters and into-variables to a
// statement built at run time (filters that are present or not).
class DynamicQuery {
 public:
  std::string sql;

  // Appends a placeholder for `value` and returns it.
  std::string Bind(std::string value) {
    strings_.push_back(std::move(value));
    order_.push_back({0, strings_.size() - 1});
    return absl::StrCat(":p", order_.size());
  }
  std::string Bind(int value) {
    ints_.push_back(value);
    order_.push_back({1, ints_.size() - 1});
    return absl::StrCat(":p", order_.size());
  }
  std::string BindDouble(double value) {
    doubles_.push_back(value);
    order_.push_back({3, doubles_.size() - 1});
    return absl::StrCat(":p", order_.size());
  }
  std::string BindInt64(int64_t value) {
    int64s_.push_back(value);
    order_.push_back({2, int64s_.size() - 1});
    return absl::StrCat(":p", order_.size());
  }
  // A NULL as a parameter, so that the text does not depend on which
  // values are missing (SQLite's prepared statements; PostgreSQL infers no
  // type for it in a VALUES list, so it gets the literal NULL instead).
  std::string BindNull() {
    order_.push_back({4, 0});
    return absl::StrCat(":p", order_.size());
  }
  // The text to prepare and, in placeholder order, which value each
  // placeholder takes (a Bind() number, from 0). With `anonymous` every
  // ":pN" becomes "?" (SQLite then keeps no parameter names at all).
  std::string Text(bool anonymous, std::vector<size_t>* in_text) const {
    in_text->reserve(order_.size());
    std::string text;
    text.reserve(sql.size());
    for (size_t i = 0; i < sql.size(); ++i) {
      if (i + 2 >= sql.size() || sql[i] != ':' || sql[i + 1] != 'p' ||
          !absl::ascii_isdigit(static_cast<unsigned char>(sql[i + 2]))) {
        text.push_back(sql[i]);
        continue;
      }
      size_t j = i + 2, k = 0;
      while (j < sql.size() && absl::ascii_isdigit(static_cast<unsigned char>(sql[j]))) k = k * 10 + (sql[j++] - '0');
      in_text->push_back(k - 1);
      text.append(anonymous ? "?" : sql.substr(i, j - i));
      i = j - 1;
    }
    return text;
  }

  // Binds value `k` (a Bind() number, from 0) to parameter `position`.
  int BindNative(sqlite3_stmt* st, int position, size_t k) const {
    const auto& [type, i] = order_.at(k);
    if (type == 0) return sqlite3_bind_text(st, position, strings_[i].data(), strings_[i].size(), SQLITE_STATIC);
    if (type == 1) return sqlite3_bind_int(st, position, ints_[i]);
    if (type == 2) return sqlite3_bind_int64(st, position, int64s_[i]);
    if (type == 4) return sqlite3_bind_null(st, position);
    return sqlite3_bind_double(st, position, doubles_[i]);
  }

  // Binds positionally, in the order the placeholders appear in the text
  // (each placeholder must appear exactly once)
  // (which need not be the order Bind() was called in: argument evaluation
  // order is unspecified). Positional, because SQLite looks names up
  // linearly: binding thousands of named parameters is quadratic.
  // Returns the text to prepare (see Text()).
  std::string BindAll(soci::statement& st, bool anonymous) {
    std::vector<size_t> in_text;
    std::string text = Text(anonymous, &in_text);
    for (size_t k : in_text) {
      const auto& [type, i] = order_.at(k);
      if (type == 0) {
        st.exchange(soci::use(strings_[i]));
      } else if (type == 1) {
        st.exchange(soci::use(ints_[i]));
      } else if (type == 2) {
        st.exchange(soci::use(int64s_[i]));
      } else if (type == 4) {
        st.exchange(soci::use(null_text_, null_ind_));
      } else {
        st.exchange(soci::use(doubles_[i]));
      }
    }
    return text;
  }

 private:
  std::deque<std::string> strings_;  // deque: references stay valid
  std::deque<int> ints_;
  std::deque<long long> int64s_;
  std::deque<double> doubles_;
  std::vector<std::pair<int, size_t>> order_;  // (0 string | 1 int | 2 int64 | 3 double | 4 null, index)
  std::string null_text_;
  soci::indicator null_ind_ = soci::i_null;
};

// A nullable text column read through an indicator.
struct NullableText {
  std::string value;
  soci::indicator ind = soci::i_null;
  bool null() const { return ind != soci::i_ok; }
  std::string get() const { return null() ? std::string() : value; }
};

// Where a fetched row's columns go, the same code for both ways of reading:
// through soci (PostgreSQL, and SQLite without a statement cache) or
// straight from a cached SQLite statement. Row readers call
// st.exchange(Into(variable[, indicator])) once per column, in order.
class Columns {
 public:
  struct Target {
    std::variant<std::string*, int*, long long*, double*> value;
    soci::indicator* ind = nullptr;
  };

  Columns() = default;                                   // read from SQLite by Read()
  explicit Columns(soci::statement* soci) : soci_(soci) {}  // read by soci

  void exchange(Target t) {
    if (soci_ == nullptr) {
      targets_.push_back(t);
      return;
    }
    std::visit(
        [&](auto* v) {
          if (t.ind != nullptr) {
            soci_->exchange(soci::into(*v, *t.ind));
          } else {
            soci_->exchange(soci::into(*v));
          }
        },
        t.value);
  }

  // Copies the current row of `st` into the targets; like soci, a NULL
  // without an indicator is an error.
  void Read(sqlite3_stmt* st) const {
    for (size_t i = 0; i < targets_.size(); ++i) {
      const Target& t = targets_[i];
      const int c = static_cast<int>(i);
      const bool null = sqlite3_column_type(st, c) == SQLITE_NULL;
      if (t.ind != nullptr) *t.ind = null ? soci::i_null : soci::i_ok;
      if (null) {
        if (t.ind == nullptr) throw std::runtime_error("Null value fetched and no indicator defined.");
        continue;
      }
      if (auto* s = std::get_if<std::string*>(&t.value)) {
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(st, c));
        (*s)->assign(text, static_cast<size_t>(sqlite3_column_bytes(st, c)));
      } else if (auto* n = std::get_if<int*>(&t.value)) {
        **n = sqlite3_column_int(st, c);
      } else if (auto* l = std::get_if<long long*>(&t.value)) {
        **l = sqlite3_column_int64(st, c);
      } else {
        *std::get<double*>(t.value) = sqlite3_column_double(st, c);
      }
    }
  }

 private:
  soci::statement* soci_ = nullptr;
  std::vector<Target> targets_;
};

template <typename T>
Columns::Target Into(T& value) {
  return Columns::Target{&value, nullptr};
}
template <typename T>
Columns::Target Into(T& value, soci::indicator& ind) {
  return Columns::Target{&value, &ind};
}

OptionalDate ReadDate(const NullableText& t) {
  if (t.null() || t.value.empty()) return std::nullopt;
  auto d = ParseDate(t.value, "stored date");
  if (!d.ok()) return std::nullopt;  // written by us, always valid
  return *d;
}

// Column variables for one agency row.
struct AgencyRow {
  std::string code, name, admin_code, path;
  int level = 0, depth = 0;
  NullableText parent_code, valid_from, valid_until, successor_code;
  long long revision = 0, create_us = 0, update_us = 0;

  static constexpr const char* kColumns =
      "code, name, level, parent_code, admin_code, valid_from, valid_until, successor_code, path, "
      "depth, revision, create_time_us, update_time_us";

  void Exchange(Columns& st) {
    st.exchange(Into(code));
    st.exchange(Into(name));
    st.exchange(Into(level));
    st.exchange(Into(parent_code.value, parent_code.ind));
    st.exchange(Into(admin_code));
    st.exchange(Into(valid_from.value, valid_from.ind));
    st.exchange(Into(valid_until.value, valid_until.ind));
    st.exchange(Into(successor_code.value, successor_code.ind));
    st.exchange(Into(path));
    st.exchange(Into(depth));
    st.exchange(Into(revision));
    st.exchange(Into(create_us));
    st.exchange(Into(update_us));
  }

  Agency ToAgency() const {
    Agency a;
    a.code = code;
    a.name = name;
    a.level = static_cast<AgencyLevel>(level);
    a.parent_code = parent_code.get();
    a.admin_code = admin_code;
    a.valid_from = ReadDate(valid_from);
    a.valid_until = ReadDate(valid_until);
    a.successor_code = successor_code.get();
    a.path = path;
    a.depth = depth;
    a.revision = revision;
    a.create_time = FromMicros(create_us);
    a.update_time = FromMicros(update_us);
    return a;
  }
};

struct ProcedureRow {
  std::string code, name, field;
  int levels_mask = 0, online_mode = 0, eligible = 0, amount = 0, unit = 0, fee = 0, pay = 0, popdb = 0;
  NullableText valid_from, valid_until;
  long long revision = 0, create_us = 0, update_us = 0;

  static constexpr const char* kColumns =
      "code, name, field, levels_mask, online_mode, full_online_eligible, resolution_amount, "
      "resolution_unit, fee_bearing, online_payment_integrated, population_db_connected, "
      "valid_from, valid_until, revision, create_time_us, update_time_us";

  void Exchange(Columns& st) {
    st.exchange(Into(code));
    st.exchange(Into(name));
    st.exchange(Into(field));
    st.exchange(Into(levels_mask));
    st.exchange(Into(online_mode));
    st.exchange(Into(eligible));
    st.exchange(Into(amount));
    st.exchange(Into(unit));
    st.exchange(Into(fee));
    st.exchange(Into(pay));
    st.exchange(Into(popdb));
    st.exchange(Into(valid_from.value, valid_from.ind));
    st.exchange(Into(valid_until.value, valid_until.ind));
    st.exchange(Into(revision));
    st.exchange(Into(create_us));
    st.exchange(Into(update_us));
  }

  Procedure ToProcedure() const {
    Procedure p;
    p.code = code;
    p.name = name;
    p.field = field;
    for (int i = 1; i <= kMaxAgencyLevel; ++i) {
      if (levels_mask & (1 << i)) p.levels.push_back(static_cast<AgencyLevel>(i));
    }
    p.online_mode = static_cast<OnlineMode>(online_mode);
    p.full_online_eligible = eligible != 0;
    p.resolution_amount = static_cast<uint32_t>(amount);
    p.resolution_unit = static_cast<TimeUnit>(unit);
    p.fee_bearing = fee != 0;
    p.online_payment_integrated = pay != 0;
    p.population_db_connected = popdb != 0;
    p.valid_from = ReadDate(valid_from);
    p.valid_until = ReadDate(valid_until);
    p.revision = revision;
    p.create_time = FromMicros(create_us);
    p.update_time = FromMicros(update_us);
    return p;
  }
};

struct NullableInt64 {
  long long value = 0;
  soci::indicator ind = soci::i_null;
  std::optional<int64_t> get() const { return ind == soci::i_ok ? std::optional<int64_t>(value) : std::nullopt; }
};

struct DossierDbRow {
  std::string code, agency_code, agency_path;
  NullableText procedure_code, received_day, finish_day;
  int status = 0, channel = 0, event_count = 0;
  NullableInt64 received_us, due_us, finish_us, wait_since_us, overdue_from_us, portal_overdue_from_us;
  long long updated_us = 0;

  static constexpr const char* kColumns =
      "code, agency_code, agency_path, procedure_code, status, channel, received_us, received_day, due_us, "
      "finish_us, finish_day, wait_since_us, event_count, updated_us, overdue_from_us, portal_overdue_from_us";

  void Exchange(Columns& st) {
    st.exchange(Into(code));
    st.exchange(Into(agency_code));
    st.exchange(Into(agency_path));
    st.exchange(Into(procedure_code.value, procedure_code.ind));
    st.exchange(Into(status));
    st.exchange(Into(channel));
    st.exchange(Into(received_us.value, received_us.ind));
    st.exchange(Into(received_day.value, received_day.ind));
    st.exchange(Into(due_us.value, due_us.ind));
    st.exchange(Into(finish_us.value, finish_us.ind));
    st.exchange(Into(finish_day.value, finish_day.ind));
    st.exchange(Into(wait_since_us.value, wait_since_us.ind));
    st.exchange(Into(event_count));
    st.exchange(Into(updated_us));
    st.exchange(Into(overdue_from_us.value, overdue_from_us.ind));
    st.exchange(Into(portal_overdue_from_us.value, portal_overdue_from_us.ind));
  }

  DossierRow ToRow() const {
    DossierRow r;
    r.code = code;
    r.agency_code = agency_code;
    r.agency_path = agency_path;
    r.procedure_code = procedure_code.get();
    r.status = status;
    r.channel = channel;
    r.received_us = received_us.get();
    r.received_day = received_day.get();
    r.due_us = due_us.get();
    r.finish_us = finish_us.get();
    r.finish_day = finish_day.get();
    r.wait_since_us = wait_since_us.get();
    r.event_count = event_count;
    r.updated_us = updated_us;
    r.overdue_from_us = overdue_from_us.get();
    r.portal_overdue_from_us = portal_overdue_from_us.get();
    return r;
  }
};

// Statements with many rows are split so that no statement binds more than
// this many parameters (SQLite's limit is 32766).
constexpr size_t kMaxParamsPerStatement = 3000;

int LevelsMask(const std::vector<AgencyLevel>& levels) {
  int mask = 0;
  for (AgencyLevel l : levels) mask |= 1 << static_cast<int>(l);
  return mask;
}

// Upper bound of the key range holding every path below `path`: children are
// "path/..." and '0' is the byte after '/'.
std::string SubtreeEnd(absl::string_view path) { return absl::StrCat(path, "0"); }


// The [lo, hi) day ranges, per grain, whose rows add up to [from, until)
// ("" = from the beginning): whole years as year rows, whole months as
// month rows, the rest as days. Without years when sums are asked per
// month, days only when asked per day.
struct GrainRange {
  int grain;
  std::string lo, hi;
};

std::vector<GrainRange> TileRange(const std::string& from, const std::string& until, bool by_month, bool by_day) {
  if (by_day || until.size() != 10 || (!from.empty() && from.size() != 10)) return {{0, from, until}};
  auto month_start = [](const std::string& d) { return d.substr(0, 7) + "-01"; };
  auto next_month = [](const std::string& d) {
    int y = std::stoi(d.substr(0, 4)), m = std::stoi(d.substr(5, 2));
    if (++m == 13) {
      m = 1;
      ++y;
    }
    return absl::StrFormat("%04d-%02d-01", y, m);
  };
  auto year_start = [](const std::string& d) { return d.substr(0, 4) + "-01-01"; };
  auto next_year = [](const std::string& d) { return absl::StrFormat("%04d-01-01", std::stoi(d.substr(0, 4)) + 1); };
  // Month-aligned inner range [m_lo, m_hi).
  const std::string m_lo = from.empty() ? "" : (month_start(from) == from ? from : next_month(from));
  const std::string m_hi = month_start(until);
  if (!from.empty() && m_lo >= m_hi) return {{0, from, until}};
  std::vector<GrainRange> out;
  auto add = [&](int grain, const std::string& lo, const std::string& hi) {
    if (lo < hi || (lo.empty() && !hi.empty())) out.push_back({grain, lo, hi});
  };
  add(0, from, m_lo.empty() ? "" : m_lo);
  add(0, m_hi, until);
  if (by_month) {
    add(kMonthGrain, m_lo, m_hi);
    return out;
  }
  const std::string y_lo = m_lo.empty() ? "" : (year_start(m_lo) == m_lo ? m_lo : next_year(m_lo));
  const std::string y_hi = year_start(m_hi);
  if (!m_lo.empty() && y_lo >= y_hi) {
    add(kMonthGrain, m_lo, m_hi);
    return out;
  }
  add(kMonthGrain, m_lo, y_lo.empty() ? "" : y_lo);
  add(kMonthGrain, y_hi, m_hi);
  add(kYearGrain, y_lo, y_hi);
  return out;
}

// The SQLite writer's prepared statements, by text: ingestion runs the same
// multi-row statements over and over, and parsing them was a fifth of its
// time. Used only by the writer's thread (under the store's write lock).
class StatementCache {
 public:
  explicit StatementCache(sqlite3* db) : db_(db) {}
  ~StatementCache() { Clear(); }

  // A reset statement for `text`, prepared on first use; null on error
  // (sqlite3_errmsg says why).
  sqlite3_stmt* Get(const std::string& text) {
    auto it = statements_.find(text);
    if (it != statements_.end()) return it->second;
    if (statements_.size() >= kMaxStatements) Clear();
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v3(db_, text.c_str(), static_cast<int>(text.size()), SQLITE_PREPARE_PERSISTENT, &st,
                           nullptr) != SQLITE_OK) {
      return nullptr;
    }
    statements_.emplace(text, st);
    return st;
  }
  void Clear() {
    for (auto& [text, st] : statements_) sqlite3_finalize(st);
    statements_.clear();
  }
  sqlite3* db() const { return db_; }

 private:
  static constexpr size_t kMaxStatements = 256;
  sqlite3* db_;
  absl::flat_hash_map<std::string, sqlite3_stmt*> statements_;
};

// PostgreSQL statements of fixed text, prepared once per connection (the
// writer's): a batch then sends its rows as a few array parameters instead
// of a statement of thousands of placeholders that the server parses and
// plans again, and that SOCI binds one by one (together three quarters of
// the server's time in PostgreSQL ingestion).
class PgPrepared {
 public:
  explicit PgPrepared(PGconn* conn) : conn_(conn) {}
  PGconn* conn() const { return conn_; }
  // The name `text` is prepared under on this connection (prepared now if
  // new; prepared statements outlive a rolled-back transaction).
  std::string Name(const std::string& text, int params) {
    auto it = names_.find(text);
    if (it != names_.end()) return it->second;
    std::string name = absl::StrCat("pstrack_", names_.size());
    PGresult* r = PQprepare(conn_, name.c_str(), text.c_str(), params, nullptr);
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    const std::string error = ok ? "" : PQresultErrorMessage(r);
    PQclear(r);
    if (!ok) throw std::runtime_error(error);
    names_.emplace(text, name);
    return name;
  }

 private:
  PGconn* conn_;
  absl::flat_hash_map<std::string, std::string> names_;
};

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

class SqlTransaction : public WriteTransaction {
 public:
  explicit SqlTransaction(soci::session& session, StatementCache* cache = nullptr, PgPrepared* pg = nullptr)
      : sql_(session), anonymous_(session.get_backend_name() == "sqlite3"), cache_(cache), pg_(pg) {}

  absl::StatusOr<std::optional<Agency>> FindAgency(absl::string_view code) override {
    DynamicQuery q;
    q.sql = absl::StrCat("SELECT ", AgencyRow::kColumns, " FROM agencies WHERE code = ",
                         q.Bind(std::string(code)));
    PSTRACK_ASSIGN_OR_RETURN(auto rows, QueryAgencies(q));
    if (rows.empty()) return std::optional<Agency>();
    return std::optional<Agency>(std::move(rows.front()));
  }

  absl::StatusOr<std::vector<Agency>> FindAgencies(const std::vector<std::string>& codes) override {
    return FindByCodes<Agency>(absl::StrCat("SELECT ", AgencyRow::kColumns, " FROM agencies"), codes,
                               [&](DynamicQuery& q) { return QueryAgencies(q); });
  }

  absl::StatusOr<std::vector<Agency>> ListAgencies(const AgencyQuery& query) override {
    DynamicQuery q;
    q.sql = absl::StrCat("SELECT ", AgencyRow::kColumns, " FROM agencies WHERE 1 = 1");
    if (!query.root_path.empty()) {
      absl::StrAppend(&q.sql, " AND (path = ", q.Bind(query.root_path), " OR (path >= ",
                      q.Bind(query.root_path + "/"), " AND path < ", q.Bind(SubtreeEnd(query.root_path)),
                      "))");
    }
    if (query.max_depth > 0) absl::StrAppend(&q.sql, " AND depth <= ", q.Bind(query.max_depth));
    if (query.level != AgencyLevel::kUnspecified) {
      absl::StrAppend(&q.sql, " AND level = ", q.Bind(static_cast<int>(query.level)));
    }
    if (query.as_of) {
      std::string d = FormatDate(*query.as_of);
      absl::StrAppend(&q.sql, " AND (valid_from IS NULL OR valid_from <= ", q.Bind(d),
                      ") AND (valid_until IS NULL OR valid_until > ", q.Bind(d), ")");
    }
    if (!query.name_folded.empty()) {
      absl::StrAppend(&q.sql, " AND name_folded LIKE ", q.Bind(LikePattern(query.name_folded)),
                      " ESCAPE '\\'");
    }
    if (query.ended_only) absl::StrAppend(&q.sql, " AND valid_until IS NOT NULL");
    if (!query.after_path.empty()) absl::StrAppend(&q.sql, " AND path > ", q.Bind(query.after_path));
    absl::StrAppend(&q.sql, " ORDER BY path LIMIT ", q.Bind(query.limit));
    return QueryAgencies(q);
  }

  absl::StatusOr<int64_t> CountAgencies() override { return Count("agencies"); }
  absl::StatusOr<int64_t> CountProcedures() override { return Count("procedures"); }

  absl::StatusOr<std::optional<Procedure>> FindProcedure(absl::string_view code) override {
    DynamicQuery q;
    q.sql = absl::StrCat("SELECT ", ProcedureRow::kColumns, " FROM procedures WHERE code = ",
                         q.Bind(std::string(code)));
    PSTRACK_ASSIGN_OR_RETURN(auto rows, QueryProcedures(q));
    if (rows.empty()) return std::optional<Procedure>();
    return std::optional<Procedure>(std::move(rows.front()));
  }

  absl::StatusOr<std::vector<Procedure>> FindProcedures(const std::vector<std::string>& codes) override {
    return FindByCodes<Procedure>(absl::StrCat("SELECT ", ProcedureRow::kColumns, " FROM procedures"), codes,
                                  [&](DynamicQuery& q) { return QueryProcedures(q); });
  }

  absl::StatusOr<std::vector<Procedure>> ListProcedures(const ProcedureQuery& query) override {
    DynamicQuery q;
    q.sql = absl::StrCat("SELECT ", ProcedureRow::kColumns, " FROM procedures WHERE 1 = 1");
    if (!query.field.empty()) absl::StrAppend(&q.sql, " AND field = ", q.Bind(query.field));
    if (query.online_mode != OnlineMode::kUnspecified) {
      absl::StrAppend(&q.sql, " AND online_mode = ", q.Bind(static_cast<int>(query.online_mode)));
    }
    if (!query.agency_code.empty()) {
      absl::StrAppend(&q.sql, " AND (EXISTS (SELECT 1 FROM procedure_agencies pa WHERE pa.procedure_code = "
                              "procedures.code AND pa.agency_code = ",
                      q.Bind(query.agency_code), ")");
      if (query.agency_level != AgencyLevel::kUnspecified) {
        absl::StrAppend(&q.sql, " OR (levels_mask & ", q.Bind(1 << static_cast<int>(query.agency_level)),
                        ") <> 0");
      }
      absl::StrAppend(&q.sql, ")");
    }
    if (query.level != AgencyLevel::kUnspecified) {
      absl::StrAppend(&q.sql, " AND (levels_mask & ", q.Bind(1 << static_cast<int>(query.level)), ") <> 0");
    }
    if (query.as_of) {
      std::string d = FormatDate(*query.as_of);
      absl::StrAppend(&q.sql, " AND (valid_from IS NULL OR valid_from <= ", q.Bind(d),
                      ") AND (valid_until IS NULL OR valid_until > ", q.Bind(d), ")");
    }
    if (!query.query_folded.empty()) {
      absl::StrAppend(&q.sql, " AND (code = ", q.Bind(query.query_folded), " OR name_folded LIKE ",
                      q.Bind(LikePattern(query.query_folded)), " ESCAPE '\\')");
    }
    if (query.full_online_eligible) {
      absl::StrAppend(&q.sql, " AND full_online_eligible = ", q.Bind(*query.full_online_eligible ? 1 : 0));
    }
    if (query.fee_bearing) {
      absl::StrAppend(&q.sql, " AND fee_bearing = ", q.Bind(*query.fee_bearing ? 1 : 0));
    }
    if (!query.after_code.empty()) absl::StrAppend(&q.sql, " AND code > ", q.Bind(query.after_code));
    absl::StrAppend(&q.sql, " ORDER BY code LIMIT ", q.Bind(query.limit));
    return QueryProcedures(q);
  }

  // Every write to the tree or the catalog moves the reference version
  // (once per transaction), which readers compare to keep their copies.
  absl::Status BumpReferenceVersion() {
    if (reference_bumped_) return absl::OkStatus();
    reference_bumped_ = true;
    return Guard([&] { sql_ << "UPDATE reference_version SET version = version + 1 WHERE id = 1"; });
  }

  absl::Status InsertAgency(const Agency& a) override {
    PSTRACK_RETURN_IF_ERROR(BumpReferenceVersion());
    return Guard([&] {
      BoundAgency b(a);
      sql_ << "INSERT INTO agencies (code, name, name_folded, level, parent_code, admin_code, valid_from, "
              "valid_until, successor_code, path, depth, revision, create_time_us, update_time_us) VALUES "
              "(:code, :name, :folded, :level, :parent, :admin, :vfrom, :vuntil, :succ, :path, :depth, "
              ":rev, :ct, :ut)",
          soci::use(b.code), soci::use(b.name), soci::use(b.folded), soci::use(b.level),
          soci::use(b.parent, b.parent_ind), soci::use(b.admin), soci::use(b.vfrom, b.vfrom_ind),
          soci::use(b.vuntil, b.vuntil_ind), soci::use(b.succ, b.succ_ind), soci::use(b.path),
          soci::use(b.depth), soci::use(b.rev), soci::use(b.ct), soci::use(b.ut);
    });
  }

  absl::Status UpdateAgency(const Agency& a) override {
    PSTRACK_RETURN_IF_ERROR(BumpReferenceVersion());
    return Guard([&] {
      BoundAgency b(a);
      sql_ << "UPDATE agencies SET name = :name, name_folded = :folded, level = :level, parent_code = :parent, "
              "admin_code = :admin, valid_from = :vfrom, valid_until = :vuntil, successor_code = :succ, "
              "path = :path, depth = :depth, revision = :rev, create_time_us = :ct, update_time_us = :ut "
              "WHERE code = :code",
          soci::use(b.name), soci::use(b.folded), soci::use(b.level), soci::use(b.parent, b.parent_ind),
          soci::use(b.admin), soci::use(b.vfrom, b.vfrom_ind), soci::use(b.vuntil, b.vuntil_ind),
          soci::use(b.succ, b.succ_ind), soci::use(b.path), soci::use(b.depth), soci::use(b.rev),
          soci::use(b.ct), soci::use(b.ut), soci::use(b.code);
    });
  }

  absl::Status MoveDescendants(absl::string_view old_path, absl::string_view new_path,
                               int depth_delta) override {
    PSTRACK_RETURN_IF_ERROR(BumpReferenceVersion());
    return Guard([&] {
      std::string lo = absl::StrCat(old_path, "/"), hi = SubtreeEnd(old_path);
      std::string new_prefix(new_path);
      int cut = static_cast<int>(old_path.size()) + 1;  // SQL substr is 1-based
      sql_ << "UPDATE agencies SET path = :np || substr(path, :cut), depth = depth + :dd "
              "WHERE path >= :lo AND path < :hi",
          soci::use(new_prefix), soci::use(cut), soci::use(depth_delta), soci::use(lo), soci::use(hi);
    });
  }

  absl::Status PutProcedure(const Procedure& p) override {
    PSTRACK_RETURN_IF_ERROR(BumpReferenceVersion());
    PSTRACK_RETURN_IF_ERROR(Guard([&] {
      std::string code = p.code, name = p.name, folded = FoldForSearch(p.name), field = p.field;
      int mask = LevelsMask(p.levels), mode = static_cast<int>(p.online_mode),
          eligible = p.full_online_eligible, amount = static_cast<int>(p.resolution_amount),
          unit = static_cast<int>(p.resolution_unit), fee = p.fee_bearing, pay = p.online_payment_integrated,
          popdb = p.population_db_connected;
      std::string vfrom = FormatOptionalDate(p.valid_from), vuntil = FormatOptionalDate(p.valid_until);
      soci::indicator vfrom_ind = p.valid_from ? soci::i_ok : soci::i_null;
      soci::indicator vuntil_ind = p.valid_until ? soci::i_ok : soci::i_null;
      long long rev = p.revision, ct = ToMicros(p.create_time), ut = ToMicros(p.update_time);
      sql_ << "INSERT INTO procedures (code, name, name_folded, field, levels_mask, online_mode, "
              "full_online_eligible, resolution_amount, resolution_unit, fee_bearing, "
              "online_payment_integrated, population_db_connected, valid_from, valid_until, revision, "
              "create_time_us, update_time_us) VALUES (:code, :name, :folded, :field, :mask, :mode, :elig, "
              ":amount, :unit, :fee, :pay, :popdb, :vfrom, :vuntil, :rev, :ct, :ut) "
              "ON CONFLICT (code) DO UPDATE SET name = excluded.name, name_folded = excluded.name_folded, "
              "field = excluded.field, levels_mask = excluded.levels_mask, online_mode = excluded.online_mode, "
              "full_online_eligible = excluded.full_online_eligible, "
              "resolution_amount = excluded.resolution_amount, resolution_unit = excluded.resolution_unit, "
              "fee_bearing = excluded.fee_bearing, online_payment_integrated = excluded.online_payment_integrated, "
              "population_db_connected = excluded.population_db_connected, valid_from = excluded.valid_from, "
              "valid_until = excluded.valid_until, revision = excluded.revision, "
              "create_time_us = excluded.create_time_us, update_time_us = excluded.update_time_us",
          soci::use(code), soci::use(name), soci::use(folded), soci::use(field), soci::use(mask),
          soci::use(mode), soci::use(eligible), soci::use(amount), soci::use(unit), soci::use(fee),
          soci::use(pay), soci::use(popdb), soci::use(vfrom, vfrom_ind), soci::use(vuntil, vuntil_ind),
          soci::use(rev), soci::use(ct), soci::use(ut);
      sql_ << "DELETE FROM procedure_agencies WHERE procedure_code = :code", soci::use(code);
    }));
    if (p.agency_codes.empty()) return absl::OkStatus();
    // One multi-row INSERT for the whole list.
    DynamicQuery q;
    q.sql = "INSERT INTO procedure_agencies (procedure_code, agency_code) VALUES ";
    for (size_t i = 0; i < p.agency_codes.size(); ++i) {
      absl::StrAppend(&q.sql, i ? ", (" : "(", q.Bind(p.code), ", ", q.Bind(p.agency_codes[i]), ")");
    }
    return Execute(q);
  }

  absl::StatusOr<std::vector<StoredEvent>> FindEvents(const std::vector<std::string>& ids) override {
    return QueryEventsWhere("event_id", ids);
  }

  absl::StatusOr<std::vector<StoredEvent>> LoadDossierEvents(const std::vector<std::string>& codes) override {
    return QueryEventsWhere("dossier_code", codes);
  }

  absl::StatusOr<int64_t> CountEvents() override { return Count("filing_events"); }

  absl::StatusOr<std::optional<DossierRow>> FindDossier(absl::string_view code) override {
    DynamicQuery q;
    q.sql = absl::StrCat("SELECT ", DossierDbRow::kColumns, " FROM dossiers WHERE code = ", q.Bind(std::string(code)));
    PSTRACK_ASSIGN_OR_RETURN(auto rows, QueryDossiers(q));
    if (rows.empty()) return std::optional<DossierRow>();
    return std::optional<DossierRow>(std::move(rows.front()));
  }

  absl::StatusOr<std::vector<DossierRow>> ListDossiers(const DossierQuery& query) override {
    DynamicQuery q;
    q.sql = absl::StrCat("SELECT ", DossierDbRow::kColumns, " FROM dossiers WHERE 1 = 1");
    if (!query.agency_path.empty()) {
      absl::StrAppend(&q.sql, " AND (agency_path = ", q.Bind(query.agency_path), " OR (agency_path >= ",
                      q.Bind(query.agency_path + "/"), " AND agency_path < ", q.Bind(SubtreeEnd(query.agency_path)),
                      "))");
    }
    if (!query.procedure_code.empty()) {
      absl::StrAppend(&q.sql, " AND procedure_code = ", q.Bind(query.procedure_code));
    }
    if (query.status != 0) absl::StrAppend(&q.sql, " AND status = ", q.Bind(query.status));
    if (query.channel != 0) absl::StrAppend(&q.sql, " AND channel = ", q.Bind(query.channel));
    if (query.received_from) absl::StrAppend(&q.sql, " AND received_day >= ", q.Bind(FormatDate(*query.received_from)));
    if (query.received_until) absl::StrAppend(&q.sql, " AND received_day < ", q.Bind(FormatDate(*query.received_until)));
    if (query.finished_from) absl::StrAppend(&q.sql, " AND finish_day >= ", q.Bind(FormatDate(*query.finished_from)));
    if (query.finished_until) absl::StrAppend(&q.sql, " AND finish_day < ", q.Bind(FormatDate(*query.finished_until)));
    if (query.overdue_at_us) {
      absl::StrAppend(&q.sql, " AND finish_us IS NULL AND overdue_from_us <= ",
                      q.BindInt64(*query.overdue_at_us));
    }
    if (!query.after_code.empty()) absl::StrAppend(&q.sql, " AND code > ", q.Bind(query.after_code));
    absl::StrAppend(&q.sql, " ORDER BY code LIMIT ", q.Bind(query.limit));
    return QueryDossiers(q);
  }

  absl::Status InsertEvents(const std::vector<StoredEvent>& events) override {
    constexpr size_t kColumns = 6;
    for (size_t begin = 0, end = 0; begin < events.size(); begin = end) {
      end = ChunkEnd(begin, events.size(), kMaxParamsPerStatement / kColumns);
      DynamicQuery q;
      q.sql = "INSERT INTO filing_events (event_id, dossier_code, occurred_us, kind, content, recorded_us) VALUES ";
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

  absl::Status PutDossiers(const std::vector<DossierRow>& rows) override {
    constexpr size_t kColumns = 16;
    for (size_t begin = 0, end = 0; begin < rows.size(); begin = end) {
      end = ChunkEnd(begin, rows.size(), kMaxParamsPerStatement / kColumns);
      DynamicQuery q;
      auto null = [&] { return cache_ != nullptr ? q.BindNull() : std::string("NULL"); };
      auto opt = [&](const std::optional<int64_t>& v) { return v ? q.BindInt64(*v) : null(); };
      auto text = [&](const std::string& v) { return v.empty() ? null() : q.Bind(v); };
      q.sql =
          "INSERT INTO dossiers (code, agency_code, agency_path, procedure_code, status, channel, received_us, "
          "received_day, due_us, finish_us, finish_day, wait_since_us, event_count, updated_us, overdue_from_us, "
          "portal_overdue_from_us) VALUES ";
      for (size_t i = begin; i < end; ++i) {
        const DossierRow& r = rows[i];
        absl::StrAppend(&q.sql, i > begin ? ", (" : "(", q.Bind(r.code), ", ", q.Bind(r.agency_code), ", ",
                        q.Bind(r.agency_path), ", ", text(r.procedure_code), ", ", q.Bind(r.status), ", ",
                        q.Bind(r.channel), ", ", opt(r.received_us), ", ", text(r.received_day), ", ", opt(r.due_us),
                        ", ", opt(r.finish_us), ", ", text(r.finish_day), ", ", opt(r.wait_since_us), ", ",
                        q.Bind(r.event_count), ", ", q.BindInt64(r.updated_us), ", ", opt(r.overdue_from_us), ", ",
                        opt(r.portal_overdue_from_us), ")");
      }
      absl::StrAppend(&q.sql,
                      " ON CONFLICT (code) DO UPDATE SET agency_code = excluded.agency_code, "
                      "agency_path = excluded.agency_path, procedure_code = excluded.procedure_code, "
                      "status = excluded.status, channel = excluded.channel, received_us = excluded.received_us, "
                      "received_day = excluded.received_day, due_us = excluded.due_us, finish_us = excluded.finish_us, "
                      "finish_day = excluded.finish_day, wait_since_us = excluded.wait_since_us, "
                      "event_count = excluded.event_count, updated_us = excluded.updated_us, "
                      "overdue_from_us = excluded.overdue_from_us, "
                      "portal_overdue_from_us = excluded.portal_overdue_from_us");
      PSTRACK_RETURN_IF_ERROR(Execute(q));
    }
    return absl::OkStatus();
  }

  absl::Status AddAggregates(const std::vector<AggregateRow>& deltas) override {
    // One statement may not touch a row twice (PostgreSQL): equal keys are
    // merged first. Rows from an AggregateDeltas map come sorted and unique.
    const std::vector<AggregateRow>* rows = &deltas;
    std::vector<AggregateRow> merged;
    auto less = [](const AggregateRow& a, const AggregateRow& b) { return a.key < b.key; };
    if (!std::is_sorted(deltas.begin(), deltas.end(), less) ||
        std::adjacent_find(deltas.begin(), deltas.end(), [](const AggregateRow& a, const AggregateRow& b) {
          return a.key == b.key;
        }) != deltas.end()) {
      merged = deltas;
      std::stable_sort(merged.begin(), merged.end(), less);
      size_t out = 0;
      for (size_t i = 0; i < merged.size(); ++i) {
        if (out > 0 && merged[out - 1].key == merged[i].key) {
          AddCounts(merged[out - 1].counts, merged[i].counts);
        } else {
          if (out != i) merged[out] = std::move(merged[i]);
          ++out;
        }
      }
      merged.resize(out);
      rows = &merged;
    }
    // Change counts (AggregateRow::changes): procedure rows are written
    // first, returning their presence counters; a row whose counter turned
    // on or off adds a change to the total row of its node, basis and day,
    // written with the other rows. Every writer takes its rows in this
    // order (procedure rows, then the others, each in key order), so two
    // PostgreSQL writers lock the rows they share in the same order.
    std::vector<const AggregateRow*> procedure_rows, other_rows;
    for (const AggregateRow& r : *rows) {
      (r.key.dim == AggregateDim::kProcedure ? procedure_rows : other_rows).push_back(&r);
    }
    std::map<AggregateKey, int64_t> flips;  // total row -> changes
    absl::flat_hash_map<const AggregateRow*, int64_t> changes_of;
    PSTRACK_RETURN_IF_ERROR(UpsertAggregates(procedure_rows, changes_of, &flips));
    // Totals of a flip that no counter of this write moves: added.
    std::vector<AggregateRow> unmoved_totals;
    for (const AggregateRow* r : other_rows) {
      auto it = r->key.dim == AggregateDim::kTotal ? flips.find(r->key) : flips.end();
      if (it == flips.end()) continue;
      changes_of[r] = it->second;
      flips.erase(it);
    }
    for (const auto& [key, changes] : flips) unmoved_totals.push_back(AggregateRow{key, Counts{}, changes});
    if (!unmoved_totals.empty()) {
      for (const AggregateRow& r : unmoved_totals) {
        other_rows.push_back(&r);
        changes_of[&r] = r.changes;
      }
      std::sort(other_rows.begin(), other_rows.end(),
                [](const AggregateRow* a, const AggregateRow* b) { return a->key < b->key; });
    }
    return UpsertAggregates(other_rows, changes_of, nullptr);
  }

  // Adds `rows` (in key order) to the aggregates, with the change counts
  // that `changes_of` gives (zero for the others). With `flips`: the
  // statements return each row's presence counters (kPresenceCounters),
  // and `flips` counts, per total row, the rows that turned one on or off.
  absl::Status UpsertAggregates(const std::vector<const AggregateRow*>& rows,
                                const absl::flat_hash_map<const AggregateRow*, int64_t>& changes_of,
                                std::map<AggregateKey, int64_t>* flips) {
    // Per basis, only the counters some row moves are written: a receipt row
    // never moves an outcome counter, so most of the 40 columns would be
    // bound, parsed and added as zeros.
    std::map<int, std::vector<const AggregateRow*>> by_basis;
    for (const AggregateRow* r : rows) by_basis[static_cast<int>(r->key.basis)].push_back(r);
    const auto& names = CounterNames();
    for (const auto& [basis, group] : by_basis) {
      std::vector<int> moved;
      for (int i = 0; i < kCounterCount; ++i) {
        for (const AggregateRow* r : group) {
          if (r->counts[i] != 0) {
            moved.push_back(i);
            break;
          }
        }
      }
      bool changes = false;
      for (const AggregateRow* r : group) changes |= changes_of.contains(r);
      if (moved.empty() && !changes) continue;
      // Rows that move no presence counter cannot turn one on or off (a
      // finish-basis procedure row): their statements return nothing.
      // Decided before SQLite writes every counter below.
      bool watch = false;
      for (Counter c : kPresenceCounters) {
        watch |= flips != nullptr && std::find(moved.begin(), moved.end(), static_cast<int>(c)) != moved.end();
      }
      if (pg_ != nullptr) {
        PSTRACK_RETURN_IF_ERROR(UpsertAggregatesAsArrays(basis, group, changes_of, watch ? flips : nullptr));
        continue;
      }
      // SQLite prepares each text once per connection: every counter is
      // bound, so that one text per chunk size serves every batch (a zero
      // costs a few instructions; parsing a new text was a tenth of a small
      // batch). PostgreSQL parses every statement anyway: only moved ones.
      if (cache_ != nullptr) {
        moved.resize(kCounterCount);
        for (int i = 0; i < kCounterCount; ++i) moved[i] = i;
        changes = true;
      }
      std::string columns = "node_code, basis, dim, dim_value, day";
      std::string updates;
      for (int i : moved) {
        absl::StrAppend(&columns, ", ", names[i]);
        absl::StrAppend(&updates, updates.empty() ? "" : ", ", names[i], " = aggregates.", names[i], " + excluded.",
                        names[i]);
      }
      if (changes) {
        absl::StrAppend(&columns, ", changes");
        absl::StrAppend(&updates, updates.empty() ? "" : ", ", "changes = aggregates.changes + excluded.changes");
      }
      std::string returning;
      if (watch) {
        returning = " RETURNING node_code, dim_value, day";
        for (Counter c : kPresenceCounters) absl::StrAppend(&returning, ", ", names[static_cast<int>(c)]);
      }
      const size_t per_statement = kMaxParamsPerStatement / (6 + moved.size());
      for (size_t begin = 0, end = 0; begin < group.size(); begin = end) {
        end = ChunkEnd(begin, group.size(), per_statement);
        DynamicQuery q;
        q.sql = absl::StrCat("INSERT INTO aggregates (", columns, ") VALUES ");
        for (size_t i = begin; i < end; ++i) {
          const AggregateRow& r = *group[i];
          absl::StrAppend(&q.sql, i > begin ? ", (" : "(", q.Bind(r.key.node_code), ", ", q.Bind(basis), ", ",
                          q.Bind(static_cast<int>(r.key.dim)), ", ", q.Bind(r.key.dim_value), ", ", q.Bind(r.key.day));
          for (int c : moved) absl::StrAppend(&q.sql, ", ", q.BindInt64(r.counts[c]));
          if (changes) {
            auto it = changes_of.find(&r);
            absl::StrAppend(&q.sql, ", ", q.BindInt64(it == changes_of.end() ? 0 : it->second));
          }
          absl::StrAppend(&q.sql, ")");
        }
        absl::StrAppend(&q.sql, " ON CONFLICT (node_code, basis, dim, dim_value, day) DO UPDATE SET ", updates,
                        returning);
        if (!watch) {
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
        std::array<long long, kPresenceCounters.size()> now{};
        PSTRACK_RETURN_IF_ERROR(Fetch(
            q,
            [&](Columns& st) {
              st.exchange(Into(node));
              st.exchange(Into(value));
              st.exchange(Into(day));
              for (long long& n : now) st.exchange(Into(n));
            },
            [&] {
              auto it = sent.find(Slot{node, value, day});
              if (it == sent.end()) return;
              bool flipped = false;
              for (size_t c = 0; c < kPresenceCounters.size(); ++c) {
                const int64_t delta = it->second->counts[static_cast<int>(kPresenceCounters[c])];
                flipped |= (now[c] - delta > 0) != (now[c] > 0);
              }
              if (flipped) {
                ++(*flips)[AggregateKey{node, static_cast<Basis>(basis), AggregateDim::kTotal, "", day}];
              }
            }));
      }
    }
    return absl::OkStatus();
  }

  // UpsertAggregates on PostgreSQL: one basis's rows as arrays, every
  // counter and the change count, in one prepared statement. With `flips`,
  // the statement returns the presence counters of the rows it wrote and a
  // turn counts as there.
  absl::Status UpsertAggregatesAsArrays(int basis, const std::vector<const AggregateRow*>& group,
                                        const absl::flat_hash_map<const AggregateRow*, int64_t>& changes_of,
                                        std::map<AggregateKey, int64_t>* flips) {
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
      const std::string text = absl::StrCat("INSERT INTO aggregates (", columns, ") SELECT * FROM unnest(", arrays,
                                            ") ON CONFLICT (node_code, basis, dim, dim_value, day) DO UPDATE SET ",
                                            updates);
      std::string returning = " RETURNING node_code, dim_value, day";
      for (Counter c : kPresenceCounters) absl::StrAppend(&returning, ", ", names[static_cast<int>(c)]);
      return std::array<std::string, 2>{text, text + returning};
    }();
    std::vector<std::string> arrays(kParams);
    for (const AggregateRow* r : group) {
      AppendArrayText(&arrays[0], r->key.node_code);
      AppendArrayNumber(&arrays[1], basis);
      AppendArrayNumber(&arrays[2], static_cast<int>(r->key.dim));
      AppendArrayText(&arrays[3], r->key.dim_value);
      AppendArrayText(&arrays[4], r->key.day);
      for (int i = 0; i < kCounterCount; ++i) AppendArrayNumber(&arrays[kKeyColumns + i], r->counts[i]);
      auto it = changes_of.find(r);
      AppendArrayNumber(&arrays[kParams - 1], it == changes_of.end() ? 0 : it->second);
    }
    std::vector<const char*> values;
    for (std::string& a : arrays) {
      a.push_back('}');
      values.push_back(a.c_str());
    }
    const std::string& text = kText[flips != nullptr ? 1 : 0];
    return Guard([&] {
      const std::string name = pg_->Name(text, kParams);
      PGresult* r = PQexecPrepared(pg_->conn(), name.c_str(), kParams, values.data(), nullptr, nullptr, 0);
      std::unique_ptr<PGresult, void (*)(PGresult*)> result(r, PQclear);
      const ExecStatusType status = PQresultStatus(r);
      if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) throw std::runtime_error(PQresultErrorMessage(r));
      if (flips == nullptr) return;
      // Matched by key: the rows come back in no promised order (one
      // statement holds one basis, and a group's procedure rows one
      // dimension).
      using Slot = std::tuple<absl::string_view, absl::string_view, absl::string_view>;
      absl::flat_hash_map<Slot, const AggregateRow*> sent;
      for (const AggregateRow* g : group) sent[Slot{g->key.node_code, g->key.dim_value, g->key.day}] = g;
      for (int row = 0; row < PQntuples(r); ++row) {
        auto it = sent.find(Slot{PQgetvalue(r, row, 0), PQgetvalue(r, row, 1), PQgetvalue(r, row, 2)});
        if (it == sent.end()) continue;
        bool flipped = false;
        for (size_t c = 0; c < kPresenceCounters.size(); ++c) {
          int64_t now = 0;
          if (!absl::SimpleAtoi(PQgetvalue(r, row, 3 + static_cast<int>(c)), &now)) {
            throw std::runtime_error("a returned counter is not a number");
          }
          const int64_t delta = it->second->counts[static_cast<int>(kPresenceCounters[c])];
          flipped |= (now - delta > 0) != (now > 0);
        }
        if (flipped) {
          ++(*flips)[AggregateKey{PQgetvalue(r, row, 0), static_cast<Basis>(basis), AggregateDim::kTotal, "",
                                  PQgetvalue(r, row, 2)}];
        }
      }
    });
  }

  absl::Status ClearAggregates() override {
    PSTRACK_RETURN_IF_ERROR(Guard([&] { sql_ << "DELETE FROM aggregates"; }));
    // The change counts start again from zero: what readers derived and
    // checked against them must not be taken for current (AggregateRow).
    return BumpReferenceVersion();
  }

  // "c1 <> 0 OR c2 <> 0 ..." over every counter, columns prefixed.
  static std::string NonZeroCondition(absl::string_view prefix) {
    std::string out;
    const auto& names = CounterNames();
    for (int i = 0; i < kCounterCount; ++i) absl::StrAppend(&out, i ? " OR " : "", prefix, names[i], " <> 0");
    return out;
  }

  absl::StatusOr<std::vector<AggregateRow>> SumAggregates(const AggregateQuery& query) override {
    std::vector<AggregateRow> out;
    if (query.nodes.empty()) return out;
    // Rows are copied out one by one; breakdowns return thousands.
    if (query.by_dim_value || query.by_node || query.by_month || query.by_day) out.reserve(4096);
    const auto& names = CounterNames();
    const std::vector<GrainRange> ranges =
        query.rolled_up ? TileRange(query.from_day, query.until_day, query.by_month, query.by_day)
                        : std::vector<GrainRange>{{0, query.from_day, query.until_day}};
    const size_t per_statement = kMaxParamsPerStatement / ranges.size();
    for (size_t begin = 0; begin < query.nodes.size(); begin += per_statement) {
      size_t end = std::min(query.nodes.size(), begin + per_statement);
      DynamicQuery q;
      const std::string node = query.by_node ? "node_code" : "''";
      const std::string value = query.by_dim_value ? "dim_value" : "''";
      const std::string day = query.by_day ? "day" : query.by_month ? "substr(day, 1, 7)" : "''";
      q.sql = absl::StrCat("SELECT ", node, ", ", value, ", ", day);
      std::array<bool, kCounterCount> summed{};
      for (int i = 0; i < kCounterCount; ++i) summed[i] = query.only.empty();
      for (Counter c : query.only) summed[static_cast<int>(c)] = true;
      std::string columns;
      for (int i = 0; i < kCounterCount; ++i) {
        // Only the counters asked for travel (each column costs per row).
        if (summed[i]) absl::StrAppend(&q.sql, ", SUM(", names[i], ")");
        if (summed[i]) absl::StrAppend(&columns, ", ", names[i]);
      }
      if (query.with_changes) {
        absl::StrAppend(&q.sql, ", SUM(changes)");
        absl::StrAppend(&columns, ", changes");
      }
      // One indexed range per grain (node, basis, dim lead the key).
      absl::StrAppend(&q.sql, " FROM (");
      for (size_t r = 0; r < ranges.size(); ++r) {
        absl::StrAppend(&q.sql, r ? " UNION ALL " : "", "SELECT node_code, dim_value, day", columns,
                        " FROM aggregates WHERE basis = ",
                        q.Bind(static_cast<int>(query.basis) + ranges[r].grain), " AND dim = ",
                        q.Bind(static_cast<int>(query.dim)), " AND day >= ", q.Bind(ranges[r].lo), " AND day < ",
                        q.Bind(ranges[r].hi), " AND node_code IN (");
        for (size_t i = begin; i < end; ++i) absl::StrAppend(&q.sql, i > begin ? ", " : "", q.Bind(query.nodes[i]));
        absl::StrAppend(&q.sql, ")");
      }
      absl::StrAppend(&q.sql, ") AS tiles GROUP BY 1, 2, 3");
      AggregateRow row;
      row.key.basis = query.basis;
      row.key.dim = query.dim;
      if (cache_ != nullptr) {
        auto text = [](sqlite3_stmt* st, int column) {
          const unsigned char* t = sqlite3_column_text(st, column);
          return t ? std::string(reinterpret_cast<const char*>(t), sqlite3_column_bytes(st, column)) : std::string();
        };
        PSTRACK_RETURN_IF_ERROR(FetchCached(q, [&](sqlite3_stmt* st) {
          row.key.node_code = text(st, 0);
          row.key.dim_value = text(st, 1);
          row.key.day = text(st, 2);
          int column = 3;
          for (int i = 0; i < kCounterCount; ++i) row.counts[i] = summed[i] ? sqlite3_column_int64(st, column++) : 0;
          row.changes = query.with_changes ? sqlite3_column_int64(st, column) : 0;
          out.push_back(row);
        }));
        continue;
      }
      std::array<long long, kCounterCount> sums{};
      std::array<soci::indicator, kCounterCount> inds{};
      long long changes = 0;
      soci::indicator changes_ind = soci::i_ok;
      PSTRACK_RETURN_IF_ERROR(Fetch(
          q,
          [&](Columns& st) {
            st.exchange(Into(row.key.node_code));
            st.exchange(Into(row.key.dim_value));
            st.exchange(Into(row.key.day));
            for (int i = 0; i < kCounterCount; ++i) {
              if (summed[i]) st.exchange(Into(sums[i], inds[i]));
            }
            if (query.with_changes) st.exchange(Into(changes, changes_ind));
          },
          [&] {
            for (int i = 0; i < kCounterCount; ++i) row.counts[i] = summed[i] && inds[i] == soci::i_ok ? sums[i] : 0;
            row.changes = query.with_changes && changes_ind == soci::i_ok ? changes : 0;
            out.push_back(row);
          }));
    }
    return out;
  }

  absl::StatusOr<std::vector<std::vector<std::string>>> PositiveValues(
      const AggregateQuery& query, const std::vector<Counter>& counters) override {
    std::vector<std::vector<std::string>> out(counters.size());
    PSTRACK_RETURN_IF_ERROR(ForEachPositiveValue(query, counters, /*by_node=*/false,
                                         [&](const std::string&, const std::string& value, const std::vector<int>& flags) {
                                           for (size_t c = 0; c < counters.size(); ++c) {
                                             if (flags[c]) out[c].push_back(value);
                                           }
                                         }));
    for (auto& values : out) SortUnique(values);
    return out;
  }

  static void SortUnique(std::vector<std::string>& values) {
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
  }

  absl::Status ForEachPositiveValue(
      const AggregateQuery& query, const std::vector<Counter>& counters, bool by_node,
      absl::FunctionRef<void(const std::string&, const std::string&, const std::vector<int>&)> on_row) override {
    if (query.nodes.empty() || counters.empty()) return absl::OkStatus();
    const std::vector<GrainRange> ranges =
        query.rolled_up ? TileRange(query.from_day, query.until_day, /*by_month=*/false, /*by_day=*/false)
                        : std::vector<GrainRange>{{0, query.from_day, query.until_day}};
    const size_t per_statement = kMaxParamsPerStatement / ranges.size();
    // ", CASE WHEN c1 > 0 THEN 1 ELSE 0 END, ..." (integers on both
    // backends: PostgreSQL's "c1 > 0" is a boolean) and "(c1 > 0 OR ...)".
    std::string flags, any;
    for (size_t c = 0; c < counters.size(); ++c) {
      const char* column = CounterNames()[static_cast<int>(counters[c])];
      absl::StrAppend(&flags, ", CASE WHEN ", column, " > 0 THEN 1 ELSE 0 END");
      absl::StrAppend(&any, c ? " OR " : "", column, " > 0");
    }
    std::string node, value;
    std::vector<int> positive(counters.size());
    for (size_t begin = 0; begin < query.nodes.size(); begin += per_statement) {
      const size_t end = std::min(query.nodes.size(), begin + per_statement);
      DynamicQuery q;
      // Without nodes, UNION and DISTINCT drop the repeats in SQL (cheaper
      // than in C++ for one node's few thousand rows); per node, a
      // ranking's tens of thousands of rows made that temporary B-tree the
      // larger cost, so the callers drop the repeats.
      for (size_t r = 0; r < ranges.size(); ++r) {
        absl::StrAppend(&q.sql, r ? (by_node ? " UNION ALL " : " UNION ") : "",
                        by_node ? "SELECT node_code" : "SELECT DISTINCT ''",
                        ", dim_value", flags, " FROM aggregates WHERE basis = ",
                        q.Bind(static_cast<int>(query.basis) + ranges[r].grain), " AND dim = ",
                        q.Bind(static_cast<int>(query.dim)), " AND day >= ", q.Bind(ranges[r].lo), " AND day < ",
                        q.Bind(ranges[r].hi), " AND (", any, ") AND node_code IN (");
        for (size_t i = begin; i < end; ++i) absl::StrAppend(&q.sql, i > begin ? ", " : "", q.Bind(query.nodes[i]));
        absl::StrAppend(&q.sql, ")");
      }
      if (cache_ != nullptr) {
        auto text = [](sqlite3_stmt* st, int column, std::string& into) {
          const unsigned char* t = sqlite3_column_text(st, column);
          into.assign(t ? reinterpret_cast<const char*>(t) : "", t ? sqlite3_column_bytes(st, column) : 0);
        };
        PSTRACK_RETURN_IF_ERROR(FetchCached(q, [&](sqlite3_stmt* st) {
          text(st, 0, node);
          text(st, 1, value);
          for (size_t c = 0; c < counters.size(); ++c) positive[c] = sqlite3_column_int(st, static_cast<int>(c) + 2);
          on_row(node, value, positive);
        }));
        continue;
      }
      PSTRACK_RETURN_IF_ERROR(Fetch(
          q,
          [&](Columns& st) {
            st.exchange(Into(node));
            st.exchange(Into(value));
            for (size_t c = 0; c < counters.size(); ++c) st.exchange(Into(positive[c]));
          },
          [&] { on_row(node, value, positive); }));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<OpenCounts> CountOpen(const std::vector<std::string>& paths, int64_t at_us) override {
    OpenCounts out;
    for (const std::string& path : paths) {
      DynamicQuery q;
      // Overdue at t: open at t and t >= overdue_from (OverdueFrom in
      // services/lifecycle/lifecycle.h); every placeholder appears once.
      q.sql = absl::StrCat("SELECT COUNT(*), SUM(CASE WHEN overdue_from_us <= ", q.BindInt64(at_us),
                           " THEN 1 ELSE 0 END), SUM(CASE WHEN portal_overdue_from_us <= ", q.BindInt64(at_us),
                           " THEN 1 ELSE 0 END) FROM dossiers WHERE (agency_path = ",
                           q.Bind(path), " OR (agency_path >= ", q.Bind(path + "/"), " AND agency_path < ",
                           q.Bind(SubtreeEnd(path)), ")) AND received_us <= ", q.BindInt64(at_us),
                           " AND (finish_us IS NULL OR finish_us > ", q.BindInt64(at_us), ") AND due_us IS NOT NULL");
      long long open = 0, overdue = 0, portal = 0;
      soci::indicator i1 = soci::i_ok, i2 = soci::i_ok, i3 = soci::i_ok;
      PSTRACK_RETURN_IF_ERROR(Fetch(
          q,
          [&](Columns& st) {
            st.exchange(Into(open, i1));
            st.exchange(Into(overdue, i2));
            st.exchange(Into(portal, i3));
          },
          [&] {
            out.open += i1 == soci::i_ok ? open : 0;
            out.overdue += i2 == soci::i_ok ? overdue : 0;
            out.portal_overdue += i3 == soci::i_ok ? portal : 0;
          }));
    }
    return out;
  }

  absl::StatusOr<std::optional<ExternalInputRow>> FindExternalInput(absl::string_view input_id) override {
    DynamicQuery q;
    q.sql = absl::StrCat(kExternalColumns, " WHERE input_id = ", q.Bind(std::string(input_id)));
    PSTRACK_ASSIGN_OR_RETURN(auto rows, QueryExternalInputs(q));
    if (rows.empty()) return std::optional<ExternalInputRow>();
    return std::optional<ExternalInputRow>(std::move(rows.front()));
  }

  absl::StatusOr<std::vector<ExternalInputRow>> ListExternalInputs(absl::string_view agency_code,
                                                                   absl::string_view indicator_id) override {
    DynamicQuery q;
    q.sql = absl::StrCat(kExternalColumns, " WHERE 1 = 1");
    if (!agency_code.empty()) absl::StrAppend(&q.sql, " AND agency_code = ", q.Bind(std::string(agency_code)));
    if (!indicator_id.empty()) absl::StrAppend(&q.sql, " AND indicator_id = ", q.Bind(std::string(indicator_id)));
    absl::StrAppend(&q.sql, " ORDER BY start_day, input_id");
    return QueryExternalInputs(q);
  }

  absl::Status PutExternalInput(const ExternalInputRow& r) override {
    DynamicQuery q;
    q.sql = absl::StrCat(
        "INSERT INTO external_inputs (input_id, agency_code, indicator_id, start_day, end_day, numerator, "
        "denominator, value, source, recorded_us) VALUES (",
        q.Bind(r.input_id), ", ", q.Bind(r.agency_code), ", ", q.Bind(r.indicator_id), ", ", q.Bind(FormatDate(r.start)),
        ", ", q.Bind(FormatDate(r.end)), ", ", q.BindDouble(r.numerator), ", ", q.BindDouble(r.denominator), ", ",
        q.BindDouble(r.value), ", ", q.Bind(r.source), ", ", q.BindInt64(r.recorded_us),
        ") ON CONFLICT (input_id) DO UPDATE SET agency_code = excluded.agency_code, indicator_id = "
        "excluded.indicator_id, start_day = excluded.start_day, end_day = excluded.end_day, numerator = "
        "excluded.numerator, denominator = excluded.denominator, value = excluded.value, source = excluded.source, "
        "recorded_us = excluded.recorded_us");
    return Execute(q);
  }

  absl::StatusOr<std::optional<ApiKeyRecord>> FindApiKey(absl::string_view key_id) override {
    DynamicQuery q;
    q.sql = absl::StrCat(kApiKeyColumns, " WHERE key_id = ", q.Bind(std::string(key_id)));
    PSTRACK_ASSIGN_OR_RETURN(auto rows, QueryApiKeys(q));
    if (rows.empty()) return std::optional<ApiKeyRecord>();
    return std::optional<ApiKeyRecord>(std::move(rows.front()));
  }

  absl::StatusOr<std::vector<ApiKeyRecord>> FindApiKeysByCertificate(absl::string_view subject) override {
    DynamicQuery q;
    q.sql = absl::StrCat(kApiKeyColumns, " WHERE certificate_subject = ", q.Bind(std::string(subject)),
                         " ORDER BY key_id");
    return QueryApiKeys(q);
  }

  absl::StatusOr<std::vector<ApiKeyRecord>> ListApiKeys(const ApiKeyQuery& query) override {
    DynamicQuery q;
    q.sql = absl::StrCat(kApiKeyColumns, " WHERE key_id > ", q.Bind(query.after_id));
    if (!query.include_revoked) absl::StrAppend(&q.sql, " AND revoke_time_us IS NULL");
    if (query.role != Role::kUnspecified) {
      absl::StrAppend(&q.sql, " AND role = ", q.Bind(static_cast<int>(query.role)));
    }
    absl::StrAppend(&q.sql, " ORDER BY key_id LIMIT ", q.Bind(query.limit));
    return QueryApiKeys(q);
  }

  absl::Status InsertApiKey(const ApiKeyRecord& k) override {
    PSTRACK_ASSIGN_OR_RETURN(auto existing, FindApiKey(k.key_id));
    if (existing) return absl::AlreadyExistsError(absl::StrCat("key_id: key '", k.key_id, "' already exists"));
    DynamicQuery q;
    auto nullable = [&](const std::string& v) { return v.empty() ? std::string("NULL") : q.Bind(v); };
    q.sql = absl::StrCat(
        "INSERT INTO api_keys (key_id, name, role, scope_agency_code, certificate_subject, certificate_only, salt, "
        "secret_hash, rate_limit, create_time_us, created_by) VALUES (",
        q.Bind(k.key_id), ", ", q.Bind(k.name), ", ", q.Bind(static_cast<int>(k.role)), ", ");
    absl::StrAppend(&q.sql, nullable(k.scope_agency_code), ", ");
    absl::StrAppend(&q.sql, nullable(k.certificate_subject), ", ", q.Bind(k.certificate_only ? 1 : 0), ", ");
    absl::StrAppend(&q.sql, q.Bind(k.salt), ", ", q.Bind(k.secret_hash), ", ", q.BindDouble(k.rate_limit_per_second),
                    ", ");
    absl::StrAppend(&q.sql, q.BindInt64(k.create_us), ", ", q.Bind(k.created_by), ")");
    return Execute(q);
  }

  absl::Status RevokeApiKey(absl::string_view key_id, int64_t revoke_us, absl::string_view revoked_by) override {
    DynamicQuery q;
    q.sql = absl::StrCat("UPDATE api_keys SET revoke_time_us = ", q.BindInt64(revoke_us), ", revoked_by = ");
    absl::StrAppend(&q.sql, q.Bind(std::string(revoked_by)), " WHERE key_id = ");
    absl::StrAppend(&q.sql, q.Bind(std::string(key_id)), " AND revoke_time_us IS NULL");
    return Execute(q);
  }

  absl::StatusOr<std::vector<AuditRow>> ListAudit(const AuditQuery& query) override {
    DynamicQuery q;
    q.sql = "SELECT id, at_us, principal, role, method, target, code, message, applied, unchanged, rejected, peer, "
            "duration_us FROM audit_log WHERE 1 = 1";
    if (!query.principal.empty()) absl::StrAppend(&q.sql, " AND principal = ", q.Bind(query.principal));
    if (!query.method_suffix.empty()) {
      // A suffix match without LIKE (whose escaping and case rules differ
      // between the backends).
      absl::StrAppend(&q.sql, " AND SUBSTR(method, LENGTH(method) - ",
                      q.Bind(static_cast<int>(query.method_suffix.size())), " + 1) = ");
      absl::StrAppend(&q.sql, q.Bind(query.method_suffix));
    }
    if (query.failures_only) absl::StrAppend(&q.sql, " AND code <> 0");
    if (query.since_us) absl::StrAppend(&q.sql, " AND at_us >= ", q.BindInt64(*query.since_us));
    if (query.before_us) absl::StrAppend(&q.sql, " AND at_us < ", q.BindInt64(*query.before_us));
    if (query.before_id) absl::StrAppend(&q.sql, " AND id < ", q.BindInt64(*query.before_id));
    absl::StrAppend(&q.sql, " ORDER BY id DESC LIMIT ", q.Bind(query.limit));
    std::vector<AuditRow> out;
    AuditRow r;
    long long id = 0, at = 0, duration = 0;
    PSTRACK_RETURN_IF_ERROR(Fetch(
        q,
        [&](Columns& st) {
          st.exchange(Into(id));
          st.exchange(Into(at));
          st.exchange(Into(r.principal));
          st.exchange(Into(r.role));
          st.exchange(Into(r.method));
          st.exchange(Into(r.target));
          st.exchange(Into(r.code));
          st.exchange(Into(r.message));
          st.exchange(Into(r.applied));
          st.exchange(Into(r.unchanged));
          st.exchange(Into(r.rejected));
          st.exchange(Into(r.peer));
          st.exchange(Into(duration));
        },
        [&] {
          r.id = id;
          r.at_us = at;
          r.duration_us = duration;
          out.push_back(r);
        }));
    return out;
  }

  absl::Status InsertAudit(const std::vector<AuditRow>& rows) override {
    for (size_t begin = 0, end = 0; begin < rows.size(); begin = end) {
      end = ChunkEnd(begin, rows.size(), 64);
      DynamicQuery q;
      q.sql = "INSERT INTO audit_log (at_us, principal, role, method, target, code, message, applied, unchanged, "
              "rejected, peer, duration_us) VALUES ";
      for (size_t i = begin; i < end; ++i) {
        const AuditRow& r = rows[i];
        absl::StrAppend(&q.sql, i > begin ? ", (" : "(", q.BindInt64(r.at_us), ", ", q.Bind(r.principal), ", ");
        absl::StrAppend(&q.sql, q.Bind(r.role), ", ", q.Bind(r.method), ", ", q.Bind(r.target), ", ");
        absl::StrAppend(&q.sql, q.Bind(r.code), ", ", q.Bind(r.message), ", ", q.Bind(r.applied), ", ");
        absl::StrAppend(&q.sql, q.Bind(r.unchanged), ", ", q.Bind(r.rejected), ", ", q.Bind(r.peer), ", ");
        absl::StrAppend(&q.sql, q.BindInt64(r.duration_us), ")");
      }
      PSTRACK_RETURN_IF_ERROR(Execute(q));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> ReferenceVersion() override {
    long long version = 0;
    PSTRACK_RETURN_IF_ERROR(
        Guard([&] { sql_ << "SELECT version FROM reference_version WHERE id = 1", soci::into(version); }));
    return absl::StrCat(version);
  }

  // --- Periodic reports and the feed log (migration 6) ---

  // " AND (<column> in one of the subtrees)"; nothing for no paths.
  static void AppendPathFilter(DynamicQuery& q, absl::string_view column, const std::vector<std::string>& paths) {
    if (paths.empty()) return;
    absl::StrAppend(&q.sql, " AND (");
    for (size_t i = 0; i < paths.size(); ++i) {
      absl::StrAppend(&q.sql, i ? " OR " : "", column, " = ", q.Bind(paths[i]), " OR (", column, " >= ",
                      q.Bind(paths[i] + "/"), " AND ", column, " < ", q.Bind(SubtreeEnd(paths[i])), ")");
    }
    absl::StrAppend(&q.sql, ")");
  }
  // " AND agency_code IN (agencies of the subtrees)".
  static void AppendAgencyFilter(DynamicQuery& q, const std::vector<std::string>& paths) {
    if (paths.empty()) return;
    absl::StrAppend(&q.sql, " AND agency_code IN (SELECT code FROM agencies WHERE 1 = 1");
    AppendPathFilter(q, "path", paths);
    absl::StrAppend(&q.sql, ")");
  }

  static constexpr const char* kReportColumns =
      "SELECT report_id, revision, current, agency_code, subject_kind, subject, period_label, figures, source, "
      "recorded_us, recorded_by FROM reports";

  absl::StatusOr<std::vector<PeriodicReport>> QueryReports(DynamicQuery& q) {
    std::vector<PeriodicReport> out;
    PeriodicReport r;
    std::string subject, figures;
    int current = 0, kind = 0;
    long long recorded = 0;
    absl::Status decode = absl::OkStatus();
    PSTRACK_RETURN_IF_ERROR(Fetch(
        q,
        [&](Columns& st) {
          st.exchange(Into(r.report_id));
          st.exchange(Into(r.revision));
          st.exchange(Into(current));
          st.exchange(Into(r.agency_code));
          st.exchange(Into(kind));
          st.exchange(Into(subject));
          st.exchange(Into(r.period_label));
          st.exchange(Into(figures));
          st.exchange(Into(r.source));
          st.exchange(Into(recorded));
          st.exchange(Into(r.recorded_by));
        },
        [&] {
          PeriodicReport row = r;
          row.current = current != 0;
          row.recorded_us = recorded;
          row.procedure_code = kind == static_cast<int>(ReportSubject::kProcedure) ? subject : "";
          row.field = kind == static_cast<int>(ReportSubject::kField) ? subject : "";
          absl::Status s = DecodeFigures(figures, &row);
          if (s.ok()) s = ParseReportPeriod(row.period_label, "period_label", &row.start, &row.end, &row.granularity);
          if (!s.ok() && decode.ok()) decode = s;
          out.push_back(std::move(row));
        }));
    PSTRACK_RETURN_IF_ERROR(decode);
    return out;
  }

  static std::string SubjectValue(const PeriodicReport& r) {
    return !r.procedure_code.empty() ? r.procedure_code : r.field;
  }

  absl::StatusOr<std::vector<PeriodicReport>> FindReport(absl::string_view report_id) override {
    DynamicQuery q;
    q.sql = absl::StrCat(kReportColumns, " WHERE report_id = ", q.Bind(std::string(report_id)),
                         " ORDER BY revision DESC");
    return QueryReports(q);
  }

  absl::StatusOr<std::optional<PeriodicReport>> FindReportAt(const PeriodicReport& slot) override {
    DynamicQuery q;
    q.sql = absl::StrCat(kReportColumns, " WHERE current = 1 AND agency_code = ", q.Bind(slot.agency_code),
                         " AND subject_kind = ", q.Bind(static_cast<int>(slot.subject_kind())));
    absl::StrAppend(&q.sql, " AND subject = ", q.Bind(SubjectValue(slot)),
                    " AND granularity = ", q.Bind(static_cast<int>(slot.granularity)));
    absl::StrAppend(&q.sql, " AND start_day = ", q.Bind(FormatDate(slot.start)));
    PSTRACK_ASSIGN_OR_RETURN(auto rows, QueryReports(q));
    if (rows.empty()) return std::optional<PeriodicReport>();
    return std::optional<PeriodicReport>(std::move(rows.front()));
  }

  absl::StatusOr<std::vector<PeriodicReport>> ListReports(const ReportQuery& query) override {
    DynamicQuery q;
    q.sql = absl::StrCat(kReportColumns, " WHERE current = 1 AND report_id > ", q.Bind(query.after_id));
    if (query.from && query.until) {
      if (query.contained_only) {
        absl::StrAppend(&q.sql, " AND start_day >= ", q.Bind(FormatDate(*query.from)), " AND end_day <= ",
                        q.Bind(FormatDate(*query.until)));
      } else {
        absl::StrAppend(&q.sql, " AND start_day < ", q.Bind(FormatDate(*query.until)), " AND end_day > ",
                        q.Bind(FormatDate(*query.from)));
      }
    }
    if (!query.paths.empty()) {
      // Per report (few), not a list of every agency of the subtree.
      absl::StrAppend(&q.sql, " AND EXISTS (SELECT 1 FROM agencies a WHERE a.code = reports.agency_code");
      AppendPathFilter(q, "a.path", query.paths);
      absl::StrAppend(&q.sql, ")");
    }
    absl::StrAppend(&q.sql, " ORDER BY report_id LIMIT ", q.Bind(query.limit));
    return QueryReports(q);
  }

  absl::StatusOr<std::vector<PeriodicReport>> AllReportRevisions() override {
    DynamicQuery q;
    q.sql = absl::StrCat(kReportColumns, " ORDER BY report_id, revision");
    return QueryReports(q);
  }

  absl::Status InsertReportRevision(const PeriodicReport& r) override {
    if (r.current) {
      DynamicQuery clear;
      clear.sql = absl::StrCat("UPDATE reports SET current = 0 WHERE current = 1 AND report_id = ",
                               clear.Bind(r.report_id));
      PSTRACK_RETURN_IF_ERROR(Execute(clear));
    }
    DynamicQuery q;
    q.sql = absl::StrCat(
        "INSERT INTO reports (report_id, revision, current, agency_code, subject_kind, subject, granularity, "
        "period_label, start_day, end_day, figures, source, recorded_us, recorded_by) VALUES (",
        q.Bind(r.report_id), ", ", q.Bind(r.revision), ", ", q.Bind(r.current ? 1 : 0), ", ");
    absl::StrAppend(&q.sql, q.Bind(r.agency_code), ", ", q.Bind(static_cast<int>(r.subject_kind())), ", ",
                    q.Bind(SubjectValue(r)), ", ", q.Bind(static_cast<int>(r.granularity)), ", ");
    absl::StrAppend(&q.sql, q.Bind(r.period_label), ", ", q.Bind(FormatDate(r.start)), ", ",
                    q.Bind(FormatDate(r.end)), ", ", q.Bind(EncodeFigures(r)), ", ");
    absl::StrAppend(&q.sql, q.Bind(r.source), ", ", q.BindInt64(r.recorded_us), ", ", q.Bind(r.recorded_by), ")");
    return Execute(q);
  }

  absl::Status AddFeedLog(const std::vector<FeedLogRow>& rows) override {
    constexpr size_t kPerStatement = 512;
    for (size_t begin = 0, end = 0; begin < rows.size(); begin = end) {
      end = ChunkEnd(begin, rows.size(), kPerStatement);
      DynamicQuery q;
      q.sql = "INSERT INTO feed_log (agency_code, day, metric, count, last_us) VALUES ";
      for (size_t i = begin; i < end; ++i) {
        const FeedLogRow& r = rows[i];
        absl::StrAppend(&q.sql, i > begin ? ", (" : "(", q.Bind(r.agency_code), ", ", q.Bind(r.day), ", ",
                        q.Bind(r.metric), ", ", q.BindInt64(r.count), ", ", q.BindInt64(r.last_us), ")");
      }
      absl::StrAppend(&q.sql,
                      " ON CONFLICT (agency_code, day, metric) DO UPDATE SET count = feed_log.count + excluded.count, "
                      "last_us = CASE WHEN excluded.last_us > feed_log.last_us THEN excluded.last_us "
                      "ELSE feed_log.last_us END");
      PSTRACK_RETURN_IF_ERROR(Execute(q));
    }
    // First and last arrival per agency, from the accepted events.
    std::map<std::string, std::pair<int64_t, int64_t>> last;
    for (const FeedLogRow& r : rows) {
      if (r.metric != "accepted" || r.count <= 0) continue;
      auto [it, inserted] = last.emplace(r.agency_code, std::make_pair(r.last_us, r.last_us));
      if (!inserted) {
        it->second.first = std::min(it->second.first, r.last_us);
        it->second.second = std::max(it->second.second, r.last_us);
      }
    }
    if (last.empty()) return absl::OkStatus();
    DynamicQuery q;
    q.sql = "INSERT INTO feed_last (agency_code, first_us, last_us) VALUES ";
    bool first = true;
    for (const auto& [code, span] : last) {
      absl::StrAppend(&q.sql, first ? "(" : ", (", q.Bind(code), ", ", q.BindInt64(span.first), ", ",
                      q.BindInt64(span.second), ")");
      first = false;
    }
    absl::StrAppend(&q.sql,
                    " ON CONFLICT (agency_code) DO UPDATE SET "
                    "first_us = CASE WHEN excluded.first_us < feed_last.first_us THEN excluded.first_us "
                    "ELSE feed_last.first_us END, "
                    "last_us = CASE WHEN excluded.last_us > feed_last.last_us THEN excluded.last_us "
                    "ELSE feed_last.last_us END");
    return Execute(q);
  }

  absl::StatusOr<std::vector<FeedLogRow>> QueryFeedLog(DynamicQuery& q, bool with_day) {
    std::vector<FeedLogRow> out;
    FeedLogRow r;
    long long count = 0, last = 0;
    PSTRACK_RETURN_IF_ERROR(Fetch(
        q,
        [&](Columns& st) {
          st.exchange(Into(r.agency_code));
          if (with_day) st.exchange(Into(r.day));
          st.exchange(Into(r.metric));
          st.exchange(Into(count));
          st.exchange(Into(last));
        },
        [&] {
          r.count = count;
          r.last_us = last;
          out.push_back(r);
        }));
    return out;
  }

  absl::StatusOr<std::vector<FeedLogRow>> SumFeedLog(const FeedLogQuery& query) override {
    DynamicQuery q;
    q.sql = absl::StrCat("SELECT agency_code, metric, SUM(count), MAX(last_us) FROM feed_log WHERE day >= ",
                         q.Bind(query.from_day), " AND day < ", q.Bind(query.until_day));
    AppendAgencyFilter(q, query.paths);
    absl::StrAppend(&q.sql, " GROUP BY agency_code, metric ORDER BY agency_code, metric");
    return QueryFeedLog(q, false);
  }

  absl::StatusOr<std::vector<FeedLogRow>> AllFeedLog() override {
    DynamicQuery q;
    q.sql = "SELECT agency_code, day, metric, count, last_us FROM feed_log ORDER BY agency_code, day, metric";
    return QueryFeedLog(q, true);
  }

  absl::StatusOr<std::vector<FeedLast>> ListFeedLast(const std::vector<std::string>& paths) override {
    DynamicQuery q;
    q.sql = "SELECT agency_code, first_us, last_us FROM feed_last WHERE 1 = 1";
    AppendAgencyFilter(q, paths);
    absl::StrAppend(&q.sql, " ORDER BY agency_code");
    std::vector<FeedLast> out;
    FeedLast r;
    long long first = 0, last = 0;
    PSTRACK_RETURN_IF_ERROR(Fetch(
        q,
        [&](Columns& st) {
          st.exchange(Into(r.agency_code));
          st.exchange(Into(first));
          st.exchange(Into(last));
        },
        [&] {
          r.first_us = first;
          r.last_us = last;
          out.push_back(r);
        }));
    return out;
  }

  absl::StatusOr<std::vector<OverdueByAgency>> CountOverdueSince(const std::vector<std::string>& paths,
                                                                 int64_t since_us) override {
    DynamicQuery q;
    q.sql = absl::StrCat(
        "SELECT agency_code, COUNT(*), MIN(overdue_from_us) FROM dossiers WHERE finish_us IS NULL AND "
        "overdue_from_us <= ",
        q.BindInt64(since_us));
    AppendPathFilter(q, "agency_path", paths);
    absl::StrAppend(&q.sql, " GROUP BY agency_code ORDER BY agency_code");
    std::vector<OverdueByAgency> out;
    OverdueByAgency r;
    long long count = 0, oldest = 0;
    PSTRACK_RETURN_IF_ERROR(Fetch(
        q,
        [&](Columns& st) {
          st.exchange(Into(r.agency_code));
          st.exchange(Into(count));
          st.exchange(Into(oldest));
        },
        [&] {
          r.count = count;
          r.oldest_overdue_us = oldest;
          out.push_back(r);
        }));
    return out;
  }

  absl::StatusOr<std::vector<std::string>> PendingMaintenance() override {
    DynamicQuery q;
    q.sql = "SELECT task FROM maintenance ORDER BY task";
    std::vector<std::string> out;
    std::string task;
    PSTRACK_RETURN_IF_ERROR(Fetch(q, [&](Columns& st) { st.exchange(Into(task)); },
                                  [&] { out.push_back(task); }));
    return out;
  }

  absl::Status CompleteMaintenance(absl::string_view task) override {
    DynamicQuery q;
    q.sql = absl::StrCat("DELETE FROM maintenance WHERE task = ", q.Bind(std::string(task)));
    return Execute(q);
  }

  absl::StatusOr<std::vector<AggregateRow>> AllAggregates() override {
    const auto& names = CounterNames();
    DynamicQuery q;
    q.sql = "SELECT node_code, basis, dim, dim_value, day";
    std::string nonzero;
    for (int i = 0; i < kCounterCount; ++i) {
      absl::StrAppend(&q.sql, ", ", names[i]);
      absl::StrAppend(&nonzero, i ? " OR " : "", names[i], " <> 0");
    }
    // Day-grain rows only: the roll-ups are this store's business.
    absl::StrAppend(&q.sql, " FROM aggregates WHERE basis < ", kMonthGrain, " AND (", nonzero,
                    ") ORDER BY node_code, basis, dim, dim_value, day");
    std::vector<AggregateRow> out;
    PSTRACK_RETURN_IF_ERROR(FetchAggregateRows(q, &out));
    return out;
  }

  // Appends the rows of `q`, which selects node_code, basis, dim,
  // dim_value, day and every counter in CounterNames() order.
  absl::Status FetchAggregateRows(DynamicQuery& q, std::vector<AggregateRow>* out) {
    AggregateRow row;
    int basis = 0, dim = 0;
    std::array<long long, kCounterCount> counts{};
    return Fetch(
        q,
        [&](Columns& st) {
          st.exchange(Into(row.key.node_code));
          st.exchange(Into(basis));
          st.exchange(Into(dim));
          st.exchange(Into(row.key.dim_value));
          st.exchange(Into(row.key.day));
          for (int i = 0; i < kCounterCount; ++i) st.exchange(Into(counts[i]));
        },
        [&] {
          row.key.basis = static_cast<Basis>(basis);
          row.key.dim = static_cast<AggregateDim>(dim);
          for (int i = 0; i < kCounterCount; ++i) row.counts[i] = counts[i];
          out->push_back(row);
        });
  }

  StoredAggregateOrder aggregate_order() const override {
    return anonymous_ ? StoredAggregateOrder::kDayThenValue : StoredAggregateOrder::kValueThenDay;
  }

  absl::StatusOr<std::vector<AggregateRow>> AggregatePage(const std::optional<AggregateKey>& after,
                                                          int limit) override {
    const auto& names = CounterNames();
    // The primary key's columns (migrations 3 and 8), so that the range and
    // the order are the index's.
    const char* key = anonymous_ ? "node_code, basis, dim, day, dim_value" : "node_code, basis, dim, dim_value, day";
    DynamicQuery q;
    q.sql = "SELECT node_code, basis, dim, dim_value, day";
    for (int i = 0; i < kCounterCount; ++i) absl::StrAppend(&q.sql, ", ", names[i]);
    absl::StrAppend(&q.sql, " FROM aggregates");
    if (after) {
      const std::string node = q.Bind(after->node_code);
      const std::string basis = q.Bind(static_cast<int>(after->basis));
      const std::string dim = q.Bind(static_cast<int>(after->dim));
      const std::string day = q.Bind(after->day);
      const std::string value = q.Bind(after->dim_value);
      absl::StrAppend(&q.sql, " WHERE (", key, ") > (", node, ", ", basis, ", ", dim, ", ",
                      anonymous_ ? day : value, ", ", anonymous_ ? value : day, ")");
    }
    absl::StrAppend(&q.sql, " ORDER BY ", key, " LIMIT ", std::max(1, limit));
    std::vector<AggregateRow> out;
    out.reserve(std::max(1, limit));
    PSTRACK_RETURN_IF_ERROR(FetchAggregateRows(q, &out));
    return out;
  }

  absl::Status LockKeys(const std::vector<std::string>& keys) override {
    if (anonymous_ || keys.empty()) return absl::OkStatus();  // SQLite: one writer
    for (size_t begin = 0; begin < keys.size(); begin += kMaxParamsPerStatement) {
      size_t end = std::min(keys.size(), begin + kMaxParamsPerStatement);
      DynamicQuery q;
      q.sql = "SELECT COUNT(pg_advisory_xact_lock(h)) FROM (SELECT DISTINCT hashtextextended(k, 0) AS h FROM (VALUES ";
      for (size_t i = begin; i < end; ++i) absl::StrAppend(&q.sql, i > begin ? ", (" : "(", q.Bind(keys[i]), ")");
      absl::StrAppend(&q.sql, ") AS v(k) ORDER BY h) AS ordered");
      long long n = 0;
      PSTRACK_RETURN_IF_ERROR(Fetch(q, [&](Columns& st) { st.exchange(Into(n)); }, [] {}));
    }
    return absl::OkStatus();
  }

  absl::Status Atomically(absl::FunctionRef<absl::Status()> fn) override {
    std::string name = absl::StrCat("sp", ++savepoints_);
    PSTRACK_RETURN_IF_ERROR(Guard([&] { sql_ << "SAVEPOINT " + name; }));
    const bool bumped_before = reference_bumped_;
    absl::Status status = fn();
    if (status.ok()) {
      PSTRACK_RETURN_IF_ERROR(Guard([&] { sql_ << "RELEASE SAVEPOINT " + name; }));
    } else {
      absl::Status undo = Guard([&] {
        sql_ << "ROLLBACK TO SAVEPOINT " + name;
        sql_ << "RELEASE SAVEPOINT " + name;
      });
      if (!undo.ok()) return undo;
      reference_bumped_ = bumped_before;  // the bump was undone with the rest
    }
    return status;
  }

 private:
  struct BoundAgency {
    explicit BoundAgency(const Agency& a)
        : code(a.code), name(a.name), folded(FoldForSearch(a.name)), parent(a.parent_code),
          admin(a.admin_code), vfrom(FormatOptionalDate(a.valid_from)),
          vuntil(FormatOptionalDate(a.valid_until)), succ(a.successor_code), path(a.path),
          level(static_cast<int>(a.level)), depth(a.depth), rev(a.revision), ct(ToMicros(a.create_time)),
          ut(ToMicros(a.update_time)) {
      parent_ind = parent.empty() ? soci::i_null : soci::i_ok;
      succ_ind = succ.empty() ? soci::i_null : soci::i_ok;
      vfrom_ind = a.valid_from ? soci::i_ok : soci::i_null;
      vuntil_ind = a.valid_until ? soci::i_ok : soci::i_null;
    }
    std::string code, name, folded, parent, admin, vfrom, vuntil, succ, path;
    int level, depth;
    long long rev, ct, ut;
    soci::indicator parent_ind, succ_ind, vfrom_ind, vuntil_ind;
  };

  static std::string LikePattern(absl::string_view folded) {
    std::string escaped = absl::StrReplaceAll(folded, {{"\\", "\\\\"}, {"%", "\\%"}, {"_", "\\_"}});
    return absl::StrCat("%", escaped, "%");
  }

  // Where the multi-row statement that starts at row `begin` of `n` ends:
  // at most `max` rows, and with a statement cache (SQLite) a power of two,
  // so that batches of any size reuse a few prepared texts instead of
  // parsing a new one each.
  size_t ChunkEnd(size_t begin, size_t n, size_t max) const {
    size_t take = std::min(n - begin, max);
    if (cache_ != nullptr) take = std::bit_floor(take);
    return begin + take;
  }

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

  absl::StatusOr<int64_t> Count(const char* table) {
    long long n = 0;
    PSTRACK_RETURN_IF_ERROR(Guard([&] { sql_ << "SELECT COUNT(*) FROM " << table, soci::into(n); }));
    return static_cast<int64_t>(n);
  }

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

  absl::Status Execute(DynamicQuery& q) {
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

  absl::Status ExecuteCached(const DynamicQuery& q) {
    return FetchCached(q, [](sqlite3_stmt*) {});
  }

  // Runs `q` as a statement prepared once per connection (SQLite, with a
  // cache_) and calls on_row for each row, reading columns straight from
  // SQLite: soci's per-column conversions were a third of a wide sum.
  absl::Status FetchCached(const DynamicQuery& q, absl::FunctionRef<void(sqlite3_stmt*)> on_row) {
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

  absl::StatusOr<std::vector<StoredEvent>> QueryEventsWhere(const char* column, const std::vector<std::string>& keys) {
    std::vector<StoredEvent> out;
    for (size_t begin = 0; begin < keys.size(); begin += kMaxParamsPerStatement) {
      size_t end = std::min(keys.size(), begin + kMaxParamsPerStatement);
      DynamicQuery q;
      q.sql = absl::StrCat("SELECT event_id, dossier_code, occurred_us, kind, content, recorded_us FROM filing_events "
                           "WHERE ", column, " IN (");
      for (size_t i = begin; i < end; ++i) absl::StrAppend(&q.sql, i > begin ? ", " : "", q.Bind(keys[i]));
      // Prepared once per list length (SQLite): the list is padded to a
      // power of two by repeating its last key, which selects nothing more.
      if (cache_ != nullptr) {
        for (size_t i = end - begin; i < std::bit_ceil(end - begin); ++i) absl::StrAppend(&q.sql, ", ", q.Bind(keys[end - 1]));
      }
      absl::StrAppend(&q.sql, ") ORDER BY dossier_code, occurred_us, event_id");
      StoredEvent e;
      long long occurred = 0, recorded = 0;
      PSTRACK_RETURN_IF_ERROR(Fetch(
          q,
          [&](Columns& st) {
            st.exchange(Into(e.event_id));
            st.exchange(Into(e.dossier_code));
            st.exchange(Into(occurred));
            st.exchange(Into(e.kind));
            st.exchange(Into(e.content));
            st.exchange(Into(recorded));
          },
          [&] {
            e.occurred_us = occurred;
            e.recorded_us = recorded;
            out.push_back(e);
          }));
    }
    return out;
  }

  static constexpr const char* kApiKeyColumns =
      "SELECT key_id, name, role, scope_agency_code, certificate_subject, certificate_only, salt, secret_hash, "
      "rate_limit, create_time_us, created_by, revoke_time_us, revoked_by FROM api_keys";

  absl::StatusOr<std::vector<ApiKeyRecord>> QueryApiKeys(DynamicQuery& q) {
    std::vector<ApiKeyRecord> out;
    ApiKeyRecord k;
    int role = 0, cert_only = 0;
    NullableText scope, subject, revoked_by;
    long long created = 0, revoked = 0;
    soci::indicator revoked_ind = soci::i_null;
    PSTRACK_RETURN_IF_ERROR(Fetch(
        q,
        [&](Columns& st) {
          st.exchange(Into(k.key_id));
          st.exchange(Into(k.name));
          st.exchange(Into(role));
          st.exchange(Into(scope.value, scope.ind));
          st.exchange(Into(subject.value, subject.ind));
          st.exchange(Into(cert_only));
          st.exchange(Into(k.salt));
          st.exchange(Into(k.secret_hash));
          st.exchange(Into(k.rate_limit_per_second));
          st.exchange(Into(created));
          st.exchange(Into(k.created_by));
          st.exchange(Into(revoked, revoked_ind));
          st.exchange(Into(revoked_by.value, revoked_by.ind));
        },
        [&] {
          ApiKeyRecord r = k;
          r.role = static_cast<Role>(role);
          r.scope_agency_code = scope.get();
          r.certificate_subject = subject.get();
          r.certificate_only = cert_only != 0;
          r.create_us = created;
          if (revoked_ind == soci::i_ok) r.revoke_us = revoked;
          r.revoked_by = revoked_by.get();
          out.push_back(std::move(r));
        }));
    return out;
  }

  static constexpr const char* kExternalColumns =
      "SELECT input_id, agency_code, indicator_id, start_day, end_day, numerator, denominator, value, source, "
      "recorded_us FROM external_inputs";

  absl::StatusOr<std::vector<ExternalInputRow>> QueryExternalInputs(DynamicQuery& q) {
    std::vector<ExternalInputRow> out;
    ExternalInputRow r;
    std::string start, end;
    long long recorded = 0;
    PSTRACK_RETURN_IF_ERROR(Fetch(
        q,
        [&](Columns& st) {
          st.exchange(Into(r.input_id));
          st.exchange(Into(r.agency_code));
          st.exchange(Into(r.indicator_id));
          st.exchange(Into(start));
          st.exchange(Into(end));
          st.exchange(Into(r.numerator));
          st.exchange(Into(r.denominator));
          st.exchange(Into(r.value));
          st.exchange(Into(r.source));
          st.exchange(Into(recorded));
        },
        [&] {
          auto s = ParseDate(start, "start_day");
          auto e = ParseDate(end, "end_day");
          if (s.ok()) r.start = *s;
          if (e.ok()) r.end = *e;
          r.recorded_us = recorded;
          out.push_back(r);
        }));
    return out;
  }

  absl::StatusOr<std::vector<DossierRow>> QueryDossiers(DynamicQuery& q) {
    std::vector<DossierRow> out;
    DossierDbRow row;
    PSTRACK_RETURN_IF_ERROR(Fetch(q, [&](Columns& st) { row.Exchange(st); },
                                  [&] { out.push_back(row.ToRow()); }));
    return out;
  }

  absl::StatusOr<std::vector<Agency>> QueryAgencies(DynamicQuery& q) {
    std::vector<Agency> out;
    AgencyRow row;
    PSTRACK_RETURN_IF_ERROR(Fetch(q, [&](Columns& st) { row.Exchange(st); },
                                  [&] { out.push_back(row.ToAgency()); }));
    return out;
  }

  absl::StatusOr<std::vector<Procedure>> QueryProcedures(DynamicQuery& q) {
    std::vector<Procedure> out;
    ProcedureRow row;
    PSTRACK_RETURN_IF_ERROR(Fetch(q, [&](Columns& st) { row.Exchange(st); },
                                  [&] { out.push_back(row.ToProcedure()); }));
    if (out.empty()) return out;
    // Agency lists in one query for the whole page.
    DynamicQuery aq;
    aq.sql = "SELECT procedure_code, agency_code FROM procedure_agencies WHERE procedure_code IN (";
    for (size_t i = 0; i < out.size(); ++i) absl::StrAppend(&aq.sql, i ? ", " : "", aq.Bind(out[i].code));
    absl::StrAppend(&aq.sql, ") ORDER BY procedure_code, agency_code");
    absl::flat_hash_map<std::string, size_t> index;
    for (size_t i = 0; i < out.size(); ++i) index[out[i].code] = i;
    std::string pcode, acode;
    PSTRACK_RETURN_IF_ERROR(Fetch(
        aq,
        [&](Columns& st) {
          st.exchange(Into(pcode));
          st.exchange(Into(acode));
        },
        [&] { out[index[pcode]].agency_codes.push_back(acode); }));
    return out;
  }

  soci::session& sql_;
  // SQLite: positional "?" placeholders (named ones cost O(n) each to bind).
  const bool anonymous_;
  StatementCache* cache_;  // the SQLite connection's; null on PostgreSQL
  PgPrepared* pg_;         // the PostgreSQL writer's; null otherwise
  int savepoints_ = 0;
  bool reference_bumped_ = false;  // this transaction moved the reference version
};

// A fixed set of sessions handed out one at a time.
class SessionPool {
 public:
  void Add(std::unique_ptr<soci::session> s) {
    std::lock_guard lock(mu_);
    free_.push_back(s.get());
    all_.push_back(std::move(s));
  }
  soci::session* Acquire() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !free_.empty() || closed_; });
    if (closed_) return nullptr;
    soci::session* s = free_.back();
    free_.pop_back();
    return s;
  }
  void Release(soci::session* s) {
    {
      std::lock_guard lock(mu_);
      free_.push_back(s);
    }
    cv_.notify_one();
  }
  // Waits for every session to come back, runs `before_close`, then closes
  // them.
  void Close(absl::FunctionRef<void()> before_close) {
    std::unique_lock lock(mu_);
    closed_ = true;
    cv_.notify_all();
    drained_.wait(lock, [&] { return free_.size() == all_.size(); });
    before_close();
    for (auto& s : all_) s->close();
  }
  void NotifyReturned() { drained_.notify_all(); }

 private:
  std::mutex mu_;
  std::condition_variable cv_, drained_;
  std::vector<std::unique_ptr<soci::session>> all_;
  std::vector<soci::session*> free_;
  bool closed_ = false;
};

class SqlStore : public Store {
 public:
  SqlStore(DatabaseUrl url, StoreOptions options) : url_(std::move(url)), options_(options) {}
  ~SqlStore() override { Close(); }

  absl::Status Open() {
    try {
      writer_ = Connect();
      bool shared = url_.backend == Backend::kSqlite && url_.target == ":memory:";
      int readers = shared ? 0 : std::max(1, options_.read_connections);
      for (int i = 0; i < readers; ++i) {
        std::unique_ptr<soci::session> reader = Connect();
        if (url_.backend == Backend::kSqlite) {
          *reader << "PRAGMA cache_size = " << -int64_t{options_.reader_cache_mib} * 1024;
          reader_statements_[reader.get()] = std::make_unique<StatementCache>(
              static_cast<soci::sqlite3_session_backend*>(reader->get_backend())->conn_);
        }
        readers_.Add(std::move(reader));
      }
      share_writer_for_reads_ = readers == 0;
      if (url_.backend == Backend::kPostgresql) {
        writer_prepared_ = std::make_unique<PgPrepared>(
            static_cast<soci::postgresql_session_backend*>(writer_->get_backend())->conn_);
      }
      if (url_.backend == Backend::kSqlite && !shared) {
        // Checkpoints move the WAL into the database file. SQLite runs them
        // inside the commit that crosses 1,000 pages, which made every
        // thirtieth commit slow; a thread of its own does it instead.
        *writer_ << "PRAGMA wal_autocheckpoint = 0";
        // Past the limit, the commit that crosses it empties the log before
        // it returns (writers wait). Left to the background thread, a
        // truncation never got the write lock between back-to-back
        // transactions: a bulk load's log reached 1.5 GB over a 256 MiB
        // limit. (Set after wal_autocheckpoint, which replaces the hook.)
        *writer_ << "PRAGMA page_size", soci::into(page_size_);
        sqlite3_wal_hook(
            static_cast<soci::sqlite3_session_backend*>(writer_->get_backend())->conn_,
            [](void* self, sqlite3* db, const char* name, int frames) -> int {
              static_cast<SqlStore*>(self)->wal_frames_.store(frames, std::memory_order_relaxed);
              if (static_cast<const SqlStore*>(self)->OverWalLimit(frames)) {
                // After the commit, its lock released: SQLite allows a
                // checkpoint here. Busy (a long reader): the next commit
                // tries again, and the background thread meanwhile.
                sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
              }
              return SQLITE_OK;
            },
            this);
        // A batch touches thousands of aggregate pages; with SQLite's 2 MiB
        // default cache they spill to the WAL mid-transaction and are read
        // back (a third of ingestion time was pread/pwrite).
        *writer_ << "PRAGMA cache_size = " << -int64_t{options_.writer_cache_mib} * 1024;
        writer_statements_ = std::make_unique<StatementCache>(
            static_cast<soci::sqlite3_session_backend*>(writer_->get_backend())->conn_);
        checkpointer_session_ = Connect();
        checkpointer_ = std::thread([this] { CheckpointLoop(); });
      }
    } catch (const std::exception& e) {
      return absl::UnavailableError(absl::StrCat("cannot open database ", Describe(), ": ", e.what()));
    }
    PSTRACK_RETURN_IF_ERROR(Migrate());
    if (checkpointer_session_ != nullptr) {  // a SQLite file
      // From here on (migrations committed with FULL), commits skip their
      // fsync (synchronous=NORMAL; SQLite still flushes the log before each
      // checkpoint) and Write flushes the log after releasing the write
      // lock, before it returns: every acknowledged write is as durable as
      // with FULL, and the next transaction runs while the log is flushed
      // (DurableLog). Only the writer's commits.
      try {
        *writer_ << "PRAGMA synchronous = NORMAL";
      } catch (const std::exception& e) {
        return absl::UnavailableError(absl::StrCat("cannot open database ", Describe(), ": ", e.what()));
      }
      sqlite3* db = static_cast<soci::sqlite3_session_backend*>(writer_->get_backend())->conn_;
      durable_log_ = std::make_unique<DurableLog>(
          DurableLog::FileFlush(sqlite3_filename_wal(sqlite3_db_filename(db, "main"))));
    }
    return absl::OkStatus();
  }

  absl::Status Read(absl::FunctionRef<absl::Status(ReadTransaction&)> fn) override {
    if (share_writer_for_reads_) {
      std::lock_guard lock(write_mu_);
      if (closed_) return Closed();
      return RunInTransaction(*writer_, /*write=*/false, [&](SqlTransaction& tx) { return fn(tx); });
    }
    soci::session* s = readers_.Acquire();
    if (s == nullptr) return Closed();
    auto cache = reader_statements_.find(s);
    absl::Status status = RunInTransaction(*s, /*write=*/false, [&](SqlTransaction& tx) { return fn(tx); },
                                           cache == reader_statements_.end() ? nullptr : cache->second.get());
    readers_.Release(s);
    readers_.NotifyReturned();
    return status;
  }

  absl::Status LongSnapshotGrowth() const override {
    if (url_.backend != Backend::kSqlite || options_.long_snapshot_wal_mib <= 0) return absl::OkStatus();
    const int64_t grown = wal_frames_.load(std::memory_order_relaxed) - snapshot_wal_frames_.load();
    const int64_t mib = (std::max<int64_t>(0, grown) * page_size_) >> 20;
    if (mib <= options_.long_snapshot_wal_mib) return absl::OkStatus();
    return absl::ResourceExhaustedError(absl::StrCat(
        "the write-ahead log has grown by ", mib, " MiB while this snapshot is held (limit ",
        options_.long_snapshot_wal_mib,
        " MiB, --long_snapshot_wal_mib): what was written since it began cannot be checkpointed until it ends. "
        "Run it at a quieter time or with a larger limit (the disk must hold the log), or on PostgreSQL"));
  }

  absl::Status ReadLongSnapshot(absl::FunctionRef<absl::Status(ReadTransaction&)> fn) override {
    if (long_snapshots_.fetch_add(1) == 0) snapshot_wal_frames_ = wal_frames_.load();
    absl::Status status = Read(fn);
    long_snapshots_.fetch_sub(1);
    return status;
  }

  using Store::Write;
  absl::Status Write(absl::FunctionRef<absl::Status(WriteTransaction&)> fn,
                     absl::FunctionRef<void()> released) override {
    absl::Status status;
    uint64_t ticket = 0;  // a commit whose log is still to be flushed
    {
      std::lock_guard lock(write_mu_);
      if (closed_) {
        status = Closed();
      } else {
        status = RunInTransaction(*writer_, /*write=*/true, [&](SqlTransaction& tx) { return fn(tx); },
                                  writer_statements_.get(), writer_prepared_.get());
        if (status.ok() && durable_log_ != nullptr) ticket = durable_log_->Committed();
      }
    }
    released();
    if (ticket != 0 && !CeilingOn(Ceiling::kNoDurableWait)) durable_log_->WaitDurable(ticket);
    return status;
  }

  absl::string_view backend() const override {
    return url_.backend == Backend::kSqlite ? "sqlite" : "postgresql";
  }
  int schema_version() const override { return schema_version_; }

  void Close() override {
    if (checkpointer_.joinable()) {
      {
        std::lock_guard lock(checkpoint_mu_);
        stop_checkpoints_ = true;
      }
      checkpoint_cv_.notify_all();
      checkpointer_.join();
      checkpointer_session_->close();
    }
    {
      std::lock_guard lock(write_mu_);
      if (closed_) return;
      closed_ = true;
      writer_statements_.reset();  // finalized before the connection closes
      if (writer_) {
        try {
          if (url_.backend == Backend::kSqlite) *writer_ << "PRAGMA wal_checkpoint(TRUNCATE)";
        } catch (const std::exception& e) {
          LogWarning("checkpoint on close failed: ", e.what());
        }
        writer_->close();
      }
    }
    // Prepared statements are finalized before their connections close.
    if (!share_writer_for_reads_) readers_.Close([&] { reader_statements_.clear(); });
  }

 private:
  static absl::Status Closed() { return absl::UnavailableError("the database is closed (server shutting down)"); }

  // Whether a write-ahead log of `frames` pages is past options_.wal_limit_mib.
  // Not while a long snapshot lasts (ReadLongSnapshot): the truncation
  // would wait for it, and the commits with it.
  bool OverWalLimit(int64_t frames) const {
    return long_snapshots_.load(std::memory_order_relaxed) == 0 &&
           frames * page_size_ > int64_t{options_.wal_limit_mib} << 20;
  }

  // Every 200 ms, a passive checkpoint: it copies what no reader still needs
  // and never blocks the writer or the readers. Under sustained writing it
  // may never finish before the next commit appends, and the log only
  // grows: the commit that takes it past options_.wal_limit_mib truncates it
  // (the writer's WAL hook, Open()). If a long reader made that fail and no
  // write follows, the TRUNCATE here retries it while the writer is idle.
  void CheckpointLoop() {
    std::unique_lock lock(checkpoint_mu_);
    while (!checkpoint_cv_.wait_for(lock, std::chrono::milliseconds(200), [&] { return stop_checkpoints_; })) {
      try {
        int busy = 0, log_frames = 0, checkpointed = 0;
        *checkpointer_session_ << "PRAGMA wal_checkpoint(PASSIVE)", soci::into(busy), soci::into(log_frames),
            soci::into(checkpointed);
        if (OverWalLimit(log_frames)) {
          *checkpointer_session_ << "PRAGMA wal_checkpoint(TRUNCATE)", soci::into(busy), soci::into(log_frames),
              soci::into(checkpointed);
          if (busy) {
            LogWarning("write-ahead log over ", options_.wal_limit_mib,
                       " MiB not truncated yet (a transaction or reader outlasted the busy timeout); retrying");
          }
        }
      } catch (const std::exception& e) {
        LogWarning("background checkpoint failed: ", e.what());
      }
    }
  }

  std::string Describe() const {
    return url_.backend == Backend::kSqlite ? absl::StrCat("sqlite file '", url_.target, "'")
                                            : std::string("postgresql server");
  }

  std::unique_ptr<soci::session> Connect() {
    auto s = std::make_unique<soci::session>();
    if (url_.backend == Backend::kSqlite) {
      if (absl::Status ready = PrepareSqliteFile(url_.target); !ready.ok()) {
        throw std::runtime_error(std::string(ready.message()));
      }
      s->open(soci::sqlite3, absl::StrCat("db=\"", url_.target, "\" timeout=",
                                          std::max(1, options_.busy_timeout_ms / 1000)));
      *s << "PRAGMA busy_timeout = " << options_.busy_timeout_ms;
      *s << "PRAGMA journal_mode = WAL";
      // FULL: a commit acknowledged to a client survives power loss.
      *s << "PRAGMA synchronous = FULL";
      *s << "PRAGMA foreign_keys = ON";
      if (options_.max_database_mib > 0) {
        int page_size = 0;
        *s << "PRAGMA page_size", soci::into(page_size);
        *s << "PRAGMA max_page_count = " << (int64_t{options_.max_database_mib} << 20) / std::max(512, page_size);
      }
      // Every 100,000 virtual-machine steps (about a millisecond) SQLite asks
      // whether the call being served has passed its deadline or been
      // cancelled; if so the statement stops with SQLITE_INTERRUPT (and the
      // transaction rolls back). Asking more often costs: a cancellation
      // check takes gRPC's call lock (it was 16% of a query's time at 4,000).
      auto* backend = static_cast<soci::sqlite3_session_backend*>(s->get_backend());
      sqlite3_progress_handler(
          backend->conn_, 100000, [](void*) -> int { return CheckCallLimits().ok() ? 0 : 1; }, nullptr);
    } else {
      s->open(soci::postgresql, url_.target);
      *s << "SET client_min_messages = WARNING";
    }
    return s;
  }

  template <typename Fn>
  absl::Status RunInTransaction(soci::session& s, bool write, Fn&& fn, StatementCache* cache = nullptr,
                                PgPrepared* pg = nullptr) {
    const char* begin = write ? (url_.backend == Backend::kSqlite ? "BEGIN IMMEDIATE" : "BEGIN")
                              : (url_.backend == Backend::kSqlite ? "BEGIN" : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    PSTRACK_RETURN_IF_ERROR(CheckCallLimits());
    // BEGIN, COMMIT and ROLLBACK are prepared once per connection when it
    // has a statement cache (SQLite); parsing them was a tenth of a
    // one-row read such as an API key lookup.
    auto exec = [&](const char* text) {
      if (cache == nullptr) {
        s << text;
        return;
      }
      sqlite3_stmt* st = cache->Get(text);
      if (st == nullptr) throw std::runtime_error(sqlite3_errmsg(cache->db()));
      const int rc = sqlite3_step(st);
      if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        const std::string message = sqlite3_errmsg(cache->db());
        sqlite3_reset(st);
        throw std::runtime_error(message);
      }
      sqlite3_reset(st);
    };
    try {
      exec(begin);
      const absl::Time deadline = CurrentCallDeadline();
      // The server stops the statement when the call's deadline passes
      // (statement_timeout takes at most INT_MAX ms; a farther deadline is
      // no deadline).
      const absl::Duration left = deadline - absl::Now();
      if (url_.backend == Backend::kPostgresql && left < absl::Hours(24 * 20)) {
        s << "SET LOCAL statement_timeout = " << std::max<long long>(1, absl::ToInt64Milliseconds(left) + 1);
      }
    } catch (const std::exception& e) {
      absl::Status failed = DatabaseError(e);
      try {
        exec("ROLLBACK");
      } catch (const std::exception&) {
      }
      return failed;
    }
    SqlTransaction tx(s, cache, pg);
    absl::Status status;
    try {
      status = fn(tx);
    } catch (const std::exception& e) {
      status = DatabaseError(e);
    }
    try {
      if (status.ok() && write) {
        exec("COMMIT");
      } else {
        exec("ROLLBACK");
      }
    } catch (const std::exception& e) {
      absl::Status commit = DatabaseError(e);
      try {
        exec("ROLLBACK");
      } catch (const std::exception&) {
      }
      return status.ok() ? commit : status;
    }
    return status;
  }

  absl::Status Migrate() {
    const auto& migrations = AllMigrations();
    const int latest = migrations.back().version;
    std::string text_key = url_.backend == Backend::kPostgresql ? "TEXT COLLATE \"C\"" : "TEXT";
    std::string auto_id = url_.backend == Backend::kPostgresql ? "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
                                                               : "INTEGER PRIMARY KEY AUTOINCREMENT";
    try {
      // Several replicas may start at once on one PostgreSQL database: one
      // migrates, the others wait and then find nothing to do.
      if (url_.backend == Backend::kPostgresql) *writer_ << "SELECT pg_advisory_lock(766766)";
      *writer_ << "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                  "description TEXT NOT NULL, applied_time_us BIGINT NOT NULL)";
      int current = 0;
      soci::indicator ind = soci::i_null;
      *writer_ << "SELECT MAX(version) FROM schema_migrations", soci::into(current, ind);
      if (ind != soci::i_ok) current = 0;
      if (current > latest) {
        return absl::FailedPreconditionError(absl::StrCat(
            "the database ", Describe(), " has schema version ", current,
            ", newer than this pstrack build knows (", latest,
            "); run a pstrack-server at least as new as the one that last wrote it"));
      }
      for (const Migration& m : migrations) {
        if (m.version <= current) continue;
        absl::Status applied = RunInTransaction(*writer_, true, [&](SqlTransaction&) {
          for (std::string stmt : m.statements) {
            if (absl::StartsWith(stmt, kSqliteOnly)) {
              if (url_.backend != Backend::kSqlite) continue;
              stmt.erase(0, std::strlen(kSqliteOnly));
            }
            *writer_ << absl::StrReplaceAll(stmt, {{"{text_key}", text_key}, {"{auto_id}", auto_id}});
          }
          long long now = ToMicros(absl::Now());
          int version = m.version;
          std::string description = m.description;
          *writer_ << "INSERT INTO schema_migrations (version, description, applied_time_us) "
                      "VALUES (:v, :d, :t)",
              soci::use(version), soci::use(description), soci::use(now);
          return absl::OkStatus();
        });
        if (!applied.ok()) {
          return absl::Status(applied.code(), absl::StrCat("schema migration ", m.version, " (",
                                                           m.description, ") failed: ", applied.message()));
        }
        LogInfo("applied schema migration ", m.version, ": ", m.description);
      }
      schema_version_ = latest;
      if (url_.backend == Backend::kPostgresql) *writer_ << "SELECT pg_advisory_unlock(766766)";
    } catch (const std::exception& e) {
      return DatabaseError(e);
    }
    return absl::OkStatus();
  }

  DatabaseUrl url_;
  StoreOptions options_;
  int page_size_ = 4096;  // SQLite, read at open
  std::mutex write_mu_;
  std::unique_ptr<soci::session> writer_;
  SessionPool readers_;
  bool share_writer_for_reads_ = false;
  bool closed_ = false;
  int schema_version_ = 0;
  std::atomic<int> long_snapshots_{0};
  std::atomic<int64_t> wal_frames_{0};  // the write-ahead log's size after the latest commit
  std::atomic<int64_t> snapshot_wal_frames_{0};  // wal_frames_ when the first long snapshot began
  std::unique_ptr<StatementCache> writer_statements_;
  // SQLite files: flushes the log after the write lock is released.
  std::unique_ptr<DurableLog> durable_log_;
  // PostgreSQL: the writer's prepared statements.
  std::unique_ptr<PgPrepared> writer_prepared_;
  // Per reader connection (SQLite); filled in Open, read-only afterwards.
  absl::flat_hash_map<soci::session*, std::unique_ptr<StatementCache>> reader_statements_;
  std::unique_ptr<soci::session> checkpointer_session_;
  std::thread checkpointer_;
  std::mutex checkpoint_mu_;
  std::condition_variable checkpoint_cv_;
  bool stop_checkpoints_ = false;
};

}  // namespace

int LatestSchemaVersion() { return AllMigrations().back().version; }

absl::StatusOr<std::unique_ptr<Store>> OpenStore(absl::string_view url, const StoreOptions& options) {
  // Each SQLite connection is used by one thread at a time (the writer under
  // its mutex, readers from the pool, the checkpointer alone), so SQLite's
  // own per-connection mutex is not needed: without it, every column read
  // no longer takes and releases a lock (a tenth of a ranking). Takes effect
  // only before the process's first connection.
  static const int multithread = sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
  (void)multithread;
  PSTRACK_ASSIGN_OR_RETURN(DatabaseUrl parsed, ParseDatabaseUrl(url));
  auto store = std::make_unique<SqlStore>(std::move(parsed), options);
  PSTRACK_RETURN_IF_ERROR(store->Open());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace pstrack
