// Metrics over a real SQLite file, checked against a brute-force
// recomputation: random dossiers in a small tree (with a merged former
// province), delivered shuffled and duplicated, then every indicator,
// breakdown, series point, ranking and score is recomputed here from the
// replayed dossiers with plain loops written from the definitions in
// DOMAIN.md section 6, independently of the aggregate code.
#include "services/metrics/aggregate_maintenance.h"
#include "services/metrics/external_inputs.h"
#include "services/metrics/metrics.h"

#include <filesystem>
#include <random>
#include <set>

#include <sqlite3.h>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "services/agencies/agency_registry.h"
#include "services/catalog/catalog.h"
#include "services/filings/filings.h"
#include "services/filings/rederive.h"
#include "services/metrics/aggregate_runs.h"
#include "services/figures/aggregation.h"
#include "services/common/call_limits.h"
#include "services/common/status.h"
#include "tests/test_database.h"
#include "storage/store.h"

namespace pstrack {
namespace {

using testing::MakeAgency;
using testing::TempDir;
using K = EventKind;

absl::Time Local(Date d, int hh, int mm = 0) {
  return absl::FromCivil(absl::CivilSecond(d.year(), d.month(), d.day(), hh, mm, 0), VietnamTimeZone());
}
Date LocalDay(absl::Time t) { return Date(absl::ToCivilDay(t, VietnamTimeZone())); }

struct World {
  std::vector<Agency> agencies;
  std::vector<Procedure> procedures;
  std::vector<std::vector<FilingEvent>> dossiers;
};

// Check options with some fields set (the rest as default).
AggregateCheckOptions CheckOptions(const std::function<void(AggregateCheckOptions&)>& set) {
  AggregateCheckOptions options;
  set(options);
  return options;
}

class MetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto calendar = WorkingCalendar::LoadDirectory(std::string(PSTRACK_SOURCE_DIR) + "/data/calendar");
    ASSERT_TRUE(calendar.ok()) << calendar.status();
    calendar_ = std::make_shared<const WorkingCalendar>(*std::move(calendar));
    auto methodologies = MethodologyRegistry::LoadDirectory(std::string(PSTRACK_SOURCE_DIR) + "/data/methodologies",
                                                            BuiltinIndicatorIds());
    ASSERT_TRUE(methodologies.ok()) << methodologies.status();
    methodologies_ = std::make_shared<const MethodologyRegistry>(*std::move(methodologies));
    auto store = OpenStore(testing::TestDatabaseUrl(dir_, "m.db"));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    filings_ = std::make_unique<Filings>(*store_, calendar_);
    MakeUseCases();
    Build();
  }

  void MakeUseCases() {
    metrics_ = std::make_unique<Metrics>(*store_, calendar_, methodologies_);
    inputs_ = std::make_unique<ExternalInputs>(*store_, [this] { return metrics_->methodologies(); });
    maintenance_ = std::make_unique<AggregateMaintenance>(*store_, calendar_);
  }

  void Build() {
    AgencyRegistry registry(*store_);
    auto add = [&](Agency a) {
      auto created = registry.Create(a);
      ASSERT_TRUE(created.ok()) << created.status();
      world_.agencies.push_back(*created);
    };
    add(MakeAgency("VN", AgencyLevel::kNation, ""));
    add(MakeAgency("P1", AgencyLevel::kProvince, "VN"));
    Agency p2 = MakeAgency("P2", AgencyLevel::kProvince, "VN");
    add(p2);
    add(MakeAgency("P1.D", AgencyLevel::kDepartment, "P1"));
    add(MakeAgency("P1.C1", AgencyLevel::kCommune, "P1"));
    add(MakeAgency("P1.C2", AgencyLevel::kCommune, "P1"));
    add(MakeAgency("P2.C1", AgencyLevel::kCommune, "P2"));
    Agency f9 = MakeAgency("F9", AgencyLevel::kProvince, "VN");
    f9.valid_until = Date(2025, 7, 1);
    f9.successor_code = "P2";
    add(f9);
    Agency f9c = MakeAgency("F9.C1", AgencyLevel::kCommune, "F9");
    f9c.valid_until = Date(2025, 7, 1);
    f9c.successor_code = "P2.C1";
    add(f9c);
    Catalog catalog(*store_);
    struct Spec {
      const char* code;
      const char* field;
      AgencyLevel level;
      OnlineMode mode;
      bool eligible, fee, pay, popdb;
      uint32_t amount;
      TimeUnit unit;
    };
    const Spec specs[] = {
        {"1.000001", "Hộ tịch", AgencyLevel::kCommune, OnlineMode::kFull, true, false, false, true, 3, TimeUnit::kWorkingDays},
        {"1.000002", "Hộ tịch", AgencyLevel::kCommune, OnlineMode::kPartial, true, true, true, false, 5, TimeUnit::kWorkingDays},
        {"1.000003", "Chứng thực", AgencyLevel::kCommune, OnlineMode::kNone, false, true, false, false, 8, TimeUnit::kWorkingHours},
        {"2.000001", "Doanh nghiệp", AgencyLevel::kDepartment, OnlineMode::kFull, true, true, true, true, 3, TimeUnit::kWorkingDays},
        {"2.000002", "Đất đai", AgencyLevel::kDepartment, OnlineMode::kPartial, false, true, false, false, 10, TimeUnit::kWorkingDays},
    };
    for (const Spec& s : specs) {
      Procedure p;
      p.code = s.code;
      p.name = std::string("Thủ tục ") + s.code;
      p.field = s.field;
      p.levels = {s.level};
      p.online_mode = s.mode;
      p.full_online_eligible = s.eligible;
      p.fee_bearing = s.fee;
      p.online_payment_integrated = s.pay;
      p.population_db_connected = s.popdb;
      p.resolution_amount = s.amount;
      p.resolution_unit = s.unit;
      auto r = catalog.Upsert(p);
      ASSERT_TRUE(r.ok()) << r.status();
      world_.procedures.push_back(r->procedure);
    }
    // Random dossiers across 2025.
    std::mt19937 rng(766);
    const char* communes_before[] = {"P1.C1", "P1.C2", "F9.C1", "P1.D"};
    const char* communes_after[] = {"P1.C1", "P1.C2", "P2.C1", "P1.D"};
    for (int d = 0; d < 400; ++d) {
      Date day = Date(2025, 1, 2) + static_cast<int>(rng() % 360);
      const char* agency = (day < Date(2025, 7, 1) ? communes_before : communes_after)[rng() % 4];
      const bool department = std::string(agency) == "P1.D";
      const Procedure& p = world_.procedures[department ? 3 + rng() % 2 : rng() % 3];
      char code[40];
      std::snprintf(code, sizeof code, "%s-%02d%02d%02d-%04d", agency, static_cast<int>(day.year() % 100), day.month(), day.day(), d);
      std::vector<FilingEvent> h;
      absl::Time t = Local(day, 7 + rng() % 10, rng() % 60);
      auto add_event = [&](K kind, std::function<void(FilingEvent&)> fill = nullptr) {
        FilingEvent e;
        e.event_id = std::string(code) + "#" + std::to_string(h.size());
        e.dossier_code = code;
        e.agency_code = agency;
        e.occurred_at = t;
        e.kind = kind;
        if (kind == K::kReceived) e.procedure_code = p.code;
        if (fill) fill(e);
        h.push_back(e);
      };
      const int r = rng() % 100;
      if (r < 5) {  // refused at the counter
        add_event(K::kRegisteredOnline, [&](FilingEvent& e) { e.procedure_code = p.code; });
        t += absl::Hours(2);
        add_event(K::kNotAccepted);
        world_.dossiers.push_back(h);
        continue;
      }
      const Channel channel = static_cast<Channel>(1 + rng() % 3);
      add_event(K::kReceived, [&](FilingEvent& e) { e.channel = channel; });
      if (rng() % 3 == 0) {
        add_event(K::kDigitised, [&](FilingEvent& e) {
          e.digitised_documents = true;
          e.digitised_result = rng() % 2;
          e.reused_data = rng() % 2;
          e.population_db_used = rng() % 2;
          e.shared_for_reuse = rng() % 2;
        });
      }
      if (p.fee_bearing && rng() % 4 != 0) {
        t += absl::Minutes(30);
        add_event(K::kPayment, [&](FilingEvent& e) {
          e.amount_vnd = 10000 + 1000 * (rng() % 50);
          e.paid_online = rng() % 2;
        });
      }
      if (rng() % 5 == 0) {
        t += absl::Hours(5 + rng() % 30);
        add_event(K::kSupplementRequested);
        if (rng() % 4 != 0) {
          t += absl::Hours(10 + rng() % 100);
          add_event(K::kSupplementReceived);
          if (rng() % 4 == 0) {
            t += absl::Hours(3);
            add_event(K::kSupplementRequested);
            t += absl::Hours(30);
            add_event(K::kSupplementReceived);
          }
        }
      }
      if (rng() % 8 == 0) {
        t += absl::Hours(4);
        add_event(K::kReappointed, [&](FilingEvent& e) { e.new_appointment = LocalDay(t) + 30; });
      }
      const int end = rng() % 10;
      t += absl::Hours(2 + rng() % 300);
      if (end < 6) {
        add_event(K::kResolved, [&](FilingEvent& e) {
          e.electronic_result = rng() % 2;
          e.processed_electronically = rng() % 2;
          e.signed_electronically = rng() % 2;
        });
        if (rng() % 2) {
          t += absl::Hours(5);
          add_event(K::kResultReturned);
        }
      } else if (end == 6) {
        add_event(K::kStopped);
      } else if (end == 7) {
        add_event(K::kWithdrawn);
      }
      if (rng() % 3 == 0) {
        t += absl::Hours(1);
        add_event(K::kFeedback, [&](FilingEvent& e) {
          e.rating = static_cast<Rating>(1 + rng() % 4);
          e.complaint = rng() % 5 == 0;
        });
      }
      world_.dossiers.push_back(h);
    }
    // Shuffled, duplicated, in batches.
    std::vector<FilingEvent> delivery;
    for (const auto& h : world_.dossiers) delivery.insert(delivery.end(), h.begin(), h.end());
    const size_t unique = delivery.size();
    for (int i = 0; i < 200; ++i) delivery.push_back(delivery[rng() % unique]);
    std::shuffle(delivery.begin(), delivery.end(), rng);
    for (size_t begin = 0; begin < delivery.size();) {
      size_t n = 1 + rng() % 200;
      std::vector<FilingEvent> batch(delivery.begin() + begin, delivery.begin() + std::min(delivery.size(), begin + n));
      for (const auto& o : filings_->Record(batch).outcomes) {
        ASSERT_NE(o.outcome, WriteOutcome::kRejected) << o.key << ": " << o.status;
      }
      begin += n;
    }
    for (const auto& h : world_.dossiers) {
      const Procedure* p = nullptr;
      for (const auto& e : h) {
        for (const auto& proc : world_.procedures) {
          if (proc.code == e.procedure_code) p = &proc;
        }
      }
      auto s = Replay(h, *calendar_, p);
      ASSERT_TRUE(s.ok()) << s.status();
      states_.push_back({*s, p});
    }
  }

