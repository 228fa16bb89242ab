// Tests for the index-scoring methodologies: the shipped Decision 766 files
// load and add up to 100 points as DOMAIN.md section 7 gives them; scoring
// under each rule, computed by hand; unavailable inputs reported apart; every
// validation error names file:line and the reason; the registry's default,
// lookups and failed reloads.
#include "services/metrics/methodology.h"

#include <cmath>
#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "services/figures/indicator_value.h"
#include "tests/test_util.h"

namespace pstrack {
namespace {

const std::vector<std::string>& KnownBuiltins() {
  static const std::vector<std::string> ids = {
      "on_time_rate_portal",
      "full_online_dossier_rate",
      "online_service_coverage",
      "online_submission_rate",
      "online_payment_rate",
      "fee_procedures_online_payment_rate",
      "fee_procedures_with_online_payment_rate",
      "electronic_result_rate",
      "digitisation_rate",
      "digitised_components_rate",
      "data_reuse_rate",
      "shared_for_reuse_rate",
      "population_db_use_rate",
      "population_db_connected_rate",
      "satisfaction_766",
      "sync_completeness",
      "procedures_with_online_dossiers_rate",  // qd766@2022 only
  };
  return ids;
}

std::string MethodologyDir() { return std::string(PSTRACK_SOURCE_DIR) + "/data/methodologies"; }

const MethodologyGroup* FindGroup(const Methodology& m, const std::string& id) {
  for (const auto& g : m.groups) {
    if (g.id == id) return &g;
  }
  return nullptr;
}

const MethodologyIndicator* FindIndicator(const Methodology& m, const std::string& id) {
  for (const auto& g : m.groups) {
    for (const auto& i : g.indicators) {
      if (i.id == id) return &i;
    }
  }
  return nullptr;
}

// A one-group methodology around the given indicator lines.
std::string Text(const std::string& indicators, const std::string& group_max = "20") {
  return absl::StrCat("methodology test@1\nname Test\neffective_from 2026-01-01\n",
                      "group g | Group | ", group_max, "\n", indicators);
}

Methodology MustParse(const std::string& text) {
  auto m = ParseMethodology("t.txt", text, KnownBuiltins());
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? *std::move(m) : Methodology();
}

IndicatorValue Rate(const std::string& id, double value) {
  IndicatorValue v;
  v.id = id;
  v.value = value;
  v.available = true;
  return v;
}

// ---------------------------------------------------------------------------
// IndicatorValue

TEST(MethodologyIndicatorValue, Ratio) {
  IndicatorValue v = IndicatorValue::Ratio("on_time_rate", 95, 100, "events");
  EXPECT_TRUE(v.available);
  EXPECT_DOUBLE_EQ(v.value, 0.95);
  EXPECT_EQ(v.numerator, 95);
  EXPECT_EQ(v.denominator, 100);
  EXPECT_EQ(v.id, "on_time_rate");
  EXPECT_EQ(v.sources, std::vector<std::string>{"events"});
  EXPECT_TRUE(v.unavailable_reason.empty());
}

TEST(MethodologyIndicatorValue, ZeroDenominatorIsUnavailable) {
  IndicatorValue v = IndicatorValue::Ratio("on_time_rate", 0, 0, "events");
  EXPECT_FALSE(v.available);
  EXPECT_EQ(v.unavailable_reason, "denominator is zero: no dossiers or procedures in the denominator");
  EXPECT_EQ(v.sources, std::vector<std::string>{"events"});
  EXPECT_FALSE(IndicatorValue::Ratio("x", 1, -2, "events").available);
}

TEST(MethodologyIndicatorValue, Unavailable) {
  IndicatorValue v = IndicatorValue::Unavailable("sipas", "not supplied for 2025");
  EXPECT_FALSE(v.available);
  EXPECT_EQ(v.id, "sipas");
  EXPECT_EQ(v.unavailable_reason, "not supplied for 2025");
}

// ---------------------------------------------------------------------------
// The shipped files

TEST(MethodologyData, ShippedFilesLoad) {
  auto registry = MethodologyRegistry::LoadDirectory(MethodologyDir(), KnownBuiltins());
  ASSERT_TRUE(registry.ok()) << registry.status();
  std::vector<std::string> ids;
  for (const Methodology* m : registry->All()) ids.push_back(m->id);
  EXPECT_EQ(ids, (std::vector<std::string>{"qd766@2022", "qd766@2026"}));
  EXPECT_EQ(registry->default_id(), "qd766@2026");
}

// DOMAIN.md section 7, the portal's 2026 breakdown.
TEST(MethodologyData, Qd766At2026MatchesThePortalBreakdown) {
  auto registry = MethodologyRegistry::LoadDirectory(MethodologyDir(), KnownBuiltins());
  ASSERT_TRUE(registry.ok()) << registry.status();
  auto found = registry->Find("qd766@2026");
  ASSERT_TRUE(found.ok()) << found.status();
  const Methodology& m = **found;
  EXPECT_EQ(m.effective_from, Date(2026, 1, 1));
  EXPECT_DOUBLE_EQ(m.max_points(), 100);

  const std::vector<std::pair<std::string, double>> groups = {
      {"transparency", 18}, {"progress", 20},     {"online_service", 12},
      {"online_payment", 10}, {"digitisation", 22}, {"satisfaction", 18}};
  ASSERT_EQ(m.groups.size(), groups.size());
  for (size_t i = 0; i < groups.size(); ++i) {
    EXPECT_EQ(m.groups[i].id, groups[i].first);
    EXPECT_DOUBLE_EQ(m.groups[i].max_points, groups[i].second) << groups[i].first;
  }

  struct Expected {
    std::string group, id;
    double max;
    std::string source;
    ScoringRule rule;
    double target;
  };
  const std::vector<Expected> indicators = {
      {"transparency", "1.1", 6, "external:procedures_published_on_time", ScoringRule::kLinearToTarget, 1},
      {"transparency", "1.2", 4, "external:procedures_updated_on_time", ScoringRule::kLinearToTarget, 1},
      {"transparency", "1.3", 2, "external:procedures_full_content", ScoringRule::kLinearToTarget, 1},
      {"transparency", "1.4", 6, "builtin:sync_completeness", ScoringRule::kLinearToTarget, 1},
      {"progress", "2.1", 20, "builtin:on_time_rate_portal", ScoringRule::kLinearToTarget, 1},
      {"online_service", "full_online", 12, "builtin:full_online_dossier_rate", ScoringRule::kLinearToTarget, 0.5},
      {"online_service", "3.1", 0, "builtin:online_service_coverage", ScoringRule::kNoPoints, 1},
      {"online_service", "3.3", 0, "builtin:online_submission_rate", ScoringRule::kNoPoints, 1},
      {"online_payment", "3.5", 2, "builtin:fee_procedures_online_payment_rate", ScoringRule::kLinearToTarget, 1},
      {"online_payment", "3.5b", 2, "builtin:fee_procedures_with_online_payment_rate", ScoringRule::kLinearToTarget,
       1},
      {"online_payment", "3.6", 6, "builtin:online_payment_rate", ScoringRule::kLinearToTarget, 1},
      {"digitisation", "4.1", 6, "builtin:electronic_result_rate", ScoringRule::kLinearToTarget, 0.8},
      {"digitisation", "4.2", 4, "builtin:digitised_components_rate", ScoringRule::kLinearToTarget, 0.8},
      {"digitisation", "e_certified_copies", 2, "external:electronic_certified_copies", ScoringRule::kLinearToTarget,
       1},
      {"digitisation", "4.3", 2, "builtin:data_reuse_rate", ScoringRule::kLinearToTarget, 1},
      {"digitisation", "4.4", 4, "builtin:shared_for_reuse_rate", ScoringRule::kLinearToTarget, 1},
      {"digitisation", "4.5b", 2, "builtin:population_db_use_rate", ScoringRule::kLinearToTarget, 1},
      {"digitisation", "4.5a", 2, "builtin:population_db_connected_rate", ScoringRule::kLinearToTarget, 1},
      {"satisfaction", "5.2", 6, "external:complaints_on_time", ScoringRule::kLinearToTarget, 1},
      {"satisfaction", "5.3", 6, "external:petition_satisfaction", ScoringRule::kLinearToTarget, 1},
      {"satisfaction", "5.4", 6, "builtin:satisfaction_766", ScoringRule::kLinearToTarget, 0.9},
  };
  size_t count = 0;
  for (const auto& g : m.groups) count += g.indicators.size();
  EXPECT_EQ(count, indicators.size());
  for (const Expected& e : indicators) {
    SCOPED_TRACE(e.id);
    const MethodologyIndicator* ind = FindIndicator(m, e.id);
    ASSERT_NE(ind, nullptr);
    const MethodologyGroup* g = FindGroup(m, e.group);
    ASSERT_NE(g, nullptr);
    EXPECT_TRUE(ind >= g->indicators.data() && ind < g->indicators.data() + g->indicators.size())
        << "not in group " << e.group;
    EXPECT_DOUBLE_EQ(ind->max_points, e.max);
    EXPECT_EQ(ind->source.ToString(), e.source);
    EXPECT_EQ(ind->rule, e.rule);
    if (e.rule == ScoringRule::kLinearToTarget) {
      EXPECT_DOUBLE_EQ(ind->target, e.target);
    }
    EXPECT_FALSE(ind->invert);
    EXPECT_GT(ind->line, 0);
  }
  EXPECT_EQ(m.ExternalInputs(),
            (std::vector<std::string>{"procedures_published_on_time", "procedures_updated_on_time",
                                      "procedures_full_content", "electronic_certified_copies", "complaints_on_time",
                                      "petition_satisfaction"}));
  EXPECT_EQ(m.BuiltinInputs().size(), 15u);
}

TEST(MethodologyData, Qd766At2022SplitsTheOnlineServicePoints) {
  auto registry = MethodologyRegistry::LoadDirectory(MethodologyDir(), KnownBuiltins());
  ASSERT_TRUE(registry.ok()) << registry.status();
  auto found = registry->Find("qd766@2022");
  ASSERT_TRUE(found.ok()) << found.status();
  const Methodology& m = **found;
  EXPECT_EQ(m.effective_from, Date(2022, 6, 23));
  EXPECT_DOUBLE_EQ(m.max_points(), 100);
  const MethodologyGroup* online = FindGroup(m, "online_service");
  ASSERT_NE(online, nullptr);
  EXPECT_DOUBLE_EQ(online->max_points, 12);
  ASSERT_EQ(online->indicators.size(), 3u);
  const struct {
    std::string source;
    double max, target;
  } want[] = {{"builtin:online_service_coverage", 2, 0.8},
              {"builtin:procedures_with_online_dossiers_rate", 4, 1.0},
              {"builtin:online_submission_rate", 6, 0.5}};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(online->indicators[i].source.ToString(), want[i].source);
    EXPECT_DOUBLE_EQ(online->indicators[i].max_points, want[i].max);
    EXPECT_DOUBLE_EQ(online->indicators[i].target, want[i].target);
  }
  const std::vector<std::pair<std::string, double>> others = {
      {"transparency", 18}, {"progress", 20}, {"online_payment", 10}, {"digitisation", 22}, {"satisfaction", 18}};
  for (const auto& [id, max] : others) {
    const MethodologyGroup* g = FindGroup(m, id);
    ASSERT_NE(g, nullptr) << id;
    EXPECT_DOUBLE_EQ(g->max_points, max) << id;
  }
}

// A province with every input at its target scores 100; with none, 0 points
// and 100 unavailable.
TEST(MethodologyData, FullAndEmptyScores) {
  auto registry = MethodologyRegistry::LoadDirectory(MethodologyDir(), KnownBuiltins());
  ASSERT_TRUE(registry.ok()) << registry.status();
  for (const Methodology* m : registry->All()) {
    SCOPED_TRACE(m->id);
    std::map<std::string, IndicatorValue> values;
    for (const auto& id : m->BuiltinInputs()) values["builtin:" + id] = Rate(id, 1.0);
    for (const auto& id : m->ExternalInputs()) values["external:" + id] = Rate(id, 1.0);
    IndexScore full = Score(*m, values);
    EXPECT_NEAR(full.total_points, 100, 1e-9);
    EXPECT_NEAR(full.unavailable_points, 0, 1e-9);
    IndexScore empty = Score(*m, {});
    EXPECT_NEAR(empty.total_points, 0, 1e-9);
    EXPECT_NEAR(empty.unavailable_points, 100, 1e-9);
    EXPECT_DOUBLE_EQ(empty.max_points, 100);
  }
}

// ---------------------------------------------------------------------------
// ScoreIndicator, by hand

TEST(MethodologyScore, LinearToTarget) {
  MethodologyIndicator on_time;
  on_time.max_points = 20;
  on_time.target = 1.0;
  EXPECT_NEAR(ScoreIndicator(on_time, Rate("r", 0.95)), 19, 1e-9);  // 0.95 / 1 * 20
  EXPECT_NEAR(ScoreIndicator(on_time, Rate("r", 1.0)), 20, 1e-9);
  EXPECT_NEAR(ScoreIndicator(on_time, Rate("r", 0)), 0, 1e-9);

  MethodologyIndicator full_online;
  full_online.max_points = 12;
  full_online.target = 0.5;
  EXPECT_NEAR(ScoreIndicator(full_online, Rate("r", 0.3)), 7.2, 1e-9);  // 0.3 / 0.5 * 12
  EXPECT_NEAR(ScoreIndicator(full_online, Rate("r", 0.5)), 12, 1e-9);   // at target: max
  EXPECT_NEAR(ScoreIndicator(full_online, Rate("r", 0.8)), 12, 1e-9);   // above target: still max

  MethodologyIndicator satisfaction;
  satisfaction.max_points = 6;
  satisfaction.target = 0.9;
  EXPECT_NEAR(ScoreIndicator(satisfaction, Rate("r", 0.72)), 4.8, 1e-9);  // 0.72 / 0.9 * 6
}

TEST(MethodologyScore, RatesAreClampedToZeroOne) {
  MethodologyIndicator ind;
  ind.max_points = 10;
  ind.target = 0.8;
  EXPECT_NEAR(ScoreIndicator(ind, Rate("r", 1.7)), 10, 1e-9);
  EXPECT_NEAR(ScoreIndicator(ind, Rate("r", -0.3)), 0, 1e-9);
}

TEST(MethodologyScore, Bands) {
  Methodology m = MustParse(Text("indicator x.y | Khiếu nại | 4 | external:complaints_on_time | "
                                 "bands 0.5:1, 0.8:2.5, 0.95:4\n",
                                 "4"));
  const MethodologyIndicator& ind = m.groups[0].indicators[0];
  ASSERT_EQ(ind.rule, ScoringRule::kBands);
  ASSERT_EQ(ind.bands.size(), 3u);
  EXPECT_DOUBLE_EQ(ScoreIndicator(ind, Rate("r", 0.49)), 0);    // below every band
  EXPECT_DOUBLE_EQ(ScoreIndicator(ind, Rate("r", 0.5)), 1);     // on a threshold: reached
  EXPECT_DOUBLE_EQ(ScoreIndicator(ind, Rate("r", 0.79)), 1);
  EXPECT_DOUBLE_EQ(ScoreIndicator(ind, Rate("r", 0.8)), 2.5);
  EXPECT_DOUBLE_EQ(ScoreIndicator(ind, Rate("r", 19.0 / 20)), 4);
  EXPECT_DOUBLE_EQ(ScoreIndicator(ind, Rate("r", 1.0)), 4);
}

TEST(MethodologyScore, NoPointsRuleScoresZero) {
  Methodology m = MustParse(
      Text("indicator 3.1 | Trực tuyến | 0 | builtin:online_service_coverage | none\n"
           "indicator 2.1 | Đúng hạn | 20 | builtin:on_time_rate_portal | linear target=1.0\n"));
  EXPECT_DOUBLE_EQ(ScoreIndicator(m.groups[0].indicators[0], Rate("r", 0.9)), 0);
  IndexScore s = Score(m, {{"builtin:online_service_coverage", Rate("online_service_coverage", 0.9)}});
  EXPECT_DOUBLE_EQ(s.total_points, 0);
  EXPECT_DOUBLE_EQ(s.unavailable_points, 20);  // only 2.1, which has points, is missing
}

TEST(MethodologyScore, InvertScoresLowerIsBetter) {
  Methodology m = MustParse(Text(
      "indicator late | Hồ sơ quá hạn | 20 | builtin:on_time_rate_portal | linear target=0.9 | invert\n"));
  const MethodologyIndicator& ind = m.groups[0].indicators[0];
  ASSERT_TRUE(ind.invert);
  EXPECT_NEAR(ScoreIndicator(ind, Rate("late_rate", 0.28)), 16, 1e-9);  // (1 - 0.28) / 0.9 * 20
  EXPECT_NEAR(ScoreIndicator(ind, Rate("late_rate", 0.05)), 20, 1e-9);  // 0.95 >= 0.9
  EXPECT_NEAR(ScoreIndicator(ind, Rate("late_rate", 1.0)), 0, 1e-9);

  Methodology bands = MustParse(Text(
      "indicator late | Hồ sơ quá hạn | 4 | builtin:on_time_rate_portal | bands 0.5:1, 0.95:4 | invert\n", "4"));
  EXPECT_DOUBLE_EQ(ScoreIndicator(bands.groups[0].indicators[0], Rate("late_rate", 0.05)), 4);
  EXPECT_DOUBLE_EQ(ScoreIndicator(bands.groups[0].indicators[0], Rate("late_rate", 0.3)), 1);
}

TEST(MethodologyScore, UnavailableValueScoresNothing) {
  MethodologyIndicator ind;
  ind.max_points = 20;
  EXPECT_DOUBLE_EQ(ScoreIndicator(ind, IndicatorValue::Ratio("r", 0, 0, "events")), 0);
}

// ---------------------------------------------------------------------------
// Score over a methodology

TEST(MethodologyScore, GroupsTotalsAndUnavailablePoints) {
  const std::string text =
      "methodology test@1\nname Test\n"
      "group progress | Tiến độ | 20\n"
      "indicator 2.1 | Đúng hạn | 20 | builtin:on_time_rate_portal | linear target=1.0\n"
      "group online | Trực tuyến | 18\n"
      "indicator full | Toàn trình | 12 | builtin:full_online_dossier_rate | linear target=0.5\n"
      "indicator pay | Thanh toán | 6 | builtin:online_payment_rate | linear target=1.0\n"
      "group satisfaction | Hài lòng | 10\n"
      "indicator 5.2 | Phản ánh | 4 | external:complaints_on_time | bands 0.5:1, 0.8:2.5, 0.95:4\n"
      "indicator 5.4 | Hài lòng | 6 | builtin:satisfaction_766 | linear target=0.9\n";
  Methodology m = MustParse(text);
  std::map<std::string, IndicatorValue> values = {
      {"builtin:on_time_rate_portal", IndicatorValue::Ratio("on_time_rate_portal", 95, 100, "events")},
      {"builtin:full_online_dossier_rate", IndicatorValue::Ratio("full_online_dossier_rate", 30, 100, "events")},
      // No fee-bearing dossiers: a zero denominator, not zero points.
      {"builtin:online_payment_rate", IndicatorValue::Ratio("online_payment_rate", 0, 0, "events")},
      {"external:complaints_on_time", Rate("complaints_on_time", 0.85)},
      // satisfaction_766 not supplied at all.
  };
  IndexScore s = Score(m, values);
  EXPECT_EQ(s.methodology, &m);
  EXPECT_DOUBLE_EQ(s.max_points, 48);
  ASSERT_EQ(s.groups.size(), 3u);
  EXPECT_NEAR(s.groups[0].points, 19, 1e-9);
  EXPECT_NEAR(s.groups[1].points, 7.2, 1e-9);
  EXPECT_NEAR(s.groups[2].points, 2.5, 1e-9);
  EXPECT_NEAR(s.total_points, 19 + 7.2 + 2.5, 1e-9);
  EXPECT_NEAR(s.unavailable_points, 6 + 6, 1e-9);

  const IndicatorScore& pay = s.groups[1].indicators[1];
  EXPECT_EQ(pay.indicator, &m.groups[1].indicators[1]);
  EXPECT_FALSE(pay.value.available);
  EXPECT_TRUE(absl::StrContains(pay.value.unavailable_reason, "denominator is zero"));
  const IndicatorScore& satisfaction = s.groups[2].indicators[1];
  EXPECT_FALSE(satisfaction.value.available);
  EXPECT_EQ(satisfaction.value.unavailable_reason, "no value supplied for builtin:satisfaction_766");
  EXPECT_EQ(s.groups[0].group, &m.groups[0]);
}

TEST(MethodologyScore, NonFiniteValueIsUnavailableNotZero) {
  Methodology m = MustParse(Text("indicator 2.1 | Đúng hạn | 20 | builtin:on_time_rate_portal | linear target=1.0\n"));
  IndexScore s = Score(m, {{"builtin:on_time_rate_portal", Rate("on_time_rate_portal", std::nan(""))}});
  EXPECT_DOUBLE_EQ(s.total_points, 0);
  EXPECT_DOUBLE_EQ(s.unavailable_points, 20);
  EXPECT_FALSE(s.groups[0].indicators[0].value.available);
}

// ---------------------------------------------------------------------------
// Parsing and validation

TEST(MethodologyParse, ReadsEveryDirective) {
  const std::string text =
      "\xEF\xBB\xBF# a comment\r\n"
      "methodology qd766@2026\r\n"
      "name Bộ chỉ số 766\r\n"
      "source Decision 766/QĐ-TTg\r\n"
      "effective_from 2026-01-01\r\n"
      "\r\n"
      "  group progress | Tiến độ giải quyết | 20  \r\n"
      "indicator 2.1 | Hồ sơ xử lý trước và đúng hạn | 20 | builtin:on_time_rate_portal | linear target=1.0\r\n"
      "indicator 3.1 | Thủ tục trực tuyến | 0 | builtin:online_service_coverage | none\r\n"
      "group sat | Hài lòng | 4.5\n"
      "indicator x.y | Phản ánh | 4.5 | external:sipas | bands 0.5:1, 0.8:2.5, 0.95:4.5 | invert\n";
  auto parsed = ParseMethodology("dir/a.txt", text, KnownBuiltins());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const Methodology& m = *parsed;
  EXPECT_EQ(m.id, "qd766@2026");
  EXPECT_EQ(m.name, "Bộ chỉ số 766");
  EXPECT_EQ(m.source, "Decision 766/QĐ-TTg");
  EXPECT_EQ(m.effective_from, Date(2026, 1, 1));
  EXPECT_EQ(m.file, "dir/a.txt");
  EXPECT_DOUBLE_EQ(m.max_points(), 24.5);
  ASSERT_EQ(m.groups.size(), 2u);
  EXPECT_EQ(m.groups[0].name, "Tiến độ giải quyết");
  ASSERT_EQ(m.groups[0].indicators.size(), 2u);
  const MethodologyIndicator& on_time = m.groups[0].indicators[0];
  EXPECT_EQ(on_time.id, "2.1");
  EXPECT_EQ(on_time.name, "Hồ sơ xử lý trước và đúng hạn");
  EXPECT_EQ(on_time.source.kind, IndicatorSource::Kind::kBuiltin);
  EXPECT_EQ(on_time.source.id, "on_time_rate_portal");
  EXPECT_EQ(on_time.line, 8);
  EXPECT_EQ(m.groups[0].indicators[1].rule, ScoringRule::kNoPoints);
  const MethodologyIndicator& banded = m.groups[1].indicators[0];
  EXPECT_EQ(banded.source.ToString(), "external:sipas");
  EXPECT_TRUE(banded.invert);
  ASSERT_EQ(banded.bands.size(), 3u);
  EXPECT_DOUBLE_EQ(banded.bands[1].threshold, 0.8);
  EXPECT_DOUBLE_EQ(banded.bands[1].points, 2.5);
  EXPECT_EQ(m.ExternalInputs(), std::vector<std::string>{"sipas"});
  EXPECT_EQ(m.BuiltinInputs(), (std::vector<std::string>{"on_time_rate_portal", "online_service_coverage"}));
}

// Each case: the text, the line and a part of the reason.
struct BadCase {
  std::string what;
  std::string text;
  int line;
  std::string reason;
};

TEST(MethodologyParse, EveryErrorNamesFileLineAndReason) {
  const std::string head = "methodology t@1\nname T\n";  // lines 1-2
  const std::string good = "indicator 2.1 | A | 20 | builtin:on_time_rate_portal | linear target=1.0\n";
  const std::vector<BadCase> cases = {
      {"unknown directive", head + "weight 5\n", 3, "unknown directive 'weight'"},
      {"missing methodology", "name T\ngroup g | G | 20\n" + good, 1, "no 'methodology"},
      {"missing name", "methodology t@1\ngroup g | G | 20\n" + good, 1, "no 'name' line"},
      {"no groups", head, 1, "no groups"},
      {"bad id", "methodology qd766\nname T\ngroup g | G | 20\n" + good, 1, "name@version"},
      {"repeated name", head + "name U\ngroup g | G | 20\n" + good, 3, "duplicate 'name' line (first on line 2)"},
      {"bad date", head + "effective_from 2026-02-30\ngroup g | G | 20\n" + good, 3, "effective_from"},
      {"duplicate indicator", head + "group g | G | 40\n" + good + good, 5,
       "duplicate indicator id '2.1' (first on line 4)"},
      {"duplicate group", head + "group g | G | 20\n" + good + "group g | H | 0\n", 5,
       "duplicate group id 'g' (first on line 3)"},
      {"indicator before group", head + good + "group g | G | 0\n", 3, "'2.1' comes before any group"},
      {"non-numeric points", head + "group g | G | 20\nindicator 2.1 | A | many | builtin:on_time_rate_portal | "
                                    "linear target=1.0\n",
       4, "max points: 'many' is not a number"},
      {"negative points", head + "group g | G | 20\nindicator 2.1 | A | -2 | builtin:on_time_rate_portal | "
                                 "linear target=1.0\n",
       4, "max points: -2 is negative"},
      {"negative group points", head + "group g | G | -20\n" + good, 3, "group max points: -20 is negative"},
      {"target above 1", head + "group g | G | 20\nindicator 2.1 | A | 20 | builtin:on_time_rate_portal | "
                                "linear target=1.5\n",
       4, "target: 1.5 is outside (0, 1]"},
      {"target zero", head + "group g | G | 20\nindicator 2.1 | A | 20 | builtin:on_time_rate_portal | "
                             "linear target=0\n",
       4, "target: 0 is outside (0, 1]"},
      {"linear without target", head + "group g | G | 20\nindicator 2.1 | A | 20 | builtin:on_time_rate_portal | "
                                       "linear\n",
       4, "needs 'target=<rate>'"},
      {"bands not ascending", head + "group g | G | 4\nindicator b | B | 4 | external:x | bands 0.8:1, 0.5:4\n", 4,
       "thresholds must ascend"},
      {"band threshold above 1", head + "group g | G | 4\nindicator b | B | 4 | external:x | bands 0.5:1, 1.2:4\n",
       4, "threshold 1.2 is outside [0, 1]"},
      {"band points above max", head + "group g | G | 4\nindicator b | B | 4 | external:x | bands 0.5:5, 0.9:4\n",
       4, "band points 5 are above the indicator's max points 4"},
      {"last band below max", head + "group g | G | 4\nindicator b | B | 4 | external:x | bands 0.5:1, 0.9:3\n", 4,
       "the last band gives 3 points but the indicator's max points are 4"},
      {"malformed band", head + "group g | G | 4\nindicator b | B | 4 | external:x | bands 0.5-1\n", 4,
       "'0.5-1' is not <threshold>:<points>"},
      {"unknown builtin", head + "group g | G | 20\nindicator 2.1 | A | 20 | builtin:on_time_rate | "
                                 "linear target=1.0\n",
       4, "'on_time_rate' is not a known built-in indicator"},
      {"bad source kind", head + "group g | G | 20\nindicator 2.1 | A | 20 | survey:sipas | linear target=1.0\n", 4,
       "must be builtin:<id> or external:<id>"},
      {"group sum", head + "group g | G | 18\n" + good, 3,
       "group 'g': max points 18 differ from the sum of its indicators' max points, 20"},
      {"none with points", head + "group g | G | 2\nindicator 3.1 | C | 2 | builtin:online_service_coverage | none\n",
       4, "rule 'none' gives no points but max points is 2"},
      {"unknown rule", head + "group g | G | 20\nindicator 2.1 | A | 20 | builtin:on_time_rate_portal | "
                              "quadratic target=1\n",
       4, "unknown rule 'quadratic'"},
      {"unknown option", head + "group g | G | 20\nindicator 2.1 | A | 20 | builtin:on_time_rate_portal | "
                                "linear target=1.0 | reverse\n",
       4, "unknown option 'reverse'"},
      {"too few fields", head + "group g | G | 20\nindicator 2.1 | A | 20\n", 4, "got 3 field(s)"},
      {"empty group", head + "group g | G | 20\n" + good + "group h | H | 0\n", 5, "group 'h' has no indicators"},
  };
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.what);
    auto parsed = ParseMethodology("bad.txt", c.text, KnownBuiltins());
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    const std::string want_prefix = absl::StrCat("bad.txt:", c.line, ": ");
    const std::string message(parsed.status().message());
    bool found = false;
    for (absl::string_view line : absl::StrSplit(message, '\n')) {
      EXPECT_TRUE(absl::StartsWith(line, "bad.txt:")) << line;
      if (absl::StartsWith(line, want_prefix) && absl::StrContains(line, c.reason)) found = true;
    }
    EXPECT_TRUE(found) << "want '" << want_prefix << "..." << c.reason << "', got:\n" << message;
  }
}

