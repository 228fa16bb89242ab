// Tests for the working-day calendar: the published data files, the
// provisional rules for years without a file, counting working days and
// office hours, and the errors a malformed file gives.
#include "services/calendar/working_calendar.h"

#include <iostream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "gtest/gtest.h"
#include "services/calendar/lunar.h"
#include "services/common/dates.h"

namespace pstrack {
namespace {

constexpr char kHeader[] = "date,kind,name,source\n";

Date D(int y, int m, int d) { return Date(y, m, d); }

// An instant given in Vietnam local time.
absl::Time Local(int y, int mo, int d, int h, int mi, int s = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), VietnamTimeZone());
}

std::string LocalText(absl::Time t) { return absl::FormatTime("%Y-%m-%d %H:%M:%E*S", t, VietnamTimeZone()); }

bool IsWeekend(Date d) {
  const absl::Weekday w = absl::GetWeekday(d);
  return w == absl::Weekday::saturday || w == absl::Weekday::sunday;
}

const WorkingCalendar& Published() {
  static const WorkingCalendar* cal = [] {
    auto loaded = WorkingCalendar::LoadDirectory(std::string(PSTRACK_SOURCE_DIR) + "/data/calendar");
    EXPECT_TRUE(loaded.ok()) << loaded.status();
    return new WorkingCalendar(loaded.ok() ? *std::move(loaded) : WorkingCalendar::RulesOnly());
  }();
  return *cal;
}

// ---------------------------------------------------------------------------
// The published files

TEST(WorkingCalendarData, PublishedFilesLoad) {
  auto loaded = WorkingCalendar::LoadDirectory(std::string(PSTRACK_SOURCE_DIR) + "/data/calendar");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->published_years(), (std::vector<int>{2022, 2023, 2024, 2025, 2026}));
  EXPECT_EQ(loaded->version().size(), 16u) << loaded->version();
  for (int year : loaded->published_years()) {
    EXPECT_FALSE(loaded->IsProvisional(year)) << year;
    const CalendarYear& y = loaded->Year(year);
    EXPECT_EQ(y.year, year);
    EXPECT_FALSE(y.provisional);
    ASSERT_FALSE(y.entries.empty()) << year;
    for (size_t i = 0; i < y.entries.size(); ++i) {
      EXPECT_FALSE(y.entries[i].source.empty()) << FormatDate(y.entries[i].date);
      if (i > 0) {
        EXPECT_LT(y.entries[i - 1].date, y.entries[i].date);
      }
    }
  }
}

