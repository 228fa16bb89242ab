// Filing events from CSV (`pstrack event send`): no crash; every event a
// row yields survives the storage encoding (EncodeEvent/DecodeEvent).
#include "services/lifecycle/event.h"
#include "services/lifecycle/event_csv.h"
#include "tests/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pstrack;
  auto rows = ParseEventCsv(fuzz::Text(data, size));
  if (!rows.ok()) return 0;
  for (const EventCsvRow& row : *rows) {
    if (!row.event.ok()) continue;
    const std::string encoded = EncodeEvent(*row.event);
    auto decoded = DecodeEvent(encoded);
    PSTRACK_FUZZ_CHECK(decoded.ok());
    PSTRACK_FUZZ_CHECK(EncodeEvent(*decoded) == encoded);
  }
  (void)DecodeEvent(fuzz::Text(data, size));  // a stored event's text, as read back
  (void)ParseInstant(fuzz::Text(data, size), "occurred_at");
  return 0;
}
