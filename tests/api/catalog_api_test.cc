// CatalogService over a real gRPC server: every error path, filters, import.
#include <fstream>
#include <sstream>

#include "services/api/convert.h"
#include "services/catalog/procedure_csv.h"
#include "tests/api/server_fixture.h"

namespace pstrack {
namespace {

using testing::ServerTest;

class CatalogApiTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    BasicTree();
  }

  static v1::Procedure Valid(const std::string& code) { return SampleProcedure(code); }

  grpc::Status Upsert(const v1::Procedure& p, v1::UpsertProcedureResponse* out, int64_t expected = 0) {
    v1::UpsertProcedureRequest req;
    *req.mutable_procedure() = p;
    req.set_expected_revision(expected);
    return catalog_->UpsertProcedure(Ctx().get(), req, out);
  }
};

TEST_F(CatalogApiTest, UpsertGetRoundTrip) {
  v1::Procedure p = Valid("1.001193");
  p.add_agency_codes("P22.X1");
  DateToProto(Date(2025, 7, 1), p.mutable_valid_from());
  v1::UpsertProcedureResponse out;
  ASSERT_TRUE(Upsert(p, &out).ok());
  EXPECT_FALSE(out.unchanged());
  v1::GetProcedureRequest get;
  get.set_code("1.001193");
  v1::Procedure got;
  ASSERT_TRUE(catalog_->GetProcedure(Ctx().get(), get, &got).ok());
  EXPECT_EQ(got.name(), p.name());
  EXPECT_EQ(got.agency_codes_size(), 1);
  EXPECT_EQ(got.valid_from().year(), 2025);
  EXPECT_EQ(got.revision(), 1);
  ASSERT_TRUE(Upsert(p, &out).ok());
  EXPECT_TRUE(out.unchanged());
}

TEST_F(CatalogApiTest, UpsertErrorsNameTheField) {
  v1::UpsertProcedureResponse out;
  v1::UpsertProcedureRequest empty;
  EXPECT_RPC_ERROR(catalog_->UpsertProcedure(Ctx().get(), empty, &out), INVALID_ARGUMENT, "procedure");
  EXPECT_RPC_ERROR(Upsert(Valid("1.1193"), &out), INVALID_ARGUMENT, "procedure.code");
  auto no_time = Valid("1.001193");
  no_time.clear_resolution_time();
  EXPECT_RPC_ERROR(Upsert(no_time, &out), INVALID_ARGUMENT, "procedure.resolution_time");
  auto too_long = Valid("1.001193");
  too_long.mutable_resolution_time()->set_amount(400);
  EXPECT_RPC_ERROR(Upsert(too_long, &out), INVALID_ARGUMENT, "procedure.resolution_time.amount");
  auto no_mode = Valid("1.001193");
  no_mode.set_online_mode(v1::ONLINE_SERVICE_MODE_UNSPECIFIED);
  EXPECT_RPC_ERROR(Upsert(no_mode, &out), INVALID_ARGUMENT, "procedure.online_mode");
  auto bad_mode = Valid("1.001193");
  bad_mode.set_online_mode(static_cast<v1::OnlineServiceMode>(9));
  EXPECT_RPC_ERROR(Upsert(bad_mode, &out), INVALID_ARGUMENT, "procedure.online_mode");
  auto not_eligible = Valid("1.001193");
  not_eligible.set_full_online_eligible(false);
  EXPECT_RPC_ERROR(Upsert(not_eligible, &out), INVALID_ARGUMENT, "procedure.full_online_eligible");
  auto pay_no_fee = Valid("1.001193");
  pay_no_fee.set_online_payment_integrated(true);
  EXPECT_RPC_ERROR(Upsert(pay_no_fee, &out), INVALID_ARGUMENT, "procedure.online_payment_integrated");
  auto nobody = Valid("1.001193");
  nobody.clear_levels();
  EXPECT_RPC_ERROR(Upsert(nobody, &out), INVALID_ARGUMENT, "procedure.levels");
  auto unknown_agency = Valid("1.001193");
  unknown_agency.add_agency_codes("P99.NOPE");
  EXPECT_RPC_ERROR(Upsert(unknown_agency, &out), NOT_FOUND, "procedure.agency_codes");
  auto no_field = Valid("1.001193");
  no_field.clear_field();
  EXPECT_RPC_ERROR(Upsert(no_field, &out), INVALID_ARGUMENT, "procedure.field");
  ASSERT_TRUE(Upsert(Valid("1.001193"), &out).ok());
  auto renamed = Valid("1.001193");
  renamed.set_name("Khác");
  EXPECT_RPC_ERROR(Upsert(renamed, &out, 3), FAILED_PRECONDITION, "expected_revision");
  v1::GetProcedureRequest get;
  get.set_code("1.001193");
  v1::Procedure got;
  ASSERT_TRUE(catalog_->GetProcedure(Ctx().get(), get, &got).ok());
  EXPECT_EQ(got.name(), "Đăng ký khai sinh");  // nothing half-written
  get.set_code("2.000001");
  EXPECT_RPC_ERROR(catalog_->GetProcedure(Ctx().get(), get, &got), NOT_FOUND, "2.000001");
  get.set_code("x");
  EXPECT_RPC_ERROR(catalog_->GetProcedure(Ctx().get(), get, &got), INVALID_ARGUMENT, "code");
}

