// Access control over a real gRPC server with authentication on: every RPC
// against every role, scopes (batches included), wrong and revoked keys, key
// administration, rate limits, deadlines, the audit log, and TLS / mutual TLS
// with certificates made by openssl at test time.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/generic/generic_stub.h"
#include "pstrack/v1/admin.grpc.pb.h"
#include "pstrack/v1/reporting.grpc.pb.h"
#include "services/api/convert.h"
#include "services/security/access_control.h"
#include "services/security/policy.h"
#include "tests/api/server_fixture.h"

namespace pstrack {
namespace {

using testing::At;
using testing::Receipt;
using testing::ServerTest;

constexpr absl::string_view kServices[] = {"pstrack.v1.AgencyService", "pstrack.v1.CatalogService",
                                           "pstrack.v1.FilingService", "pstrack.v1.MetricsService",
                                           "pstrack.v1.AdminService", "pstrack.v1.ReportingService"};



class SecurityTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerOptions o = Options();
    o.access.auth_disabled = false;
    o.access.default_rate_per_second = 0;  // the rate-limit test sets its own
    Start(o);
  }

  void Start(const ServerOptions& o) {
    StartServer(o);
    admin_stub_ = v1::AdminService::NewStub(channel_);
    if (admin_.empty()) {
      // The first admin key, made in the database as pstrack-admin does.
      ApiKeyRecord first;
      first.name = "bootstrap admin";
      first.role = Role::kAdmin;
      auto made = CreateKeyInStore(server_->store(), first, "test");
      ASSERT_TRUE(made.ok()) << made.status();
      admin_ = made->second;
      for (auto [code, level, parent] : {std::tuple{"VN", v1::AGENCY_LEVEL_NATION, ""},
                                         {"P22", v1::AGENCY_LEVEL_PROVINCE, "VN"},
                                         {"P22.X1", v1::AGENCY_LEVEL_COMMUNE, "P22"},
                                         {"P01", v1::AGENCY_LEVEL_PROVINCE, "VN"},
                                         {"P01.X2", v1::AGENCY_LEVEL_COMMUNE, "P01"}}) {
        v1::CreateAgencyRequest req;
        req.mutable_agency()->set_code(code);
        req.mutable_agency()->set_name(absl::StrCat("Agency ", code));
        req.mutable_agency()->set_level(level);
        req.mutable_agency()->set_parent_code(parent);
        v1::Agency out;
        ASSERT_TRUE(agencies_->CreateAgency(As(admin_).get(), req, &out).ok());
      }
      v1::UpsertProcedureRequest up;
      *up.mutable_procedure() = SampleProcedure("1.001193");
      v1::UpsertProcedureResponse upo;
      ASSERT_TRUE(catalog_->UpsertProcedure(As(admin_).get(), up, &upo).ok());
      centre_ = MakeKey("Trung tâm PVHCC Quảng Ninh", v1::ROLE_CENTRE, "P22").token();
      analyst_ = MakeKey("Sở Nội vụ Quảng Ninh", v1::ROLE_ANALYST, "P22").token();
      national_ = MakeKey("Bộ Nội vụ", v1::ROLE_ANALYST, "").token();
    }
  }

  static std::unique_ptr<grpc::ClientContext> As(const std::string& token) {
    auto ctx = Ctx();
    if (!token.empty()) ctx->AddMetadata("authorization", absl::StrCat("Bearer ", token));
    return ctx;
  }