TEST(WorkingCalendarData, PublishedDays) {
  struct Case {
    Date date;
    bool working;
    const char* why;
  };
  const std::vector<Case> cases = {
      {D(2022, 1, 3), false, "New Year 2022 fell on a Saturday: compensated Monday"},
      {D(2022, 1, 31), false, "Tết 2022"},
      {D(2022, 2, 4), false, "Tết 2022"},
      {D(2022, 2, 7), true, "after Tết 2022"},
      {D(2022, 5, 3), false, "1 May 2022 was a Sunday: second compensation"},
      {D(2023, 1, 20), false, "Tết 2023 started on 29 Chạp"},
      {D(2023, 1, 26), false, "Tết 2023 compensations"},
      {D(2023, 1, 27), true, "after Tết 2023"},
      {D(2023, 5, 2), false, "Hùng Kings 2023 on a Saturday"},
      {D(2023, 9, 4), false, "National Day 2023 on a Saturday"},
      {D(2024, 2, 14), false, "Tết 2024"},
      {D(2024, 4, 29), false, "2024 swap: Monday off"},
      {D(2024, 5, 4), true, "2024 swap: make-up Saturday"},
      {D(2024, 9, 3), false, "National Day 2024: day after"},
      {D(2025, 1, 1), false, "New Year 2025"},
      {D(2025, 1, 24), true, "Friday before Tết 2025"},
      {D(2025, 1, 27), false, "Tết 2025: 25 January - 2 February"},
      {D(2025, 1, 28), false, "Tết 2025"},
      {D(2025, 1, 29), false, "Tết 2025"},
      {D(2025, 1, 30), false, "Tết 2025"},
      {D(2025, 1, 31), false, "Tết 2025"},
      {D(2025, 2, 1), false, "Saturday"},
      {D(2025, 2, 3), true, "Tết 2025 ended on Sunday 2 February"},
      {D(2025, 4, 7), false, "Hùng Kings 2025"},
      {D(2025, 4, 26), true, "2025 swap: make-up Saturday"},
      {D(2025, 4, 27), false, "Sunday"},
      {D(2025, 4, 30), false, "Reunification Day"},
      {D(2025, 5, 1), false, "Labour Day"},
      {D(2025, 5, 2), false, "2025 swap: Friday off"},
      {D(2025, 5, 5), true, "back to work"},
      {D(2025, 9, 1), false, "National Day 2025"},
      {D(2025, 9, 2), false, "National Day 2025"},
      {D(2025, 9, 3), true, "after National Day 2025"},
      {D(2026, 1, 2), false, "New Year 2026 swap: Friday off"},
      {D(2026, 1, 10), true, "New Year 2026 swap: make-up Saturday"},
      {D(2026, 2, 13), true, "Friday before Tết 2026"},
      {D(2026, 2, 16), false, "Tết 2026"},
      {D(2026, 2, 17), false, "Tết 2026"},
      {D(2026, 2, 18), false, "Tết 2026"},
      {D(2026, 2, 19), false, "Tết 2026"},
      {D(2026, 2, 20), false, "Tết 2026"},
      {D(2026, 2, 23), true, "after Tết 2026"},
      {D(2026, 4, 27), false, "Hùng Kings 2026 on a Sunday"},
      {D(2026, 8, 22), true, "National Day 2026 swap: make-up Saturday"},
      {D(2026, 8, 31), false, "National Day 2026 swap: Monday off"},
      {D(2026, 9, 3), true, "after National Day 2026"},
  };
  const WorkingCalendar& cal = Published();
  for (const Case& c : cases) EXPECT_EQ(cal.IsWorkingDay(c.date), c.working) << FormatDate(c.date) << ": " << c.why;
}

// ---------------------------------------------------------------------------
// Provisional rules

// 2027 has no file. Tết 2027 is Saturday 6 February: Friday 5 (the last day of
// the old year), Monday 8 and Tuesday 9 are holidays, and the Saturday and
// Sunday holidays are compensated on Wednesday 10 and Thursday 11.
TEST(WorkingCalendarRules, Provisional2027) {
  const WorkingCalendar& cal = Published();
  EXPECT_TRUE(cal.IsProvisional(2027));
  EXPECT_TRUE(cal.Year(2027).provisional);
  EXPECT_EQ(cal.Year(2027).year, 2027);
  struct Case {
    Date date;
    bool working;
  };
  const std::vector<Case> cases = {
      {D(2027, 1, 1), false},  {D(2027, 2, 4), true},   {D(2027, 2, 5), false},  {D(2027, 2, 8), false},
      {D(2027, 2, 9), false},  {D(2027, 2, 10), false}, {D(2027, 2, 11), false}, {D(2027, 2, 12), true},
      {D(2027, 4, 16), false}, {D(2027, 4, 30), false}, {D(2027, 5, 1), false},  {D(2027, 5, 3), false},
      {D(2027, 5, 4), true},   {D(2027, 9, 1), false},  {D(2027, 9, 2), false},  {D(2027, 9, 3), true},
  };
  for (const Case& c : cases) EXPECT_EQ(cal.IsWorkingDay(c.date), c.working) << FormatDate(c.date);

  std::map<Date, CalendarDayKind> kinds;
  for (const auto& e : cal.Year(2027).entries) kinds[e.date] = e.kind;
  EXPECT_EQ(kinds[D(2027, 2, 5)], CalendarDayKind::kHoliday);
  EXPECT_EQ(kinds[D(2027, 2, 10)], CalendarDayKind::kDayOff);
  EXPECT_EQ(kinds[D(2027, 5, 3)], CalendarDayKind::kDayOff);
  EXPECT_EQ(cal.Year(2027).entries.size(), 11u);
}