  const Agency& AgencyOf(const std::string& code) const {
    for (const auto& a : world_.agencies) {
      if (a.code == code) return a;
    }
    ADD_FAILURE() << code;
    return world_.agencies.front();
  }

  // Whether a dossier filed at `agency` counts under `root` in the view.
  bool InScope(const std::string& agency, const std::string& root, TreeView view) const {
    const std::string root_path = AgencyOf(root).path;
    auto in_subtree = [&](const std::string& path) { return path == root_path || path.rfind(root_path + "/", 0) == 0; };
    if (in_subtree(AgencyOf(agency).path)) return true;
    if (view == TreeView::kAsFiled) return false;
    // Walk up the ancestors; an ended one whose successor chain ends in the
    // subtree brings its dossiers along.
    for (std::string code = agency; !code.empty(); code = AgencyOf(code).parent_code) {
      std::string s = AgencyOf(code).successor_code;
      while (!s.empty() && AgencyOf(s).valid_until) s = AgencyOf(s).successor_code;
      if (!s.empty() && in_subtree(AgencyOf(s).path)) return true;
    }
    return false;
  }

  // Every built-in indicator, recomputed from the replayed dossiers.
  using Filter = std::function<bool(const DossierState&, const Procedure*)>;
  std::map<std::string, IndicatorValue> BruteForce(const std::string& root, TreeView view, const Period& period,
                                                   const Filter& filter = nullptr,
                                                   std::optional<absl::Time> at = std::nullopt) {
    const absl::Time t =
        at.value_or(std::min(absl::FromCivil(absl::CivilSecond(period.end), VietnamTimeZone()), absl::Now()));
    auto in_period = [&](absl::Time x) { return LocalDay(x) >= period.start && LocalDay(x) < period.end; };
    double received = 0, online = 0, eligible = 0, full_online = 0, fee = 0, paid_online = 0, digitised = 0, components = 0,
           reused = 0,
           shared = 0, popdb = 0;
    double finished = 0, early = 0, on_time = 0, late = 0, apology = 0, proc_days = 0, fully = 0;
    double p_finished = 0, p_good = 0, resolved = 0, eresult = 0, rated = 0, satisfied = 0, complaint = 0,
           late_or_disliked = 0;
    double open = 0, overdue = 0, portal_within = 0;
    std::set<std::string> procedures_paid_online, procedures_online_dossier;
    for (const auto& [s, p] : states_) {
      if (!InScope(s.agency_code, root, view) || !s.received()) continue;
      if (filter && !filter(s, p)) continue;
      if (in_period(*s.received_time)) {
        ++received;
        online += s.channel == Channel::kOnline;
        eligible += p->full_online_eligible;
        full_online += p->online_mode == OnlineMode::kFull && s.channel == Channel::kOnline;
        if (p->fee_bearing && s.paid_amount_vnd > 0) {
          ++fee;
          paid_online += s.paid_online;
          if (s.paid_online) procedures_paid_online.insert(p->code);
        }
        if (s.channel == Channel::kOnline) procedures_online_dossier.insert(p->code);
        digitised += s.digitised_documents && s.digitised_result;
        components += s.digitised_documents;
        reused += s.reused_data;
        shared += s.shared_for_reuse;
        popdb += s.population_db_used;
      }
      if (s.finished() && in_period(*s.finish_time)) {
        if (s.timeliness == Timeliness::kEarly || s.timeliness == Timeliness::kOnTime || s.timeliness == Timeliness::kLate) {
          ++finished;
          early += s.timeliness == Timeliness::kEarly;
          on_time += s.timeliness == Timeliness::kOnTime;
          late += s.timeliness == Timeliness::kLate;
          apology += s.reappointed_date.has_value();
          late_or_disliked += s.timeliness == Timeliness::kLate || s.complaint || s.rating == Rating::kDissatisfied;
          proc_days += s.processing_working_days.value_or(0);
          const bool submitted = s.channel == Channel::kOnline || s.digitised_documents;
          const bool paid = !(p->fee_bearing && s.paid_amount_vnd > 0) || s.paid_online;
          fully += submitted && s.processed_electronically && s.signed_electronically && s.electronic_result && paid;
        }
        if (s.portal_timeliness != Timeliness::kNotApplicable) {
          ++p_finished;
          p_good += s.portal_timeliness == Timeliness::kEarly || s.portal_timeliness == Timeliness::kOnTime;
        }
        if (s.finish_kind == FinishKind::kResolved || s.finish_kind == FinishKind::kResultReturned) {
          ++resolved;
          eresult += s.electronic_result;
        }
        if (s.feedback_count > 0) {
          ++rated;
          satisfied += s.rating == Rating::kVerySatisfied || s.rating == Rating::kSatisfied;
          complaint += s.complaint;
        }
      }
      if (*s.received_time <= t && !(s.finished() && *s.finish_time <= t)) {
        ++open;
        overdue += TimelinessAt(s, t, false) == Timeliness::kOverdue;
        portal_within += TimelinessAt(s, t, true) == Timeliness::kWithinTime;
      }
    }
    // The catalog: procedures carried out by agencies of the scope in force
    // on the period's last day.
    const Date last = period.end - 1;
    std::set<AgencyLevel> levels;
    for (const auto& a : world_.agencies) {
      if (a.InForceOn(last) && InScope(a.code, root, view)) levels.insert(a.level);
    }
    double procs = 0, c_online = 0, c_full = 0, c_eligible = 0, c_fee = 0, c_fee_pay = 0, c_popdb = 0, c_fee_paid = 0,
           c_online_dossier = 0;
    for (const auto& p : world_.procedures) {
      if (!levels.contains(p.levels.front())) continue;
      ++procs;
      const bool is_online = p.online_mode != OnlineMode::kNone;
      c_online += is_online;
      c_full += p.online_mode == OnlineMode::kFull;
      c_eligible += p.full_online_eligible;
      c_fee += p.fee_bearing;
      c_fee_pay += p.fee_bearing && p.online_payment_integrated;
      c_popdb += p.population_db_connected;
      c_fee_paid += p.fee_bearing && procedures_paid_online.contains(p.code);
      c_online_dossier += is_online && procedures_online_dossier.contains(p.code);
    }
    std::map<std::string, IndicatorValue> v;
    auto ratio = [&](const char* id, double n, double d) { v[id] = IndicatorValue::Ratio(id, n, d, ""); };
    ratio("online_service_coverage", c_online, procs);
    ratio("full_online_share_eligible", c_full, c_eligible);
    ratio("full_online_share_online", c_full, c_online);
    ratio("population_db_connected_rate", c_popdb, procs);
    ratio("fee_procedures_online_payment_rate", c_fee_pay, c_fee);
    ratio("fee_procedures_with_online_payment_rate", c_fee_paid, c_fee);
    ratio("procedures_with_online_dossiers_rate", c_online_dossier, c_online);
    ratio("online_submission_rate", online, received);
    ratio("on_time_rate", early + on_time, finished);
    ratio("on_time_rate_portal", p_good + portal_within, p_finished + open);
    ratio("early_rate", early, finished);
    ratio("late_rate", late, finished);
    v["overdue_open"] = IndicatorValue{"overdue_open", overdue, open, overdue, true, "", {}, ""};
    ratio("apology_rate", apology, finished);
    ratio("online_payment_rate", paid_online, fee);
    ratio("electronic_result_rate", eresult, resolved);
    ratio("digitisation_rate", digitised, received);
    ratio("digitised_components_rate", components, received);
    ratio("data_reuse_rate", reused, received);
    ratio("shared_for_reuse_rate", shared, received);
    ratio("population_db_use_rate", popdb, received);
    ratio("satisfaction_rate", satisfied, rated);
    ratio("satisfaction_766", finished - late_or_disliked, finished);
    (void)complaint;
    ratio("fully_electronic_rate", fully, finished);
    ratio("average_processing_days", proc_days, finished);
    ratio("full_online_dossier_rate", full_online, eligible);
    v["received"] = IndicatorValue{"received", received, 0, received, true, "", {}, ""};
    v["finished"] = IndicatorValue{"finished", finished, 0, finished, true, "", {}, ""};
    return v;
  }

