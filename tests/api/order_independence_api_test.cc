// Order independence through the real server (issue 22): one shuffled set
// of generated histories with rule-breakers, partly resent, sent through
// RecordEvent, RecordEvents and StreamEvents from three threads at once,
// gives every dossier the GetDossier of a server that got the set in one
// batch in time order.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <random>
#include <thread>

#include "services/agencies/agency_registry.h"
#include "services/api/filing_convert.h"
#include "services/catalog/catalog.h"
#include "storage/store.h"
#include "tests/api/server_fixture.h"
#include "tests/generated_histories.h"

namespace pstrack {
namespace {

using testing::Histories;
using testing::ServerTest;

class OrderIndependenceApiTest : public ServerTest {
 protected:
  void SetUp() override {
    gen::GenOptions generated;
    generated.dossiers = 2000;
    generated.calendar = testing::PublishedCalendar();
    histories_ = testing::MakeHistories(generated, 150, /*rule_breakers=*/true, /*per_breaker=*/1, /*mixed=*/6);
    // Both servers' databases hold the generated agencies and procedures
    // before they start (loaded once, then copied).
    const std::string world = testing::TestDatabaseUrl(dir_, "world.db");
    {
      auto store = OpenStore(world);
      ASSERT_TRUE(store.ok()) << store.status();
      std::vector<AgencyImportItem> agencies;
      for (const Agency& a : histories_.world.agencies) agencies.push_back({a, 0});
      for (const ItemOutcome& o : AgencyRegistry(**store).Import(agencies)) {
        ASSERT_EQ(o.outcome, WriteOutcome::kApplied) << o.key << ": " << o.status;
      }
      std::vector<ProcedureImportItem> procedures;
      for (const Procedure& p : histories_.world.procedures) procedures.push_back({p, 0});
      for (const ItemOutcome& o : Catalog(**store).Import(procedures)) {
        ASSERT_EQ(o.outcome, WriteOutcome::kApplied) << o.key << ": " << o.status;
      }
      (*store)->Close();
    }
    testing::TestDatabaseUrl(dir_, "pstrack.db", world);
    testing::TestDatabaseUrl(dir_, "reference.db", world);
    ServerTest::SetUp();  // the server under test, on pstrack.db
    ServerOptions o = Options();
    o.database_url = testing::TestDatabaseUrl(dir_, "reference.db");
    auto reference = PstrackServer::Start(o);
    ASSERT_TRUE(reference.ok()) << reference.status();
    reference_ = std::move(*reference);
    reference_channel_ = grpc::CreateChannel(reference_->address(), grpc::InsecureChannelCredentials());
    reference_filings_ = v1::FilingService::NewStub(reference_channel_);
  }
  void TearDown() override {
    if (reference_) reference_->Shutdown(absl::Seconds(5));
    ServerTest::TearDown();
  }

  static v1::FilingEvent ToProto(const FilingEvent& e) {
    v1::FilingEvent p;
    FilingEventToProto(e, &p);
    return p;
  }

  // GetDossier of every dossier, judged at one instant, as text.
  std::map<std::string, std::string> Dossiers(v1::FilingService::Stub& stub) {
    std::map<std::string, std::string> out;
    for (const auto& [code, n] : histories_.events_per_dossier) {
      v1::GetDossierRequest get;
      get.set_code(code);
      *get.mutable_as_of() = testing::At(2025, 10, 15, 12);
      v1::Dossier d;
      grpc::Status s = stub.GetDossier(Ctx().get(), get, &d);
      // The reads go at the rate limit of the one (development) identity.
      for (int retry = 0; retry < 100 && s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED; ++retry) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        d.Clear();
        s = stub.GetDossier(Ctx().get(), get, &d);
      }
      EXPECT_TRUE(s.ok()) << code << ": " << s.error_message();
      EXPECT_EQ(d.events_size(), n) << code;
      out[code] = d.DebugString();
    }
    return out;
  }