TEST(MethodologyParse, ReportsEveryErrorOfAFile) {
  const std::string text =
      "methodology t@1\nname T\n"
      "group g | G | 20\n"
      "indicator a | A | 20 | builtin:nope | linear target=1.0\n"
      "indicator b | B | 0 | builtin:on_time_rate_portal | cubic\n";
  auto parsed = ParseMethodology("f.txt", text, KnownBuiltins());
  ASSERT_FALSE(parsed.ok());
  EXPECT_TRUE(absl::StrContains(parsed.status().message(), "f.txt:4: source: 'nope'")) << parsed.status();
  EXPECT_TRUE(absl::StrContains(parsed.status().message(), "f.txt:5: rule: unknown rule 'cubic'")) << parsed.status();
}

TEST(MethodologyParse, BuiltinsAreCheckedAgainstTheCallersList) {
  const std::string text = Text("indicator 2.1 | A | 20 | builtin:on_time_rate_portal | linear target=1.0\n");
  EXPECT_TRUE(ParseMethodology("f.txt", text, KnownBuiltins()).ok());
  EXPECT_FALSE(ParseMethodology("f.txt", text, {}).ok());
  EXPECT_TRUE(ParseMethodology("f.txt", text, {"on_time_rate_portal"}).ok());
}

// ---------------------------------------------------------------------------
// Registry

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::string FileText(const std::string& id, const std::string& effective_from) {
  std::string text = absl::StrCat("methodology ", id, "\nname ", id, "\n");
  if (!effective_from.empty()) absl::StrAppend(&text, "effective_from ", effective_from, "\n");
  absl::StrAppend(&text, "group g | G | 20\n",
                  "indicator 2.1 | A | 20 | builtin:on_time_rate_portal | linear target=1.0\n");
  return text;
}

