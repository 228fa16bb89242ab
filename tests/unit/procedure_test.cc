// Tests for the procedure value type and the rules a procedure satisfies on
// its own.
#include "services/catalog/procedure.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace pstrack {
namespace {

// Đăng ký khai sinh as shipped in data/sample/procedures.csv; tests break one
// field at a time.
Procedure BirthRegistration() {
  Procedure p;
  p.code = "1.001193";
  p.name = "Đăng ký khai sinh";
  p.field = "Hộ tịch";
  p.levels = {AgencyLevel::kCommune};
  p.online_mode = OnlineMode::kFull;
  p.full_online_eligible = true;
  p.resolution_amount = 8;
  p.resolution_unit = TimeUnit::kWorkingHours;
  p.population_db_connected = true;
  return p;
}

void ExpectFieldError(const absl::Status& status, const std::string& field) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_TRUE(absl::StartsWith(status.message(), field + ": ")) << "want field " << field << ", got " << status;
}

TEST(ValidateProcedureCode, AcceptsNationalDatabaseCodes) {
  EXPECT_TRUE(ValidateProcedureCode("1.001193", "code").ok());
  EXPECT_TRUE(ValidateProcedureCode("3.000182", "code").ok());
  EXPECT_TRUE(ValidateProcedureCode("9.999999", "code").ok());
}

TEST(ValidateProcedureCode, EmptyIsRequired) {
  absl::Status s = ValidateProcedureCode("", "procedure.code");
  ExpectFieldError(s, "procedure.code");
  EXPECT_TRUE(absl::StrContains(s.message(), "required")) << s;
}

TEST(ValidateProcedureCode, RejectsMalformedCodes) {
  for (const char* code : {"1.00119", "1.0011930", "0.001193", "1-001193", "A.001193", "1.00119A", "11.001193",
                           " 1.001193", "1,001193"}) {
    absl::Status s = ValidateProcedureCode(code, "procedure.code");
    ExpectFieldError(s, "procedure.code");
    EXPECT_TRUE(absl::StrContains(s.message(), "D.DDDDDD")) << s;
  }
}

TEST(ValidateProcedureFields, ValidProcedure) {
  EXPECT_TRUE(ValidateProcedureFields(BirthRegistration()).ok());
}

TEST(ValidateProcedureFields, BadCodeNamesCode) {
  Procedure p = BirthRegistration();
  p.code = "1.00119";
  ExpectFieldError(ValidateProcedureFields(p), "procedure.code");
}

TEST(ValidateProcedureFields, PrefixIsConfigurable) {
  Procedure p = BirthRegistration();
  p.name = "";
  ExpectFieldError(ValidateProcedureFields(p, "procedures[2]"), "procedures[2].name");
}

TEST(ValidateProcedureFields, NameIsRequired) {
  Procedure p = BirthRegistration();
  p.name = "";
  ExpectFieldError(ValidateProcedureFields(p), "procedure.name");
}

TEST(ValidateProcedureFields, NameMustBeCleanAndAtMost1024Characters) {
  Procedure p = BirthRegistration();
  p.name = "Đăng ký\x01";
  ExpectFieldError(ValidateProcedureFields(p), "procedure.name");
  std::string name;
  for (int i = 0; i < 1024; ++i) name += "ý";
  p.name = name;
  EXPECT_TRUE(ValidateProcedureFields(p).ok());
  p.name += "y";
  ExpectFieldError(ValidateProcedureFields(p), "procedure.name");
}

TEST(ValidateProcedureFields, FieldIsRequired) {
  Procedure p = BirthRegistration();
  p.field = "";
  absl::Status s = ValidateProcedureFields(p);
  ExpectFieldError(s, "procedure.field");
  EXPECT_TRUE(absl::StrContains(s.message(), "required")) << s;
}