  void ExpectSame(const IndicatorValue& got, const IndicatorValue& want, const std::string& where) {
    EXPECT_EQ(got.available, want.available) << where << " " << got.id;
    EXPECT_DOUBLE_EQ(got.numerator, want.numerator) << where << " " << got.id;
    if (want.available) {
      EXPECT_DOUBLE_EQ(got.denominator, want.denominator) << where << " " << got.id;
      EXPECT_NEAR(got.value, want.value, 1e-12) << where << " " << got.id;
    }
  }

  TempDir dir_;
  std::shared_ptr<const WorkingCalendar> calendar_;
  std::shared_ptr<const MethodologyRegistry> methodologies_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Filings> filings_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<ExternalInputs> inputs_;
  std::unique_ptr<AggregateMaintenance> maintenance_;
  World world_;
  std::vector<std::pair<DossierState, const Procedure*>> states_;
};

const Period kPeriods[] = {
    {Date(2025, 1, 1), Date(2026, 1, 1)},
    {Date(2025, 1, 1), Date(2025, 4, 1)},
    {Date(2025, 7, 1), Date(2025, 8, 1)},
    {Date(2025, 3, 17), Date(2025, 9, 2)},
};

// Open and overdue dossiers at an instant: at midnights they are sums of
// clock-basis aggregates, within a day they come from the dossier index;
// both must equal the replayed states, at every kind of instant.
TEST_F(MetricsTest, OpenAndOverdueAtAnyInstantEqualTheReplay) {
  const Period june{Date(2025, 6, 1), Date(2025, 7, 1)};
  int compared = 0;
  for (int day = 1; day <= 31; day += 3) {
    const absl::CivilSecond midnight(2025, 6, day, 0, 0, 0);
    for (absl::Time at : {absl::FromCivil(midnight, VietnamTimeZone()),
                          absl::FromCivil(midnight, VietnamTimeZone()) + absl::Hours(10) + absl::Minutes(17),
                          absl::FromCivil(midnight, VietnamTimeZone()) - absl::Microseconds(1)}) {
      for (const char* root : {"VN", "P1", "P2.C1"}) {
        auto got = metrics_->Indicators({root, TreeView::kCurrent}, june, {"overdue_open", "on_time_rate_portal"}, at);
        ASSERT_TRUE(got.ok()) << got.status();
        auto want = BruteForce(root, TreeView::kCurrent, june, nullptr, at);
        for (const IndicatorValue& v : got->values) {
          ExpectSame(v, want[v.id], absl::StrCat(root, " at ", absl::FormatTime(at)));
          ++compared;
        }
      }
    }
  }
  EXPECT_EQ(compared, 11 * 3 * 3 * 2);
}

// A database from before migration 5 has no clock-basis counters: the
// migration leaves a maintenance task, and the server's start rebuilds them.
TEST_F(MetricsTest, MaintenanceAfterAMigrationRebuildsTheClockCountersSqlite) {
  const Period june{Date(2025, 6, 1), Date(2025, 7, 1)};
  auto before = metrics_->Indicators({"VN", TreeView::kCurrent}, june, {"overdue_open"}, std::nullopt);
  ASSERT_TRUE(before.ok());
  ASSERT_GT(before->values[0].denominator, 0) << "the world should have open dossiers at the end of June";
  store_->Close();
  {
    // What migration 5 finds and leaves on an older database.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(dir_.File("m.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "DELETE FROM aggregates WHERE basis % 10 = 3; "
                           "INSERT INTO maintenance (task) VALUES ('rebuild_aggregates')",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  auto store = OpenStore(testing::TestDatabaseUrl(dir_, "m.db"));
  ASSERT_TRUE(store.ok()) << store.status();
  Metrics reopened(**store, calendar_, methodologies_);
  auto missing = reopened.Indicators({"VN", TreeView::kCurrent}, june, {"overdue_open"}, std::nullopt);
  ASSERT_TRUE(missing.ok());
  EXPECT_NE(missing->values[0].denominator, before->values[0].denominator);
  ASSERT_TRUE(AggregateMaintenance(**store, calendar_).RunPendingMaintenance().ok());
  auto after = reopened.Indicators({"VN", TreeView::kCurrent}, june, {"overdue_open"}, std::nullopt);
  ASSERT_TRUE(after.ok());
  ExpectSame(after->values[0], before->values[0], "after maintenance");
  std::vector<std::string> pending;
  ASSERT_TRUE((*store)->Read([&](ReadTransaction& tx) -> absl::Status {
    PSTRACK_ASSIGN_OR_RETURN(pending, tx.PendingMaintenance());
    return absl::OkStatus();
  }).ok());
  EXPECT_TRUE(pending.empty());
  (*store)->Close();
}

// A schema-7 database has month and year roll-ups at every node; migration 8
// keeps them at the nation and the provinces only (where the aggregation
// writes them now) and clusters the table, without changing any figure.
TEST_F(MetricsTest, Migration8KeepsRollupsAtTheTopAndEveryFigureSqlite) {
  const std::pair<const char*, TreeView> scopes[] = {
      {"VN", TreeView::kCurrent}, {"P1", TreeView::kCurrent}, {"P2", TreeView::kCurrent}, {"P1.C1", TreeView::kCurrent}};
  std::vector<IndicatorSetResult> before;
  for (const auto& [root, view] : scopes) {
    for (const Period& period : kPeriods) {
      auto got = metrics_->Indicators({root, view}, period, {}, std::nullopt);
      ASSERT_TRUE(got.ok()) << got.status();
      before.push_back(*got);
    }
  }
  store_->Close();
  auto count = [&](sqlite3* db, const char* sql) {
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &st, nullptr), SQLITE_OK) << sql;
    int64_t n = -1;
    if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
  };
  const char* kDeepRollups =
      "SELECT COUNT(*) FROM aggregates WHERE basis >= 10 AND (node_code LIKE '=%' OR node_code LIKE '%.%')";
  {
    // Back to what schema 7 left: roll-ups at every node (as migration 7
    // built them from the days).
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(dir_.File("m.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(count(db, kDeepRollups), 0);
    std::string columns, sums;
    for (const char* name : CounterNames()) {
      absl::StrAppend(&columns, ", ", name);
      absl::StrAppend(&sums, ", SUM(", name, ")");
    }
    for (const auto& [grain, day] : {std::pair{10, "substr(day, 1, 7) || '-01'"}, {20, "substr(day, 1, 4) || '-01-01'"}}) {
      const std::string sql = absl::StrCat(
          "INSERT INTO aggregates (node_code, basis, dim, dim_value, day", columns, ") SELECT node_code, basis + ", grain,
          ", dim, dim_value, ", day, sums, " FROM aggregates WHERE basis < 10 AND (node_code LIKE '=%' OR node_code "
          "LIKE '%.%') GROUP BY node_code, basis, dim, dim_value, ", day);
      ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    }
    // Migrations 8 and later run again (8 rebuilds the table without the
    // columns 9 and 10 add; 11 makes the event log, empty here).
    ASSERT_EQ(sqlite3_exec(db, "DELETE FROM schema_migrations WHERE version >= 8; DROP TABLE event_log", nullptr,
                           nullptr, nullptr),
              SQLITE_OK);
    ASSERT_GT(count(db, kDeepRollups), 100);
    sqlite3_close(db);
  }
  auto store = OpenStore(testing::TestDatabaseUrl(dir_, "m.db"));
  ASSERT_TRUE(store.ok()) << store.status();
  Metrics reopened(**store, calendar_, methodologies_);
  size_t i = 0;
  for (const auto& [root, view] : scopes) {
    for (const Period& period : kPeriods) {
      auto got = reopened.Indicators({root, view}, period, {}, std::nullopt);
      ASSERT_TRUE(got.ok()) << got.status();
      ASSERT_EQ(got->values.size(), before[i].values.size());
      for (size_t v = 0; v < got->values.size(); ++v) {
        ExpectSame(got->values[v], before[i].values[v], absl::StrCat(root, " ", FormatDate(period.start)));
      }
      ++i;
    }
  }
  // The rebuild from the dossiers (roll-ups included) finds every row as is.
  auto check = AggregateMaintenance(**store, calendar_).CheckAggregates();
  ASSERT_TRUE(check.ok()) << check.status();
  EXPECT_EQ(check->rows_differing, 0);
  (*store)->Close();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(dir_.File("m.db").c_str(), &db), SQLITE_OK);
  EXPECT_EQ(count(db, kDeepRollups), 0);
  EXPECT_GT(count(db, "SELECT COUNT(*) FROM aggregates WHERE basis >= 20 AND node_code IN ('VN', 'P1', 'P2')"), 0);
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'aggregates' AND sql LIKE '%WITHOUT ROWID'"), 1);
  sqlite3_close(db);
}

