#include "services/catalog/procedure_csv.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/common/csv.h"
#include "services/common/status.h"

namespace pstrack {
namespace {

std::vector<std::string> SplitList(absl::string_view text) {
  std::vector<std::string> out;
  for (absl::string_view part : absl::StrSplit(text, ';', absl::SkipWhitespace())) {
    out.emplace_back(absl::StripAsciiWhitespace(part));
  }
  return out;
}

absl::StatusOr<Procedure> ParseRow(const CsvTable::Row& row, size_t columns) {
  if (row.size() > columns) {
    return InvalidField("row", absl::StrCat("has ", row.size(), " fields but the header has ", columns,
                                            " (quote fields that contain commas)"));
  }
  Procedure p;
  p.code = std::string(row.Get("code"));
  p.name = std::string(row.Get("name"));
  p.field = std::string(row.Get("field"));
  for (const std::string& level : SplitList(row.Get("levels"))) {
    PSTRACK_ASSIGN_OR_RETURN(AgencyLevel l, ParseAgencyLevel(level, "levels"));
    p.levels.push_back(l);
  }
  p.agency_codes = SplitList(row.Get("agency_codes"));
  PSTRACK_ASSIGN_OR_RETURN(p.online_mode, ParseOnlineMode(row.Get("online_mode"), "online_mode"));
  PSTRACK_ASSIGN_OR_RETURN(p.full_online_eligible,
                           ParseCsvBool(row.Get("full_online_eligible"), "full_online_eligible"));
  absl::string_view amount = row.Get("resolution_time");
  if (amount.empty()) return MissingField("resolution_time");
  if (!absl::SimpleAtoi(amount, &p.resolution_amount) || amount[0] == '-' || amount[0] == '+') {
    return InvalidField("resolution_time", absl::StrCat("'", amount, "' is not a whole number"));
  }
  PSTRACK_ASSIGN_OR_RETURN(p.resolution_unit, ParseTimeUnit(row.Get("resolution_unit"), "resolution_unit"));
  PSTRACK_ASSIGN_OR_RETURN(p.fee_bearing, ParseCsvBool(row.Get("fee_bearing"), "fee_bearing"));
  PSTRACK_ASSIGN_OR_RETURN(p.online_payment_integrated,
                           ParseCsvBool(row.Get("online_payment_integrated"), "online_payment_integrated"));
  PSTRACK_ASSIGN_OR_RETURN(p.population_db_connected,
                           ParseCsvBool(row.Get("population_db_connected"), "population_db_connected"));
  PSTRACK_ASSIGN_OR_RETURN(p.valid_from, ParseOptionalDate(row.Get("valid_from"), "valid_from"));
  PSTRACK_ASSIGN_OR_RETURN(p.valid_until, ParseOptionalDate(row.Get("valid_until"), "valid_until"));
  p.Normalize();
  return p;
}

}  // namespace

absl::StatusOr<bool> ParseCsvBool(absl::string_view text, absl::string_view field) {
  std::string t = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  if (t.empty() || t == "false" || t == "0" || t == "no") return false;
  if (t == "true" || t == "1" || t == "yes") return true;
  return InvalidField(field, absl::StrCat("'", text, "' is not true or false"));
}

absl::StatusOr<std::vector<ProcedureCsvRow>> ParseProcedureCsv(absl::string_view text) {
  PSTRACK_ASSIGN_OR_RETURN(CsvTable table,
                           CsvTable::Parse(text, {"code", "name", "field", "online_mode", "resolution_time",
                                                  "resolution_unit"}));
  std::vector<ProcedureCsvRow> out;
  for (const auto& row : table.Rows()) out.push_back({row.line, ParseRow(row, table.header().size())});
  return out;
}

}  // namespace pstrack
