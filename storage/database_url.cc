#include "storage/database_url.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace pstrack {

absl::StatusOr<DatabaseUrl> ParseDatabaseUrl(absl::string_view url) {
  DatabaseUrl out;
  if (url.empty()) return absl::InvalidArgumentError("db: the database URL is empty");
  if (absl::StartsWith(url, "postgresql://") || absl::StartsWith(url, "postgres://")) {
    out.backend = DatabaseUrl::Backend::kPostgresql;
    out.target = std::string(url);
    return out;
  }
  absl::string_view rest = url;
  if (absl::ConsumePrefix(&rest, "sqlite:")) {
    if (absl::StartsWith(rest, "//")) rest.remove_prefix(2);  // sqlite:///abs -> /abs
  } else if (rest.find("://") != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("db: unsupported database URL '", url,
                     "'; use sqlite:///path/to/file.db or postgresql://user@host:port/dbname"));
  }
  if (rest.empty()) return absl::InvalidArgumentError("db: the SQLite file path is empty");
  out.target = std::string(rest);
  return out;
}

}  // namespace pstrack