TEST_F(MetricsTest, EveryIndicatorEqualsABruteForceRecomputation) {
  const std::pair<const char*, TreeView> scopes[] = {
      {"VN", TreeView::kCurrent}, {"P1", TreeView::kCurrent}, {"P2", TreeView::kCurrent},
      {"P2", TreeView::kAsFiled}, {"F9", TreeView::kAsFiled}, {"P2.C1", TreeView::kCurrent},
      {"P1.C1", TreeView::kAsFiled}, {"P1.D", TreeView::kCurrent}};
  int compared = 0;
  for (const auto& [root, view] : scopes) {
    for (const Period& period : kPeriods) {
      auto got = metrics_->Indicators({root, view}, period, {}, std::nullopt);
      ASSERT_TRUE(got.ok()) << got.status();
      auto want = BruteForce(root, view, period);
      for (const IndicatorValue& v : got->values) {
        if (v.id == "sync_completeness") {
          EXPECT_FALSE(v.available);
          continue;
        }
        ASSERT_TRUE(want.contains(v.id)) << v.id;
        ExpectSame(v, want[v.id], absl::StrCat(root, " ", FormatDate(period.start)));
        ++compared;
      }
    }
  }
  EXPECT_GT(compared, 800);
  // The data is not trivial: most indicators have a denominator somewhere.
  auto year = metrics_->Indicators({"VN", TreeView::kCurrent}, kPeriods[0], {}, std::nullopt);
  int available = 0;
  for (const auto& v : year->values) available += v.available;
  EXPECT_GE(available, 25);
}

TEST_F(MetricsTest, BreakdownsAndSeriesEqualTheSumOfTheirParts) {
  const Period year = kPeriods[0];
  auto children = metrics_->Breakdown({"VN", TreeView::kCurrent}, year, {"received", "on_time_rate"},
                                      Dimension::kChildAgency, std::nullopt);
  ASSERT_TRUE(children.ok()) << children.status();
  std::vector<std::string> keys;
  for (const auto& row : *children) {
    keys.push_back(row.key);
    auto want = BruteForce(row.key, TreeView::kCurrent, year);
    ExpectSame(row.values[0], want["received"], row.key);
    ExpectSame(row.values[1], want["on_time_rate"], row.key);
  }
  // Today's tree: the former province is folded into its successor.
  EXPECT_EQ(keys, (std::vector<std::string>{"P1", "P2"}));
  // Below the provinces (day rows, no roll-ups), every indicator of every
  // child too.
  auto communes = metrics_->Breakdown({"P1", TreeView::kCurrent}, year, {}, Dimension::kChildAgency, std::nullopt);
  ASSERT_TRUE(communes.ok()) << communes.status();
  ASSERT_EQ(communes->size(), 3u);
  for (const auto& row : *communes) {
    auto want = BruteForce(row.key, TreeView::kCurrent, year);
    for (const auto& v : row.values) {
      if (v.id != "sync_completeness") ExpectSame(v, want[v.id], "commune " + row.key);
    }
  }
  auto as_filed = metrics_->Breakdown({"VN", TreeView::kAsFiled}, year, {"received"}, Dimension::kChildAgency, std::nullopt);
  double total = 0;
  for (const auto& row : *as_filed) total += row.values[0].numerator;
  EXPECT_EQ(total, BruteForce("VN", TreeView::kCurrent, year)["received"].numerator);
  EXPECT_EQ(as_filed->size(), 3u);
  // Every indicator of every child equals its recomputation.
  auto all_children = metrics_->Breakdown({"VN", TreeView::kCurrent}, year, {}, Dimension::kChildAgency, std::nullopt);
  ASSERT_TRUE(all_children.ok());
  for (const auto& row : *all_children) {
    auto want = BruteForce(row.key, TreeView::kCurrent, year);
    for (const auto& v : row.values) {
      if (v.id != "sync_completeness") ExpectSame(v, want[v.id], "child " + row.key);
    }
  }
  // By channel and by field: every dossier-based indicator equals the
  // recomputation over the dossiers of that channel or field.
  for (Dimension dim : {Dimension::kChannel, Dimension::kField, Dimension::kProcedure}) {
    auto rows = metrics_->Breakdown({"P1", TreeView::kCurrent}, year, {}, dim, std::nullopt);
    ASSERT_TRUE(rows.ok()) << rows.status();
    ASSERT_FALSE(rows->empty());
    for (const auto& row : *rows) {
      auto want = BruteForce("P1", TreeView::kCurrent, year, [&](const DossierState& s, const Procedure* p) {
        return dim == Dimension::kChannel ? std::string(ChannelName(s.channel)) == row.key
               : dim == Dimension::kField ? p->field == row.key
                                          : p->code == row.key;
      });
      for (const auto& v : row.values) {
        const std::string basis = FindIndicator(v.id)->period_basis;
        if (basis == "catalog" || basis == "instant" || basis == "finish+instant" || v.id == "sync_completeness") {
          EXPECT_FALSE(v.available) << v.id;  // not defined per channel, field or procedure
          continue;
        }
        ExpectSame(v, want[v.id], row.key);
      }
    }
  }
  // By channel: the three channels add up to the whole.
  auto channels = metrics_->Breakdown({"VN", TreeView::kCurrent}, year, {"received"}, Dimension::kChannel, std::nullopt);
  ASSERT_TRUE(channels.ok());
  double by_channel = 0;
  for (const auto& row : *channels) by_channel += row.values[0].numerator;
  EXPECT_EQ(by_channel, total);
  // Months add up to the year for counts.
  auto months = metrics_->TimeSeries({"VN", TreeView::kCurrent}, year, {"received", "finished"}, Granularity::kMonth);
  ASSERT_TRUE(months.ok());
  ASSERT_EQ(months->size(), 12u);
  double received = 0;
  for (const auto& p : *months) {
    auto want = BruteForce("VN", TreeView::kCurrent, p.period);
    ExpectSame(p.values[0], want["received"], FormatDate(p.period.start));
    ExpectSame(p.values[1], want["finished"], FormatDate(p.period.start));
    received += p.values[0].numerator;
  }
  EXPECT_EQ(received, total);
  auto quarters = metrics_->TimeSeries({"P1", TreeView::kCurrent}, {Date(2025, 2, 15), Date(2025, 8, 1)}, {"received"},
                                       Granularity::kQuarter);
  ASSERT_EQ(quarters->size(), 3u);
  EXPECT_EQ(quarters->front().period.start, Date(2025, 2, 15));
  EXPECT_EQ(quarters->front().period.end, Date(2025, 4, 1));
  EXPECT_EQ(quarters->back().period.end, Date(2025, 8, 1));
}

