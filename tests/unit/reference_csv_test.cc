// Tests for reading agency and procedure CSV files, and for the shipped
// reference data: it parses, validates, and states the 2025 province mergers
// of Resolution 202/2025/QH15 as docs describe them.
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "services/agencies/agency.h"
#include "services/agencies/agency_csv.h"
#include "services/catalog/procedure.h"
#include "services/catalog/procedure_csv.h"

namespace pstrack {
namespace {

constexpr char kAgencyHeader[] = "code,name,level,parent_code,admin_code,valid_from,valid_until,successor_code\n";
constexpr char kProcedureHeader[] =
    "code,name,field,levels,agency_codes,online_mode,full_online_eligible,resolution_time,resolution_unit,"
    "fee_bearing,online_payment_integrated,population_db_connected,valid_from,valid_until\n";
constexpr char kGoodProcedure[] = "1.001193,Đăng ký khai sinh,Hộ tịch,commune,,full,true,8,working_hours,false,false,true,,\n";

std::string ReadSourceFile(const std::string& relative) {
  std::ifstream in(std::string(PSTRACK_SOURCE_DIR) + relative, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << relative;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Expects `status` to be INVALID_ARGUMENT naming `column` first.
void ExpectColumnError(const absl::Status& status, const std::string& column) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_TRUE(absl::StartsWith(status.message(), column + ": ")) << "want column " << column << ", got " << status;
}

// Parses a file of agencies that must all read and validate.
std::vector<Agency> LoadAgencies(const std::string& relative) {
  std::vector<Agency> out;
  auto rows = ParseAgencyCsv(ReadSourceFile(relative));
  EXPECT_TRUE(rows.ok()) << rows.status();
  if (!rows.ok()) return out;
  for (const auto& row : *rows) {
    if (!row.agency.ok()) {
      ADD_FAILURE() << relative << " line " << row.line << ": " << row.agency.status();
      continue;
    }
    out.push_back(*row.agency);
  }
  return out;
}

// ---------------------------------------------------------------------------
// ParseAgencyCsv

TEST(ParseAgencyCsv, ReadsEveryColumn) {
  auto rows = ParseAgencyCsv(std::string(kAgencyHeader) +
                             "P22.STNMT,Sở Tài nguyên và Môi trường,department,P22,x1,2020-01-01,2025-03-01,P22.SNNMT\n");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].line, 2);
  ASSERT_TRUE((*rows)[0].agency.ok()) << (*rows)[0].agency.status();
  const Agency& a = *(*rows)[0].agency;
  EXPECT_EQ(a.code, "P22.STNMT");
  EXPECT_EQ(a.name, "Sở Tài nguyên và Môi trường");
  EXPECT_EQ(a.level, AgencyLevel::kDepartment);
  EXPECT_EQ(a.parent_code, "P22");
  EXPECT_EQ(a.admin_code, "x1");
  EXPECT_EQ(a.valid_from, Date(2020, 1, 1));
  EXPECT_EQ(a.valid_until, Date(2025, 3, 1));
  EXPECT_EQ(a.successor_code, "P22.SNNMT");
}

TEST(ParseAgencyCsv, OptionalColumnsMayBeLeftOut) {
  auto rows = ParseAgencyCsv("code,name,level,parent_code\nVN,Việt Nam,nation,\n");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 1u);
  ASSERT_TRUE((*rows)[0].agency.ok()) << (*rows)[0].agency.status();
  EXPECT_FALSE((*rows)[0].agency->valid_from.has_value());
  EXPECT_TRUE((*rows)[0].agency->successor_code.empty());
}

TEST(ParseAgencyCsv, MissingRequiredColumnFailsTheFile) {
  auto rows = ParseAgencyCsv("code,name,level\nVN,Việt Nam,nation\n");
  ASSERT_FALSE(rows.ok());
  EXPECT_TRUE(absl::StrContains(rows.status().message(), "parent_code")) << rows.status();
}

TEST(ParseAgencyCsv, UnclosedQuoteFailsTheFile) {
  auto rows = ParseAgencyCsv(std::string(kAgencyHeader) + "VN,\"Việt Nam,nation,,,,,\n");
  ASSERT_FALSE(rows.ok());
  EXPECT_TRUE(absl::StrContains(rows.status().message(), "line 2")) << rows.status();
}

