// AgencyService over a real gRPC server: every error path and the happy ones.
#include <fstream>
#include <sstream>

#include "google/protobuf/util/message_differencer.h"
#include "services/agencies/agency_csv.h"
#include "services/api/convert.h"
#include "tests/api/server_fixture.h"

namespace pstrack {
namespace {

using testing::ServerTest;

class AgencyApiTest : public ServerTest {};

v1::CreateAgencyRequest Req(const std::string& code, v1::AgencyLevel level, const std::string& parent) {
  v1::CreateAgencyRequest req;
  req.mutable_agency()->set_code(code);
  req.mutable_agency()->set_name("Agency " + code);
  req.mutable_agency()->set_level(level);
  req.mutable_agency()->set_parent_code(parent);
  return req;
}

TEST_F(AgencyApiTest, CreateGetRoundTrip) {
  BasicTree();
  v1::GetAgencyRequest get;
  get.set_code("P22.STP");
  v1::Agency a;
  ASSERT_TRUE(agencies_->GetAgency(Ctx().get(), get, &a).ok());
  EXPECT_EQ(a.path(), "VN/P22/P22.STP");
  EXPECT_EQ(a.depth(), 2);
  EXPECT_EQ(a.level(), v1::AGENCY_LEVEL_DEPARTMENT);
  EXPECT_GT(a.create_time().seconds(), 1700000000);
}

TEST_F(AgencyApiTest, CreateErrorsNameTheField) {
  BasicTree();
  v1::Agency out;
  EXPECT_RPC_ERROR(agencies_->CreateAgency(Ctx().get(), v1::CreateAgencyRequest(), &out), INVALID_ARGUMENT,
                   "agency");
  EXPECT_RPC_ERROR(agencies_->CreateAgency(Ctx().get(), Req("bad/code", v1::AGENCY_LEVEL_PROVINCE, "VN"), &out),
                   INVALID_ARGUMENT, "agency.code");
  auto no_name = Req("P30", v1::AGENCY_LEVEL_PROVINCE, "VN");
  no_name.mutable_agency()->clear_name();
  EXPECT_RPC_ERROR(agencies_->CreateAgency(Ctx().get(), no_name, &out), INVALID_ARGUMENT, "agency.name");
  EXPECT_RPC_ERROR(agencies_->CreateAgency(Ctx().get(), Req("P30", v1::AGENCY_LEVEL_UNSPECIFIED, "VN"), &out),
                   INVALID_ARGUMENT, "agency.level");
  EXPECT_RPC_ERROR(
      agencies_->CreateAgency(Ctx().get(), Req("P30", static_cast<v1::AgencyLevel>(42), "VN"), &out),
      INVALID_ARGUMENT, "agency.level");
  auto bad_date = Req("P30", v1::AGENCY_LEVEL_PROVINCE, "VN");
  bad_date.mutable_agency()->mutable_valid_from()->set_year(2025);
  bad_date.mutable_agency()->mutable_valid_from()->set_month(13);
  bad_date.mutable_agency()->mutable_valid_from()->set_day(1);
  EXPECT_RPC_ERROR(agencies_->CreateAgency(Ctx().get(), bad_date, &out), INVALID_ARGUMENT, "agency.valid_from");
  auto reversed = Req("P30", v1::AGENCY_LEVEL_PROVINCE, "VN");
  DateToProto(Date(2025, 7, 1), reversed.mutable_agency()->mutable_valid_from());
  DateToProto(Date(2025, 1, 1), reversed.mutable_agency()->mutable_valid_until());
  EXPECT_RPC_ERROR(agencies_->CreateAgency(Ctx().get(), reversed, &out), INVALID_ARGUMENT, "agency.valid_until");
  auto successor_without_end = Req("P30", v1::AGENCY_LEVEL_PROVINCE, "VN");
  successor_without_end.mutable_agency()->set_successor_code("P22");
  EXPECT_RPC_ERROR(agencies_->CreateAgency(Ctx().get(), successor_without_end, &out), INVALID_ARGUMENT,
                   "agency.successor_code");
  EXPECT_RPC_ERROR(agencies_->CreateAgency(Ctx().get(), Req("P30", v1::AGENCY_LEVEL_PROVINCE, "P99"), &out),
                   NOT_FOUND, "agency.parent_code");
  auto unknown_successor = Req("P30", v1::AGENCY_LEVEL_PROVINCE, "VN");
  DateToProto(Date(2025, 7, 1), unknown_successor.mutable_agency()->mutable_valid_until());
  unknown_successor.mutable_agency()->set_successor_code("P98");
  EXPECT_RPC_ERROR(agencies_->CreateAgency(Ctx().get(), unknown_successor, &out), NOT_FOUND,
                   "agency.successor_code");
  EXPECT_RPC_ERROR(agencies_->CreateAgency(Ctx().get(), Req("X9", v1::AGENCY_LEVEL_PROVINCE, "P22"), &out),
                   FAILED_PRECONDITION, "agency.level");
  auto renamed = Req("P22", v1::AGENCY_LEVEL_PROVINCE, "VN");
  renamed.mutable_agency()->set_name("Another name");
  EXPECT_RPC_ERROR(agencies_->CreateAgency(Ctx().get(), renamed, &out), ALREADY_EXISTS, "agency.code");
  // None of the failures left anything behind.
  v1::ListAgenciesResponse list;
  ASSERT_TRUE(agencies_->ListAgencies(Ctx().get(), v1::ListAgenciesRequest(), &list).ok());
  EXPECT_EQ(list.agencies_size(), 4);
}

TEST_F(AgencyApiTest, CreateIsIdempotent) {
  BasicTree();
  v1::Agency again;
  ASSERT_TRUE(agencies_->CreateAgency(Ctx().get(), Req("P22", v1::AGENCY_LEVEL_PROVINCE, "VN"), &again).ok());
  EXPECT_EQ(again.revision(), 1);
}

TEST_F(AgencyApiTest, UpdateErrorsAndMove) {
  BasicTree();
  MustCreate("P24", v1::AGENCY_LEVEL_PROVINCE, "VN");
  MustCreate("D1", v1::AGENCY_LEVEL_DISTRICT, "P22");
  MustCreate("D1.C1", v1::AGENCY_LEVEL_COMMUNE, "D1");
  v1::Agency out;
  v1::UpdateAgencyRequest req;
  req.mutable_agency()->set_code("D1");
  req.mutable_agency()->set_parent_code("P24");
  EXPECT_RPC_ERROR(agencies_->UpdateAgency(Ctx().get(), req, &out), INVALID_ARGUMENT, "update_mask");
  req.mutable_update_mask()->add_paths("path");
  EXPECT_RPC_ERROR(agencies_->UpdateAgency(Ctx().get(), req, &out), INVALID_ARGUMENT, "update_mask");
  req.mutable_update_mask()->clear_paths();
  req.mutable_update_mask()->add_paths("parent_code");
  req.set_expected_revision(5);
  EXPECT_RPC_ERROR(agencies_->UpdateAgency(Ctx().get(), req, &out), FAILED_PRECONDITION, "expected_revision");
  req.set_expected_revision(1);
  ASSERT_TRUE(agencies_->UpdateAgency(Ctx().get(), req, &out).ok());
  EXPECT_EQ(out.path(), "VN/P24/D1");
  v1::GetAgencyRequest get;
  get.set_code("D1.C1");
  ASSERT_TRUE(agencies_->GetAgency(Ctx().get(), get, &out).ok());
  EXPECT_EQ(out.path(), "VN/P24/D1/D1.C1");
  // Cycle: D1 under its own commune (level rules aside, the cycle is named).
  req.mutable_agency()->set_parent_code("D1.C1");
  req.set_expected_revision(0);
  EXPECT_RPC_ERROR(agencies_->UpdateAgency(Ctx().get(), req, &out), FAILED_PRECONDITION, "cycle");
  req.mutable_agency()->set_code("NOPE");
  EXPECT_RPC_ERROR(agencies_->UpdateAgency(Ctx().get(), req, &out), NOT_FOUND, "agency.code");
  req.mutable_agency()->set_code("P22");
  req.mutable_agency()->set_parent_code("NOPE");
  EXPECT_RPC_ERROR(agencies_->UpdateAgency(Ctx().get(), req, &out), NOT_FOUND, "agency.parent_code");
}

TEST_F(AgencyApiTest, GetAndListErrors) {
  BasicTree();
  v1::Agency a;
  v1::GetAgencyRequest get;
  get.set_code("P99");
  EXPECT_RPC_ERROR(agencies_->GetAgency(Ctx().get(), get, &a), NOT_FOUND, "P99");
  get.set_code("");
  EXPECT_RPC_ERROR(agencies_->GetAgency(Ctx().get(), get, &a), INVALID_ARGUMENT, "code");
  v1::ListAgenciesResponse list;
  v1::ListAgenciesRequest req;
  req.set_page_size(5000);
  EXPECT_RPC_ERROR(agencies_->ListAgencies(Ctx().get(), req, &list), INVALID_ARGUMENT, "page_size");
  req.set_page_size(0);
  req.set_page_token("not-a-token!");
  EXPECT_RPC_ERROR(agencies_->ListAgencies(Ctx().get(), req, &list), INVALID_ARGUMENT, "page_token");
  req.clear_page_token();
  req.set_root_code("P77");
  EXPECT_RPC_ERROR(agencies_->ListAgencies(Ctx().get(), req, &list), NOT_FOUND, "root_code");
  req.set_root_code("");
  req.set_max_depth(2);
  EXPECT_RPC_ERROR(agencies_->ListAgencies(Ctx().get(), req, &list), INVALID_ARGUMENT, "max_depth");
  v1::ResolveSuccessorRequest resolve;
  resolve.set_code("P22");
  v1::ResolveSuccessorResponse resolved;
  EXPECT_RPC_ERROR(agencies_->ResolveSuccessor(Ctx().get(), resolve, &resolved), INVALID_ARGUMENT, "as_of");
}

TEST_F(AgencyApiTest, ImportReportsEachBadItemAndKeepsGoodOnes) {
  v1::ImportAgenciesRequest req;
  auto add = [&](const std::string& code, v1::AgencyLevel level, const std::string& parent, int line) {
    auto* item = req.add_items();
    *item->mutable_agency() = Req(code, level, parent).agency();
    item->set_source_line(line);
    return item;
  };
  add("P22.X1", v1::AGENCY_LEVEL_COMMUNE, "P22", 2);     // child before parent: fine
  add("P22", v1::AGENCY_LEVEL_PROVINCE, "VN", 3);
  add("VN", v1::AGENCY_LEVEL_NATION, "", 4);
  add("P23", v1::AGENCY_LEVEL_PROVINCE, "NOPE", 5);      // unknown parent
  add("p24", v1::AGENCY_LEVEL_PROVINCE, "VN", 6);        // malformed code
  auto* bad_date = add("P25", v1::AGENCY_LEVEL_PROVINCE, "VN", 7);
  bad_date->mutable_agency()->mutable_valid_until()->set_year(2025);  // month/day 0
  v1::ImportAgenciesResponse resp;
  ASSERT_TRUE(agencies_->ImportAgencies(Ctx().get(), req, &resp).ok());
  ASSERT_EQ(resp.results_size(), 6);
  EXPECT_EQ(resp.summary().applied(), 3);
  EXPECT_EQ(resp.summary().rejected(), 3);
  EXPECT_EQ(resp.results(3).outcome(), v1::ItemResult::OUTCOME_REJECTED);
  EXPECT_EQ(resp.results(3).code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));
  EXPECT_EQ(resp.results(3).source_line(), 5);
  EXPECT_NE(resp.results(3).message().find("agency.parent_code"), std::string::npos);
  EXPECT_EQ(resp.results(4).code(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_EQ(resp.results(4).source_line(), 6);
  EXPECT_NE(resp.results(5).message().find("agency.valid_until"), std::string::npos);
  v1::ListAgenciesResponse list;
  ASSERT_TRUE(agencies_->ListAgencies(Ctx().get(), v1::ListAgenciesRequest(), &list).ok());
  EXPECT_EQ(list.agencies_size(), 3);
  // Sending the same batch again is safe: the good items are unchanged.
  ASSERT_TRUE(agencies_->ImportAgencies(Ctx().get(), req, &resp).ok());
  EXPECT_EQ(resp.summary().unchanged(), 3);
  EXPECT_EQ(resp.summary().applied(), 0);
}

TEST_F(AgencyApiTest, ImportLimits) {
  v1::ImportAgenciesResponse resp;
  EXPECT_RPC_ERROR(agencies_->ImportAgencies(Ctx().get(), v1::ImportAgenciesRequest(), &resp), INVALID_ARGUMENT,
                   "items");
  v1::ImportAgenciesRequest big;
  for (int i = 0; i <= 10000; ++i) *big.add_items()->mutable_agency() = Req("C" + std::to_string(i), v1::AGENCY_LEVEL_COMMUNE, "P22").agency();
  EXPECT_RPC_ERROR(agencies_->ImportAgencies(Ctx().get(), big, &resp), INVALID_ARGUMENT, "items");
}

// The shipped reference data: 63 provinces before 1 July 2025, 34 after, and
// each former province resolves to the one that absorbed it.
TEST_F(AgencyApiTest, ShippedReferenceDataGivesBothTrees) {
  std::ifstream in(std::string(PSTRACK_SOURCE_DIR) + "/data/agencies/vn_provinces.csv");
  std::stringstream text;
  text << in.rdbuf();
  auto rows = ParseAgencyCsv(text.str());
  ASSERT_TRUE(rows.ok()) << rows.status();
  v1::ImportAgenciesRequest req;
  for (const auto& row : *rows) {
    ASSERT_TRUE(row.agency.ok()) << row.line << ": " << row.agency.status();
    auto* item = req.add_items();
    AgencyToProto(*row.agency, item->mutable_agency());
    item->set_source_line(row.line);
  }
  v1::ImportAgenciesResponse resp;
  ASSERT_TRUE(agencies_->ImportAgencies(Ctx().get(), req, &resp).ok());
  EXPECT_EQ(resp.summary().rejected(), 0);
  auto count_provinces = [&](Date d) {
    v1::ListAgenciesRequest list_req;
    list_req.set_level(v1::AGENCY_LEVEL_PROVINCE);
    DateToProto(d, list_req.mutable_as_of());
    v1::ListAgenciesResponse list;
    EXPECT_TRUE(agencies_->ListAgencies(Ctx().get(), list_req, &list).ok());
    return list.agencies_size();
  };
  EXPECT_EQ(count_provinces(Date(2025, 6, 30)), 63);
  EXPECT_EQ(count_provinces(Date(2025, 7, 1)), 34);
  // Every agency that ended has a successor in force the next day.
  v1::ListAgenciesRequest all_req;
  all_req.set_level(v1::AGENCY_LEVEL_PROVINCE);
  v1::ListAgenciesResponse all;
  ASSERT_TRUE(agencies_->ListAgencies(Ctx().get(), all_req, &all).ok());
  int former = 0;
  for (const auto& a : all.agencies()) {
    if (!a.has_valid_until()) continue;
    ++former;
    v1::ResolveSuccessorRequest r;
    r.set_code(a.code());
    DateToProto(Date(2025, 7, 1), r.mutable_as_of());
    v1::ResolveSuccessorResponse resolved;
    ASSERT_TRUE(agencies_->ResolveSuccessor(Ctx().get(), r, &resolved).ok()) << a.code();
    EXPECT_FALSE(resolved.agency().has_valid_until());
    EXPECT_EQ(resolved.lineage_size(), 2);
  }
  EXPECT_EQ(former, 52);
}

}  // namespace
}  // namespace pstrack
