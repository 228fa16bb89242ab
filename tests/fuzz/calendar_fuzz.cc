// Calendar files (data/calendar/YYYY.csv): no crash; a calendar that loads
// answers working-day questions about its year.
#include <map>

#include "services/calendar/working_calendar.h"
#include "tests/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pstrack;
  auto calendar = WorkingCalendar::FromFiles({{"2025.csv", std::string(fuzz::Text(data, size))}});
  if (!calendar.ok()) return 0;
  const Date start{2025, 1, 1};
  const Date next = calendar->AddWorkingDays(start, 30);
  PSTRACK_FUZZ_CHECK(calendar->IsWorkingDay(next));
  return 0;
}