TEST(ValidateProcedureFields, FieldAtMost256Characters) {
  Procedure p = BirthRegistration();
  p.field = std::string(256, 'x');
  EXPECT_TRUE(ValidateProcedureFields(p).ok());
  p.field = std::string(257, 'x');
  ExpectFieldError(ValidateProcedureFields(p), "procedure.field");
}

TEST(ValidateProcedureFields, LevelsAndAgencyCodesBothEmptyIsRejected) {
  Procedure p = BirthRegistration();
  p.levels.clear();
  p.agency_codes.clear();
  ExpectFieldError(ValidateProcedureFields(p), "procedure.levels");
}

TEST(ValidateProcedureFields, AgencyCodesAloneSuffice) {
  Procedure p = BirthRegistration();
  p.levels.clear();
  p.agency_codes = {"P22.STP"};
  EXPECT_TRUE(ValidateProcedureFields(p).ok());
}

TEST(ValidateProcedureFields, BadAgencyCodeIsRejected) {
  Procedure p = BirthRegistration();
  p.agency_codes = {"P22.STP", "p22/stc"};
  ExpectFieldError(ValidateProcedureFields(p), "procedure.agency_codes");
}

TEST(ValidateProcedureFields, UnknownLevelIsRejected) {
  Procedure p = BirthRegistration();
  p.levels = {AgencyLevel::kCommune, static_cast<AgencyLevel>(9)};
  absl::Status s = ValidateProcedureFields(p);
  ExpectFieldError(s, "procedure.levels");
  EXPECT_TRUE(absl::StrContains(s.message(), "9")) << s;
  p.levels = {AgencyLevel::kUnspecified};
  ExpectFieldError(ValidateProcedureFields(p), "procedure.levels");
}

TEST(ValidateProcedureFields, OnlineModeIsRequired) {
  Procedure p = BirthRegistration();
  p.online_mode = OnlineMode::kUnspecified;
  ExpectFieldError(ValidateProcedureFields(p), "procedure.online_mode");
}

TEST(ValidateProcedureFields, UnknownOnlineModeIsRejected) {
  Procedure p = BirthRegistration();
  p.online_mode = static_cast<OnlineMode>(4);
  ExpectFieldError(ValidateProcedureFields(p), "procedure.online_mode");
  p.online_mode = static_cast<OnlineMode>(-1);
  ExpectFieldError(ValidateProcedureFields(p), "procedure.online_mode");
}

TEST(ValidateProcedureFields, FullModeRequiresFullOnlineEligible) {
  Procedure p = BirthRegistration();
  p.full_online_eligible = false;
  ExpectFieldError(ValidateProcedureFields(p), "procedure.full_online_eligible");
}

TEST(ValidateProcedureFields, PartialOrNoneModeMayBeEligibleOrNot) {
  for (OnlineMode mode : {OnlineMode::kNone, OnlineMode::kPartial}) {
    for (bool eligible : {false, true}) {
      Procedure p = BirthRegistration();
      p.online_mode = mode;
      p.full_online_eligible = eligible;
      EXPECT_TRUE(ValidateProcedureFields(p).ok()) << OnlineModeName(mode) << " " << eligible;
    }
  }
}

TEST(ValidateProcedureFields, OnlinePaymentRequiresFeeBearing) {
  Procedure p = BirthRegistration();
  p.online_payment_integrated = true;
  p.fee_bearing = false;
  ExpectFieldError(ValidateProcedureFields(p), "procedure.online_payment_integrated");
  p.fee_bearing = true;
  EXPECT_TRUE(ValidateProcedureFields(p).ok());
}

TEST(ValidateProcedureFields, ResolutionUnitIsRequired) {
  Procedure p = BirthRegistration();
  p.resolution_unit = TimeUnit::kUnspecified;
  ExpectFieldError(ValidateProcedureFields(p), "procedure.resolution_time.unit");
}

TEST(ValidateProcedureFields, UnknownResolutionUnitIsRejected) {
  Procedure p = BirthRegistration();
  p.resolution_unit = static_cast<TimeUnit>(3);
  ExpectFieldError(ValidateProcedureFields(p), "procedure.resolution_time.unit");
}

