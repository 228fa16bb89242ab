// AgencyRegistry over a real SQLite file: the rules that need the tree.
#include "services/agencies/agency_registry.h"

#include "gtest/gtest.h"
#include "tests/test_database.h"
#include "storage/store.h"

namespace pstrack {
namespace {

using testing::MakeAgency;
using testing::TempDir;

class AgencyRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = OpenStore(testing::TestDatabaseUrl(dir_, "r.db"));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    registry_ = std::make_unique<AgencyRegistry>(*store_);
    ASSERT_TRUE(registry_->Create(MakeAgency("VN", AgencyLevel::kNation, "")).ok());
    ASSERT_TRUE(registry_->Create(MakeAgency("P22", AgencyLevel::kProvince, "VN")).ok());
    ASSERT_TRUE(registry_->Create(MakeAgency("P24", AgencyLevel::kProvince, "VN")).ok());
    ASSERT_TRUE(registry_->Create(MakeAgency("P22.STP", AgencyLevel::kDepartment, "P22")).ok());
    ASSERT_TRUE(registry_->Create(MakeAgency("D1", AgencyLevel::kDistrict, "P22")).ok());
    ASSERT_TRUE(registry_->Create(MakeAgency("D1.X1", AgencyLevel::kCommune, "D1")).ok());
  }

  std::vector<std::string> Codes(const AgencyListRequest& r) {
    auto page = registry_->List(r);
    EXPECT_TRUE(page.ok()) << page.status();
    std::vector<std::string> out;
    if (page.ok()) {
      for (const auto& a : page->agencies) out.push_back(a.code);
    }
    return out;
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<AgencyRegistry> registry_;
};

TEST_F(AgencyRegistryTest, CreateComputesPathAndDepth) {
  auto a = registry_->Get("D1.X1");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->path, "VN/P22/D1/D1.X1");
  EXPECT_EQ(a->depth, 3);
  EXPECT_EQ(a->revision, 1);
}

TEST_F(AgencyRegistryTest, CreateIsIdempotentForIdenticalContent) {
  auto again = registry_->Create(MakeAgency("P22.STP", AgencyLevel::kDepartment, "P22"));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->revision, 1);
}

TEST_F(AgencyRegistryTest, CreateWithDifferentContentIsAlreadyExists) {
  auto r = registry_->Create(MakeAgency("P22.STP", AgencyLevel::kDepartment, "P22", "Other name"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(r.status().message().find("agency.code"), absl::string_view::npos);
}

TEST_F(AgencyRegistryTest, UnknownParentIsNotFound) {
  auto r = registry_->Create(MakeAgency("X1", AgencyLevel::kCommune, "P99"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("agency.parent_code"), absl::string_view::npos);
  EXPECT_NE(r.status().message().find("P99"), absl::string_view::npos);
}

TEST_F(AgencyRegistryTest, LevelMustFitParent) {
  auto r = registry_->Create(MakeAgency("X1", AgencyLevel::kProvince, "P22"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("agency.level"), absl::string_view::npos);
}

TEST_F(AgencyRegistryTest, OnlyOneNation) {
  auto r = registry_->Create(MakeAgency("LA", AgencyLevel::kNation, ""));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(AgencyRegistryTest, MoveRewritesWholeSubtree) {
  Agency change;
  change.code = "D1";
  change.parent_code = "P24";
  auto moved = registry_->Update(change, {AgencyField::kParentCode}, 1);
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->path, "VN/P24/D1");
  EXPECT_EQ(moved->revision, 2);
  EXPECT_EQ(registry_->Get("D1.X1")->path, "VN/P24/D1/D1.X1");
  EXPECT_EQ(Codes({.root_code = "P22"}), (std::vector<std::string>{"P22", "P22.STP"}));
  EXPECT_EQ(Codes({.root_code = "P24"}), (std::vector<std::string>{"P24", "D1", "D1.X1"}));
}

TEST_F(AgencyRegistryTest, MoveUnderOwnSubtreeIsACycle) {
  ASSERT_TRUE(registry_->Create(MakeAgency("D2", AgencyLevel::kDistrict, "P22")).ok());
  // A province cannot go under its own district (level check would also
  // fail); use a commune-capable chain: move D1 under D1.X1 is a cycle.
  Agency change;
  change.code = "D1";
  change.parent_code = "D1.X1";
  auto r = registry_->Update(change, {AgencyField::kParentCode}, 0);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("cycle"), absl::string_view::npos) << r.status();
  EXPECT_EQ(registry_->Get("D1")->path, "VN/P22/D1");
}

TEST_F(AgencyRegistryTest, StaleRevisionIsRefused) {
  Agency change;
  change.code = "P22";
  change.name = "Tỉnh Quảng Ninh";
  ASSERT_TRUE(registry_->Update(change, {AgencyField::kName}, 1).ok());
  change.name = "Again";
  auto r = registry_->Update(change, {AgencyField::kName}, 1);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("expected_revision"), absl::string_view::npos);
  EXPECT_EQ(registry_->Get("P22")->name, "Tỉnh Quảng Ninh");
}

TEST_F(AgencyRegistryTest, UpdateWithSameContentKeepsRevision) {
  Agency change;
  change.code = "P22";
  change.name = "Agency P22";
  auto r = registry_->Update(change, {AgencyField::kName}, 0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->revision, 1);
}

TEST_F(AgencyRegistryTest, LevelChangeMustStillFitChildren) {
  Agency change;
  change.code = "D1";
  change.level = AgencyLevel::kDepartment;  // a commune cannot sit under a department
  auto r = registry_->Update(change, {AgencyField::kLevel}, 0);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("D1.X1"), absl::string_view::npos) << r.status();
}

TEST_F(AgencyRegistryTest, SuccessorMustBeInForceWhenAgencyEnds) {
  Agency merged = MakeAgency("P99", AgencyLevel::kProvince, "VN");
  merged.valid_from = Date(2025, 7, 1);
  ASSERT_TRUE(registry_->Create(merged).ok());
  Agency former = MakeAgency("F01", AgencyLevel::kProvince, "VN");
  former.valid_until = Date(2025, 6, 1);  // P99 does not exist yet then
  former.successor_code = "P99";
  auto r = registry_->Create(former);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("agency.successor_code"), absl::string_view::npos);
  former.valid_until = Date(2025, 7, 1);
  EXPECT_TRUE(registry_->Create(former).ok());
}

