#include "services/calendar/working_calendar.h"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "services/calendar/lunar.h"
#include "services/common/csv.h"
#include "services/common/status.h"

namespace pstrack {
namespace {

// The table covers these years; outside them only the weekend rule applies.
// Wide enough for any dossier pstrack will replay, small enough (~73,000
// days, under 1 MB) to build at start.
constexpr int kFirstYear = 1950;
constexpr int kLastYear = 2150;
const Date kTableFirstDay(kFirstYear, 1, 1);
const Date kTableEndDay(kLastYear + 1, 1, 1);  // exclusive

constexpr char kRulesOnlyVersion[] = "rules-only";
constexpr char kProvisionalSource[] = "Bộ luật Lao động 2019, Điều 111-112 (quy tắc tạm tính)";

bool IsWeekend(Date d) {
  const absl::Weekday w = absl::GetWeekday(d);
  return w == absl::Weekday::saturday || w == absl::Weekday::sunday;
}

const char* WeekdayName(Date d) {
  switch (absl::GetWeekday(d)) {
    case absl::Weekday::monday: return "Monday";
    case absl::Weekday::tuesday: return "Tuesday";
    case absl::Weekday::wednesday: return "Wednesday";
    case absl::Weekday::thursday: return "Thursday";
    case absl::Weekday::friday: return "Friday";
    case absl::Weekday::saturday: return "Saturday";
    case absl::Weekday::sunday: return "Sunday";
  }
  return "?";
}

// Monday..Friday in [from, to); requires from <= to.
int64_t WeekdaysBetween(Date from, Date to) {
  const int64_t n = to - from;
  int64_t count = n / 7 * 5;
  for (Date d = from + n / 7 * 7; d < to; ++d) {
    if (!IsWeekend(d)) ++count;
  }
  return count;
}

// The j-th (0-based) weekday on or after `start`.
Date NthWeekdayFrom(Date start, int64_t j) {
  Date d = start;
  while (IsWeekend(d)) ++d;
  d += j / 5 * 7;
  for (int64_t rest = j % 5; rest > 0;) {
    ++d;
    if (!IsWeekend(d)) --rest;
  }
  return d;
}

// The m-th (1-based) weekday before `end`.
Date NthWeekdayBefore(Date end, int64_t m) {
  Date d = end - 1;
  while (IsWeekend(d)) --d;
  d -= (m - 1) / 5 * 7;
  for (int64_t rest = (m - 1) % 5; rest > 0;) {
    --d;
    if (!IsWeekend(d)) --rest;
  }
  return d;
}

uint64_t Fnv1a64(absl::string_view bytes, uint64_t h = 14695981039346656037ULL) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

// The years outside the table, for Year(): weekend rule only, the same for
// every calendar, made on first use and kept for the life of the process so
// references stay valid.
const CalendarYear& WeekendOnlyYear(int year) {
  static std::mutex* mu = new std::mutex;
  static auto* years = new std::map<int, std::unique_ptr<CalendarYear>>;
  std::lock_guard<std::mutex> lock(*mu);
  auto& slot = (*years)[year];
  if (slot == nullptr) {
    slot = std::make_unique<CalendarYear>();
    slot->year = year;
    slot->provisional = true;
  }
  return *slot;
}

absl::StatusOr<CalendarDayKind> ParseKind(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  if (text == "holiday") return CalendarDayKind::kHoliday;
  if (text == "day_off") return CalendarDayKind::kDayOff;
  if (text == "working_day") return CalendarDayKind::kWorkingDay;
  return InvalidField("kind", absl::StrCat("'", text, "' is not one of holiday, day_off, working_day"));
}

// "line 3: reason" (as CsvTable reports) becomes "<file>:3: reason".
std::string CsvErrorInFile(const std::string& file, const absl::Status& status) {
  absl::string_view message = status.message();
  if (absl::ConsumePrefix(&message, "line ")) {
    const size_t colon = message.find(": ");
    int line = 0;
    if (colon != absl::string_view::npos && absl::SimpleAtoi(message.substr(0, colon), &line)) {
      return absl::StrCat(file, ":", line, ": ", message.substr(colon + 2));
    }
  }
  return absl::StrCat(file, ": ", status.message());
}

absl::StatusOr<CalendarEntry> ParseEntry(const CsvTable::Row& row, size_t columns, int year) {
  if (row.size() > columns) {
    return InvalidField("row", absl::StrCat("has ", row.size(), " fields but the header has ", columns,
                                            " (quote fields that contain commas)"));
  }
  CalendarEntry e;
  PSTRACK_ASSIGN_OR_RETURN(e.date, ParseDate(row.Get("date"), "date"));
  PSTRACK_ASSIGN_OR_RETURN(e.kind, ParseKind(row.Get("kind")));
  e.name = std::string(absl::StripAsciiWhitespace(row.Get("name")));
  e.source = std::string(absl::StripAsciiWhitespace(row.Get("source")));
  const std::string date = FormatDate(e.date);
  if (e.date.year() != year) {
    return InvalidField("date", absl::StrCat(date, " is outside the file's year ", year));
  }
  if (e.kind == CalendarDayKind::kWorkingDay && !IsWeekend(e.date)) {
    return InvalidField("date", absl::StrCat(date, " is a ", WeekdayName(e.date),
                                             "; a working_day must fall on a Saturday or Sunday"));
  }
  if (e.kind != CalendarDayKind::kWorkingDay && IsWeekend(e.date)) {
    return InvalidField("date", absl::StrCat(date, " is a ", WeekdayName(e.date),
                                             "; a holiday or day_off must fall on a weekday"));
  }
  if (e.name.empty()) return MissingField("name");
  if (e.source.empty()) return InvalidField("source", "is required (the decision or notice that fixed the day)");
  return e;
}

// Reads one year's file; every problem is appended to `errors`.
CalendarYear ParseYearFile(const std::string& file, absl::string_view content, int year,
                           std::vector<std::string>& errors) {
  CalendarYear out;
  out.year = year;
  auto table = CsvTable::Parse(content, {"date", "kind", "name", "source"});
  if (!table.ok()) {
    errors.push_back(CsvErrorInFile(file, table.status()));
    return out;
  }
  std::map<Date, int> first_line;
  for (const auto& row : table->Rows()) {
    auto entry = ParseEntry(row, table->header().size(), year);
    if (!entry.ok()) {
      errors.push_back(absl::StrCat(file, ":", row.line, ": ", entry.status().message()));
      continue;
    }
    auto [it, inserted] = first_line.emplace(entry->date, row.line);
    if (!inserted) {
      errors.push_back(absl::StrCat(file, ":", row.line, ": date: ", FormatDate(entry->date),
                                    " is listed twice (first on line ", it->second, ")"));
      continue;
    }
    out.entries.push_back(*std::move(entry));
  }
  std::sort(out.entries.begin(), out.entries.end(),
            [](const CalendarEntry& a, const CalendarEntry& b) { return a.date < b.date; });
  return out;
}

// "dir/2025.csv" -> 2025, or 0 if the name is not YYYY.csv.
int YearOfFileName(const std::string& file) {
  const std::string base = std::filesystem::path(file).filename().string();
  int year = 0;
  if (base.size() != 8 || !absl::EndsWith(base, ".csv")) return 0;
  for (int i = 0; i < 4; ++i) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(base[i]))) return 0;
  }
  if (!absl::SimpleAtoi(absl::string_view(base).substr(0, 4), &year)) return 0;
  return year;
}

}  // namespace