TEST(ParseAgencyCsv, BadLevelIsReportedOnItsLine) {
  auto rows = ParseAgencyCsv(std::string(kAgencyHeader) +
                             "VN,Việt Nam,nation,,,,,\n"
                             "P22,Tỉnh Quảng Ninh,provinc,VN,22,,,\n"
                             "P01,Thành phố Hà Nội,province,VN,01,,,\n");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_TRUE((*rows)[0].agency.ok());
  EXPECT_EQ((*rows)[1].line, 3);
  ASSERT_FALSE((*rows)[1].agency.ok());
  ExpectColumnError((*rows)[1].agency.status(), "level");
  EXPECT_TRUE(absl::StrContains((*rows)[1].agency.status().message(), "provinc")) << (*rows)[1].agency.status();
  EXPECT_EQ((*rows)[2].line, 4);
  EXPECT_TRUE((*rows)[2].agency.ok());
}

TEST(ParseAgencyCsv, MissingLevelIsRequired) {
  auto rows = ParseAgencyCsv(std::string(kAgencyHeader) + "P22,Tỉnh Quảng Ninh,,VN,22,,,\n");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_FALSE((*rows)[0].agency.ok());
  ExpectColumnError((*rows)[0].agency.status(), "level");
}

TEST(ParseAgencyCsv, BadDatesNameTheirColumn) {
  auto rows = ParseAgencyCsv(std::string(kAgencyHeader) +
                             "F02,Tỉnh Hà Giang,province,VN,02,2025-13-01,,\n"
                             "F06,Tỉnh Bắc Kạn,province,VN,06,,2025-7-1,P19\n");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 2u);
  ASSERT_FALSE((*rows)[0].agency.ok());
  ExpectColumnError((*rows)[0].agency.status(), "valid_from");
  EXPECT_EQ((*rows)[1].line, 3);
  ASSERT_FALSE((*rows)[1].agency.ok());
  ExpectColumnError((*rows)[1].agency.status(), "valid_until");
}

TEST(ParseAgencyCsv, LineNumbersFollowQuotedNewlines) {
  auto rows = ParseAgencyCsv(std::string(kAgencyHeader) +
                             "VN,\"Việt\nNam\",nation,,,,,\n"
                             "\n"
                             "P22,Tỉnh Quảng Ninh,state,VN,22,,,\n");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].line, 2);
  EXPECT_EQ((*rows)[1].line, 5);
  ASSERT_FALSE((*rows)[1].agency.ok());
  ExpectColumnError((*rows)[1].agency.status(), "level");
}

TEST(ParseAgencyCsv, TooManyFieldsIsAnError) {
  auto rows = ParseAgencyCsv(std::string(kAgencyHeader) +
                             "P22.SXD,Sở Xây dựng, Quảng Ninh,department,P22,,,,\n");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].line, 2);
  ASSERT_FALSE((*rows)[0].agency.ok());
  ExpectColumnError((*rows)[0].agency.status(), "row");
  EXPECT_TRUE(absl::StrContains((*rows)[0].agency.status().message(), "9 fields")) << (*rows)[0].agency.status();
}

TEST(ParseAgencyCsv, ShortRowReadsMissingFieldsAsEmpty) {
  auto rows = ParseAgencyCsv(std::string(kAgencyHeader) + "P22,Tỉnh Quảng Ninh,province,VN\n");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_TRUE((*rows)[0].agency.ok()) << (*rows)[0].agency.status();
  EXPECT_TRUE((*rows)[0].agency->admin_code.empty());
  EXPECT_FALSE((*rows)[0].agency->valid_until.has_value());
}

// ---------------------------------------------------------------------------
// ParseCsvBool and ParseProcedureCsv

TEST(ParseCsvBool, AcceptedSpellings) {
  for (const char* t : {"true", "TRUE", "True", "1", "yes", "YES", " true "}) {
    auto b = ParseCsvBool(t, "fee_bearing");
    ASSERT_TRUE(b.ok()) << t << ": " << b.status();
    EXPECT_TRUE(*b) << t;
  }
  for (const char* t : {"false", "FALSE", "0", "no", "No", "", "  "}) {
    auto b = ParseCsvBool(t, "fee_bearing");
    ASSERT_TRUE(b.ok()) << t << ": " << b.status();
    EXPECT_FALSE(*b) << t;
  }
}

