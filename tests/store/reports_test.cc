// Periodic reports over a real database (SQLite, or PostgreSQL with
// PSTRACK_TEST_BACKEND=postgresql): agencies that only report, agencies
// that only send events and agencies that do both, in one tree. Every
// indicator is compared with a recomputation written here from the replayed
// dossiers and the report figures; corrections, the selection rule,
// reconciliation of planted gaps, silent streams over working days and the
// data-quality view are checked against what the test itself planted.
#include "services/reports/reports.h"

#include <limits>
#include <random>

#include "absl/strings/str_format.h"
#include <sqlite3.h>

#include "services/common/checked_math.h"
#include "gtest/gtest.h"
#include "services/agencies/agency_registry.h"
#include "services/catalog/catalog.h"
#include "services/common/status.h"
#include "services/filings/filings.h"
#include "services/metrics/aggregate_maintenance.h"
#include "tests/test_database.h"
#include "storage/store.h"

namespace pstrack {
namespace {

using testing::MakeAgency;
using testing::TempDir;
using K = EventKind;
using F = Figure;

absl::Time Local(Date d, int hh, int mm = 0) {
  return absl::FromCivil(absl::CivilSecond(d.year(), d.month(), d.day(), hh, mm, 0), VietnamTimeZone());
}
Date LocalDay(absl::Time t) { return Date(absl::ToCivilDay(t, VietnamTimeZone())); }

PeriodicReport MakeReport(std::string id, std::string agency, std::string period, int64_t received, int64_t finished,
                          std::map<F, int64_t> parts = {}) {
  PeriodicReport r;
  r.report_id = std::move(id);
  r.agency_code = std::move(agency);
  r.period_label = std::move(period);
  r.figures[static_cast<int>(F::kReceived)] = received;
  r.figures[static_cast<int>(F::kFinished)] = finished;
  for (auto [f, v] : parts) r.figures[static_cast<int>(f)] = v;
  r.source = "test";
  return r;
}

// Figures of a month consistent with themselves, from a seed.
PeriodicReport RandomReport(std::mt19937& rng, std::string id, std::string agency, std::string period) {
  const int64_t received = 20 + rng() % 80;
  const int64_t online = rng() % (received + 1), postal = rng() % (received - online + 1);
  const int64_t finished = 10 + rng() % 80;
  const int64_t late = rng() % (finished + 1), early = rng() % (finished - late + 1);
  const int64_t fee = rng() % (received + 1);
  const int64_t open = rng() % 30;
  return MakeReport(std::move(id), std::move(agency), std::move(period), received, finished,
                    {{F::kReceivedOnline, online},
                     {F::kReceivedPostal, postal},
                     {F::kReceivedInPerson, received - online - postal},
                     {F::kFinishedLate, late},
                     {F::kFinishedEarly, early},
                     {F::kFinishedOnTime, finished - late - early},
                     {F::kFeeDossiers, fee},
                     {F::kPaidOnline, rng() % (fee + 1)},
                     {F::kDigitised, rng() % (received + 1)},
                     {F::kOpenAtEnd, open},
                     {F::kOpenOverdueAtEnd, rng() % (open + 1)}});
}

class ReportsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    calendar_ = testing::PublishedCalendar();
    auto store = OpenStore(testing::TestDatabaseUrl(dir_, "r.db"));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    filings_ = std::make_unique<Filings>(*store_, calendar_);
    metrics_ = std::make_unique<Metrics>(*store_, calendar_, nullptr);
    reports_ = std::make_unique<Reports>(*store_, *metrics_, calendar_);
    AgencyRegistry registry(*store_);
    for (const Agency& a : {MakeAgency("VN", AgencyLevel::kNation, ""), MakeAgency("P1", AgencyLevel::kProvince, "VN"),
                            MakeAgency("P1.C1", AgencyLevel::kCommune, "P1"),
                            MakeAgency("P1.C2", AgencyLevel::kCommune, "P1"),
                            MakeAgency("P1.C3", AgencyLevel::kCommune, "P1"),
                            MakeAgency("P2", AgencyLevel::kProvince, "VN"),
                            MakeAgency("P2.C1", AgencyLevel::kCommune, "P2"),
                            MakeAgency("P2.C2", AgencyLevel::kCommune, "P2")}) {
      auto created = registry.Create(a);
      ASSERT_TRUE(created.ok()) << created.status();
    }
    Catalog catalog(*store_);
    Procedure a = testing::MakeProcedure("1.000001");
    a.resolution_amount = 3;
    Procedure b = testing::MakeProcedure("1.000002");
    b.field = "Chứng thực";
    b.online_mode = OnlineMode::kPartial;
    b.full_online_eligible = false;
    b.fee_bearing = true;
    b.online_payment_integrated = true;
    for (const Procedure& p : {a, b}) {
      auto r = catalog.Upsert(p);
      ASSERT_TRUE(r.ok()) << r.status();
      procedures_.push_back(r->procedure);
    }
  }