TEST_F(AgencyRegistryTest, SuccessorCycleIsRefused) {
  Agency a = MakeAgency("A1", AgencyLevel::kProvince, "VN");
  a.valid_until = Date(2030, 1, 1);
  a.successor_code = "P22";
  ASSERT_TRUE(registry_->Create(a).ok());
  Agency change;
  change.code = "P22";
  change.valid_until = Date(2029, 1, 1);
  change.successor_code = "A1";
  auto r = registry_->Update(change, {AgencyField::kValidUntil, AgencyField::kSuccessorCode}, 0);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("cycle"), absl::string_view::npos) << r.status();
}

TEST_F(AgencyRegistryTest, ResolveSuccessorFollowsChain) {
  Agency p = MakeAgency("P30", AgencyLevel::kProvince, "VN");
  p.valid_from = Date(2025, 7, 1);
  ASSERT_TRUE(registry_->Create(p).ok());
  Agency f = MakeAgency("F30", AgencyLevel::kProvince, "VN");
  f.valid_until = Date(2025, 7, 1);
  f.successor_code = "P30";
  ASSERT_TRUE(registry_->Create(f).ok());
  auto before = registry_->ResolveSuccessor("F30", Date(2024, 5, 1));
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->agency.code, "F30");
  auto after = registry_->ResolveSuccessor("F30", Date(2025, 7, 1));
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->agency.code, "P30");
  EXPECT_EQ(after->lineage, (std::vector<std::string>{"F30", "P30"}));
  EXPECT_EQ(registry_->ResolveSuccessor("P30", Date(2024, 1, 1)).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(AgencyRegistryTest, ListFiltersAndPaginates) {
  EXPECT_EQ(Codes({.root_code = "P22", .max_depth = 1}), (std::vector<std::string>{"P22", "D1", "P22.STP"}));
  EXPECT_EQ(Codes({.level = AgencyLevel::kProvince}), (std::vector<std::string>{"P22", "P24"}));
  // Case- and accent-insensitive substring.
  EXPECT_EQ(Codes({.name_contains = "AGENCY P2"}), (std::vector<std::string>{"P22", "P22.STP", "P24"}));
  // Pages of 2 cover everything exactly once.
  std::vector<std::string> all;
  AgencyListRequest r{.page_size = 2};
  for (int pages = 0; pages < 10; ++pages) {
    auto page = registry_->List(r);
    ASSERT_TRUE(page.ok());
    for (const auto& a : page->agencies) all.push_back(a.code);
    if (page->next_page_token.empty()) break;
    r.page_token = page->next_page_token;
  }
  EXPECT_EQ(all, Codes({.page_size = 100}));
  EXPECT_EQ(all.size(), 6u);
  // A token is bound to its filters.
  auto first = registry_->List({.page_size = 2});
  auto wrong = registry_->List({.level = AgencyLevel::kProvince, .page_size = 2, .page_token = first->next_page_token});
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(AgencyRegistryTest, ListAsOfUsesHalfOpenValidity) {
  Agency f = MakeAgency("F30", AgencyLevel::kProvince, "VN");
  f.valid_from = Date(2008, 8, 1);
  f.valid_until = Date(2025, 7, 1);
  ASSERT_TRUE(registry_->Create(f).ok());
  auto on = Codes({.level = AgencyLevel::kProvince, .as_of = Date(2025, 6, 30)});
  EXPECT_NE(std::find(on.begin(), on.end(), "F30"), on.end());
  auto off = Codes({.level = AgencyLevel::kProvince, .as_of = Date(2025, 7, 1)});
  EXPECT_EQ(std::find(off.begin(), off.end(), "F30"), off.end());
  auto early = Codes({.level = AgencyLevel::kProvince, .as_of = Date(2008, 7, 31)});
  EXPECT_EQ(std::find(early.begin(), early.end(), "F30"), early.end());
}

TEST_F(AgencyRegistryTest, ImportOrdersDependenciesAndReportsEachBadItem) {
  Agency child = MakeAgency("N1.C1", AgencyLevel::kCommune, "N1");
  Agency parent = MakeAgency("N1", AgencyLevel::kProvince, "VN");
  Agency orphan = MakeAgency("N2.C1", AgencyLevel::kCommune, "NOPE");
  Agency bad_code = MakeAgency("bad code", AgencyLevel::kProvince, "VN");
  Agency former = MakeAgency("F1", AgencyLevel::kProvince, "VN");
  former.valid_until = Date(2025, 7, 1);
  former.successor_code = "N1";  // successor appears earlier in the file
  auto outcomes = registry_->Import({{child, 2}, {orphan, 3}, {former, 4}, {parent, 5}, {bad_code, 6}});
  ASSERT_EQ(outcomes.size(), 5u);
  EXPECT_EQ(outcomes[0].outcome, WriteOutcome::kApplied) << outcomes[0].status;
  EXPECT_EQ(outcomes[1].outcome, WriteOutcome::kRejected);
  EXPECT_EQ(outcomes[1].status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(outcomes[1].source_line, 3);
  EXPECT_EQ(outcomes[2].outcome, WriteOutcome::kApplied) << outcomes[2].status;
  EXPECT_EQ(outcomes[3].outcome, WriteOutcome::kApplied);
  EXPECT_EQ(outcomes[4].status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry_->Get("N1.C1")->path, "VN/N1/N1.C1");
  EXPECT_EQ(registry_->Get("N2.C1").status().code(), absl::StatusCode::kNotFound);
  // Importing the same file again changes nothing.
  auto again = registry_->Import({{child, 2}, {former, 4}, {parent, 5}});
  for (const auto& o : again) EXPECT_EQ(o.outcome, WriteOutcome::kUnchanged) << o.key;
}

TEST_F(AgencyRegistryTest, ImportReportsCyclesWithinTheBatch) {
  Agency a = MakeAgency("CA", AgencyLevel::kCommune, "CB");
  Agency b = MakeAgency("CB", AgencyLevel::kCommune, "CA");
  Agency fine = MakeAgency("P50", AgencyLevel::kProvince, "VN");
  auto outcomes = registry_->Import({{a, 1}, {b, 2}, {fine, 3}});
  EXPECT_EQ(outcomes[0].status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(outcomes[0].status.message().find("cycle"), absl::string_view::npos);
  EXPECT_EQ(outcomes[1].status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(outcomes[2].outcome, WriteOutcome::kApplied);
}

TEST_F(AgencyRegistryTest, ImportUpdatesChangedRows) {
  Agency renamed = MakeAgency("P24", AgencyLevel::kProvince, "VN", "Tỉnh Bắc Ninh");
  auto outcomes = registry_->Import({{renamed, 2}});
  EXPECT_EQ(outcomes[0].outcome, WriteOutcome::kApplied);
  auto got = registry_->Get("P24");
  EXPECT_EQ(got->name, "Tỉnh Bắc Ninh");
  EXPECT_EQ(got->revision, 2);
}

}  // namespace
}  // namespace pstrack