TEST(ParseCsvBool, OtherTextNamesTheField) {
  for (const char* t : {"maybe", "2", "y", "t", "on"}) {
    auto b = ParseCsvBool(t, "fee_bearing");
    ASSERT_FALSE(b.ok()) << t;
    ExpectColumnError(b.status(), "fee_bearing");
  }
}

TEST(ParseProcedureCsv, ReadsEveryColumn) {
  auto rows = ParseProcedureCsv(std::string(kProcedureHeader) +
                                "2.000488,\"Cấp Phiếu lý lịch tư pháp, (Sở Tư pháp)\",Lý lịch tư pháp,"
                                "commune; department;commune,P22.STP;P22.CAT; P22.STP,partial,yes,10,days,1,"
                                "TRUE,no,2024-01-01,2025-03-01\n");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 1u);
  ASSERT_TRUE((*rows)[0].procedure.ok()) << (*rows)[0].procedure.status();
  const Procedure& p = *(*rows)[0].procedure;
  EXPECT_EQ(p.code, "2.000488");
  EXPECT_EQ(p.name, "Cấp Phiếu lý lịch tư pháp, (Sở Tư pháp)");
  EXPECT_EQ(p.field, "Lý lịch tư pháp");
  EXPECT_EQ(p.levels, (std::vector<AgencyLevel>{AgencyLevel::kDepartment, AgencyLevel::kCommune}));
  EXPECT_EQ(p.agency_codes, (std::vector<std::string>{"P22.CAT", "P22.STP"}));
  EXPECT_EQ(p.online_mode, OnlineMode::kPartial);
  EXPECT_TRUE(p.full_online_eligible);
  EXPECT_EQ(p.resolution_amount, 10u);
  EXPECT_EQ(p.resolution_unit, TimeUnit::kWorkingDays);
  EXPECT_TRUE(p.fee_bearing);
  EXPECT_TRUE(p.online_payment_integrated);
  EXPECT_FALSE(p.population_db_connected);
  EXPECT_EQ(p.valid_from, Date(2024, 1, 1));
  EXPECT_EQ(p.valid_until, Date(2025, 3, 1));
}

TEST(ParseProcedureCsv, MissingRequiredColumnFailsTheFile) {
  auto rows = ParseProcedureCsv("code,name,field,online_mode,resolution_time\n");
  ASSERT_FALSE(rows.ok());
  EXPECT_TRUE(absl::StrContains(rows.status().message(), "resolution_unit")) << rows.status();
}

// Each bad row names its column; the good row after it still reads.
struct BadProcedureRow {
  std::string row;
  std::string column;
};

TEST(ParseProcedureCsv, BadRowsNameTheirColumnAndLine) {
  const std::vector<BadProcedureRow> cases = {
      {"1.001193,Đăng ký khai sinh,Hộ tịch,huyen,,full,true,8,working_hours,false,false,true,,", "levels"},
      {"1.001193,Đăng ký khai sinh,Hộ tịch,commune,,online,true,8,working_hours,false,false,true,,", "online_mode"},
      {"1.001193,Đăng ký khai sinh,Hộ tịch,commune,,,true,8,working_hours,false,false,true,,", "online_mode"},
      {"1.001193,Đăng ký khai sinh,Hộ tịch,commune,,full,si,8,working_hours,false,false,true,,",
       "full_online_eligible"},
      {"1.001193,Đăng ký khai sinh,Hộ tịch,commune,,full,true,8h,working_hours,false,false,true,,",
       "resolution_time"},
      {"1.001193,Đăng ký khai sinh,Hộ tịch,commune,,full,true,-1,working_hours,false,false,true,,",
       "resolution_time"},
      {"1.001193,Đăng ký khai sinh,Hộ tịch,commune,,full,true,+8,working_hours,false,false,true,,",
       "resolution_time"},
      {"1.001193,Đăng ký khai sinh,Hộ tịch,commune,,full,true,,working_hours,false,false,true,,", "resolution_time"},
      {"1.001193,Đăng ký khai sinh,Hộ tịch,commune,,full,true,8,weeks,false,false,true,,", "resolution_unit"},
      {"1.001193,Đăng ký khai sinh,Hộ tịch,commune,,full,true,8,working_hours,maybe,false,true,,", "fee_bearing"},
      {"1.001193,Đăng ký khai sinh,Hộ tịch,commune,,full,true,8,working_hours,false,x,true,,",
       "online_payment_integrated"},
      {"1.001193,Đăng ký khai sinh,Hộ tịch,commune,,full,true,8,working_hours,false,false,x,,",
       "population_db_connected"},
      {"1.001193,Đăng ký khai sinh,Hộ tịch,commune,,full,true,8,working_hours,false,false,true,2025-02-29,",
       "valid_from"},
      {"1.001193,Đăng ký khai sinh,Hộ tịch,commune,,full,true,8,working_hours,false,false,true,,tomorrow",
       "valid_until"},
      {"1.001193,Đăng ký khai sinh,Hộ tịch,commune,,full,true,8,working_hours,false,false,true,,,extra", "row"},
  };
  for (const auto& c : cases) {
    auto rows = ParseProcedureCsv(std::string(kProcedureHeader) + kGoodProcedure + c.row + "\n" + kGoodProcedure);
    ASSERT_TRUE(rows.ok()) << c.row << ": " << rows.status();
    ASSERT_EQ(rows->size(), 3u) << c.row;
    EXPECT_TRUE((*rows)[0].procedure.ok()) << c.row;
    EXPECT_EQ((*rows)[1].line, 3) << c.row;
    ASSERT_FALSE((*rows)[1].procedure.ok()) << c.row;
    ExpectColumnError((*rows)[1].procedure.status(), c.column);
    EXPECT_EQ((*rows)[2].line, 4) << c.row;
    EXPECT_TRUE((*rows)[2].procedure.ok()) << c.row;
  }
}