  // Dossiers at `agency`, received in the first half of 2025: random
  // channel, payment, digitisation, resolution time (some late, some still
  // open), and a declared appointment date on some (wrong on some of those).
  void FileDossiers(const std::string& agency, int count, uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<FilingEvent> events;
    for (int i = 0; i < count; ++i) {
      const Procedure& p = procedures_[rng() % 2];
      const Date day = Date(2025, 1, 2) + static_cast<int>(rng() % 178);
      const std::string code = absl::StrFormat("%s-%02d%02d%02d-%04d", agency, day.year() % 100, day.month(),
                                               day.day(), i);
      absl::Time t = Local(day, 8 + rng() % 8, rng() % 60);
      std::vector<FilingEvent> h;
      auto add = [&](K kind, std::function<void(FilingEvent&)> fill = nullptr) {
        FilingEvent e;
        e.event_id = absl::StrCat(code, "#", h.size());
        e.dossier_code = code;
        e.agency_code = agency;
        e.occurred_at = t;
        e.kind = kind;
        if (fill) fill(e);
        h.push_back(e);
      };
      add(K::kReceived, [&](FilingEvent& e) {
        e.procedure_code = p.code;
        e.channel = static_cast<Channel>(1 + rng() % 3);
      });
      // The computed appointment, to declare it right or wrong.
      auto first = Replay(h, *calendar_, &p);
      ASSERT_TRUE(first.ok()) << first.status();
      if (rng() % 3 == 0) h.front().declared_appointment = first->appointment->appointment_date + (rng() % 2 ? 0 : 2);
      if (p.fee_bearing) {
        t += absl::Minutes(20);
        add(K::kPayment, [&](FilingEvent& e) {
          e.amount_vnd = 20000;
          e.paid_online = rng() % 2;
        });
      }
      if (rng() % 3 == 0) {
        add(K::kDigitised, [&](FilingEvent& e) {
          e.digitised_documents = true;
          e.digitised_result = true;
        });
      }
      if (rng() % 6 != 0) {
        t += absl::Hours(2 + rng() % 200);
        add(K::kResolved);
      }
      auto state = Replay(h, *calendar_, &p);
      ASSERT_TRUE(state.ok()) << state.status();
      states_.push_back(*state);
      events.insert(events.end(), h.begin(), h.end());
    }
    for (const ItemOutcome& o : filings_->Record(events).outcomes) {
      ASSERT_EQ(o.outcome, WriteOutcome::kApplied) << o.key << ": " << o.status;
    }
  }

  void Submit(std::vector<PeriodicReport> reports) {
    for (const ItemOutcome& o : reports_->Submit(reports, "test")) {
      ASSERT_EQ(o.outcome, WriteOutcome::kApplied) << o.key << ": " << o.status;
    }
    for (auto& r : reports) {
      ASSERT_TRUE(ValidateReport(r, "").ok());
      reported_[r.report_id] = r;
    }
  }

  // The events' share of an indicator for dossiers filed at `agencies`:
  // numerator and denominator, from the replayed states.
  struct Share {
    double n = 0, d = 0;
  };
  std::map<std::string, Share> EventShares(const std::set<std::string>& agencies, Period period, absl::Time at) {
    auto in = [&](absl::Time t) { return LocalDay(t) >= period.start && LocalDay(t) < period.end; };
    std::map<std::string, Share> s;
    for (const DossierState& st : states_) {
      if (!agencies.contains(st.agency_code)) continue;
      const Procedure* p = st.procedure_code == procedures_[0].code ? &procedures_[0] : &procedures_[1];
      if (in(*st.received_time)) {
        s["received"].n += 1;
        s["online_submission_rate"].n += st.channel == Channel::kOnline;
        s["online_submission_rate"].d += 1;
        s["digitisation_rate"].n += st.digitised_documents && st.digitised_result;
        s["digitisation_rate"].d += 1;
        if (p->fee_bearing && st.paid_amount_vnd > 0) {
          s["online_payment_rate"].d += 1;
          s["online_payment_rate"].n += st.paid_online;
        }
        s["full_online_dossier_rate"].d += p->full_online_eligible;
        s["full_online_dossier_rate"].n += p->online_mode == OnlineMode::kFull && st.channel == Channel::kOnline;
      }
      if (st.finished() && in(*st.finish_time)) {
        s["finished"].n += 1;
        for (const char* id : {"on_time_rate", "late_rate", "early_rate"}) s[id].d += 1;
        s["on_time_rate"].n += st.timeliness != Timeliness::kLate;
        s["late_rate"].n += st.timeliness == Timeliness::kLate;
        s["early_rate"].n += st.timeliness == Timeliness::kEarly;
      }
      if (*st.received_time <= at && !(st.finished() && *st.finish_time <= at)) {
        s["overdue_open"].d += 1;
        s["overdue_open"].n += TimelinessAt(st, at, false) == Timeliness::kOverdue;
      }
    }
    return s;
  }

  // A report's share, written from the definitions (not from ShareOf).
  static std::optional<Share> ReportShare(const std::string& id, const PeriodicReport& r, bool at_end) {
    auto v = [&](F f) { return static_cast<double>(r.value(f)); };
    if (id == "received") return Share{v(F::kReceived), 0};
    if (id == "finished") return Share{v(F::kFinished), 0};
    if (id == "online_submission_rate" && r.has(F::kReceivedOnline)) return Share{v(F::kReceivedOnline), v(F::kReceived)};
    if (id == "digitisation_rate" && r.has(F::kDigitised)) return Share{v(F::kDigitised), v(F::kReceived)};
    if (id == "online_payment_rate" && r.has(F::kPaidOnline)) return Share{v(F::kPaidOnline), v(F::kFeeDossiers)};
    if (id == "on_time_rate" && r.has(F::kFinishedLate)) return Share{v(F::kFinished) - v(F::kFinishedLate), v(F::kFinished)};
    if (id == "late_rate" && r.has(F::kFinishedLate)) return Share{v(F::kFinishedLate), v(F::kFinished)};
    if (id == "early_rate" && r.has(F::kFinishedEarly)) return Share{v(F::kFinishedEarly), v(F::kFinished)};
    if (id == "overdue_open" && at_end && r.has(F::kOpenOverdueAtEnd)) {
      return Share{v(F::kOpenOverdueAtEnd), v(F::kOpenAtEnd)};
    }
    return std::nullopt;
  }

  IndicatorSetResult Get(const std::string& scope, Period period, std::vector<std::string> ids = {}) {
    auto r = metrics_->Indicators(ScopeRequest{scope}, period, ids, std::nullopt);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : IndicatorSetResult{};
  }

