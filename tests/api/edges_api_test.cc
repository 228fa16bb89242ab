// What a first user meets at the edges: oversized values and requests,
// search texts that are too long, a full database, private database files,
// and reference files that seed without reverting what the API changed.
#include <sys/stat.h>

#include <fstream>

#include "google/protobuf/unknown_field_set.h"
#include "tests/api/server_fixture.h"

namespace pstrack {
namespace {

using testing::Receipt;
using testing::ServerTest;

class EdgesTest : public ServerTest {};

// Before: a 1 MB code came back in a 1 MB status message, which the client
// reported as "RESOURCE_EXHAUSTED: received initial metadata size exceeds
// limit".
TEST_F(EdgesTest, AHugeValueIsRefusedNamingTheFieldWithAShortMessage) {
  v1::GetProcedureRequest get;
  get.set_code(std::string(1 << 20, 'A'));
  v1::Procedure procedure;
  grpc::Status s = catalog_->GetProcedure(Ctx().get(), get, &procedure);
  EXPECT_RPC_ERROR(s, INVALID_ARGUMENT, "code");
  EXPECT_LT(s.error_message().size(), 300u) << s.error_message().size();
  EXPECT_NE(s.error_message().find("at most 256 bytes"), std::string::npos) << s.error_message();

  // Nested and repeated fields are named by their path.
  v1::RecordEventsRequest batch;
  *batch.add_events() = Receipt("ok", "P22.X1-250602-0001", "P22.X1");
  *batch.add_events() = Receipt("big", "P22.X1-250602-0002", "P22.X1");
  batch.mutable_events(1)->set_procedure_code(std::string(100000, '9'));
  v1::RecordEventsResponse out;
  s = filings_->RecordEvents(Ctx().get(), batch, &out);
  EXPECT_RPC_ERROR(s, INVALID_ARGUMENT, "events[1].procedure_code");
  EXPECT_LT(s.error_message().size(), 300u);
}

// Before: INTERNAL "LIKE or GLOB pattern too complex".
TEST_F(EdgesTest, SearchTextsOverTheirLimitAreRefusedClearly) {
  BasicTree();
  v1::ListProceduresRequest procedures;
  procedures.set_query(std::string(50 << 10, 'x'));
  v1::ListProceduresResponse procedure_list;
  EXPECT_RPC_ERROR(catalog_->ListProcedures(Ctx().get(), procedures, &procedure_list), INVALID_ARGUMENT, "query");
  v1::ListAgenciesRequest agencies;
  agencies.set_name_contains(std::string(50 << 10, 'x'));
  v1::ListAgenciesResponse agency_list;
  EXPECT_RPC_ERROR(agencies_->ListAgencies(Ctx().get(), agencies, &agency_list), INVALID_ARGUMENT,
                   "name_contains");
  // At the limit the search runs (and finds nothing).
  agencies.set_name_contains(std::string(256, 'x'));
  EXPECT_TRUE(agencies_->ListAgencies(Ctx().get(), agencies, &agency_list).ok());
  EXPECT_EQ(agency_list.agencies_size(), 0);
}

// A request that is not a batch is small; one of 1 MiB (here in unknown
// fields, which no string check sees) is refused by its size.
TEST_F(EdgesTest, ARequestOverItsMethodsSizeIsRefusedNamingTheLimit) {
  v1::GetProcedureRequest get;
  get.set_code("1.001193");
  get.GetReflection()->MutableUnknownFields(&get)->AddLengthDelimited(99, std::string(1 << 20, 'z'));
  v1::Procedure procedure;
  grpc::Status s = catalog_->GetProcedure(Ctx().get(), get, &procedure);
  EXPECT_RPC_ERROR(s, RESOURCE_EXHAUSTED, "GetProcedure takes at most 64 KiB");
  EXPECT_NE(s.error_message().find("not a rate limit"), std::string::npos) << s.error_message();
  // A batch of the same size is fine.
  BasicTree();
  MustUpsert(SampleProcedure("1.001193"));
  v1::RecordEventsRequest batch;
  for (int i = 0; i < 3000; ++i) {
    *batch.add_events() = Receipt("e" + std::to_string(i), "P22.X1-250602-" + std::to_string(10000 + i), "P22.X1");
  }
  ASSERT_GT(batch.ByteSizeLong(), 64u << 10);
  v1::RecordEventsResponse out;
  s = filings_->RecordEvents(Ctx().get(), batch, &out);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(out.summary().applied(), 3000);
}

// Before: batch items on a full disk failed with INTERNAL (13).
TEST_F(EdgesTest, SqliteFullDatabaseIsResourceExhaustedAndSaysWhatToDo) {
  BasicTree();
  MustUpsert(SampleProcedure("1.001193"));
  server_->Shutdown(absl::Seconds(5));
  server_.reset();
  ServerOptions o = Options();
  struct stat st;
  ASSERT_EQ(stat(dir_.File("pstrack.db").c_str(), &st), 0);
  o.store.max_database_mib = static_cast<int>(st.st_size >> 20) + 1;  // a little room above today's size
  StartServer(o);
  grpc::Status failure;
  int recorded = 0;
  for (int round = 0; round < 200 && failure.ok(); ++round) {
    v1::RecordEventsRequest batch;
    for (int i = 0; i < 500; ++i) {
      const std::string n = std::to_string(100000 + round * 500 + i);
      *batch.add_events() = Receipt("e" + n, "P22.X1-250602-" + n, "P22.X1");
    }
    v1::RecordEventsResponse out;
    grpc::Status s = filings_->RecordEvents(Ctx().get(), batch, &out);
    if (!s.ok()) {
      failure = s;
      break;
    }
    for (const auto& r : out.results()) {
      if (r.outcome() == v1::ItemResult::OUTCOME_REJECTED) {
        failure = grpc::Status(static_cast<grpc::StatusCode>(r.code()), r.message());
        break;
      }
      ++recorded;
    }
  }
  ASSERT_FALSE(failure.ok()) << "the database never filled";
  EXPECT_EQ(failure.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << failure.error_message();
  EXPECT_NE(failure.error_message().find("disk is full"), std::string::npos) << failure.error_message();
  EXPECT_NE(failure.error_message().find("free space"), std::string::npos) << failure.error_message();
  // Nothing half-written: every event acknowledged before is there, and
  // reads still work.
  EXPECT_GT(recorded, 0);
  v1::GetDossierRequest get;
  get.set_code("P22.X1-250602-100000");
  v1::Dossier dossier;
  EXPECT_TRUE(filings_->GetDossier(Ctx().get(), get, &dossier).ok());
}

// Personal data: the database and its WAL files are the server's alone.
TEST_F(EdgesTest, SqliteDatabaseFilesAreCreatedPrivateAndLoosenedOnesTightened) {
  BasicTree();  // writes, so the -wal and -shm files exist
  for (const char* suffix : {"", "-wal", "-shm"}) {
    struct stat st;
    ASSERT_EQ(stat((dir_.File("pstrack.db") + suffix).c_str(), &st), 0) << suffix;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << suffix;
  }
  server_->Shutdown(absl::Seconds(5));
  server_.reset();
  ASSERT_EQ(chmod(dir_.File("pstrack.db").c_str(), 0644), 0);
  StartServer();
  struct stat st;
  ASSERT_EQ(stat(dir_.File("pstrack.db").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // A group the operator chose keeps its read access.
  server_->Shutdown(absl::Seconds(5));
  server_.reset();
  ASSERT_EQ(chmod(dir_.File("pstrack.db").c_str(), 0640), 0);
  StartServer();
  ASSERT_EQ(stat(dir_.File("pstrack.db").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
}

// Before: every restart applied the files again and reverted API edits.
TEST_F(EdgesTest, ReferenceFilesSeedWhatIsMissingAndNeverRevertApiEdits) {
  const std::string file = dir_.File("agencies.csv");
  {
    std::ofstream out(file);
    out << "code,name,level,parent_code,admin_code,valid_from,valid_until,successor_code\n"
        << "VN,Việt Nam,nation,,,,,\n"
        << "P22,Tỉnh Quảng Ninh,province,VN,22,,,\n";
  }
  server_->Shutdown(absl::Seconds(5));
  server_.reset();
  ServerOptions o = Options();
  o.agency_files = {file};
  o.procedure_files = {std::string(PSTRACK_SOURCE_DIR) + "/data/sample/procedures.csv"};
  StartServer(o);
  // An edit through the API.
  v1::UpdateAgencyRequest update;
  update.mutable_agency()->set_code("P22");
  update.mutable_agency()->set_name("Tỉnh Quảng Ninh (sửa qua API)");
  update.mutable_update_mask()->add_paths("name");
  v1::Agency updated;
  ASSERT_TRUE(agencies_->UpdateAgency(Ctx().get(), update, &updated).ok());
  v1::GetProcedureRequest get_procedure;
  get_procedure.set_code("1.001193");
  v1::Procedure procedure;
  ASSERT_TRUE(catalog_->GetProcedure(Ctx().get(), get_procedure, &procedure).ok());
  procedure.set_name(procedure.name() + " (sửa qua API)");
  MustUpsert(procedure);
  // The file gains an agency; the server restarts with the same flags.
  {
    std::ofstream out(file, std::ios::app);
    out << "P22.NEW,Phường Mới,commune,P22,,,,\n";
  }
  server_->Shutdown(absl::Seconds(5));
  server_.reset();
  StartServer(o);
  v1::GetAgencyRequest get;
  get.set_code("P22");
  v1::Agency p22;
  ASSERT_TRUE(agencies_->GetAgency(Ctx().get(), get, &p22).ok());
  EXPECT_EQ(p22.name(), "Tỉnh Quảng Ninh (sửa qua API)");
  EXPECT_EQ(p22.revision(), updated.revision());
  v1::Procedure after;
  ASSERT_TRUE(catalog_->GetProcedure(Ctx().get(), get_procedure, &after).ok());
  EXPECT_EQ(after.name(), procedure.name());
  get.set_code("P22.NEW");
  v1::Agency added;
  ASSERT_TRUE(agencies_->GetAgency(Ctx().get(), get, &added).ok());
  EXPECT_EQ(added.name(), "Phường Mới");
}

}  // namespace
}  // namespace pstrack