TEST(ParseProcedureCsv, TooManyFieldsIsAnError) {
  // An unquoted comma in the name shifts every later field.
  auto rows = ParseProcedureCsv(std::string(kProcedureHeader) +
                                "2.000815,Chứng thực bản sao, văn bản,Chứng thực,commune,,partial,false,8,"
                                "working_hours,true,true,false,,\n");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 1u);
  ASSERT_FALSE((*rows)[0].procedure.ok());
  ExpectColumnError((*rows)[0].procedure.status(), "row");
  EXPECT_TRUE(absl::StrContains((*rows)[0].procedure.status().message(), "15 fields"))
      << (*rows)[0].procedure.status();
}

TEST(ParseProcedureCsv, ParsingLeavesValidationToValidateProcedureFields) {
  // FULL without eligibility reads fine but does not validate.
  auto rows = ParseProcedureCsv(std::string(kProcedureHeader) +
                                "1.001193,Đăng ký khai sinh,Hộ tịch,commune,,full,false,8,working_hours,false,false,"
                                "true,,\n");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_TRUE((*rows)[0].procedure.ok()) << (*rows)[0].procedure.status();
  absl::Status s = ValidateProcedureFields(*(*rows)[0].procedure);
  ExpectColumnError(s, "procedure.full_online_eligible");
}

// ---------------------------------------------------------------------------
// The shipped files

TEST(ShippedData, ProvincesFileParsesAndValidates) {
  auto rows = ParseAgencyCsv(ReadSourceFile("/data/agencies/vn_provinces.csv"));
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(rows->size(), 87u);  // VN, 34 provinces from 2025, 52 before
  for (const auto& row : *rows) {
    ASSERT_TRUE(row.agency.ok()) << "line " << row.line << ": " << row.agency.status();
    absl::Status s = ValidateAgencyFields(*row.agency);
    EXPECT_TRUE(s.ok()) << "line " << row.line << ": " << s;
  }
}

TEST(ShippedData, QuangNinhSampleParsesAndValidates) {
  auto rows = ParseAgencyCsv(ReadSourceFile("/data/sample/agencies_quang_ninh.csv"));
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_FALSE(rows->empty());
  for (const auto& row : *rows) {
    ASSERT_TRUE(row.agency.ok()) << "line " << row.line << ": " << row.agency.status();
    absl::Status s = ValidateAgencyFields(*row.agency);
    EXPECT_TRUE(s.ok()) << "line " << row.line << ": " << s;
  }
}

TEST(ShippedData, ProceduresSampleParsesAndValidates) {
  auto rows = ParseProcedureCsv(ReadSourceFile("/data/sample/procedures.csv"));
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_FALSE(rows->empty());
  std::set<std::string> codes;
  for (const auto& row : *rows) {
    ASSERT_TRUE(row.procedure.ok()) << "line " << row.line << ": " << row.procedure.status();
    absl::Status s = ValidateProcedureFields(*row.procedure);
    EXPECT_TRUE(s.ok()) << "line " << row.line << ": " << s;
    EXPECT_TRUE(codes.insert(row.procedure->code).second) << "line " << row.line << ": duplicate code";
  }
}

