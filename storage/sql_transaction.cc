#include "storage/sql_transaction.h"

#include "absl/strings/str_cat.h"

namespace pstrack::sql {

absl::Status SqlTransaction::LockKeys(const std::vector<std::string>& keys) {
  if (keys.empty()) return absl::OkStatus();
  return dialect_.LockKeys(keys);
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
