// Order independence (issue 22, point 2): a dossier's state is a function
// of the SET of its events, so generated histories (every event kind,
// supplements, re-appointments, withdrawals, feedback) with rule-breaking
// events added give, whatever the delivery (shuffled, cut into random
// batches, partly resent, through batches, concurrent unary calls with
// group commit and chunked streams at once, through two replicas writing
// the same database at once), the same dossier states and set-aside
// events, the same dossier rows and aggregate rows (read with SQL, behind
// the store's back) and the same stored events as one batch in time order.
// The suite runs on SQLite and, as store_tests_postgresql, on PostgreSQL.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "services/agencies/agency_registry.h"
#include "services/catalog/catalog.h"
#include "services/filings/filings.h"
#include "services/metrics/aggregate_maintenance.h"
#include "storage/store.h"
#include "tests/generated_histories.h"
#include "tests/test_database.h"

namespace pstrack {
namespace {

using testing::Histories;

std::shared_ptr<const WorkingCalendar> Calendar() { return testing::PublishedCalendar(); }

// Open dossiers are judged at this instant in every database.
absl::Time AsOf() { return absl::FromCivil(absl::CivilSecond(2025, 10, 15, 12, 0, 0), VietnamTimeZone()); }

// The generator's 2,000-dossier set (its default seed); the histories of
// the main tests are 400 of its dossiers (every fifth, and one more for a
// kind those lack) with rule-breakers added.
gen::GenOptions Generated() {
  gen::GenOptions o;
  o.dossiers = 2000;
  o.calendar = Calendar();
  return o;
}
constexpr int kDossiers = 400;

void ExpectAllApplied(const std::vector<ItemOutcome>& outcomes, absl::string_view what) {
  for (const ItemOutcome& o : outcomes) {
    ASSERT_EQ(o.outcome, WriteOutcome::kApplied) << what << " '" << o.key << "': " << o.status;
  }
}

void LoadWorld(Store& store, const gen::World& w) {
  std::vector<AgencyImportItem> agencies;
  for (const Agency& a : w.agencies) agencies.push_back({a, 0});
  ExpectAllApplied(AgencyRegistry(store).Import(agencies), "agency");
  std::vector<ProcedureImportItem> procedures;
  for (const Procedure& p : w.procedures) procedures.push_back({p, 0});
  ExpectAllApplied(Catalog(store).Import(procedures), "procedure");
}

// A database with the generated world's agencies and procedures, loaded
// once and copied for each test database (TestDatabaseUrl's copy_of).
std::string WorldDatabase(const Histories& h) {
  static testing::TempDir dir;  // removed at exit
  static std::map<std::pair<uint64_t, int64_t>, std::string> made;
  const std::pair<uint64_t, int64_t> key = {h.options.seed, h.options.dossiers};
  if (auto it = made.find(key); it != made.end()) return it->second;
  const std::string url = testing::TestDatabaseUrl(dir, absl::StrCat("world", made.size(), ".db"));
  auto store = OpenStore(url);
  EXPECT_TRUE(store.ok()) << store.status();
  if (!store.ok()) return url;
  LoadWorld(**store, h.world);
  (*store)->Close();
  return made[key] = url;
}

// A fresh database `name` in `dir` holding the world of `h`.
std::unique_ptr<Store> FreshStore(const testing::TempDir& dir, const std::string& name, const Histories& h,
                                  std::string* url) {
  *url = testing::TestDatabaseUrl(dir, name, WorldDatabase(h));
  auto store = OpenStore(*url);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *std::move(store) : nullptr;
}

std::string Text(std::optional<absl::Time> t) {
  return t ? absl::FormatTime(absl::RFC3339_full, *t, absl::UTCTimeZone()) : "-";
}
std::string Text(const OptionalDate& d) { return d ? FormatDate(*d) : "-"; }

// Everything a dossier view says, one field a line, so that two views
// compare as text and a difference names the field.
std::string Describe(const DossierView& v) {
  const DossierState& s = v.state;
  std::string out;
  absl::StrAppend(&out, "code ", s.code, "\nagency ", s.agency_code, "\nprocedure ", s.procedure_code, "\nstatus ",
                  DossierStatusName(s.status), "\nchannel ", ChannelName(s.channel), "\nregistered ",
                  Text(s.registered_time), "\nreceived ", Text(s.received_time), "\n");
  if (s.appointment) {
    const Appointment& a = *s.appointment;
    absl::StrAppend(&out, "appointment clock_start ", Text(a.clock_start), " clock_day ", FormatDate(a.clock_day),
                    " date ", FormatDate(a.appointment_date), " due ", Text(a.due_time), " provisional ",
                    a.provisional, "\n");
  } else {
    absl::StrAppend(&out, "appointment -\n");
  }
  absl::StrAppend(&out, "portal_due ", Text(s.portal_due_time), "\ndeclared ", Text(s.declared_appointment),
                  "\nappointment_mismatch ", s.appointment_mismatch, "\nreappointed ", Text(s.reappointed_date),
                  "\napology_late ", s.apology_late, "\nfinish ", static_cast<int>(s.finish_kind), " at ",
                  Text(s.finish_time), "\ntimeliness ", TimelinessName(s.timeliness), "\nportal_timeliness ",
                  TimelinessName(s.portal_timeliness), "\ntimeliness_at_as_of ", TimelinessName(v.timeliness),
                  "\nportal_timeliness_at_as_of ", TimelinessName(v.portal_timeliness), "\nsupplement_requests ",
                  s.supplement_requests, "\nsupplement_wait_since ", Text(s.supplement_wait_since), "\npaid ",
                  s.paid_amount_vnd, " online ", s.paid_online_amount_vnd, " ", s.paid_online, "\nelectronic ",
                  s.electronic_result, s.processed_electronically, s.signed_electronically, "\nreturned_remotely ",
                  s.returned_remotely, "\ndigitised ", s.digitised_documents, s.digitised_result, s.reused_data,
                  s.population_db_used, s.shared_for_reuse, "\nrating ", RatingName(s.rating), " feedback ",
                  s.feedback_count, " complaint ", s.complaint, "\nprocessing_working_days ",
                  s.processing_working_days ? absl::StrCat(*s.processing_working_days) : "-", "\nevent_count ",
                  s.event_count, "\nlast_event ", Text(s.last_event_time), "\n");
  for (const SetAsideEvent& e : s.set_aside) {
    absl::StrAppend(&out, "set_aside ", e.event_id, " ", EventKindName(e.kind), " ", Text(e.occurred_at), " ",
                    e.rule, ": ", e.reason, "\n");
  }
  for (const FilingEvent& e : v.events) absl::StrAppend(&out, "event ", EncodeEvent(e), "\n");
  return out;
}

// What a database holds, as text.
struct Snapshot {
  std::map<std::string, std::string> dossiers;  // code -> Describe(the view)
  std::map<std::string, std::set<std::pair<std::string, std::string>>> set_aside;  // code -> (event id, rule)
  std::vector<std::string> dossier_rows;    // without updated_us
  std::vector<std::string> aggregate_rows;  // without `changes`; rows of zeros left out
  std::vector<std::string> events;          // without recorded_us
};

std::vector<std::string> Rows(const std::string& url, const std::string& sql) {
  testing::SqlRows r = testing::QuerySql(url, sql);
  EXPECT_EQ(r.error, "") << sql;
  std::vector<std::string> out;
  for (const auto& row : r.rows) out.push_back(absl::StrJoin(row, "|"));
  std::sort(out.begin(), out.end());
  return out;
}

// The aggregate rows, without the `changes` column (it counts presence
// changes, which depend on the path the figures took, and is no figure) and
// without rows whose every counter is zero (a row retracted to zero is as
// good as none).
std::vector<std::string> AggregateRows(const std::string& url) {
  testing::SqlRows r = testing::QuerySql(url, "SELECT * FROM aggregates");
  EXPECT_EQ(r.error, "");
  const std::set<std::string> keys = {"node_code", "basis", "dim", "dim_value", "day"};
  std::vector<std::string> out;
  for (const auto& row : r.rows) {
    std::string text;
    bool any = false;
    for (size_t c = 0; c < r.columns.size(); ++c) {
      if (r.columns[c] == "changes") continue;
      if (!keys.contains(r.columns[c]) && row[c] != "0") any = true;
      absl::StrAppend(&text, r.columns[c], "=", row[c], " ");
    }
    if (any) out.push_back(text);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Reads everything back: each dossier through Filings::Get (the state,
// its set-aside events and its events), the tables with SQL; and checks
// the aggregates against the events (AggregateMaintenance).
Snapshot Take(Store& store, const std::string& url, const Histories& h, bool with_get = true) {
  Snapshot s;
  Filings filings(store, Calendar());
  if (with_get) {
    for (const auto& [code, n] : h.events_per_dossier) {
      auto view = filings.Get(code, AsOf(), /*with_events=*/true);
      if (!view.ok()) {
        ADD_FAILURE() << code << ": " << view.status();
        continue;
      }
      s.dossiers[code] = Describe(*view);
      for (const SetAsideEvent& e : view->state.set_aside) s.set_aside[code].insert({e.event_id, e.rule});
      // Every event of the set is kept, and the set is the one sent.
      EXPECT_EQ(view->state.event_count, n) << code;
      EXPECT_EQ(view->events.size(), static_cast<size_t>(n)) << code;
    }
  } else {
    DossierListRequest request{.as_of = AsOf(), .page_size = 1000};
    do {
      auto page = filings.List(request);
      if (!page.ok()) {
        ADD_FAILURE() << page.status();
        break;
      }
      for (const DossierView& v : page->dossiers) {
        s.dossiers[v.state.code] = Describe(v);
        for (const SetAsideEvent& e : v.state.set_aside) s.set_aside[v.state.code].insert({e.event_id, e.rule});
      }
      request.page_token = page->next_page_token;
    } while (!request.page_token.empty());
    EXPECT_EQ(s.dossiers.size(), h.events_per_dossier.size());
  }
  s.dossier_rows = Rows(url,
                        "SELECT code, agency_code, agency_path, procedure_code, status, channel, received_us, "
                        "received_day, due_us, finish_us, finish_day, wait_since_us, event_count, overdue_from_us, "
                        "portal_overdue_from_us FROM dossiers");
  EXPECT_EQ(s.dossier_rows.size(), h.events_per_dossier.size());
  s.aggregate_rows = AggregateRows(url);
  s.events = Rows(url, "SELECT event_id, dossier_code, occurred_us, kind, content FROM filing_events");
  // The stored events are exactly the distinct events sent.
  std::vector<std::string> sent;
  for (const FilingEvent& e : h.events) sent.push_back(e.event_id);
  std::sort(sent.begin(), sent.end());
  std::vector<std::string> stored;
  for (const std::string& row : s.events) stored.push_back(row.substr(0, row.find('|')));
  std::sort(stored.begin(), stored.end());
  EXPECT_TRUE(stored == sent) << "stored " << stored.size() << " events, sent " << sent.size() << " distinct";

  auto check = AggregateMaintenance(store, Calendar()).CheckAggregates();
  EXPECT_TRUE(check.ok()) << check.status();
  if (check.ok()) {
    EXPECT_EQ(check->rows_differing, 0) << "the stored aggregates differ from the events' figures";
    for (const auto& sample : check->samples) {
      ADD_FAILURE() << "aggregate row " << sample.key.node_code << " basis " << static_cast<int>(sample.key.basis)
                    << " dim " << static_cast<int>(sample.key.dim) << " '" << sample.key.dim_value << "' "
                    << sample.key.day << " differs from the events' figures";
    }
    EXPECT_EQ(check->dossiers, static_cast<int64_t>(h.events_per_dossier.size()));
  }
  return s;
}

// Lines of `a` not in `b` (both sorted), at most `limit`.
std::vector<std::string> Missing(const std::vector<std::string>& a, const std::vector<std::string>& b,
                                 size_t limit = 8) {
  std::vector<std::string> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  if (out.size() > limit) out.resize(limit);
  return out;
}

void ExpectSameRows(const std::vector<std::string>& want, const std::vector<std::string>& got, absl::string_view what) {
  EXPECT_EQ(got.size(), want.size()) << what;
  if (got == want) return;
  ADD_FAILURE() << what << " differ from the reference's.\nonly in the reference:\n  "
                << absl::StrJoin(Missing(want, got), "\n  ") << "\nonly here:\n  "
                << absl::StrJoin(Missing(got, want), "\n  ");
}

// The comparison with the reference: every dossier's view, the rows.
void ExpectSame(const Snapshot& want, const Snapshot& got) {
  int differing = 0;
  for (const auto& [code, text] : want.dossiers) {
    auto it = got.dossiers.find(code);
    if (it == got.dossiers.end()) {
      ADD_FAILURE() << "dossier " << code << " is missing";
      ++differing;
      continue;
    }
    if (it->second == text) continue;
    if (++differing <= 5) {
      EXPECT_EQ(it->second, text) << "dossier " << code << " differs from the reference's";
    }
  }
  EXPECT_EQ(differing, 0) << "dossiers whose state differs from the reference's";
  EXPECT_EQ(got.dossiers.size(), want.dossiers.size());
  ExpectSameRows(want.dossier_rows, got.dossier_rows, "dossier rows");
  ExpectSameRows(want.aggregate_rows, got.aggregate_rows, "aggregate rows");
  ExpectSameRows(want.events, got.events, "stored events");
}

// ---- Delivery: many ways in at once ----

enum class Way { kBatch, kUnary, kStream };

// A piece of the delivery: its events, the way they go in, the replica.
struct Piece {
  std::vector<FilingEvent> events;
  Way way = Way::kBatch;
  int replica = 0;
};

struct Tally {
  std::mutex mu;
  int64_t sent = 0, applied = 0, unchanged = 0, rejected = 0;
  std::vector<std::string> rejections;  // the first few
  void Add(const std::vector<FilingEvent>& events, const RecordResult& r) {
    std::lock_guard<std::mutex> lock(mu);
    sent += static_cast<int64_t>(events.size());
    if (r.outcomes.size() != events.size()) {
      rejected += static_cast<int64_t>(events.size());
      rejections.push_back(absl::StrCat(r.outcomes.size(), " outcomes for ", events.size(), " events"));
      return;
    }
    for (const ItemOutcome& o : r.outcomes) {
      if (o.outcome == WriteOutcome::kApplied) {
        ++applied;
      } else if (o.outcome == WriteOutcome::kUnchanged) {
        ++unchanged;
      } else {
        ++rejected;
        if (rejections.size() < 10) rejections.push_back(absl::StrCat(o.key, ": ", o.status.ToString()));
      }
    }
  }
};

// The histories shuffled, about 5% resent, cut into pieces of 1..300
// events, each piece sent one of the three ways, to replica (piece number
// mod `replicas`).
std::vector<Piece> Plan(const Histories& h, uint64_t seed, int replicas, int64_t* sent) {
  std::mt19937_64 rng(seed);
  const std::vector<FilingEvent> shuffled = testing::ShuffledWithCopies(h.events, 0.05, rng);
  *sent = static_cast<int64_t>(shuffled.size());
  std::vector<Piece> pieces;
  for (auto& events : testing::CutRandomly(shuffled, 1, 300, rng)) {
    Piece p;
    p.events = std::move(events);
    p.way = static_cast<Way>(rng() % 3);
    p.replica = static_cast<int>(pieces.size()) % replicas;
    pieces.push_back(std::move(p));
  }
  return pieces;
}

// What a client does with a batch that was not committed because the
// database was busy (UNAVAILABLE, "batch not committed", nothing stored):
// sends it again. Two stores on one SQLite file wait for each other's
// writer, at most the busy timeout (5 s); a slow (sanitizer) build can
// exceed it.
RecordResult Resending(const std::function<RecordResult()>& send) {
  RecordResult r = send();
  for (int attempt = 0; attempt < 20; ++attempt) {
    const bool busy = !r.outcomes.empty() && std::all_of(r.outcomes.begin(), r.outcomes.end(), [](const ItemOutcome& o) {
      return o.outcome == WriteOutcome::kRejected && o.status.code() == absl::StatusCode::kUnavailable;
    });
    if (!busy) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    r = send();
  }
  return r;
}

// Sends the pieces, all at once: for each replica one thread sends its
// batches (Filings::Record), one its streams (Record of consecutive chunks
// of at most 64 events, as StreamEvents commits a chunk at a time), and
// `unary_threads` threads its unary calls (one event per
// Filings::RecordTogether, which groups concurrent calls into one commit).
void Deliver(const std::vector<Piece>& pieces, const std::vector<Filings*>& replicas, int unary_threads,
             Tally& tally) {
  struct Lanes {
    std::vector<const Piece*> batches, streams;
    std::vector<const FilingEvent*> unary;
    std::atomic<size_t> next_unary{0};
  };
  std::vector<Lanes> lanes(replicas.size());
  for (const Piece& p : pieces) {
    Lanes& l = lanes[static_cast<size_t>(p.replica)];
    if (p.way == Way::kBatch) l.batches.push_back(&p);
    if (p.way == Way::kStream) l.streams.push_back(&p);
    if (p.way == Way::kUnary) {
      for (const FilingEvent& e : p.events) l.unary.push_back(&e);
    }
  }
  std::vector<std::thread> threads;
  for (size_t r = 0; r < replicas.size(); ++r) {
    Filings* filings = replicas[r];
    Lanes* l = &lanes[r];
    threads.emplace_back([filings, l, &tally] {
      for (const Piece* p : l->batches) {
        tally.Add(p->events, Resending([&] { return filings->Record(p->events); }));
      }
    });
    threads.emplace_back([filings, l, &tally] {
      for (const Piece* p : l->streams) {
        for (size_t from = 0; from < p->events.size(); from += 64) {
          const std::vector<FilingEvent> chunk(
              p->events.begin() + static_cast<std::ptrdiff_t>(from),
              p->events.begin() + static_cast<std::ptrdiff_t>(std::min(p->events.size(), from + 64)));
          tally.Add(chunk, Resending([&] { return filings->Record(chunk); }));
        }
      }
    });
    for (int u = 0; u < unary_threads; ++u) {
      threads.emplace_back([filings, l, &tally] {
        for (size_t i = l->next_unary++; i < l->unary.size(); i = l->next_unary++) {
          const std::vector<FilingEvent> one = {*l->unary[i]};
          tally.Add(one, Resending([&] { return filings->RecordTogether(one); }));
        }
      });
    }
  }
  for (std::thread& t : threads) t.join();
}

// Every event sent landed once: no rejection, each distinct event applied
// exactly once, every other copy acknowledged as unchanged.
void ExpectNoRefusal(const Tally& tally, int64_t sent, const Histories& h) {
  EXPECT_EQ(tally.sent, sent);
  EXPECT_EQ(tally.rejected, 0) << absl::StrJoin(tally.rejections, "\n");
  EXPECT_EQ(tally.applied, static_cast<int64_t>(h.events.size()));
  EXPECT_EQ(tally.unchanged, sent - static_cast<int64_t>(h.events.size()));
}

// ---- The reference: one batch in time order ----

struct Reference {
  Histories histories;
  Snapshot snapshot;
};

const Reference& TheReference() {
  static const Reference* reference = [] {
    auto* r = new Reference{testing::MakeHistories(Generated(), kDossiers, /*rule_breakers=*/true), {}};
    testing::TempDir dir;
    std::string url;
    std::unique_ptr<Store> store = FreshStore(dir, "reference.db", r->histories, &url);
    if (store == nullptr) return r;
    Filings filings(*store, Calendar());
    std::vector<FilingEvent> sorted = r->histories.events;
    std::sort(sorted.begin(), sorted.end(), ReplayOrderLess);
    Tally tally;
    tally.Add(sorted, filings.Record(sorted));
    ExpectNoRefusal(tally, static_cast<int64_t>(sorted.size()), r->histories);
    r->snapshot = Take(*store, url, r->histories);
    store->Close();
    return r;
  }();
  return *reference;
}

// The histories are what the test needs them to be: every event kind, and
// rule-breakers that the reference's replay really sets aside, by the rule
// docs/lifecycle.md names for them.
TEST(OrderIndependenceTest, TheHistoriesHaveEveryKindAndTheReferenceSetsAsideByEveryRule) {
  const Reference& ref = TheReference();
  const Histories& h = ref.histories;
  for (int k = 1; k <= kMaxEventKind; ++k) {
    EXPECT_TRUE(h.generated_kinds.contains(static_cast<EventKind>(k)))
        << "no generated " << EventKindName(static_cast<EventKind>(k)) << " event";
  }
  EXPECT_GE(h.events_per_dossier.size(), static_cast<size_t>(kDossiers));
  EXPECT_LE(h.events_per_dossier.size(), static_cast<size_t>(kDossiers + 2));
  EXPECT_GT(h.added, 40);
  std::set<std::string> expected_rules;
  for (const auto& [id, rule] : h.must_set_aside) {
    expected_rules.insert(rule);
    const std::string code = id.substr(0, id.find('/'));
    auto it = ref.snapshot.set_aside.find(code);
    EXPECT_TRUE(it != ref.snapshot.set_aside.end() && it->second.contains({id, rule}))
        << id << " should be set aside by " << rule << "\n"
        << (ref.snapshot.dossiers.contains(code) ? ref.snapshot.dossiers.at(code) : "");
  }
  // One breaker of each kind (docs/lifecycle.md's table, but one_agency,
  // which a well-formed event cannot break, and single_registration,
  // single_return: a second receipt or a second re-appointment stands for
  // them), three dossiers each.
  EXPECT_EQ(expected_rules, (std::set<std::string>{"after_opening", "after_receipt", "nothing_after_end",
                                                   "one_procedure", "reappointment_later", "received_or_not_accepted",
                                                   "registered_before_receipt", "returned_after_resolved",
                                                   "single_end", "single_receipt", "single_reappointment"}));
  EXPECT_GE(h.must_set_aside.size(), 3 * expected_rules.size());
  EXPECT_FALSE(h.must_count.empty());
  for (const std::string& id : h.must_count) {
    const std::string code = id.substr(0, id.find('/'));
    auto it = ref.snapshot.set_aside.find(code);
    if (it == ref.snapshot.set_aside.end()) continue;
    for (const auto& [aside, rule] : it->second) EXPECT_NE(aside, id) << "set aside by " << rule;
  }
  // Dossiers with set-aside events, and the figures see them.
  int dossiers_with = 0;
  for (const auto& [code, events] : ref.snapshot.set_aside) dossiers_with += !events.empty();
  EXPECT_GE(dossiers_with, static_cast<int>(h.must_set_aside.size()));
  int set_aside_rows = 0;
  for (const std::string& row : ref.snapshot.aggregate_rows) {
    set_aside_rows += row.find("set_aside=0 ") == std::string::npos;
  }
  EXPECT_GT(set_aside_rows, 0);
}

// Three deliveries, each on a fresh database: shuffled, random batch
// sizes, resent copies, batches + unary calls from three threads + chunked
// streams at once. Each ends as the reference.
TEST(OrderIndependenceTest, AnyOrderBatchesCopiesAndWaysInGiveTheReference) {
  const Reference& ref = TheReference();
  for (uint64_t seed : {101, 202, 303}) {
    SCOPED_TRACE(absl::StrCat("delivery seed ", seed));
    testing::TempDir dir;
    std::string url;
    std::unique_ptr<Store> store = FreshStore(dir, absl::StrCat("trial", seed, ".db"), ref.histories, &url);
    ASSERT_NE(store, nullptr);
    Filings filings(*store, Calendar());
    int64_t sent = 0;
    const std::vector<Piece> pieces = Plan(ref.histories, seed, 1, &sent);
    int ways[3] = {0, 0, 0};
    for (const Piece& p : pieces) ++ways[static_cast<int>(p.way)];
    EXPECT_TRUE(ways[0] > 0 && ways[1] > 0 && ways[2] > 0) << "each way carries some pieces";
    EXPECT_GT(sent, static_cast<int64_t>(ref.histories.events.size()));  // some copies
    Tally tally;
    Deliver(pieces, {&filings}, 3, tally);
    ExpectNoRefusal(tally, sent, ref.histories);
    ExpectSame(ref.snapshot, Take(*store, url, ref.histories));
    store->Close();
  }
}

// Two stores on one database (on PostgreSQL, two replicas; on SQLite, two
// processes' worth of connections on one file), each sent an interleaved
// half of the delivery at the same time: the same dossiers are written
// through both at once. The result is the reference.
TEST(OrderIndependenceTest, TwoReplicasWritingAtOnceGiveTheReference) {
  const Reference& ref = TheReference();
  testing::TempDir dir;
  std::string url;
  std::unique_ptr<Store> a = FreshStore(dir, "replicas.db", ref.histories, &url);
  ASSERT_NE(a, nullptr);
  auto b = OpenStore(url);
  ASSERT_TRUE(b.ok()) << b.status();
  Filings first(*a, Calendar()), second(**b, Calendar());
  int64_t sent = 0;
  const std::vector<Piece> pieces = Plan(ref.histories, 404, 2, &sent);
  // The halves share dossiers.
  std::set<std::string> dossiers[2];
  for (const Piece& p : pieces) {
    for (const FilingEvent& e : p.events) dossiers[p.replica].insert(e.dossier_code);
  }
  std::vector<std::string> shared;
  std::set_intersection(dossiers[0].begin(), dossiers[0].end(), dossiers[1].begin(), dossiers[1].end(),
                        std::back_inserter(shared));
  EXPECT_GT(shared.size(), static_cast<size_t>(kDossiers / 2));
  Tally tally;
  Deliver(pieces, {&first, &second}, 2, tally);
  ExpectNoRefusal(tally, sent, ref.histories);
  ExpectSame(ref.snapshot, Take(**b, url, ref.histories));
  (*b)->Close();
  a->Close();
}

// The generator's 2,000-dossier set, shuffled and sent in batches of 50
// (before set semantics, some 140 of its events were refused): no
// refusal, and the same dossiers, rows and aggregates as the load in time
// order.
TEST(OrderIndependenceTest, TheShuffledGeneratorSetInBatchesOf50IsRecordedWhole) {
  const Histories h = testing::MakeHistories(Generated(), 2000, /*rule_breakers=*/false);
  testing::TempDir dir;
  Snapshot want;
  {
    std::string url;
    std::unique_ptr<Store> store = FreshStore(dir, "in-order.db", h, &url);
    ASSERT_NE(store, nullptr);
    Filings filings(*store, Calendar());
    Tally tally;
    tally.Add(h.events, filings.Record(h.events));  // in replay order
    ExpectNoRefusal(tally, static_cast<int64_t>(h.events.size()), h);
    want = Take(*store, url, h, /*with_get=*/false);
    store->Close();
  }
  std::vector<FilingEvent> shuffled = h.events;
  std::mt19937_64 rng(2000);
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  // The shuffle sends many events before the event that opens their
  // dossier (its registration or receipt): what used to be refused.
  std::map<std::string, size_t> opened_in;  // dossier -> batch of its first opening event
  for (size_t i = 0; i < shuffled.size(); ++i) {
    const FilingEvent& e = shuffled[i];
    if (e.kind == EventKind::kReceived || e.kind == EventKind::kRegisteredOnline || e.kind == EventKind::kNotAccepted) {
      opened_in.emplace(e.dossier_code, i / 50);
    }
  }
  int before_opening = 0;
  for (size_t i = 0; i < shuffled.size(); ++i) {
    auto it = opened_in.find(shuffled[i].dossier_code);
    before_opening += it == opened_in.end() || it->second > i / 50;
  }
  EXPECT_GT(before_opening, 1000);

  std::string url;
  std::unique_ptr<Store> store = FreshStore(dir, "shuffled.db", h, &url);
  ASSERT_NE(store, nullptr);
  Filings filings(*store, Calendar());
  Tally tally;
  for (size_t from = 0; from < shuffled.size(); from += 50) {
    const std::vector<FilingEvent> batch(
        shuffled.begin() + static_cast<std::ptrdiff_t>(from),
        shuffled.begin() + static_cast<std::ptrdiff_t>(std::min(shuffled.size(), from + 50)));
    tally.Add(batch, filings.Record(batch));
  }
  ExpectNoRefusal(tally, static_cast<int64_t>(shuffled.size()), h);
  ExpectSame(want, Take(*store, url, h, /*with_get=*/false));
  store->Close();
}

}  // namespace
}  // namespace pstrack
