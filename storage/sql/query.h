// The pieces every table group's statements are built from: a statement
// built at run time (DynamicQuery), where a fetched row's columns go
// (Columns), and the mapping of database errors to statuses.
// Thread-compatible.
#ifndef PSTRACK_STORAGE_SQL_QUERY_H_
#define PSTRACK_STORAGE_SQL_QUERY_H_

#include <cstdint>
#include <deque>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/agencies/agency.h"
#include "services/common/dates.h"
#include "soci/soci.h"
#include "storage/sql/statements.h"

namespace pstrack::sql {

// Statements with many rows are split so that no statement binds more than
// this many parameters (SQLite's limit is 32766).
inline constexpr size_t kMaxParamsPerStatement = 3000;

// Converts a SOCI exception into a status the RPC layer can report.
absl::Status DatabaseError(const std::exception& e);

// Runs `fn`, turning an exception it throws (soci's, a driver's) into a
// status.
template <typename Fn>
absl::Status Guard(Fn&& fn) {
  try {
    fn();
    return absl::OkStatus();
  } catch (const std::exception& e) {
    return DatabaseError(e);
  }
}

inline int64_t ToMicros(absl::Time t) { return absl::ToUnixMicros(t); }
inline absl::Time FromMicros(long long us) { return absl::FromUnixMicros(us); }

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
  // How the text names its parameters: "?" (SQLite then keeps no names at
  // all) or "$1", "$2", ... in the order they appear (PostgreSQL).
  enum class Placeholders { kAnonymous, kPositional };

  // The text to prepare and, in placeholder order, which value each
  // placeholder takes (a Bind() number, from 0).
  std::string Text(Placeholders style, std::vector<size_t>* in_text) const {
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
      if (style == Placeholders::kAnonymous) {
        text.push_back('?');
      } else {
        absl::StrAppend(&text, "$", in_text->size());
      }
      i = j - 1;
    }
    return text;
  }

  // The text with PostgreSQL's positional placeholders and, for each, its
  // value as text (nullptr: NULL), as libpq's PQexecParams takes them. The
  // pointers live as long as this query.
  std::string PositionalText(std::vector<const char*>* values) {
    std::vector<size_t> in_text;
    std::string text = Text(Placeholders::kPositional, &in_text);
    values->clear();
    values->reserve(in_text.size());
    for (size_t k : in_text) {
      const auto& [type, i] = order_.at(k);
      if (type == 0) {
        values->push_back(strings_[i].c_str());
      } else if (type == 4) {
        values->push_back(nullptr);
      } else {
        texts_.push_back(type == 1   ? absl::StrCat(ints_[i])
                         : type == 2 ? absl::StrCat(int64s_[i])
                                     : absl::StrFormat("%.17g", doubles_[i]));
        values->push_back(texts_.back().c_str());
      }
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

 private:
  std::deque<std::string> strings_;  // deque: references stay valid
  std::deque<int> ints_;
  std::deque<long long> int64s_;
  std::deque<double> doubles_;
  std::vector<std::pair<int, size_t>> order_;  // (0 string | 1 int | 2 int64 | 3 double | 4 null, index)
  std::deque<std::string> texts_;              // numbers as text (PositionalText)
};

// A nullable text column read through an indicator.
struct NullableText {
  std::string value;
  soci::indicator ind = soci::i_null;
  bool null() const { return ind != soci::i_ok; }
  std::string get() const { return null() ? std::string() : value; }
};

// Where a fetched row's columns go, the same code for both backends: a
// libpq result (PostgreSQL) or a cached SQLite statement. Row readers call
// st.exchange(Into(variable[, indicator])) once per column, in order.
class Columns {
 public:
  struct Target {
    std::variant<std::string*, int*, long long*, double*> value;
    soci::indicator* ind = nullptr;
  };

  void exchange(Target t) { targets_.push_back(t); }

  // Copies row `row` of a libpq result (text format) into the targets;
  // like soci, a NULL without an indicator is an error, and so is a number
  // that does not read as one.
  void Read(const PGresult* result, int row) const {
    if (static_cast<size_t>(PQnfields(result)) < targets_.size()) {
      throw std::runtime_error("the query returned fewer columns than it is read into");
    }
    for (size_t i = 0; i < targets_.size(); ++i) {
      const Target& t = targets_[i];
      const int c = static_cast<int>(i);
      const bool null = PQgetisnull(result, row, c);
      if (t.ind != nullptr) *t.ind = null ? soci::i_null : soci::i_ok;
      if (null) {
        if (t.ind == nullptr) throw std::runtime_error("Null value fetched and no indicator defined.");
        continue;
      }
      const char* text = PQgetvalue(result, row, c);
      const absl::string_view value(text, static_cast<size_t>(PQgetlength(result, row, c)));
      bool ok = true;
      if (auto* s = std::get_if<std::string*>(&t.value)) {
        (*s)->assign(value.data(), value.size());
      } else if (auto* n = std::get_if<int*>(&t.value)) {
        ok = absl::SimpleAtoi(value, *n);
      } else if (auto* l = std::get_if<long long*>(&t.value)) {
        int64_t v = 0;
        ok = absl::SimpleAtoi(value, &v);
        **l = v;
      } else {
        ok = absl::SimpleAtod(value, std::get<double*>(t.value));
      }
      if (!ok) throw std::runtime_error(absl::StrCat("column ", c, ": '", value, "' is not a number"));
    }
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

inline OptionalDate ReadDate(const NullableText& t) {
  if (t.null() || t.value.empty()) return std::nullopt;
  auto d = ParseDate(t.value, "stored date");
  if (!d.ok()) return std::nullopt;  // written by us, always valid
  return *d;
}


}  // namespace pstrack::sql

#endif  // PSTRACK_STORAGE_SQL_QUERY_H_
