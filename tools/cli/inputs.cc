#include "tools/cli/inputs.h"

#include <algorithm>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/common/csv.h"
#include "google/protobuf/util/json_util.h"
#include "services/api/convert.h"
#include "services/api/filing_convert.h"
#include "services/common/dates.h"
#include "services/common/status.h"
#include "services/lifecycle/event_csv.h"

namespace pstrack::cli {
namespace {

std::vector<ParsedEvent> ParseJsonLines(const std::string& text, std::ostream& out, int* rejected) {
  std::vector<ParsedEvent> events;
  std::istringstream in(text);
  std::string line;
  google::protobuf::util::JsonParseOptions options;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    ParsedEvent p;
    p.line = n;
    auto status = google::protobuf::util::JsonStringToMessage(line, &p.event, options);
    if (!status.ok()) {
      std::string why(status.message());
      std::replace(why.begin(), why.end(), '\n', ' ');
      out << "line " << n << ": not a FilingEvent in JSON: " << why << "\n";
      ++*rejected;
      continue;
    }
    events.push_back(std::move(p));
  }
  return events;
}

absl::StatusOr<double> Number(const CsvTable::Row& row, const char* column) {
  const std::string text(absl::StripAsciiWhitespace(row.Get(column)));
  double out = 0;
  if (!text.empty() && !absl::SimpleAtod(text, &out)) {
    return absl::InvalidArgumentError(absl::StrCat(column, ": '", text, "' is not a number"));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read '", path, "'"));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

absl::StatusOr<std::string> ReadInput(const std::string& path, std::ostream& notes) {
  std::string text;
  if (path == "-") {
    std::ostringstream s;
    s << std::cin.rdbuf();
    if (std::cin.bad()) return absl::DataLossError("cannot read standard input");
    text = s.str();
  } else {
    PSTRACK_ASSIGN_OR_RETURN(text, ReadFile(path));
  }
  // A header line with ';' and no ',' is a ';'-separated CSV (Excel's
  // "CSV" in a Vietnamese locale): read it, and say so.
  absl::string_view body(text);
  if (absl::StartsWith(body, "\xEF\xBB\xBF")) body.remove_prefix(3);
  const absl::string_view header = body.substr(0, body.find('\n'));
  if (!absl::StartsWith(absl::StripLeadingAsciiWhitespace(body), "{") && absl::StrContains(header, ';') &&
      !absl::StrContains(header, ',')) {
    PSTRACK_ASSIGN_OR_RETURN(std::vector<CsvRecord> records, ParseCsv(body, ';'));
    std::string converted;
    int line = 1;
    for (const CsvRecord& r : records) {
      // Keep line numbers: the empty lines the parser skipped come back.
      for (; line < r.line; ++line) converted += "\n";
      std::vector<std::string> fields;
      for (const std::string& f : r.fields) fields.push_back(CsvEscape(f));
      converted += absl::StrJoin(fields, ",");
      converted += "\n";
      ++line;
      for (const std::string& f : r.fields) line += static_cast<int>(std::count(f.begin(), f.end(), '\n'));
    }
    notes << "pstrack: " << (path == "-" ? std::string("standard input") : path)
          << " is separated by ';' (Excel's CSV in a Vietnamese locale): read as such\n";
    return converted;
  }
  return text;
}

absl::StatusOr<std::vector<ParsedEvent>> ParseEvents(const std::string& path, const std::string& text,
                                                     std::ostream& out, int* rejected) {
  // By the name's extension; standard input ("-") by its first character.
  const bool csv = path == "-" ? !absl::StartsWith(absl::StripLeadingAsciiWhitespace(text), "{")
                               : path.size() >= 4 && path.substr(path.size() - 4) == ".csv";
  if (!csv) return ParseJsonLines(text, out, rejected);
  PSTRACK_ASSIGN_OR_RETURN(std::vector<EventCsvRow> rows, ParseEventCsv(text));
  std::vector<ParsedEvent> events;
  for (auto& row : rows) {
    if (!row.event.ok()) {
      out << "line " << row.line << ": " << row.event.status().message() << "\n";
      ++*rejected;
      continue;
    }
    ParsedEvent p;
    p.line = row.line;
    FilingEventToProto(*row.event, &p.event);
    events.push_back(std::move(p));
  }
  return events;
}

const std::vector<std::string>& ExternalInputColumns() {
  static const auto* kColumns = new std::vector<std::string>{"input_id",  "agency_code", "indicator_id", "start", "end",
                                                             "numerator", "denominator", "value",        "source"};
  return *kColumns;
}

absl::StatusOr<v1::ExternalInput> ExternalInputFromRow(const CsvTable::Row& row) {
  v1::ExternalInput in;
  in.set_input_id(std::string(row.Get("input_id")));
  in.set_agency_code(std::string(row.Get("agency_code")));
  in.set_indicator_id(std::string(row.Get("indicator_id")));
  PSTRACK_ASSIGN_OR_RETURN(Date start, ParseDate(row.Get("start"), "start"));
  PSTRACK_ASSIGN_OR_RETURN(Date end, ParseDate(row.Get("end"), "end"));
  DateToProto(start, in.mutable_period()->mutable_start());
  DateToProto(end, in.mutable_period()->mutable_end());
  PSTRACK_ASSIGN_OR_RETURN(double numerator, Number(row, "numerator"));
  PSTRACK_ASSIGN_OR_RETURN(double denominator, Number(row, "denominator"));
  PSTRACK_ASSIGN_OR_RETURN(double value, Number(row, "value"));
  in.set_numerator(numerator);
  in.set_denominator(denominator);
  in.set_value(value);
  in.set_source(std::string(row.Get("source")));
  return in;
}

const std::vector<std::string>& ReportColumns() {
  static const auto* kColumns =
      new std::vector<std::string>{"report_id", "agency_code", "period", "received", "finished"};
  return *kColumns;
}

absl::StatusOr<v1::PeriodicReport> ReportFromRow(const CsvTable& table, const CsvTable::Row& row) {
  static const std::set<std::string> kText = {"report_id", "agency_code", "procedure_code",
                                              "field",     "period",      "source"};
  const google::protobuf::Descriptor* d = v1::PeriodicReport::descriptor();
  const google::protobuf::Reflection* reflection = v1::PeriodicReport::GetReflection();
  v1::PeriodicReport report;
  for (const std::string& column : table.header()) {
    const google::protobuf::FieldDescriptor* f = d->FindFieldByName(column);
    const std::string cell(absl::StripAsciiWhitespace(row.Get(column)));
    // Fields from 30 on are the server's (revision, recorded_at, ...).
    if (f == nullptr || f->number() >= 30) {
      return absl::InvalidArgumentError(
          absl::StrCat(column, ": not a report column (see docs/api.md, PeriodicReport)"));
    }
    if (kText.contains(column)) {
      reflection->SetString(&report, f, cell);
      continue;
    }
    if (cell.empty()) continue;  // not reported
    int64_t n = 0;
    if (!absl::SimpleAtoi(cell, &n)) {
      return absl::InvalidArgumentError(absl::StrCat(column, ": '", cell, "' is not a whole number"));
    }
    reflection->SetInt64(&report, f, n);
  }
  return report;
}

}  // namespace pstrack::cli
