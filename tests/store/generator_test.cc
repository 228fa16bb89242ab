// The benchmark data generator (tools/gen): the same seed gives the same
// data, the world looks like the country, a sample loads into a real store
// with no rejection and with the mix the generator intended, and its CSV
// files read back as what was generated.
#include "tools/gen/generator.h"

#include <fstream>
#include <sstream>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "services/agencies/agency_csv.h"
#include "services/agencies/agency_registry.h"
#include "services/catalog/catalog.h"
#include "services/catalog/procedure_csv.h"
#include "services/lifecycle/event_csv.h"
#include "services/common/status.h"
#include "services/filings/filings.h"
#include "tests/test_database.h"
#include "tools/gen/bulk_load.h"
#include "storage/store.h"

namespace pstrack {
namespace {

std::shared_ptr<const WorkingCalendar> Calendar() { return testing::PublishedCalendar(); }

gen::GenOptions Options(int64_t dossiers, uint64_t seed = 7) {
  gen::GenOptions o;
  o.seed = seed;
  o.dossiers = dossiers;
  o.calendar = Calendar();
  return o;
}

std::vector<FilingEvent> Events(const gen::GenOptions& o, const gen::World& w, int64_t from, int64_t to,
                                gen::GenTotals* totals = nullptr) {
  std::vector<FilingEvent> out;
  for (int64_t i = from; i < to; ++i) gen::DossierEvents(o, w, i, &out, totals);
  return out;
}

std::vector<std::string> Encoded(const std::vector<FilingEvent>& events) {
  std::vector<std::string> out;
  for (const FilingEvent& e : events) out.push_back(EncodeEvent(e));
  return out;
}

double Share(int64_t part, int64_t whole) {
  return whole == 0 ? 0 : static_cast<double>(part) / static_cast<double>(whole);
}

TEST(GeneratorTest, SameSeedGivesSameDataAnotherSeedOther) {
  const gen::GenOptions o = Options(5000);
  const gen::World a = gen::MakeWorld(o), b = gen::MakeWorld(o);
  EXPECT_EQ(gen::AgencyCsv(a.agencies), gen::AgencyCsv(b.agencies));
  EXPECT_EQ(gen::ProcedureCsv(a.procedures), gen::ProcedureCsv(b.procedures));
  const std::vector<std::string> in_order = Encoded(Events(o, a, 0, 5000));
  EXPECT_EQ(in_order, Encoded(Events(o, b, 0, 5000)));
  // A dossier depends on its index alone: any subset, any order.
  std::vector<std::string> backwards;
  for (int64_t i = 4999; i >= 0; --i) {
    std::vector<std::string> one = Encoded(Events(o, b, i, i + 1));
    backwards.insert(backwards.begin(), one.begin(), one.end());
  }
  EXPECT_EQ(in_order, backwards);

  const gen::GenOptions other = Options(5000, 8);
  const gen::World c = gen::MakeWorld(other);
  EXPECT_NE(gen::AgencyCsv(a.agencies), gen::AgencyCsv(c.agencies));
  EXPECT_NE(gen::ProcedureCsv(a.procedures), gen::ProcedureCsv(c.procedures));
  EXPECT_NE(in_order, Encoded(Events(other, c, 0, 5000)));

  // Dossier codes and event ids are unique; ids follow the dossier code.
  absl::flat_hash_set<std::string> ids, codes;
  for (const FilingEvent& e : Events(o, a, 0, 5000)) {
    EXPECT_TRUE(ids.insert(e.event_id).second) << e.event_id;
    EXPECT_TRUE(absl::StartsWith(e.event_id, e.dossier_code + "/")) << e.event_id;
    EXPECT_TRUE(ValidateEvent(e).ok()) << ValidateEvent(e);
    codes.insert(e.dossier_code);
  }
  EXPECT_EQ(codes.size(), 5000u);
}

TEST(GeneratorTest, TheWorldLooksLikeTheCountry) {
  const gen::World w = gen::MakeWorld(Options(1000));
  // The provinces are those of the reference file, as they are there.
  std::ifstream file(std::string(PSTRACK_SOURCE_DIR) + "/data/agencies/vn_provinces.csv");
  std::stringstream text;
  text << file.rdbuf();
  auto reference = ParseAgencyCsv(text.str());
  ASSERT_TRUE(reference.ok()) << reference.status();
  absl::flat_hash_map<std::string, Agency> in_force;
  for (const auto& row : *reference) {
    ASSERT_TRUE(row.agency.ok());
    if (row.agency->code == "VN" || row.agency->code[0] == 'P') in_force[row.agency->code] = *row.agency;
  }
  ASSERT_EQ(in_force.size(), 35u);

  absl::flat_hash_map<std::string, AgencyLevel> levels;
  absl::flat_hash_map<std::string, int> departments;
  int provinces = 0, communes = 0, wards = 0, zones = 0;
  ASSERT_EQ(w.agencies[0].code, "VN");
  for (const Agency& a : w.agencies) {
    EXPECT_TRUE(ValidateAgencyFields(a).ok()) << ValidateAgencyFields(a);
    if (a.level != AgencyLevel::kNation) {
      ASSERT_TRUE(levels.contains(a.parent_code)) << a.code << ": parent after child";
      EXPECT_TRUE(LevelMayHaveParent(a.level, levels[a.parent_code])) << a.code;
    }
    EXPECT_TRUE(levels.emplace(a.code, a.level).second) << a.code << " twice";
    if (a.level == AgencyLevel::kProvince) {
      ++provinces;
      ASSERT_TRUE(in_force.contains(a.code)) << a.code;
      EXPECT_TRUE(a.SameContent(in_force[a.code])) << a.code;
    }
    if (a.level == AgencyLevel::kDepartment) ++departments[a.parent_code];
    if (a.level == AgencyLevel::kCommune) {
      ++communes;
      wards += absl::StartsWith(a.name, "Phường ");
      zones += absl::StartsWith(a.name, "Đặc khu ");
    }
  }
  EXPECT_EQ(provinces, 34);
  EXPECT_EQ(communes, 3321);  // as in 2025; unevenly split among provinces
  EXPECT_EQ(zones, 13);
  EXPECT_GT(wards, 500);
  EXPECT_LT(wards, 1000);
  ASSERT_EQ(departments.size(), 34u);
  for (const auto& [province, n] : departments) {
    EXPECT_GE(n, 13) << province;
    EXPECT_LE(n, 20) << province;
  }

  ASSERT_EQ(w.procedures.size(), 2000u);
  absl::flat_hash_set<std::string> codes;
  int full = 0, partial = 0, none = 0, eligible = 0, fee = 0, online_payment = 0, hours = 0, commune_level = 0;
  for (const Procedure& p : w.procedures) {
    EXPECT_TRUE(ValidateProcedureFields(p).ok()) << ValidateProcedureFields(p);
    EXPECT_TRUE(codes.insert(p.code).second) << p.code;
    for (const std::string& code : p.agency_codes) {
      EXPECT_EQ(levels[code], AgencyLevel::kDepartment) << p.code << " names " << code;
    }
    // A department-level procedure is carried out in every province.
    if (!p.agency_codes.empty()) {
      EXPECT_EQ(p.agency_codes.size(), 34u) << p.code;
    }
    (p.online_mode == OnlineMode::kFull ? full : p.online_mode == OnlineMode::kPartial ? partial : none)++;
    eligible += p.full_online_eligible;
    fee += p.fee_bearing;
    online_payment += p.online_payment_integrated;
    hours += p.resolution_unit == TimeUnit::kWorkingHours;
    commune_level += p.levels == std::vector<AgencyLevel>{AgencyLevel::kCommune};
  }
  const double n = 2000;
  EXPECT_NEAR(full / n, 0.55, 0.08);
  EXPECT_NEAR(partial / n, 0.25, 0.08);
  EXPECT_NEAR(none / n, 0.20, 0.08);
  EXPECT_GT(eligible, full);
  EXPECT_NEAR(fee / n, 0.5, 0.12);
  EXPECT_GT(online_payment, fee / 2);
  EXPECT_GT(hours, 40);
  EXPECT_NEAR(commune_level / n, 0.24, 0.02);
}

class GeneratorStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = OpenStore(testing::TestDatabaseUrl(dir_, "gen.db"));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
};

// Fails with the first rejection's reason.
void ExpectNoRejection(const std::vector<ItemOutcome>& outcomes, absl::string_view what) {
  int rejected = 0;
  for (const ItemOutcome& o : outcomes) {
    if (o.outcome != WriteOutcome::kRejected) continue;
    if (rejected++ == 0) ADD_FAILURE() << what << " '" << o.key << "' rejected: " << o.status;
  }
  EXPECT_EQ(rejected, 0) << what;
}

TEST_F(GeneratorStoreTest, ASampleLoadsWithNoRejectionAndTheIntendedMix) {
  const gen::GenOptions o = Options(3000);
  const gen::World w = gen::MakeWorld(o);
  std::vector<AgencyImportItem> agencies;
  for (const Agency& a : w.agencies) agencies.push_back({a, 0});
  ExpectNoRejection(AgencyRegistry(*store_).Import(agencies), "agency");
  std::vector<ProcedureImportItem> procedures;
  for (const Procedure& p : w.procedures) procedures.push_back({p, 0});
  ExpectNoRejection(Catalog(*store_).Import(procedures), "procedure");

  gen::GenTotals intended;
  const std::vector<FilingEvent> events = Events(o, w, 0, o.dossiers, &intended);
  Filings filings(*store_, Calendar());
  for (size_t from = 0; from < events.size(); from += 2000) {
    const std::vector<FilingEvent> batch(
        events.begin() + static_cast<std::ptrdiff_t>(from),
        events.begin() + static_cast<std::ptrdiff_t>(std::min(events.size(), from + 2000)));
    ExpectNoRejection(filings.Record(batch).outcomes, "event");
  }

  // What pstrack made of the dossiers is exactly what the generator intended.
  gen::GenTotals realized;
  DossierListRequest request{.page_size = 1000};
  do {
    auto page = filings.List(request);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const DossierView& v : page->dossiers) {
      const DossierState& s = v.state;
      ++realized.dossiers;
      realized.events += s.event_count;
      if (s.received()) {
        ++realized.received;
        ++(s.channel == Channel::kOnline   ? realized.online
           : s.channel == Channel::kPostal ? realized.postal
                                           : realized.in_person);
      }
      switch (s.finish_kind) {
        case FinishKind::kNotAccepted: ++realized.not_accepted; break;
        case FinishKind::kWithdrawn: ++realized.withdrawn; break;
        case FinishKind::kStopped: ++realized.stopped; break;
        case FinishKind::kNone: ++realized.open; break;
        case FinishKind::kResolved:
        case FinishKind::kResultReturned:
          ++realized.resolved;
          ++(s.timeliness == Timeliness::kEarly    ? realized.early
             : s.timeliness == Timeliness::kOnTime ? realized.on_time
                                                   : realized.late);
          break;
      }
      realized.returned += s.status == DossierStatus::kResultReturned;
      realized.supplemented += s.supplement_requests > 0;
      realized.two_supplements += s.supplement_requests > 1;
      realized.reappointed += s.reappointed_date.has_value();
      realized.declared += s.declared_appointment.has_value();
      realized.declared_mismatch += s.appointment_mismatch;
      realized.paid += s.paid_amount_vnd > 0;
      realized.paid_online += s.paid_online;
      realized.digitised += s.digitised_documents;
      realized.feedback += s.feedback_count > 0;
      realized.satisfied += s.rating == Rating::kVerySatisfied || s.rating == Rating::kSatisfied;
      realized.complaints += s.complaint;
    }
    request.page_token = page->next_page_token;
  } while (!request.page_token.empty());