TEST(MethodologyRegistry, DefaultIsTheNewestEffectiveFrom) {
  testing::TempDir dir;
  WriteFile(dir.File("a.txt"), FileText("a@2024", "2024-01-01"));
  WriteFile(dir.File("b.txt"), FileText("b@2025", "2025-01-01"));
  WriteFile(dir.File("c.txt"), FileText("c@undated", ""));
  WriteFile(dir.File("notes.md"), "not a methodology");  // only *.txt is read
  auto registry = MethodologyRegistry::LoadDirectory(dir.path(), KnownBuiltins());
  ASSERT_TRUE(registry.ok()) << registry.status();
  EXPECT_EQ(registry->default_id(), "b@2025");
  auto found = registry->Find("");
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ((*found)->id, "b@2025");
  EXPECT_EQ((*found)->file, dir.File("b.txt"));
  EXPECT_EQ(registry->All().size(), 3u);
  auto a = registry->Find("a@2024");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ((*a)->id, "a@2024");
}

TEST(MethodologyRegistry, TiesGoToTheHighestId) {
  testing::TempDir dir;
  WriteFile(dir.File("x.txt"), FileText("x@1", "2025-01-01"));
  WriteFile(dir.File("y.txt"), FileText("y@1", "2025-01-01"));
  auto registry = MethodologyRegistry::LoadDirectory(dir.path(), KnownBuiltins());
  ASSERT_TRUE(registry.ok()) << registry.status();
  EXPECT_EQ(registry->default_id(), "y@1");
}

