// Parsing the --db URL into a backend and its connection parameters.
#ifndef PSTRACK_STORAGE_DATABASE_URL_H_
#define PSTRACK_STORAGE_DATABASE_URL_H_

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace pstrack {

struct DatabaseUrl {
  enum class Backend { kSqlite, kPostgresql };
  Backend backend = Backend::kSqlite;
  // SQLite: the file path (or ":memory:"). PostgreSQL: a libpq connection
  // URI, passed through as given.
  std::string target;
};

// Accepts sqlite:///abs/path, sqlite://relative (or sqlite:relative),
// sqlite::memory:, a bare path, and postgresql:// or postgres:// URIs.
absl::StatusOr<DatabaseUrl> ParseDatabaseUrl(absl::string_view url);

// postgresql://user:password@host:port/dbname?sslmode=require as a libpq
// keyword/value string (host='host' port='5432' dbname='db' ...).
absl::StatusOr<std::string> PostgresKeywordString(absl::string_view url);

}  // namespace pstrack

#endif  // PSTRACK_STORAGE_DATABASE_URL_H_