struct WorkingCalendar::DayTable {
  std::vector<uint8_t> working;        // per day from kTableFirstDay
  std::vector<int32_t> before;         // working days in [kTableFirstDay, day); size days + 1
  std::vector<int32_t> working_days;   // offsets of the working days, ascending
};

CalendarYear WorkingCalendar::ProvisionalYear(int year) {
  struct Holiday {
    Date date;
    std::string name;
  };
  std::vector<Holiday> holidays;
  holidays.push_back({Date(year, 1, 1), "Tết Dương lịch"});
  // Tết: the last day of the old lunar year and the first four of the new.
  const Date tet = LunarNewYear(year);
  for (int i = -1; i < 4; ++i) holidays.push_back({tet + i, "Tết Nguyên đán"});
  auto hung_kings = LunarToSolar(LunarDate{year, 3, 10, false});
  if (hung_kings.ok()) holidays.push_back({*hung_kings, "Giỗ Tổ Hùng Vương"});
  holidays.push_back({Date(year, 4, 30), "Ngày Chiến thắng"});
  holidays.push_back({Date(year, 5, 1), "Ngày Quốc tế Lao động"});
  // Art. 112 gives 2 September and one adjacent day; the rule takes the day
  // before, which is what most announcements chose.
  holidays.push_back({Date(year, 9, 1), "Quốc khánh (ngày liền kề)"});
  holidays.push_back({Date(year, 9, 2), "Quốc khánh"});
  std::stable_sort(holidays.begin(), holidays.end(),
                   [](const Holiday& a, const Holiday& b) { return a.date < b.date; });

  std::set<Date> taken;  // holiday dates, then compensation days as they are given
  for (const auto& h : holidays) taken.insert(h.date);
  std::set<Date> observed;  // weekday holidays already listed
  CalendarYear out;
  out.year = year;
  out.provisional = true;
  for (const auto& h : holidays) {
    // Two holidays on one weekday (Hùng Kings day can be 30 April): the
    // second is compensated like one on a weekend.
    if (!IsWeekend(h.date) && observed.insert(h.date).second) {
      out.entries.push_back({h.date, CalendarDayKind::kHoliday, h.name, kProvisionalSource});
      continue;
    }
    // Art. 111(3): a holiday on a weekly rest day is made up on the next
    // working day; consecutive ones take consecutive days.
    Date d = h.date + 1;
    while (IsWeekend(d) || taken.contains(d)) ++d;
    taken.insert(d);
    out.entries.push_back({d, CalendarDayKind::kDayOff, absl::StrCat("Nghỉ bù ", h.name), kProvisionalSource});
  }
  std::stable_sort(out.entries.begin(), out.entries.end(),
                   [](const CalendarEntry& a, const CalendarEntry& b) { return a.date < b.date; });
  return out;
}

