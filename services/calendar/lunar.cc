#include "services/calendar/lunar.h"

#include <cmath>
#include <numbers>

#include "absl/strings/str_format.h"
#include "services/common/status.h"

// Hồ Ngọc Đức's algorithm, the one Vietnamese calendars are printed from: a
// lunar month starts on the local day (UTC+7) of a new moon; month 11 is the
// one containing the winter solstice; a lunar year with 13 new moons between
// two months 11 repeats the first month that contains no major solar term
// (trung khí). New moons and sun longitudes come from Meeus-style series that
// are accurate to minutes over 1900..2199, which is what decides the day.
// Because the zone is UTC+7, not China's UTC+8, a few years differ from the
// Chinese calendar (Tết 1985 and 2007, for example).

namespace pstrack {
namespace {

constexpr double kPi = std::numbers::pi;
constexpr double kTimeZoneHours = 7.0;
constexpr double kSynodicMonth = 29.530588853;
// Julian day of the new moon of 1900-01-01, the origin of the new moon index.
constexpr double kNewMoonEpoch = 2415021.076998695;
const Date kUnixEpochDay(1970, 1, 1);
constexpr long kUnixEpochJulianDay = 2440588;

long JulianDay(Date d) { return kUnixEpochJulianDay + static_cast<long>(d - kUnixEpochDay); }
Date FromJulianDay(long jd) { return kUnixEpochDay + (jd - kUnixEpochJulianDay); }

long Floor(double x) { return static_cast<long>(std::floor(x)); }

// Julian day (fractional, UT) of the k-th new moon after 1900-01-01.
double NewMoon(long k) {
  const double t = static_cast<double>(k) / 1236.85;
  const double t2 = t * t;
  const double t3 = t2 * t;
  const double dr = kPi / 180;
  double jd1 = 2415020.75933 + 29.53058868 * static_cast<double>(k) + 0.0001178 * t2 - 0.000000155 * t3;
  jd1 += 0.00033 * std::sin((166.56 + 132.87 * t - 0.009173 * t2) * dr);
  const double m = 359.2242 + 29.10535608 * static_cast<double>(k) - 0.0000333 * t2 - 0.00000347 * t3;
  const double mpr = 306.0253 + 385.81691806 * static_cast<double>(k) + 0.0107306 * t2 + 0.00001236 * t3;
  const double f = 21.2964 + 390.67050646 * static_cast<double>(k) - 0.0016528 * t2 - 0.00000239 * t3;
  double c1 = (0.1734 - 0.000393 * t) * std::sin(m * dr) + 0.0021 * std::sin(2 * dr * m);
  c1 = c1 - 0.4068 * std::sin(mpr * dr) + 0.0161 * std::sin(dr * 2 * mpr);
  c1 = c1 - 0.0004 * std::sin(dr * 3 * mpr);
  c1 = c1 + 0.0104 * std::sin(dr * 2 * f) - 0.0051 * std::sin(dr * (m + mpr));
  c1 = c1 - 0.0074 * std::sin(dr * (m - mpr)) + 0.0004 * std::sin(dr * (2 * f + m));
  c1 = c1 - 0.0004 * std::sin(dr * (2 * f - m)) - 0.0006 * std::sin(dr * (2 * f + mpr));
  c1 = c1 + 0.0010 * std::sin(dr * (2 * f - mpr)) + 0.0005 * std::sin(dr * (2 * mpr + m));
  double delta_t;  // ΔT, in days
  if (t < -11) {
    delta_t = 0.001 + 0.000839 * t + 0.0002261 * t2 - 0.00000845 * t3 - 0.000000081 * t * t3;
  } else {
    delta_t = -0.000278 + 0.000265 * t + 0.000262 * t2;
  }
  return jd1 + c1 - delta_t;
}

// Sun's apparent longitude, in radians [0, 2π), at Julian day `jdn` (UT).
double SunLongitude(double jdn) {
  const double t = (jdn - 2451545.0) / 36525;
  const double t2 = t * t;
  const double dr = kPi / 180;
  const double m = 357.52910 + 35999.05030 * t - 0.0001559 * t2 - 0.00000048 * t * t2;
  const double l0 = 280.46645 + 36000.76983 * t + 0.0003032 * t2;
  double dl = (1.914600 - 0.004817 * t - 0.000014 * t2) * std::sin(dr * m);
  dl += (0.019993 - 0.000101 * t) * std::sin(dr * 2 * m) + 0.000290 * std::sin(dr * 3 * m);
  double l = (l0 + dl) * dr;
  l -= kPi * 2 * std::floor(l / (kPi * 2));
  return l;
}

// Local day (Julian day number) of the k-th new moon.
long NewMoonDay(long k) { return Floor(NewMoon(k) + 0.5 + kTimeZoneHours / 24); }

// Index of the last new moon whose local day is on or before `day`. The
// mean-month estimate can be one off either way, as true new moons wander
// around the mean by more than half a day.
long NewMoonOnOrBefore(long day) {
  long k = Floor((static_cast<double>(day) - kNewMoonEpoch) / kSynodicMonth);
  while (NewMoonDay(k) > day) --k;
  while (NewMoonDay(k + 1) <= day) ++k;
  return k;
}

// Which of the 12 major solar-term sectors (30° each, 0 = spring equinox) the
// sun is in at the start of local day `day`.
int SunSector(long day) {
  return static_cast<int>(Floor(SunLongitude(static_cast<double>(day) - 0.5 - kTimeZoneHours / 24) / kPi * 6));
}

// First day of lunar month 11 of the lunar year that ends in solar year `year`
// (the month containing the winter solstice of `year`).
long LunarMonth11(int year) {
  const long k = NewMoonOnOrBefore(JulianDay(Date(year, 12, 31)));
  long nm = NewMoonDay(k);
  if (SunSector(nm) >= 9) nm = NewMoonDay(k - 1);
  return nm;
}

// In a 13-month year starting at month 11 `a11`, the offset (from month 11) of
// the leap month: the first month whose sun sector does not change.
int LeapMonthOffset(long a11) {
  const long k = Floor((static_cast<double>(a11) - kNewMoonEpoch) / kSynodicMonth + 0.5);
  int i = 1;
  int arc = SunSector(NewMoonDay(k + i));
  int last;
  do {
    last = arc;
    ++i;
    arc = SunSector(NewMoonDay(k + i));
  } while (arc != last && i < 14);
  return i - 1;
}

struct LunarMonthStart {
  long first_day = 0;  // Julian day number
  long next_first_day = 0;
  bool exists = false;
};

// Locates a lunar month without range checks on the year.
LunarMonthStart FindLunarMonth(int year, int month, bool leap) {
  long a11, b11;
  if (month < 11) {
    a11 = LunarMonth11(year - 1);
    b11 = LunarMonth11(year);
  } else {
    a11 = LunarMonth11(year);
    b11 = LunarMonth11(year + 1);
  }
  const long k = Floor(0.5 + (static_cast<double>(a11) - kNewMoonEpoch) / kSynodicMonth);
  int off = month - 11;
  if (off < 0) off += 12;
  if (b11 - a11 > 365) {
    const int leap_off = LeapMonthOffset(a11);
    int leap_month = leap_off - 2;
    if (leap_month <= 0) leap_month += 12;
    if (leap && month != leap_month) return {};
    if (leap || off >= leap_off) off += 1;
  } else if (leap) {
    return {};
  }
  return {NewMoonDay(k + off), NewMoonDay(k + off + 1), true};
}

}  // namespace

LunarDate SolarToLunar(Date solar) {
  const long day_number = JulianDay(solar);
  const int yy = static_cast<int>(solar.year());
  const long month_start = NewMoonDay(NewMoonOnOrBefore(day_number));
  long a11 = LunarMonth11(yy);
  long b11 = a11;
  LunarDate out;
  if (a11 >= month_start) {
    out.year = yy;
    a11 = LunarMonth11(yy - 1);
  } else {
    out.year = yy + 1;
    b11 = LunarMonth11(yy + 1);
  }
  out.day = static_cast<int>(day_number - month_start + 1);
  const int diff = static_cast<int>(Floor(static_cast<double>(month_start - a11) / 29));
  out.month = diff + 11;
  if (b11 - a11 > 365) {
    const int leap_diff = LeapMonthOffset(a11);
    if (diff >= leap_diff) {
      out.month = diff + 10;
      out.leap_month = diff == leap_diff;
    }
  }
  if (out.month > 12) out.month -= 12;
  if (out.month >= 11 && diff < 4) out.year -= 1;
  return out;
}

absl::StatusOr<Date> LunarToSolar(const LunarDate& lunar) {
  if (lunar.year < 1900 || lunar.year > 2199) {
    return InvalidField("lunar.year", absl::StrFormat("%d is outside the supported range 1900..2199", lunar.year));
  }
  if (lunar.month < 1 || lunar.month > 12) {
    return InvalidField("lunar.month", absl::StrFormat("%d is not 1..12", lunar.month));
  }
  const LunarMonthStart m = FindLunarMonth(lunar.year, lunar.month, lunar.leap_month);
  if (!m.exists) {
    return InvalidField("lunar.leap_month",
                        absl::StrFormat("lunar year %d has no leap month %d", lunar.year, lunar.month));
  }
  const long length = m.next_first_day - m.first_day;
  if (lunar.day < 1 || lunar.day > length) {
    return InvalidField("lunar.day", absl::StrFormat("%d is not 1..%d: lunar month %d%s of %d has %d days",
                                                     lunar.day, length, lunar.month,
                                                     lunar.leap_month ? " (leap)" : "", lunar.year, length));
  }
  return FromJulianDay(m.first_day + lunar.day - 1);
}

Date LunarNewYear(int year) { return FromJulianDay(FindLunarMonth(year, 1, false).first_day); }

Date LunarNewYearEve(int year) { return LunarNewYear(year) - 1; }

}  // namespace pstrack
