#include "services/common/dates.h"

#include "absl/time/clock.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "services/common/status.h"

namespace pstrack {

absl::StatusOr<Date> MakeDate(int year, int month, int day, absl::string_view field) {
  if (year < kMinYear || year > kMaxYear) {
    return InvalidField(field, absl::StrFormat("year %d is out of range %d..%d", year, kMinYear, kMaxYear));
  }
  if (month < 1 || month > 12) return InvalidField(field, absl::StrFormat("month %d is not 1..12", month));
  Date d(year, month, day);
  if (day < 1 || d.year() != year || d.month() != month || d.day() != day) {
    return InvalidField(field, absl::StrFormat("%04d-%02d-%02d is not a calendar date", year, month, day));
  }
  return d;
}

absl::StatusOr<Date> ParseDate(absl::string_view text, absl::string_view field) {
  text = absl::StripAsciiWhitespace(text);
  auto bad = [&] {
    return InvalidField(field, absl::StrCat("'", text, "' is not a date of the form YYYY-MM-DD"));
  };
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return bad();
  int y, m, d;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) return bad();
  }
  if (!absl::SimpleAtoi(text.substr(0, 4), &y) || !absl::SimpleAtoi(text.substr(5, 2), &m) ||
      !absl::SimpleAtoi(text.substr(8, 2), &d)) {
    return bad();
  }
  return MakeDate(y, m, d, field);
}

absl::StatusOr<OptionalDate> ParseOptionalDate(absl::string_view text, absl::string_view field) {
  if (absl::StripAsciiWhitespace(text).empty()) return OptionalDate();
  PSTRACK_ASSIGN_OR_RETURN(Date d, ParseDate(text, field));
  return OptionalDate(d);
}

std::string FormatDate(Date d) {
  return absl::StrFormat("%04d-%02d-%02d", d.year(), d.month(), d.day());
}

std::string FormatOptionalDate(const OptionalDate& d) { return d ? FormatDate(*d) : std::string(); }

absl::Time NowForStorage() { return absl::FromUnixMicros(absl::ToUnixMicros(absl::Now())); }

// Vietnam has kept UTC+7 without daylight saving since 1975; the tz database
// differs before that (UTC+8 in the south), which would make conversions of
// old dates depend on the machine. Dossier data is recent: use the fixed zone.
absl::TimeZone VietnamTimeZone() {
  static const absl::TimeZone tz = absl::FixedTimeZone(7 * 3600);
  return tz;
}

Date LocalDay(absl::Time t) { return Date(absl::ToCivilDay(t, VietnamTimeZone())); }
absl::Time StartOfDay(Date d) { return absl::FromCivil(absl::CivilSecond(d), VietnamTimeZone()); }
Date Today() { return LocalDay(absl::Now()); }

}  // namespace pstrack