// The rules list only weekdays, as a file must: weekday holidays, and
// compensation days that are weekdays.
TEST(WorkingCalendarRules, ProvisionalYearsKeepTheFileInvariants) {
  for (int year = 1950; year <= 2150; ++year) {
    const CalendarYear y = WorkingCalendar::ProvisionalYear(year);
    EXPECT_TRUE(y.provisional);
    std::set<Date> seen;
    int off_days = 0;
    for (const auto& e : y.entries) {
      EXPECT_FALSE(IsWeekend(e.date)) << FormatDate(e.date);
      EXPECT_NE(e.kind, CalendarDayKind::kWorkingDay);
      EXPECT_EQ(e.date.year(), year);
      EXPECT_TRUE(seen.insert(e.date).second) << FormatDate(e.date) << " twice";
      ++off_days;
    }
    // 11 holidays, each a weekday off or compensated by one.
    EXPECT_EQ(off_days, 11) << year;
  }
}

TEST(WorkingCalendarRules, Tet2026RuleMatchesThePublishedDays) {
  const CalendarYear y = WorkingCalendar::ProvisionalYear(2026);
  std::vector<Date> tet;
  for (const auto& e : y.entries) {
    if (absl::StrContains(e.name, "Tết Nguyên đán")) tet.push_back(e.date);
  }
  EXPECT_EQ(tet, (std::vector<Date>{D(2026, 2, 16), D(2026, 2, 17), D(2026, 2, 18), D(2026, 2, 19), D(2026, 2, 20)}));
}

// The published years differ from the rules where the Prime Minister swapped
// days or placed Tết differently; that is reported, not asserted. What must
// hold: every holiday the rules put on a weekday is a day off in the data.
TEST(WorkingCalendarRules, ProvisionalHolidaysAreOffInPublishedYears) {
  const WorkingCalendar& published = Published();
  const WorkingCalendar rules = WorkingCalendar::RulesOnly();
  for (int year : published.published_years()) {
    for (const auto& e : WorkingCalendar::ProvisionalYear(year).entries) {
      if (e.kind != CalendarDayKind::kHoliday) continue;
      EXPECT_FALSE(published.IsWorkingDay(e.date)) << FormatDate(e.date) << " " << e.name;
    }
    std::vector<std::string> only_rules, only_published;
    for (Date d = D(year, 1, 1); d <= D(year, 12, 31); ++d) {
      const bool p = published.IsWorkingDay(d), r = rules.IsWorkingDay(d);
      if (p && !r) only_rules.push_back(FormatDate(d));
      if (!p && r) only_published.push_back(FormatDate(d));
    }
    std::cout << "[ calendar ] " << year << ": off by the rules only: "
              << (only_rules.empty() ? "-" : absl::StrJoin(only_rules, " "))
              << "; off in the published data only: "
              << (only_published.empty() ? "-" : absl::StrJoin(only_published, " ")) << "\n";
  }
}

TEST(WorkingCalendarRules, RulesOnlyIsProvisionalEverywhere) {
  const WorkingCalendar cal = WorkingCalendar::RulesOnly();
  EXPECT_EQ(cal.version(), "rules-only");
  EXPECT_TRUE(cal.published_years().empty());
  EXPECT_TRUE(cal.IsProvisional(2025));
  EXPECT_FALSE(cal.IsWorkingDay(D(2025, 1, 29)));  // Tết
  EXPECT_TRUE(cal.IsWorkingDay(D(2025, 4, 26) + 2));  // Monday 28 April
  EXPECT_FALSE(cal.IsWorkingDay(D(2025, 4, 26)));   // no make-up Saturday without the file
}

