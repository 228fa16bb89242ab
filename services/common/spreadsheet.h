// Tables as XLSX workbooks (Debian's libxlsxwriter), for the dashboard's
// and the CLI's exports: numbers stay numbers, rates are shown as
// percentages, text is UTF-8 (Vietnamese as it is), the header row is bold
// and frozen, and columns are sized to their content.
#ifndef PSTRACK_SERVICES_COMMON_SPREADSHEET_H_
#define PSTRACK_SERVICES_COMMON_SPREADSHEET_H_

#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pstrack {

struct SheetColumn {
  enum class Type { kText, kNumber, kInteger, kPercent };
  std::string title;
  Type type = Type::kText;
};

// "text", "number", "integer", "percent"; false for anything else.
bool ParseSheetColumnType(absl::string_view name, SheetColumn::Type* type);

// A ratio shown as a percentage whatever its column's type (0.875: 87.5%).
struct SheetRatio {
  double value;
};

// An empty cell, a number (a percent column holds the ratio: 0.875 shows
// as 87.5%), text, or a ratio.
using SheetCell = std::variant<std::monostate, double, std::string, SheetRatio>;

struct Sheet {
  std::string name;  // at most 31 characters; []:*?/\ are replaced
  std::vector<SheetColumn> columns;
  std::vector<std::vector<SheetCell>> rows;
};

// The bytes of an .xlsx file with the sheet. Writes through a temporary
// file (libxlsxwriter writes files only), removed before it returns.
// INVALID_ARGUMENT for a row longer than the columns or text that is not
// UTF-8; RESOURCE_EXHAUSTED past Excel's limits (1,048,576 rows, 16,384
// columns, 32,767 characters in a cell).
absl::StatusOr<std::string> XlsxWorkbook(const Sheet& sheet);

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_COMMON_SPREADSHEET_H_