TEST_F(MetricsTest, RankingsAndScoresFollowTheRecomputation) {
  const Period year = kPeriods[0];
  auto ranked = metrics_->Rank({"VN", TreeView::kCurrent}, AgencyLevel::kCommune, year, "on_time_rate", "", std::nullopt);
  ASSERT_TRUE(ranked.ok()) << ranked.status();
  std::vector<std::pair<double, std::string>> want;
  for (const char* c : {"P1.C1", "P1.C2", "P2.C1"}) {
    auto v = BruteForce(c, TreeView::kCurrent, year)["on_time_rate"];
    if (v.available) want.push_back({-v.value, c});
  }
  std::sort(want.begin(), want.end());
  ASSERT_EQ(ranked->size(), 3u);
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ((*ranked)[i].agency_code, want[i].second);
    EXPECT_NEAR((*ranked)[i].value.value, -want[i].first, 1e-12);
  }
  EXPECT_EQ((*ranked)[0].rank, 1);
  // A ranking by score (its sums fetched for every province at once) gives
  // each province the points of scoring it alone.
  auto by_score = metrics_->Rank({"VN", TreeView::kCurrent}, AgencyLevel::kUnspecified, year, "", "qd766@2026",
                                 std::nullopt);
  ASSERT_TRUE(by_score.ok()) << by_score.status();
  ASSERT_EQ(by_score->size(), 2u);
  for (const RankEntry& e : *by_score) {
    auto alone = metrics_->Score({e.agency_code, TreeView::kCurrent}, year, "qd766@2026");
    ASSERT_TRUE(alone.ok()) << alone.status();
    EXPECT_NEAR(e.score, alone->score.total_points, 1e-9) << e.agency_code;
    EXPECT_GT(e.score, 0) << e.agency_code;
  }
  // Lower is better for the late rate: ascending by default.
  auto late = metrics_->Rank({"VN", TreeView::kCurrent}, AgencyLevel::kUnspecified, year, "late_rate", "", std::nullopt);
  ASSERT_TRUE(late.ok());
  ASSERT_EQ(late->size(), 2u);
  EXPECT_LE((*late)[0].value.value, (*late)[1].value.value);
  // The 766 score of a province from the recomputed inputs.
  auto scored = metrics_->Score({"P1", TreeView::kCurrent}, year, "qd766@2026");
  ASSERT_TRUE(scored.ok()) << scored.status();
  auto inputs = BruteForce("P1", TreeView::kCurrent, year);
  std::map<std::string, IndicatorValue> keyed;
  for (const auto& [id, v] : inputs) keyed["builtin:" + id] = v;
  IndexScore expected = Score(*scored->methodology, keyed);
  EXPECT_NEAR(scored->score.total_points, expected.total_points, 1e-9);
  EXPECT_NEAR(scored->score.unavailable_points, expected.unavailable_points, 1e-9);
  EXPECT_GT(scored->score.unavailable_points, 0);  // external inputs were never submitted
  // Submitting the external inputs makes them count.
  std::vector<ExternalInput> external;
  for (const auto& id : scored->methodology->ExternalInputs()) {
    external.push_back({"in-" + id, "P1", id, year, 9, 10, 0, "test"});
  }
  for (const auto& o : inputs_->Submit(external)) EXPECT_EQ(o.outcome, WriteOutcome::kApplied) << o.status;
  for (const auto& o : inputs_->Submit(external)) EXPECT_EQ(o.outcome, WriteOutcome::kUnchanged);
  auto rescored = metrics_->Score({"P1", TreeView::kCurrent}, year, "qd766@2026");
  for (const auto& id : scored->methodology->ExternalInputs()) {
    keyed["external:" + id] = IndicatorValue::Ratio(id, 9, 10, "");
  }
  IndexScore with_external = Score(*rescored->methodology, keyed);
  EXPECT_NEAR(rescored->score.total_points, with_external.total_points, 1e-9);
  EXPECT_LT(rescored->score.unavailable_points, scored->score.unavailable_points);
}

// A ranking keeps each province's catalog bits with the change count of
// the rows it read them from (Metrics::positive_cache_). Every later write
// must show in the next ranking, those that change no presence (kept bits
// reused) as those that do, and across a rebuild. (The count itself
// against a model of the rows: SqlStoreTest.ChangeCountsFollowPresence...)
TEST_F(MetricsTest, CachedCatalogFiguresOfARankingFollowEveryWrite) {
  Catalog catalog(*store_);
  Procedure twin = world_.procedures[0];  // 1.000001: commune level, full online
  twin.code = "1.000009";
  ASSERT_TRUE(catalog.Upsert(twin).ok());
  const Period day{Date(2026, 3, 2), Date(2026, 3, 3)};  // no dossiers yet
  auto rate_of = [&](const std::string& province) {
    auto ranked = metrics_->Rank({"VN", TreeView::kCurrent}, AgencyLevel::kProvince, day,
                                 "procedures_with_online_dossiers_rate", "", std::nullopt);
    EXPECT_TRUE(ranked.ok()) << ranked.status();
    double value = -1;
    for (const RankEntry& e : ranked.ok() ? *ranked : std::vector<RankEntry>{}) {
      if (e.agency_code == province) value = e.value.value;
    }
    // Computed alone (no prefetch, no cache), the same.
    auto alone = metrics_->Indicators({province, TreeView::kCurrent}, day, {"procedures_with_online_dossiers_rate"},
                                      std::nullopt);
    EXPECT_TRUE(alone.ok()) << alone.status();
    if (alone.ok()) {
      EXPECT_DOUBLE_EQ(value, alone->values.front().value) << province;
    }
    return value;
  };
  // P2 carries out its commune's procedures: 1.000001, 1.000002 and the
  // twin are offered online.
  EXPECT_DOUBLE_EQ(rate_of("P2"), 0.0);
  EXPECT_DOUBLE_EQ(rate_of("P2"), 0.0);  // from the cache
  auto event = [&](const std::string& id, const std::string& dossier, K kind, int hour, const std::string& procedure) {
    FilingEvent e;
    e.event_id = id;
    e.dossier_code = dossier;
    e.agency_code = "P2.C1";
    e.occurred_at = Local(day.start, hour);
    e.kind = kind;
    e.procedure_code = procedure;
    if (kind == K::kReceived) e.channel = Channel::kOnline;
    return e;
  };
  auto received = [&](const std::string& dossier, const std::string& procedure) {
    auto r = filings_->Record({event(dossier + "#r", dossier, K::kReceived, 10, procedure)});
    ASSERT_EQ(r.outcomes.front().outcome, WriteOutcome::kApplied) << r.outcomes.front().status;
  };
  received("P2.C1-260302-0001", "1.000001");
  EXPECT_NEAR(rate_of("P2"), 1.0 / 3, 1e-12);  // cached: P2's day at change count 1
  EXPECT_DOUBLE_EQ(rate_of("P1"), 0.0);
  received("P2.C1-260302-0004", "1.000001");    // no presence changes: the kept bits
  EXPECT_NEAR(rate_of("P2"), 1.0 / 3, 1e-12);
  // The twin procedure, not ranked before the rebuild, which restarts the
  // counts. The rebuild moved the reference version, so the cached bits
  // are not taken whatever the count.
  received("P2.C1-260302-0002", "1.000009");
  ASSERT_TRUE(maintenance_->RebuildAggregates().ok());
  EXPECT_NEAR(rate_of("P2"), 2.0 / 3, 1e-12);
  received("P2.C1-260302-0003", "1.000002");
  EXPECT_NEAR(rate_of("P2"), 3.0 / 3, 1e-12);
  received("P2.C1-260302-0005", "1.000002");
  EXPECT_NEAR(rate_of("P2"), 3.0 / 3, 1e-12);
}