// A file replaces the rules for its whole year, compensations included.
TEST(WorkingCalendarRules, FileReplacesTheRulesForItsYear) {
  auto cal = WorkingCalendar::FromFiles(
      {{"cal/2027.csv", absl::StrCat(kHeader, "2027-02-12,day_off,Nghỉ thêm,Test\n")}});
  ASSERT_TRUE(cal.ok()) << cal.status();
  EXPECT_FALSE(cal->IsProvisional(2027));
  EXPECT_TRUE(cal->IsProvisional(2028));
  EXPECT_FALSE(cal->IsWorkingDay(D(2027, 2, 12)));
  EXPECT_TRUE(cal->IsWorkingDay(D(2027, 2, 10)));  // a rule compensation, not in the file
  EXPECT_TRUE(cal->IsWorkingDay(D(2027, 1, 1)));   // the file does not list it
  EXPECT_FALSE(cal->IsWorkingDay(D(2028, 1, 26)));  // Tết 2028 by the rules
}

// Outside the precomputed years only the weekend rule applies.
TEST(WorkingCalendarRules, OutsideTheTableWeekendRuleOnly) {
  const WorkingCalendar& cal = Published();
  EXPECT_TRUE(cal.IsWorkingDay(D(1900, 1, 1)));   // Monday, New Year: no rules there
  EXPECT_FALSE(cal.IsWorkingDay(D(1900, 1, 6)));  // Saturday
  EXPECT_TRUE(cal.IsWorkingDay(D(2200, 1, 1)));   // Wednesday
  EXPECT_TRUE(cal.IsProvisional(1900));
  EXPECT_TRUE(cal.IsProvisional(2300));
  EXPECT_EQ(cal.Year(2300).year, 2300);
  EXPECT_TRUE(cal.Year(2300).entries.empty());
  EXPECT_EQ(&cal.Year(2300), &cal.Year(2300));  // stable reference
  // Across the table's ends: 1 January 1950 was a Sunday, compensated on
  // Monday 2 January by the rules; 1 January 2151 is outside the rules.
  EXPECT_EQ(cal.AddWorkingDays(D(1949, 12, 30), 1), D(1950, 1, 3));
  EXPECT_EQ(cal.AddWorkingDays(D(2150, 12, 31), 1), D(2151, 1, 1));
  EXPECT_EQ(cal.AddWorkingDays(D(2150, 12, 31), 2), D(2151, 1, 4));
}

// ---------------------------------------------------------------------------
// Working days

TEST(WorkingCalendarDays, AddWorkingDays) {
  struct Case {
    Date from;
    int n;
    Date want;
    const char* why;
  };
  const std::vector<Case> cases = {
      {D(2025, 1, 24), 1, D(2025, 2, 3), "over Tết 2025 and two weekends"},
      {D(2025, 1, 23), 3, D(2025, 2, 4), "Friday, then after Tết"},
      {D(2025, 1, 25), 0, D(2025, 2, 3), "n = 0 on a Saturday before Tết"},
      {D(2025, 1, 29), 1, D(2025, 2, 3), "counted from a holiday"},
      {D(2026, 2, 13), 1, D(2026, 2, 23), "over Tết 2026"},
      {D(2026, 2, 12), 2, D(2026, 2, 23), "over Tết 2026"},
      {D(2025, 4, 25), 1, D(2025, 4, 26), "the make-up Saturday counts"},
      {D(2025, 4, 25), 3, D(2025, 4, 29), "receipt Friday + 3"},
      {D(2025, 4, 29), 1, D(2025, 5, 5), "over 30 April - 4 May"},
      {D(2025, 3, 3), 0, D(2025, 3, 3), "n = 0 on a working day"},
      {D(2025, 3, 3), 5, D(2025, 3, 10), "a plain week"},
      {D(2025, 3, 7), 1, D(2025, 3, 10), "over a weekend"},
      {D(2024, 12, 31), 1, D(2025, 1, 2), "over New Year"},
      {D(2027, 2, 4), 1, D(2027, 2, 12), "over provisional Tết 2027"},
      {D(2025, 1, 2), 249, D(2025, 12, 31), "2025 has 250 working days, 2 January the first"},
      {D(2025, 1, 2), 250, D(2026, 1, 5), "over New Year 2026 and its swapped Friday"},
  };
  const WorkingCalendar& cal = Published();
  for (const Case& c : cases) {
    EXPECT_EQ(cal.AddWorkingDays(c.from, c.n), c.want) << FormatDate(c.from) << " + " << c.n << ": " << c.why;
  }
}