TEST(ValidateProcedureFields, ZeroAmountIsAllowed) {
  Procedure p = BirthRegistration();
  p.resolution_amount = 0;  // resolved on the spot
  EXPECT_TRUE(ValidateProcedureFields(p).ok());
}

TEST(ValidateProcedureFields, AtMost365WorkingDays) {
  Procedure p = BirthRegistration();
  p.resolution_unit = TimeUnit::kWorkingDays;
  p.resolution_amount = 365;
  EXPECT_TRUE(ValidateProcedureFields(p).ok());
  p.resolution_amount = 366;
  absl::Status s = ValidateProcedureFields(p);
  ExpectFieldError(s, "procedure.resolution_time.amount");
  EXPECT_TRUE(absl::StrContains(s.message(), "366")) << s;
}

TEST(ValidateProcedureFields, AtMost2920WorkingHours) {
  Procedure p = BirthRegistration();
  p.resolution_unit = TimeUnit::kWorkingHours;
  p.resolution_amount = 2920;
  EXPECT_TRUE(ValidateProcedureFields(p).ok());
  p.resolution_amount = 2921;
  ExpectFieldError(ValidateProcedureFields(p), "procedure.resolution_time.amount");
}

TEST(ValidateProcedureFields, ValidUntilMustFollowValidFrom) {
  Procedure p = BirthRegistration();
  p.valid_from = Date(2025, 7, 1);
  p.valid_until = Date(2025, 7, 1);
  ExpectFieldError(ValidateProcedureFields(p), "procedure.valid_until");
  p.valid_until = Date(2025, 7, 2);
  EXPECT_TRUE(ValidateProcedureFields(p).ok());
}

TEST(Normalize, SortsAndDeduplicates) {
  Procedure p = BirthRegistration();
  p.levels = {AgencyLevel::kCommune, AgencyLevel::kProvince, AgencyLevel::kCommune, AgencyLevel::kDistrict};
  p.agency_codes = {"P22.STP", "P22.CAT", "P22.STP", "P22.SYT"};
  p.Normalize();
  EXPECT_EQ(p.levels,
            (std::vector<AgencyLevel>{AgencyLevel::kProvince, AgencyLevel::kDistrict, AgencyLevel::kCommune}));
  EXPECT_EQ(p.agency_codes, (std::vector<std::string>{"P22.CAT", "P22.STP", "P22.SYT"}));
}

TEST(Normalize, OrderOfInputDoesNotMatterAfterwards) {
  Procedure a = BirthRegistration();
  Procedure b = BirthRegistration();
  a.levels = {AgencyLevel::kCommune, AgencyLevel::kProvince};
  b.levels = {AgencyLevel::kProvince, AgencyLevel::kCommune, AgencyLevel::kProvince};
  EXPECT_FALSE(a.SameContent(b));
  a.Normalize();
  b.Normalize();
  EXPECT_TRUE(a.SameContent(b));
}

TEST(SameContent, IgnoresRevisionAndTimes) {
  Procedure a = BirthRegistration();
  Procedure b = a;
  b.revision = 3;
  b.create_time = absl::FromUnixSeconds(1700000000);
  b.update_time = absl::FromUnixSeconds(1750000000);
  EXPECT_TRUE(a.SameContent(b));
}

TEST(SameContent, EveryClientFieldCounts) {
  const Procedure base = BirthRegistration();
  std::vector<Procedure> changed(14, base);
  changed[0].code = "1.000894";
  changed[1].name = "Đăng ký kết hôn";
  changed[2].field = "Chứng thực";
  changed[3].levels = {AgencyLevel::kDistrict};
  changed[4].agency_codes = {"P22.STP"};
  changed[5].online_mode = OnlineMode::kPartial;
  changed[6].full_online_eligible = false;
  changed[7].resolution_amount = 9;
  changed[8].resolution_unit = TimeUnit::kWorkingDays;
  changed[9].fee_bearing = true;
  changed[10].online_payment_integrated = true;
  changed[11].population_db_connected = false;
  changed[12].valid_from = Date(2025, 1, 1);
  changed[13].valid_until = Date(2025, 1, 1);
  for (size_t i = 0; i < changed.size(); ++i) EXPECT_FALSE(base.SameContent(changed[i])) << "field " << i;
}

