// Tests for the agency value type and the rules an agency satisfies on its own.
#include "services/agencies/agency.h"

#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace pstrack {
namespace {

// A valid department of Quảng Ninh, to be broken one field at a time.
Agency Department() {
  Agency a;
  a.code = "P22.STP";
  a.name = "Sở Tư pháp tỉnh Quảng Ninh";
  a.level = AgencyLevel::kDepartment;
  a.parent_code = "P22";
  return a;
}

Agency Nation() {
  Agency a;
  a.code = "VN";
  a.name = "Việt Nam";
  a.level = AgencyLevel::kNation;
  return a;
}

// Expects `status` to be INVALID_ARGUMENT with a message starting "<field>: ".
void ExpectFieldError(const absl::Status& status, const std::string& field) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_TRUE(absl::StartsWith(status.message(), field + ": ")) << "want field " << field << ", got " << status;
}

TEST(ValidateAgencyCode, AcceptsTypicalCodes) {
  EXPECT_TRUE(ValidateAgencyCode("VN", "code").ok());
  EXPECT_TRUE(ValidateAgencyCode("P22.STP", "code").ok());
  EXPECT_TRUE(ValidateAgencyCode("F22.HALONG", "code").ok());
  EXPECT_TRUE(ValidateAgencyCode("01_A-B.C", "code").ok());
  EXPECT_TRUE(ValidateAgencyCode(std::string(64, 'A'), "code").ok());
}

TEST(ValidateAgencyCode, EmptyIsRequired) {
  absl::Status s = ValidateAgencyCode("", "agency.code");
  ExpectFieldError(s, "agency.code");
  EXPECT_TRUE(absl::StrContains(s.message(), "required")) << s;
}

TEST(ValidateAgencyCode, SixtyFiveCharactersIsTooLong) {
  absl::Status s = ValidateAgencyCode(std::string(65, 'A'), "agency.code");
  ExpectFieldError(s, "agency.code");
  EXPECT_TRUE(absl::StrContains(s.message(), "65")) << s;
}

TEST(ValidateAgencyCode, LowerCaseIsRejected) {
  ExpectFieldError(ValidateAgencyCode("p22", "agency.code"), "agency.code");
  ExpectFieldError(ValidateAgencyCode("P22.stp", "agency.code"), "agency.code");
}

TEST(ValidateAgencyCode, BadCharactersAreRejected) {
  ExpectFieldError(ValidateAgencyCode("P22/STP", "agency.code"), "agency.code");
  ExpectFieldError(ValidateAgencyCode("P22 STP", "agency.code"), "agency.code");
  ExpectFieldError(ValidateAgencyCode("P22,STP", "agency.code"), "agency.code");
  ExpectFieldError(ValidateAgencyCode("PĐ", "agency.code"), "agency.code");
}

TEST(ValidateAgencyCode, MustStartWithLetterOrDigit) {
  for (const char* code : {".P22", "_P22", "-P22"}) {
    absl::Status s = ValidateAgencyCode(code, "agency.code");
    ExpectFieldError(s, "agency.code");
    EXPECT_TRUE(absl::StrContains(s.message(), "start")) << s;
  }
  EXPECT_TRUE(ValidateAgencyCode("9P", "agency.code").ok());
}

TEST(ValidateAgencyFields, ValidDepartment) { EXPECT_TRUE(ValidateAgencyFields(Department()).ok()); }

TEST(ValidateAgencyFields, BadCodeNamesCode) {
  Agency a = Department();
  a.code = "p22.stp";
  ExpectFieldError(ValidateAgencyFields(a), "agency.code");
}

TEST(ValidateAgencyFields, PrefixIsConfigurable) {
  Agency a = Department();
  a.code = "";
  ExpectFieldError(ValidateAgencyFields(a, "agencies[3]"), "agencies[3].code");
}

TEST(ValidateAgencyFields, NameIsRequired) {
  Agency a = Department();
  a.name = "";
  ExpectFieldError(ValidateAgencyFields(a), "agency.name");
}