  Histories histories_;
  std::unique_ptr<PstrackServer> reference_;
  std::shared_ptr<grpc::Channel> reference_channel_;
  std::unique_ptr<v1::FilingService::Stub> reference_filings_;
};

TEST_F(OrderIndependenceApiTest, UnaryBatchAndStreamAtOnceGiveTheStatesOfOneBatchInTimeOrder) {
  const std::vector<FilingEvent>& events = histories_.events;  // in replay order
  {
    v1::RecordEventsRequest req;
    for (const FilingEvent& e : events) *req.add_events() = ToProto(e);
    v1::RecordEventsResponse resp;
    grpc::Status s = reference_filings_->RecordEvents(Ctx().get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ASSERT_EQ(resp.summary().applied(), static_cast<int>(events.size()));
  }

  // The set shuffled, about 5% resent, in pieces of 1..60 events, each
  // piece to one of the three ways in.
  std::mt19937_64 rng(2222);
  const std::vector<FilingEvent> shuffled = testing::ShuffledWithCopies(events, 0.05, rng);
  std::vector<std::vector<FilingEvent>> ways(3);
  for (auto& piece : testing::CutRandomly(shuffled, 1, 60, rng)) {
    auto& way = ways[rng() % 3];
    way.insert(way.end(), piece.begin(), piece.end());
  }
  std::atomic<int> applied{0}, unchanged{0}, rejected{0};
  std::vector<std::string> failures[3];
  std::thread unary([&] {
    for (const FilingEvent& e : ways[0]) {
      v1::RecordEventRequest req;
      *req.mutable_event() = ToProto(e);
      v1::RecordEventResponse resp;
      grpc::Status s = filings_->RecordEvent(Ctx().get(), req, &resp);
      if (!s.ok()) {
        ++rejected;
        failures[0].push_back(e.event_id + ": " + s.error_message());
        continue;
      }
      (resp.outcome() == v1::ItemResult::OUTCOME_APPLIED ? applied : unchanged)++;
      if (resp.outcome() != v1::ItemResult::OUTCOME_APPLIED && resp.outcome() != v1::ItemResult::OUTCOME_UNCHANGED) {
        failures[0].push_back(e.event_id + ": outcome " + std::to_string(resp.outcome()));
      }
    }
  });
  std::thread batches([&] {
    std::mt19937_64 sizes(7);
    for (auto& piece : testing::CutRandomly(ways[1], 1, 120, sizes)) {
      v1::RecordEventsRequest req;
      for (const FilingEvent& e : piece) *req.add_events() = ToProto(e);
      v1::RecordEventsResponse resp;
      grpc::Status s = filings_->RecordEvents(Ctx().get(), req, &resp);
      if (!s.ok()) {
        rejected += static_cast<int>(piece.size());
        failures[1].push_back(s.error_message());
        continue;
      }
      applied += resp.summary().applied();
      unchanged += resp.summary().unchanged();
      rejected += resp.summary().rejected();
      for (const auto& r : resp.results()) {
        if (r.outcome() == v1::ItemResult::OUTCOME_REJECTED) failures[1].push_back(r.key() + ": " + r.message());
      }
    }
  });
  std::thread stream([&] {
    v1::StreamEventsResponse resp;
    auto ctx = Ctx();
    auto writer = filings_->StreamEvents(ctx.get(), &resp);
    for (const FilingEvent& e : ways[2]) {
      if (!writer->Write(ToProto(e))) break;
    }
    writer->WritesDone();
    grpc::Status s = writer->Finish();
    if (!s.ok()) {
      rejected += static_cast<int>(ways[2].size());
      failures[2].push_back(s.error_message());
      return;
    }
    applied += resp.summary().applied();
    unchanged += resp.summary().unchanged();
    rejected += resp.summary().rejected();
    for (const auto& r : resp.rejected()) failures[2].push_back(r.key() + ": " + r.message());
  });
  unary.join();
  batches.join();
  stream.join();
  for (const auto& f : failures) {
    EXPECT_TRUE(f.empty()) << f.front();
  }
  EXPECT_EQ(rejected.load(), 0);
  EXPECT_EQ(applied.load(), static_cast<int>(events.size()));  // each distinct event once
  EXPECT_EQ(unchanged.load(), static_cast<int>(shuffled.size() - events.size()));
  EXPECT_TRUE(!ways[0].empty() && !ways[1].empty() && !ways[2].empty());

  const std::map<std::string, std::string> want = Dossiers(*reference_filings_), got = Dossiers(*filings_);
  ASSERT_EQ(got.size(), want.size());
  int differing = 0, with_set_aside = 0;
  for (const auto& [code, text] : want) {
    with_set_aside += text.find("set_aside {") != std::string::npos;
    if (got.at(code) == text) continue;
    if (++differing <= 5) {
      EXPECT_EQ(got.at(code), text) << code;
    }
  }
  EXPECT_EQ(differing, 0);
  EXPECT_GE(with_set_aside, 10);  // the rule-breakers did break rules
}

}  // namespace
}  // namespace pstrack
