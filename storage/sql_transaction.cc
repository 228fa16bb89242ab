#include "storage/sql_transaction.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace pstrack::sql {

absl::Status SqlTransaction::LockKeys(const std::vector<std::string>& keys) {
  if (anonymous_ || keys.empty()) return absl::OkStatus();  // SQLite: one writer
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

absl::Status SqlTransaction::Atomically(absl::FunctionRef<absl::Status()> fn) {
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

}  // namespace pstrack::sql