namespace {

// ProvisionalYear for every year of the table, computed once.
const CalendarYear& CachedProvisionalYear(int year) {
  static const auto* years = [] {
    auto* v = new std::vector<CalendarYear>;
    for (int y = kFirstYear; y <= kLastYear; ++y) v->push_back(WorkingCalendar::ProvisionalYear(y));
    return v;
  }();
  return (*years)[year - kFirstYear];
}

}  // namespace

WorkingCalendar WorkingCalendar::Build(absl::flat_hash_map<int, CalendarYear> published, std::string version) {
  WorkingCalendar cal;
  cal.version_ = std::move(version);
  for (const auto& [year, _] : published) cal.published_years_.push_back(year);
  std::sort(cal.published_years_.begin(), cal.published_years_.end());
  cal.years_ = std::move(published);
  for (int y = kFirstYear; y <= kLastYear; ++y) {
    if (!cal.years_.contains(y)) cal.years_.emplace(y, CachedProvisionalYear(y));
  }

  auto table = std::make_shared<DayTable>();
  const int64_t days = kTableEndDay - kTableFirstDay;
  table->working.resize(days);
  for (int64_t i = 0; i < days; ++i) table->working[i] = IsWeekend(kTableFirstDay + i) ? 0 : 1;
  for (const auto& [year, data] : cal.years_) {
    for (const auto& e : data.entries) {
      table->working[e.date - kTableFirstDay] = e.kind == CalendarDayKind::kWorkingDay ? 1 : 0;
    }
  }
  table->before.resize(days + 1);
  table->before[0] = 0;
  for (int64_t i = 0; i < days; ++i) {
    table->before[i + 1] = table->before[i] + table->working[i];
    if (table->working[i]) table->working_days.push_back(static_cast<int32_t>(i));
  }
  cal.table_ = std::move(table);
  return cal;
}

