// POST /dashboard/export.xlsx: a table the dashboard shows, as JSON, made
// into an XLSX workbook (services/common/spreadsheet.h):
//   {"sheet": "ranking 2025",
//    "columns": [{"title": "Tỉnh", "type": "text"}, {"title": "Đúng hạn", "type": "percent"}],
//    "rows": [["Tỉnh Quảng Ninh", 0.9731], ["Thành phố Hà Nội", null]]}
// Types: text, number, integer, percent (the cell holds the ratio).
#ifndef PSTRACK_SERVICES_HTTP_EXPORT_H_
#define PSTRACK_SERVICES_HTTP_EXPORT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/common/spreadsheet.h"

namespace pstrack::http {

// At most this many cells (rows times columns) in one export.
inline constexpr size_t kMaxExportCells = 2000000;

// INVALID_ARGUMENT naming the field and the reason; RESOURCE_EXHAUSTED
// past kMaxExportCells.
absl::StatusOr<Sheet> ParseExportRequest(absl::string_view json);

}  // namespace pstrack::http

#endif  // PSTRACK_SERVICES_HTTP_EXPORT_H_
