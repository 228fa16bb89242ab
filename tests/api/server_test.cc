// The server as a whole: restart durability, the declared-but-later services,
// concurrency, start-up refusals and graceful shutdown.
#include <sqlite3.h>

#include <atomic>
#include <thread>

#include "tests/api/server_fixture.h"

namespace pstrack {
namespace {

using testing::ServerTest;

class PstrackServerTest : public ServerTest {};

TEST_F(PstrackServerTest, DataSurvivesRestart) {
  BasicTree();
  MustUpsert(SampleProcedure("1.001193"));
  Restart();
  v1::GetAgencyRequest get;
  get.set_code("P22.X1");
  v1::Agency a;
  ASSERT_TRUE(agencies_->GetAgency(Ctx().get(), get, &a).ok());
  EXPECT_EQ(a.path(), "VN/P22/P22.X1");
  v1::GetProcedureRequest getp;
  getp.set_code("1.001193");
  v1::Procedure got;
  ASSERT_TRUE(catalog_->GetProcedure(Ctx().get(), getp, &got).ok());
  EXPECT_EQ(got.name(), "Đăng ký khai sinh");
}

TEST_F(PstrackServerTest, ConcurrentWritersAndReadersAllSucceed) {
  BasicTree();
  constexpr int kThreads = 8, kPerThread = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        v1::CreateAgencyRequest req;
        req.mutable_agency()->set_code("C" + std::to_string(t) + "-" + std::to_string(i));
        req.mutable_agency()->set_name("Xã thử nghiệm");
        req.mutable_agency()->set_level(v1::AGENCY_LEVEL_COMMUNE);
        req.mutable_agency()->set_parent_code("P22");
        v1::Agency out;
        if (!agencies_->CreateAgency(Ctx().get(), req, &out).ok()) ++failures;
        v1::ListAgenciesRequest list_req;
        list_req.set_root_code("P22");
        v1::ListAgenciesResponse list;
        if (!agencies_->ListAgencies(Ctx().get(), list_req, &list).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  v1::ListAgenciesRequest req;
  req.set_root_code("P22");
  req.set_level(v1::AGENCY_LEVEL_COMMUNE);
  req.set_page_size(1000);
  v1::ListAgenciesResponse list;
  ASSERT_TRUE(agencies_->ListAgencies(Ctx().get(), req, &list).ok());
  EXPECT_EQ(list.agencies_size(), 1 + kThreads * kPerThread);
}

TEST_F(PstrackServerTest, SecondServerOnSamePortIsRefused) {
  ServerOptions o = Options();
  o.listen_address = server_->address();
  o.database_url = testing::TestDatabaseUrl(dir_, "other.db");
  auto second = PstrackServer::Start(o);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(PstrackServerTest, NewerDatabaseIsRefusedAtStart) {
  std::string path = dir_.File("future.db");
  {
    ServerOptions o = Options();
    o.database_url = "sqlite:" + path;
    auto s = PstrackServer::Start(o);
    ASSERT_TRUE(s.ok());
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "INSERT INTO schema_migrations VALUES (999, 'future', 0)", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  ServerOptions o = Options();
  o.database_url = "sqlite:" + path;
  auto s = PstrackServer::Start(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("schema version 999"), absl::string_view::npos) << s.status();
}

TEST_F(PstrackServerTest, ShutdownFinishesInFlightCallsThenRefusesNewOnes) {
  BasicTree();
  // A stream of calls running while Shutdown starts: each either completes
  // with the full answer, or is refused (UNAVAILABLE once the server stops
  // accepting, CANCELLED for a call gRPC had accepted but not yet handed to
  // a handler); none fails otherwise or returns a partial answer.
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, refused{0}, other{0};
  std::string other_errors;
  std::thread client([&] {
    while (!stop) {
      v1::ListAgenciesResponse list;
      grpc::Status s = agencies_->ListAgencies(Ctx().get(), v1::ListAgenciesRequest(), &list);
      if (s.ok() && list.agencies_size() == 4) {
        ++ok;
      } else if (s.error_code() == grpc::StatusCode::UNAVAILABLE ||
                 s.error_code() == grpc::StatusCode::CANCELLED) {
        ++refused;
      } else {
        ++other;
        other_errors += std::to_string(s.error_code()) + " " + s.error_message() + "; ";
      }
    }
  });
  while (ok.load() < 20) std::this_thread::yield();
  server_->Shutdown(absl::Seconds(5));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  stop = true;
  client.join();
  EXPECT_GE(ok.load(), 20);
  EXPECT_GT(refused.load(), 0);
  EXPECT_EQ(other.load(), 0) << other_errors;
  // The database was closed cleanly: a new server opens it and sees the data.
  StartServer();
  v1::ListAgenciesResponse list;
  ASSERT_TRUE(agencies_->ListAgencies(Ctx().get(), v1::ListAgenciesRequest(), &list).ok());
  EXPECT_EQ(list.agencies_size(), 4);
}

TEST_F(PstrackServerTest, ReferenceDataFlagsLoadAtStartIdempotently) {
  server_->Shutdown();
  server_.reset();
  ServerOptions o = Options();
  o.agency_files = {std::string(PSTRACK_SOURCE_DIR) + "/data/agencies/vn_provinces.csv"};
  StartServer(o);
  server_->Shutdown();
  server_.reset();
  StartServer(o);  // loading twice changes nothing
  v1::ListAgenciesRequest req;
  req.set_level(v1::AGENCY_LEVEL_PROVINCE);
  v1::ListAgenciesResponse list;
  ASSERT_TRUE(agencies_->ListAgencies(Ctx().get(), req, &list).ok());
  EXPECT_EQ(list.agencies_size(), 34 + 52);
  for (const auto& a : list.agencies()) EXPECT_EQ(a.revision(), 1) << a.code();
  o.agency_files = {dir_.File("missing.csv")};
  server_->Shutdown();
  server_.reset();
  auto failed = PstrackServer::Start(o);
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace pstrack
