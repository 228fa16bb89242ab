// Vietnamese lunar calendar (âm lịch): conversion between solar (Gregorian)
// and lunar dates, computed astronomically for Vietnam's time zone (UTC+7),
// for the holidays that follow the lunar calendar (Tết, Hùng Kings day).
// Pure functions; thread-safe.
#ifndef PSTRACK_SERVICES_CALENDAR_LUNAR_H_
#define PSTRACK_SERVICES_CALENDAR_LUNAR_H_

#include "absl/status/statusor.h"
#include "services/common/dates.h"

namespace pstrack {

struct LunarDate {
  int year = 0;   // the lunar year, numbered as the solar year in which it mostly falls
  int month = 0;  // 1..12
  int day = 0;    // 1..30
  bool leap_month = false;  // tháng nhuận
  bool operator==(const LunarDate&) const = default;
};

// Valid for solar years 1900..2199.
LunarDate SolarToLunar(Date solar);
// INVALID_ARGUMENT if the lunar date does not exist (e.g. day 30 of a
// 29-day month, or a leap month that year does not have).
absl::StatusOr<Date> LunarToSolar(const LunarDate& lunar);

// First day of the lunar year that starts in solar year `year` (mùng 1 Tết).
Date LunarNewYear(int year);
// Last day of the previous lunar year (the day before LunarNewYear(year)).
Date LunarNewYearEve(int year);

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_CALENDAR_LUNAR_H_
