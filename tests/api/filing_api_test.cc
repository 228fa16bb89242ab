// FilingService over a real gRPC server: the three ways in, idempotency,
// every error path, and dossier queries.
#include "services/api/convert.h"
#include "services/api/filing_service.h"
#include "tests/api/server_fixture.h"

namespace pstrack {
namespace {

using testing::ServerTest;

google::protobuf::Timestamp At(int y, int m, int d, int hh, int mm = 0) {
  google::protobuf::Timestamp t;
  TimeToProto(absl::FromCivil(absl::CivilSecond(y, m, d, hh, mm, 0), VietnamTimeZone()), &t);
  return t;
}

class FilingApiTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    BasicTree();
    MustUpsert(SampleProcedure("1.001193"));
  }

  static v1::FilingEvent Received(const std::string& id, const std::string& dossier) {
    v1::FilingEvent e;
    e.set_event_id(id);
    e.set_dossier_code(dossier);
    e.set_agency_code("P22.X1");
    e.set_procedure_code("1.001193");
    *e.mutable_occurred_at() = At(2025, 6, 2, 10);
    e.mutable_received()->set_channel(v1::CHANNEL_ONLINE);
    DateToProto(Date(2025, 6, 5), e.mutable_received()->mutable_declared_appointment_date());
    return e;
  }
  static v1::FilingEvent Resolved(const std::string& id, const std::string& dossier, int day) {
    v1::FilingEvent e;
    e.set_event_id(id);
    e.set_dossier_code(dossier);
    e.set_agency_code("P22.X1");
    *e.mutable_occurred_at() = At(2025, 6, day, 10);
    e.mutable_resolved()->set_electronic_result(true);
    return e;
  }
  grpc::Status Record(const v1::FilingEvent& e, v1::RecordEventResponse* out) {
    v1::RecordEventRequest req;
    *req.mutable_event() = e;
    return filings_->RecordEvent(Ctx().get(), req, out);
  }
};

constexpr char kDossier[] = "P22.X1-250602-0001";

// Well-formed means more than the fields: the dossier code names the
// event's agency, the agency is in force on the day, the time is not in
// the future. Each refusal names the field.
TEST_F(FilingApiTest, EventsThatAreNotWellFormedAreRefusedNamingTheField) {
  v1::RecordEventResponse out;
  auto other_agency = Received("w1", "P22.STP-250602-0001");  // agency P22.X1
  EXPECT_RPC_ERROR(Record(other_agency, &out), INVALID_ARGUMENT, "event.dossier_code");
  // An agency that ended, and one that had not begun.
  v1::CreateAgencyRequest ended;
  ended.mutable_agency()->set_code("P22.OLD");
  ended.mutable_agency()->set_name("Old commune");
  ended.mutable_agency()->set_level(v1::AGENCY_LEVEL_COMMUNE);
  ended.mutable_agency()->set_parent_code("P22");
  DateToProto(Date(2025, 7, 1), ended.mutable_agency()->mutable_valid_until());
  ended.mutable_agency()->set_successor_code("P22.X1");
  v1::Agency created;
  grpc::Status s = agencies_->CreateAgency(Ctx().get(), ended, &created);
  ASSERT_TRUE(s.ok()) << s.error_message();
  auto after_end = Received("w2", "P22.OLD-250702-0001");
  after_end.set_agency_code("P22.OLD");
  *after_end.mutable_occurred_at() = At(2025, 7, 2, 10);
  EXPECT_RPC_ERROR(Record(after_end, &out), INVALID_ARGUMENT, "event.agency_code");
  auto before_end = after_end;
  *before_end.mutable_occurred_at() = At(2025, 6, 30, 10);
  before_end.set_dossier_code("P22.OLD-250630-0001");
  EXPECT_TRUE(Record(before_end, &out).ok());
  // A dossier received before the end may be finished after it; one coded
  // after the end may not.
  auto finished_after = Resolved("w5", "P22.OLD-250630-0001", 3);
  finished_after.set_agency_code("P22.OLD");
  *finished_after.mutable_occurred_at() = At(2025, 7, 3, 10);
  EXPECT_TRUE(Record(finished_after, &out).ok());
  EXPECT_EQ(out.dossier().status(), v1::DOSSIER_STATUS_RESOLVED);
  finished_after.set_event_id("w6");
  finished_after.set_dossier_code("P22.OLD-250702-0001");
  EXPECT_RPC_ERROR(Record(finished_after, &out), INVALID_ARGUMENT, "event.agency_code");
  // Later than the server's clock plus the allowance (5 minutes).
  auto future = Received("w3", "P22.X1-991231-0001");
  TimeToProto(absl::Now() + absl::Hours(1), future.mutable_occurred_at());
  EXPECT_RPC_ERROR(Record(future, &out), INVALID_ARGUMENT, "event.occurred_at");
  auto almost_now = Received("w4", "P22.X1-991231-0002");
  TimeToProto(absl::Now() + absl::Minutes(1), almost_now.mutable_occurred_at());
  EXPECT_TRUE(Record(almost_now, &out).ok());
}