TEST(WorkingCalendarDays, WorkingDaysBetween) {
  const WorkingCalendar& cal = Published();
  // 261 weekdays, 12 of them off, and the make-up Saturday.
  EXPECT_EQ(cal.WorkingDaysBetween(D(2025, 1, 1), D(2026, 1, 1)), 250);
  EXPECT_EQ(cal.WorkingDaysBetween(D(2025, 1, 24), D(2025, 2, 4)), 2);  // 24 Jan, 3 Feb
  EXPECT_EQ(cal.WorkingDaysBetween(D(2025, 4, 26), D(2025, 4, 27)), 1);
  EXPECT_EQ(cal.WorkingDaysBetween(D(2025, 3, 3), D(2025, 3, 3)), 0);
  EXPECT_EQ(cal.WorkingDaysBetween(D(2025, 3, 10), D(2025, 3, 3)), 0);
}

// WorkingDaysBetween, AddWorkingDays and NextWorkingDayOnOrAfter agree with a
// day-by-day walk over IsWorkingDay, in and outside the precomputed years.
TEST(WorkingCalendarDays, AgreeWithANaiveWalk) {
  const WorkingCalendar& cal = Published();
  std::mt19937 rng(20250426);
  const Date lo = D(1945, 1, 1);
  std::uniform_int_distribution<int> start(0, static_cast<int>(D(2156, 1, 1) - lo));
  std::uniform_int_distribution<int> span(0, 900);
  for (int i = 0; i < 3000; ++i) {
    // A third of the pairs near a table boundary, where the fallback starts.
    Date from = lo + start(rng);
    if (i % 3 == 1) from = D(1950, 1, 1) - span(rng) / 2;
    if (i % 3 == 2) from = D(2151, 1, 1) - span(rng) / 2;
    const Date to = from + span(rng);
    int naive = 0;
    for (Date d = from; d < to; ++d) naive += cal.IsWorkingDay(d) ? 1 : 0;
    ASSERT_EQ(cal.WorkingDaysBetween(from, to), naive) << FormatDate(from) << " .. " << FormatDate(to);

    const int n = static_cast<int>(span(rng) % 300);
    Date want = from;
    if (n == 0) {
      while (!cal.IsWorkingDay(want)) ++want;
    } else {
      for (int left = n; left > 0;) {
        ++want;
        if (cal.IsWorkingDay(want)) --left;
      }
    }
    ASSERT_EQ(cal.AddWorkingDays(from, n), want) << FormatDate(from) << " + " << n;
    Date next = from;
    while (!cal.IsWorkingDay(next)) ++next;
    ASSERT_EQ(cal.NextWorkingDayOnOrAfter(from), next) << FormatDate(from);
  }
}

// ---------------------------------------------------------------------------
// Working hours