TEST(MethodologyRegistry, UnknownIdIsNotFound) {
  auto registry = MethodologyRegistry::LoadDirectory(MethodologyDir(), KnownBuiltins());
  ASSERT_TRUE(registry.ok()) << registry.status();
  auto found = registry->Find("qd766@2019");
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StartsWith(found.status().message(), "methodology_id: ")) << found.status();
  EXPECT_TRUE(absl::StrContains(found.status().message(), "qd766@2019")) << found.status();

  MethodologyRegistry empty;
  EXPECT_EQ(empty.Find("").status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StartsWith(empty.Find("").status().message(), "methodology_id: "));
}

TEST(MethodologyRegistry, DuplicateIdsNameBothFiles) {
  testing::TempDir dir;
  WriteFile(dir.File("one.txt"), FileText("same@1", "2025-01-01"));
  WriteFile(dir.File("two.txt"), FileText("same@1", "2026-01-01"));
  auto registry = MethodologyRegistry::LoadDirectory(dir.path(), KnownBuiltins());
  ASSERT_FALSE(registry.ok());
  EXPECT_EQ(registry.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(registry.status().message(), dir.File("one.txt"))) << registry.status();
  EXPECT_TRUE(absl::StrContains(registry.status().message(), dir.File("two.txt"))) << registry.status();
  EXPECT_TRUE(absl::StrContains(registry.status().message(), "same@1")) << registry.status();
}

