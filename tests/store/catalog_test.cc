// Catalog over a real SQLite file, and the shipped reference data loaded
// through the same path the server uses at start.
#include "services/catalog/catalog.h"

#include "gtest/gtest.h"
#include "services/agencies/agency_registry.h"
#include "tests/test_database.h"
#include "storage/store.h"

namespace pstrack {
namespace {

using testing::MakeAgency;
using testing::MakeProcedure;
using testing::TempDir;

class CatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = OpenStore(testing::TestDatabaseUrl(dir_, "c.db"));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    AgencyRegistry registry(*store_);
    ASSERT_TRUE(registry.Create(MakeAgency("VN", AgencyLevel::kNation, "")).ok());
    ASSERT_TRUE(registry.Create(MakeAgency("P22", AgencyLevel::kProvince, "VN")).ok());
    ASSERT_TRUE(registry.Create(MakeAgency("P22.STP", AgencyLevel::kDepartment, "P22")).ok());
    ASSERT_TRUE(registry.Create(MakeAgency("P22.X1", AgencyLevel::kCommune, "P22")).ok());
    catalog_ = std::make_unique<Catalog>(*store_);
  }

  std::vector<std::string> Codes(const ProcedureListRequest& r) {
    auto page = catalog_->List(r);
    EXPECT_TRUE(page.ok()) << page.status();
    std::vector<std::string> out;
    if (page.ok()) {
      for (const auto& p : page->procedures) out.push_back(p.code);
    }
    return out;
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Catalog> catalog_;
};

TEST_F(CatalogTest, UpsertCreatesThenUpdatesThenIsIdempotent) {
  auto created = catalog_->Upsert(MakeProcedure("1.001193"));
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_FALSE(created->unchanged);
  EXPECT_EQ(created->procedure.revision, 1);
  auto same = catalog_->Upsert(MakeProcedure("1.001193"));
  ASSERT_TRUE(same.ok());
  EXPECT_TRUE(same->unchanged);
  EXPECT_EQ(same->procedure.revision, 1);
  Procedure changed = MakeProcedure("1.001193");
  changed.online_mode = OnlineMode::kPartial;
  auto updated = catalog_->Upsert(changed, 1);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->procedure.revision, 2);
  EXPECT_EQ(updated->procedure.create_time, created->procedure.create_time);
  EXPECT_EQ(catalog_->Get("1.001193")->online_mode, OnlineMode::kPartial);
}

TEST_F(CatalogTest, StaleRevisionIsRefusedAndNothingChanges) {
  ASSERT_TRUE(catalog_->Upsert(MakeProcedure("1.001193")).ok());
  Procedure changed = MakeProcedure("1.001193");
  changed.name = "Other";
  auto r = catalog_->Upsert(changed, 7);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(catalog_->Get("1.001193")->name, "Other");
}