TEST(ValidateAgencyFields, NameMustBeCleanText) {
  Agency a = Department();
  a.name = "Sở\nTư pháp";
  ExpectFieldError(ValidateAgencyFields(a), "agency.name");
  a.name = "Sở \xFF";
  ExpectFieldError(ValidateAgencyFields(a), "agency.name");
}

TEST(ValidateAgencyFields, NameLengthCountsCharactersNotBytes) {
  Agency a = Department();
  std::string name;
  for (int i = 0; i < 256; ++i) name += "ả";  // 3 bytes each
  a.name = name;
  EXPECT_TRUE(ValidateAgencyFields(a).ok());
  a.name += "a";
  ExpectFieldError(ValidateAgencyFields(a), "agency.name");
}

TEST(ValidateAgencyFields, LevelIsRequired) {
  Agency a = Department();
  a.level = AgencyLevel::kUnspecified;
  ExpectFieldError(ValidateAgencyFields(a), "agency.level");
}

TEST(ValidateAgencyFields, UnknownLevelIsRejected) {
  Agency a = Department();
  a.level = static_cast<AgencyLevel>(7);
  ExpectFieldError(ValidateAgencyFields(a), "agency.level");
  a.level = static_cast<AgencyLevel>(-1);
  ExpectFieldError(ValidateAgencyFields(a), "agency.level");
}

TEST(ValidateAgencyFields, NationWithoutParentIsValid) { EXPECT_TRUE(ValidateAgencyFields(Nation()).ok()); }

TEST(ValidateAgencyFields, NationWithParentIsRejected) {
  Agency a = Nation();
  a.parent_code = "UN";
  ExpectFieldError(ValidateAgencyFields(a), "agency.parent_code");
}

TEST(ValidateAgencyFields, NonNationWithoutParentIsRejected) {
  for (AgencyLevel level : {AgencyLevel::kMinistry, AgencyLevel::kProvince, AgencyLevel::kDepartment,
                            AgencyLevel::kDistrict, AgencyLevel::kCommune}) {
    Agency a = Department();
    a.level = level;
    a.parent_code = "";
    absl::Status s = ValidateAgencyFields(a);
    ExpectFieldError(s, "agency.parent_code");
    EXPECT_TRUE(absl::StrContains(s.message(), AgencyLevelName(level))) << s;
  }
}

TEST(ValidateAgencyFields, BadParentCodeIsRejected) {
  Agency a = Department();
  a.parent_code = "p22";
  ExpectFieldError(ValidateAgencyFields(a), "agency.parent_code");
}

TEST(ValidateAgencyFields, OwnParentIsRejected) {
  Agency a = Department();
  a.parent_code = a.code;
  ExpectFieldError(ValidateAgencyFields(a), "agency.parent_code");
}

TEST(ValidateAgencyFields, AdminCodeLimitedToThirtyTwo) {
  Agency a = Department();
  a.admin_code = std::string(32, '1');
  EXPECT_TRUE(ValidateAgencyFields(a).ok());
  a.admin_code = std::string(33, '1');
  ExpectFieldError(ValidateAgencyFields(a), "agency.admin_code");
  a.admin_code = "0\n1";
  ExpectFieldError(ValidateAgencyFields(a), "agency.admin_code");
}

TEST(ValidateAgencyFields, ValidUntilAfterValidFromIsValid) {
  Agency a = Department();
  a.valid_from = Date(2025, 3, 1);
  a.valid_until = Date(2025, 3, 2);
  EXPECT_TRUE(ValidateAgencyFields(a).ok());
}

TEST(ValidateAgencyFields, ValidUntilEqualToValidFromIsRejected) {
  Agency a = Department();
  a.valid_from = Date(2025, 3, 1);
  a.valid_until = Date(2025, 3, 1);
  ExpectFieldError(ValidateAgencyFields(a), "agency.valid_until");
}

TEST(ValidateAgencyFields, ValidUntilBeforeValidFromIsRejected) {
  Agency a = Department();
  a.valid_from = Date(2025, 7, 1);
  a.valid_until = Date(2025, 3, 1);
  absl::Status s = ValidateAgencyFields(a);
  ExpectFieldError(s, "agency.valid_until");
  EXPECT_TRUE(absl::StrContains(s.message(), "2025-03-01")) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "2025-07-01")) << s;
}

