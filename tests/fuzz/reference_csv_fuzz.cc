// Agency and procedure CSV files (--agencies, --procedures, `pstrack agency
// import`, `pstrack procedure import`): no crash.
#include "services/agencies/agency_csv.h"
#include "services/catalog/procedure_csv.h"
#include "tests/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pstrack;
  (void)ParseAgencyCsv(fuzz::Text(data, size));
  (void)ParseProcedureCsv(fuzz::Text(data, size));
  return 0;
}
