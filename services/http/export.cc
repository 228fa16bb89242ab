#include "services/http/export.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace pstrack::http {

using google::protobuf::Struct;
using google::protobuf::Value;

absl::StatusOr<Sheet> ParseExportRequest(absl::string_view json) {
  Struct root;
  if (auto s = google::protobuf::util::JsonStringToMessage(std::string(json), &root); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("the body is not a JSON object: ", s.message().as_string()));
  }
  Sheet sheet;
  const auto& fields = root.fields();
  for (const auto& [name, value] : fields) {
    if (name != "sheet" && name != "columns" && name != "rows") {
      return absl::InvalidArgumentError(absl::StrCat(name, ": unknown field (expected sheet, columns, rows)"));
    }
  }
  if (auto it = fields.find("sheet"); it != fields.end()) {
    if (it->second.kind_case() != Value::kStringValue) return absl::InvalidArgumentError("sheet: must be a string");
    sheet.name = it->second.string_value();
  }
  auto columns = fields.find("columns");
  if (columns == fields.end() || columns->second.kind_case() != Value::kListValue ||
      columns->second.list_value().values_size() == 0) {
    return absl::InvalidArgumentError("columns: required, a non-empty list of {title, type}");
  }
  for (int c = 0; c < columns->second.list_value().values_size(); ++c) {
    const Value& v = columns->second.list_value().values(c);
    const std::string where = absl::StrCat("columns[", c, "]");
    if (v.kind_case() != Value::kStructValue) return absl::InvalidArgumentError(absl::StrCat(where, ": must be an object"));
    const auto& f = v.struct_value().fields();
    SheetColumn column;
    auto title = f.find("title");
    if (title == f.end() || title->second.kind_case() != Value::kStringValue) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".title: required, a string"));
    }
    column.title = title->second.string_value();
    if (auto type = f.find("type"); type != f.end()) {
      if (type->second.kind_case() != Value::kStringValue ||
          !ParseSheetColumnType(type->second.string_value(), &column.type)) {
        return absl::InvalidArgumentError(absl::StrCat(where, ".type: one of text, number, integer, percent"));
      }
    }
    sheet.columns.push_back(std::move(column));
  }
  auto rows = fields.find("rows");
  if (rows == fields.end()) return sheet;
  if (rows->second.kind_case() != Value::kListValue) return absl::InvalidArgumentError("rows: must be a list of lists");
  const auto& list = rows->second.list_value();
  if (static_cast<size_t>(list.values_size()) * sheet.columns.size() > kMaxExportCells) {
    return absl::ResourceExhaustedError(
        absl::StrCat("rows: at most ", kMaxExportCells, " cells in one export; export a narrower period or filter"));
  }
  sheet.rows.reserve(list.values_size());
  for (int r = 0; r < list.values_size(); ++r) {
    const Value& row = list.values(r);
    if (row.kind_case() != Value::kListValue) return absl::InvalidArgumentError(absl::StrCat("rows[", r, "]: must be a list"));
    if (static_cast<size_t>(row.list_value().values_size()) > sheet.columns.size()) {
      return absl::InvalidArgumentError(absl::StrCat("rows[", r, "]: ", row.list_value().values_size(), " cells for ",
                                                     sheet.columns.size(), " columns"));
    }
    std::vector<SheetCell> cells;
    for (int c = 0; c < row.list_value().values_size(); ++c) {
      const Value& cell = row.list_value().values(c);
      switch (cell.kind_case()) {
        case Value::kNumberValue:
          if (!std::isfinite(cell.number_value())) {
            return absl::InvalidArgumentError(absl::StrCat("rows[", r, "][", c, "]: not a finite number"));
          }
          cells.emplace_back(cell.number_value());
          break;
        case Value::kStringValue: cells.emplace_back(cell.string_value()); break;
        case Value::kNullValue: cells.emplace_back(std::monostate{}); break;
        case Value::kBoolValue: cells.emplace_back(std::string(cell.bool_value() ? "true" : "false")); break;
        default:
          return absl::InvalidArgumentError(absl::StrCat("rows[", r, "][", c, "]: a number, a string or null"));
      }
    }
    sheet.rows.push_back(std::move(cells));
  }
  return sheet;
}

}  // namespace pstrack::http
