// CSV (services/common/csv.h), under every CSV the project reads: no crash,
// and what parses comes back field for field after being written out again
// (every field quoted).
#include "absl/strings/str_replace.h"
#include "services/common/csv.h"
#include "tests/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pstrack;
  auto records = ParseCsv(fuzz::Text(data, size));
  if (!records.ok()) return 0;
  std::string again;
  for (const CsvRecord& r : *records) {
    for (size_t i = 0; i < r.fields.size(); ++i) {
      again += (i ? ",\"" : "\"") + absl::StrReplaceAll(r.fields[i], {{"\"", "\"\""}}) + "\"";
    }
    again += "\n";
  }
  auto reparsed = ParseCsv(again);
  PSTRACK_FUZZ_CHECK(reparsed.ok());
  PSTRACK_FUZZ_CHECK(reparsed->size() == records->size());
  for (size_t k = 0; k < records->size(); ++k) PSTRACK_FUZZ_CHECK((*reparsed)[k].fields == (*records)[k].fields);
  (void)CsvTable::Parse(fuzz::Text(data, size), {"a", "b"});
  return 0;
}