TEST(WorkingCalendarHours, AddWorkingHours) {
  struct Case {
    absl::Time start;
    int hours;
    absl::Time want;
    const char* why;
  };
  const std::vector<Case> cases = {
      {Local(2025, 4, 24, 8, 0), 4, Local(2025, 4, 24, 12, 0), "a morning ends at noon"},
      {Local(2025, 4, 24, 8, 0), 8, Local(2025, 4, 24, 17, 0), "a whole working day"},
      {Local(2025, 4, 24, 10, 0), 4, Local(2025, 4, 24, 15, 0), "over lunch"},
      {Local(2025, 4, 24, 11, 30), 1, Local(2025, 4, 24, 13, 30), "over lunch"},
      {Local(2025, 4, 24, 12, 0), 1, Local(2025, 4, 24, 14, 0), "from noon"},
      {Local(2025, 4, 24, 12, 30), 1, Local(2025, 4, 24, 14, 0), "from lunch"},
      {Local(2025, 4, 24, 6, 0), 1, Local(2025, 4, 24, 9, 0), "from early morning"},
      {Local(2025, 4, 24, 16, 0), 2, Local(2025, 4, 25, 9, 0), "into the next day"},
      {Local(2025, 4, 24, 17, 0), 1, Local(2025, 4, 25, 9, 0), "from closing time"},
      {Local(2025, 4, 24, 18, 0), 1, Local(2025, 4, 25, 9, 0), "from the evening"},
      {Local(2025, 4, 24, 10, 0), 8, Local(2025, 4, 25, 10, 0), "8 hours: same time next working day"},
      {Local(2025, 4, 25, 16, 0), 2, Local(2025, 4, 26, 9, 0), "onto the make-up Saturday"},
      {Local(2025, 4, 29, 16, 0), 2, Local(2025, 5, 5, 9, 0), "over 30 April - 4 May"},
      {Local(2025, 5, 4, 10, 0), 1, Local(2025, 5, 5, 9, 0), "from a Sunday"},
      {Local(2025, 3, 8, 10, 0), 8, Local(2025, 3, 10, 17, 0), "from a Saturday, a whole day"},
      {Local(2025, 1, 29, 10, 0), 8, Local(2025, 2, 3, 17, 0), "from a Tết holiday"},
      {Local(2025, 3, 3, 8, 0), 24, Local(2025, 3, 5, 17, 0), "three whole days"},
      {Local(2026, 2, 9, 8, 0), 40, Local(2026, 2, 13, 17, 0), "a whole week before Tết"},
      {Local(2026, 2, 9, 8, 0), 41, Local(2026, 2, 23, 9, 0), "one more hour after Tết"},
      {Local(2025, 3, 3, 9, 0, 30), 1, Local(2025, 3, 3, 10, 0, 30), "seconds are kept"},
      {Local(2025, 3, 3, 9, 0), 0, Local(2025, 3, 3, 9, 0), "zero hours"},
      {Local(2025, 3, 8, 9, 0), 0, Local(2025, 3, 8, 9, 0), "zero hours on a Saturday"},
      {absl::FromCivil(absl::CivilSecond(2025, 4, 24, 1, 0, 0), absl::UTCTimeZone()), 4, Local(2025, 4, 24, 12, 0),
       "01:00 UTC is 08:00 in Vietnam"},
  };
  const WorkingCalendar& cal = Published();
  for (const Case& c : cases) {
    EXPECT_EQ(LocalText(cal.AddWorkingHours(c.start, c.hours)), LocalText(c.want))
        << LocalText(c.start) << " + " << c.hours << "h: " << c.why;
  }
}

// Many hours agree with adding them one at a time.
TEST(WorkingCalendarHours, LongSpansAgreeWithHourByHour) {
  const WorkingCalendar& cal = Published();
  std::mt19937 rng(17);
  std::uniform_int_distribution<int> minute(0, 24 * 60 - 1);
  std::uniform_int_distribution<int> day(0, 5 * 365);
  std::uniform_int_distribution<int> hours(1, 200);
  for (int i = 0; i < 300; ++i) {
    const Date d = D(2022, 1, 1) + day(rng);
    const int m = minute(rng);
    const absl::Time start = Local(static_cast<int>(d.year()), d.month(), d.day(), m / 60, m % 60);
    const int h = hours(rng);
    absl::Time step = cal.AddWorkingHours(start, 1);
    for (int k = 1; k < h; ++k) step = cal.AddWorkingHours(step, 1);
    ASSERT_EQ(LocalText(cal.AddWorkingHours(start, h)), LocalText(step)) << LocalText(start) << " + " << h;
  }
}

// ---------------------------------------------------------------------------
// Validation of files