  static const IndicatorValue& Value(const IndicatorSetResult& r, const std::string& id) {
    for (const auto& v : r.values) {
      if (v.id == id) return v;
    }
    static IndicatorValue none;
    ADD_FAILURE() << id;
    return none;
  }

  // Checks every indicator reports can give: events of `event_agencies` plus
  // the reports named, nothing else.
  void ExpectCombined(const std::string& scope, Period period, const std::set<std::string>& event_agencies,
                      const std::vector<std::string>& counted_reports) {
    const absl::Time at = absl::FromCivil(absl::CivilSecond(period.end), VietnamTimeZone());
    IndicatorSetResult got = Get(scope, period);
    std::map<std::string, Share> expected = EventShares(event_agencies, period, at);
    std::map<std::string, bool> from_events, from_reports;
    for (auto& [id, s] : expected) from_events[id] = s.n != 0 || s.d != 0;
    for (const char* id : {"received", "finished", "online_submission_rate", "digitisation_rate",
                           "online_payment_rate", "on_time_rate", "late_rate", "early_rate", "overdue_open"}) {
      for (const std::string& rid : counted_reports) {
        const PeriodicReport& r = reported_.at(rid);
        if (auto s = ReportShare(id, r, r.end == period.end)) {
          expected[id].n += s->n;
          expected[id].d += s->d;
          from_reports[id] = true;
        }
      }
      SCOPED_TRACE(id);
      const IndicatorValue& v = Value(got, id);
      EXPECT_DOUBLE_EQ(v.numerator, expected[id].n);
      EXPECT_DOUBLE_EQ(v.denominator, expected[id].d);
      const bool count = std::string(id) == "received" || std::string(id) == "finished" ||
                         std::string(id) == "overdue_open";
      if (count) {
        EXPECT_EQ(v.value, expected[id].n);
      } else if (expected[id].d > 0) {
        EXPECT_TRUE(v.available);
        EXPECT_NEAR(v.value, expected[id].n / expected[id].d, 1e-12);
      }
      std::vector<std::string> sources;
      if (from_events[id]) sources.push_back("events");
      if (from_reports[id]) sources.push_back("reports");
      if (!sources.empty()) {
        EXPECT_EQ(v.sources, sources);
      }
    }
    // The parts say which reports were counted.
    std::set<std::string> counted;
    for (const ReportUse& u : got.parts) {
      if (u.role == ReportRole::kCounted) counted.insert(u.report.report_id);
    }
    EXPECT_EQ(counted, std::set<std::string>(counted_reports.begin(), counted_reports.end()));
  }

  TempDir dir_;
  std::shared_ptr<const WorkingCalendar> calendar_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Filings> filings_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<Reports> reports_;
  std::vector<Procedure> procedures_;
  std::vector<DossierState> states_;
  std::map<std::string, PeriodicReport> reported_;
};

const Period kH1{Date(2025, 1, 1), Date(2025, 7, 1)};

TEST_F(ReportsTest, ReportsAloneGiveTheIndicatorsTheyCarry) {
  std::mt19937 rng(1);
  std::vector<PeriodicReport> reports;
  for (int m = 1; m <= 6; ++m) {
    reports.push_back(RandomReport(rng, absl::StrCat("P2.C1-2025-0", m), "P2.C1", absl::StrCat("2025-0", m)));
  }
  // One report leaves the digitised figure out.
  reports[2].figures[static_cast<int>(F::kDigitised)].reset();
  Submit(reports);
  std::vector<std::string> ids;
  for (const auto& r : reports) ids.push_back(r.report_id);
  ExpectCombined("P2.C1", kH1, {}, ids);
  ExpectCombined("P2", kH1, {}, ids);
  ExpectCombined("VN", Period{Date(2025, 6, 1), Date(2025, 7, 1)}, {}, {"P2.C1-2025-06"});

  IndicatorSetResult r = Get("P2", kH1);
  EXPECT_EQ(Value(r, "received").sources, std::vector<std::string>{"reports"});
  EXPECT_NE(Value(r, "digitisation_rate").note.find("1 of 6 counted reports lack"), std::string::npos)
      << Value(r, "digitisation_rate").note;
  // What reports do not carry stays unavailable, and says why.
  EXPECT_FALSE(Value(r, "average_processing_days").available);
  EXPECT_NE(Value(r, "average_processing_days").note.find("events only"), std::string::npos);
  // Open dossiers at the end of the half-year come from June's report only.
  EXPECT_DOUBLE_EQ(Value(r, "overdue_open").denominator, static_cast<double>(reports[5].value(F::kOpenAtEnd)));
}

TEST_F(ReportsTest, EventsAloneAreUnchangedByTheReportsOfOthers) {
  FileDossiers("P1.C1", 120, 7);
  ExpectCombined("P1.C1", kH1, {"P1.C1"}, {});
  std::mt19937 rng(2);
  Submit({RandomReport(rng, "P2.C1-Q1", "P2.C1", "2025-Q1")});
  ExpectCombined("P1", kH1, {"P1.C1"}, {});
  IndicatorSetResult r = Get("P1.C1", kH1);
  EXPECT_TRUE(r.parts.empty());
  EXPECT_EQ(Value(r, "received").sources, std::vector<std::string>{"events"});
  EXPECT_FALSE(Value(r, "sync_completeness").available);
}

