// Tests for the Vietnamese lunar calendar: Tết and Hùng Kings day against
// published dates, leap months, round trips over two centuries, and the
// rejection of lunar dates that do not exist.
#include "services/calendar/lunar.h"

#include <vector>

#include "gtest/gtest.h"
#include "services/common/dates.h"

namespace pstrack {
namespace {

Date D(int y, int m, int d) { return Date(y, m, d); }

// Mùng 1 Tết, as printed in Vietnamese calendars. They equal the Chinese New
// Year except where UTC+7 puts the new moon on another day: in 2007 and 2030
// the new moon fell between 23:00 and midnight Vietnam time, so China (UTC+8)
// had Tết a day later (18 February 2007, 3 February 2030).
TEST(LunarNewYear, MatchesPublishedTetDates2000To2030) {
  const std::vector<Date> tet = {
      D(2000, 2, 5),  D(2001, 1, 24), D(2002, 2, 12), D(2003, 2, 1),  D(2004, 1, 22), D(2005, 2, 9),
      D(2006, 1, 29), D(2007, 2, 17), D(2008, 2, 7),  D(2009, 1, 26), D(2010, 2, 14), D(2011, 2, 3),
      D(2012, 1, 23), D(2013, 2, 10), D(2014, 1, 31), D(2015, 2, 19), D(2016, 2, 8),  D(2017, 1, 28),
      D(2018, 2, 16), D(2019, 2, 5),  D(2020, 1, 25), D(2021, 2, 12), D(2022, 2, 1),  D(2023, 1, 22),
      D(2024, 2, 10), D(2025, 1, 29), D(2026, 2, 17), D(2027, 2, 6),  D(2028, 1, 26), D(2029, 2, 13),
      D(2030, 2, 2),
  };
  for (int year = 2000; year <= 2030; ++year) {
    const Date want = tet[year - 2000];
    EXPECT_EQ(LunarNewYear(year), want) << year;
    EXPECT_EQ(LunarNewYearEve(year), want - 1) << year;
    EXPECT_EQ(SolarToLunar(want), (LunarDate{year, 1, 1, false})) << year;
  }
}

// 1985 is the famous case: Vietnam's Tết came a month before China's
// (20 February 1985) because the month boundaries differ at UTC+7.
TEST(LunarNewYear, VietnamTet1985DiffersFromChina) {
  EXPECT_EQ(LunarNewYear(1985), D(1985, 1, 21));
}

TEST(LunarNewYear, LastDayOfTheYearIsDay29Or30OfMonth12) {
  // 2025: month 12 of Giáp Thìn had 29 days; 2024: month 12 of Quý Mão had 30.
  EXPECT_EQ(SolarToLunar(D(2025, 1, 28)), (LunarDate{2024, 12, 29, false}));
  EXPECT_EQ(SolarToLunar(D(2024, 2, 9)), (LunarDate{2023, 12, 30, false}));
  EXPECT_EQ(SolarToLunar(D(2026, 2, 16)), (LunarDate{2025, 12, 29, false}));
}

TEST(LunarToSolar, HungKingsDay) {
  struct Case {
    int year;
    Date want;
  };
  for (const Case& c : {Case{2022, D(2022, 4, 10)}, Case{2023, D(2023, 4, 29)}, Case{2024, D(2024, 4, 18)},
                        Case{2025, D(2025, 4, 7)}, Case{2026, D(2026, 4, 26)}, Case{2027, D(2027, 4, 16)}}) {
    auto got = LunarToSolar(LunarDate{c.year, 3, 10, false});
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, c.want) << c.year;
  }
}

TEST(LunarToSolar, LeapMonths) {
  // 2023 repeated the 2nd month (22 March - 19 April), 2025 the 6th
  // (25 July - 22 August), 2020 the 4th (23 May - 20 June).
  EXPECT_EQ(SolarToLunar(D(2023, 3, 21)), (LunarDate{2023, 2, 30, false}));
  EXPECT_EQ(SolarToLunar(D(2023, 3, 22)), (LunarDate{2023, 2, 1, true}));
  EXPECT_EQ(SolarToLunar(D(2023, 4, 20)), (LunarDate{2023, 3, 1, false}));
  EXPECT_EQ(SolarToLunar(D(2025, 7, 25)), (LunarDate{2025, 6, 1, true}));
  EXPECT_EQ(SolarToLunar(D(2025, 8, 23)), (LunarDate{2025, 7, 1, false}));
  EXPECT_EQ(SolarToLunar(D(2020, 5, 23)), (LunarDate{2020, 4, 1, true}));

  auto leap2 = LunarToSolar(LunarDate{2023, 2, 1, true});
  ASSERT_TRUE(leap2.ok()) << leap2.status();
  EXPECT_EQ(*leap2, D(2023, 3, 22));
  auto plain2 = LunarToSolar(LunarDate{2023, 2, 1, false});
  ASSERT_TRUE(plain2.ok()) << plain2.status();
  EXPECT_EQ(*plain2, D(2023, 2, 20));
  auto leap6 = LunarToSolar(LunarDate{2025, 6, 29, true});
  ASSERT_TRUE(leap6.ok()) << leap6.status();
  EXPECT_EQ(*leap6, D(2025, 8, 22));
}

TEST(LunarToSolar, RejectsDatesThatDoNotExist) {
  struct Case {
    LunarDate lunar;
    const char* why;
  };
  const std::vector<Case> cases = {
      {{2024, 12, 30, false}, "month 12 of 2024 has 29 days"},
      {{2024, 2, 1, true}, "2024 has no leap month"},
      {{2023, 3, 1, true}, "2023's leap month is the 2nd"},
      {{2025, 2, 1, true}, "2025's leap month is the 6th"},
      {{2025, 0, 1, false}, "month 0"},
      {{2025, 13, 1, false}, "month 13"},
      {{2025, 1, 0, false}, "day 0"},
      {{2025, 1, 31, false}, "day 31"},
      {{1899, 1, 1, false}, "before 1900"},
      {{2200, 1, 1, false}, "after 2199"},
  };
  for (const Case& c : cases) {
    auto got = LunarToSolar(c.lunar);
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument) << c.why;
  }
}

