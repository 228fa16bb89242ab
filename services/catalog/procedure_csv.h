// Reading procedure catalog files (CSV; see docs/api.md for the columns) into
// Procedure values, one result per data line. Pure; thread-safe.
#ifndef PSTRACK_SERVICES_CATALOG_PROCEDURE_CSV_H_
#define PSTRACK_SERVICES_CATALOG_PROCEDURE_CSV_H_

#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"
#include "services/catalog/procedure.h"

namespace pstrack {

struct ProcedureCsvRow {
  int line = 0;
  absl::StatusOr<Procedure> procedure;
};

absl::StatusOr<std::vector<ProcedureCsvRow>> ParseProcedureCsv(absl::string_view text);

// "true"/"false", "1"/"0", "yes"/"no" (any case); empty = false.
absl::StatusOr<bool> ParseCsvBool(absl::string_view text, absl::string_view field);

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_CATALOG_PROCEDURE_CSV_H_