TEST_F(ReportsTest, MixedScopesAddEachDossierOnce) {
  FileDossiers("P1.C1", 100, 11);
  FileDossiers("P1.C3", 100, 12);
  std::mt19937 rng(3);
  // P1.C2 reports monthly and quarterly: the quarter counts when the query
  // holds it whole, the months otherwise. A field report inside an
  // agency-wide one is covered. P1.C3 sends events: its reports never count.
  std::vector<PeriodicReport> reports;
  for (int m = 1; m <= 6; ++m) {
    reports.push_back(RandomReport(rng, absl::StrCat("P1.C2-0", m), "P1.C2", absl::StrCat("2025-0", m)));
    reports.push_back(RandomReport(rng, absl::StrCat("P1.C3-0", m), "P1.C3", absl::StrCat("2025-0", m)));
  }
  reports.push_back(RandomReport(rng, "P1.C2-Q1", "P1.C2", "2025-Q1"));
  PeriodicReport field = RandomReport(rng, "P1.C2-04-civil", "P1.C2", "2025-04");
  field.field = "Hộ tịch";
  reports.push_back(field);
  PeriodicReport p2 = RandomReport(rng, "P2.C1-H", "P2.C1", "2025");
  reports.push_back(p2);
  Submit(reports);

  ExpectCombined("P1", kH1, {"P1.C1", "P1.C3"},
                 {"P1.C2-Q1", "P1.C2-04", "P1.C2-05", "P1.C2-06"});
  ExpectCombined("P1", Period{Date(2025, 1, 1), Date(2025, 2, 1)}, {"P1.C1", "P1.C3"}, {"P1.C2-01"});
  ExpectCombined("VN", Period{Date(2025, 1, 1), Date(2026, 1, 1)}, {"P1.C1", "P1.C3"},
                 {"P1.C2-Q1", "P1.C2-04", "P1.C2-05", "P1.C2-06", "P2.C1-H"});

  std::map<std::string, ReportRole> roles;
  for (const ReportUse& u : Get("P1", kH1).parts) roles[u.report.report_id] = u.role;
  EXPECT_EQ(roles["P1.C2-01"], ReportRole::kCovered);
  EXPECT_EQ(roles["P1.C2-04-civil"], ReportRole::kCovered);
  EXPECT_EQ(roles["P1.C3-02"], ReportRole::kEventsWin);
  EXPECT_EQ(roles.count("P2.C1-H"), 0u);
  roles.clear();
  for (const ReportUse& u : Get("P1", Period{Date(2025, 1, 1), Date(2025, 2, 1)}).parts) {
    roles[u.report.report_id] = u.role;
  }
  EXPECT_EQ(roles["P1.C2-Q1"], ReportRole::kNotContained);
  EXPECT_EQ(roles["P1.C2-01"], ReportRole::kCounted);

  // Rankings and breakdowns by child agency see the reports too.
  auto rank = metrics_->Rank(ScopeRequest{"VN"}, AgencyLevel::kUnspecified, kH1, "received", "", std::nullopt);
  ASSERT_TRUE(rank.ok()) << rank.status();
  for (const RankEntry& e : *rank) {
    if (e.agency_code == "P2") {
      EXPECT_EQ(e.value.value, 0);  // its yearly report is not inside H1
    }
    if (e.agency_code == "P1") {
      double expected = EventShares({"P1.C1", "P1.C3"}, kH1, absl::Now())["received"].n;
      for (const char* id : {"P1.C2-Q1", "P1.C2-04", "P1.C2-05", "P1.C2-06"}) {
        expected += reported_.at(id).value(F::kReceived);
      }
      EXPECT_EQ(e.value.value, expected);
    }
  }
}

TEST_F(ReportsTest, CorrectionsSupersedeAndBadReportsNameTheField) {
  Submit({MakeReport("r1", "P2.C1", "2025-03", 10, 8, {{F::kFinishedLate, 2}})});
  // The same content again: acknowledged, nothing new.
  auto again = reports_->Submit({MakeReport("r1", "P2.C1", "2025-03", 10, 8, {{F::kFinishedLate, 2}})}, "test");
  EXPECT_EQ(again[0].outcome, WriteOutcome::kUnchanged);
  // A correction: revision 2 supersedes, both kept.
  auto corrected = reports_->Submit({MakeReport("r1", "P2.C1", "2025-03", 12, 8, {{F::kFinishedLate, 4}})}, "test");
  ASSERT_EQ(corrected[0].outcome, WriteOutcome::kApplied) << corrected[0].status;
  auto history = reports_->Get("r1");
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].revision, 2);
  EXPECT_TRUE((*history)[0].current);
  EXPECT_EQ((*history)[0].value(F::kReceived), 12);
  EXPECT_EQ((*history)[1].revision, 1);
  EXPECT_FALSE((*history)[1].current);
  EXPECT_EQ((*history)[1].value(F::kReceived), 10);
  const Period march{Date(2025, 3, 1), Date(2025, 4, 1)};
  IndicatorSetResult r = Get("P2", march);
  EXPECT_EQ(Value(r, "received").value, 12);
  EXPECT_DOUBLE_EQ(Value(r, "late_rate").value, 4.0 / 8.0);
  auto page = reports_->List("P2", march, 0, "");
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->reports.size(), 1u);
  EXPECT_EQ(page->reports[0].revision, 2);

  // A batch: good items land, each bad one says which field and why.
  std::vector<PeriodicReport> batch = {
      MakeReport("ok", "P2.C2", "2025-03", 5, 5),
      MakeReport("neg", "P2.C2", "2025-04", 5, 5, {{F::kReceivedOnline, -1}}),
      MakeReport("part", "P2.C2", "2025-05", 5, 5, {{F::kFinishedLate, 6}}),
      MakeReport("sum", "P2.C2", "2025-06", 5, 5,
                 {{F::kReceivedOnline, 1}, {F::kReceivedInPerson, 1}, {F::kReceivedPostal, 1}}),
      MakeReport("agency", "P9", "2025-03", 5, 5),
      MakeReport("label", "P2.C2", "2025-13", 5, 5),
      MakeReport("day", "P2.C2", "2025-03-01", 5, 5),
      MakeReport("other", "P2.C1", "2025-03", 1, 1),  // r1 covers that slot
      MakeReport("r1", "P2.C2", "2025-03", 12, 8),    // a correction cannot move
      MakeReport("proc", "P2.C2", "2025-07", 5, 5),
      MakeReport("fieldless", "P2.C2", "2025-08", 5, 5),
      MakeReport("overdue", "P2.C2", "2025-09", 5, 5, {{F::kOpenOverdueAtEnd, 1}}),
  };
  batch[9].procedure_code = "9.999999";
  batch[10].field = "Không có";
  auto out = reports_->Submit(batch, "test");
  auto expect = [&](size_t i, absl::StatusCode code, const std::string& field) {
    SCOPED_TRACE(batch[i].report_id);
    EXPECT_EQ(out[i].outcome, WriteOutcome::kRejected);
    EXPECT_EQ(out[i].status.code(), code) << out[i].status;
    EXPECT_NE(out[i].status.message().find(absl::StrCat("reports[", i, "].", field)), std::string::npos)
        << out[i].status;
  };
  EXPECT_EQ(out[0].outcome, WriteOutcome::kApplied) << out[0].status;
  expect(1, absl::StatusCode::kInvalidArgument, "received_online");
  expect(2, absl::StatusCode::kInvalidArgument, "finished_late");
  expect(3, absl::StatusCode::kInvalidArgument, "received");
  expect(4, absl::StatusCode::kNotFound, "agency_code");
  expect(5, absl::StatusCode::kInvalidArgument, "period");
  expect(6, absl::StatusCode::kInvalidArgument, "period");
  expect(7, absl::StatusCode::kFailedPrecondition, "period");
  expect(8, absl::StatusCode::kFailedPrecondition, "report_id");
  expect(9, absl::StatusCode::kNotFound, "procedure_code");
  expect(10, absl::StatusCode::kNotFound, "field");
  expect(11, absl::StatusCode::kInvalidArgument, "open_at_end");
  // Nothing of the bad ones landed; r1 is as corrected.
  auto all = reports_->List("", std::nullopt, 100, "");
  ASSERT_TRUE(all.ok());
  std::set<std::string> ids;
  for (const auto& rep : all->reports) ids.insert(rep.report_id);
  EXPECT_EQ(ids, (std::set<std::string>{"ok", "r1"}));
  EXPECT_EQ(reports_->Get("r1")->front().agency_code, "P2.C1");
  EXPECT_EQ(reports_->Get("nope").status().code(), absl::StatusCode::kNotFound);
}

