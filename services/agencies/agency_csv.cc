#include "services/agencies/agency_csv.h"

#include "absl/strings/str_cat.h"
#include "services/common/csv.h"
#include "services/common/status.h"

namespace pstrack {
namespace {

absl::StatusOr<Agency> ParseRow(const CsvTable::Row& row, size_t columns) {
  if (row.size() > columns) {
    return InvalidField("row", absl::StrCat("has ", row.size(), " fields but the header has ", columns,
                                            " (quote fields that contain commas)"));
  }
  Agency a;
  a.code = std::string(row.Get("code"));
  a.name = std::string(row.Get("name"));
  PSTRACK_ASSIGN_OR_RETURN(a.level, ParseAgencyLevel(row.Get("level"), "level"));
  a.parent_code = std::string(row.Get("parent_code"));
  a.admin_code = std::string(row.Get("admin_code"));
  PSTRACK_ASSIGN_OR_RETURN(a.valid_from, ParseOptionalDate(row.Get("valid_from"), "valid_from"));
  PSTRACK_ASSIGN_OR_RETURN(a.valid_until, ParseOptionalDate(row.Get("valid_until"), "valid_until"));
  a.successor_code = std::string(row.Get("successor_code"));
  return a;
}

}  // namespace

absl::StatusOr<std::vector<AgencyCsvRow>> ParseAgencyCsv(absl::string_view text) {
  PSTRACK_ASSIGN_OR_RETURN(CsvTable table, CsvTable::Parse(text, {"code", "name", "level", "parent_code"}));
  std::vector<AgencyCsvRow> out;
  for (const auto& row : table.Rows()) out.push_back({row.line, ParseRow(row, table.header().size())});
  return out;
}

}  // namespace pstrack