TEST_F(CatalogTest, UnknownAgencyIsNotFoundAndNothingIsWritten) {
  Procedure p = MakeProcedure("2.000889");
  p.agency_codes = {"P22.STP", "P99.NOPE"};
  auto r = catalog_->Upsert(p);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("procedure.agency_codes"), absl::string_view::npos);
  EXPECT_NE(r.status().message().find("P99.NOPE"), absl::string_view::npos);
  EXPECT_EQ(catalog_->Get("2.000889").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(CatalogTest, AgencyListIsReplacedOnUpdate) {
  Procedure p = MakeProcedure("2.000889", {});
  p.agency_codes = {"P22.STP", "P22.X1"};
  ASSERT_TRUE(catalog_->Upsert(p).ok());
  p.agency_codes = {"P22.X1"};
  ASSERT_TRUE(catalog_->Upsert(p).ok());
  EXPECT_EQ(catalog_->Get("2.000889")->agency_codes, std::vector<std::string>{"P22.X1"});
  EXPECT_TRUE(Codes({.agency_code = "P22.STP"}).empty());
}

TEST_F(CatalogTest, ListFiltersCombine) {
  Procedure a = MakeProcedure("1.000001", {AgencyLevel::kCommune});
  Procedure b = MakeProcedure("2.000002", {});
  b.agency_codes = {"P22.STP"};
  b.field = "Đăng ký doanh nghiệp";
  b.name = "Đăng ký thành lập doanh nghiệp";
  b.fee_bearing = true;
  Procedure c = MakeProcedure("1.000003", {AgencyLevel::kCommune});
  c.online_mode = OnlineMode::kNone;
  c.full_online_eligible = false;
  c.valid_until = Date(2025, 7, 1);
  for (const auto& p : {a, b, c}) ASSERT_TRUE(catalog_->Upsert(p).ok());
  EXPECT_EQ(Codes({}), (std::vector<std::string>{"1.000001", "1.000003", "2.000002"}));
  EXPECT_EQ(Codes({.agency_code = "P22.X1"}), (std::vector<std::string>{"1.000001", "1.000003"}));
  EXPECT_EQ(Codes({.agency_code = "P22.STP"}), (std::vector<std::string>{"2.000002"}));
  EXPECT_EQ(Codes({.online_mode = OnlineMode::kNone}), (std::vector<std::string>{"1.000003"}));
  EXPECT_EQ(Codes({.as_of = Date(2025, 7, 1)}), (std::vector<std::string>{"1.000001", "2.000002"}));
  EXPECT_EQ(Codes({.query = "doanh nghiep"}), (std::vector<std::string>{"2.000002"}));
  EXPECT_EQ(Codes({.query = "1.000003"}), (std::vector<std::string>{"1.000003"}));
  EXPECT_EQ(Codes({.fee_bearing = true}), (std::vector<std::string>{"2.000002"}));
  EXPECT_EQ(Codes({.full_online_eligible = false}), (std::vector<std::string>{"1.000003"}));
  EXPECT_EQ(Codes({.field = "Hộ tịch", .level = AgencyLevel::kCommune}),
            (std::vector<std::string>{"1.000001", "1.000003"}));
  EXPECT_EQ(catalog_->List({.agency_code = "NOPE"}).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(CatalogTest, ImportKeepsGoodRowsAndReportsBadOnes) {
  Procedure bad = MakeProcedure("1.000002");
  bad.online_payment_integrated = true;  // without fee_bearing
  Procedure unknown_agency = MakeProcedure("1.000003");
  unknown_agency.agency_codes = {"NOPE"};
  auto outcomes = catalog_->Import({{MakeProcedure("1.000001"), 2}, {bad, 3}, {unknown_agency, 4},
                                    {MakeProcedure("1.000004"), 5}});
  ASSERT_EQ(outcomes.size(), 4u);
  EXPECT_EQ(outcomes[0].outcome, WriteOutcome::kApplied);
  EXPECT_EQ(outcomes[1].status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(outcomes[1].source_line, 3);
  EXPECT_NE(outcomes[1].status.message().find("online_payment_integrated"), absl::string_view::npos);
  EXPECT_EQ(outcomes[2].status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(outcomes[3].outcome, WriteOutcome::kApplied);
  EXPECT_EQ(Codes({}), (std::vector<std::string>{"1.000001", "1.000004"}));
}

TEST_F(CatalogTest, PaginationCoversEveryRowOnce) {
  std::vector<ProcedureImportItem> items;
  for (int i = 1; i <= 25; ++i) {
    char code[16];
    std::snprintf(code, sizeof code, "1.%06d", i);
    items.push_back({MakeProcedure(code), i});
  }
  for (const auto& o : catalog_->Import(items)) ASSERT_EQ(o.outcome, WriteOutcome::kApplied);
  std::vector<std::string> seen;
  ProcedureListRequest r{.page_size = 7};
  for (int guard = 0; guard < 10; ++guard) {
    auto page = catalog_->List(r);
    ASSERT_TRUE(page.ok());
    EXPECT_LE(page->procedures.size(), 7u);
    for (const auto& p : page->procedures) seen.push_back(p.code);
    if (page->next_page_token.empty()) break;
    r.page_token = page->next_page_token;
  }
  ASSERT_EQ(seen.size(), 25u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_EQ(std::adjacent_find(seen.begin(), seen.end()), seen.end());
}

}  // namespace
}  // namespace pstrack