// Reported figures are bounded (kMaxReportedCount each): at the bound they
// add up exactly across agencies and levels, and every ratio stays a ratio;
// above it (as far as 2^63 - 1, which once made P22's sync completeness
// 8/6) the report is refused by the field's name and nothing of it lands.
TEST_F(ReportsTest, FiguresAtTheBoundAddUpExactlyAndAboveItAreRefused) {
  const int64_t max = kMaxReportedCount;
  const int64_t huge = std::numeric_limits<int64_t>::max();
  auto out = reports_->Submit(
      {MakeReport("c1", "P2.C1", "2025-03", max, max, {{F::kReceivedOnline, max},
                                                 {F::kReceivedInPerson, 0},
                                                 {F::kReceivedPostal, 0},
                                                 {F::kFinishedEarly, 0},
                                                 {F::kFinishedOnTime, max},
                                                 {F::kFinishedLate, 0}}),
       MakeReport("c2", "P2.C2", "2025-03", max, max, {{F::kReceivedOnline, max},
                                                 {F::kReceivedInPerson, 0},
                                                 {F::kReceivedPostal, 0},
                                                 {F::kFinishedEarly, 0},
                                                 {F::kFinishedOnTime, max},
                                                 {F::kFinishedLate, 0}}),
       MakeReport("p1a", "P1.C1", "2025-03", huge, 1), MakeReport("p1b", "P1.C2", "2025-03", huge, 1),
       MakeReport("online", "P1.C3", "2025-03", max, 1, {{F::kReceivedOnline, max + 1}})},
      "test");
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(out[0].outcome, WriteOutcome::kApplied) << out[0].status;
  EXPECT_EQ(out[1].outcome, WriteOutcome::kApplied) << out[1].status;
  for (size_t i : {2u, 3u, 4u}) {
    EXPECT_EQ(out[i].outcome, WriteOutcome::kRejected);
    EXPECT_EQ(out[i].status.code(), absl::StatusCode::kInvalidArgument) << out[i].status;
    EXPECT_NE(out[i].status.message().find(i == 4 ? "reports[4].received_online" : absl::StrCat("reports[", i,
                                                                                                   "].received")),
              std::string::npos)
        << out[i].status;
    EXPECT_NE(out[i].status.message().find("at most 1000000000"), std::string::npos) << out[i].status;
  }
  const Period march{Date(2025, 3, 1), Date(2025, 4, 1)};
  for (const std::string scope : {"P2", "VN"}) {
    SCOPED_TRACE(scope);
    IndicatorSetResult r = Get(scope, march);
    EXPECT_EQ(Value(r, "received").value, 2.0 * max);
    EXPECT_DOUBLE_EQ(Value(r, "online_submission_rate").numerator, 2.0 * max);
    EXPECT_DOUBLE_EQ(Value(r, "online_submission_rate").value, 1.0);
    EXPECT_DOUBLE_EQ(Value(r, "on_time_rate").value, 1.0);
    // Nothing synced from events: every reported dossier is missing.
    const IndicatorValue& sync = Value(r, "sync_completeness");
    ASSERT_TRUE(sync.available) << sync.unavailable_reason;
    EXPECT_EQ(sync.numerator, 0);
    EXPECT_EQ(sync.denominator, 2.0 * max);
    for (const IndicatorValue& v : r.values) {
      if (v.available && FindIndicator(v.id)->unit == "ratio") {
        EXPECT_GE(v.value, 0) << v.id;
        EXPECT_LE(v.value, 1) << v.id;
      }
    }
  }
  auto p1 = reports_->List("P1", march, 0, "");
  ASSERT_TRUE(p1.ok()) << p1.status();
  EXPECT_TRUE(p1->reports.empty());
}

