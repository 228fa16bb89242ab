// Short strings from requests: period labels and page tokens. No crash; a
// label that parses is a valid period or refused by ValidatePeriod with a
// reason; a page token round-trips its key and is refused for other
// filters.
#include "services/common/page_token.h"
#include "services/metrics/period.h"
#include "tests/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pstrack;
  const absl::string_view text = fuzz::Text(data, size);
  auto period = ParsePeriodLabel(text, "period.label");
  if (period.ok()) PSTRACK_FUZZ_CHECK(!(period->end < period->start));
  (void)DecodePageToken(text, FilterFingerprint("a=1"));
  const std::string token = EncodePageToken(FilterFingerprint("a=1"), text);
  auto key = DecodePageToken(token, FilterFingerprint("a=1"));
  PSTRACK_FUZZ_CHECK(key.ok() && *key == text);
  PSTRACK_FUZZ_CHECK(!DecodePageToken(token, FilterFingerprint("a=2")).ok());
  return 0;
}