TEST(ShippedData, SampleAgenciesHangUnderKnownAgencies) {
  std::set<std::string> known;
  for (const Agency& a : LoadAgencies("/data/agencies/vn_provinces.csv")) known.insert(a.code);
  std::vector<Agency> sample = LoadAgencies("/data/sample/agencies_quang_ninh.csv");
  for (const Agency& a : sample) EXPECT_TRUE(known.insert(a.code).second) << "duplicate code " << a.code;
  for (const Agency& a : sample) {
    EXPECT_TRUE(known.contains(a.parent_code)) << a.code << " parent " << a.parent_code;
    if (!a.successor_code.empty()) {
      EXPECT_TRUE(known.contains(a.successor_code)) << a.code;
    }
  }
}

TEST(ShippedData, SampleProceduresNameKnownAgencies) {
  std::set<std::string> known;
  for (const Agency& a : LoadAgencies("/data/agencies/vn_provinces.csv")) known.insert(a.code);
  for (const Agency& a : LoadAgencies("/data/sample/agencies_quang_ninh.csv")) known.insert(a.code);
  auto rows = ParseProcedureCsv(ReadSourceFile("/data/sample/procedures.csv"));
  ASSERT_TRUE(rows.ok()) << rows.status();
  for (const auto& row : *rows) {
    ASSERT_TRUE(row.procedure.ok()) << row.procedure.status();
    for (const auto& code : row.procedure->agency_codes) {
      EXPECT_TRUE(known.contains(code)) << "line " << row.line << ": " << code;
    }
  }
}

// The province reference data, split the way docs describe it.
struct Provinces {
  std::vector<Agency> all;
  std::map<std::string, Agency> current;  // "P" rows, by code
  std::map<std::string, Agency> former;   // "F" rows, by code

  const Agency* ByName(const std::map<std::string, Agency>& rows, const std::string& name) const {
    const Agency* found = nullptr;
    for (const auto& [code, a] : rows) {
      if (a.name != name) continue;
      EXPECT_EQ(found, nullptr) << "two rows named " << name;
      found = &a;
    }
    return found;
  }
  int SuccessorCount(const std::string& code) const {
    int n = 0;
    for (const auto& [c, a] : former) n += a.successor_code == code;
    return n;
  }
};

Provinces LoadProvinces() {
  Provinces p;
  p.all = LoadAgencies("/data/agencies/vn_provinces.csv");
  for (const Agency& a : p.all) {
    if (absl::StartsWith(a.code, "P")) p.current.emplace(a.code, a);
    if (absl::StartsWith(a.code, "F")) p.former.emplace(a.code, a);
  }
  return p;
}

TEST(ShippedData, NationIsTheOnlyRoot) {
  Provinces p = LoadProvinces();
  int roots = 0;
  for (const Agency& a : p.all) {
    if (a.parent_code.empty()) {
      ++roots;
      EXPECT_EQ(a.code, "VN");
      EXPECT_EQ(a.level, AgencyLevel::kNation);
    } else {
      EXPECT_EQ(a.parent_code, "VN") << a.code;
    }
  }
  EXPECT_EQ(roots, 1);
  EXPECT_EQ(p.current.size() + p.former.size() + 1, p.all.size());
}

TEST(ShippedData, ThirtyFourCurrentProvinces) {
  Provinces p = LoadProvinces();
  EXPECT_EQ(p.current.size(), 34u);
  for (const auto& [code, a] : p.current) {
    EXPECT_EQ(a.level, AgencyLevel::kProvince) << code;
    EXPECT_FALSE(a.valid_until.has_value()) << code;
    EXPECT_TRUE(a.successor_code.empty()) << code;
    EXPECT_TRUE(a.InForceOn(Date(2025, 7, 1))) << code;
  }
}

TEST(ShippedData, FiftyTwoFormerProvincesEndedOnFirstJuly2025) {
  Provinces p = LoadProvinces();
  EXPECT_EQ(p.former.size(), 52u);
  for (const auto& [code, a] : p.former) {
    EXPECT_EQ(a.level, AgencyLevel::kProvince) << code;
    EXPECT_EQ(a.valid_until, Date(2025, 7, 1)) << code;
    EXPECT_TRUE(p.current.contains(a.successor_code)) << code << " -> " << a.successor_code;
    EXPECT_TRUE(a.InForceOn(Date(2025, 6, 30))) << code;
    EXPECT_FALSE(a.InForceOn(Date(2025, 7, 1))) << code;
  }
}