// Rows added in any order, with duplicates and rows that cancel out, come
// back once per key, summed, in the store's order, whatever the memory
// budget (everything in memory, or hundreds of runs merged in stages), and
// sums beyond 32 bits too (the buffer keeps 32): checked against a std::map
// sum for both stores' orders.
TEST(AggregateRunsTest, GiveBackEachKeyOnceSummedInOrderWhateverTheBudget) {
  std::mt19937 rng(42);
  const std::vector<std::string> nodes = {"VN", "P1", "P1.C1", "=P1.C1", "P10", "P1.C1\xc3\xa1"};
  const std::vector<std::string> values = {"", "online", "1.000001", "Hộ tịch", "1.000002"};
  TempDir dir;
  for (StoredAggregateOrder stored : {StoredAggregateOrder::kValueThenDay, StoredAggregateOrder::kDayThenValue}) {
    const AggregateKeyOrder order{stored};
    for (size_t budget : {size_t{1} << 30, size_t{20000}, size_t{600}}) {
      SCOPED_TRACE(::testing::Message() << "order " << static_cast<int>(stored) << ", budget " << budget);
      AggregateRuns runs(order, budget, dir.path());
      std::map<AggregateKey, Counts, AggregateKeyOrder> want(order);
      for (int page = 0; page < 40; ++page) {
        AggregateDeltas deltas;
        for (int i = 0; i < 60; ++i) {
          AggregateKey key{nodes[rng() % nodes.size()], static_cast<Basis>(1 + rng() % 3),
                           static_cast<AggregateDim>(rng() % 4), values[rng() % values.size()],
                           absl::StrFormat("2025-%02d-%02d", 1 + rng() % 3, 1 + rng() % 28)};
          Counts& c = deltas[key];
          const int counter = static_cast<int>(rng() % kCounterCount);
          const int64_t v = static_cast<int64_t>(rng() % 2000) - 1000;
          c[counter] += v;
          want[key][counter] += v;
          if (rng() % 7 == 0) {  // a retraction that cancels it
            c[counter] -= v;
            want[key][counter] -= v;
          }
        }
        if (page == 5) {  // a large count at the limit of the encoding
          AggregateKey big{"VN", Basis::kReceipt, AggregateDim::kTotal, "", "2025-01-01"};
          deltas[big][1] += int64_t{1} << 62;
          want[big][1] += int64_t{1} << 62;
        }
        if (page % 10 == 3) {  // sums that outgrow 32 bits step by step, up and down
          AggregateKey up{"P1", Basis::kFinish, AggregateDim::kChannel, "online", "2025-02-02"};
          AggregateKey down{"P10", Basis::kReceipt, AggregateDim::kTotal, "", "2025-03-03"};
          deltas[up][2] += (int64_t{1} << 30) + 7;
          want[up][2] += (int64_t{1} << 30) + 7;
          deltas[down][3] -= (int64_t{1} << 30) + 5;
          want[down][3] -= (int64_t{1} << 30) + 5;
          deltas[down][4] += 1;
          want[down][4] += 1;
        }
        ASSERT_TRUE(runs.Add(std::move(deltas)).ok());
      }
      std::vector<std::pair<AggregateKey, Counts>> expected;
      for (const auto& [k, c] : want) {
        if (c != Counts{}) expected.push_back({k, c});
      }
      std::vector<std::pair<AggregateKey, Counts>> got;
      AggregateRow row;
      while (true) {
        auto more = runs.Next(&row);
        ASSERT_TRUE(more.ok()) << more.status();
        if (!*more) break;
        got.push_back({row.key, row.counts});
      }
      ASSERT_EQ(got.size(), expected.size());
      for (size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i].first, expected[i].first) << i;
        EXPECT_EQ(got[i].second, expected[i].second) << i;
      }
      if (budget == 600) {
        EXPECT_GT(runs.runs_written(), 48);  // merged in stages
      } else if (budget == size_t{1} << 30) {
        EXPECT_EQ(runs.runs_written(), 0);
      }
    }
  }
  // Every run file is gone with its AggregateRuns.
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(NonZeroRowsTest, KeepTheRowsThatMoveInKeyOrder) {
  AggregateDeltas deltas;
  auto key = [](const char* node, AggregateDim dim, const char* value, const char* day) {
    return AggregateKey{node, Basis::kReceipt, dim, value, day};
  };
  deltas[key("P1", AggregateDim::kProcedure, "B", "2025-01-03")][0] = 1;
  deltas[key("P1", AggregateDim::kTotal, "", "2025-01-03")];  // all zero
  deltas[key("P1", AggregateDim::kTotal, "", "2025-01-02")][0] = 1;
  deltas[key("P1", AggregateDim::kProcedure, "A", "2025-01-03")][3] = -1;
  const std::vector<AggregateRow> rows = NonZeroRows(deltas);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].key, key("P1", AggregateDim::kTotal, "", "2025-01-02"));
  EXPECT_EQ(rows[1].key, key("P1", AggregateDim::kProcedure, "A", "2025-01-03"));
  EXPECT_EQ(rows[2].key, key("P1", AggregateDim::kProcedure, "B", "2025-01-03"));
  EXPECT_EQ(rows[1].counts[3], -1);
}

TEST_F(MetricsTest, RebuildFromEventsMatchesTheIncrementalAggregates) {
  auto check = maintenance_->CheckAggregates();
  ASSERT_TRUE(check.ok()) << check.status();
  EXPECT_EQ(check->dossiers, static_cast<int64_t>(world_.dossiers.size()));
  EXPECT_GT(check->rows_compared, 1000);
  EXPECT_EQ(check->rows_differing, 0);
  // Corrupt one bucket: the check finds it, the repair fixes it.
  ASSERT_TRUE(store_->Write([](WriteTransaction& tx) {
                AggregateRow junk;
                junk.key = AggregateKey{"VN", Basis::kReceipt, AggregateDim::kTotal, "", "2025-05-05"};
                junk.counts[0] = 7;
                return tx.AddAggregates({junk});
              }).ok());
  EXPECT_EQ(maintenance_->CheckAggregates()->rows_differing, 1);
  EXPECT_TRUE(maintenance_->CheckAggregates(CheckOptions([](auto& o) { o.repair = true; }))->repaired);
  EXPECT_EQ(maintenance_->CheckAggregates()->rows_differing, 0);
}

// What a bug or a hand edit leaves in the aggregates, planted behind the
// store's back with the backend's own client: a counter changed, a row
// deleted, a row added, a roll-up row changed.
struct Planted {
  AggregateKey changed, deleted, added, rollup;
};

std::string KeyCondition(const AggregateKey& k) {
  return absl::StrCat("node_code = '", k.node_code, "' AND basis = ", static_cast<int>(k.basis),
                      " AND dim = ", static_cast<int>(k.dim), " AND dim_value = '", k.dim_value, "' AND day = '",
                      k.day, "'");
}

class AggregateCheckTest : public MetricsTest {
 protected:
  // A new dossier received online at P1.C2 (dossier codes P1.C2-250304-...).
  void RecordReceipt(const std::string& dossier) {
    FilingEvent e;
    e.event_id = dossier + "#r";
    e.dossier_code = dossier;
    e.agency_code = "P1.C2";
    e.occurred_at = absl::FromCivil(absl::CivilMinute(2025, 3, 4, 9, 30), VietnamTimeZone());
    e.kind = K::kReceived;
    e.procedure_code = world_.procedures[0].code;
    e.channel = Channel::kOnline;
    auto r = filings_->Record({e});
    ASSERT_EQ(r.outcomes.front().outcome, WriteOutcome::kApplied) << r.outcomes.front().status;
  }

  Planted Plant() {
    std::vector<AggregateRow> rows;
    EXPECT_TRUE(store_->Read([&](ReadTransaction& tx) -> absl::Status {
      PSTRACK_ASSIGN_OR_RETURN(rows, tx.AggregatePage(std::nullopt, 1000000));
      return absl::OkStatus();
    }).ok());
    Planted p;
    auto pick = [&](auto&& want) {
      for (const AggregateRow& r : rows) {
        if (want(r)) return r.key;
      }
      ADD_FAILURE() << "no row to plant in";
      return AggregateKey{};
    };
    auto received = [](const AggregateRow& r) { return r.counts[static_cast<int>(Counter::kReceived)] > 0; };
    p.changed = pick([&](const AggregateRow& r) {
      return r.key.node_code == "P1" && r.key.basis == Basis::kReceipt && r.key.dim == AggregateDim::kTotal &&
             received(r);
    });
    p.deleted = pick([&](const AggregateRow& r) {
      return r.key.node_code == "P2.C1" && r.key.dim == AggregateDim::kProcedure && received(r);
    });
    p.rollup = pick([&](const AggregateRow& r) {
      return r.key.node_code == "VN" && static_cast<int>(r.key.basis) == static_cast<int>(Basis::kReceipt) + kMonthGrain &&
             r.key.dim == AggregateDim::kChannel && received(r);
    });
    p.added = AggregateKey{"P1.C1", Basis::kReceipt, AggregateDim::kTotal, "", "2031-01-01"};
    const std::string url = testing::TestDatabaseUrl(dir_, "m.db");
    for (const std::string& sql :
         {absl::StrCat("UPDATE aggregates SET received = received + 5 WHERE ", KeyCondition(p.changed)),
          absl::StrCat("DELETE FROM aggregates WHERE ", KeyCondition(p.deleted)),
          absl::StrCat("INSERT INTO aggregates (node_code, basis, dim, dim_value, day, received, finished) VALUES ('",
                       p.added.node_code, "', 1, 0, '', '", p.added.day, "', 3, 1)"),
          absl::StrCat("UPDATE aggregates SET received = received - 1, late = late + 2 WHERE ",
                       KeyCondition(p.rollup))}) {
      EXPECT_EQ(testing::ExecSql(url, sql), "") << sql;
    }
    return p;
  }

  static bool Sampled(const AggregateCheck& check, const AggregateKey& key) {
    for (const auto& s : check.samples) {
      if (s.key == key) return true;
    }
    return false;
  }

  void ExpectFound(const AggregateCheck& check, const Planted& p) {
    EXPECT_EQ(check.rows_differing, 4);
    EXPECT_EQ(check.rows_changed, 2);
    EXPECT_EQ(check.rows_missing, 1);
    EXPECT_EQ(check.rows_unexpected, 1);
    for (const AggregateKey* k : {&p.changed, &p.deleted, &p.added, &p.rollup}) {
      EXPECT_TRUE(Sampled(check, *k)) << k->node_code << " " << k->day;
    }
    for (const auto& s : check.samples) {
      if (s.key == p.changed) {
        EXPECT_EQ(s.stored[static_cast<int>(Counter::kReceived)], s.expected[static_cast<int>(Counter::kReceived)] + 5);
      }
      if (s.key == p.added) {
        EXPECT_EQ(s.stored[static_cast<int>(Counter::kReceived)], 3);
        EXPECT_EQ(s.expected, Counts{});
      }
      if (s.key == p.deleted) {
        EXPECT_EQ(s.stored, Counts{});
      }
    }
    std::set<std::string> nodes, days;
    for (const auto& [node, rows] : check.nodes) nodes.insert(node);
    for (const auto& [day, rows] : check.days) days.insert(day);
    EXPECT_EQ(nodes, (std::set<std::string>{"P1", "P2.C1", "P1.C1", "VN"}));
    EXPECT_TRUE(days.contains("2031-01-01") && days.contains(p.changed.day) && days.contains(p.rollup.day));
  }

