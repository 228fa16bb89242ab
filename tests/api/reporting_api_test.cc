// ReportingService over a real gRPC server on loopback: reports recorded in
// a batch (good ones land, each bad one named), their figures in
// GetIndicators with the parts that say where each came from, corrections,
// reconciliation, silent agencies and the data-quality view fed by events
// the FilingService refused.
#include "pstrack/v1/reporting.grpc.pb.h"
#include "services/api/convert.h"
#include "tests/api/server_fixture.h"

namespace pstrack {
namespace {

using testing::ServerTest;

google::protobuf::Timestamp At(Date d, int hh) {
  google::protobuf::Timestamp t;
  TimeToProto(absl::FromCivil(absl::CivilSecond(d.year(), d.month(), d.day(), hh, 0, 0), VietnamTimeZone()), &t);
  return t;
}

v1::PeriodicReport Report(const std::string& id, const std::string& agency, const std::string& period,
                          int64_t received, int64_t online, int64_t finished, int64_t late) {
  v1::PeriodicReport r;
  r.set_report_id(id);
  r.set_agency_code(agency);
  r.set_period(period);
  r.set_received(received);
  r.set_received_online(online);
  r.set_finished(finished);
  r.set_finished_late(late);
  r.set_source("Hệ thống báo cáo");
  return r;
}

class ReportingApiTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    reporting_ = v1::ReportingService::NewStub(channel_);
    BasicTree();
    MustCreate("P22.X2", v1::AGENCY_LEVEL_COMMUNE, "P22");
    MustUpsert(SampleProcedure("1.001193"));
  }