TEST(WorkingCalendarFiles, ErrorNamesFileLineAndReason) {
  const std::string content = absl::StrCat(kHeader,
                                           "2025-01-01,holiday,Tết Dương lịch,BLLĐ\n"
                                           "2025-04-07,holiday,Giỗ Tổ Hùng Vương,BLLĐ\n"
                                           "2025-04-30,holiday,Ngày Chiến thắng,BLLĐ\n"
                                           "2025-05-01,holiday,Quốc tế Lao động,BLLĐ\n"
                                           "2025-05-02,day_off,Hoán đổi,VPCP\n"
                                           "2025-04-26,holiday,Sai,VPCP\n");
  auto cal = WorkingCalendar::FromFiles({{"data/calendar/2025.csv", content}});
  ASSERT_FALSE(cal.ok());
  EXPECT_EQ(cal.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(cal.status().message(),
            "data/calendar/2025.csv:7: date: 2025-04-26 is a Saturday; a holiday or day_off must fall on a weekday");
}

TEST(WorkingCalendarFiles, EveryErrorNamesFileLineAndReason) {
  struct Case {
    std::string file;
    std::string content;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"c/2025.csv", absl::StrCat(kHeader, "2025-04-25,working_day,Làm bù,VPCP\n"),
       "c/2025.csv:2: date: 2025-04-25 is a Friday; a working_day must fall on a Saturday or Sunday"},
      {"c/2025.csv", absl::StrCat(kHeader, "2025-05-04,day_off,Nghỉ,VPCP\n"),
       "c/2025.csv:2: date: 2025-05-04 is a Sunday; a holiday or day_off must fall on a weekday"},
      {"c/2025.csv", absl::StrCat(kHeader, "2024-12-31,holiday,X,Y\n"),
       "c/2025.csv:2: date: 2024-12-31 is outside the file's year 2025"},
      {"c/2025.csv", absl::StrCat(kHeader, "2025-04-30,holiday,X,Y\n2025-04-29,day_off,X,Y\n2025-04-30,day_off,X,Y\n"),
       "c/2025.csv:4: date: 2025-04-30 is listed twice (first on line 2)"},
      {"c/2025.csv", absl::StrCat(kHeader, "2025-04-30,bridge,X,Y\n"),
       "c/2025.csv:2: kind: 'bridge' is not one of holiday, day_off, working_day"},
      {"c/2025.csv", absl::StrCat(kHeader, "2025-02-30,holiday,X,Y\n"),
       "c/2025.csv:2: date: 2025-02-30 is not a calendar date"},
      {"c/2025.csv", absl::StrCat(kHeader, "30/04/2025,holiday,X,Y\n"),
       "c/2025.csv:2: date: '30/04/2025' is not a date of the form YYYY-MM-DD"},
      {"c/2025.csv", absl::StrCat(kHeader, "2025-04-30,holiday,,Y\n"), "c/2025.csv:2: name: is required"},
      {"c/2025.csv", absl::StrCat(kHeader, "2025-04-30,holiday,X,\n"), "c/2025.csv:2: source: is required"},
      {"c/2025.csv", absl::StrCat(kHeader, "2025-04-30,holiday,X,Y,Z\n"),
       "c/2025.csv:2: row: has 5 fields but the header has 4"},
      {"c/2025.csv", "date,kind,name\n2025-04-30,holiday,X\n", "c/2025.csv:1: header lacks column(s) source"},
      {"c/2025.csv", "", "c/2025.csv:1: the file is empty"},
      {"c/2025.csv", absl::StrCat(kHeader, "2025-04-30,holiday,\"X,Y\n"), "c/2025.csv:2: quoted field is never closed"},
      // A quoted name spanning two lines: the next record starts on line 4.
      {"c/2025.csv", absl::StrCat(kHeader, "2025-04-30,holiday,\"Ngày\nChiến thắng\",Y\n2025-05-03,holiday,X,Y\n"),
       "c/2025.csv:4: date: 2025-05-03 is a Saturday"},
      {"c/holidays.csv", kHeader, "c/holidays.csv: the file name must be YYYY.csv"},
      {"c/1900.csv", kHeader, "c/1900.csv: year 1900 is outside the supported range 1950..2150"},
  };
  for (const Case& c : cases) {
    auto cal = WorkingCalendar::FromFiles({{c.file, c.content}});
    ASSERT_FALSE(cal.ok()) << c.want;
    EXPECT_EQ(cal.status().code(), absl::StatusCode::kInvalidArgument) << c.want;
    EXPECT_TRUE(absl::StartsWith(cal.status().message(), c.want)) << "want: " << c.want << "\ngot:  "
                                                                   << cal.status().message();
  }
}