  void ExpectIndicatorsAsBruteForce() {
    for (const char* root : {"VN", "P1", "P2"}) {
      auto got = metrics_->Indicators({root, TreeView::kCurrent}, kPeriods[0], {}, std::nullopt);
      ASSERT_TRUE(got.ok()) << got.status();
      auto want = BruteForce(root, TreeView::kCurrent, kPeriods[0]);
      for (const auto& v : got->values) {
        if (v.id != "sync_completeness") ExpectSame(v, want[v.id], std::string("after repair, ") + root);
      }
    }
  }
};

TEST_F(AggregateCheckTest, FindsWhatWasPlantedSaysWhereAndRepairFixesOnlyThat) {
  auto clean = maintenance_->CheckAggregates();
  ASSERT_TRUE(clean.ok()) << clean.status();
  EXPECT_EQ(clean->rows_differing, 0);
  EXPECT_TRUE(clean->samples.empty() && clean->nodes.empty());
  const Planted planted = Plant();
  auto found = maintenance_->CheckAggregates();
  ASSERT_TRUE(found.ok()) << found.status();
  ExpectFound(*found, planted);
  EXPECT_EQ(found->rows_compared, clean->rows_compared + 1);  // the added row
  EXPECT_FALSE(found->repaired);

  auto repaired = maintenance_->CheckAggregates(CheckOptions([](auto& o) { o.repair = true; }));
  ASSERT_TRUE(repaired.ok()) << repaired.status();
  ExpectFound(*repaired, planted);
  EXPECT_TRUE(repaired->repaired);
  EXPECT_EQ(repaired->rows_repaired, 4);
  auto after = maintenance_->CheckAggregates();
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->rows_differing, 0);
  ExpectIndicatorsAsBruteForce();
}

// With a memory budget of a few rows the expected rows go through dozens of
// sorted runs (merged into fewer past the open-file limit): the same finding.
TEST_F(AggregateCheckTest, ATinyMemoryBudgetSpillsAndFindsTheSame) {
  const Planted planted = Plant();
  auto spilled = maintenance_->CheckAggregates(CheckOptions([](auto& o) {
    o.memory_budget = 4096;
    o.dossiers_per_page = 7;
    o.rows_per_page = 13;
  }));
  ASSERT_TRUE(spilled.ok()) << spilled.status();
  ExpectFound(*spilled, planted);
  EXPECT_GT(spilled->spill_runs, 60);
  auto repaired = maintenance_->CheckAggregates(CheckOptions([](auto& o) {
    o.repair = true;
    o.memory_budget = 4096;
    o.dossiers_per_page = 7;
    o.rows_per_page = 13;
    o.rows_per_repair = 1;
  }));
  ASSERT_TRUE(repaired.ok()) << repaired.status();
  EXPECT_EQ(repaired->rows_repaired, 4);
  EXPECT_EQ(maintenance_->CheckAggregates()->rows_differing, 0);
  ExpectIndicatorsAsBruteForce();
}

// The check reads one snapshot and holds no writer: a write made while it
// runs lands at once, is not in what the check compares (no false
// difference), and a repair made after it keeps it.
TEST_F(AggregateCheckTest, WritesGoOnDuringTheCheckAndTheRepairKeepsThem) {
  const Planted planted = Plant();
  int pages = 0;
  auto record = [&](const std::string& dossier) { RecordReceipt(dossier); };
  auto before = metrics_->Indicators({"P1", TreeView::kCurrent}, kPeriods[0], {"received"}, std::nullopt);
  ASSERT_TRUE(before.ok());
  auto repaired = maintenance_->CheckAggregates(CheckOptions([&](auto& o) {
    o.repair = true;
    o.dossiers_per_page = 50;
    o.after_page = [&] {
      if (pages++ < 2) record(absl::StrCat("P1.C2-250304-990", pages));
    };
  }));
  ASSERT_TRUE(repaired.ok()) << repaired.status();
  ExpectFound(*repaired, planted);
  EXPECT_EQ(repaired->dossiers, static_cast<int64_t>(world_.dossiers.size()));  // the snapshot's
  auto after = maintenance_->CheckAggregates();
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->rows_differing, 0);
  EXPECT_EQ(after->dossiers, static_cast<int64_t>(world_.dossiers.size()) + 2);
  auto now = metrics_->Indicators({"P1", TreeView::kCurrent}, kPeriods[0], {"received"}, std::nullopt);
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->values.front().value, before->values.front().value + 2);
}

TEST_F(AggregateCheckTest, StopsAtTheDeadlineOrACancellationAndRepairsNothing) {
  const Planted planted = Plant();
  bool cancel = false;
  int pages = 0;
  {
    ScopedCallLimits limits(absl::InfiniteFuture(), [&] { return cancel; });
    auto stopped = maintenance_->CheckAggregates(CheckOptions([&](auto& o) {
      o.repair = true;
      o.dossiers_per_page = 10;
      o.after_page = [&] { cancel = ++pages == 3; };
    }));
    EXPECT_EQ(stopped.status().code(), absl::StatusCode::kCancelled) << stopped.status();
  }
  EXPECT_EQ(pages, 3);
  {
    ScopedCallLimits limits(absl::Now() + absl::Milliseconds(50));
    auto stopped = maintenance_->CheckAggregates(CheckOptions([&](auto& o) {
      o.repair = true;
      o.dossiers_per_page = 5;
      o.after_page = [] { absl::SleepFor(absl::Milliseconds(20)); };
    }));
    EXPECT_EQ(stopped.status().code(), absl::StatusCode::kDeadlineExceeded) << stopped.status();
  }
  auto check = maintenance_->CheckAggregates();
  ASSERT_TRUE(check.ok());
  ExpectFound(*check, planted);  // nothing was repaired
}

// The check's snapshot keeps a SQLite file's log from being emptied: it
// gives up once the log has grown past long_snapshot_wal_mib under the
// writers, instead of filling the disk under them, and every write lands.
// PostgreSQL has no such log to outgrow: the same check completes.
TEST_F(AggregateCheckTest, GivesUpWhenTheLogOutgrowsItsLimitAndEveryWriteLands) {
  metrics_.reset();
  filings_.reset();
  store_->Close();
  StoreOptions options;
  options.long_snapshot_wal_mib = 1;
  auto store = OpenStore(testing::TestDatabaseUrl(dir_, "m.db"), options);
  ASSERT_TRUE(store.ok()) << store.status();
  store_ = std::move(*store);
  filings_ = std::make_unique<Filings>(*store_, calendar_);
  MakeUseCases();
  int recorded = 0;
  auto check = maintenance_->CheckAggregates(CheckOptions([&](auto& o) {
    o.dossiers_per_page = 5;
    o.after_page = [&] {
      for (int i = 0; i < 10; ++i) RecordReceipt(absl::StrFormat("P1.C2-250304-9%04d", recorded++));
    };
  }));
  if (store_->backend() == "sqlite") {
    EXPECT_EQ(check.status().code(), absl::StatusCode::kResourceExhausted) << check.status();
    EXPECT_NE(check.status().message().find("long_snapshot_wal_mib"), absl::string_view::npos) << check.status();
    EXPECT_LT(recorded, static_cast<int>(world_.dossiers.size()) * 2);  // it stopped early
  } else {
    EXPECT_TRUE(check.ok()) << check.status();
  }
  auto after = maintenance_->CheckAggregates();
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->rows_differing, 0);
  EXPECT_EQ(after->dossiers, static_cast<int64_t>(world_.dossiers.size()) + recorded);
}

