// MetricsService over a real gRPC server: the published Quảng Ninh 2022
// figures rebuilt from data and read back, error paths, live updates, and a
// methodology reload that keeps the last good files.
#include <filesystem>
#include <fstream>
#include <thread>

#include "services/api/convert.h"
#include "google/protobuf/util/message_differencer.h"
#include "tests/api/server_fixture.h"

namespace pstrack {
namespace {

using testing::ServerTest;

google::protobuf::Timestamp At(Date d, int hh) {
  google::protobuf::Timestamp t;
  TimeToProto(absl::FromCivil(absl::CivilSecond(d.year(), d.month(), d.day(), hh, 0, 0), VietnamTimeZone()), &t);
  return t;
}

class MetricsApiTest : public ServerTest {
 protected:
  v1::IndicatorSet Get(const std::string& scope, const std::string& period, std::vector<std::string> ids = {}) {
    v1::GetIndicatorsRequest req;
    req.mutable_scope()->set_agency_code(scope);
    req.mutable_period()->set_label(period);
    for (auto& id : ids) req.add_indicator_ids(id);
    v1::IndicatorSet out;
    grpc::Status s = metrics_->GetIndicators(Ctx().get(), req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }
  static const v1::IndicatorValue& Value(const v1::IndicatorSet& set, const std::string& id) {
    for (const auto& v : set.values()) {
      if (v.indicator_id() == id) return v;
    }
    static v1::IndicatorValue none;
    ADD_FAILURE() << "no " << id;
    return none;
  }

  // Sends `n` dossiers received at P22.STP on working days of 2022 for
  // procedure `code`: `online` of them online, `late` of them resolved late.
  void SendDossiers(const std::string& code, int n, int online, int late) {
    v1::RecordEventsRequest req;
    Date day(2022, 1, 3);
    for (int i = 0; i < n; ++i) {
      while (absl::GetWeekday(day) == absl::Weekday::saturday || absl::GetWeekday(day) == absl::Weekday::sunday) day += 1;
      char dossier[40];
      std::snprintf(dossier, sizeof dossier, "P22.STP-%02d%02d%02d-%04d", static_cast<int>(day.year() % 100),
                    day.month(), day.day(), i);
      v1::FilingEvent received;
      received.set_event_id(std::string(dossier) + "/r");
      received.set_dossier_code(dossier);
      received.set_agency_code("P22.STP");
      received.set_procedure_code(code);
      *received.mutable_occurred_at() = At(day, 9);
      received.mutable_received()->set_channel(i < online ? v1::CHANNEL_ONLINE : v1::CHANNEL_IN_PERSON);
      *req.add_events() = received;
      v1::FilingEvent resolved;
      resolved.set_event_id(std::string(dossier) + "/x");
      resolved.set_dossier_code(dossier);
      resolved.set_agency_code("P22.STP");
      // 3 working days: 1 day later is early; 20 days later is late.
      *resolved.mutable_occurred_at() = At(day + (i < late ? 20 : 1), 10);
      resolved.mutable_resolved();
      *req.add_events() = resolved;
      if (i % 5 == 4) day += 1;
    }
    v1::RecordEventsResponse resp;
    ASSERT_TRUE(filings_->RecordEvents(Ctx().get(), req, &resp).ok());
    ASSERT_EQ(resp.summary().rejected(), 0) << resp.results(0).message();
  }
};

// Quảng Ninh, 2022 (DOMAIN.md section 8): 1,240 of 1,591 public services
// online (78%), 77% of them full-process online; 70% of dossiers online;
// 99.8% resolved on time or early. The data below is built to match; the
// figures come back through the API.
TEST_F(MetricsApiTest, PublishedQuangNinh2022FiguresComeBack) {
  ASSERT_TRUE(LoadReferenceData(server_->store(),
                                {std::string(PSTRACK_SOURCE_DIR) + "/data/agencies/vn_provinces.csv",
                                 std::string(PSTRACK_SOURCE_DIR) + "/data/sample/agencies_quang_ninh.csv"},
                                {})
                  .ok());
  // 1,591 department-level procedures: 955 full (77% of 1,240), 285 partial, 351 offline.
  v1::ImportProceduresRequest catalog;
  for (int i = 0; i < 1591; ++i) {
    v1::Procedure p = SampleProcedure("");
    char code[16];
    std::snprintf(code, sizeof code, "2.%06d", 100000 + i);
    p.set_code(code);
    p.clear_levels();
    p.add_levels(v1::AGENCY_LEVEL_DEPARTMENT);
    p.set_online_mode(i < 955 ? v1::ONLINE_SERVICE_MODE_FULL
                              : i < 1240 ? v1::ONLINE_SERVICE_MODE_PARTIAL : v1::ONLINE_SERVICE_MODE_NONE);
    p.set_full_online_eligible(i < 955);
    *catalog.add_items()->mutable_procedure() = p;
  }
  v1::ImportProceduresResponse imported;
  ASSERT_TRUE(catalog_->ImportProcedures(Ctx().get(), catalog, &imported).ok());
  ASSERT_EQ(imported.summary().applied(), 1591);
  SendDossiers("2.100000", 1000, 700, 2);

  v1::IndicatorSet set = Get("P22", "2022");
  const auto& coverage = Value(set, "online_service_coverage");
  EXPECT_EQ(coverage.numerator(), 1240);
  EXPECT_EQ(coverage.denominator(), 1591);
  EXPECT_EQ(std::lround(coverage.value() * 100), 78);
  const auto& full = Value(set, "full_online_share_online");
  EXPECT_EQ(full.numerator(), 955);
  EXPECT_EQ(std::lround(full.value() * 100), 77);
  const auto& online = Value(set, "online_submission_rate");
  EXPECT_EQ(online.numerator(), 700);
  EXPECT_EQ(online.denominator(), 1000);
  const auto& on_time = Value(set, "on_time_rate");
  EXPECT_EQ(on_time.numerator(), 998);
  EXPECT_EQ(on_time.denominator(), 1000);
  EXPECT_NEAR(on_time.value(), 0.998, 1e-12);
  // Nothing was filed in Quảng Ninh in 2021: a ratio there is not available, not zero.
  const v1::IndicatorSet set2021 = Get("P22", "2021", {"on_time_rate"});
  const auto& empty = Value(set2021, "on_time_rate");
  EXPECT_FALSE(empty.available());
  EXPECT_FALSE(empty.unavailable_reason().empty());
  // The province ranks first among provinces on the on-time rate (the only one with data).
  v1::RankAgenciesRequest rank;
  rank.mutable_parent()->set_agency_code("VN");
  rank.mutable_period()->set_label("2022");
  rank.set_indicator_id("on_time_rate");
  rank.mutable_parent()->set_tree_view(v1::TREE_VIEW_AS_FILED);
  v1::RankAgenciesResponse ranked;
  ASSERT_TRUE(metrics_->RankAgencies(Ctx().get(), rank, &ranked).ok());
  ASSERT_GT(ranked.entries_size(), 60);
  EXPECT_EQ(ranked.entries(0).agency_code(), "P22");
  EXPECT_EQ(ranked.entries(0).rank(), 1);
  EXPECT_EQ(ranked.entries(1).rank(), 0);  // no data: unranked
  EXPECT_EQ(ranked.entries(0).sample_size(), 1000);  // dossiers received in 2022
  EXPECT_FALSE(ranked.entries(0).below_min_sample());
  // A minimum sample of 1,000 dossiers keeps it ranked; 1,001 does not.
  rank.set_min_sample_size(1000);
  ASSERT_TRUE(metrics_->RankAgencies(Ctx().get(), rank, &ranked).ok());
  EXPECT_EQ(ranked.entries(0).agency_code(), "P22");
  EXPECT_EQ(ranked.entries(0).rank(), 1);
  rank.set_min_sample_size(1001);
  ASSERT_TRUE(metrics_->RankAgencies(Ctx().get(), rank, &ranked).ok());
  for (const auto& e : ranked.entries()) {
    EXPECT_EQ(e.rank(), 0) << e.agency_code();
    EXPECT_TRUE(e.below_min_sample()) << e.agency_code();
    if (e.agency_code() == "P22") {
      EXPECT_TRUE(e.value().available());
    }
  }
  rank.set_min_sample_size(-1);
  EXPECT_RPC_ERROR(metrics_->RankAgencies(Ctx().get(), rank, &ranked), INVALID_ARGUMENT, "min_sample_size");
  rank.set_min_sample_size(0);
  // The 766 score for 2022 reads 2.1 (portal on-time) at 99.8% of 20 points.
  v1::ScoreIndexRequest score;
  score.mutable_scope()->set_agency_code("P22");
  score.mutable_period()->set_label("2022");
  score.set_methodology_id("qd766@2026");
  v1::IndexScore scored;
  ASSERT_TRUE(metrics_->ScoreIndex(Ctx().get(), score, &scored).ok());
  // A methodology ranking carries each agency's whole score, as ScoreIndex.
  rank.clear_indicator_id();
  rank.set_methodology_id("qd766@2026");
  ASSERT_TRUE(metrics_->RankAgencies(Ctx().get(), rank, &ranked).ok());
  bool found = false;
  for (const auto& e : ranked.entries()) {
    if (e.agency_code() != "P22") continue;
    found = true;
    v1::IndexScore from_rank = e.index();
    v1::IndexScore direct = scored;
    from_rank.clear_log();
    direct.clear_log();
    direct.clear_scope();
    direct.clear_period();
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(from_rank, direct))
        << from_rank.DebugString() << "\n" << direct.DebugString();
    EXPECT_DOUBLE_EQ(e.score(), scored.total_points());
  }
  EXPECT_TRUE(found);
  bool seen = false;
  for (const auto& g : scored.groups()) {
    for (const auto& i : g.indicators()) {
      if (i.id() == "2.1") {
        seen = true;
        EXPECT_NEAR(i.points(), 20 * 0.998, 1e-9);
      }
    }
  }
  EXPECT_TRUE(seen);
  EXPECT_GT(scored.unavailable_points(), 0);
  EXPECT_EQ(scored.max_points(), 100);
}

TEST_F(MetricsApiTest, BadRequestsNameTheField) {
  BasicTree();
  v1::IndicatorSet out;
  v1::GetIndicatorsRequest req;
  EXPECT_RPC_ERROR(metrics_->GetIndicators(Ctx().get(), req, &out), INVALID_ARGUMENT, "scope");
  req.mutable_scope()->set_agency_code("P22");
  EXPECT_RPC_ERROR(metrics_->GetIndicators(Ctx().get(), req, &out), INVALID_ARGUMENT, "period");
  req.mutable_period()->set_label("2025-13");
  EXPECT_RPC_ERROR(metrics_->GetIndicators(Ctx().get(), req, &out), INVALID_ARGUMENT, "period.label");
  DateToProto(Date(2025, 5, 1), req.mutable_period()->mutable_range()->mutable_start());
  DateToProto(Date(2025, 4, 1), req.mutable_period()->mutable_range()->mutable_end());
  EXPECT_RPC_ERROR(metrics_->GetIndicators(Ctx().get(), req, &out), INVALID_ARGUMENT, "period.end");
  req.mutable_period()->set_label("2025");
  req.add_indicator_ids("happiness");
  EXPECT_RPC_ERROR(metrics_->GetIndicators(Ctx().get(), req, &out), INVALID_ARGUMENT, "indicator_ids");
  req.clear_indicator_ids();
  req.mutable_scope()->set_agency_code("P99");
  EXPECT_RPC_ERROR(metrics_->GetIndicators(Ctx().get(), req, &out), NOT_FOUND, "scope.agency_code");
  v1::GetBreakdownRequest breakdown;
  *breakdown.mutable_scope() = req.scope();
  breakdown.mutable_scope()->set_agency_code("P22");
  breakdown.mutable_period()->set_label("2025");
  v1::GetBreakdownResponse rows;
  EXPECT_RPC_ERROR(metrics_->GetBreakdown(Ctx().get(), breakdown, &rows), INVALID_ARGUMENT, "dimension");
  v1::RankAgenciesRequest rank;
  rank.mutable_parent()->set_agency_code("VN");
  rank.mutable_period()->set_label("2025");
  v1::RankAgenciesResponse ranked;
  EXPECT_RPC_ERROR(metrics_->RankAgencies(Ctx().get(), rank, &ranked), INVALID_ARGUMENT, "indicator_id");
  v1::ScoreIndexRequest score;
  score.mutable_scope()->set_agency_code("P22");
  score.mutable_period()->set_label("2025");
  score.set_methodology_id("qd999@1");
  v1::IndexScore scored;
  EXPECT_RPC_ERROR(metrics_->ScoreIndex(Ctx().get(), score, &scored), NOT_FOUND, "methodology_id");
  v1::SubmitExternalInputsRequest inputs;
  auto* in = inputs.add_inputs();
  in->set_input_id("sipas-p22-2025");
  in->set_agency_code("P22");
  in->set_indicator_id("not_an_input");
  DateToProto(Date(2025, 1, 1), in->mutable_period()->mutable_start());
  DateToProto(Date(2026, 1, 1), in->mutable_period()->mutable_end());
  v1::SubmitExternalInputsResponse submitted;
  ASSERT_TRUE(metrics_->SubmitExternalInputs(Ctx().get(), inputs, &submitted).ok());
  EXPECT_EQ(submitted.summary().rejected(), 1);
  EXPECT_NE(submitted.results(0).message().find("input.indicator_id"), std::string::npos);
  in->set_indicator_id("complaints_on_time");
  in->set_numerator(45);
  in->set_denominator(50);
  ASSERT_TRUE(metrics_->SubmitExternalInputs(Ctx().get(), inputs, &submitted).ok());
  EXPECT_EQ(submitted.summary().applied(), 1);
  v1::ListExternalInputsRequest list;
  list.set_agency_code("P22");
  v1::ListExternalInputsResponse listed;
  ASSERT_TRUE(metrics_->ListExternalInputs(Ctx().get(), list, &listed).ok());
  ASSERT_EQ(listed.inputs_size(), 1);
  EXPECT_EQ(listed.inputs(0).numerator(), 45);

  // Above the bound (10^12), each number is refused by its own name; at the
  // bound it lands.
  in->set_input_id("sipas-p22-2025-big");
  in->set_numerator(1e12);
  in->set_denominator(1e12 + 1);
  ASSERT_TRUE(metrics_->SubmitExternalInputs(Ctx().get(), inputs, &submitted).ok());
  EXPECT_EQ(submitted.summary().rejected(), 1);
  EXPECT_NE(submitted.results(0).message().find("input.denominator"), std::string::npos)
      << submitted.results(0).message();
  EXPECT_NE(submitted.results(0).message().find("at most 1e+12"), std::string::npos) << submitted.results(0).message();
  in->set_denominator(1e12);
  ASSERT_TRUE(metrics_->SubmitExternalInputs(Ctx().get(), inputs, &submitted).ok());
  EXPECT_EQ(submitted.summary().applied(), 1) << submitted.results(0).message();
}

TEST_F(MetricsApiTest, WatchPushesNewValuesAsEventsLand) {
  BasicTree();
  MustUpsert(SampleProcedure("1.001193"));
  v1::WatchIndicatorsRequest req;
  req.mutable_scope()->set_agency_code("P22");
  req.mutable_period()->set_label("2025");
  req.add_indicator_ids("received");
  req.mutable_min_interval()->set_nanos(100000000);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  auto reader = metrics_->WatchIndicators(&ctx, req);
  v1::IndicatorSet set;
  ASSERT_TRUE(reader->Read(&set));
  EXPECT_EQ(set.values(0).numerator(), 0);
  for (int i = 1; i <= 3; ++i) {
    v1::RecordEventRequest event;
    auto* e = event.mutable_event();
    e->set_event_id("w" + std::to_string(i));
    e->set_dossier_code("P22.X1-250602-000" + std::to_string(i));
    e->set_agency_code("P22.X1");
    e->set_procedure_code("1.001193");
    *e->mutable_occurred_at() = At(Date(2025, 6, 2), 9);
    e->mutable_received()->set_channel(v1::CHANNEL_ONLINE);
    v1::RecordEventResponse recorded;
    ASSERT_TRUE(filings_->RecordEvent(Ctx().get(), event, &recorded).ok());
    // Values only grow; wait until this event shows.
    while (set.values(0).numerator() < i) ASSERT_TRUE(reader->Read(&set));
    EXPECT_EQ(set.values(0).numerator(), i);
  }
  ctx.TryCancel();
  v1::IndicatorSet rest;
  while (reader->Read(&rest)) {
  }
  reader->Finish();
}

TEST_F(MetricsApiTest, AMalformedMethodologyOnReloadKeepsTheLoadedOnes) {
  // A server on a copy of the methodology directory.
  std::string dir = dir_.File("methodologies");
  std::filesystem::create_directories(dir);
  for (const auto& f : std::filesystem::directory_iterator(std::string(PSTRACK_SOURCE_DIR) + "/data/methodologies")) {
    if (f.path().extension() == ".txt") std::filesystem::copy(f.path(), dir + "/" + f.path().filename().string());
  }
  server_->Shutdown();
  server_.reset();
  ServerOptions o = Options();
  o.methodology_dir = dir;
  StartServer(o);
  std::ofstream(dir + "/broken.txt") << "methodology broken@1\nname Broken\ngroup g | G | 5\n"
                                        "indicator x | X | 5 | builtin:no_such_indicator | linear target=1.0\n";
  absl::Status reload = server_->ReloadMethodologies().status();
  EXPECT_FALSE(reload.ok());
  EXPECT_NE(reload.message().find("broken.txt:4"), absl::string_view::npos) << reload;
  v1::ListMethodologiesResponse listed;
  ASSERT_TRUE(metrics_->ListMethodologies(Ctx().get(), v1::ListMethodologiesRequest(), &listed).ok());
  EXPECT_EQ(listed.methodologies_size(), 2);
  EXPECT_EQ(listed.default_id(), "qd766@2026");
  // At start, a malformed file is refused with the file, line and reason.
  server_->Shutdown();
  server_.reset();
  auto refused = PstrackServer::Start(o);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("broken.txt:4"), absl::string_view::npos) << refused.status();
}

}  // namespace
}  // namespace pstrack