// A reload that meets a bad file fails naming it, and the caller keeps the
// registry it had.
TEST(MethodologyRegistry, FailedReloadKeepsTheLastGoodRegistry) {
  testing::TempDir dir;
  WriteFile(dir.File("good.txt"), FileText("good@1", "2025-01-01"));
  auto loaded = MethodologyRegistry::LoadDirectory(dir.path(), KnownBuiltins());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  MethodologyRegistry current = *std::move(loaded);

  WriteFile(dir.File("newer.txt"), FileText("newer@1", "2026-01-01"));
  WriteFile(dir.File("broken.txt"), "methodology broken@1\nname B\ngroup g | G | 20\nindicator 2.1 | A | twenty | "
                                    "builtin:on_time_rate_portal | linear target=1.0\n");
  auto reloaded = MethodologyRegistry::LoadDirectory(dir.path(), KnownBuiltins());
  ASSERT_FALSE(reloaded.ok());
  EXPECT_TRUE(absl::StrContains(reloaded.status().message(), dir.File("broken.txt") + ":4: max points"))
      << reloaded.status();
  if (reloaded.ok()) current = *std::move(reloaded);

  EXPECT_EQ(current.default_id(), "good@1");
  ASSERT_EQ(current.All().size(), 1u);
  EXPECT_TRUE(current.Find("good@1").ok());
  EXPECT_FALSE(current.Find("newer@1").ok());
}

TEST(MethodologyRegistry, MissingOrEmptyDirectory) {
  EXPECT_EQ(MethodologyRegistry::LoadDirectory("/nonexistent/pstrack", KnownBuiltins()).status().code(),
            absl::StatusCode::kNotFound);
  testing::TempDir dir;
  auto empty = MethodologyRegistry::LoadDirectory(dir.path(), KnownBuiltins());
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace pstrack