// A catalog change (statutory time, online mode, fee) and an agency move
// re-derive the dossiers and aggregates in the same transaction: the
// aggregates still equal a rebuild, and the indicators the recomputation.
TEST_F(MetricsTest, CatalogChangesAndAgencyMovesKeepDerivedDataExact) {
  Catalog catalog(*store_, [&](CatalogWriter& tx, const Procedure& before, const Procedure& after) {
    return RederiveProcedure(WholeTransaction(tx), *calendar_, before, after);
  });
  Procedure changed = world_.procedures[0];
  changed.resolution_amount = 5;
  changed.online_mode = OnlineMode::kPartial;
  changed.fee_bearing = true;
  auto upserted = catalog.Upsert(changed);
  ASSERT_TRUE(upserted.ok()) << upserted.status();
  world_.procedures[0] = upserted->procedure;
  AgencyRegistry registry(*store_, [&](AgencyWriter& tx, absl::string_view from, absl::string_view to) {
    return RederiveMovedSubtree(WholeTransaction(tx), *calendar_, from, to);
  });
  Agency move;
  move.code = "P1.C2";
  move.parent_code = "P2";
  ASSERT_TRUE(registry.Update(move, {AgencyField::kParentCode}, 0).ok());
  for (auto& a : world_.agencies) a = *registry.Get(a.code);
  // The recomputation, with the new procedure and the new tree.
  for (size_t i = 0; i < states_.size(); ++i) {
    const Procedure* p = states_[i].second;
    if (p && p->code == changed.code) p = &world_.procedures[0];
    states_[i] = {*Replay(world_.dossiers[i], *calendar_, p), p};
  }
  auto check = maintenance_->CheckAggregates();
  ASSERT_TRUE(check.ok());
  EXPECT_EQ(check->rows_differing, 0);
  for (const char* root : {"VN", "P1", "P2"}) {
    auto got = metrics_->Indicators({root, TreeView::kCurrent}, kPeriods[0], {}, std::nullopt);
    ASSERT_TRUE(got.ok());
    auto want = BruteForce(root, TreeView::kCurrent, kPeriods[0]);
    for (const auto& v : got->values) {
      if (v.id != "sync_completeness") ExpectSame(v, want[v.id], std::string("after changes, ") + root);
    }
  }
  auto moved = filings_->List({.agency_code = "P2", .page_size = 1000});
  ASSERT_TRUE(moved.ok());
  int from_c2 = 0;
  for (const auto& d : moved->dossiers) from_c2 += d.state.agency_code == "P1.C2";
  EXPECT_GT(from_c2, 0);
}

TEST_F(MetricsTest, BadInputIsRefusedNamingTheField) {
  EXPECT_EQ(metrics_->Indicators({"NOPE", TreeView::kCurrent}, kPeriods[0], {}, std::nullopt).status().code(),
            absl::StatusCode::kNotFound);
  auto reversed = metrics_->Indicators({"VN", TreeView::kCurrent}, {Date(2025, 5, 1), Date(2025, 4, 1)}, {}, std::nullopt);
  EXPECT_EQ(reversed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(reversed.status().message().find("period.end"), absl::string_view::npos);
  auto unknown = metrics_->Indicators({"VN", TreeView::kCurrent}, kPeriods[0], {"happiness"}, std::nullopt);
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("indicator_ids"), absl::string_view::npos);
  EXPECT_EQ(metrics_->Indicators({"VN", TreeView::kCurrent}, {Date(1990, 1, 1), Date(1991, 1, 1)}, {}, std::nullopt)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  auto input = inputs_->Submit({{"x", "P1", "nonsense", kPeriods[0], 1, 2, 0, "t"},
                                               {"y", "P1", "complaints_on_time", kPeriods[0], 3, 2, 0, "t"},
                                               {"z", "NOPE", "complaints_on_time", kPeriods[0], 1, 2, 0, "t"}});
  EXPECT_NE(input[0].status.message().find("input.indicator_id"), absl::string_view::npos) << input[0].status;
  EXPECT_NE(input[1].status.message().find("input.numerator"), absl::string_view::npos) << input[1].status;
  EXPECT_EQ(input[2].status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(metrics_->Score({"P1", TreeView::kCurrent}, kPeriods[0], "nope@1").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(ParsePeriodLabel("2025-Q5", "period").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParsePeriodLabel("2025-Q3", "period")->start, Date(2025, 7, 1));
  EXPECT_EQ(ParsePeriodLabel("2025-02", "period")->end, Date(2025, 3, 1));
}

}  // namespace
}  // namespace pstrack

namespace pstrack {
namespace {

// A small case computed by hand: four dossiers at one commune in June 2025,
// procedure of 3 working days (appointment = receipt + 3 working days).
TEST(MetricsGoldenTest, FourDossiersByHand) {
  TempDir dir;
  auto store = OpenStore(testing::TestDatabaseUrl(dir, "g.db"));
  ASSERT_TRUE(store.ok());
  AgencyRegistry registry(**store);
  for (const Agency& a : {MakeAgency("VN", AgencyLevel::kNation, ""), MakeAgency("P1", AgencyLevel::kProvince, "VN"),
                          MakeAgency("P1.C1", AgencyLevel::kCommune, "P1")}) {
    ASSERT_TRUE(registry.Create(a).ok());
  }
  Procedure p = testing::MakeProcedure("1.000001");
  p.resolution_amount = 3;
  p.fee_bearing = true;
  p.online_payment_integrated = true;
  ASSERT_TRUE(Catalog(**store).Upsert(p).ok());
  auto calendar = WorkingCalendar::LoadDirectory(std::string(PSTRACK_SOURCE_DIR) + "/data/calendar");
  auto shared = std::make_shared<const WorkingCalendar>(*std::move(calendar));
  Filings filings(**store, shared);
  Metrics metrics(**store, shared, nullptr);
  auto ev = [](std::string id, std::string dossier, K kind, Date d, int hh, std::function<void(FilingEvent&)> f = nullptr) {
    FilingEvent e;
    e.event_id = std::move(id);
    e.dossier_code = std::move(dossier);
    e.agency_code = "P1.C1";
    e.occurred_at = Local(d, hh);
    e.kind = kind;
    if (kind == K::kReceived) e.procedure_code = "1.000001";
    if (f) f(e);
    return e;
  };
  auto online = [](FilingEvent& e) { e.channel = Channel::kOnline; };
  auto in_person = [](FilingEvent& e) { e.channel = Channel::kInPerson; };
  // A: online, Mon 2 June 10:00, due Thu 5 June; resolved 4 June: early; paid 20,000 online; satisfied.
  // B: in person, Mon 2 June, resolved Fri 6 June: late; paid 20,000 at the counter.
  // C: online, Tue 3 June, due Fri 6 June; resolved 6 June: on time; electronic result.
  // D: in person, Wed 25 June, still open; due Mon 30 June: overdue at 1 July 00:00.
  auto r = filings.Record({
      ev("a1", "P1.C1-250602-0001", K::kReceived, Date(2025, 6, 2), 10, online),
      ev("a2", "P1.C1-250602-0001", K::kPayment, Date(2025, 6, 2), 11, [](FilingEvent& e) { e.amount_vnd = 20000; e.paid_online = true; }),
      ev("a3", "P1.C1-250602-0001", K::kResolved, Date(2025, 6, 4), 10),
      ev("a4", "P1.C1-250602-0001", K::kFeedback, Date(2025, 6, 4), 12, [](FilingEvent& e) { e.rating = Rating::kSatisfied; }),
      ev("b1", "P1.C1-250602-0002", K::kReceived, Date(2025, 6, 2), 10, in_person),
      ev("b2", "P1.C1-250602-0002", K::kPayment, Date(2025, 6, 2), 11, [](FilingEvent& e) { e.amount_vnd = 20000; }),
      ev("b3", "P1.C1-250602-0002", K::kResolved, Date(2025, 6, 6), 10),
      ev("c1", "P1.C1-250603-0003", K::kReceived, Date(2025, 6, 3), 9, online),
      ev("c2", "P1.C1-250603-0003", K::kResolved, Date(2025, 6, 6), 16, [](FilingEvent& e) { e.electronic_result = true; }),
      ev("d1", "P1.C1-250625-0004", K::kReceived, Date(2025, 6, 25), 9, in_person),
  });
  for (const auto& o : r.outcomes) ASSERT_EQ(o.outcome, WriteOutcome::kApplied) << o.status;
  auto got = metrics.Indicators({"P1", TreeView::kCurrent}, {Date(2025, 6, 1), Date(2025, 7, 1)}, {}, std::nullopt);
  ASSERT_TRUE(got.ok()) << got.status();
  std::map<std::string, IndicatorValue> v;
  for (const auto& x : got->values) v[x.id] = x;
  auto expect = [&](const char* id, double n, double d) {
    EXPECT_EQ(v[id].numerator, n) << id;
    EXPECT_EQ(v[id].denominator, d) << id;
  };
  expect("online_submission_rate", 2, 4);
  expect("on_time_rate", 2, 3);      // A early, C on time, B late
  expect("early_rate", 1, 3);
  expect("late_rate", 1, 3);
  expect("on_time_rate_portal", 2, 4);  // + D open but overdue at the period's end
  expect("overdue_open", 1, 1);
  expect("online_payment_rate", 1, 2);
  expect("electronic_result_rate", 1, 3);
  expect("satisfaction_rate", 1, 1);
  expect("online_service_coverage", 1, 1);
  // A: Mon 2 to Wed 4 = 2 working days; B: 2 to Fri 6 = 4; C: Tue 3 to Fri 6 = 3.
  expect("average_processing_days", 9, 3);
  EXPECT_DOUBLE_EQ(v["average_processing_days"].value, 3.0);
}

}  // namespace
}  // namespace pstrack