TEST_F(FilingApiTest, UnaryRecordIsIdempotentAndReturnsTheDossier) {
  v1::RecordEventResponse out;
  ASSERT_TRUE(Record(Received("e1", kDossier), &out).ok());
  EXPECT_EQ(out.outcome(), v1::ItemResult::OUTCOME_APPLIED);
  EXPECT_EQ(out.dossier().status(), v1::DOSSIER_STATUS_RECEIVED);
  EXPECT_EQ(out.dossier().computed_appointment_date().day(), 5);
  EXPECT_FALSE(out.dossier().appointment_mismatch());
  ASSERT_TRUE(Record(Received("e1", kDossier), &out).ok());
  EXPECT_EQ(out.outcome(), v1::ItemResult::OUTCOME_UNCHANGED);
  auto changed = Received("e1", kDossier);
  changed.mutable_received()->set_channel(v1::CHANNEL_POSTAL);
  EXPECT_RPC_ERROR(Record(changed, &out), ALREADY_EXISTS, "e1");
  ASSERT_TRUE(Record(Resolved("e2", kDossier, 4), &out).ok());
  EXPECT_EQ(out.dossier().timeliness(), v1::TIMELINESS_EARLY);
  EXPECT_EQ(out.dossier().status(), v1::DOSSIER_STATUS_RESOLVED);
}

// The measurement switches (services/common/ceilings.h) exist only in a
// build configured for tools/bench_ceilings.sh. Every switch is asked for
// before main, so every API test (and every server they start) runs with
// them asked for: an ordinary build writes everything all the same.
const bool kEverySwitchAskedFor = [] {
  return setenv("PSTRACK_CEILING", "no_write,audit_only,no_aggregates,no_durable_wait,cached_auth", 1) == 0;
}();

TEST_F(FilingApiTest, MeasurementSwitchesDoNothingInAnOrdinaryBuild) {
  ASSERT_TRUE(kEverySwitchAskedFor);
  v1::RecordEventResponse out;
  const grpc::Status recorded = Record(Received("e1", kDossier), &out);
  ASSERT_TRUE(recorded.ok()) << recorded.error_message();
  EXPECT_EQ(out.outcome(), v1::ItemResult::OUTCOME_APPLIED);
  v1::GetDossierRequest get;
  get.set_code(kDossier);
  v1::Dossier d;
  ASSERT_TRUE(filings_->GetDossier(Ctx().get(), get, &d).ok());
  EXPECT_EQ(d.status(), v1::DOSSIER_STATUS_RECEIVED);
  v1::GetIndicatorsRequest indicators;
  indicators.mutable_scope()->set_agency_code("P22");
  indicators.mutable_period()->set_label("2025-06");
  indicators.add_indicator_ids("received");
  v1::IndicatorSet figures;
  ASSERT_TRUE(metrics_->GetIndicators(Ctx().get(), indicators, &figures).ok());
  ASSERT_EQ(figures.values_size(), 1);
  EXPECT_EQ(figures.values(0).value(), 1);  // its aggregate rows were written too
}