TEST(ValidateAgencyFields, SuccessorWithValidUntilIsValid) {
  Agency a = Department();
  a.code = "P22.STNMT";
  a.valid_until = Date(2025, 3, 1);
  a.successor_code = "P22.SNNMT";
  EXPECT_TRUE(ValidateAgencyFields(a).ok());
}

TEST(ValidateAgencyFields, SuccessorWithoutValidUntilIsRejected) {
  Agency a = Department();
  a.successor_code = "P22.SNNMT";
  absl::Status s = ValidateAgencyFields(a);
  ExpectFieldError(s, "agency.successor_code");
  EXPECT_TRUE(absl::StrContains(s.message(), "valid_until")) << s;
}

TEST(ValidateAgencyFields, SelfSuccessorIsRejected) {
  Agency a = Department();
  a.valid_until = Date(2025, 3, 1);
  a.successor_code = a.code;
  ExpectFieldError(ValidateAgencyFields(a), "agency.successor_code");
}

TEST(ValidateAgencyFields, BadSuccessorCodeIsRejected) {
  Agency a = Department();
  a.valid_until = Date(2025, 3, 1);
  a.successor_code = "p22/x";
  ExpectFieldError(ValidateAgencyFields(a), "agency.successor_code");
}

TEST(LevelMayHaveParent, FullTable) {
  // Written from docs: nation -> ministry | province; province | ministry ->
  // department; province -> district (until 2025-06-30); province | district
  // -> commune. Rows are the child, columns the parent, both in enum order
  // nation, ministry, province, department, district, commune.
  constexpr bool kAllowed[6][6] = {
      /* nation     */ {false, false, false, false, false, false},
      /* ministry   */ {true, false, false, false, false, false},
      /* province   */ {true, false, false, false, false, false},
      /* department */ {false, true, true, false, false, false},
      /* district   */ {false, false, true, false, false, false},
      /* commune    */ {false, false, true, false, true, false},
  };
  for (int child = 1; child <= 6; ++child) {
    for (int parent = 1; parent <= 6; ++parent) {
      auto c = static_cast<AgencyLevel>(child);
      auto p = static_cast<AgencyLevel>(parent);
      EXPECT_EQ(LevelMayHaveParent(c, p), kAllowed[child - 1][parent - 1])
          << AgencyLevelName(c) << " under " << AgencyLevelName(p);
    }
  }
}

TEST(LevelMayHaveParent, UnspecifiedNeverFits) {
  for (int level = 0; level <= 6; ++level) {
    auto l = static_cast<AgencyLevel>(level);
    EXPECT_FALSE(LevelMayHaveParent(AgencyLevel::kUnspecified, l)) << AgencyLevelName(l);
    EXPECT_FALSE(LevelMayHaveParent(l, AgencyLevel::kUnspecified)) << AgencyLevelName(l);
  }
}

TEST(CheckParentLevel, RefusalIsFailedPreconditionNamingLevel) {
  Agency commune = Department();
  commune.level = AgencyLevel::kCommune;
  Agency parent = Department();
  absl::Status s = CheckParentLevel(commune, parent);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_TRUE(absl::StartsWith(s.message(), "agency.level: ")) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "P22.STP")) << s;

  Agency province;
  province.code = "P22";
  province.level = AgencyLevel::kProvince;
  EXPECT_TRUE(CheckParentLevel(commune, province).ok());
}

TEST(AgencyLevelName, NamesEveryLevel) {
  EXPECT_EQ(AgencyLevelName(AgencyLevel::kNation), "nation");
  EXPECT_EQ(AgencyLevelName(AgencyLevel::kMinistry), "ministry");
  EXPECT_EQ(AgencyLevelName(AgencyLevel::kProvince), "province");
  EXPECT_EQ(AgencyLevelName(AgencyLevel::kDepartment), "department");
  EXPECT_EQ(AgencyLevelName(AgencyLevel::kDistrict), "district");
  EXPECT_EQ(AgencyLevelName(AgencyLevel::kCommune), "commune");
  EXPECT_EQ(AgencyLevelName(AgencyLevel::kUnspecified), "unspecified");
}