  EXPECT_EQ(realized.dossiers, 3000);
  EXPECT_EQ(realized.events, static_cast<int64_t>(events.size()));
  EXPECT_EQ(realized.events, intended.events);
  EXPECT_EQ(realized.received, intended.received);
  EXPECT_EQ(realized.online, intended.online);
  EXPECT_EQ(realized.postal, intended.postal);
  EXPECT_EQ(realized.in_person, intended.in_person);
  EXPECT_EQ(realized.not_accepted, intended.not_accepted);
  EXPECT_EQ(realized.withdrawn, intended.withdrawn);
  EXPECT_EQ(realized.stopped, intended.stopped);
  EXPECT_EQ(realized.open, intended.open);
  EXPECT_EQ(realized.resolved, intended.resolved);
  EXPECT_EQ(realized.early, intended.early);
  EXPECT_EQ(realized.on_time, intended.on_time);
  EXPECT_EQ(realized.late, intended.late);
  EXPECT_EQ(realized.returned, intended.returned);
  EXPECT_EQ(realized.supplemented, intended.supplemented);
  EXPECT_EQ(realized.two_supplements, intended.two_supplements);
  EXPECT_EQ(realized.reappointed, intended.reappointed);
  EXPECT_EQ(realized.declared, intended.declared);
  EXPECT_EQ(realized.declared_mismatch, intended.declared_mismatch);
  EXPECT_EQ(realized.paid, intended.paid);
  EXPECT_EQ(realized.paid_online, intended.paid_online);
  EXPECT_EQ(realized.digitised, intended.digitised);
  EXPECT_EQ(realized.feedback, intended.feedback);
  EXPECT_EQ(realized.satisfied, intended.satisfied);
  EXPECT_EQ(realized.complaints, intended.complaints);