TEST_F(FilingApiTest, UnaryErrorsNameTheFieldAndTheRule) {
  v1::RecordEventResponse out;
  EXPECT_RPC_ERROR(filings_->RecordEvent(Ctx().get(), v1::RecordEventRequest(), &out), INVALID_ARGUMENT, "event");
  auto no_kind = Received("e1", kDossier);
  no_kind.clear_received();
  EXPECT_RPC_ERROR(Record(no_kind, &out), INVALID_ARGUMENT, "event.kind");
  auto no_time = Received("e1", kDossier);
  no_time.clear_occurred_at();
  EXPECT_RPC_ERROR(Record(no_time, &out), INVALID_ARGUMENT, "event.occurred_at");
  auto bad_channel = Received("e1", kDossier);
  bad_channel.mutable_received()->set_channel(static_cast<v1::Channel>(9));
  EXPECT_RPC_ERROR(Record(bad_channel, &out), INVALID_ARGUMENT, "event.received.channel");
  auto bad_date = Received("e1", kDossier);
  bad_date.mutable_received()->mutable_declared_appointment_date()->set_month(14);
  EXPECT_RPC_ERROR(Record(bad_date, &out), INVALID_ARGUMENT, "event.received.declared_appointment_date");
  auto bad_code = Received("e1", "not-a-dossier-code");
  EXPECT_RPC_ERROR(Record(bad_code, &out), INVALID_ARGUMENT, "event.dossier_code");
  auto unknown_agency = Received("e1", "P77-250602-0001");
  unknown_agency.set_agency_code("P77");
  EXPECT_RPC_ERROR(Record(unknown_agency, &out), NOT_FOUND, "event.agency_code");
  auto unknown_procedure = Received("e1", kDossier);
  unknown_procedure.set_procedure_code("2.000001");
  EXPECT_RPC_ERROR(Record(unknown_procedure, &out), NOT_FOUND, "event.procedure_code");
  ASSERT_TRUE(Record(Received("e1", kDossier), &out).ok());
  // Lifecycle rules set events aside; they never refuse them.
  auto early = Resolved("e2", kDossier, 1);  // before the receipt
  ASSERT_TRUE(Record(early, &out).ok());
  ASSERT_EQ(out.dossier().set_aside_size(), 1);
  EXPECT_EQ(out.dossier().set_aside(0).event_id(), "e2");
  EXPECT_EQ(out.dossier().set_aside(0).rule(), "after_receipt");
  EXPECT_EQ(out.dossier().set_aside(0).kind(), "resolved");
  auto second = Received("e3", kDossier);
  ASSERT_TRUE(Record(second, &out).ok());
  v1::GetDossierRequest get;
  get.set_code(kDossier);
  v1::Dossier d;
  ASSERT_TRUE(filings_->GetDossier(Ctx().get(), get, &d).ok());
  EXPECT_EQ(d.events_size(), 3);  // every event is kept
  ASSERT_EQ(d.set_aside_size(), 2);
  EXPECT_EQ(d.set_aside(1).rule(), "single_receipt");
  EXPECT_EQ(d.status(), v1::DOSSIER_STATUS_RECEIVED);
}