TEST(ParseAgencyLevel, ParsesEveryName) {
  for (int level = 1; level <= kMaxAgencyLevel; ++level) {
    auto l = static_cast<AgencyLevel>(level);
    auto parsed = ParseAgencyLevel(AgencyLevelName(l), "level");
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, l);
  }
}

TEST(ParseAgencyLevel, CaseAndWhitespaceInsensitive) {
  auto parsed = ParseAgencyLevel("  Province ", "level");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, AgencyLevel::kProvince);
}

TEST(ParseAgencyLevel, EmptyIsRequired) {
  auto parsed = ParseAgencyLevel("", "level");
  ASSERT_FALSE(parsed.ok());
  ExpectFieldError(parsed.status(), "level");
  EXPECT_TRUE(absl::StrContains(parsed.status().message(), "required")) << parsed.status();
}

TEST(ParseAgencyLevel, UnknownNameIsRejected) {
  for (const char* name : {"huyen", "unspecified", "3"}) {
    auto parsed = ParseAgencyLevel(name, "level");
    ASSERT_FALSE(parsed.ok()) << name;
    ExpectFieldError(parsed.status(), "level");
  }
}

TEST(InForceOn, OpenEndedIsAlwaysInForce) {
  Agency a = Department();
  EXPECT_TRUE(a.InForceOn(Date(1900, 1, 1)));
  EXPECT_TRUE(a.InForceOn(Date(9999, 12, 31)));
}

TEST(InForceOn, ValidFromIsInclusive) {
  Agency a = Department();
  a.valid_from = Date(2025, 7, 1);
  EXPECT_FALSE(a.InForceOn(Date(2025, 6, 30)));
  EXPECT_TRUE(a.InForceOn(Date(2025, 7, 1)));
}

TEST(InForceOn, ValidUntilIsExclusive) {
  Agency a = Department();
  a.valid_until = Date(2025, 7, 1);
  EXPECT_TRUE(a.InForceOn(Date(2025, 6, 30)));
  EXPECT_FALSE(a.InForceOn(Date(2025, 7, 1)));
}

TEST(InForceOn, BoundedInterval) {
  Agency a = Department();
  a.valid_from = Date(2025, 3, 1);
  a.valid_until = Date(2025, 3, 2);
  EXPECT_FALSE(a.InForceOn(Date(2025, 2, 28)));
  EXPECT_TRUE(a.InForceOn(Date(2025, 3, 1)));
  EXPECT_FALSE(a.InForceOn(Date(2025, 3, 2)));
}

TEST(SameContent, IgnoresDerivedFields) {
  Agency a = Department();
  Agency b = a;
  b.path = "VN/P22/P22.STP";
  b.depth = 2;
  b.revision = 7;
  b.create_time = absl::FromUnixSeconds(1700000000);
  b.update_time = absl::FromUnixSeconds(1750000000);
  EXPECT_TRUE(a.SameContent(b));
  EXPECT_TRUE(b.SameContent(a));
}

TEST(SameContent, EveryClientFieldCounts) {
  const Agency base = Department();
  Agency a = base;
  a.code = "P22.SXD";
  EXPECT_FALSE(base.SameContent(a));
  a = base;
  a.name = "Sở Xây dựng";
  EXPECT_FALSE(base.SameContent(a));
  a = base;
  a.level = AgencyLevel::kCommune;
  EXPECT_FALSE(base.SameContent(a));
  a = base;
  a.parent_code = "P24";
  EXPECT_FALSE(base.SameContent(a));
  a = base;
  a.admin_code = "22";
  EXPECT_FALSE(base.SameContent(a));
  a = base;
  a.valid_from = Date(2025, 1, 1);
  EXPECT_FALSE(base.SameContent(a));
  a = base;
  a.valid_until = Date(2025, 1, 1);
  EXPECT_FALSE(base.SameContent(a));
  a = base;
  a.successor_code = "P22.SXD";
  EXPECT_FALSE(base.SameContent(a));
}

}  // namespace
}  // namespace pstrack