WorkingCalendar WorkingCalendar::RulesOnly() { return Build({}, kRulesOnlyVersion); }

absl::StatusOr<WorkingCalendar> WorkingCalendar::FromFiles(const std::map<std::string, std::string>& files) {
  std::vector<std::string> errors;
  absl::flat_hash_map<int, CalendarYear> published;
  std::map<int, std::string> file_of_year;
  for (const auto& [file, content] : files) {
    const int year = YearOfFileName(file);
    if (year == 0) {
      errors.push_back(absl::StrCat(file, ": the file name must be YYYY.csv, the year it lists"));
      continue;
    }
    if (year < kFirstYear || year > kLastYear) {
      errors.push_back(absl::StrFormat("%s: year %d is outside the supported range %d..%d", file, year,
                                       kFirstYear, kLastYear));
      continue;
    }
    auto [it, inserted] = file_of_year.emplace(year, file);
    if (!inserted) {
      errors.push_back(absl::StrCat(file, ": year ", year, " is already given by ", it->second));
      continue;
    }
    published.emplace(year, ParseYearFile(file, content, year, errors));
  }
  if (!errors.empty()) return absl::InvalidArgumentError(absl::StrJoin(errors, "\n"));
  if (files.empty()) return Build({}, kRulesOnlyVersion);

  // Same data, same version, wherever the directory lives: hash by year.
  uint64_t h = Fnv1a64("");
  for (const auto& [year, file] : file_of_year) {
    const std::string& content = files.at(file);
    h = Fnv1a64(absl::StrCat(year, ".csv\n", content.size(), "\n"), h);
    h = Fnv1a64(content, h);
  }
  return Build(std::move(published), absl::StrFormat("%016x", h));
}

absl::StatusOr<WorkingCalendar> WorkingCalendar::LoadDirectory(const std::string& directory) {
  std::error_code ec;
  std::filesystem::directory_iterator it(directory, ec);
  if (ec) {
    return absl::NotFoundError(absl::StrCat("cannot read calendar directory '", directory, "': ", ec.message()));
  }
  std::map<std::string, std::string> files;
  for (const auto& entry : it) {
    if (!entry.is_regular_file() || entry.path().extension() != ".csv") continue;
    const std::string path = entry.path().string();
    std::ifstream in(entry.path(), std::ios::binary);
    if (!in) return absl::NotFoundError(absl::StrCat("cannot read calendar file '", path, "'"));
    std::ostringstream content;
    content << in.rdbuf();
    files.emplace(path, content.str());
  }
  return FromFiles(files);
}

bool WorkingCalendar::IsWorkingDay(Date d) const {
  if (table_ != nullptr && d >= kTableFirstDay && d < kTableEndDay) return table_->working[d - kTableFirstDay] != 0;
  return !IsWeekend(d);
}

bool WorkingCalendar::IsProvisional(int year) const {
  auto it = years_.find(year);
  return it == years_.end() || it->second.provisional;
}

const CalendarYear& WorkingCalendar::Year(int year) const {
  auto it = years_.find(year);
  if (it != years_.end()) return it->second;
  return WeekendOnlyYear(year);
}

std::vector<int> WorkingCalendar::published_years() const { return published_years_; }

