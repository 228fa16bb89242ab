// Helpers shared by the tests: a temporary directory removed at the end,
// builders for valid agencies and procedures, the published calendar.
#ifndef PSTRACK_TESTS_TEST_UTIL_H_
#define PSTRACK_TESTS_TEST_UTIL_H_

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "services/agencies/agency.h"
#include "services/calendar/working_calendar.h"
#include "services/catalog/procedure.h"

namespace pstrack::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "pstrack-test-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline Agency MakeAgency(std::string code, AgencyLevel level, std::string parent, std::string name = "") {
  Agency a;
  a.code = std::move(code);
  a.name = name.empty() ? "Agency " + a.code : std::move(name);
  a.level = level;
  a.parent_code = std::move(parent);
  return a;
}

inline Procedure MakeProcedure(std::string code, std::vector<AgencyLevel> levels = {AgencyLevel::kCommune}) {
  Procedure p;
  p.code = std::move(code);
  p.name = "Thủ tục " + p.code;
  p.field = "Hộ tịch";
  p.levels = std::move(levels);
  p.online_mode = OnlineMode::kFull;
  p.full_online_eligible = true;
  p.resolution_amount = 5;
  p.resolution_unit = TimeUnit::kWorkingDays;
  return p;
}

// The working-day calendars of data/calendar, loaded once.
inline std::shared_ptr<const WorkingCalendar> PublishedCalendar() {
  static auto calendar = [] {
    auto c = WorkingCalendar::LoadDirectory(std::string(PSTRACK_SOURCE_DIR) + "/data/calendar");
    EXPECT_TRUE(c.ok()) << c.status();
    return std::make_shared<const WorkingCalendar>(c.ok() ? *std::move(c) : WorkingCalendar::RulesOnly());
  }();
  return calendar;
}

}  // namespace pstrack::testing

#endif  // PSTRACK_TESTS_TEST_UTIL_H_