TEST(ShippedData, EveryProvinceInForceOnEitherSideOfTheMerger) {
  // 63 provinces before 1 July 2025 (52 former + 11 unchanged), 34 after.
  Provinces p = LoadProvinces();
  int before = 0, after = 0;
  for (const Agency& a : p.all) {
    if (a.level != AgencyLevel::kProvince) continue;
    before += a.InForceOn(Date(2025, 6, 30));
    after += a.InForceOn(Date(2025, 7, 1));
  }
  EXPECT_EQ(before, 63);
  EXPECT_EQ(after, 34);
}

TEST(ShippedData, MergedProvincesAbsorbTwoOrThree) {
  Provinces p = LoadProvinces();
  int merged = 0;
  for (const auto& [code, a] : p.current) {
    if (a.valid_from != Date(2025, 7, 1)) continue;
    ++merged;
    int n = p.SuccessorCount(code);
    EXPECT_TRUE(n == 2 || n == 3) << code << " " << a.name << " absorbed " << n;
  }
  EXPECT_EQ(merged, 23);
}

TEST(ShippedData, UnchangedProvincesAbsorbNone) {
  Provinces p = LoadProvinces();
  int unchanged = 0;
  for (const auto& [code, a] : p.current) {
    if (a.valid_from.has_value()) continue;
    ++unchanged;
    EXPECT_EQ(p.SuccessorCount(code), 0) << code << " " << a.name;
  }
  EXPECT_EQ(unchanged, 11);
}

TEST(ShippedData, UnchangedProvincesByName) {
  // docs/DOMAIN.md section 2: the 11 that kept their borders.
  Provinces p = LoadProvinces();
  for (const std::string name :
       {"Thành phố Hà Nội", "Thành phố Huế", "Tỉnh Lai Châu", "Tỉnh Điện Biên", "Tỉnh Sơn La", "Tỉnh Lạng Sơn",
        "Tỉnh Quảng Ninh", "Tỉnh Thanh Hóa", "Tỉnh Nghệ An", "Tỉnh Hà Tĩnh", "Tỉnh Cao Bằng"}) {
    const Agency* current = p.ByName(p.current, name);
    ASSERT_NE(current, nullptr) << name;
    EXPECT_FALSE(current->valid_from.has_value()) << name;
    EXPECT_EQ(p.ByName(p.former, name), nullptr) << name;
    EXPECT_EQ(p.SuccessorCount(current->code), 0) << name;
  }
}

TEST(ShippedData, QuangNinhIsUnchanged) {
  Provinces p = LoadProvinces();
  const Agency* qn = p.ByName(p.current, "Tỉnh Quảng Ninh");
  ASSERT_NE(qn, nullptr);
  EXPECT_EQ(qn->code, "P22");
  EXPECT_EQ(p.ByName(p.former, "Tỉnh Quảng Ninh"), nullptr);
  EXPECT_EQ(p.SuccessorCount("P22"), 0);
}

TEST(ShippedData, BacGiangMergedIntoBacNinh) {
  Provinces p = LoadProvinces();
  const Agency* bac_giang = p.ByName(p.former, "Tỉnh Bắc Giang");
  const Agency* bac_ninh = p.ByName(p.current, "Tỉnh Bắc Ninh");
  ASSERT_NE(bac_giang, nullptr);
  ASSERT_NE(bac_ninh, nullptr);
  EXPECT_EQ(bac_giang->successor_code, bac_ninh->code);
  const Agency* old_bac_ninh = p.ByName(p.former, "Tỉnh Bắc Ninh");
  ASSERT_NE(old_bac_ninh, nullptr);
  EXPECT_EQ(old_bac_ninh->successor_code, bac_ninh->code);
  EXPECT_EQ(p.SuccessorCount(bac_ninh->code), 2);
}

TEST(ShippedData, HaiDuongMergedIntoHaiPhong) {
  Provinces p = LoadProvinces();
  const Agency* hai_duong = p.ByName(p.former, "Tỉnh Hải Dương");
  const Agency* hai_phong = p.ByName(p.current, "Thành phố Hải Phòng");
  ASSERT_NE(hai_duong, nullptr);
  ASSERT_NE(hai_phong, nullptr);
  EXPECT_EQ(hai_duong->successor_code, hai_phong->code);
  EXPECT_EQ(p.SuccessorCount(hai_phong->code), 2);
}