TEST_F(CatalogApiTest, ListFilters) {
  v1::UpsertProcedureResponse out;
  auto a = Valid("1.000001");
  auto b = Valid("2.000002");
  b.clear_levels();
  b.add_agency_codes("P22.STP");
  b.set_online_mode(v1::ONLINE_SERVICE_MODE_PARTIAL);
  b.set_fee_bearing(true);
  ASSERT_TRUE(Upsert(a, &out).ok());
  ASSERT_TRUE(Upsert(b, &out).ok());
  auto list = [&](v1::ListProceduresRequest req) {
    v1::ListProceduresResponse resp;
    grpc::Status s = catalog_->ListProcedures(Ctx().get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::vector<std::string> codes;
    for (const auto& p : resp.procedures()) codes.push_back(p.code());
    return codes;
  };
  v1::ListProceduresRequest req;
  EXPECT_EQ(list(req).size(), 2u);
  req.set_agency_code("P22.X1");
  EXPECT_EQ(list(req), std::vector<std::string>{"1.000001"});
  req.set_agency_code("P22.STP");
  EXPECT_EQ(list(req), std::vector<std::string>{"2.000002"});
  req.Clear();
  req.set_online_mode(v1::ONLINE_SERVICE_MODE_PARTIAL);
  EXPECT_EQ(list(req), std::vector<std::string>{"2.000002"});
  req.Clear();
  req.set_fee_bearing(v1::ListProceduresRequest::TRISTATE_FALSE);
  EXPECT_EQ(list(req), std::vector<std::string>{"1.000001"});
  req.Clear();
  req.set_query("KHAI SINH");
  EXPECT_EQ(list(req).size(), 2u);
  v1::ListProceduresResponse resp;
  req.Clear();
  req.set_agency_code("P77");
  EXPECT_RPC_ERROR(catalog_->ListProcedures(Ctx().get(), req, &resp), NOT_FOUND, "agency_code");
  req.Clear();
  req.set_page_size(-1);
  EXPECT_RPC_ERROR(catalog_->ListProcedures(Ctx().get(), req, &resp), INVALID_ARGUMENT, "page_size");
  req.Clear();
  req.set_fee_bearing(static_cast<v1::ListProceduresRequest::Tristate>(7));
  EXPECT_RPC_ERROR(catalog_->ListProcedures(Ctx().get(), req, &resp), INVALID_ARGUMENT, "fee_bearing");
}

// The sample catalog imports in full once its agencies exist; a file with
// planted bad rows keeps its good rows and reports each bad one by line.
TEST_F(CatalogApiTest, ImportSampleCatalogAndBadRows) {
  auto read = [](const std::string& rel) {
    std::ifstream in(std::string(PSTRACK_SOURCE_DIR) + rel);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  };
  ASSERT_TRUE(LoadReferenceData(server_->store(),
                                {std::string(PSTRACK_SOURCE_DIR) + "/data/agencies/vn_provinces.csv",
                                 std::string(PSTRACK_SOURCE_DIR) + "/data/sample/agencies_quang_ninh.csv"},
                                {})
                  .ok());
  std::string csv = read("/data/sample/procedures.csv");
  // Plant bad rows at the end: a bad code, an unknown agency, a bad mode.
  csv += "9.99,Bad code,Hộ tịch,commune,,full,true,3,working_days,false,false,false,,\n";
  csv += "1.999998,Unknown agency,Hộ tịch,,P22.NOPE,full,true,3,working_days,false,false,false,,\n";
  csv += "1.999999,Bad mode,Hộ tịch,commune,,sometimes,true,3,working_days,false,false,false,,\n";
  auto rows = ParseProcedureCsv(csv);
  ASSERT_TRUE(rows.ok());
  v1::ImportProceduresRequest req;
  int local_rejects = 0, last_line = 0;
  for (const auto& row : *rows) {
    last_line = row.line;
    if (!row.procedure.ok()) {
      ++local_rejects;
      EXPECT_NE(row.procedure.status().message().find("online_mode"), absl::string_view::npos);
      continue;
    }
    auto* item = req.add_items();
    ProcedureToProto(*row.procedure, item->mutable_procedure());
    item->set_source_line(row.line);
  }
  EXPECT_EQ(local_rejects, 1);
  v1::ImportProceduresResponse resp;
  ASSERT_TRUE(catalog_->ImportProcedures(Ctx().get(), req, &resp).ok());
  EXPECT_EQ(resp.summary().rejected(), 2);
  int sample_rows = static_cast<int>(rows->size()) - 3;
  EXPECT_EQ(resp.summary().applied(), sample_rows);
  std::vector<int> bad_lines;
  for (const auto& r : resp.results()) {
    if (r.outcome() == v1::ItemResult::OUTCOME_REJECTED) bad_lines.push_back(r.source_line());
  }
  EXPECT_EQ(bad_lines, (std::vector<int>{last_line - 2, last_line - 1}));
}

}  // namespace
}  // namespace pstrack
