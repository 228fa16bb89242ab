// Filings over a real SQLite file: idempotent ingestion, rejection that
// leaves a dossier as it was, convergence under shuffled and duplicated
// delivery, durability, and what a failed batch leaves (nothing).
#include "services/filings/filings.h"

#include <random>

#include <thread>
#include <atomic>
#include <map>
#include <set>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "services/common/change_feed.h"
#include "services/common/group_commit.h"
#include "services/common/status.h"
#include "services/agencies/agency_registry.h"
#include "services/catalog/catalog.h"
#include "services/metrics/aggregate_maintenance.h"
#include "tests/test_database.h"
#include "storage/store.h"
#include "tests/store/filing_writer_wrapper.h"

namespace pstrack {
namespace {

using testing::MakeAgency;
using testing::MakeProcedure;
using testing::TempDir;
using K = EventKind;

std::shared_ptr<const WorkingCalendar> Calendar() { return testing::PublishedCalendar(); }

absl::Time Local(int y, int m, int d, int hh = 0, int mm = 0) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, mm, 0), VietnamTimeZone());
}

FilingEvent Event(std::string id, std::string dossier, K kind, absl::Time at) {
  FilingEvent e;
  e.event_id = std::move(id);
  e.dossier_code = std::move(dossier);
  e.agency_code = "P22.X1";
  e.occurred_at = at;
  e.kind = kind;
  if (kind == K::kReceived || kind == K::kRegisteredOnline) e.procedure_code = "1.000001";
  if (kind == K::kReceived) e.channel = Channel::kInPerson;
  if (kind == K::kFeedback) e.rating = Rating::kSatisfied;
  if (kind == K::kPayment) e.amount_vnd = 10000;
  return e;
}

class FilingsTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open() {
    store_ = OpenSeeded("f.db");
    ASSERT_NE(store_, nullptr);
    filings_ = std::make_unique<Filings>(*store_, Calendar());
  }

  // A database with the fixture's agencies and procedure.
  std::unique_ptr<Store> OpenSeeded(const std::string& name) {
    auto opened = OpenStore(testing::TestDatabaseUrl(dir_, name));
    EXPECT_TRUE(opened.ok()) << opened.status();
    if (!opened.ok()) return nullptr;
    std::unique_ptr<Store> store = std::move(*opened);
    AgencyRegistry registry(*store);
    for (const Agency& a : {MakeAgency("VN", AgencyLevel::kNation, ""), MakeAgency("P22", AgencyLevel::kProvince, "VN"),
                            MakeAgency("P22.X1", AgencyLevel::kCommune, "P22"),
                            MakeAgency("P24", AgencyLevel::kProvince, "VN")}) {
      EXPECT_TRUE(registry.Create(a).ok());
    }
    Procedure p = MakeProcedure("1.000001");
    p.resolution_amount = 3;
    EXPECT_TRUE(Catalog(*store).Upsert(p).ok());
    return store;
  }

  int64_t StoredEvents() {
    int64_t n = -1;
    EXPECT_TRUE(store_->Read([&](ReadTransaction& tx) -> absl::Status {
                  n = *tx.CountEvents();
                  return absl::OkStatus();
                }).ok());
    return n;
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Filings> filings_;
};

const char* kDossier = "P22.X1-250602-0001";

TEST_F(FilingsTest, RecordThenGet) {
  auto r = filings_->Record({Event("a1", kDossier, K::kReceived, Local(2025, 6, 2, 10)),
                             Event("a2", kDossier, K::kResolved, Local(2025, 6, 4, 10))});
  for (const auto& o : r.outcomes) EXPECT_EQ(o.outcome, WriteOutcome::kApplied) << o.status;
  ASSERT_EQ(r.dossiers.count(kDossier), 1u);
  auto view = filings_->Get(kDossier, std::nullopt, true);
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ(view->state.timeliness, Timeliness::kEarly);
  EXPECT_EQ(view->state.appointment->appointment_date, Date(2025, 6, 5));
  ASSERT_EQ(view->events.size(), 2u);
  EXPECT_EQ(view->events[0].event_id, "a1");
  EXPECT_EQ(filings_->Get("P22.X1-250602-0099", std::nullopt, false).status().code(), absl::StatusCode::kNotFound);
}

