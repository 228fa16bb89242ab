// Tests for ISO date parsing and printing, and Vietnam's time zone.
#include "services/common/dates.h"

#include "absl/strings/match.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace pstrack {
namespace {

TEST(ParseDate, ValidDate) {
  auto d = ParseDate("2025-07-01", "valid_from");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(*d, Date(2025, 7, 1));
}

TEST(ParseDate, LeapDayInLeapYear) {
  auto d = ParseDate("2024-02-29", "valid_from");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(*d, Date(2024, 2, 29));
}

TEST(ParseDate, LeapDayInCommonYearIsRejected) {
  auto d = ParseDate("2025-02-29", "valid_from");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(d.status().message(), "not a calendar date")) << d.status();
}

TEST(ParseDate, DayPastMonthEndIsNotNormalised) {
  EXPECT_FALSE(ParseDate("2025-04-31", "d").ok());
  EXPECT_FALSE(ParseDate("2025-01-32", "d").ok());
  EXPECT_FALSE(ParseDate("2025-01-00", "d").ok());
}

TEST(ParseDate, MonthOutOfRange) {
  EXPECT_FALSE(ParseDate("2025-13-01", "d").ok());
  EXPECT_FALSE(ParseDate("2025-00-01", "d").ok());
}

TEST(ParseDate, UnpaddedMonthIsRejected) {
  auto d = ParseDate("2025-1-01", "valid_from");
  ASSERT_FALSE(d.ok());
  EXPECT_TRUE(absl::StrContains(d.status().message(), "YYYY-MM-DD")) << d.status();
}

TEST(ParseDate, OtherShapesAreRejected) {
  EXPECT_FALSE(ParseDate("2025/07/01", "d").ok());
  EXPECT_FALSE(ParseDate("01-07-2025", "d").ok());
  EXPECT_FALSE(ParseDate("2025-07-1x", "d").ok());
  EXPECT_FALSE(ParseDate("+025-07-01", "d").ok());
  EXPECT_FALSE(ParseDate("2025-07-01T00:00", "d").ok());
  EXPECT_FALSE(ParseDate("", "d").ok());
}

TEST(ParseDate, SurroundingWhitespaceIsTrimmed) {
  auto d = ParseDate("  2025-07-01\t\n", "valid_from");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(*d, Date(2025, 7, 1));
}

TEST(ParseDate, YearOutOfRange) {
  auto low = ParseDate("1899-12-31", "valid_from");
  ASSERT_FALSE(low.ok());
  EXPECT_TRUE(absl::StrContains(low.status().message(), "out of range")) << low.status();
  EXPECT_FALSE(ParseDate("0000-01-01", "valid_from").ok());
  EXPECT_TRUE(ParseDate("1900-01-01", "valid_from").ok());
  EXPECT_TRUE(ParseDate("9999-12-31", "valid_from").ok());
}

TEST(ParseDate, ErrorNamesTheField) {
  auto d = ParseDate("soon", "agency.valid_until");
  ASSERT_FALSE(d.ok());
  EXPECT_TRUE(absl::StartsWith(d.status().message(), "agency.valid_until: ")) << d.status();
  EXPECT_TRUE(absl::StrContains(d.status().message(), "'soon'")) << d.status();
}

TEST(ParseOptionalDate, EmptyIsAbsent) {
  auto d = ParseOptionalDate("", "valid_until");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_FALSE(d->has_value());
}

TEST(ParseOptionalDate, BlankIsAbsent) {
  auto d = ParseOptionalDate("   ", "valid_until");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_FALSE(d->has_value());
}

TEST(ParseOptionalDate, PresentDate) {
  auto d = ParseOptionalDate("2025-03-01", "valid_until");
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_TRUE(d->has_value());
  EXPECT_EQ(**d, Date(2025, 3, 1));
}

TEST(ParseOptionalDate, BadDateIsAnErrorNamingTheField) {
  auto d = ParseOptionalDate("2025-02-30", "valid_until");
  ASSERT_FALSE(d.ok());
  EXPECT_TRUE(absl::StartsWith(d.status().message(), "valid_until: ")) << d.status();
}

TEST(MakeDate, ChecksTheCalendar) {
  EXPECT_TRUE(MakeDate(2024, 2, 29, "d").ok());
  EXPECT_FALSE(MakeDate(2025, 2, 29, "d").ok());
  EXPECT_FALSE(MakeDate(2025, 6, 31, "d").ok());
  EXPECT_FALSE(MakeDate(10000, 1, 1, "d").ok());
  EXPECT_FALSE(MakeDate(2025, 1, 0, "d").ok());
}

TEST(FormatDate, ZeroPadded) {
  EXPECT_EQ(FormatDate(Date(2025, 7, 1)), "2025-07-01");
  EXPECT_EQ(FormatDate(Date(1900, 1, 9)), "1900-01-09");
}

TEST(FormatDate, RoundTripsThroughParseDate) {
  for (Date d = Date(2024, 1, 1); d < Date(2025, 1, 1); ++d) {
    auto parsed = ParseDate(FormatDate(d), "d");
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, d);
  }
}

TEST(FormatOptionalDate, AbsentIsEmpty) {
  EXPECT_EQ(FormatOptionalDate(std::nullopt), "");
  EXPECT_EQ(FormatOptionalDate(Date(2025, 7, 1)), "2025-07-01");
}

TEST(VietnamTimeZone, IsSevenHoursAheadOfUtc) {
  absl::Time t = absl::FromCivil(absl::CivilSecond(2025, 1, 15, 20, 30, 0), absl::UTCTimeZone());
  absl::CivilSecond local = absl::ToCivilSecond(t, VietnamTimeZone());
  EXPECT_EQ(local, absl::CivilSecond(2025, 1, 16, 3, 30, 0));
}

TEST(VietnamTimeZone, NoDaylightSavingInSummer) {
  absl::Time t = absl::FromCivil(absl::CivilSecond(2025, 7, 1, 0, 0, 0), absl::UTCTimeZone());
  EXPECT_EQ(absl::ToCivilHour(t, VietnamTimeZone()), absl::CivilHour(2025, 7, 1, 7));
}

TEST(VietnamTimeZone, LocalMidnightIsSeventeenHundredUtcTheDayBefore) {
  absl::Time midnight = absl::FromCivil(absl::CivilDay(2025, 7, 1), VietnamTimeZone());
  EXPECT_EQ(absl::ToCivilHour(midnight, absl::UTCTimeZone()), absl::CivilHour(2025, 6, 30, 17));
}

// Fixed UTC+7 for every accepted year, whatever tzdata the machine has.
TEST(VietnamTimeZone, IsUtcPlusSevenForEveryAcceptedYear) {
  absl::Time t = absl::FromCivil(absl::CivilSecond(1970, 1, 1, 0, 0, 0), absl::UTCTimeZone());
  EXPECT_EQ(absl::ToCivilHour(t, VietnamTimeZone()), absl::CivilHour(1970, 1, 1, 7));
}

}  // namespace
}  // namespace pstrack