  // And the mix is the realistic one (3,000 dossiers: a few points of noise).
  const int64_t n = realized.dossiers;
  EXPECT_NEAR(Share(realized.online, realized.received), 0.65, 0.07);
  EXPECT_NEAR(Share(realized.not_accepted, n), 0.01, 0.007);
  EXPECT_NEAR(Share(realized.withdrawn, n), 0.01, 0.007);
  EXPECT_NEAR(Share(realized.supplemented, realized.received), 0.05, 0.02);
  EXPECT_NEAR(Share(realized.reappointed, realized.received), 0.01, 0.007);
  EXPECT_GE(Share(realized.late, realized.resolved), 0.03);
  EXPECT_LE(Share(realized.late, realized.resolved), 0.08);
  EXPECT_GT(realized.early, realized.on_time);
  EXPECT_NEAR(Share(realized.paid_online, realized.paid), 0.4, 0.1);
  EXPECT_NEAR(Share(realized.digitised, realized.received), 0.6, 0.06);
  EXPECT_NEAR(Share(realized.feedback, realized.received), 0.2, 0.04);
  EXPECT_GT(Share(realized.satisfied, realized.feedback), 0.85);
  EXPECT_GT(Share(realized.declared, realized.received), 0.85);
}

TEST(GeneratorTest, CsvFilesReadBackAsGenerated) {
  const gen::GenOptions o = Options(2000);
  const gen::World w = gen::MakeWorld(o);
  auto agencies = ParseAgencyCsv(gen::AgencyCsv(w.agencies));
  ASSERT_TRUE(agencies.ok()) << agencies.status();
  ASSERT_EQ(agencies->size(), w.agencies.size());
  for (size_t i = 0; i < w.agencies.size(); ++i) {
    ASSERT_TRUE((*agencies)[i].agency.ok()) << (*agencies)[i].agency.status();
    EXPECT_TRUE((*agencies)[i].agency->SameContent(w.agencies[i])) << w.agencies[i].code;
  }
  auto procedures = ParseProcedureCsv(gen::ProcedureCsv(w.procedures));
  ASSERT_TRUE(procedures.ok()) << procedures.status();
  ASSERT_EQ(procedures->size(), w.procedures.size());
  for (size_t i = 0; i < w.procedures.size(); ++i) {
    ASSERT_TRUE((*procedures)[i].procedure.ok()) << (*procedures)[i].procedure.status();
    EXPECT_TRUE((*procedures)[i].procedure->SameContent(w.procedures[i])) << w.procedures[i].code;
  }
  const std::vector<FilingEvent> events = Events(o, w, 0, o.dossiers);
  std::string csv = gen::kEventCsvHeader;
  for (const FilingEvent& e : events) gen::AppendEventCsv(e, &csv);
  auto rows = ParseEventCsv(csv);
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    ASSERT_TRUE((*rows)[i].event.ok()) << "line " << (*rows)[i].line << ": " << (*rows)[i].event.status();
    EXPECT_EQ(EncodeEvent(*(*rows)[i].event), EncodeEvent(events[i]));
  }
}


