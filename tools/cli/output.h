// How the CLI prints: the output a command was asked for (table, CSV, JSON),
// and the text of dates, instants, numbers, periods and enums in its tables.
#ifndef PSTRACK_TOOLS_CLI_OUTPUT_H_
#define PSTRACK_TOOLS_CLI_OUTPUT_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/timestamp.pb.h"
#include "pstrack/v1/common.pb.h"
#include "pstrack/v1/metrics.pb.h"
#include "tools/cli/table.h"

namespace pstrack::cli {

// -o table|csv|json|xlsx (--json and --csv are short for two of them).
enum class Output { kTable, kCsv, kJson, kXlsx };

// Whether tables hold unformatted values (CSV and XLSX): numbers with every
// digit, rates as ratios, no summary lines around them.
inline bool Raw(Output output) { return output == Output::kCsv || output == Output::kXlsx; }

// The formats a command prints besides its table.
enum class Formats {
  kTableOnly,  // none (imports print a summary)
  kJson,       // --json
  kJsonCsv,    // -o table|csv|json|xlsx (--json, --csv)
};

// A value that is not available prints as this, with its reason, and never
// as 0; its numerator and denominator are left blank for the same reason.
inline constexpr char kNotAvailable[] = "n/a";

// The message as indented JSON with the proto's field names.
absl::Status PrintJson(std::ostream& out, const google::protobuf::Message& message);

// `t` as a table, as CSV for Output::kCsv, or as an XLSX workbook for
// Output::kXlsx (t built Raw: numbers in columns whose cells are all
// numbers, identifiers (code, id, key) excepted; a "value" cell of a row
// whose "unit" is "ratio", and cells of columns named like "*rate*", as
// percentages).
absl::Status PrintTable(std::ostream& out, const Table& t, Output output);

// `a` followed by `b`.
std::vector<std::string> Cat(std::vector<std::string> a, const std::vector<std::string>& b);

// "2025-07-01"; "" when `has` is false, "?" for a date that is not one.
std::string DateText(const v1::Date& d, bool has);
// "2025-07-01 09:30", in Vietnam's time.
std::string InstantText(const google::protobuf::Timestamp& t);
// "2025-07-01 09:30:05", in Vietnam's time; "" for the zero timestamp.
std::string TimeText(const google::protobuf::Timestamp& t);
std::string LevelText(int level);  // "province"
std::string RoleText(int role);    // "centre"
// The enum value's name without `prefix`, lower-cased: "on_time" for
// TIMELINESS_ON_TIME.
std::string EnumText(const google::protobuf::EnumDescriptor* d, int value, const std::string& prefix);

// Whole numbers print without decimals, others with two.
std::string NumberText(double x);
// Unformatted, for CSV: enough digits to recompute a rate.
std::string RawNumber(double x);
std::string PercentText(double rate);  // "12.50%"

// A period as people say it: "2025", "2025-Q3", "2025-07", "2025-07-15", or
// "2025-07-10 to 2025-08-31" (both days included).
std::string PeriodText(const v1::DateRange& range);
// "P22 (today's tree), 2025 [2025-01-01, 2026-01-01)".
std::string ScopeText(const v1::Scope& scope, const v1::DateRange& period);

}  // namespace pstrack::cli

#endif  // PSTRACK_TOOLS_CLI_OUTPUT_H_