TEST_F(FilingApiTest, BatchReportsEachItem) {
  v1::RecordEventsRequest req;
  *req.add_events() = Received("e1", kDossier);
  *req.add_events() = Resolved("e2", kDossier, 4);
  *req.add_events() = Resolved("e3", "P22.X1-250602-0002", 4);  // resolved before its receipt is known: accepted
  auto bad = Received("e4", "P77-250602-0004");
  bad.set_agency_code("P77");
  *req.add_events() = bad;
  *req.add_events() = Received("e1", kDossier);  // a duplicate within the batch
  for (int line : {2, 3, 4, 5, 6}) req.add_source_lines(line);
  v1::RecordEventsResponse resp;
  ASSERT_TRUE(filings_->RecordEvents(Ctx().get(), req, &resp).ok());
  ASSERT_EQ(resp.results_size(), 5);
  EXPECT_EQ(resp.summary().applied(), 3);
  EXPECT_EQ(resp.summary().unchanged(), 1);
  EXPECT_EQ(resp.summary().rejected(), 1);
  EXPECT_EQ(resp.results(3).code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));
  EXPECT_EQ(resp.results(3).source_line(), 5);
  EXPECT_EQ(resp.results(3).key(), "e4");
  v1::RecordEventsRequest empty;
  EXPECT_RPC_ERROR(filings_->RecordEvents(Ctx().get(), empty, &resp), INVALID_ARGUMENT, "events");
  req.add_source_lines(9);
  EXPECT_RPC_ERROR(filings_->RecordEvents(Ctx().get(), req, &resp), INVALID_ARGUMENT, "source_lines");
}

TEST_F(FilingApiTest, StreamReplaysWithDuplicatesAndReportsRejectsByPosition) {
  v1::StreamEventsResponse resp;
  auto ctx = Ctx();
  auto writer = filings_->StreamEvents(ctx.get(), &resp);
  int sent = 0;
  for (int d = 0; d < 30; ++d) {
    char code[32];
    std::snprintf(code, sizeof code, "P22.X1-250602-%04d", d);
    // Resolution first, receipt second: order does not matter.
    ASSERT_TRUE(writer->Write(Resolved("r" + std::to_string(d), code, 4 + d % 3)));
    ASSERT_TRUE(writer->Write(Received("a" + std::to_string(d), code)));
    ASSERT_TRUE(writer->Write(Received("a" + std::to_string(d), code)));  // duplicate
    sent += 3;
  }
  v1::FilingEvent bad = Received("bad", "P22.X1-250602-9999");
  bad.clear_occurred_at();
  ASSERT_TRUE(writer->Write(bad));
  ++sent;
  ASSERT_TRUE(writer->WritesDone());
  grpc::Status s = writer->Finish();
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.summary().applied(), 60);
  EXPECT_EQ(resp.summary().unchanged(), 30);
  EXPECT_EQ(resp.summary().rejected(), 1);
  ASSERT_EQ(resp.rejected_size(), 1);
  EXPECT_EQ(resp.rejected(0).index(), sent - 1);
  EXPECT_NE(resp.rejected(0).message().find("event.occurred_at"), std::string::npos);
  // Every dossier ended early, on time or late according to its day.
  v1::ListDossiersRequest list;
  list.set_agency_code("P22");
  list.set_page_size(7);
  int early = 0, on_time = 0, late = 0, total = 0;
  for (int guard = 0; guard < 10; ++guard) {
    v1::ListDossiersResponse page;
    ASSERT_TRUE(filings_->ListDossiers(Ctx().get(), list, &page).ok());
    for (const auto& d : page.dossiers()) {
      ++total;
      early += d.timeliness() == v1::TIMELINESS_EARLY;
      on_time += d.timeliness() == v1::TIMELINESS_ON_TIME;
      late += d.timeliness() == v1::TIMELINESS_LATE;
    }
    if (page.next_page_token().empty()) break;
    list.set_page_token(page.next_page_token());
  }
  EXPECT_EQ(total, 30);
  EXPECT_EQ(early, 10);   // resolved 4 June, appointment 5 June
  EXPECT_EQ(on_time, 10); // 5 June
  EXPECT_EQ(late, 10);    // 6 June
}

