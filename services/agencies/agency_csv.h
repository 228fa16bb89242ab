// Reading agency reference-data files (CSV with the header
// code,name,level,parent_code,admin_code,valid_from,valid_until,successor_code)
// into Agency values, one result per data line. Pure; thread-safe.
#ifndef PSTRACK_SERVICES_AGENCIES_AGENCY_CSV_H_
#define PSTRACK_SERVICES_AGENCIES_AGENCY_CSV_H_

#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"
#include "services/agencies/agency.h"

namespace pstrack {

struct AgencyCsvRow {
  int line = 0;
  absl::StatusOr<Agency> agency;  // an error names the column and reason
};

// Fails as a whole only when the file itself is unreadable (no header, a
// missing column, an unclosed quote); a bad row is reported in its result.
absl::StatusOr<std::vector<AgencyCsvRow>> ParseAgencyCsv(absl::string_view text);

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_AGENCIES_AGENCY_CSV_H_