TEST(InForceOn, HalfOpenInterval) {
  Procedure p = BirthRegistration();
  p.valid_from = Date(2025, 7, 1);
  p.valid_until = Date(2026, 1, 1);
  EXPECT_FALSE(p.InForceOn(Date(2025, 6, 30)));
  EXPECT_TRUE(p.InForceOn(Date(2025, 7, 1)));
  EXPECT_TRUE(p.InForceOn(Date(2025, 12, 31)));
  EXPECT_FALSE(p.InForceOn(Date(2026, 1, 1)));
}

TEST(ParseOnlineMode, ParsesNames) {
  EXPECT_EQ(*ParseOnlineMode("none", "m"), OnlineMode::kNone);
  EXPECT_EQ(*ParseOnlineMode("partial", "m"), OnlineMode::kPartial);
  EXPECT_EQ(*ParseOnlineMode("full", "m"), OnlineMode::kFull);
  EXPECT_EQ(*ParseOnlineMode(" FULL ", "m"), OnlineMode::kFull);
}

TEST(ParseOnlineMode, RoundTripsWithName) {
  for (OnlineMode mode : {OnlineMode::kNone, OnlineMode::kPartial, OnlineMode::kFull}) {
    auto parsed = ParseOnlineMode(OnlineModeName(mode), "m");
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, mode);
  }
}

TEST(ParseOnlineMode, EmptyIsRequired) {
  auto parsed = ParseOnlineMode("", "online_mode");
  ASSERT_FALSE(parsed.ok());
  ExpectFieldError(parsed.status(), "online_mode");
  EXPECT_TRUE(absl::StrContains(parsed.status().message(), "required")) << parsed.status();
}

TEST(ParseOnlineMode, UnknownIsRejected) {
  for (const char* text : {"online", "unspecified", "3", "ful"}) {
    auto parsed = ParseOnlineMode(text, "online_mode");
    ASSERT_FALSE(parsed.ok()) << text;
    ExpectFieldError(parsed.status(), "online_mode");
  }
}

TEST(ParseTimeUnit, ParsesNamesAndShortForms) {
  EXPECT_EQ(*ParseTimeUnit("working_days", "u"), TimeUnit::kWorkingDays);
  EXPECT_EQ(*ParseTimeUnit("days", "u"), TimeUnit::kWorkingDays);
  EXPECT_EQ(*ParseTimeUnit("working_hours", "u"), TimeUnit::kWorkingHours);
  EXPECT_EQ(*ParseTimeUnit("hours", "u"), TimeUnit::kWorkingHours);
  EXPECT_EQ(*ParseTimeUnit(" Working_Days ", "u"), TimeUnit::kWorkingDays);
}

TEST(ParseTimeUnit, RoundTripsWithName) {
  for (TimeUnit unit : {TimeUnit::kWorkingDays, TimeUnit::kWorkingHours}) {
    auto parsed = ParseTimeUnit(TimeUnitName(unit), "u");
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, unit);
  }
}

TEST(ParseTimeUnit, EmptyIsRequired) {
  auto parsed = ParseTimeUnit("  ", "resolution_unit");
  ASSERT_FALSE(parsed.ok());
  ExpectFieldError(parsed.status(), "resolution_unit");
}

TEST(ParseTimeUnit, UnknownIsRejected) {
  for (const char* text : {"weeks", "calendar_days", "unspecified"}) {
    auto parsed = ParseTimeUnit(text, "resolution_unit");
    ASSERT_FALSE(parsed.ok()) << text;
    ExpectFieldError(parsed.status(), "resolution_unit");
  }
}

}  // namespace
}  // namespace pstrack
