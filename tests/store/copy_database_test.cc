// Moving up: a SQLite database copied into another database (PostgreSQL in
// the PostgreSQL run of this suite) gives the same indicators, dossiers and
// scores before and after.
#include "services/admin/copy_database.h"

#include <fstream>
#include <random>
#include <sstream>

#include "gtest/gtest.h"
#include "services/agencies/agency_csv.h"
#include "services/agencies/agency_registry.h"
#include "services/catalog/catalog.h"
#include "services/catalog/procedure_csv.h"
#include "services/lifecycle/event_csv.h"
#include "services/filings/filings.h"
#include "services/metrics/external_inputs.h"
#include "services/metrics/metrics.h"
#include "services/reports/reports.h"
#include "services/security/access_control.h"
#include "tests/test_database.h"
#include "storage/store.h"

namespace pstrack {
namespace {

using testing::TempDir;

std::string Read(const std::string& rel) {
  std::ifstream in(std::string(PSTRACK_SOURCE_DIR) + rel);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(CopyDatabaseTest, IndicatorsAreTheSameBeforeAndAfter) {
  TempDir dir;
  auto calendar = std::make_shared<const WorkingCalendar>(
      *WorkingCalendar::LoadDirectory(std::string(PSTRACK_SOURCE_DIR) + "/data/calendar"));
  auto methodologies = std::make_shared<const MethodologyRegistry>(*MethodologyRegistry::LoadDirectory(
      std::string(PSTRACK_SOURCE_DIR) + "/data/methodologies", BuiltinIndicatorIds()));
  auto source = OpenStore("sqlite:" + dir.File("source.db"));
  ASSERT_TRUE(source.ok()) << source.status();
  // Reference data and the sample catalog.
  std::vector<AgencyImportItem> agencies;
  for (const char* file : {"/data/agencies/vn_provinces.csv", "/data/sample/agencies_quang_ninh.csv"}) {
    auto rows = ParseAgencyCsv(Read(file));
    ASSERT_TRUE(rows.ok());
    for (auto& row : *rows) agencies.push_back({*row.agency, row.line});
  }
  for (const auto& o : AgencyRegistry(**source).Import(agencies)) ASSERT_NE(o.outcome, WriteOutcome::kRejected) << o.status;
  std::vector<ProcedureImportItem> procedures;
  auto procedure_rows = ParseProcedureCsv(Read("/data/sample/procedures.csv"));
  ASSERT_TRUE(procedure_rows.ok());
  for (auto& row : *procedure_rows) procedures.push_back({*row.procedure, row.line});
  for (const auto& o : Catalog(**source).Import(procedures)) ASSERT_NE(o.outcome, WriteOutcome::kRejected) << o.status;
  // The sample events, and 200 generated dossiers at wards of Quảng Ninh.
  std::vector<FilingEvent> events;
  auto event_rows = ParseEventCsv(Read("/data/sample/events.csv"));
  ASSERT_TRUE(event_rows.ok());
  for (auto& row : *event_rows) events.push_back(*row.event);
  std::mt19937 rng(2025);
  const char* wards[] = {"P22.HALONG", "P22.BAICHAY", "P22.CAMPHA", "P22.UONGBI"};
  const char* codes[] = {"1.004873", "1.004884", "2.000720", "1.001266"};
  for (int n = 0; n < 200; ++n) {
    Date day = Date(2025, 7, 1) + static_cast<int>(rng() % 150);
    const char* ward = wards[rng() % 4];
    char code[48];
    std::snprintf(code, sizeof code, "%s-25%02d%02d-%04d", ward, day.month(), day.day(), n);
    absl::Time t = absl::FromCivil(absl::CivilSecond(day.year(), day.month(), day.day(), 8 + rng() % 9, 0, 0),
                                   VietnamTimeZone());
    FilingEvent r;
    r.event_id = std::string(code) + "/r";
    r.dossier_code = code;
    r.agency_code = ward;
    r.procedure_code = codes[rng() % 4];
    r.occurred_at = t;
    r.kind = EventKind::kReceived;
    r.channel = static_cast<Channel>(1 + rng() % 3);
    events.push_back(r);
    if (rng() % 4 != 0) {
      FilingEvent x = r;
      x.event_id = std::string(code) + "/x";
      x.procedure_code.clear();
      x.channel = Channel::kUnspecified;
      x.kind = EventKind::kResolved;
      x.occurred_at = t + absl::Hours(20 + rng() % 400);
      x.electronic_result = rng() % 2;
      events.push_back(x);
    }
  }
  Filings source_filings(**source, calendar);
  for (const auto& o : source_filings.Record(events).outcomes) ASSERT_NE(o.outcome, WriteOutcome::kRejected) << o.status;
  Metrics source_metrics(**source, calendar, methodologies);
  ASSERT_EQ(ExternalInputs(**source, [&] { return source_metrics.methodologies(); }).Submit({{"sipas-like", "P22", "complaints_on_time",
                                                  {Date(2025, 1, 1), Date(2026, 1, 1)}, 45, 50, 0, "test"}})[0]
                .outcome,
            WriteOutcome::kApplied);

  // A periodic report with a correction, and a rejected event in the feed log.
  Reports source_reports(**source, source_metrics, calendar);
  PeriodicReport monthly;
  monthly.report_id = "halong-2025-08";
  monthly.agency_code = "P22.HALONG";
  monthly.period_label = "2025-08";
  monthly.figures[static_cast<int>(Figure::kReceived)] = 30;
  monthly.figures[static_cast<int>(Figure::kFinished)] = 20;
  ASSERT_EQ(source_reports.Submit({monthly}, "test")[0].outcome, WriteOutcome::kApplied);
  monthly.figures[static_cast<int>(Figure::kReceived)] = 31;
  ASSERT_EQ(source_reports.Submit({monthly}, "test")[0].outcome, WriteOutcome::kApplied);
  FilingEvent stray = events.front();
  stray.event_id = "stray";
  stray.procedure_code = "9.999999";
  ASSERT_EQ(source_filings.Record({stray}).outcomes[0].outcome, WriteOutcome::kRejected);
  DataQualityRequest quality;
  quality.scope = ScopeRequest{"P22"};
  quality.period = Period{Date(2025, 1, 1), Date(2045, 1, 1)};
  auto quality_before = source_reports.Quality(quality);
  ASSERT_TRUE(quality_before.ok()) << quality_before.status();

  // API keys: a scoped centre key and an admin key stay valid after the
  // move, a revoked one stays refused.
  AccessControl source_access(**source, AccessOptions{});
  ApiKeyRecord centre;
  centre.name = "Trung tâm Hạ Long";
  centre.role = Role::kCentre;
  centre.scope_agency_code = "P22.HALONG";
  auto centre_key = source_access.CreateKey(centre, "test");
  ASSERT_TRUE(centre_key.ok()) << centre_key.status();
  ApiKeyRecord admin;
  admin.name = "Ops";
  admin.role = Role::kAdmin;
  auto admin_key = source_access.CreateKey(admin, "test");
  ASSERT_TRUE(admin_key.ok()) << admin_key.status();
  ApiKeyRecord old_key = centre;
  old_key.name = "revoked";
  auto revoked_key = source_access.CreateKey(old_key, "test");
  ASSERT_TRUE(revoked_key.ok()) << revoked_key.status();
  ASSERT_TRUE(source_access.RevokeKey(revoked_key->first.key_id, "test").ok());

  auto target = OpenStore(testing::TestDatabaseUrl(dir, "target.db"));
  ASSERT_TRUE(target.ok()) << target.status();
  auto report = CopyDatabase(**source, **target, calendar);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->agencies, 107);
  EXPECT_EQ(report->procedures, 61);
  EXPECT_EQ(report->events, static_cast<int64_t>(events.size()));
  EXPECT_EQ(report->external_inputs, 1);
  EXPECT_EQ(report->reports, 2);
  EXPECT_EQ(report->api_keys, 3);
  AccessControl target_access(**target, AccessOptions{});
  auto as_centre = target_access.Authenticate(centre_key->second, {});
  ASSERT_TRUE(as_centre.ok()) << as_centre.status();
  EXPECT_EQ(as_centre->role, Role::kCentre);
  EXPECT_EQ(as_centre->scope_agency_code, "P22.HALONG");
  auto as_admin = target_access.Authenticate(admin_key->second, {});
  ASSERT_TRUE(as_admin.ok()) << as_admin.status();
  EXPECT_EQ(as_admin->role, Role::kAdmin);
  EXPECT_EQ(target_access.Authenticate(revoked_key->second, {}).status().code(), absl::StatusCode::kUnauthenticated);

  Metrics target_metrics(**target, calendar, methodologies);
  const Period periods[] = {{Date(2025, 1, 1), Date(2026, 1, 1)}, {Date(2025, 10, 1), Date(2026, 1, 1)}};
  int compared = 0;
  for (const char* scope : {"VN", "P22", "P22.HALONG", "P22.CAMPHA"}) {
    for (const Period& period : periods) {
      auto before = source_metrics.Indicators({scope, TreeView::kCurrent}, period, {}, std::nullopt);
      auto after = target_metrics.Indicators({scope, TreeView::kCurrent}, period, {}, std::nullopt);
      ASSERT_TRUE(before.ok() && after.ok());
      ASSERT_EQ(before->values.size(), after->values.size());
      for (size_t i = 0; i < before->values.size(); ++i) {
        const auto& b = before->values[i];
        const auto& a = after->values[i];
        EXPECT_EQ(a.available, b.available) << scope << " " << b.id;
        EXPECT_EQ(a.numerator, b.numerator) << scope << " " << b.id;
        EXPECT_EQ(a.denominator, b.denominator) << scope << " " << b.id;
        compared += b.available;
      }
    }
  }
  EXPECT_GT(compared, 50);
  auto score_before = source_metrics.Score({"P22", TreeView::kCurrent}, periods[0], "qd766@2026");
  auto score_after = target_metrics.Score({"P22", TreeView::kCurrent}, periods[0], "qd766@2026");
  ASSERT_TRUE(score_before.ok() && score_after.ok());
  EXPECT_DOUBLE_EQ(score_after->score.total_points, score_before->score.total_points);
  EXPECT_DOUBLE_EQ(score_after->score.unavailable_points, score_before->score.unavailable_points);
  auto dossier = Filings(**target, calendar).Get("P22.CAMPHA-251104-0002", std::nullopt, true);
  ASSERT_TRUE(dossier.ok()) << dossier.status();
  EXPECT_EQ(dossier->events.size(), 6u);
  EXPECT_EQ(dossier->state.timeliness, Timeliness::kLate);
  // A second copy into the same (now full) target is refused.
  // Reports with their history, and the feed log as it was (arrival times
  // of the source, not of the copy).
  Reports target_reports(**target, target_metrics, calendar);
  auto history = target_reports.Get("halong-2025-08");
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ(history->front().value(Figure::kReceived), 31);
  EXPECT_EQ(history->back().value(Figure::kReceived), 30);
  auto quality_after = target_reports.Quality(quality);
  ASSERT_TRUE(quality_after.ok()) << quality_after.status();
  ASSERT_EQ(quality_after->rows.size(), quality_before->rows.size());
  for (size_t i = 0; i < quality_after->rows.size(); ++i) {
    const auto& a = quality_before->rows[i];
    const auto& b = quality_after->rows[i];
    EXPECT_EQ(a.agency_code, b.agency_code);
    EXPECT_EQ(a.accepted, b.accepted) << a.agency_code;
    EXPECT_EQ(a.rejected, b.rejected) << a.agency_code;
    EXPECT_EQ(a.late, b.late) << a.agency_code;
    EXPECT_EQ(a.mismatches, b.mismatches) << a.agency_code;
    EXPECT_EQ(a.last_event_us, b.last_event_us) << a.agency_code;
  }
  EXPECT_EQ(quality_after->total.rejected, 1);

  auto again = CopyDatabase(**source, **target, calendar);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(again.status().message().find("not empty"), absl::string_view::npos);
}

}  // namespace
}  // namespace pstrack
