#include "storage/sql/query.h"

#include "absl/strings/match.h"
#include "services/common/call_limits.h"

namespace pstrack::sql {

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
  // The server went away or is not taking connections (a restart, a
  // failover, a standby still recovering): the same call later may succeed.
  if (absl::StrContains(what, "server closed the connection") || absl::StrContains(what, "could not connect") ||
      absl::StrContains(what, "no connection to the server") || absl::StrContains(what, "terminating connection") ||
      absl::StrContains(what, "the database system is") || absl::StrContains(what, "read-only transaction")) {
    return absl::UnavailableError(absl::StrCat("the database is unavailable, retry shortly: ", what));
  }
  if (absl::StrContains(what, "locked") || absl::StrContains(what, "busy") ||
      absl::StrContains(what, "could not serialize") || absl::StrContains(what, "deadlock")) {
    return absl::UnavailableError(absl::StrCat("database busy, retry: ", what));
  }
  return absl::InternalError(absl::StrCat("database error: ", what));
}

}  // namespace pstrack::sql