// Unary callers share commits: 32 threads, each filing its own dossiers one
// event at a time, plus the same events sent twice by two threads. Every
// caller gets its own outcomes; every event is stored once.
TEST_F(FilingsTest, ConcurrentCallersShareCommitsAndKeepTheirOwnOutcomes) {
  constexpr int kThreads = 32, kPerThread = 20;
  std::vector<std::thread> threads;
  std::atomic<int> applied{0}, unchanged{0}, wrong{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        // Threads t and t^1 send the same shared event; each also sends its own.
        const std::string shared = absl::StrFormat("P22.X1-250602-%04d", 1000 + (t / 2) * kPerThread + i);
        const std::string own = absl::StrFormat("P22.X1-250603-%04d", 1000 + t * kPerThread + i);
        for (const auto& [id, dossier] : {std::pair{"s" + shared, shared}, {"o" + own, own}}) {
          RecordResult r = filings_->RecordTogether({Event(id, dossier, K::kReceived, Local(2025, 6, 2, 10))});
          // An applied event comes with its dossier's new state.
          if (r.outcomes.size() != 1 || r.outcomes[0].index != 0 || r.outcomes[0].key != id ||
              (r.outcomes[0].outcome == WriteOutcome::kApplied && !r.dossiers.contains(dossier))) {
            ++wrong;
            continue;
          }
          (r.outcomes[0].outcome == WriteOutcome::kApplied ? applied : unchanged)++;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(applied, kThreads * kPerThread + kThreads / 2 * kPerThread);
  EXPECT_EQ(unchanged, kThreads / 2 * kPerThread);
  int64_t stored = 0;
  ASSERT_TRUE(store_->Read([&](ReadTransaction& tx) -> absl::Status {
    PSTRACK_ASSIGN_OR_RETURN(stored, tx.CountEvents());
    return absl::OkStatus();
  }).ok());
  EXPECT_EQ(stored, applied.load());
}

// Dossiers with every kind of trouble the lifecycle sets aside, shuffled.
std::vector<FilingEvent> TroubledHistories(int dossiers, uint32_t seed) {
  std::vector<FilingEvent> events;
  for (int d = 0; d < dossiers; ++d) {
    const std::string code = absl::StrFormat("P22.X1-250602-%04d", 100 + d);
    events.push_back(Event(code + "/r", code, K::kReceived, Local(2025, 6, 2, 9 + d % 6)));
    events.push_back(Event(code + "/p", code, K::kPayment, Local(2025, 6, 2, 8)));  // before the receipt
    if (d % 3 == 0) events.push_back(Event(code + "/x", code, K::kResolved, Local(2025, 6, 4, 10)));
    if (d % 4 == 0) events.push_back(Event(code + "/w", code, K::kWithdrawn, Local(2025, 6, 5, 10)));
    if (d % 5 == 0) events.push_back(Event(code + "/f", code, K::kFeedback, Local(2025, 6, 6, 10)));
    if (d % 7 == 0) events.push_back(Event(code + "/r2", code, K::kReceived, Local(2025, 6, 3, 10)));
  }
  std::mt19937 rng(seed);
  std::shuffle(events.begin(), events.end(), rng);
  return events;
}

// Each dossier of `events` as `filings` has it, against `reference`.
void ExpectSameDossiers(Filings& filings, Filings& reference, const std::vector<FilingEvent>& events) {
  std::set<std::string> codes;
  for (const FilingEvent& e : events) codes.insert(e.dossier_code);
  int set_aside = 0;
  for (const std::string& code : codes) {
    auto got = filings.Get(code, Local(2025, 7, 1), true);
    auto want = reference.Get(code, Local(2025, 7, 1), true);
    ASSERT_TRUE(got.ok() && want.ok()) << code;
    EXPECT_EQ(got->state.status, want->state.status) << code;
    EXPECT_EQ(got->timeliness, want->timeliness) << code;
    EXPECT_EQ(got->state.paid_amount_vnd, want->state.paid_amount_vnd) << code;
    EXPECT_EQ(got->events.size(), want->events.size()) << code;
    ASSERT_EQ(got->state.set_aside.size(), want->state.set_aside.size()) << code;
    for (size_t i = 0; i < got->state.set_aside.size(); ++i) {
      EXPECT_EQ(got->state.set_aside[i].event_id, want->state.set_aside[i].event_id) << code;
    }
    set_aside += static_cast<int>(got->state.set_aside.size());
  }
  EXPECT_GT(set_aside, 0) << "the histories must exercise the set-aside rules";
}

// The aggregates equal a recomputation from the stored events, and none
// is missing.
void ExpectAggregatesRecompute(Store& store) {
  auto check = AggregateMaintenance(store, Calendar()).CheckAggregates();
  ASSERT_TRUE(check.ok()) << check.status();
  EXPECT_GT(check->rows_compared, 0);
  EXPECT_EQ(check->rows_differing, 0);
}

// Behind the writes (StartProjection): a batch is acknowledged once it is in
// the event log (every event stored at once), the projection follows, and
// it makes what the synchronous path makes: the same dossiers, and
// aggregates equal to a recomputation from the events.
TEST_F(FilingsTest, BehindTheWritesTheProjectionCatchesUpWithEveryAcknowledgedEvent) {
  const std::vector<FilingEvent> events = TroubledHistories(60, 22);
  filings_->StartProjection();
  for (size_t b = 0; b < events.size(); b += 17) {
    const std::vector<FilingEvent> batch(events.begin() + b, events.begin() + std::min(events.size(), b + 17));
    for (const auto& o : filings_->Record(batch).outcomes) ASSERT_EQ(o.outcome, WriteOutcome::kApplied) << o.status;
    // Acknowledged: stored, projected or still in the log.
    EXPECT_EQ(StoredEvents(), static_cast<int64_t>(std::min(events.size(), b + 17)));
  }
  ASSERT_TRUE(filings_->WaitForProjection(absl::Now() + absl::Seconds(30)));
  auto log = filings_->Log();
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ(log->pending, 0);
  EXPECT_GE(log->position(), static_cast<int64_t>(events.size()));

  std::unique_ptr<Store> other = OpenSeeded("reference.db");
  ASSERT_NE(other, nullptr);
  Filings reference(*other, Calendar());
  std::vector<FilingEvent> in_order = events;
  std::sort(in_order.begin(), in_order.end(), ReplayOrderLess);
  for (const auto& o : reference.Record(in_order).outcomes) ASSERT_EQ(o.outcome, WriteOutcome::kApplied);
  ExpectSameDossiers(*filings_, reference, events);
  ExpectAggregatesRecompute(*store_);
}

// Stopping (SIGTERM) ends the projection after its round in progress, not
// when the backlog is gone: with another replica appending it may never be
// (a replica under load once took two minutes to exit). Rounds of 5 events
// over a backlog of hundreds: the projector is stopped once it has begun,
// and most of the backlog must still be in the log for the next start.
TEST_F(FilingsTest, StoppingTheProjectorEndsAfterItsRoundNotAfterTheBacklog) {
  const std::vector<FilingEvent> events = TroubledHistories(300, 31);
  ASSERT_GT(events.size(), 600u);
  filings_->set_projection_round(5);
  filings_->set_projection_held(true);
  filings_->StartProjection();
  for (const auto& o : filings_->Record(events).outcomes) ASSERT_EQ(o.outcome, WriteOutcome::kApplied) << o.status;
  const int64_t backlog = static_cast<int64_t>(events.size());
  filings_->set_projection_held(false);
  int64_t pending = backlog;
  for (const absl::Time give_up = absl::Now() + absl::Seconds(60); pending == backlog && absl::Now() < give_up;) {
    auto log = filings_->Log();
    ASSERT_TRUE(log.ok()) << log.status();
    pending = log->pending;
  }
  ASSERT_LT(pending, backlog) << "the projector never began";
  filings_->StopProjection();
  auto log = filings_->Log();
  ASSERT_TRUE(log.ok()) << log.status();
  // The round under way ends, and perhaps a few more while this thread
  // went from the look to the stop; never the whole backlog.
  EXPECT_GT(log->pending, backlog / 2) << "the projector went on past its round after being asked to stop";
  EXPECT_EQ(StoredEvents(), backlog);

  // The next start projects the rest: nothing was lost by stopping.
  Filings again(*store_, Calendar());
  again.StartProjection();
  for (const absl::Time give_up = absl::Now() + absl::Seconds(60); absl::Now() < give_up;) {
    auto now = again.Log();
    ASSERT_TRUE(now.ok()) << now.status();
    if (now->pending == 0) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  again.StopProjection();
  auto end = again.Log();
  ASSERT_TRUE(end.ok()) << end.status();
  EXPECT_EQ(end->pending, 0);
  ExpectAggregatesRecompute(*store_);
}

// Two processes on one database (PostgreSQL replicas; here two stores on
// the same database): what one projects moves the other's change feed at
// its next projection round, though it projected nothing itself, so its
// watches send the new figures.
TEST_F(FilingsTest, WhatAnotherProcessProjectsMovesThisProcesssChangeFeed) {
  ChangeFeed mine, theirs;
  auto other_store = OpenStore(testing::TestDatabaseUrl(dir_, "f.db"));
  ASSERT_TRUE(other_store.ok()) << other_store.status();
  Filings here(*store_, Calendar(), &mine);
  Filings there(**other_store, Calendar(), &theirs);
  // Both see the empty log once (their first look is news).
  ASSERT_TRUE(here.ProjectPending().ok());
  ASSERT_TRUE(there.ProjectPending().ok());
  const uint64_t before = mine.version();
  // Acknowledged on the other process, appended only (as behind its
  // projector), then projected there.
  ASSERT_TRUE((*other_store)->Write([&](WriteTransaction& tx) -> absl::Status {
    return tx.AppendToLog({ToStored(Event("w1", kDossier, K::kReceived, Local(2025, 6, 2, 10)), absl::Now())}).status();
  }).ok());
  EXPECT_EQ(*there.ProjectPending(), 1);
  EXPECT_EQ(mine.version(), before) << "nothing has looked yet";
  auto moved = here.ProjectPending();
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(*moved, 0) << "already projected by the other process";
  EXPECT_GT(mine.version(), before) << "this process's watches were not told of the other's projection";
  // Nothing new: no bump.
  const uint64_t after = mine.version();
  ASSERT_TRUE(here.ProjectPending().ok());
  EXPECT_EQ(mine.version(), after);
  (*other_store)->Close();
}

// A crash after the log's commit and before its projection leaves
// acknowledged events in the log: the next projection (at the next start)
// takes them in, and nothing is counted twice.
TEST_F(FilingsTest, EventsLeftInTheLogByACrashAreProjectedAtTheNextStart) {
  const std::vector<FilingEvent> events = TroubledHistories(30, 7);
  const size_t half = events.size() / 2;
  const std::vector<FilingEvent> first(events.begin(), events.begin() + half);
  for (const auto& o : filings_->Record(first).outcomes) ASSERT_EQ(o.outcome, WriteOutcome::kApplied);
  // The rest reached the log only, as a writer whose projection never ran.
  ASSERT_TRUE(store_->Write([&](WriteTransaction& tx) -> absl::Status {
    std::vector<StoredEvent> logged;
    for (size_t i = half; i < events.size(); ++i) logged.push_back(ToStored(events[i], absl::Now()));
    return tx.AppendToLog(logged).status();
  }).ok());
  EXPECT_EQ(StoredEvents(), static_cast<int64_t>(events.size()));
  EXPECT_EQ(filings_->Log()->pending, static_cast<int64_t>(events.size() - half));
  // A dossier shows its logged events before they are projected.
  auto early = filings_->Get(events.back().dossier_code, std::nullopt, true);
  ASSERT_TRUE(early.ok()) << early.status();

  Filings restarted(*store_, Calendar());
  auto moved = restarted.ProjectPending();
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(*moved, static_cast<int64_t>(events.size() - half));
  EXPECT_EQ(*restarted.ProjectPending(), 0);  // nothing twice
  EXPECT_EQ(restarted.Log()->pending, 0);

  std::unique_ptr<Store> other = OpenSeeded("reference.db");
  ASSERT_NE(other, nullptr);
  Filings reference(*other, Calendar());
  for (const auto& o : reference.Record(events).outcomes) ASSERT_EQ(o.outcome, WriteOutcome::kApplied);
  ExpectSameDossiers(restarted, reference, events);
  ExpectAggregatesRecompute(*store_);
}

TEST(GroupCommitTest, EveryItemIsFlushedOnceAndWaitersShareGroups) {
  std::atomic<int> flushes{0};
  std::mutex mu;
  std::map<int, int> seen;
  GroupCommit<int> commit([&](std::vector<int*>& group, absl::FunctionRef<void()>) {
    ++flushes;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // a commit takes time
    std::lock_guard lock(mu);
    for (int* item : group) seen[*item]++;
  });
  std::vector<std::thread> threads;
  std::vector<int> items(64 * 10);
  for (int t = 0; t < 64; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        int& item = items[t * 10 + i];
        item = t * 10 + i;
        commit.Submit(&item);
        std::lock_guard lock(mu);
        EXPECT_EQ(seen[item], 1) << "returned before its flush";
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(seen.size(), items.size());
  for (const auto& [item, n] : seen) EXPECT_EQ(n, 1) << item;
  EXPECT_LT(flushes, static_cast<int>(items.size()) / 4) << "callers did not share commits";
}

TEST_F(FilingsTest, SameIdSameContentIsADuplicateDifferentContentIsRefused) {
  FilingEvent received = Event("a1", kDossier, K::kReceived, Local(2025, 6, 2, 10));
  ASSERT_EQ(filings_->Record({received}).outcomes[0].outcome, WriteOutcome::kApplied);
  auto again = filings_->Record({received, received});
  EXPECT_EQ(again.outcomes[0].outcome, WriteOutcome::kUnchanged);
  EXPECT_EQ(again.outcomes[1].outcome, WriteOutcome::kUnchanged);
  FilingEvent changed = received;
  changed.channel = Channel::kOnline;
  auto conflict = filings_->Record({changed});
  EXPECT_EQ(conflict.outcomes[0].status.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(conflict.outcomes[0].status.message().find("'a1'"), absl::string_view::npos);
  EXPECT_EQ(filings_->Get(kDossier, std::nullopt, false)->state.channel, Channel::kInPerson);
  // Within one batch, the same id with different content: the second is refused.
  FilingEvent x = Event("b1", "P22.X1-250602-0002", K::kReceived, Local(2025, 6, 2, 10));
  FilingEvent y = x;
  y.channel = Channel::kPostal;
  auto within = filings_->Record({x, y});
  EXPECT_EQ(within.outcomes[0].outcome, WriteOutcome::kApplied);
  EXPECT_EQ(within.outcomes[1].status.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(StoredEvents(), 2);
}

TEST_F(FilingsTest, ImpossibleEventIsKeptAndSetAsideAndTheStateStaysAsItWas) {
  ASSERT_EQ(filings_->Record({Event("a1", kDossier, K::kReceived, Local(2025, 6, 2, 10)),
                              Event("a2", kDossier, K::kWithdrawn, Local(2025, 6, 3, 10))})
                .outcomes[1]
                .outcome,
            WriteOutcome::kApplied);
  auto before = filings_->Get(kDossier, std::nullopt, true);
  auto r = filings_->Record({Event("a3", kDossier, K::kProcessingStarted, Local(2025, 6, 4, 10)),
                             Event("a4", kDossier, K::kFeedback, Local(2025, 6, 4, 11))});
  EXPECT_EQ(r.outcomes[0].outcome, WriteOutcome::kApplied);  // kept, set aside
  EXPECT_EQ(r.outcomes[1].outcome, WriteOutcome::kApplied);  // feedback after withdrawal is fine
  auto after = filings_->Get(kDossier, std::nullopt, true);
  EXPECT_EQ(after->state.status, DossierStatus::kWithdrawn);
  EXPECT_EQ(after->events.size(), before->events.size() + 2);
  ASSERT_EQ(after->state.set_aside.size(), 1u);
  EXPECT_EQ(after->state.set_aside[0].event_id, "a3");
  EXPECT_EQ(after->state.set_aside[0].rule, "nothing_after_end");
  EXPECT_EQ(after->state.feedback_count, 1);
}

TEST_F(FilingsTest, BatchKeepsGoodEventsAndReportsEachBadOne) {
  FilingEvent unknown_agency = Event("c2", "P99-250602-0001", K::kReceived, Local(2025, 6, 2, 10));
  unknown_agency.agency_code = "P99";
  FilingEvent unknown_procedure = Event("c3", "P22.X1-250602-0003", K::kReceived, Local(2025, 6, 2, 10));
  unknown_procedure.procedure_code = "9.999999";
  FilingEvent invalid = Event("c4", "bad code", K::kReceived, Local(2025, 6, 2, 10));
  auto r = filings_->Record({Event("c1", kDossier, K::kReceived, Local(2025, 6, 2, 10)), unknown_agency,
                             unknown_procedure, invalid, Event("c5", kDossier, K::kProcessingStarted, Local(2025, 6, 2, 11))},
                            {10, 11, 12, 13, 14});
  EXPECT_EQ(r.outcomes[0].outcome, WriteOutcome::kApplied);
  EXPECT_EQ(r.outcomes[1].status.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(r.outcomes[1].status.message().find("event.agency_code"), absl::string_view::npos);
  EXPECT_EQ(r.outcomes[2].status.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(r.outcomes[2].status.message().find("event.procedure_code"), absl::string_view::npos);
  EXPECT_EQ(r.outcomes[3].status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.outcomes[3].source_line, 13);
  EXPECT_EQ(r.outcomes[4].outcome, WriteOutcome::kApplied);
  EXPECT_EQ(StoredEvents(), 2);
}

// Random valid histories, delivered shuffled, duplicated and in batches of
// random sizes, converge to the replay of the full set; each event is stored
// once.
TEST_F(FilingsTest, ShuffledDuplicatedDeliveryConverges) {
  std::mt19937 rng(20251126);
  std::vector<FilingEvent> all;
  std::map<std::string, std::vector<FilingEvent>> by_dossier;
  for (int d = 0; d < 40; ++d) {
    char code[32];
    std::snprintf(code, sizeof code, "P22.X1-2506%02d-%04d", 2 + d % 20, d);
    absl::Time t = Local(2025, 6, 2 + d % 20, 8 + d % 9, d % 60);
    std::vector<FilingEvent> h;
    auto add = [&](K kind, absl::Duration after) {
      t += after;
      h.push_back(Event(std::string(code) + "/" + std::to_string(h.size()), code, kind, t));
    };
    add(K::kReceived, absl::ZeroDuration());
    add(K::kProcessingStarted, absl::Hours(1));
    if (rng() % 3 == 0) {
      add(K::kSupplementRequested, absl::Hours(3 + rng() % 48));
      if (rng() % 2) add(K::kSupplementReceived, absl::Hours(24 + rng() % 100));
    }
    if (rng() % 4 == 0) add(K::kPayment, absl::Hours(2));
    switch (rng() % 4) {
      case 0: add(K::kResolved, absl::Hours(10 + rng() % 200)); add(K::kResultReturned, absl::Hours(rng() % 30)); break;
      case 1: add(K::kResolved, absl::Hours(10 + rng() % 200)); break;
      case 2: add(K::kWithdrawn, absl::Hours(10 + rng() % 100)); break;
      default: break;  // still open
    }
    if (rng() % 2) add(K::kFeedback, absl::Hours(5));
    by_dossier[code] = h;
    all.insert(all.end(), h.begin(), h.end());
  }
  std::vector<FilingEvent> delivery = all;
  for (int i = 0; i < 60; ++i) delivery.push_back(all[rng() % all.size()]);  // duplicates
  std::shuffle(delivery.begin(), delivery.end(), rng);
  for (size_t begin = 0; begin < delivery.size();) {
    size_t n = 1 + rng() % 25;
    std::vector<FilingEvent> batch(delivery.begin() + begin, delivery.begin() + std::min(delivery.size(), begin + n));
    for (const auto& o : filings_->Record(batch).outcomes) {
      EXPECT_NE(o.outcome, WriteOutcome::kRejected) << o.key << ": " << o.status;
    }
    begin += n;
  }
  EXPECT_EQ(StoredEvents(), static_cast<int64_t>(all.size()));
  Procedure p = MakeProcedure("1.000001");
  p.resolution_amount = 3;
  const absl::Time as_of = Local(2025, 8, 1);
  for (const auto& [code, events] : by_dossier) {
    auto expected = Replay(events, *Calendar(), &p);
    ASSERT_TRUE(expected.ok()) << code << ": " << expected.status();
    auto got = filings_->Get(code, as_of, true);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->events.size(), events.size()) << code;
    EXPECT_EQ(got->state.status, expected->status) << code;
    EXPECT_EQ(got->timeliness, TimelinessAt(*expected, as_of, false)) << code;
    EXPECT_EQ(got->portal_timeliness, TimelinessAt(*expected, as_of, true)) << code;
    EXPECT_EQ(got->state.finish_time, expected->finish_time) << code;
    EXPECT_EQ(got->state.appointment->appointment_date, expected->appointment->appointment_date) << code;
  }
}

TEST_F(FilingsTest, AcknowledgedEventsSurviveReopen) {
  ASSERT_EQ(filings_->Record({Event("a1", kDossier, K::kReceived, Local(2025, 6, 2, 10))}).outcomes[0].outcome,
            WriteOutcome::kApplied);
  filings_.reset();
  store_->Close();
  store_.reset();
  auto store = OpenStore(testing::TestDatabaseUrl(dir_, "f.db"));
  ASSERT_TRUE(store.ok());
  store_ = std::move(*store);
  filings_ = std::make_unique<Filings>(*store_, Calendar());
  auto view = filings_->Get(kDossier, std::nullopt, true);
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ(view->events.size(), 1u);
}

TEST_F(FilingsTest, ListFiltersBySubtreeStatusAndOverdue) {
  ASSERT_TRUE(filings_->Record({Event("a1", kDossier, K::kReceived, Local(2025, 6, 2, 10)),
                                Event("b1", "P22.X1-250602-0002", K::kReceived, Local(2025, 6, 2, 10)),
                                Event("b2", "P22.X1-250602-0002", K::kResolved, Local(2025, 6, 3, 10))})
                  .outcomes[2]
                  .status.ok());
  auto codes = [&](DossierListRequest r) {
    auto page = filings_->List(r);
    EXPECT_TRUE(page.ok()) << page.status();
    std::vector<std::string> out;
    for (const auto& v : page->dossiers) out.push_back(v.state.code);
    return out;
  };
  EXPECT_EQ(codes({.agency_code = "P22"}).size(), 2u);
  EXPECT_TRUE(codes({.agency_code = "P24"}).empty());
  EXPECT_EQ(codes({.status = DossierStatus::kResolved}), std::vector<std::string>{"P22.X1-250602-0002"});
  EXPECT_EQ(codes({.overdue_only = true, .as_of = Local(2025, 6, 10)}), std::vector<std::string>{kDossier});
  EXPECT_TRUE(codes({.overdue_only = true, .as_of = Local(2025, 6, 4)}).empty());
  EXPECT_EQ(codes({.finished_from = Date(2025, 6, 3), .finished_until = Date(2025, 6, 4)}),
            std::vector<std::string>{"P22.X1-250602-0002"});
  EXPECT_EQ(filings_->List({.agency_code = "NOPE"}).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(filings_->List({.received_from = Date(2025, 6, 5), .received_until = Date(2025, 6, 1)}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// A store whose transactions fail when writing one chosen dossier, to show
// that a failure in the middle of a batch leaves nothing of the batch. It
// offers what ingestion needs (FilingStore) and nothing more.
class FailingStore {
 public:
  FailingStore(Store& real, std::string poison) : real_(real), poison_(std::move(poison)) {}
  absl::Status Read(absl::FunctionRef<absl::Status(FilingReader&)> fn) {
    return real_.Read([&](ReadTransaction& tx) { return fn(tx); });
  }
  absl::Status ReadLongSnapshot(absl::FunctionRef<absl::Status(FilingReader&)> fn) { return Read(fn); }
  absl::Status LongSnapshotGrowth() const { return absl::OkStatus(); }
  absl::Status Write(absl::FunctionRef<absl::Status(FilingWriter&)> fn, absl::FunctionRef<void()> released) {
    return real_.Write(
        [&](WriteTransaction& tx) {
          Tx wrapped(tx, poison_);
          return fn(wrapped);
        },
        released);
  }
  absl::Status WriteBeside(absl::FunctionRef<absl::Status(FilingWriter&)> fn) {
    return real_.WriteBeside([&](WriteTransaction& tx) {
      Tx wrapped(tx, poison_);
      return fn(wrapped);
    });
  }

 private:
  class Tx : public FilingWriterWrapper {
   public:
    Tx(FilingWriter& tx, const std::string& poison) : FilingWriterWrapper(tx), tx_(tx), poison_(poison) {}
    absl::Status PutDossiers(const std::vector<DossierRow>& rows) override {
      // Write the rows before the poisoned one, then fail: the transaction
      // must undo them.
      std::vector<DossierRow> before;
      for (const auto& r : rows) {
        if (r.code == poison_) {
          PSTRACK_RETURN_IF_ERROR(tx_.PutDossiers(before));
          return absl::UnavailableError("disk full (injected)");
        }
        before.push_back(r);
      }
      return tx_.PutDossiers(rows);
    }

   private:
    FilingWriter& tx_;
    const std::string& poison_;
  };
  Store& real_;
  std::string poison_;
};

TEST_F(FilingsTest, AFailureInTheMiddleOfABatchCommitsNothing) {
  FailingStore failing(*store_, "P22.X1-250602-0002");
  Filings filings(failing, Calendar());
  auto r = filings.Record({Event("a1", kDossier, K::kReceived, Local(2025, 6, 2, 10)),
                           Event("b1", "P22.X1-250602-0002", K::kReceived, Local(2025, 6, 2, 10)),
                           Event("c1", "P22.X1-250602-0003", K::kReceived, Local(2025, 6, 2, 10))});
  for (const auto& o : r.outcomes) {
    EXPECT_EQ(o.outcome, WriteOutcome::kRejected);
    EXPECT_EQ(o.status.code(), absl::StatusCode::kUnavailable);
    EXPECT_NE(o.status.message().find("batch not committed"), absl::string_view::npos);
  }
  EXPECT_EQ(StoredEvents(), 0);  // not even the dossier written before the failure
  EXPECT_EQ(filings_->Get(kDossier, std::nullopt, false).status().code(), absl::StatusCode::kNotFound);
  // Retrying the same batch once the fault is gone lands everything.
  auto retry = filings_->Record({Event("a1", kDossier, K::kReceived, Local(2025, 6, 2, 10)),
                                 Event("b1", "P22.X1-250602-0002", K::kReceived, Local(2025, 6, 2, 10)),
                                 Event("c1", "P22.X1-250602-0003", K::kReceived, Local(2025, 6, 2, 10))});
  for (const auto& o : retry.outcomes) EXPECT_EQ(o.outcome, WriteOutcome::kApplied);
  EXPECT_EQ(StoredEvents(), 3);
}

}  // namespace
}  // namespace pstrack
