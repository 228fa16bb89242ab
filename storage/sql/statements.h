// Statements prepared once per connection: SQLite's (StatementCache) and
// PostgreSQL's (PgPrepared). Each is used by its connection's thread only.
#ifndef PSTRACK_STORAGE_SQL_STATEMENTS_H_
#define PSTRACK_STORAGE_SQL_STATEMENTS_H_

#include <stdexcept>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "soci/postgresql/soci-postgresql.h"
#include "soci/sqlite3/soci-sqlite3.h"

namespace pstrack::sql {

// SOCI declares SQLite's API inside namespace sqlite_api.
using namespace sqlite_api;  // NOLINT(build/namespaces)

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
    if (sqlite3_prepare_v3(db_, text.c_str(), static_cast<int>(text.size()), SQLITE_PREPARE_PERSISTENT, &st, nullptr) !=
        SQLITE_OK) {
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
}  // namespace pstrack::sql

#endif  // PSTRACK_STORAGE_SQL_STATEMENTS_H_
