// WorkingCalendar: which days public agencies work, from versioned per-year
// data files (holidays, compensatory days off, make-up working days as the
// Prime Minister announces them) with a rule-based provisional default for
// years without a file (Labour Code 2019 Art. 112 holidays, lunar ones
// computed, holidays on a rest day compensated on the next working day).
// Saturday and Sunday are rest days unless a file makes them working days.
// Immutable after loading; thread-safe.
#ifndef PSTRACK_SERVICES_CALENDAR_WORKING_CALENDAR_H_
#define PSTRACK_SERVICES_CALENDAR_WORKING_CALENDAR_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/common/dates.h"

namespace pstrack {

enum class CalendarDayKind {
  kHoliday,      // public holiday (ngày lễ, Tết) on a weekday
  kDayOff,       // compensatory or swapped day off on a weekday (nghỉ bù, hoán đổi)
  kWorkingDay,   // make-up working day on a Saturday or Sunday (làm bù)
};

struct CalendarEntry {
  Date date;
  CalendarDayKind kind = CalendarDayKind::kHoliday;
  std::string name;    // e.g. "Tết Nguyên đán", "Nghỉ bù Quốc khánh"
  std::string source;  // e.g. "Công văn 9150/VPCP-KGVX 2024"
};

struct CalendarYear {
  int year = 0;
  bool provisional = false;  // computed from the rules, not published data
  std::vector<CalendarEntry> entries;  // sorted by date
};

// Office hours used to count working hours: two blocks a working day, local
// time. Decree 61/2018 leaves hours to each agency; 8:00-12:00 and
// 13:00-17:00 is the common default.
struct OfficeHours {
  int morning_start_minute = 8 * 60;
  int morning_end_minute = 12 * 60;
  int afternoon_start_minute = 13 * 60;
  int afternoon_end_minute = 17 * 60;
};

class WorkingCalendar {
 public:
  // Reads every "YYYY.csv" in `directory` (columns date,kind,name,source;
  // kind is holiday, day_off or working_day). Errors name the file, the line
  // and the reason: a date outside the file's year, a working_day that is
  // not a Saturday or Sunday, a holiday or day_off on a weekend, a date listed
  // twice, an unknown kind.
  static absl::StatusOr<WorkingCalendar> LoadDirectory(const std::string& directory);
  // From files already read: file name (for messages) -> content.
  static absl::StatusOr<WorkingCalendar> FromFiles(const std::map<std::string, std::string>& files);
  // Only the rules (every year provisional).
  static WorkingCalendar RulesOnly();

  // The rule-based year (public so it can be compared with published data).
  static CalendarYear ProvisionalYear(int year);

  bool IsWorkingDay(Date d) const;
  // True if `year` has no data file and uses the provisional rules.
  bool IsProvisional(int year) const;
  // The year's entries (from its file, or the provisional rules).
  const CalendarYear& Year(int year) const;

  // The first working day on or after `d`.
  Date NextWorkingDayOnOrAfter(Date d) const;
  // The `n`-th working day after `d` (n >= 0; n == 0 gives
  // NextWorkingDayOnOrAfter(d)). "Receipt day + 3 working days" where the
  // receipt day itself is not counted.
  Date AddWorkingDays(Date d, int n) const;
  // Working days in [from, to); 0 if to <= from.
  int WorkingDaysBetween(Date from, Date to) const;

  const OfficeHours& office_hours() const { return office_hours_; }
  // Adds `hours` working hours to instant `start` (counted in office hours
  // of working days, Vietnam local time).
  absl::Time AddWorkingHours(absl::Time start, int hours) const;

  // A fingerprint of the loaded data, recorded with computed dates so a
  // change of calendar data is visible.
  const std::string& version() const { return version_; }
  // Years that have data files, ascending.
  std::vector<int> published_years() const;

 private:
  // Per-day working flags over a fixed range of years and the count of
  // working days before each day, so that the queries above are O(1). Null
  // in a default-constructed calendar, which then follows the weekend rule.
  struct DayTable;

  // `published`: the years read from files, already validated.
  static WorkingCalendar Build(absl::flat_hash_map<int, CalendarYear> published, std::string version);

  // Working days before `d`, counted from the table's first day (negative
  // before it); the weekend rule applies outside the table.
  int64_t WorkingDaysBefore(Date d) const;
  // The working day w with WorkingDaysBefore(w) == index.
  Date WorkingDayAt(int64_t index) const;

  absl::flat_hash_map<int, CalendarYear> years_;  // published and provisional years of the table
  std::vector<int> published_years_;
  std::shared_ptr<const DayTable> table_;
  OfficeHours office_hours_;
  std::string version_;
};

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_CALENDAR_WORKING_CALENDAR_H_