  v1::SubmitReportsResponse Submit(const std::vector<v1::PeriodicReport>& reports) {
    v1::SubmitReportsRequest req;
    for (const auto& r : reports) *req.add_reports() = r;
    v1::SubmitReportsResponse out;
    grpc::Status s = reporting_->SubmitReports(Ctx().get(), req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  v1::FilingEvent Receipt(const std::string& id, const std::string& dossier, const std::string& agency, Date day) {
    v1::FilingEvent e;
    e.set_event_id(id);
    e.set_dossier_code(dossier);
    e.set_agency_code(agency);
    e.set_procedure_code("1.001193");
    *e.mutable_occurred_at() = At(day, 9);
    e.mutable_received()->set_channel(v1::CHANNEL_ONLINE);
    return e;
  }

  static const v1::IndicatorValue& Value(const v1::IndicatorSet& set, const std::string& id) {
    for (const auto& v : set.values()) {
      if (v.indicator_id() == id) return v;
    }
    static v1::IndicatorValue none;
    ADD_FAILURE() << "no " << id;
    return none;
  }

  std::unique_ptr<v1::ReportingService::Stub> reporting_;
};

TEST_F(ReportingApiTest, ReportsLandInABatchAndFeedTheIndicators) {
  v1::PeriodicReport bad_parts = Report("x2-05", "P22.X2", "2025-05", 10, 11, 5, 1);
  v1::PeriodicReport unknown = Report("zz-05", "P99", "2025-05", 10, 1, 5, 1);
  v1::PeriodicReport bad_label = Report("x2-bad", "P22.X2", "May 2025", 10, 1, 5, 1);
  auto out = Submit({Report("x2-06", "P22.X2", "2025-06", 40, 10, 30, 6), bad_parts, unknown, bad_label});
  ASSERT_EQ(out.results_size(), 4);
  EXPECT_EQ(out.results(0).outcome(), v1::ItemResult::OUTCOME_APPLIED);
  EXPECT_EQ(out.results(1).code(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_NE(out.results(1).message().find("reports[1].received_online"), std::string::npos) << out.results(1).message();
  EXPECT_EQ(out.results(2).code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));
  EXPECT_NE(out.results(2).message().find("reports[2].agency_code"), std::string::npos);
  EXPECT_EQ(out.results(3).code(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_NE(out.results(3).message().find("reports[3].period"), std::string::npos);
  EXPECT_EQ(out.summary().applied(), 1);
  EXPECT_EQ(out.summary().rejected(), 3);
  // Retrying the batch is safe.
  EXPECT_EQ(Submit({Report("x2-06", "P22.X2", "2025-06", 40, 10, 30, 6)}).results(0).outcome(),
            v1::ItemResult::OUTCOME_UNCHANGED);

  // P22.X1 sends events for June: 3 online receipts.
  v1::RecordEventsRequest events;
  for (int i = 1; i <= 3; ++i) {
    *events.add_events() = Receipt(absl::StrCat("e", i), absl::StrCat("P22.X1-250603-000", i), "P22.X1", Date(2025, 6, 3));
  }
  v1::RecordEventsResponse recorded;
  ASSERT_TRUE(filings_->RecordEvents(Ctx().get(), events, &recorded).ok());
  ASSERT_EQ(recorded.summary().applied(), 3);

  v1::GetIndicatorsRequest req;
  req.mutable_scope()->set_agency_code("P22");
  req.mutable_period()->set_label("2025-06");
  v1::IndicatorSet set;
  ASSERT_TRUE(metrics_->GetIndicators(Ctx().get(), req, &set).ok());
  EXPECT_EQ(Value(set, "received").value(), 43);
  EXPECT_DOUBLE_EQ(Value(set, "online_submission_rate").value(), 13.0 / 43.0);
  EXPECT_EQ(std::vector<std::string>(Value(set, "received").sources().begin(), Value(set, "received").sources().end()),
            (std::vector<std::string>{"events", "reports"}));
  EXPECT_DOUBLE_EQ(Value(set, "late_rate").value(), 6.0 / 30.0);
  ASSERT_EQ(set.parts_size(), 1);
  EXPECT_EQ(set.parts(0).report_id(), "x2-06");
  EXPECT_EQ(set.parts(0).source(), "reports");
  EXPECT_EQ(set.parts(0).role(), "counted");
  // Only P22.X2 reports; nothing of it is synced to the portal.
  EXPECT_DOUBLE_EQ(Value(set, "sync_completeness").value(), 3.0 / 43.0);

  // A correction, then its history.
  EXPECT_EQ(Submit({Report("x2-06", "P22.X2", "2025-06", 44, 10, 30, 6)}).results(0).outcome(),
            v1::ItemResult::OUTCOME_APPLIED);
  v1::GetReportRequest get;
  get.set_report_id("x2-06");
  v1::GetReportResponse got;
  ASSERT_TRUE(reporting_->GetReport(Ctx().get(), get, &got).ok());
  EXPECT_EQ(got.report().revision(), 2);
  EXPECT_EQ(got.report().received(), 44);
  EXPECT_TRUE(got.report().current());
  EXPECT_TRUE(got.report().has_received_online());
  EXPECT_FALSE(got.report().has_digitised());  // not reported stays not reported
  ASSERT_EQ(got.history_size(), 1);
  EXPECT_EQ(got.history(0).received(), 40);
  EXPECT_FALSE(got.history(0).current());
  get.set_report_id("nope");
  EXPECT_RPC_ERROR(reporting_->GetReport(Ctx().get(), get, &got), NOT_FOUND, "report_id");

  v1::ListReportsRequest list;
  list.set_agency_code("P22");
  list.mutable_period()->set_label("2025-Q2");
  v1::ListReportsResponse listed;
  ASSERT_TRUE(reporting_->ListReports(Ctx().get(), list, &listed).ok());
  ASSERT_EQ(listed.reports_size(), 1);
  EXPECT_EQ(listed.reports(0).revision(), 2);
  list.set_agency_code("P404");
  EXPECT_RPC_ERROR(reporting_->ListReports(Ctx().get(), list, &listed), NOT_FOUND, "agency_code");

  // Reconciliation of a centre that does both.
  v1::PeriodicReport x1 = Report("x1-06", "P22.X1", "2025-06", 5, 4, 0, 0);
  x1.clear_finished_late();
  ASSERT_EQ(Submit({x1}).results(0).outcome(), v1::ItemResult::OUTCOME_APPLIED);
  v1::ReconcileRequest rec;
  rec.mutable_scope()->set_agency_code("P22");
  rec.mutable_period()->set_label("2025-06");
  v1::ReconcileResponse reconciled;
  ASSERT_TRUE(reporting_->Reconcile(Ctx().get(), rec, &reconciled).ok());
  ASSERT_EQ(reconciled.rows_size(), 2);
  const auto& row = reconciled.rows(0).report_id() == "x1-06" ? reconciled.rows(0) : reconciled.rows(1);
  EXPECT_EQ(row.role(), "events_win");
  EXPECT_EQ(row.missing().received(), 2);
  EXPECT_EQ(row.missing().received_online(), 1);
  EXPECT_EQ(row.events().received(), 3);
  EXPECT_FALSE(row.balanced());
  EXPECT_DOUBLE_EQ(row.completeness().value(), 3.0 / 5.0);
  EXPECT_DOUBLE_EQ(reconciled.sync_completeness().value(), 3.0 / (3.0 + 2 + 44));
  rec.clear_scope();
  EXPECT_RPC_ERROR(reporting_->Reconcile(Ctx().get(), rec, &reconciled), INVALID_ARGUMENT, "scope");
}

TEST_F(ReportingApiTest, DataQualityShowsRefusedEventsAndSilentAgencies) {
  // Refused events: one unreadable (no kind) in a batch, one unknown
  // procedure, one unreadable unary call.
  v1::RecordEventsRequest batch;
  *batch.add_events() = Receipt("q1", "P22.X1-250603-0001", "P22.X1", Date(2025, 6, 3));
  v1::FilingEvent no_kind = Receipt("q2", "P22.X1-250603-0002", "P22.X1", Date(2025, 6, 3));
  no_kind.clear_received();
  *batch.add_events() = no_kind;
  v1::FilingEvent unknown = Receipt("q3", "P22.X1-250603-0003", "P22.X1", Date(2025, 6, 3));
  unknown.set_procedure_code("9.999999");
  *batch.add_events() = unknown;
  v1::RecordEventsResponse out;
  ASSERT_TRUE(filings_->RecordEvents(Ctx().get(), batch, &out).ok());
  EXPECT_EQ(out.summary().applied(), 1);
  v1::RecordEventRequest one;
  *one.mutable_event() = no_kind;
  one.mutable_event()->set_event_id("q4");
  v1::RecordEventResponse one_out;
  EXPECT_RPC_ERROR(filings_->RecordEvent(Ctx().get(), one, &one_out), INVALID_ARGUMENT, "event.kind");

  v1::GetDataQualityRequest req;
  req.mutable_scope()->set_agency_code("P22");
  req.mutable_period()->mutable_range()->mutable_start()->set_year(2025);
  req.mutable_period()->mutable_range()->mutable_start()->set_month(1);
  req.mutable_period()->mutable_range()->mutable_start()->set_day(1);
  const Date tomorrow = Date(absl::ToCivilDay(absl::Now(), VietnamTimeZone())) + 1;
  DateToProto(tomorrow, req.mutable_period()->mutable_range()->mutable_end());
  req.set_sort(v1::DATA_QUALITY_SORT_REJECTED);
  v1::GetDataQualityResponse quality;
  ASSERT_TRUE(reporting_->GetDataQuality(Ctx().get(), req, &quality).ok());
  ASSERT_GE(quality.rows_size(), 1);
  const auto& x1 = quality.rows(0);
  EXPECT_EQ(x1.agency_code(), "P22.X1");
  EXPECT_EQ(x1.events_accepted(), 1);
  EXPECT_EQ(x1.late_events(), 1);  // occurred in 2025, arrived now
  EXPECT_EQ(x1.events_rejected(), 3);
  std::map<std::string, int64_t> reasons;
  for (const auto& r : x1.rejected_by_reason()) reasons[r.reason()] = r.count();
  EXPECT_EQ(reasons, (std::map<std::string, int64_t>{{"INVALID_ARGUMENT event.kind", 2},
                                                      {"NOT_FOUND event.procedure_code", 1}}));
  EXPECT_EQ(x1.far_overdue_open(), 1);  // received 2025-06-03, a 3-day procedure, still open
  EXPECT_TRUE(x1.has_last_event_at());
  EXPECT_EQ(quality.total().events_rejected(), 3);
  req.set_far_overdue_working_days(-1);
  EXPECT_RPC_ERROR(reporting_->GetDataQuality(Ctx().get(), req, &quality), INVALID_ARGUMENT,
                   "far_overdue_working_days");

  // Silent: P22.X1 sent its last event now; a month later it is silent.
  v1::ListSilentAgenciesRequest silent;
  silent.mutable_scope()->set_agency_code("P22");
  *silent.mutable_as_of() = At(tomorrow + 30, 9);
  v1::ListSilentAgenciesResponse listed;
  ASSERT_TRUE(reporting_->ListSilentAgencies(Ctx().get(), silent, &listed).ok());
  ASSERT_EQ(listed.agencies_size(), 1);
  EXPECT_EQ(listed.agencies(0).agency_code(), "P22.X1");
  EXPECT_GE(listed.agencies(0).working_days_silent(), 15);
  *silent.mutable_as_of() = At(tomorrow - 1, 23);
  ASSERT_TRUE(reporting_->ListSilentAgencies(Ctx().get(), silent, &listed).ok());
  EXPECT_EQ(listed.agencies_size(), 0);
}

}  // namespace
}  // namespace pstrack
