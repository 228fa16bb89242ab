// A real pstrack server on a free loopback port over a SQLite file in a
// temporary directory, with stubs for every service. Restart() stops it and
// starts a new one on the same database.
#ifndef PSTRACK_TESTS_API_SERVER_FIXTURE_H_
#define PSTRACK_TESTS_API_SERVER_FIXTURE_H_

#include <memory>

#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "pstrack/v1/agency.grpc.pb.h"
#include "pstrack/v1/catalog.grpc.pb.h"
#include "pstrack/v1/filing.grpc.pb.h"
#include "pstrack/v1/metrics.grpc.pb.h"
#include "services/api/convert.h"
#include "services/common/dates.h"
#include "services/server/server.h"
#include "tests/test_database.h"

namespace pstrack::testing {

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(); }
  void TearDown() override {
    if (server_) server_->Shutdown(absl::Seconds(5));
  }

  ServerOptions Options() {
    ServerOptions o;
    o.listen_address = "127.0.0.1:0";
    o.database_url = TestDatabaseUrl(dir_, "pstrack.db");
    o.max_threads = 16;
    // The functional suites run as an admin with authentication off;
    // security_api_test.cc covers authentication, roles, scopes and limits.
    o.access.auth_disabled = true;
    o.calendar_dir = std::string(PSTRACK_SOURCE_DIR) + "/data/calendar";
    o.methodology_dir = std::string(PSTRACK_SOURCE_DIR) + "/data/methodologies";
    return o;
  }

  void StartServer(ServerOptions options) {
    auto server = PstrackServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    channel_ = grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
    agencies_ = v1::AgencyService::NewStub(channel_);
    catalog_ = v1::CatalogService::NewStub(channel_);
    filings_ = v1::FilingService::NewStub(channel_);
    metrics_ = v1::MetricsService::NewStub(channel_);
  }
  void StartServer() { StartServer(Options()); }

  void Restart() {
    server_->Shutdown(absl::Seconds(5));
    server_.reset();
    StartServer();
  }

  static std::unique_ptr<grpc::ClientContext> Ctx() {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    return ctx;
  }

  // Creates an agency over gRPC and expects success.
  v1::Agency MustCreate(const std::string& code, v1::AgencyLevel level, const std::string& parent) {
    v1::CreateAgencyRequest req;
    req.mutable_agency()->set_code(code);
    req.mutable_agency()->set_name("Agency " + code);
    req.mutable_agency()->set_level(level);
    req.mutable_agency()->set_parent_code(parent);
    v1::Agency out;
    grpc::Status s = agencies_->CreateAgency(Ctx().get(), req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  // A valid commune-level procedure, 3 working days, full online.
  static v1::Procedure SampleProcedure(const std::string& code) {
    v1::Procedure p;
    p.set_code(code);
    p.set_name("Đăng ký khai sinh");
    p.set_field("Hộ tịch");
    p.add_levels(v1::AGENCY_LEVEL_COMMUNE);
    p.set_online_mode(v1::ONLINE_SERVICE_MODE_FULL);
    p.set_full_online_eligible(true);
    p.mutable_resolution_time()->set_amount(3);
    p.mutable_resolution_time()->set_unit(v1::RESOLUTION_TIME_UNIT_WORKING_DAYS);
    return p;
  }

  void MustUpsert(const v1::Procedure& p) {
    v1::UpsertProcedureRequest req;
    *req.mutable_procedure() = p;
    v1::UpsertProcedureResponse out;
    grpc::Status s = catalog_->UpsertProcedure(Ctx().get(), req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
  }

  void BasicTree() {
    MustCreate("VN", v1::AGENCY_LEVEL_NATION, "");
    MustCreate("P22", v1::AGENCY_LEVEL_PROVINCE, "VN");
    MustCreate("P22.STP", v1::AGENCY_LEVEL_DEPARTMENT, "P22");
    MustCreate("P22.X1", v1::AGENCY_LEVEL_COMMUNE, "P22");
  }

  TempDir dir_;
  std::unique_ptr<PstrackServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::AgencyService::Stub> agencies_;
  std::unique_ptr<v1::CatalogService::Stub> catalog_;
  std::unique_ptr<v1::FilingService::Stub> filings_;
  std::unique_ptr<v1::MetricsService::Stub> metrics_;
};

// An instant of Vietnam's local time.
inline google::protobuf::Timestamp At(int y, int m, int d, int hh) {
  google::protobuf::Timestamp t;
  TimeToProto(absl::FromCivil(absl::CivilSecond(y, m, d, hh, 0, 0), VietnamTimeZone()), &t);
  return t;
}

// An online receipt of procedure 1.001193 on 2 June 2025, 10:00.
inline v1::FilingEvent Receipt(const std::string& id, const std::string& dossier, const std::string& agency) {
  v1::FilingEvent e;
  e.set_event_id(id);
  e.set_dossier_code(dossier);
  e.set_agency_code(agency);
  e.set_procedure_code("1.001193");
  *e.mutable_occurred_at() = At(2025, 6, 2, 10);
  e.mutable_received()->set_channel(v1::CHANNEL_ONLINE);
  return e;
}

// Asserts a failed call's code and that its message names `field`.
#define EXPECT_RPC_ERROR(status, code, field)                                          \
  do {                                                                                 \
    grpc::Status s_ = (status);                                                        \
    EXPECT_EQ(s_.error_code(), grpc::StatusCode::code) << s_.error_message();          \
    EXPECT_NE(s_.error_message().find(field), std::string::npos) << s_.error_message(); \
  } while (false)

}  // namespace pstrack::testing

#endif  // PSTRACK_TESTS_API_SERVER_FIXTURE_H_