TEST(CheckedMathTest, SumsHoldAtTheLimitsInsteadOfWrapping) {
  const int64_t max = std::numeric_limits<int64_t>::max(), min = std::numeric_limits<int64_t>::min();
  int64_t out = 7;
  EXPECT_FALSE(CheckedAdd(max, 1, &out));
  EXPECT_EQ(out, 7);
  EXPECT_TRUE(CheckedAdd(max - 1, 1, &out));
  EXPECT_EQ(out, max);
  EXPECT_FALSE(CheckedAdd(min, -1, &out));
  EXPECT_EQ(SaturatingAdd(max, 5), max);
  EXPECT_EQ(SaturatingAdd(min, -5), min);
  EXPECT_EQ(SaturatingAdd(max - 5, 5), max);
  Counts a{}, b{};
  a[0] = max - 2;
  b[0] = 3;
  a[1] = 40;
  b[1] = 2;
  AddCounts(a, b);
  EXPECT_EQ(a[0], max);
  EXPECT_EQ(a[1], 42);
}

TEST_F(ReportsTest, ReconciliationFindsPlantedGapsExactly) {
  FileDossiers("P1.C3", 150, 21);
  // Reports built from the events themselves, per month; then gaps planted:
  // February reports 5 more received (2 online, 3 in person) and 1 more
  // late; March reports 2 fewer received by post.
  std::vector<PeriodicReport> reports;
  std::map<int, std::map<std::string, int64_t>> truth;
  for (const DossierState& s : states_) {
    const Date r = LocalDay(*s.received_time);
    auto& m = truth[r.month()];
    ++m["received"];
    ++m[std::string(ChannelName(s.channel))];
    if (s.finished()) {
      auto& f = truth[LocalDay(*s.finish_time).month()];
      ++f["finished"];
      ++f[s.timeliness == Timeliness::kEarly ? "early" : s.timeliness == Timeliness::kOnTime ? "on_time" : "late"];
    }
  }
  for (int month = 1; month <= 6; ++month) {
    auto& t = truth[month];
    reports.push_back(MakeReport(absl::StrCat("C3-", month), "P1.C3", absl::StrCat("2025-0", month), t["received"],
                                 t["finished"],
                                 {{F::kReceivedOnline, t["online"]},
                                  {F::kReceivedInPerson, t["in_person"]},
                                  {F::kReceivedPostal, t["postal"]},
                                  {F::kFinishedEarly, t["early"]},
                                  {F::kFinishedOnTime, t["on_time"]},
                                  {F::kFinishedLate, t["late"]}}));
  }
  auto plant = [&](PeriodicReport& r, F f, int64_t delta) { *r.figures[static_cast<int>(f)] += delta; };
  plant(reports[1], F::kReceived, 5);
  plant(reports[1], F::kReceivedOnline, 2);
  plant(reports[1], F::kReceivedInPerson, 3);
  plant(reports[1], F::kFinished, 1);
  plant(reports[1], F::kFinishedLate, 1);
  ASSERT_GE(*reports[2].get(F::kReceivedPostal), 2) << "seed gives too few postal dossiers in March";
  plant(reports[2], F::kReceived, -2);
  plant(reports[2], F::kReceivedPostal, -2);
  // P1.C2 only reports: nothing of it is synced.
  reports.push_back(MakeReport("C2-Q1", "P1.C2", "2025-Q1", 40, 30));
  // A field report of P1.C3 for April (covered by its April report, still
  // reconciled): compared with that field's dossiers only, one planted.
  int64_t april_field = 0, april_field_finished = 0;
  for (const DossierState& s : states_) {
    if (s.procedure_code != procedures_[1].code) continue;
    april_field += LocalDay(*s.received_time).month() == 4;
    april_field_finished += s.finished() && LocalDay(*s.finish_time).month() == 4;
  }
  PeriodicReport field = MakeReport("C3-4-field", "P1.C3", "2025-04", april_field + 1, april_field_finished);
  field.field = procedures_[1].field;
  reports.push_back(field);
  Submit(reports);

  auto rec = reports_->Reconcile(ScopeRequest{"P1"}, kH1);
  ASSERT_TRUE(rec.ok()) << rec.status();
  ASSERT_EQ(rec->rows.size(), 8u);
  for (const ReconcileRow& row : rec->rows) {
    SCOPED_TRACE(row.use.report.report_id);
    std::array<int64_t, kComparedCount> want{};
    const std::string& id = row.use.report.report_id;
    if (id == "C3-2") want = {5, 2, 3, 0, 1, 0, 0, 1};
    if (id == "C3-3") want = {-2, 0, 0, -2, 0, 0, 0, 0};
    if (id == "C2-Q1") want = {40, 0, 0, 0, 30, 0, 0, 0};
    if (id == "C3-4-field") want = {1, 0, 0, 0, 0, 0, 0, 0};
    EXPECT_EQ(row.missing, want);
    EXPECT_EQ(row.balanced, id != "C3-2" && id != "C3-3" && id != "C2-Q1" && id != "C3-4-field");
    const double synced = static_cast<double>(row.events[0]);
    EXPECT_DOUBLE_EQ(row.completeness.value, synced / std::max<double>(synced, row.reported[0]));
    EXPECT_EQ(row.use.role, id == "C2-Q1"        ? ReportRole::kCounted
                            : id == "C3-4-field" ? ReportRole::kCovered
                                                 : ReportRole::kEventsWin);
  }
  // The scope's sync completeness (766 indicator 1.4): every synced dossier
  // over that plus the February gap and everything P1.C2 reported.
  const double synced = static_cast<double>(states_.size());
  EXPECT_DOUBLE_EQ(rec->sync_completeness.numerator, synced);
  EXPECT_DOUBLE_EQ(rec->sync_completeness.denominator, synced + 5 + 40);
  EXPECT_DOUBLE_EQ(Value(Get("P1", kH1, {"sync_completeness"}), "sync_completeness").value,
                   synced / (synced + 45));
  // On its own, P1.C3's completeness sees only its February gap.
  EXPECT_DOUBLE_EQ(Value(Get("P1.C3", kH1, {"sync_completeness"}), "sync_completeness").value,
                   synced / (synced + 5));
}