  v1::CreateApiKeyResponse MakeKey(const std::string& name, v1::Role role, const std::string& scope,
                                   double rate = 0, const std::string& subject = "", bool cert_only = false) {
    v1::CreateApiKeyRequest req;
    req.mutable_key()->set_name(name);
    req.mutable_key()->set_role(role);
    req.mutable_key()->set_scope_agency_code(scope);
    req.mutable_key()->set_rate_limit_per_second(rate);
    req.mutable_key()->set_certificate_subject(subject);
    req.mutable_key()->set_certificate_only(cert_only);
    v1::CreateApiKeyResponse out;
    grpc::Status s = admin_stub_->CreateApiKey(As(admin_).get(), req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  static std::string KeyId(const std::string& token) { return token.substr(4, 16); }

  // Calls any unary method with an empty request.
  grpc::Status CallEmpty(const google::protobuf::MethodDescriptor& m, const std::string& token) {
    const google::protobuf::Message* prototype =
        google::protobuf::MessageFactory::generated_factory()->GetPrototype(m.input_type());
    std::string bytes = prototype->SerializeAsString();
    grpc::Slice slice(bytes);
    grpc::ByteBuffer request(&slice, 1), response;
    grpc::GenericStub generic(channel_);
    auto ctx = As(token);
    std::promise<grpc::Status> done;
    generic.UnaryCall(ctx.get(), absl::StrCat("/", m.service()->full_name(), "/", m.name()), grpc::StubOptions(),
                      &request, &response, [&](grpc::Status s) { done.set_value(s); });
    return done.get_future().get();
  }

  grpc::Status WhoAmI(const std::string& token, v1::WhoAmIResponse* out = nullptr) {
    v1::WhoAmIResponse ignored;
    return admin_stub_->WhoAmI(As(token).get(), v1::WhoAmIRequest(), out ? out : &ignored);
  }

  std::vector<v1::AuditRecord> Audit(const std::string& principal = "", const std::string& method = "") {
    v1::ListAuditRecordsRequest req;
    req.set_principal(principal);
    req.set_method(method);
    req.set_page_size(1000);
    v1::ListAuditRecordsResponse out;
    grpc::Status s = admin_stub_->ListAuditRecords(As(admin_).get(), req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return {out.records().begin(), out.records().end()};
  }

  std::string admin_, centre_, analyst_, national_;
  std::unique_ptr<v1::AdminService::Stub> admin_stub_;
};

TEST(AccessPolicyTest, EveryMethodOfTheApiHasExactlyOnePolicy) {
  std::set<std::string> in_api;
  for (absl::string_view name : kServices) {
    const auto* service = google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(std::string(name));
    ASSERT_NE(service, nullptr) << name;
    for (int i = 0; i < service->method_count(); ++i) {
      const std::string full = absl::StrCat(name, "/", service->method(i)->name());
      in_api.insert(full);
      const MethodPolicy* p = FindMethodPolicy(full);
      ASSERT_NE(p, nullptr) << full;
      EXPECT_EQ(p->full_name(), full);
      EXPECT_NE(p->roles, 0u) << full;
      EXPECT_EQ(p->stream, service->method(i)->client_streaming() || service->method(i)->server_streaming()) << full;
    }
  }
  std::set<std::string> in_table;
  for (const MethodPolicy& p : AllMethodPolicies()) in_table.insert(p.full_name());
  EXPECT_EQ(in_api, in_table);
}

TEST_F(SecurityTest, EveryRpcAgainstEveryRole) {
  const std::vector<std::pair<Role, std::string>> identities = {
      {Role::kCentre, centre_}, {Role::kAnalyst, analyst_}, {Role::kAdmin, admin_}};
  int checked = 0;
  for (absl::string_view name : kServices) {
    const auto* service = google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(std::string(name));
    for (int i = 0; i < service->method_count(); ++i) {
      const auto& m = *service->method(i);
      if (m.client_streaming() || m.server_streaming()) continue;  // below
      const MethodPolicy& policy = *FindMethodPolicy(absl::StrCat(name, "/", m.name()));
      SCOPED_TRACE(policy.full_name());
      grpc::Status none = CallEmpty(m, "");
      EXPECT_EQ(none.error_code(), grpc::StatusCode::UNAUTHENTICATED) << none.error_message();
      for (const auto& [role, token] : identities) {
        SCOPED_TRACE(std::string(RoleName(role)));
        grpc::Status s = CallEmpty(m, token);
        if (policy.allows(role)) {
          // Reaches the handler: whatever it says of the empty request, it
          // is not a refusal of the caller.
          EXPECT_NE(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << s.error_message();
          EXPECT_FALSE(absl::StrContains(s.error_message(), "may not call")) << s.error_message();
        } else {
          EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
          EXPECT_TRUE(absl::StrContains(s.error_message(), absl::StrCat("role ", RoleName(role), " may not call ",
                                                                        policy.full_name())))
              << s.error_message();
        }
        ++checked;
      }
    }
  }
  const int streams = std::count_if(AllMethodPolicies().begin(), AllMethodPolicies().end(),
                                    [](const MethodPolicy& p) { return p.stream; });
  EXPECT_EQ(streams, 2);
  EXPECT_EQ(checked, 3 * (static_cast<int>(AllMethodPolicies().size()) - streams));

  // Each call of an audited (write or admin) method, allowed or refused, left
  // exactly one audit record under the caller's key; reads left none.
  std::map<std::pair<std::string, std::string>, int> records;
  for (const auto& r : Audit()) ++records[{r.principal(), r.method()}];
  for (const MethodPolicy& policy : AllMethodPolicies()) {
    if (policy.stream) continue;  // called below
    for (const auto& [role, token] : identities) {
      const int n = records[{KeyId(token), policy.full_name()}];
      // The setup made keys and the tree as the admin, and the listing
      // above is itself an audited admin call.
      if (role == Role::kAdmin && (policy.method == "CreateApiKey" || policy.method == "CreateAgency" ||
                                   policy.method == "UpsertProcedure" || policy.method == "ListAuditRecords")) {
        EXPECT_GE(n, 1) << policy.full_name();
        continue;
      }
      EXPECT_EQ(n, policy.audited ? 1 : 0) << policy.full_name() << " as " << RoleName(role);
    }
  }

  // The two streams.
  for (const auto& [role, token] : identities) {
    v1::StreamEventsResponse resp;
    auto ctx = As(token);
    auto writer = filings_->StreamEvents(ctx.get(), &resp);
    writer->WritesDone();
    grpc::Status s = writer->Finish();
    EXPECT_EQ(s.ok(), role != Role::kAnalyst) << RoleName(role) << ": " << s.error_message();
    if (role == Role::kAnalyst) {
      EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    }

    v1::WatchIndicatorsRequest watch;  // no scope: INVALID_ARGUMENT once admitted
    auto wctx = As(token);
    auto reader = metrics_->WatchIndicators(wctx.get(), watch);
    v1::IndicatorSet set;
    while (reader->Read(&set)) {
    }
    s = reader->Finish();
    EXPECT_EQ(s.error_code(), role == Role::kCentre ? grpc::StatusCode::PERMISSION_DENIED
                                                    : grpc::StatusCode::INVALID_ARGUMENT)
        << RoleName(role) << ": " << s.error_message();
  }
}

TEST_F(SecurityTest, WrongMalformedRevokedAndCertificateOnlyKeysAreUnauthenticated) {
  ASSERT_TRUE(WhoAmI(centre_).ok());
  std::string wrong_secret = centre_;
  wrong_secret.back() = wrong_secret.back() == 'A' ? 'B' : 'A';
  for (const std::string& bad : {wrong_secret, std::string("pst_0000000000000000.") + centre_.substr(21),
                                 std::string("not-a-key"), std::string("pst_ABCDEF.x"), centre_ + "x"}) {
    grpc::Status s = WhoAmI(bad);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << bad;
    EXPECT_FALSE(absl::StrContains(s.error_message(), bad.substr(bad.size() - 8))) << "the secret is never echoed";
  }
  // x-api-key works as well as authorization: Bearer.
  auto ctx = Ctx();
  ctx->AddMetadata("x-api-key", centre_);
  v1::WhoAmIResponse who;
  ASSERT_TRUE(admin_stub_->WhoAmI(ctx.get(), v1::WhoAmIRequest(), &who).ok());
  EXPECT_EQ(who.role(), v1::ROLE_CENTRE);
  EXPECT_EQ(who.scope_agency_code(), "P22");
  EXPECT_EQ(who.principal(), KeyId(centre_));

  // Revocation takes effect on the next call.
  v1::RevokeApiKeyRequest revoke;
  revoke.set_key_id(KeyId(centre_));
  v1::ApiKey revoked;
  ASSERT_TRUE(admin_stub_->RevokeApiKey(As(admin_).get(), revoke, &revoked).ok());
  EXPECT_TRUE(revoked.has_revoke_time());
  EXPECT_EQ(revoked.revoked_by(), KeyId(admin_));
  EXPECT_EQ(WhoAmI(centre_).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_RPC_ERROR(admin_stub_->RevokeApiKey(As(admin_).get(), revoke, &revoked), FAILED_PRECONDITION, "key_id");
  revoke.set_key_id("ffffffffffffffff");
  EXPECT_RPC_ERROR(admin_stub_->RevokeApiKey(As(admin_).get(), revoke, &revoked), NOT_FOUND, "key_id");

  // A certificate-only identity has no usable token.
  auto cert_only = MakeKey("cert only", v1::ROLE_CENTRE, "P22", 0, "centre-p22.example", true);
  EXPECT_TRUE(cert_only.token().empty());
  EXPECT_EQ(WhoAmI(absl::StrCat("pst_", cert_only.key().key_id(), ".", std::string(43, 'A'))).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(SecurityTest, KeyAdministrationValidatesAndNeverShowsSecrets) {
  v1::CreateApiKeyRequest req;
  v1::CreateApiKeyResponse out;
  req.mutable_key()->set_role(v1::ROLE_CENTRE);
  req.mutable_key()->set_scope_agency_code("P22");
  EXPECT_RPC_ERROR(admin_stub_->CreateApiKey(As(admin_).get(), req, &out), INVALID_ARGUMENT, "key.name");
  req.mutable_key()->set_name("x");
  req.mutable_key()->clear_scope_agency_code();
  EXPECT_RPC_ERROR(admin_stub_->CreateApiKey(As(admin_).get(), req, &out), INVALID_ARGUMENT, "key.scope_agency_code");
  req.mutable_key()->set_scope_agency_code("P99");
  EXPECT_RPC_ERROR(admin_stub_->CreateApiKey(As(admin_).get(), req, &out), NOT_FOUND, "key.scope_agency_code");
  req.mutable_key()->set_role(v1::ROLE_ADMIN);
  req.mutable_key()->set_scope_agency_code("P22");
  EXPECT_RPC_ERROR(admin_stub_->CreateApiKey(As(admin_).get(), req, &out), INVALID_ARGUMENT, "key.scope_agency_code");
  req.mutable_key()->set_role(v1::ROLE_UNSPECIFIED);
  EXPECT_RPC_ERROR(admin_stub_->CreateApiKey(As(admin_).get(), req, &out), INVALID_ARGUMENT, "key.role");
  req.mutable_key()->set_role(v1::ROLE_ANALYST);
  req.mutable_key()->set_rate_limit_per_second(-1);
  EXPECT_RPC_ERROR(admin_stub_->CreateApiKey(As(admin_).get(), req, &out), INVALID_ARGUMENT,
                   "key.rate_limit_per_second");
  MakeKey("first", v1::ROLE_CENTRE, "P01", 0, "centre-p01.example");
  req.mutable_key()->set_rate_limit_per_second(0);
  req.mutable_key()->set_certificate_subject("centre-p01.example");
  EXPECT_RPC_ERROR(admin_stub_->CreateApiKey(As(admin_).get(), req, &out), ALREADY_EXISTS, "certificate_subject");

  v1::ListApiKeysRequest list;
  list.set_page_size(2);
  std::set<std::string> ids;
  std::string all_bytes;
  do {
    v1::ListApiKeysResponse page;
    ASSERT_TRUE(admin_stub_->ListApiKeys(As(admin_).get(), list, &page).ok());
    for (const auto& k : page.keys()) ids.insert(k.key_id());
    all_bytes += page.SerializeAsString();
    list.set_page_token(page.next_page_token());
  } while (!list.page_token().empty());
  EXPECT_EQ(ids.size(), 5u);  // bootstrap, centre, analyst, national, first
  for (const std::string& token : {admin_, centre_, analyst_, national_}) {
    EXPECT_TRUE(ids.contains(KeyId(token)));
    EXPECT_FALSE(absl::StrContains(all_bytes, token.substr(21))) << "a secret was listed";
  }
}

TEST_F(SecurityTest, CentresWriteAndReadOnlyTheirSubtree) {
  v1::RecordEventRequest one;
  v1::RecordEventResponse one_out;
  *one.mutable_event() = Receipt("c1", "P22.X1-250602-0001", "P22.X1");
  ASSERT_TRUE(filings_->RecordEvent(As(centre_).get(), one, &one_out).ok());
  *one.mutable_event() = Receipt("c2", "P01.X2-250602-0001", "P01.X2");
  EXPECT_RPC_ERROR(filings_->RecordEvent(As(centre_).get(), one, &one_out), PERMISSION_DENIED, "event.agency_code");
  grpc::Status s = filings_->RecordEvent(As(centre_).get(), one, &one_out);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "Agency P22")) << s.error_message();
  // The admin writes the other province (for the reads below).
  ASSERT_TRUE(filings_->RecordEvent(As(admin_).get(), one, &one_out).ok());

  // A mixed batch: in-scope items land, each out-of-scope one is refused.
  v1::RecordEventsRequest batch;
  *batch.add_events() = Receipt("b1", "P22.X1-250602-0002", "P22.X1");
  *batch.add_events() = Receipt("b2", "P01.X2-250602-0002", "P01.X2");
  *batch.add_events() = Receipt("b3", "P22.X1-250602-0003", "P22.X1");
  *batch.add_events() = Receipt("b4", "P99-250602-0004", "P99");
  v1::RecordEventsResponse batch_out;
  ASSERT_TRUE(filings_->RecordEvents(As(centre_).get(), batch, &batch_out).ok());
  ASSERT_EQ(batch_out.results_size(), 4);
  EXPECT_EQ(batch_out.results(0).outcome(), v1::ItemResult::OUTCOME_APPLIED);
  EXPECT_EQ(batch_out.results(1).code(), static_cast<int>(grpc::StatusCode::PERMISSION_DENIED));
  EXPECT_TRUE(absl::StrContains(batch_out.results(1).message(), "events[1].agency_code")) << batch_out.results(1).message();
  EXPECT_EQ(batch_out.results(2).outcome(), v1::ItemResult::OUTCOME_APPLIED);
  EXPECT_EQ(batch_out.results(3).code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));  // unknown agency
  EXPECT_EQ(batch_out.summary().applied(), 2);
  EXPECT_EQ(batch_out.summary().rejected(), 2);

  // The stream: the same rule, reported by position.
  v1::StreamEventsResponse stream_out;
  auto ctx = As(centre_);
  auto writer = filings_->StreamEvents(ctx.get(), &stream_out);
  writer->Write(Receipt("s1", "P01.X2-250602-0005", "P01.X2"));
  writer->Write(Receipt("s2", "P22.X1-250602-0006", "P22.X1"));
  writer->WritesDone();
  ASSERT_TRUE(writer->Finish().ok());
  EXPECT_EQ(stream_out.summary().applied(), 1);
  ASSERT_EQ(stream_out.rejected_size(), 1);
  EXPECT_EQ(stream_out.rejected(0).index(), 0);
  EXPECT_EQ(stream_out.rejected(0).code(), static_cast<int>(grpc::StatusCode::PERMISSION_DENIED));

  // Reads: own dossiers yes, the other province's no.
  v1::GetDossierRequest get;
  v1::Dossier dossier;
  get.set_code("P22.X1-250602-0001");
  EXPECT_TRUE(filings_->GetDossier(As(centre_).get(), get, &dossier).ok());
  get.set_code("P01.X2-250602-0001");
  EXPECT_RPC_ERROR(filings_->GetDossier(As(centre_).get(), get, &dossier), PERMISSION_DENIED, "code");
  EXPECT_TRUE(filings_->GetDossier(As(national_).get(), get, &dossier).ok());
  v1::ListDossiersRequest list;
  v1::ListDossiersResponse listed;
  ASSERT_TRUE(filings_->ListDossiers(As(centre_).get(), list, &listed).ok());
  std::set<std::string> codes;
  for (const auto& d : listed.dossiers()) codes.insert(d.code());
  EXPECT_EQ(codes, (std::set<std::string>{"P22.X1-250602-0001", "P22.X1-250602-0002", "P22.X1-250602-0003",
                                          "P22.X1-250602-0006"}));
  list.set_agency_code("P01");
  EXPECT_RPC_ERROR(filings_->ListDossiers(As(centre_).get(), list, &listed), PERMISSION_DENIED, "agency_code");
  listed.Clear();
  ASSERT_TRUE(filings_->ListDossiers(As(admin_).get(), list, &listed).ok());
  EXPECT_EQ(listed.dossiers_size(), 1);
}

TEST_F(SecurityTest, CentresReportAndSeeDataQualityOfTheirSubtreeOnly) {
  auto reporting = v1::ReportingService::NewStub(channel_);
  v1::SubmitReportsRequest req;
  for (const char* agency : {"P22.X1", "P01.X2", "P22"}) {
    v1::PeriodicReport* r = req.add_reports();
    r->set_report_id(absl::StrCat("r-", agency));
    r->set_agency_code(agency);
    r->set_period("2025-06");
    r->set_received(10);
    r->set_finished(5);
  }
  v1::SubmitReportsResponse out;
  ASSERT_TRUE(reporting->SubmitReports(As(centre_).get(), req, &out).ok());
  ASSERT_EQ(out.results_size(), 3);
  EXPECT_EQ(out.results(0).outcome(), v1::ItemResult::OUTCOME_APPLIED) << out.results(0).message();
  EXPECT_EQ(out.results(1).code(), static_cast<int>(grpc::StatusCode::PERMISSION_DENIED));
  EXPECT_TRUE(absl::StrContains(out.results(1).message(), "reports[1].agency_code")) << out.results(1).message();
  EXPECT_EQ(out.results(2).outcome(), v1::ItemResult::OUTCOME_APPLIED) << out.results(2).message();
  // The report of the other province is not there; the audit says 2 + 1.
  v1::GetReportRequest get;
  v1::GetReportResponse got;
  get.set_report_id("r-P01.X2");
  EXPECT_EQ(reporting->GetReport(As(admin_).get(), get, &got).error_code(), grpc::StatusCode::NOT_FOUND);
  get.set_report_id("r-P22.X1");
  EXPECT_TRUE(reporting->GetReport(As(centre_).get(), get, &got).ok());
  auto audit = Audit(KeyId(centre_), "SubmitReports");
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].applied(), 2);
  EXPECT_EQ(audit[0].rejected(), 1);
  // Data quality: own province yes, the other no; reconciliation is for analysts.
  v1::GetDataQualityRequest quality;
  quality.mutable_scope()->set_agency_code("P01");
  quality.mutable_period()->set_label("2025");
  v1::GetDataQualityResponse quality_out;
  EXPECT_RPC_ERROR(reporting->GetDataQuality(As(centre_).get(), quality, &quality_out), PERMISSION_DENIED,
                   "scope.agency_code");
  quality.mutable_scope()->set_agency_code("P22");
  EXPECT_TRUE(reporting->GetDataQuality(As(centre_).get(), quality, &quality_out).ok());
  v1::ReconcileRequest rec;
  *rec.mutable_scope() = quality.scope();
  *rec.mutable_period() = quality.period();
  v1::ReconcileResponse rec_out;
  EXPECT_EQ(reporting->Reconcile(As(centre_).get(), rec, &rec_out).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(reporting->Reconcile(As(analyst_).get(), rec, &rec_out).ok());
  EXPECT_EQ(rec_out.rows_size(), 2);
}

TEST_F(SecurityTest, AnalystsReadMetricsOfTheirScopeOnly) {
  auto indicators = [&](const std::string& token, const std::string& scope) {
    v1::GetIndicatorsRequest req;
    req.mutable_scope()->set_agency_code(scope);
    req.mutable_period()->set_label("2025");
    v1::IndicatorSet out;
    return metrics_->GetIndicators(As(token).get(), req, &out);
  };
  EXPECT_TRUE(indicators(analyst_, "P22").ok());
  EXPECT_TRUE(indicators(analyst_, "P22.X1").ok());
  EXPECT_RPC_ERROR(indicators(analyst_, "VN"), PERMISSION_DENIED, "scope.agency_code");
  EXPECT_RPC_ERROR(indicators(analyst_, "P01"), PERMISSION_DENIED, "scope.agency_code");
  EXPECT_RPC_ERROR(indicators(analyst_, "P99"), NOT_FOUND, "scope.agency_code");
  EXPECT_TRUE(indicators(national_, "VN").ok());
  EXPECT_TRUE(indicators(national_, "P01").ok());

  v1::RankAgenciesRequest rank;
  rank.mutable_parent()->set_agency_code("VN");
  rank.mutable_period()->set_label("2025");
  rank.set_indicator_id("on_time_rate");
  v1::RankAgenciesResponse ranked;
  EXPECT_RPC_ERROR(metrics_->RankAgencies(As(analyst_).get(), rank, &ranked), PERMISSION_DENIED, "parent.agency_code");
  EXPECT_TRUE(metrics_->RankAgencies(As(national_).get(), rank, &ranked).ok());
  EXPECT_EQ(ranked.entries_size(), 2);

  v1::ScoreIndexRequest score;
  score.mutable_scope()->set_agency_code("P01");
  score.mutable_period()->set_label("2025");
  v1::IndexScore scored;
  EXPECT_RPC_ERROR(metrics_->ScoreIndex(As(analyst_).get(), score, &scored), PERMISSION_DENIED, "scope.agency_code");
  score.mutable_scope()->set_agency_code("P22");
  EXPECT_TRUE(metrics_->ScoreIndex(As(analyst_).get(), score, &scored).ok());

  v1::ListExternalInputsRequest inputs;
  v1::ListExternalInputsResponse inputs_out;
  EXPECT_RPC_ERROR(metrics_->ListExternalInputs(As(analyst_).get(), inputs, &inputs_out), PERMISSION_DENIED,
                   "agency_code");
  inputs.set_agency_code("P22");
  EXPECT_TRUE(metrics_->ListExternalInputs(As(analyst_).get(), inputs, &inputs_out).ok());

  // Analysts do not write events.
  v1::RecordEventRequest one;
  v1::RecordEventResponse one_out;
  *one.mutable_event() = Receipt("a1", "P22.X1-250602-0009", "P22.X1");
  EXPECT_RPC_ERROR(filings_->RecordEvent(As(analyst_).get(), one, &one_out), PERMISSION_DENIED, "may not call");
}

TEST_F(SecurityTest, ARateLimitTripsSaysWhenToRetryAndRecovers) {
  const std::string limited = MakeKey("limited", v1::ROLE_ANALYST, "", /*rate=*/5).token();
  int ok = 0;
  grpc::Status refused;
  std::string retry_after;
  for (int i = 0; i < 40 && refused.ok(); ++i) {
    auto ctx = As(limited);
    v1::WhoAmIResponse out;
    grpc::Status s = admin_stub_->WhoAmI(ctx.get(), v1::WhoAmIRequest(), &out);
    if (s.ok()) {
      ++ok;
      continue;
    }
    refused = s;
    auto it = ctx->GetServerTrailingMetadata().find("retry-after-ms");
    if (it != ctx->GetServerTrailingMetadata().end()) retry_after = std::string(it->second.data(), it->second.size());
  }
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_TRUE(absl::StrContains(refused.error_message(), "retry after")) << refused.error_message();
  // A bucket of 2 s at 5/s: about 10 calls, then refusals.
  EXPECT_GE(ok, 9);
  EXPECT_LE(ok, 14);
  int wait_ms = 0;
  ASSERT_TRUE(absl::SimpleAtoi(retry_after, &wait_ms)) << retry_after;
  EXPECT_GT(wait_ms, 0);
  EXPECT_LE(wait_ms, 201);
  // Other keys are not affected.
  EXPECT_TRUE(WhoAmI(national_).ok());
  absl::SleepFor(absl::Milliseconds(wait_ms + 20));
  EXPECT_TRUE(WhoAmI(limited).ok());
}

TEST_F(SecurityTest, EveryWriteAndAdminActionIsAudited) {
  // A write of each kind, as the admin; a refused one, as a centre; a read.
  v1::CreateAgencyRequest create;
  create.mutable_agency()->set_code("P22.X9");
  create.mutable_agency()->set_name("Xã Mới");
  create.mutable_agency()->set_level(v1::AGENCY_LEVEL_COMMUNE);
  create.mutable_agency()->set_parent_code("P22");
  v1::Agency agency;
  ASSERT_TRUE(agencies_->CreateAgency(As(admin_).get(), create, &agency).ok());
  EXPECT_EQ(agencies_->CreateAgency(As(centre_).get(), create, &agency).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::RecordEventsRequest batch;
  *batch.add_events() = Receipt("w1", "P22.X1-250602-0001", "P22.X1");
  *batch.add_events() = Receipt("w2", "P01.X2-250602-0002", "P01.X2");
  v1::RecordEventsResponse batch_out;
  ASSERT_TRUE(filings_->RecordEvents(As(centre_).get(), batch, &batch_out).ok());
  v1::RebuildAggregatesResponse rebuilt;
  ASSERT_TRUE(metrics_->RebuildAggregates(As(admin_).get(), v1::RebuildAggregatesRequest(), &rebuilt).ok());
  v1::ReloadMethodologiesResponse reloaded;
  ASSERT_TRUE(
      admin_stub_->ReloadMethodologies(As(admin_).get(), v1::ReloadMethodologiesRequest(), &reloaded).ok());
  EXPECT_EQ(reloaded.default_id(), "qd766@2026");
  v1::IndicatorSet read;
  v1::GetIndicatorsRequest get;
  get.mutable_scope()->set_agency_code("P22");
  get.mutable_period()->set_label("2025");
  ASSERT_TRUE(metrics_->GetIndicators(As(analyst_).get(), get, &read).ok());
  EXPECT_EQ(WhoAmI("pst_0123456789abcdef.nope-nope-nope-nope").error_code(), grpc::StatusCode::UNAUTHENTICATED);

  const auto records = Audit();
  auto find = [&](absl::string_view method, absl::string_view principal) -> const v1::AuditRecord* {
    for (const auto& r : records) {
      if (absl::EndsWith(r.method(), method) && r.principal() == principal) return &r;
    }
    return nullptr;
  };
  const v1::AuditRecord* created = find("AgencyService/CreateAgency", KeyId(admin_));
  ASSERT_NE(created, nullptr);
  EXPECT_EQ(created->code(), 0);
  EXPECT_EQ(created->target(), "agency P22.X9");
  EXPECT_EQ(created->role(), v1::ROLE_ADMIN);
  EXPECT_TRUE(absl::StartsWith(created->peer(), "ipv4:127.0.0.1:")) << created->peer();
  const v1::AuditRecord* refused = find("AgencyService/CreateAgency", KeyId(centre_));
  ASSERT_NE(refused, nullptr);
  EXPECT_EQ(refused->code(), static_cast<int>(grpc::StatusCode::PERMISSION_DENIED));
  const v1::AuditRecord* events = find("FilingService/RecordEvents", KeyId(centre_));
  ASSERT_NE(events, nullptr);
  EXPECT_EQ(events->applied(), 1);
  EXPECT_EQ(events->rejected(), 1);
  EXPECT_TRUE(absl::StrContains(events->target(), "2 events")) << events->target();
  EXPECT_NE(find("MetricsService/RebuildAggregates", KeyId(admin_)), nullptr);
  EXPECT_NE(find("AdminService/ReloadMethodologies", KeyId(admin_)), nullptr);
  // Setup's key creations, agencies and procedure are there too.
  int keys_made = 0;
  for (const auto& r : records) keys_made += absl::EndsWith(r.method(), "/CreateApiKey") && r.code() == 0;
  EXPECT_EQ(keys_made, 3);
  EXPECT_NE(find("CatalogService/UpsertProcedure", KeyId(admin_)), nullptr);
  // Reads and WhoAmI are not audited; no unauthenticated write was tried.
  EXPECT_EQ(find("MetricsService/GetIndicators", KeyId(analyst_)), nullptr);
  EXPECT_EQ(find("AdminService/WhoAmI", "anonymous"), nullptr);
  // Filters and pagination (newest first).
  auto only_events = Audit(KeyId(centre_), "RecordEvents");
  ASSERT_EQ(only_events.size(), 1u);
  v1::ListAuditRecordsRequest page_req;
  page_req.set_page_size(2);
  v1::ListAuditRecordsResponse page;
  ASSERT_TRUE(admin_stub_->ListAuditRecords(As(admin_).get(), page_req, &page).ok());
  ASSERT_EQ(page.records_size(), 2);
  EXPECT_GT(page.records(0).id(), page.records(1).id());
  page_req.set_page_token(page.next_page_token());
  v1::ListAuditRecordsResponse next;
  ASSERT_TRUE(admin_stub_->ListAuditRecords(As(admin_).get(), page_req, &next).ok());
  ASSERT_GT(next.records_size(), 0);
  EXPECT_LT(next.records(0).id(), page.records(1).id());
  // Only admins read the audit log.
  EXPECT_EQ(admin_stub_->ListAuditRecords(As(national_).get(), page_req, &next).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

// A unary event write carries its audit record in its own transaction
// (group commit): each call, applied, repeated or refused, concurrent or
// not, leaves exactly one record with its outcome, and no second one.
TEST_F(SecurityTest, UnaryEventWritesAreAuditedOnceWithTheirOutcome) {
  constexpr int kThreads = 8, kPerThread = 6;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto stub = v1::FilingService::NewStub(channel_);
      for (int i = 0; i < kPerThread; ++i) {
        v1::RecordEventRequest req;
        *req.mutable_event() = Receipt(absl::StrCat("u", t, "-", i),
                                       absl::StrCat("P22.X1-250602-", absl::Dec(t * 100 + i, absl::kZeroPad4)), "P22.X1");
        v1::RecordEventResponse out;
        if (!stub->RecordEvent(As(centre_).get(), req, &out).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(failures.load(), 0);
  v1::RecordEventRequest again;
  *again.mutable_event() = Receipt("u0-0", "P22.X1-250602-0000", "P22.X1");
  v1::RecordEventResponse out;
  ASSERT_TRUE(filings_->RecordEvent(As(centre_).get(), again, &out).ok());  // a repeat: unchanged
  v1::RecordEventRequest unknown;
  *unknown.mutable_event() = Receipt("u-bad", "P22.X1-250602-0999", "P22.X1");
  unknown.mutable_event()->set_procedure_code("9.999999");
  EXPECT_RPC_ERROR(filings_->RecordEvent(As(centre_).get(), unknown, &out), NOT_FOUND, "event.procedure_code");

  const auto records = Audit(KeyId(centre_), "FilingService/RecordEvent");
  ASSERT_EQ(records.size(), static_cast<size_t>(kThreads * kPerThread + 2));
  std::map<std::string, int> by_target;
  int applied = 0;
  for (const auto& r : records) {
    ++by_target[r.target()];
    applied += r.applied();
    EXPECT_EQ(r.role(), v1::ROLE_CENTRE);
    EXPECT_TRUE(absl::StartsWith(r.peer(), "ipv4:127.0.0.1:")) << r.peer();
    EXPECT_GT(r.duration_us(), 0);
  }
  EXPECT_EQ(applied, kThreads * kPerThread);
  EXPECT_EQ(by_target["event u0-0 of dossier P22.X1-250602-0000"], 2);
  EXPECT_EQ(by_target["event u7-5 of dossier P22.X1-250602-0705"], 1);
  // Newest first: the refusal, then the repeat.
  EXPECT_EQ(records[0].code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));
  EXPECT_EQ(records[0].rejected(), 1);
  EXPECT_TRUE(absl::StrContains(records[0].message(), "procedure")) << records[0].message();
  EXPECT_EQ(records[1].code(), 0);
  EXPECT_EQ(records[1].unchanged(), 1);
  EXPECT_EQ(records[1].applied(), 0);
}

// Clients that set no deadline get the server's longest for unary calls,
// and none for streams (which then must not fail on PostgreSQL's limits).
TEST_F(SecurityTest, CallsWithoutADeadlineWork) {
  grpc::ClientContext unary;
  unary.AddMetadata("authorization", "Bearer " + admin_);
  v1::RecordEventRequest one;
  v1::RecordEventResponse one_out;
  *one.mutable_event() = Receipt("nd1", "P22.X1-250602-0001", "P22.X1");
  ASSERT_TRUE(filings_->RecordEvent(&unary, one, &one_out).ok());
  grpc::ClientContext stream;
  stream.AddMetadata("authorization", "Bearer " + centre_);
  v1::StreamEventsResponse stream_out;
  auto writer = filings_->StreamEvents(&stream, &stream_out);
  ASSERT_TRUE(writer->Write(Receipt("nd2", "P22.X1-250602-0002", "P22.X1")));
  writer->WritesDone();
  grpc::Status s = writer->Finish();
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(stream_out.summary().applied(), 1);
}

TEST_F(SecurityTest, AnonymousFloodsAreRefusedWithoutFloodingTheAuditLog) {
  v1::CreateAgencyRequest create;
  create.mutable_agency()->set_code("P22.X8");
  v1::Agency agency;
  for (int i = 0; i < 60; ++i) {
    EXPECT_EQ(agencies_->CreateAgency(As("").get(), create, &agency).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  const auto anonymous = Audit("anonymous", "CreateAgency");
  // A bucket of 5/s with 2 s of burst: about ten are recorded, not sixty.
  EXPECT_GE(anonymous.size(), 5u);
  EXPECT_LE(anonymous.size(), 20u);
  EXPECT_EQ(anonymous.front().code(), static_cast<int>(grpc::StatusCode::UNAUTHENTICATED));
}

TEST_F(SecurityTest, StreamsEndWhenTheirKeyIsRevoked) {
  const auto watcher = MakeKey("dashboard", v1::ROLE_ANALYST, "");
  v1::WatchIndicatorsRequest watch;
  watch.mutable_scope()->set_agency_code("P22");
  watch.mutable_period()->set_label("2025");
  watch.add_indicator_ids("received");
  watch.mutable_min_interval()->set_nanos(100'000'000);
  auto ctx = As(watcher.token());
  auto reader = metrics_->WatchIndicators(ctx.get(), watch);
  v1::IndicatorSet set;
  ASSERT_TRUE(reader->Read(&set));
  v1::RevokeApiKeyRequest revoke;
  revoke.set_key_id(watcher.key().key_id());
  v1::ApiKey revoked;
  ASSERT_TRUE(admin_stub_->RevokeApiKey(As(admin_).get(), revoke, &revoked).ok());
  // A change wakes the stream up; it finds the key revoked and ends.
  v1::RecordEventRequest one;
  v1::RecordEventResponse one_out;
  *one.mutable_event() = Receipt("wake", "P22.X1-250602-0001", "P22.X1");
  ASSERT_TRUE(filings_->RecordEvent(As(admin_).get(), one, &one_out).ok());
  while (reader->Read(&set)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(SecurityTest, ALongCallStopsWhenItsDeadlinePasses) {
  // Enough dossiers that a full aggregate check takes a while (it is linear
  // now: 10,000 took 150 ms, too little beside a page of a stopped check).
  for (int b = 0; b < 24; ++b) {
    v1::RecordEventsRequest batch;
    for (int i = 0; i < 2500; ++i) {
      const int n = b * 2500 + i;
      *batch.add_events() = Receipt(absl::StrCat("d", n), absl::StrFormat("P22.X1-250602-%06d", n), "P22.X1");
    }
    v1::RecordEventsResponse out;
    auto ctx = As(admin_);
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
    ASSERT_TRUE(filings_->RecordEvents(ctx.get(), batch, &out).ok());
    ASSERT_EQ(out.summary().applied(), 2500);
  }
  auto rebuild = [&](absl::Duration deadline) {
    auto ctx = As(admin_);
    ctx->set_deadline(absl::ToChronoTime(absl::Now() + deadline));
    v1::RebuildAggregatesResponse out;
    return metrics_->RebuildAggregates(ctx.get(), v1::RebuildAggregatesRequest(), &out);
  };
  const absl::Time start = absl::Now();
  ASSERT_TRUE(rebuild(absl::Seconds(120)).ok());
  const absl::Duration full = absl::Now() - start;
  ASSERT_GT(full, absl::Milliseconds(40)) << "too little work to interrupt";
  const absl::Duration deadline = full / 8;
  EXPECT_EQ(rebuild(deadline).error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  // The server stopped (its audit record says so) well before finishing.
  // The client gives up at the deadline; the record follows shortly.
  std::vector<v1::AuditRecord> records;
  for (int i = 0; i < 100 && records.size() < 2; ++i) {
    if (i > 0) absl::SleepFor(absl::Milliseconds(100));
    records = Audit(KeyId(admin_), "RebuildAggregates");
  }
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].code(), static_cast<int>(grpc::StatusCode::DEADLINE_EXCEEDED)) << records[0].message();
  EXPECT_LT(absl::Microseconds(records[0].duration_us()), full / 2)
      << "full " << full << ", deadline " << deadline;
  EXPECT_EQ(records[1].code(), 0);
  // The server is fine afterwards, and the writer was released.
  v1::RecordEventRequest one;
  v1::RecordEventResponse one_out;
  *one.mutable_event() = Receipt("after", "P22.X1-250602-99999", "P22.X1");
  EXPECT_TRUE(filings_->RecordEvent(As(admin_).get(), one, &one_out).ok());
}

// Certificates made with openssl in the test's directory.
class TlsTest : public SecurityTest {
 protected:
  void SetUp() override {
    dir = dir_.path() + "/pki";
    std::filesystem::create_directories(dir);
    Sh("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=pstrack-test-ca -keyout ca.key -out ca.pem");
    Sh("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=rogue-ca -keyout rogue.key -out rogue.pem");
    Sh("printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > server.ext");
    Sh("openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout server.key -out server.csr");
    Sh("openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile server.ext "
       "-out server.pem");
    Sh("openssl req -newkey rsa:2048 -nodes -subj /CN=centre-p22.example -keyout client.key -out client.csr");
    Sh("openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -out client.pem");
    Sh("openssl req -newkey rsa:2048 -nodes -subj /CN=stranger.example -keyout stranger.key -out stranger.csr");
    Sh("openssl x509 -req -in stranger.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -out stranger.pem");
    Sh("openssl req -newkey rsa:2048 -nodes -subj /CN=centre-p22.example -keyout forged.key -out forged.csr");
    Sh("openssl x509 -req -in forged.csr -CA rogue.pem -CAkey rogue.key -CAcreateserial -days 2 -out forged.pem");
    SecurityTest::SetUp();
  }

  void Sh(const std::string& command) {
    ASSERT_EQ(std::system(absl::StrCat("cd '", dir, "' && ", command, " >/dev/null 2>&1").c_str()), 0) << command;
  }
  std::string Read(const std::string& name) {
    std::ifstream in(dir + "/" + name);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  void Restart(bool mutual, bool require) {
    server_->Shutdown(absl::Seconds(5));
    server_.reset();
    ServerOptions o = Options();
    o.access.auth_disabled = false;
    o.access.default_rate_per_second = 0;
    o.tls.cert_file = dir + "/server.pem";
    o.tls.key_file = dir + "/server.key";
    if (mutual) o.tls.client_ca_file = dir + "/ca.pem";
    o.tls.require_client_cert = require;
    Start(o);
    // The fixture's stubs over TLS (trusting the test CA).
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs = Read("ca.pem");
    channel_ = TlsChannel(tls);
    admin_stub_ = v1::AdminService::NewStub(channel_);
  }

  // gRPC 1.51 clients match the server's DNS names, not its IP addresses:
  // connect to 127.0.0.1 and expect the certificate of "localhost".
  std::shared_ptr<grpc::Channel> TlsChannel(const grpc::SslCredentialsOptions& tls) {
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    return grpc::CreateCustomChannel(server_->address(), grpc::SslCredentials(tls), args);
  }

  // WhoAmI over TLS, with a client certificate when `cert` is given.
  grpc::Status TlsWhoAmI(const std::string& cert, const std::string& token, v1::WhoAmIResponse* out) {
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs = Read("ca.pem");
    if (!cert.empty()) {
      tls.pem_cert_chain = Read(cert + ".pem");
      tls.pem_private_key = Read(cert + ".key");
    }
    auto stub = v1::AdminService::NewStub(TlsChannel(tls));
    auto ctx = As(token);
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    return stub->WhoAmI(ctx.get(), v1::WhoAmIRequest(), out);
  }

  std::string dir;
};

// Start-up refuses TLS settings that would not do what they say, naming
// the flag or the file.
TEST_F(TlsTest, StartRefusesTlsSettingsThatCannotWorkAndNamesTheFile) {
  ServerOptions o = Options();
  o.listen_address = "127.0.0.1:0";
  // A required client certificate with no CA to verify it against: before,
  // clients without a certificate were served.
  o.tls.require_client_cert = true;
  auto no_ca = PstrackServer::Start(o);
  ASSERT_FALSE(no_ca.ok());
  EXPECT_EQ(no_ca.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(no_ca.status().message().find("tls_client_ca"), absl::string_view::npos) << no_ca.status();
  o.tls.cert_file = dir + "/server.pem";
  o.tls.key_file = dir + "/server.key";
  auto still_no_ca = PstrackServer::Start(o);
  ASSERT_FALSE(still_no_ca.ok());
  EXPECT_NE(still_no_ca.status().message().find("tls_client_ca"), absl::string_view::npos) << still_no_ca.status();
  // A key of another certificate: before, "cannot listen ... (address in
  // use or not valid)".
  o.tls.require_client_cert = false;
  o.tls.key_file = dir + "/client.key";
  auto mismatch = PstrackServer::Start(o);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(mismatch.status().message().find("client.key"), absl::string_view::npos) << mismatch.status();
  EXPECT_NE(mismatch.status().message().find("does not belong"), absl::string_view::npos) << mismatch.status();
  EXPECT_EQ(mismatch.status().message().find("address in use"), absl::string_view::npos) << mismatch.status();
  // Files that are not PEM at all.
  o.tls.key_file = dir + "/server.key";
  o.tls.cert_file = dir + "/server.ext";
  auto not_pem = PstrackServer::Start(o);
  ASSERT_FALSE(not_pem.ok());
  EXPECT_NE(not_pem.status().message().find("server.ext"), absl::string_view::npos) << not_pem.status();
  o.tls.cert_file = dir + "/server.pem";
  o.tls.client_ca_file = dir + "/server.ext";
  auto bad_ca = PstrackServer::Start(o);
  ASSERT_FALSE(bad_ca.ok());
  EXPECT_NE(bad_ca.status().message().find("server.ext"), absl::string_view::npos) << bad_ca.status();
}

TEST_F(TlsTest, TlsCarriesKeysAndPlaintextClientsCannotConnect) {
  Restart(/*mutual=*/false, false);
  v1::WhoAmIResponse who;
  ASSERT_TRUE(TlsWhoAmI("", centre_, &who).ok());
  EXPECT_EQ(who.role(), v1::ROLE_CENTRE);
  EXPECT_EQ(TlsWhoAmI("", "", &who).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  // A plaintext client does not get through the handshake.
  auto plain = v1::AdminService::NewStub(grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
  auto ctx = As(centre_);
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  EXPECT_EQ(plain->WhoAmI(ctx.get(), v1::WhoAmIRequest(), &who).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsTest, AClientCertificateStandsForTheIdentityItIsRegisteredTo) {
  const auto registered = MakeKey("Quảng Ninh centre by certificate", v1::ROLE_CENTRE, "P22", 0, "centre-p22.example",
                                  /*cert_only=*/true);
  Restart(/*mutual=*/true, /*require=*/false);
  v1::WhoAmIResponse who;
  ASSERT_TRUE(TlsWhoAmI("client", "", &who).ok());
  EXPECT_EQ(who.principal(), registered.key().key_id());
  EXPECT_EQ(who.role(), v1::ROLE_CENTRE);
  EXPECT_EQ(who.scope_agency_code(), "P22");
  EXPECT_TRUE(absl::StrContains(who.name(), "centre-p22.example")) << who.name();
  // A key sent alongside a certificate wins.
  ASSERT_TRUE(TlsWhoAmI("client", national_, &who).ok());
  EXPECT_EQ(who.principal(), KeyId(national_));
  // A valid certificate that identifies nobody, without a key.
  EXPECT_EQ(TlsWhoAmI("stranger", "", &who).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  // A certificate with the right name from another CA fails the handshake.
  EXPECT_EQ(TlsWhoAmI("forged", "", &who).error_code(), grpc::StatusCode::UNAVAILABLE);
  // No certificate: allowed (not required), with a key.
  EXPECT_TRUE(TlsWhoAmI("", admin_, &who).ok());
  // Revoking the identity stops the certificate at once.
  v1::RevokeApiKeyRequest revoke;
  revoke.set_key_id(registered.key().key_id());
  v1::ApiKey revoked;
  ASSERT_TRUE(admin_stub_->RevokeApiKey(As(admin_).get(), revoke, &revoked).ok());
  EXPECT_EQ(TlsWhoAmI("client", "", &who).error_code(), grpc::StatusCode::UNAUTHENTICATED);

  Restart(/*mutual=*/true, /*require=*/true);
  EXPECT_EQ(TlsWhoAmI("", admin_, &who).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(TlsWhoAmI("stranger", admin_, &who).ok());
}

}  // namespace
}  // namespace pstrack
