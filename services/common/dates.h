// Calendar dates as absl::CivilDay: parsing and printing the ISO form
// "YYYY-MM-DD" used in files, SQL and the CLI. Pure functions.
#ifndef PSTRACK_SERVICES_COMMON_DATES_H_
#define PSTRACK_SERVICES_COMMON_DATES_H_

#include <optional>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace pstrack {

using Date = absl::CivilDay;
using OptionalDate = std::optional<absl::CivilDay>;

inline constexpr int kMinYear = 1900;
inline constexpr int kMaxYear = 9999;

// Parses "YYYY-MM-DD" strictly (no normalisation: 2025-02-30 is an error).
// `field` names the field in the error message.
absl::StatusOr<Date> ParseDate(absl::string_view text, absl::string_view field);
// Empty text gives std::nullopt.
absl::StatusOr<OptionalDate> ParseOptionalDate(absl::string_view text, absl::string_view field);
// Checks y/m/d are a real date within [kMinYear, kMaxYear].
absl::StatusOr<Date> MakeDate(int year, int month, int day, absl::string_view field);

std::string FormatDate(Date d);
std::string FormatOptionalDate(const OptionalDate& d);  // "" when absent

// The current time at the precision the database keeps (microseconds), so a
// value returned by a write equals the one read back later.
absl::Time NowForStorage();

// Vietnam's time zone: fixed UTC+7 (no daylight saving since 1975).
absl::TimeZone VietnamTimeZone();
// The local (Vietnam) day of an instant; the instant a local day begins;
// today, locally.
Date LocalDay(absl::Time t);
absl::Time StartOfDay(Date d);
Date Today();

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_COMMON_DATES_H_
