// Methodology files (data/methodologies): no crash; a refusal names the
// file.
#include "absl/strings/match.h"
#include "services/figures/indicators.h"
#include "services/metrics/methodology.h"
#include "tests/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pstrack;
  static const std::vector<std::string> builtins = BuiltinIndicatorIds();
  auto parsed = ParseMethodology("fuzz.txt", fuzz::Text(data, size), builtins);
  if (!parsed.ok()) PSTRACK_FUZZ_CHECK(absl::StrContains(parsed.status().message(), "fuzz.txt"));
  return 0;
}