// Every day of 1950..2150 converts to a lunar date and back, and consecutive
// days make a well-formed lunar calendar: the day advances by one or a new
// month starts after day 29 or 30; months run 1..12 with at most one leap
// month a year, which repeats the month before it.
TEST(LunarCalendar, RoundTripsAndIsWellFormedOver1950To2150) {
  LunarDate previous = SolarToLunar(D(1949, 12, 31));
  int leap_months_this_year = 0;
  int failures = 0;
  for (Date d = D(1950, 1, 1); d <= D(2150, 12, 31) && failures < 10; ++d) {
    const LunarDate l = SolarToLunar(d);
    auto back = LunarToSolar(l);
    if (!back.ok() || *back != d) {
      ADD_FAILURE() << FormatDate(d) << " -> " << l.year << "/" << l.month << "/" << l.day
                    << (l.leap_month ? " leap" : "") << " -> "
                    << (back.ok() ? FormatDate(*back) : std::string(back.status().message()));
      ++failures;
      continue;
    }
    if (l.day != 1) {
      if (l.day != previous.day + 1 || l.month != previous.month || l.leap_month != previous.leap_month ||
          l.year != previous.year) {
        ADD_FAILURE() << FormatDate(d) << ": day does not follow the previous one";
        ++failures;
      }
    } else {
      if (previous.day != 29 && previous.day != 30) {
        ADD_FAILURE() << FormatDate(d) << ": previous month had " << previous.day << " days";
        ++failures;
      }
      if (l.leap_month) {
        ++leap_months_this_year;
        if (l.month != previous.month || l.year != previous.year || leap_months_this_year > 1) {
          ADD_FAILURE() << FormatDate(d) << ": leap month " << l.month << " does not repeat the month before";
          ++failures;
        }
      } else if (l.month == 1) {
        if (previous.month != 12 || l.year != previous.year + 1) {
          ADD_FAILURE() << FormatDate(d) << ": lunar year does not start after month 12";
          ++failures;
        }
        leap_months_this_year = 0;
      } else if (l.month != previous.month + 1 || l.year != previous.year) {
        ADD_FAILURE() << FormatDate(d) << ": month " << l.month << " does not follow " << previous.month;
        ++failures;
      }
    }
    previous = l;
  }
}

// Tết always falls between 21 January and 20 February.
TEST(LunarNewYear, AlwaysBetween21JanuaryAnd20February) {
  for (int year = 1900; year <= 2199; ++year) {
    const Date tet = LunarNewYear(year);
    EXPECT_GE(tet, D(year, 1, 21)) << year;
    EXPECT_LE(tet, D(year, 2, 20)) << year;
  }
}

}  // namespace
}  // namespace pstrack