TEST(WorkingCalendarFiles, ReportsEveryError) {
  auto cal = WorkingCalendar::FromFiles({
      {"a/2024.csv", absl::StrCat(kHeader, "2024-05-04,holiday,X,Y\n2024-04-29,day_off,X,Y\n2024-04-28,day_off,X,Y\n")},
      {"a/2025.csv", absl::StrCat(kHeader, "2025-04-25,working_day,X,Y\n")},
      {"b/2025.csv", kHeader},
  });
  ASSERT_FALSE(cal.ok());
  const std::string message(cal.status().message());
  EXPECT_TRUE(absl::StrContains(message, "a/2024.csv:2: date: 2024-05-04 is a Saturday")) << message;
  EXPECT_TRUE(absl::StrContains(message, "a/2024.csv:4: date: 2024-04-28 is a Sunday")) << message;
  EXPECT_TRUE(absl::StrContains(message, "a/2025.csv:2: date: 2025-04-25 is a Friday")) << message;
  EXPECT_TRUE(absl::StrContains(message, "b/2025.csv: year 2025 is already given by a/2025.csv")) << message;
}

TEST(WorkingCalendarFiles, MissingDirectory) {
  auto cal = WorkingCalendar::LoadDirectory("/nonexistent/pstrack/calendar");
  EXPECT_EQ(cal.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(cal.status().message(), "/nonexistent/pstrack/calendar"));
}

TEST(WorkingCalendarFiles, VersionFingerprintsTheData) {
  const std::string a = absl::StrCat(kHeader, "2025-05-02,day_off,X,Y\n2025-04-26,working_day,X,Y\n");
  const std::string b = absl::StrCat(kHeader, "2025-05-02,day_off,X,Y\n");
  auto one = WorkingCalendar::FromFiles({{"x/2025.csv", a}});
  auto same_elsewhere = WorkingCalendar::FromFiles({{"/elsewhere/2025.csv", a}});
  auto changed = WorkingCalendar::FromFiles({{"x/2025.csv", b}});
  auto other_year = WorkingCalendar::FromFiles({{"x/2025.csv", a}, {"x/2026.csv", kHeader}});
  ASSERT_TRUE(one.ok() && same_elsewhere.ok() && changed.ok() && other_year.ok());
  EXPECT_EQ(one->version(), same_elsewhere->version());
  EXPECT_NE(one->version(), changed->version());
  EXPECT_NE(one->version(), other_year->version());
  EXPECT_EQ(one->version().size(), 16u);
  auto none = WorkingCalendar::FromFiles({});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->version(), "rules-only");
}

// ---------------------------------------------------------------------------
// Concurrency and copies

TEST(WorkingCalendarThreads, ConcurrentReads) {
  const WorkingCalendar& cal = Published();
  std::vector<std::thread> threads;
  std::vector<int> counts(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&cal, &counts, t] {
      for (int i = 0; i < 200; ++i) {
        counts[t] += cal.WorkingDaysBetween(D(2025, 1, 1), D(2026, 1, 1));
        counts[t] += static_cast<int>(cal.Year(2300 + i % 50).entries.size());  // made on first use
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int c : counts) EXPECT_EQ(c, 200 * 250);
}

TEST(WorkingCalendarThreads, CopiesAreIndependentValues) {
  const WorkingCalendar copy = Published();
  EXPECT_EQ(copy.version(), Published().version());
  EXPECT_EQ(copy.published_years(), Published().published_years());
  EXPECT_FALSE(copy.IsWorkingDay(D(2025, 5, 2)));
  EXPECT_TRUE(copy.IsWorkingDay(D(2025, 4, 26)));
}

}  // namespace
}  // namespace pstrack