// Longer than a chunk: chunks are recorded on another thread while the
// next is read; they must land in order, and rejections from both threads
// must come back by position.
TEST_F(FilingApiTest, StreamOverSeveralChunksRecordsThemInOrderAndReportsEveryReject) {
  constexpr int kDossiers = FilingServiceImpl::kStreamBatch;
  auto code = [](int d) {
    char c[32];
    std::snprintf(c, sizeof c, "P22.X1-250602-%05d", d);
    return std::string(c);
  };
  v1::StreamEventsResponse resp;
  auto ctx = Ctx();
  auto writer = filings_->StreamEvents(ctx.get(), &resp);
  int sent = 0;
  std::vector<int> expected_rejects;
  for (int d = 0; d < kDossiers; ++d, ++sent) ASSERT_TRUE(writer->Write(Received("a" + std::to_string(d), code(d))));
  for (int d = 0; d < kDossiers; ++d, ++sent) {
    if (d == 17) {  // undecodable, read while the first chunk records
      v1::FilingEvent bad = Received("bad", code(d));
      bad.clear_occurred_at();
      expected_rejects.push_back(sent++);
      ASSERT_TRUE(writer->Write(bad));
    }
    ASSERT_TRUE(writer->Write(Resolved("r" + std::to_string(d), code(d), 4 + d % 3)));
  }
  // The id of a receipt of the first chunk with other content: refused
  // here, where it comes later, only if the first chunk was written first.
  v1::FilingEvent conflicting = Received("a3", code(3));
  conflicting.mutable_received()->set_channel(v1::CHANNEL_POSTAL);
  expected_rejects.push_back(sent++);
  ASSERT_TRUE(writer->Write(conflicting));
  ASSERT_TRUE(writer->WritesDone());
  grpc::Status s = writer->Finish();
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.summary().applied(), 2 * kDossiers);
  EXPECT_EQ(resp.summary().unchanged(), 0);
  ASSERT_EQ(resp.rejected_size(), static_cast<int>(expected_rejects.size()));
  for (size_t i = 0; i < expected_rejects.size(); ++i) EXPECT_EQ(resp.rejected(i).index(), expected_rejects[i]);
  EXPECT_NE(resp.rejected(0).message().find("event.occurred_at"), std::string::npos);
  EXPECT_EQ(resp.rejected(1).code(), static_cast<int>(grpc::StatusCode::ALREADY_EXISTS));
  for (int d : {0, 17, kDossiers - 1}) {
    v1::GetDossierRequest get;
    get.set_code(code(d));
    v1::Dossier dossier;
    ASSERT_TRUE(filings_->GetDossier(Ctx().get(), get, &dossier).ok());
    EXPECT_EQ(dossier.events_size(), 2) << code(d);
    EXPECT_NE(dossier.timeliness(), v1::TIMELINESS_WITHIN_TIME) << code(d);
  }
}

TEST_F(FilingApiTest, QueriesAndTheirErrors) {
  v1::RecordEventResponse out;
  ASSERT_TRUE(Record(Received("e1", kDossier), &out).ok());
  v1::GetDossierRequest get;
  get.set_code("P22.X1-250602-0404");
  v1::Dossier d;
  EXPECT_RPC_ERROR(filings_->GetDossier(Ctx().get(), get, &d), NOT_FOUND, "P22.X1-250602-0404");
  get.set_code("x");
  EXPECT_RPC_ERROR(filings_->GetDossier(Ctx().get(), get, &d), INVALID_ARGUMENT, "code");
  get.set_code(kDossier);
  *get.mutable_as_of() = At(2025, 6, 9, 9);
  ASSERT_TRUE(filings_->GetDossier(Ctx().get(), get, &d).ok());
  EXPECT_EQ(d.timeliness(), v1::TIMELINESS_OVERDUE);
  *get.mutable_as_of() = At(2025, 6, 3, 9);
  ASSERT_TRUE(filings_->GetDossier(Ctx().get(), get, &d).ok());
  EXPECT_EQ(d.timeliness(), v1::TIMELINESS_WITHIN_TIME);
  v1::ListDossiersRequest list;
  v1::ListDossiersResponse page;
  list.set_agency_code("P77");
  EXPECT_RPC_ERROR(filings_->ListDossiers(Ctx().get(), list, &page), NOT_FOUND, "agency_code");
  list.Clear();
  list.set_status(static_cast<v1::DossierStatus>(42));
  EXPECT_RPC_ERROR(filings_->ListDossiers(Ctx().get(), list, &page), INVALID_ARGUMENT, "status");
  list.Clear();
  DateToProto(Date(2025, 6, 9), list.mutable_received()->mutable_start());
  DateToProto(Date(2025, 6, 1), list.mutable_received()->mutable_end());
  EXPECT_RPC_ERROR(filings_->ListDossiers(Ctx().get(), list, &page), INVALID_ARGUMENT, "received.end");
  list.Clear();
  list.set_overdue_only(true);
  *list.mutable_as_of() = At(2025, 6, 9, 9);
  ASSERT_TRUE(filings_->ListDossiers(Ctx().get(), list, &page).ok());
  EXPECT_EQ(page.dossiers_size(), 1);
  list.set_procedure_code("bad");
  EXPECT_RPC_ERROR(filings_->ListDossiers(Ctx().get(), list, &page), INVALID_ARGUMENT, "procedure_code");
}