TEST(ShippedData, EveryMergerMatchesTheResolution) {
  // docs/DOMAIN.md section 2, written out by name: province from 2025 and
  // the former provinces merged into it.
  const std::map<std::string, std::set<std::string>> kMergers = {
      {"Tỉnh Tuyên Quang", {"Tỉnh Hà Giang", "Tỉnh Tuyên Quang"}},
      {"Tỉnh Lào Cai", {"Tỉnh Yên Bái", "Tỉnh Lào Cai"}},
      {"Tỉnh Thái Nguyên", {"Tỉnh Bắc Kạn", "Tỉnh Thái Nguyên"}},
      {"Tỉnh Phú Thọ", {"Tỉnh Vĩnh Phúc", "Tỉnh Hòa Bình", "Tỉnh Phú Thọ"}},
      {"Tỉnh Bắc Ninh", {"Tỉnh Bắc Giang", "Tỉnh Bắc Ninh"}},
      {"Tỉnh Hưng Yên", {"Tỉnh Thái Bình", "Tỉnh Hưng Yên"}},
      {"Thành phố Hải Phòng", {"Tỉnh Hải Dương", "Thành phố Hải Phòng"}},
      {"Tỉnh Ninh Bình", {"Tỉnh Hà Nam", "Tỉnh Nam Định", "Tỉnh Ninh Bình"}},
      {"Tỉnh Quảng Trị", {"Tỉnh Quảng Bình", "Tỉnh Quảng Trị"}},
      {"Thành phố Đà Nẵng", {"Tỉnh Quảng Nam", "Thành phố Đà Nẵng"}},
      {"Tỉnh Quảng Ngãi", {"Tỉnh Kon Tum", "Tỉnh Quảng Ngãi"}},
      {"Tỉnh Gia Lai", {"Tỉnh Bình Định", "Tỉnh Gia Lai"}},
      {"Tỉnh Khánh Hòa", {"Tỉnh Ninh Thuận", "Tỉnh Khánh Hòa"}},
      {"Tỉnh Lâm Đồng", {"Tỉnh Đắk Nông", "Tỉnh Bình Thuận", "Tỉnh Lâm Đồng"}},
      {"Tỉnh Đắk Lắk", {"Tỉnh Phú Yên", "Tỉnh Đắk Lắk"}},
      {"Thành phố Hồ Chí Minh", {"Tỉnh Bình Dương", "Tỉnh Bà Rịa - Vũng Tàu", "Thành phố Hồ Chí Minh"}},
      {"Tỉnh Đồng Nai", {"Tỉnh Bình Phước", "Tỉnh Đồng Nai"}},
      {"Tỉnh Tây Ninh", {"Tỉnh Long An", "Tỉnh Tây Ninh"}},
      {"Thành phố Cần Thơ", {"Tỉnh Sóc Trăng", "Tỉnh Hậu Giang", "Thành phố Cần Thơ"}},
      {"Tỉnh Vĩnh Long", {"Tỉnh Bến Tre", "Tỉnh Trà Vinh", "Tỉnh Vĩnh Long"}},
      {"Tỉnh Đồng Tháp", {"Tỉnh Tiền Giang", "Tỉnh Đồng Tháp"}},
      {"Tỉnh Cà Mau", {"Tỉnh Bạc Liêu", "Tỉnh Cà Mau"}},
      {"Tỉnh An Giang", {"Tỉnh Kiên Giang", "Tỉnh An Giang"}},
  };
  ASSERT_EQ(kMergers.size(), 23u);
  Provinces p = LoadProvinces();
  size_t formers = 0;
  for (const auto& [name, absorbed] : kMergers) {
    const Agency* current = p.ByName(p.current, name);
    ASSERT_NE(current, nullptr) << name;
    EXPECT_EQ(current->valid_from, Date(2025, 7, 1)) << name;
    std::set<std::string> actual;
    for (const auto& [code, a] : p.former) {
      if (a.successor_code == current->code) actual.insert(a.name);
    }
    EXPECT_EQ(actual, absorbed) << name;
    formers += absorbed.size();
  }
  EXPECT_EQ(formers, 52u);
}

}  // namespace
}  // namespace pstrack
