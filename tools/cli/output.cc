#include "tools/cli/output.h"

#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "services/common/spreadsheet.h"
#include "services/common/status.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "services/agencies/agency.h"
#include "services/api/convert.h"
#include "services/common/dates.h"
#include "services/security/api_key.h"

namespace pstrack::cli {

absl::Status PrintJson(std::ostream& out, const google::protobuf::Message& message) {
  std::string text;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  auto status = google::protobuf::util::MessageToJsonString(message, &text, options);
  if (!status.ok()) return absl::InternalError(absl::StrCat("cannot print JSON: ", status.ToString()));
  out << text;
  return absl::OkStatus();
}

namespace {

absl::Status PrintXlsx(std::ostream& out, const Table& t) {
  const auto& header = t.header();
  Sheet sheet;
  sheet.name = "pstrack";
  auto parses = [](const std::string& cell, double* v) {
    return !cell.empty() && cell.front() != '+' && !absl::ascii_isspace(static_cast<unsigned char>(cell.front())) &&
           absl::SimpleAtod(cell, v) && std::isfinite(*v);
  };
  std::vector<bool> numeric(header.size(), false), rate(header.size(), false);
  size_t unit_column = header.size(), value_column = header.size();
  for (size_t c = 0; c < header.size(); ++c) {
    const std::string name = absl::AsciiStrToLower(header[c]);
    if (name == "unit") unit_column = c;
    if (name == "value") value_column = c;
    rate[c] = absl::StrContains(name, "rate");
    // Identifiers stay text even when they look like numbers (procedure
    // 1.001193, admin code 22): a column whose name has the word code, id
    // or key, or names what it identifies.
    bool identifier = name == "procedure" || name == "agency" || name == "dossier" || name == "report";
    for (absl::string_view word : absl::StrSplit(name, absl::ByAnyChar("_ "))) {
      identifier = identifier || word == "code" || word == "id" || word == "key";
    }
    bool all = !identifier, any = false;
    for (const auto& row : t.rows()) {
      const std::string cell = c < row.size() ? row[c] : "";
      double v;
      if (cell.empty() || cell == kNotAvailable) continue;
      if (!parses(cell, &v)) all = false;
      any = true;
    }
    numeric[c] = all && any;
    sheet.columns.push_back(SheetColumn{header[c], !numeric[c]      ? SheetColumn::Type::kText
                                                   : rate[c]         ? SheetColumn::Type::kPercent
                                                                     : SheetColumn::Type::kNumber});
  }
  for (const auto& row : t.rows()) {
    std::vector<SheetCell> cells;
    const bool ratio_row = unit_column < row.size() && row[unit_column] == "ratio";
    for (size_t c = 0; c < header.size(); ++c) {
      const std::string cell = c < row.size() ? row[c] : "";
      double v;
      if (cell.empty()) {
        cells.emplace_back(std::monostate{});
      } else if (numeric[c] && parses(cell, &v)) {
        if (c == value_column && ratio_row && !rate[c]) {
          cells.emplace_back(SheetRatio{v});
        } else {
          cells.emplace_back(v);
        }
      } else {
        cells.emplace_back(cell);
      }
    }
    sheet.rows.push_back(std::move(cells));
  }
  PSTRACK_ASSIGN_OR_RETURN(std::string book, XlsxWorkbook(sheet));
  out.write(book.data(), static_cast<std::streamsize>(book.size()));
  return absl::OkStatus();
}

}  // namespace

absl::Status PrintTable(std::ostream& out, const Table& t, Output output) {
  if (output == Output::kXlsx) return PrintXlsx(out, t);
  if (output == Output::kCsv) {
    t.PrintCsv(out);
  } else {
    t.Print(out);
  }
  return absl::OkStatus();
}

std::vector<std::string> Cat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::string DateText(const v1::Date& d, bool has) {
  if (!has) return "";
  auto date = DateFromProto(d, "date");
  return date.ok() ? FormatDate(*date) : "?";
}

std::string InstantText(const google::protobuf::Timestamp& t) {
  return absl::FormatTime("%Y-%m-%d %H:%M", absl::FromUnixSeconds(t.seconds()), VietnamTimeZone());
}

std::string TimeText(const google::protobuf::Timestamp& t) {
  if (t.seconds() == 0 && t.nanos() == 0) return "";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", absl::FromUnixSeconds(t.seconds()), VietnamTimeZone());
}

std::string LevelText(int level) { return std::string(AgencyLevelName(static_cast<AgencyLevel>(level))); }

std::string RoleText(int role) { return std::string(RoleName(static_cast<Role>(role))); }

std::string EnumText(const google::protobuf::EnumDescriptor* d, int value, const std::string& prefix) {
  const auto* v = d->FindValueByNumber(value);
  if (!v) return absl::StrCat(value);
  std::string name = v->name();
  if (name.rfind(prefix, 0) == 0) name = name.substr(prefix.size());
  return absl::AsciiStrToLower(name);
}

std::string NumberText(double x) {
  if (std::isfinite(x) && x == std::floor(x) && std::fabs(x) < 1e15) return absl::StrFormat("%.0f", x);
  return absl::StrFormat("%.2f", x);
}

std::string RawNumber(double x) { return absl::StrFormat("%.12g", x); }

std::string PercentText(double rate) { return absl::StrFormat("%.2f%%", 100 * rate); }

std::string PeriodText(const v1::DateRange& range) {
  auto start = DateFromProto(range.start(), "start");
  auto end = DateFromProto(range.end(), "end");
  if (!start.ok() || !end.ok()) return "?";
  const Date s = *start, e = *end;
  const absl::CivilMonth month(s);
  if (s.day() == 1 && s.month() == 1 && e == Date(absl::CivilYear(s) + 1)) return absl::StrCat(s.year());
  if (s.day() == 1 && (s.month() - 1) % 3 == 0 && e == Date(month + 3)) {
    return absl::StrCat(s.year(), "-Q", (s.month() - 1) / 3 + 1);
  }
  if (s.day() == 1 && e == Date(month + 1)) return absl::FormatCivilTime(month);
  if (e == s + 1) return FormatDate(s);
  return absl::StrCat(FormatDate(s), " to ", FormatDate(e - 1));
}

std::string ScopeText(const v1::Scope& scope, const v1::DateRange& period) {
  return absl::StrCat(
      scope.agency_code(), scope.tree_view() == v1::TREE_VIEW_AS_FILED ? " (as filed)" : " (today's tree)", ", ",
      PeriodText(period), " [", DateText(period.start(), true), ", ", DateText(period.end(), true), ")");
}

}  // namespace pstrack::cli
