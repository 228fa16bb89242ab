// Periodic-report CSV files (`pstrack report submit`): the CLI's rows into
// PeriodicReport messages, then the server's translation of each: no crash.
#include "services/api/reporting_service.h"
#include "services/common/csv.h"
#include "tests/fuzz/fuzz_target.h"
#include "tools/cli/inputs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pstrack;
  auto table = CsvTable::Parse(fuzz::Text(data, size), cli::ReportColumns());
  if (!table.ok()) return 0;
  for (const CsvTable::Row& row : table->Rows()) {
    auto report = cli::ReportFromRow(*table, row);
    if (report.ok()) (void)ReportFromProto(*report);
    (void)cli::ExternalInputFromRow(row);
  }
  return 0;
}