// Loads the world's agencies and procedures into `store`.
void LoadWorld(Store& store, const gen::World& w) {
  std::vector<AgencyImportItem> agencies;
  for (const Agency& a : w.agencies) agencies.push_back({a, 0});
  ExpectNoRejection(AgencyRegistry(store).Import(agencies), "agency");
  std::vector<ProcedureImportItem> procedures;
  for (const Procedure& p : w.procedures) procedures.push_back({p, 0});
  ExpectNoRejection(Catalog(store).Import(procedures), "procedure");
}

// The bulk loader of the benchmark databases writes the dossier index and
// the aggregates that recording the same events through the write path
// writes (here in batches that split dossiers, so that the write path also
// takes contributions out and puts them back).
TEST_F(GeneratorStoreTest, BulkLoadWritesWhatTheWritePathWrites) {
  const gen::GenOptions o = Options(1500, 3);
  const gen::World w = gen::MakeWorld(o);
  LoadWorld(*store_, w);
  const std::vector<FilingEvent> events = Events(o, w, 0, o.dossiers);
  Filings filings(*store_, Calendar());
  for (size_t from = 0; from < events.size(); from += 1700) {
    ExpectNoRejection(filings.Record(std::vector<FilingEvent>(events.begin() + static_cast<std::ptrdiff_t>(from),
                                                              events.begin() + static_cast<std::ptrdiff_t>(std::min(
                                                                                   events.size(), from + 1700))))
                          .outcomes,
                      "event");
  }
  for (bool with_events : {true, false}) {
    SCOPED_TRACE(with_events ? "with events" : "without events");
    auto bulk_store = OpenStore(testing::TestDatabaseUrl(dir_, with_events ? "bulk.db" : "bulk-no-events.db"));
    ASSERT_TRUE(bulk_store.ok()) << bulk_store.status();
    LoadWorld(**bulk_store, w);
    gen::BulkLoadOptions bulk;
    bulk.with_events = with_events;
    bulk.per_transaction = 400;  // several transactions, merging in the store
    int64_t reported = 0;
    bulk.progress = [&](int64_t dossiers, int64_t) { reported = dossiers; };
    ASSERT_TRUE(gen::BulkLoad(**bulk_store, o, w, Calendar(), bulk).ok());
    EXPECT_EQ(reported, o.dossiers);

    struct Content {
      std::vector<AggregateRow> aggregates;
      std::vector<DossierRow> dossiers;
      int64_t events = 0;
    };
    auto read = [](Store& store) {
      Content c;
      EXPECT_TRUE(store.Read([&](ReadTransaction& tx) -> absl::Status {
        PSTRACK_ASSIGN_OR_RETURN(c.aggregates, tx.AllAggregates());
        DossierQuery q;
        q.limit = 1000000;
        PSTRACK_ASSIGN_OR_RETURN(c.dossiers, tx.ListDossiers(q));
        PSTRACK_ASSIGN_OR_RETURN(c.events, tx.CountEvents());
        return absl::OkStatus();
      }).ok());
      std::sort(c.aggregates.begin(), c.aggregates.end(),
                [](const AggregateRow& a, const AggregateRow& b) { return a.key < b.key; });
      return c;
    };
    const Content want = read(*store_), got = read(**bulk_store);
    ASSERT_GT(want.aggregates.size(), 10000u);
    ASSERT_EQ(got.aggregates.size(), want.aggregates.size());
    for (size_t i = 0; i < want.aggregates.size(); ++i) {
      ASSERT_TRUE(got.aggregates[i].key == want.aggregates[i].key) << i << " " << got.aggregates[i].key.node_code;
      ASSERT_EQ(got.aggregates[i].counts, want.aggregates[i].counts) << want.aggregates[i].key.node_code << " "
                                                                     << want.aggregates[i].key.dim_value << " "
                                                                     << want.aggregates[i].key.day;
    }
    ASSERT_EQ(got.dossiers.size(), static_cast<size_t>(o.dossiers));
    ASSERT_EQ(got.dossiers.size(), want.dossiers.size());
    for (size_t i = 0; i < want.dossiers.size(); ++i) {
      auto fields = [](const DossierRow& r) {
        return std::tie(r.code, r.agency_code, r.agency_path, r.procedure_code, r.status, r.channel, r.received_us,
                        r.due_us, r.finish_us, r.wait_since_us, r.overdue_from_us, r.portal_overdue_from_us,
                        r.received_day, r.finish_day, r.event_count);
      };
      ASSERT_TRUE(fields(got.dossiers[i]) == fields(want.dossiers[i])) << want.dossiers[i].code;
    }
    EXPECT_EQ(got.events, with_events ? want.events : 0);
    (*bulk_store)->Close();
  }
}

}  // namespace
}  // namespace pstrack