// "Due soon": open, not overdue at as_of, due by the end of the N-th
// working day after as_of's day. Checked against a brute-force count of
// Monday-Friday days (June 2025 has no holiday) for every as_of and N.
TEST_F(FilingApiTest, DueWithinWorkingDaysListsWhatABruteForceCountSays) {
  v1::RecordEventResponse out;
  ASSERT_TRUE(Record(Received("d1", kDossier), &out).ok());
  v1::GetDossierRequest get;
  get.set_code(kDossier);
  v1::Dossier d;
  ASSERT_TRUE(filings_->GetDossier(Ctx().get(), get, &d).ok());
  const absl::Time due = absl::FromUnixSeconds(d.due_time().seconds()) + absl::Nanoseconds(d.due_time().nanos());
  int listed_somewhere = 0, not_listed_somewhere = 0;
  for (int day = 2; day <= 10; ++day) {
    for (int n = 1; n <= 3; ++n) {
      const google::protobuf::Timestamp as_of = At(2025, 6, day, 9);
      // The n-th Monday-Friday day after `day`, and the instant it ends.
      absl::CivilDay last(2025, 6, day);
      for (int counted = 0; counted < n;) {
        last += 1;
        const absl::Weekday w = absl::GetWeekday(last);
        if (w != absl::Weekday::saturday && w != absl::Weekday::sunday) ++counted;
      }
      const absl::Time horizon = absl::FromCivil(last + 1, VietnamTimeZone());
      const absl::Time at = absl::FromUnixSeconds(as_of.seconds());
      const bool expected = due > at && due <= horizon;
      v1::ListDossiersRequest list;
      list.set_due_within_working_days(n);
      *list.mutable_as_of() = as_of;
      v1::ListDossiersResponse page;
      ASSERT_TRUE(filings_->ListDossiers(Ctx().get(), list, &page).ok());
      EXPECT_EQ(page.dossiers_size(), expected ? 1 : 0) << "June " << day << ", within " << n;
      (expected ? listed_somewhere : not_listed_somewhere)++;
    }
  }
  EXPECT_GT(listed_somewhere, 0);
  EXPECT_GT(not_listed_somewhere, 0);
  // Resolved: never due soon.
  ASSERT_TRUE(Record(Resolved("d2", kDossier, 3), &out).ok());
  v1::ListDossiersRequest list;
  list.set_due_within_working_days(3);
  *list.mutable_as_of() = At(2025, 6, 2, 12);
  v1::ListDossiersResponse page;
  ASSERT_TRUE(filings_->ListDossiers(Ctx().get(), list, &page).ok());
  EXPECT_EQ(page.dossiers_size(), 0);
  list.set_due_within_working_days(61);
  EXPECT_RPC_ERROR(filings_->ListDossiers(Ctx().get(), list, &page), INVALID_ARGUMENT, "due_within_working_days");
  list.set_due_within_working_days(2);
  list.set_overdue_only(true);
  EXPECT_RPC_ERROR(filings_->ListDossiers(Ctx().get(), list, &page), INVALID_ARGUMENT, "due_within_working_days");
}

}  // namespace
}  // namespace pstrack