int64_t WorkingCalendar::WorkingDaysBefore(Date d) const {
  if (d <= kTableFirstDay) return -WeekdaysBetween(d, kTableFirstDay);
  if (table_ == nullptr) return WeekdaysBetween(kTableFirstDay, d);
  if (d <= kTableEndDay) return table_->before[d - kTableFirstDay];
  return table_->before.back() + WeekdaysBetween(kTableEndDay, d);
}

Date WorkingCalendar::WorkingDayAt(int64_t index) const {
  if (index < 0) return NthWeekdayBefore(kTableFirstDay, -index);
  if (table_ == nullptr) return NthWeekdayFrom(kTableFirstDay, index);
  const int64_t in_table = static_cast<int64_t>(table_->working_days.size());
  if (index < in_table) return kTableFirstDay + table_->working_days[index];
  return NthWeekdayFrom(kTableEndDay, index - in_table);
}

Date WorkingCalendar::NextWorkingDayOnOrAfter(Date d) const { return WorkingDayAt(WorkingDaysBefore(d)); }

Date WorkingCalendar::AddWorkingDays(Date d, int n) const {
  if (n == 0) return NextWorkingDayOnOrAfter(d);
  // The first working day after d has index WorkingDaysBefore(d + 1); a
  // negative n counts back from d the same way.
  if (n > 0) return WorkingDayAt(WorkingDaysBefore(d + 1) + n - 1);
  return WorkingDayAt(WorkingDaysBefore(d) + n);
}

int WorkingCalendar::WorkingDaysBetween(Date from, Date to) const {
  if (to <= from) return 0;
  return static_cast<int>(WorkingDaysBefore(to) - WorkingDaysBefore(from));
}

absl::Time WorkingCalendar::AddWorkingHours(absl::Time start, int hours) const {
  if (hours <= 0) return start;
  const absl::TimeZone tz = VietnamTimeZone();
  const OfficeHours& oh = office_hours_;
  const absl::Duration morning_start = absl::Minutes(oh.morning_start_minute);
  const absl::Duration morning_end = absl::Minutes(oh.morning_end_minute);
  const absl::Duration afternoon_start = absl::Minutes(oh.afternoon_start_minute);
  const absl::Duration afternoon_end = absl::Minutes(oh.afternoon_end_minute);
  const absl::Duration morning = morning_end - morning_start;
  const absl::Duration per_day = morning + (afternoon_end - afternoon_start);
  if (per_day <= absl::ZeroDuration()) return start;

  Date day(absl::ToCivilDay(start, tz));
  absl::Duration at = start - absl::FromCivil(day, tz);  // since local midnight
  // Move to where office time next runs.
  if (!IsWorkingDay(day)) {
    day = NextWorkingDayOnOrAfter(day);
    at = morning_start;
  } else if (at >= afternoon_end) {
    day = AddWorkingDays(day, 1);
    at = morning_start;
  }
  if (at < morning_start) {
    at = morning_start;
  } else if (at >= morning_end && at < afternoon_start) {
    at = afternoon_start;
  }

  // `at` is inside a block: place `offset` of office time after the start of
  // `day`'s office hours.
  auto place = [&](absl::Duration offset) {
    return offset <= morning ? morning_start + offset : afternoon_start + (offset - morning);
  };
  const absl::Duration done_today = at < morning_end ? at - morning_start : morning + (at - afternoon_start);
  absl::Duration remaining = absl::Hours(hours);
  if (remaining <= per_day - done_today) {
    return absl::FromCivil(day, tz) + place(done_today + remaining);
  }
  remaining -= per_day - done_today;
  absl::Duration last_day;
  int64_t full_days = absl::IDivDuration(remaining, per_day, &last_day);
  if (last_day == absl::ZeroDuration()) {
    last_day = per_day;
  } else {
    ++full_days;
  }
  const Date end_day = AddWorkingDays(day, static_cast<int>(full_days));
  return absl::FromCivil(end_day, tz) + place(last_day);
}

}  // namespace pstrack