TEST_F(ReportsTest, SilentStreamsCountWorkingDaysNotCalendarDays) {
  FileDossiers("P1.C1", 10, 31);
  FileDossiers("P2.C2", 10, 32);
  const absl::Time arrival = absl::Now();
  const Date day = LocalDay(arrival);
  // Every day of the next three weeks: silent for at least 2 working days
  // exactly when the working days after the arrival day and before that day
  // number 2 or more (counted here day by day), and by that count.
  // Days on which counting calendar days instead would answer differently
  // (another list, or another count): the loop must hold some.
  int discriminating = 0;
  for (int k = 1; k <= 21; ++k) {
    const Date d = day + k;
    int working = 0;
    for (Date x = day + 1; x < d; x = x + 1) working += calendar_->IsWorkingDay(x);
    auto silent = reports_->Silent(ScopeRequest{"VN"}, 2, Local(d, 9));
    ASSERT_TRUE(silent.ok()) << silent.status();
    SCOPED_TRACE(FormatDate(d));
    if (working >= 2) {
      ASSERT_EQ(silent->size(), 2u);
      EXPECT_EQ((*silent)[0].working_days_silent, working);
    } else {
      EXPECT_TRUE(silent->empty());
    }
    if ((working >= 2) != (k - 1 >= 2) || (working >= 2 && working != k - 1)) ++discriminating;
  }
  // Whatever the arrival's weekday (from a Sunday no day has two calendar
  // days but fewer than two working days in between; the counts then
  // differ instead), a weekend falls inside three weeks.
  EXPECT_GT(discriminating, 0) << "three weeks always hold a weekend";
  // Scopes: P2 sees only its own agency; agencies that never sent events
  // (P1.C2) are not silent, they report.
  auto p2 = reports_->Silent(ScopeRequest{"P2"}, 1, Local(day + 30, 9));
  ASSERT_TRUE(p2.ok());
  ASSERT_EQ(p2->size(), 1u);
  EXPECT_EQ((*p2)[0].agency_code, "P2.C2");
  EXPECT_TRUE(reports_->Silent(ScopeRequest{"P2"}, 1, Local(day, 23)).value().empty());
  EXPECT_EQ(reports_->Silent(ScopeRequest{"P2"}, -1, std::nullopt).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ReportsTest, DataQualityCountsWhatWasPlantedAndSorts) {
  FileDossiers("P1.C1", 80, 41);
  FileDossiers("P1.C3", 40, 42);
  // Rejections: an unknown procedure, an event before its dossier's
  // receipt, a reused event id, and events refused before they reached
  // Filings (counted through `early`).
  std::vector<FilingEvent> bad;
  FilingEvent unknown;
  unknown.event_id = "bad-1";
  const Date today = LocalDay(absl::Now());
  const std::string yymmdd = absl::StrFormat("%02d%02d%02d", today.year() % 100, today.month(), today.day());
  unknown.dossier_code = "P1.C3-" + yymmdd + "-9001";
  unknown.agency_code = "P1.C3";
  unknown.occurred_at = absl::Now();
  unknown.kind = K::kReceived;
  unknown.channel = Channel::kOnline;
  unknown.procedure_code = "9.999999";
  bad.push_back(unknown);
  FilingEvent conflict = unknown;
  std::string stored_code;
  for (const DossierState& st : states_) {
    if (st.agency_code == "P1.C3" && stored_code.empty()) stored_code = st.code;
  }
  conflict.event_id = stored_code + "#0";  // already stored with other content
  conflict.dossier_code = stored_code;
  conflict.procedure_code = procedures_[0].code;
  bad.push_back(conflict);
  FilingEvent fresh = unknown;  // on time: occurred now
  fresh.event_id = "fresh-1";
  fresh.dossier_code = "P1.C3-" + yymmdd + "-9002";
  fresh.procedure_code = procedures_[0].code;
  bad.push_back(fresh);
  std::vector<EarlyRejection> early = {{"P1.C3", InvalidField("events[7].occurred_at", "is required")},
                                       {"P1.C3", InvalidField("events[9].occurred_at", "is required")},
                                       {"ZZ", InvalidField("events[3].kind", "is required")}};
  auto outcomes = filings_->Record(bad, {}, early).outcomes;
  EXPECT_EQ(outcomes[0].outcome, WriteOutcome::kRejected);
  EXPECT_EQ(outcomes[1].outcome, WriteOutcome::kRejected);
  EXPECT_EQ(outcomes[2].outcome, WriteOutcome::kApplied) << outcomes[2].status;

  DataQualityRequest q;
  q.scope = ScopeRequest{"VN"};
  q.period = Period{Date(2025, 1, 1), today + 1};
  q.far_overdue_working_days = 10;
  auto page = reports_->Quality(q);
  ASSERT_TRUE(page.ok()) << page.status();
  std::map<std::string, DataQualityRow> rows;
  for (const auto& r : page->rows) rows[r.agency_code] = r;

  // Expected, from the replayed dossiers: every 2025 event arrived long
  // after the working day following it (late); mismatches as declared;
  // open dossiers are overdue since 2025 (far beyond 10 working days).
  std::map<std::string, int64_t> events, mismatches, open, received;
  for (const DossierState& s : states_) {
    events[s.agency_code] += s.event_count;
    mismatches[s.agency_code] += s.appointment_mismatch;
    open[s.agency_code] += !s.finished();
    received[s.agency_code] += 1;
  }
  for (const char* code : {"P1.C1", "P1.C3"}) {
    SCOPED_TRACE(code);
    const DataQualityRow& r = rows[code];
    const int64_t fresh_events = std::string(code) == "P1.C3" ? 1 : 0;
    EXPECT_EQ(r.accepted, events[code] + fresh_events);
    EXPECT_EQ(r.late, events[code]);
    EXPECT_EQ(r.mismatches, mismatches[code]);
    EXPECT_EQ(r.received, received[code] + fresh_events);
    EXPECT_EQ(r.far_overdue, open[code]);
    EXPECT_GT(r.mismatches, 0);
    EXPECT_EQ(r.issues(), r.rejected + r.late + r.mismatches + r.far_overdue);
  }
  const DataQualityRow& c3 = rows["P1.C3"];
  EXPECT_EQ(c3.rejected, 4);
  std::map<std::string, int64_t> reasons(c3.rejected_by_reason.begin(), c3.rejected_by_reason.end());
  EXPECT_EQ(reasons, (std::map<std::string, int64_t>{{"INVALID_ARGUMENT events[].occurred_at", 2},
                                                      {"NOT_FOUND event.procedure_code", 1},
                                                      {"ALREADY_EXISTS event.event_id", 1}}));
  EXPECT_EQ(c3.rejected_by_reason.front().first, "INVALID_ARGUMENT events[].occurred_at");
  // An unknown agency code shows in the whole country's view, unnamed.
  ASSERT_TRUE(rows.contains("ZZ"));
  EXPECT_EQ(rows["ZZ"].rejected, 1);
  EXPECT_EQ(rows["ZZ"].agency_name, "");
  EXPECT_EQ(page->total.rejected, 5);

  // Sorted worst first by the chosen count, pages of one.
  q.sort = QualitySort::kRejected;
  q.page_size = 1;
  std::vector<std::string> order;
  std::string token;
  do {
    q.page_token = token;
    auto p = reports_->Quality(q);
    ASSERT_TRUE(p.ok()) << p.status();
    for (const auto& r : p->rows) order.push_back(r.agency_code);
    token = p->next_page_token;
  } while (!token.empty());
  ASSERT_EQ(order.size(), rows.size());
  EXPECT_EQ(order[0], "P1.C3");
  EXPECT_EQ(order[1], "ZZ");
  q.sort = QualitySort::kMismatches;
  q.ascending = true;
  q.page_size = 100;
  q.page_token = "";
  auto asc = reports_->Quality(q);
  ASSERT_TRUE(asc.ok());
  for (size_t i = 1; i < asc->rows.size(); ++i) EXPECT_LE(asc->rows[i - 1].mismatches, asc->rows[i].mismatches);
  // A province sees its own agencies only.
  q.scope = ScopeRequest{"P2"};
  auto p2 = reports_->Quality(q);
  ASSERT_TRUE(p2.ok());
  EXPECT_TRUE(p2->rows.empty());
  q.page_token = "garbage";
  EXPECT_EQ(reports_->Quality(q).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ReportsTest, MaintenanceAfterMigration6RestoresOwnNodesAndMismatchesSqlite) {
  FileDossiers("P1.C3", 60, 61);
  std::mt19937 rng(6);
  Submit({RandomReport(rng, "C3-03", "P1.C3", "2025-03")});
  const Period march{Date(2025, 3, 1), Date(2025, 4, 1)};
  auto before = reports_->Reconcile(ScopeRequest{"P1"}, march);
  ASSERT_TRUE(before.ok());
  DataQualityRequest q;
  q.scope = ScopeRequest{"P1"};
  q.period = kH1;
  auto quality_before = reports_->Quality(q);
  ASSERT_TRUE(quality_before.ok());
  ASSERT_GT(quality_before->total.mismatches, 0);
  store_->Close();
  {
    // What migration 6 finds on an older database: no own-agency nodes, no
    // mismatch counts; and the rebuild it leaves to the server.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(dir_.File("r.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "DELETE FROM aggregates WHERE node_code LIKE '=%'; "
                           "UPDATE aggregates SET appointment_mismatch = 0; "
                           "INSERT INTO maintenance (task) VALUES ('rebuild_aggregates')",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  auto store = OpenStore(testing::TestDatabaseUrl(dir_, "r.db"));
  ASSERT_TRUE(store.ok()) << store.status();
  Metrics metrics(**store, calendar_, nullptr);
  Reports reports(**store, metrics, calendar_);
  auto broken = reports.Reconcile(ScopeRequest{"P1"}, march);
  ASSERT_TRUE(broken.ok());
  EXPECT_NE(broken->rows[0].events, before->rows[0].events);
  ASSERT_TRUE(AggregateMaintenance(**store, calendar_).RunPendingMaintenance().ok());
  auto after = reports.Reconcile(ScopeRequest{"P1"}, march);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->rows.size(), before->rows.size());
  EXPECT_EQ(after->rows[0].events, before->rows[0].events);
  EXPECT_EQ(after->rows[0].missing, before->rows[0].missing);
  auto quality_after = reports.Quality(q);
  ASSERT_TRUE(quality_after.ok());
  EXPECT_EQ(quality_after->total.mismatches, quality_before->total.mismatches);
  (*store)->Close();
}

TEST_F(ReportsTest, RebuildKeepsOwnNodesAndMismatchesExact) {
  FileDossiers("P1.C1", 60, 51);
  auto check = AggregateMaintenance(*store_, calendar_).CheckAggregates();
  ASSERT_TRUE(check.ok()) << check.status();
  EXPECT_EQ(check->rows_differing, 0);
  EXPECT_GT(check->rows_compared, 0);
}

}  // namespace
}  // namespace pstrack
