// Building absl::Status values that name the field at fault, so every error an
// integrator sees reads "<field>: <reason>". Thread-safe (pure functions).
#ifndef PSTRACK_SERVICES_COMMON_STATUS_H_
#define PSTRACK_SERVICES_COMMON_STATUS_H_

#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace pstrack {

inline absl::Status FieldError(absl::StatusCode code, absl::string_view field,
                               absl::string_view reason) {
  return absl::Status(code, absl::StrCat(field, ": ", reason));
}
inline absl::Status InvalidField(absl::string_view field, absl::string_view reason) {
  return FieldError(absl::StatusCode::kInvalidArgument, field, reason);
}
inline absl::Status MissingField(absl::string_view field) {
  return InvalidField(field, "is required");
}
// A failure of the database or of the call (not of an item's content): a
// batch stops and reports it for every item.
inline bool IsDatabaseFailure(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kCancelled:
    case absl::StatusCode::kAborted:
      return true;
    default:
      return false;
  }
}

// Evaluates an expression returning absl::Status and returns it if not OK.
#define PSTRACK_RETURN_IF_ERROR(expr)              \
  do {                                             \
    ::absl::Status pstrack_status_ = (expr);       \
    if (!pstrack_status_.ok()) return pstrack_status_; \
  } while (false)

#define PSTRACK_CONCAT_INNER_(a, b) a##b
#define PSTRACK_CONCAT_(a, b) PSTRACK_CONCAT_INNER_(a, b)
// Assigns the value of an absl::StatusOr expression to `lhs`, or returns its
// status.
#define PSTRACK_ASSIGN_OR_RETURN(lhs, expr) \
  PSTRACK_ASSIGN_OR_RETURN_IMPL_(PSTRACK_CONCAT_(pstrack_so_, __LINE__), lhs, expr)
#define PSTRACK_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) return tmp.status();                  \
  lhs = std::move(tmp).value()

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_COMMON_STATUS_H_
