// Reading the files the CLI sends: filing events (JSON lines or CSV), and the
// rows of external-input and periodic-report CSV files.
#ifndef PSTRACK_TOOLS_CLI_INPUTS_H_
#define PSTRACK_TOOLS_CLI_INPUTS_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "pstrack/v1/filing.pb.h"
#include "pstrack/v1/metrics.pb.h"
#include "pstrack/v1/reporting.pb.h"
#include "services/common/csv.h"

namespace pstrack::cli {

// The whole file, or "cannot read 'PATH'".
absl::StatusOr<std::string> ReadFile(const std::string& path);
// A data file a command reads: `path`, or standard input for "-". A CSV
// separated by ';' (Excel's in a Vietnamese locale) is read as such (and
// `notes` says so), converted to the ','-separated form, lines kept.
absl::StatusOr<std::string> ReadInput(const std::string& path, std::ostream& notes);

struct ParsedEvent {
  int line = 0;
  v1::FilingEvent event;
};

// The events of `text`: CSV when `path` ends in ".csv", else JSON lines (one
// FilingEvent per line, proto JSON; blank lines skipped). A bad line is
// printed to `out` ("line N: why") and counted in `*rejected`; fails only
// when the CSV as a whole cannot be read.
absl::StatusOr<std::vector<ParsedEvent>> ParseEvents(const std::string& path, const std::string& text,
                                                     std::ostream& out, int* rejected);

// The columns `external submit` needs.
const std::vector<std::string>& ExternalInputColumns();
// One row of an external-input file; an empty number is 0 (a ratio leaves
// `value` empty, a plain value leaves numerator and denominator empty).
absl::StatusOr<v1::ExternalInput> ExternalInputFromRow(const CsvTable::Row& row);

// The columns `report submit` needs.
const std::vector<std::string>& ReportColumns();
// One row of a periodic-report file whose header names PeriodicReport
// fields; an empty cell leaves a figure unreported (not 0).
absl::StatusOr<v1::PeriodicReport> ReportFromRow(const CsvTable& table, const CsvTable::Row& row);

}  // namespace pstrack::cli

#endif  // PSTRACK_TOOLS_CLI_INPUTS_H_
