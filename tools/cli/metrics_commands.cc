// Indicators, breakdowns, series, rankings and index scores; the
// methodologies and indicators the server knows; external inputs; the
// aggregate check and repair.
#include <iostream>
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "services/common/status.h"
#include "tools/cli/calls.h"
#include "tools/cli/client.h"
#include "tools/cli/commands.h"
#include "tools/cli/inputs.h"
#include "tools/cli/request_options.h"

namespace pstrack::cli {
namespace {

constexpr char kGroup[] = "Indicators and index scores (docs/indicators.md)";

using Definitions = std::map<std::string, v1::IndicatorDefinition>;

absl::StatusOr<Definitions> FetchDefinitions(Client& client) {
  v1::ListIndicatorsRequest req;
  v1::ListIndicatorsResponse resp;
  PSTRACK_RETURN_IF_ERROR(
      client.Run([&](grpc::ClientContext* c) { return client.metrics().ListIndicators(c, req, &resp); }));
  Definitions out;
  for (const auto& d : resp.indicators()) out[d.id()] = d;
  return out;
}

std::string UnitOf(const Definitions& definitions, const std::string& id) {
  auto it = definitions.find(id);
  return it == definitions.end() ? "" : it->second.unit();
}

std::vector<std::string> ValueHeader(bool csv) {
  if (csv) return {"unit", "value", "numerator", "denominator", "available", "note"};
  return {"VALUE", "NUMERATOR", "DENOMINATOR", "NOTE"};
}

// The cells under ValueHeader: rates as percentages, counts and days as
// numbers in a table; unformatted in CSV.
std::vector<std::string> ValueCells(const v1::IndicatorValue& v, const std::string& unit, bool csv) {
  if (!v.available()) {
    if (csv) return {unit, kNotAvailable, "", "", "false", v.unavailable_reason()};
    return {kNotAvailable, "", "", v.unavailable_reason()};
  }
  // Counts such as dossiers received have no denominator.
  const bool has_denominator = unit != "count" || v.denominator() != 0;
  if (csv) {
    return {
        unit, RawNumber(v.value()), RawNumber(v.numerator()), has_denominator ? RawNumber(v.denominator()) : "", "true",
        ""};
  }
  std::string value = unit == "ratio"          ? PercentText(v.value())
                      : unit == "working_days" ? absl::StrFormat("%.1f", v.value())
                                               : NumberText(v.value());
  return {value, NumberText(v.numerator()), has_denominator ? NumberText(v.denominator()) : "", ""};
}

// Where figures came from when periodic reports are in the scope.
void PrintSources(std::ostream& out, const v1::IndicatorSet& set) {
  for (const auto& v : set.values()) {
    const bool reports = std::find(v.sources().begin(), v.sources().end(), "reports") != v.sources().end();
    if (!reports && v.note().empty()) continue;
    out << v.indicator_id() << ": from " << absl::StrJoin(v.sources(), " + ")
        << (v.note().empty() ? "" : absl::StrCat("; ", v.note())) << "\n";
  }
  if (!set.parts().empty()) {
    out << "periodic reports of the scope:\n";
    Table parts({"REPORT", "REVISION", "AGENCY", "SUBJECT", "PERIOD", "ROLE", "WHY"});
    for (const auto& p : set.parts()) {
      parts.AddRow({p.report_id(), absl::StrCat(p.revision()), p.agency_code(), p.subject(), PeriodText(p.period()),
                    p.role(), p.note()});
    }
    parts.Print(out);
  }
}

absl::StatusOr<int> Indicators(Context& ctx, const Args& args) {
  v1::GetIndicatorsRequest req;
  PSTRACK_ASSIGN_OR_RETURN(*req.mutable_scope(), ScopeFromArgs(args));
  PSTRACK_ASSIGN_OR_RETURN(*req.mutable_period(), PeriodFromArgs(args));
  IdsFromArgs(args, req.mutable_indicator_ids());
  v1::IndicatorSet set;
  PSTRACK_RETURN_IF_ERROR(
      ctx.client.Run([&](grpc::ClientContext* c) { return ctx.client.metrics().GetIndicators(c, req, &set); }));
  if (ctx.output == Output::kJson) {
    PSTRACK_RETURN_IF_ERROR(PrintJson(ctx.out, set));
    return kExitOk;
  }
  PSTRACK_ASSIGN_OR_RETURN(const Definitions definitions, FetchDefinitions(ctx.client));
  const bool csv = Raw(ctx.output);
  if (!csv) {
    ctx.out << ScopeText(set.scope(), set.period()) << "; open dossiers judged at " << InstantText(set.as_of()) << "\n";
  }
  Table t(Cat({csv ? "indicator_id" : "INDICATOR"}, ValueHeader(csv)));
  for (const auto& v : set.values()) {
    t.AddRow(Cat({v.indicator_id()}, ValueCells(v, UnitOf(definitions, v.indicator_id()), csv)));
  }
  PSTRACK_RETURN_IF_ERROR(PrintTable(ctx.out, t, ctx.output));
  if (!csv) PrintSources(ctx.out, set);
  return kExitOk;
}

absl::StatusOr<int> Breakdown(Context& ctx, const Args& args) {
  static const std::map<std::string, v1::BreakdownDimension> kDimensions = {
      {"child", v1::BREAKDOWN_DIMENSION_CHILD_AGENCY},
      {"field", v1::BREAKDOWN_DIMENSION_FIELD},
      {"channel", v1::BREAKDOWN_DIMENSION_CHANNEL},
      {"procedure", v1::BREAKDOWN_DIMENSION_PROCEDURE}};
  const std::string by = absl::AsciiStrToLower(args.String("by"));
  if (by.empty()) return absl::InvalidArgumentError("breakdown needs --by child, field, channel or procedure");
  auto dimension = kDimensions.find(by);
  if (dimension == kDimensions.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--by: '", by, "' is not a breakdown: use child, field, channel or procedure"));
  }
  v1::GetBreakdownRequest req;
  PSTRACK_ASSIGN_OR_RETURN(*req.mutable_scope(), ScopeFromArgs(args));
  PSTRACK_ASSIGN_OR_RETURN(*req.mutable_period(), PeriodFromArgs(args));
  IdsFromArgs(args, req.mutable_indicator_ids());
  req.set_dimension(dimension->second);
  v1::GetBreakdownResponse resp;
  PSTRACK_RETURN_IF_ERROR(
      ctx.client.Run([&](grpc::ClientContext* c) { return ctx.client.metrics().GetBreakdown(c, req, &resp); }));
  if (ctx.output == Output::kJson) {
    PSTRACK_RETURN_IF_ERROR(PrintJson(ctx.out, resp));
    return kExitOk;
  }
  PSTRACK_ASSIGN_OR_RETURN(const Definitions definitions, FetchDefinitions(ctx.client));
  const bool csv = Raw(ctx.output);
  // Only agencies have a name besides their key.
  const bool named = by == "child";
  std::vector<std::string> keys;
  if (csv) {
    keys = {"key", "label", "indicator_id"};
  } else {
    keys = {by == "child" ? "AGENCY" : absl::AsciiStrToUpper(by)};
    if (named) keys.push_back("NAME");
    keys.push_back("INDICATOR");
  }
  Table t(Cat(keys, ValueHeader(csv)));
  if (named && !csv) t.SetMaxWidth(1, 40);
  auto add = [&](const std::string& key, const std::string& label, const v1::IndicatorValue& v) {
    std::vector<std::string> cells = {csv || !key.empty() ? key : "(none)"};
    if (csv || named) cells.push_back(label);
    cells.push_back(v.indicator_id());
    t.AddRow(Cat(cells, ValueCells(v, UnitOf(definitions, v.indicator_id()), csv)));
  };
  for (const auto& row : resp.rows()) {
    for (const auto& v : row.values()) add(row.key(), row.label(), v);
  }
  for (const auto& v : resp.total()) add("(total)", req.scope().agency_code(), v);
  PSTRACK_RETURN_IF_ERROR(PrintTable(ctx.out, t, ctx.output));
  return kExitOk;
}

absl::StatusOr<int> Series(Context& ctx, const Args& args) {
  static const std::map<std::string, v1::Granularity> kGranularities = {{"day", v1::GRANULARITY_DAY},
                                                                        {"month", v1::GRANULARITY_MONTH},
                                                                        {"quarter", v1::GRANULARITY_QUARTER},
                                                                        {"year", v1::GRANULARITY_YEAR}};
  const std::string text = absl::AsciiStrToLower(args.String("granularity"));
  if (text.empty()) return absl::InvalidArgumentError("series needs --granularity day, month, quarter or year");
  auto granularity = kGranularities.find(text);
  if (granularity == kGranularities.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--granularity: '", text, "' is not one of day, month, quarter, year"));
  }
  v1::GetTimeSeriesRequest req;
  PSTRACK_ASSIGN_OR_RETURN(*req.mutable_scope(), ScopeFromArgs(args));
  PSTRACK_ASSIGN_OR_RETURN(*req.mutable_period(), PeriodFromArgs(args));
  IdsFromArgs(args, req.mutable_indicator_ids());
  req.set_granularity(granularity->second);
  v1::GetTimeSeriesResponse resp;
  PSTRACK_RETURN_IF_ERROR(
      ctx.client.Run([&](grpc::ClientContext* c) { return ctx.client.metrics().GetTimeSeries(c, req, &resp); }));
  if (ctx.output == Output::kJson) {
    PSTRACK_RETURN_IF_ERROR(PrintJson(ctx.out, resp));
    return kExitOk;
  }
  PSTRACK_ASSIGN_OR_RETURN(const Definitions definitions, FetchDefinitions(ctx.client));
  const bool csv = Raw(ctx.output);
  Table t(Cat(
      csv ? std::vector<std::string>{"start", "end", "indicator_id"} : std::vector<std::string>{"PERIOD", "INDICATOR"},
      ValueHeader(csv)));
  for (const auto& point : resp.points()) {
    std::vector<std::string> when =
        csv ? std::vector<std::string>{DateText(point.period().start(), true), DateText(point.period().end(), true)}
            : std::vector<std::string>{PeriodText(point.period())};
    for (const auto& v : point.values()) {
      t.AddRow(Cat(Cat(when, {v.indicator_id()}), ValueCells(v, UnitOf(definitions, v.indicator_id()), csv)));
    }
  }
  PSTRACK_RETURN_IF_ERROR(PrintTable(ctx.out, t, ctx.output));
  return kExitOk;
}

// Rank 0 means "not ranked": the value is not available.
std::string RankText(int rank, bool csv) { return rank > 0 ? absl::StrCat(rank) : csv ? "" : "-"; }

// The ranking by one indicator's value.
Table IndicatorRanking(const v1::RankAgenciesResponse& resp, const std::string& indicator, const std::string& unit,
                       bool csv) {
  Table t(Cat(csv ? std::vector<std::string>{"rank", "agency_code", "agency_name", "indicator_id"}
                  : std::vector<std::string>{"RANK", "AGENCY", "NAME"},
              ValueHeader(csv)));
  if (!csv) t.SetMaxWidth(2, 40);
  for (const auto& e : resp.entries()) {
    std::vector<std::string> cells = {RankText(e.rank(), csv), e.agency_code(), e.agency_name()};
    if (csv) cells.push_back(indicator);
    t.AddRow(Cat(cells, ValueCells(e.value(), unit, csv)));
  }
  return t;
}

// The ranking by a methodology's total points.
Table MethodologyRanking(const v1::RankAgenciesResponse& resp, const std::string& methodology, bool csv) {
  Table t(csv ? std::vector<std::string>{"rank", "agency_code", "agency_name", "methodology_id", "points", "max_points"}
              : std::vector<std::string>{"RANK", "AGENCY", "NAME", "POINTS", "OF"});
  if (!csv) t.SetMaxWidth(2, 40);
  for (const auto& e : resp.entries()) {
    if (csv) {
      t.AddRow({RankText(e.rank(), csv), e.agency_code(), e.agency_name(), methodology, RawNumber(e.score()),
                RawNumber(e.value().denominator())});
    } else {
      t.AddRow({RankText(e.rank(), csv), e.agency_code(), e.agency_name(), NumberText(e.score()),
                NumberText(e.value().denominator())});
    }
  }
  return t;
}

absl::StatusOr<int> Rank(Context& ctx, const Args& args) {
  const std::string& indicator = args.String("indicator");
  const std::string& methodology = args.String("methodology");
  if (indicator.empty() == methodology.empty()) {
    return absl::InvalidArgumentError(
        "rank needs exactly one of --indicator ID (see 'pstrack indicator-list') and --methodology ID "
        "(see 'pstrack methodologies')");
  }
  v1::RankAgenciesRequest req;
  PSTRACK_ASSIGN_OR_RETURN(*req.mutable_parent(), ScopeFromArgs(args));
  PSTRACK_ASSIGN_OR_RETURN(int level, LevelFromArgs(args));
  req.set_level(static_cast<v1::AgencyLevel>(level));
  PSTRACK_ASSIGN_OR_RETURN(*req.mutable_period(), PeriodFromArgs(args));
  req.set_indicator_id(indicator);
  req.set_methodology_id(methodology);
  req.set_ascending(args.Bool("ascending"));
  v1::RankAgenciesResponse resp;
  PSTRACK_RETURN_IF_ERROR(
      ctx.client.Run([&](grpc::ClientContext* c) { return ctx.client.metrics().RankAgencies(c, req, &resp); }));
  if (ctx.output == Output::kJson) {
    PSTRACK_RETURN_IF_ERROR(PrintJson(ctx.out, resp));
    return kExitOk;
  }
  const bool csv = Raw(ctx.output);
  if (!indicator.empty()) {
    PSTRACK_ASSIGN_OR_RETURN(const Definitions definitions, FetchDefinitions(ctx.client));
    PSTRACK_RETURN_IF_ERROR(PrintTable(ctx.out, IndicatorRanking(resp, indicator, UnitOf(definitions, indicator), csv), ctx.output));
  } else {
    PSTRACK_RETURN_IF_ERROR(PrintTable(ctx.out, MethodologyRanking(resp, methodology, csv), ctx.output));
  }
  if (!csv) {
    const int unranked = std::count_if(resp.entries().begin(), resp.entries().end(),
                                       [](const v1::RankAgenciesResponse::Entry& e) { return e.rank() == 0; });
    ctx.out << resp.entries_size() << " agencies";
    if (unranked > 0) ctx.out << ", " << unranked << " not ranked (value not available)";
    ctx.out << "\n";
  }
  return kExitOk;
}

// The points of an indicator that come from outside pstrack, or why the
// value is not available.
std::string ScoreNote(const v1::IndicatorValue& v) {
  if (!v.available()) return v.unavailable_reason();
  std::vector<std::string> external;
  for (const auto& s : v.sources()) {
    if (s.rfind("external:", 0) == 0) external.push_back(s);
  }
  return absl::StrJoin(external, "; ");
}

absl::Status PrintScoreRaw(std::ostream& out, const v1::IndexScore& score, Output output) {
  Table t({"row", "group_id", "indicator_id", "name", "input", "value", "available", "target", "rule", "points",
           "max_points", "note"});
  for (const auto& g : score.groups()) {
    t.AddRow({"group", g.id(), "", g.name(), "", "", "", "", "", RawNumber(g.points()), RawNumber(g.max_points()), ""});
    for (const auto& i : g.indicators()) {
      const bool ok = i.value().available();
      t.AddRow({"indicator", g.id(), i.id(), i.name(), i.input(), ok ? RawNumber(i.value().value()) : kNotAvailable,
                ok ? "true" : "false", i.rule() == "linear_to_target" ? RawNumber(i.target()) : "", i.rule(),
                ok ? RawNumber(i.points()) : kNotAvailable, RawNumber(i.max_points()), ScoreNote(i.value())});
    }
  }
  t.AddRow({"total", "", "", score.methodology_id(), "", "", "", "", "", RawNumber(score.total_points()),
            RawNumber(score.max_points()), ""});
  t.AddRow({"unavailable", "", "", score.methodology_id(), "", "", "", "", "", RawNumber(score.unavailable_points()),
            "", "max points of the indicators whose input is missing, not counted as zero"});
  return PrintTable(out, t, output);
}

// The score's table; `unavailable` gets "id (max points)" of each indicator
// that could not be scored.
Table ScoreTable(const v1::IndexScore& score, std::vector<std::string>* unavailable) {
  Table t({"GROUP", "INDICATOR", "NAME", "INPUT", "VALUE", "TARGET", "POINTS", "MAX", "NOTE"});
  t.SetMaxWidth(2, 40);
  for (const auto& g : score.groups()) {
    // A group none of whose points could be scored reads n/a, not 0.
    double missing = 0;
    for (const auto& i : g.indicators()) missing += i.value().available() ? 0 : i.max_points();
    const bool none_scored = g.max_points() > 0 && missing >= g.max_points();
    t.AddRow({g.id(), "", g.name(), "", "", "", none_scored ? kNotAvailable : NumberText(g.points()),
              NumberText(g.max_points()),
              missing > 0 ? absl::StrCat(NumberText(missing), " of its points unavailable") : ""});
    for (const auto& i : g.indicators()) {
      const bool ok = i.value().available();
      if (!ok && i.max_points() > 0) {
        unavailable->push_back(absl::StrCat(i.id(), " (", NumberText(i.max_points()), ")"));
      }
      std::string target = i.rule() == "linear_to_target" ? PercentText(i.target())
                           : i.rule() == "bands"          ? "bands"
                                                          : "no points";
      std::string input = i.input();
      if (input.rfind("builtin:", 0) == 0) input = input.substr(8);
      t.AddRow({"", i.id(), i.name(), input, ok ? PercentText(i.value().value()) : kNotAvailable, target,
                ok ? NumberText(i.points()) : kNotAvailable, NumberText(i.max_points()), ScoreNote(i.value())});
    }
  }
  return t;
}

absl::StatusOr<int> Score(Context& ctx, const Args& args) {
  v1::ScoreIndexRequest req;
  PSTRACK_ASSIGN_OR_RETURN(*req.mutable_scope(), ScopeFromArgs(args));
  PSTRACK_ASSIGN_OR_RETURN(*req.mutable_period(), PeriodFromArgs(args));
  req.set_methodology_id(args.String("methodology"));
  v1::IndexScore score;
  PSTRACK_RETURN_IF_ERROR(
      ctx.client.Run([&](grpc::ClientContext* c) { return ctx.client.metrics().ScoreIndex(c, req, &score); }));
  if (ctx.output == Output::kJson) {
    PSTRACK_RETURN_IF_ERROR(PrintJson(ctx.out, score));
    return kExitOk;
  }
  if (Raw(ctx.output)) {
    PSTRACK_RETURN_IF_ERROR(PrintScoreRaw(ctx.out, score, ctx.output));
    return kExitOk;
  }
  ctx.out << score.methodology_id() << ": " << ScopeText(score.scope(), score.period()) << "\n";
  std::vector<std::string> unavailable;
  ScoreTable(score, &unavailable).Print(ctx.out);
  ctx.out << "total: " << NumberText(score.total_points()) << " of " << NumberText(score.max_points()) << " points\n";
  if (score.unavailable_points() > 0) {
    ctx.out << "unavailable: " << NumberText(score.unavailable_points())
            << " points not scored because an input is missing (not counted as zero): "
            << absl::StrJoin(unavailable, ", ") << "\n"
            << "so " << NumberText(score.total_points()) << " of the "
            << NumberText(score.max_points() - score.unavailable_points()) << " points that could be assessed\n";
  } else {
    ctx.out << "unavailable: 0 points\n";
  }
  return kExitOk;
}

absl::StatusOr<int> Methodologies(Context& ctx, const Args&) {
  v1::ListMethodologiesRequest req;
  v1::ListMethodologiesResponse resp;
  PSTRACK_RETURN_IF_ERROR(
      ctx.client.Run([&](grpc::ClientContext* c) { return ctx.client.metrics().ListMethodologies(c, req, &resp); }));
  if (ctx.output == Output::kJson) {
    PSTRACK_RETURN_IF_ERROR(PrintJson(ctx.out, resp));
    return kExitOk;
  }
  const bool csv = Raw(ctx.output);
  Table t(csv ? std::vector<std::string>{"id", "name", "source", "effective_from", "max_points", "default"}
              : std::vector<std::string>{"ID", "DEFAULT", "EFFECTIVE FROM", "MAX POINTS", "NAME", "SOURCE"});
  if (!csv) {
    t.SetMaxWidth(4, 50);
    t.SetMaxWidth(5, 50);
  }
  for (const auto& m : resp.methodologies()) {
    const bool is_default = m.id() == resp.default_id();
    const std::string from = DateText(m.effective_from(), m.has_effective_from());
    if (csv) {
      t.AddRow({m.id(), m.name(), m.source(), from, RawNumber(m.max_points()), is_default ? "true" : "false"});
    } else {
      t.AddRow({m.id(), is_default ? "yes" : "", from, NumberText(m.max_points()), m.name(), m.source()});
    }
  }
  PSTRACK_RETURN_IF_ERROR(PrintTable(ctx.out, t, ctx.output));
  if (!csv) ctx.out << resp.methodologies_size() << " methodologies; default " << resp.default_id() << "\n";
  return kExitOk;
}

absl::StatusOr<int> IndicatorList(Context& ctx, const Args&) {
  v1::ListIndicatorsRequest req;
  v1::ListIndicatorsResponse resp;
  PSTRACK_RETURN_IF_ERROR(
      ctx.client.Run([&](grpc::ClientContext* c) { return ctx.client.metrics().ListIndicators(c, req, &resp); }));
  if (ctx.output == Output::kJson) {
    PSTRACK_RETURN_IF_ERROR(PrintJson(ctx.out, resp));
    return kExitOk;
  }
  const bool csv = Raw(ctx.output);
  Table t(csv ? std::vector<std::string>{"id", "name", "unit", "period_basis", "numerator", "denominator", "source"}
              : std::vector<std::string>{"ID", "NAME", "UNIT", "BASIS"});
  for (const auto& d : resp.indicators()) {
    if (csv) {
      t.AddRow({d.id(), d.name(), d.unit(), d.period_basis(), d.numerator(), d.denominator(), d.source()});
    } else {
      t.AddRow({d.id(), d.name(), d.unit(), d.period_basis()});
    }
  }
  PSTRACK_RETURN_IF_ERROR(PrintTable(ctx.out, t, ctx.output));
  if (!csv) ctx.out << resp.indicators_size() << " indicators (formulas: docs/indicators.md, or --json)\n";
  return kExitOk;
}

absl::StatusOr<int> ExternalSubmit(Context& ctx, const Args& args) {
  PSTRACK_ASSIGN_OR_RETURN(std::string text, ReadInput(args.positional(0), std::cerr));
  PSTRACK_ASSIGN_OR_RETURN(const CsvTable table, CsvTable::Parse(text, ExternalInputColumns()));
  BatchSender<v1::SubmitExternalInputsRequest, v1::SubmitExternalInputsResponse> sender(
      ctx.client, 10000, ResultLines::kFromIndex,  // the server's batch limit
      [&](grpc::ClientContext* c, const v1::SubmitExternalInputsRequest& q, v1::SubmitExternalInputsResponse* r) {
        return ctx.client.metrics().SubmitExternalInputs(c, q, r);
      });
  int rejected_here = 0;
  for (const auto& row : table.Rows()) {
    absl::StatusOr<v1::ExternalInput> input = ExternalInputFromRow(row);
    if (!input.ok()) {
      ctx.out << "line " << row.line << ": " << input.status().message() << "\n";
      ++rejected_here;
      continue;
    }
    *sender.request().add_inputs() = *std::move(input);
    PSTRACK_RETURN_IF_ERROR(sender.Added(row.line));
  }
  PSTRACK_RETURN_IF_ERROR(sender.Flush());
  return PrintImportResults(ctx.out, sender.results(), rejected_here, "external inputs");
}

// Where the stored aggregates differ from the events: by node, by day, and
// the first rows.
void PrintDifferences(std::ostream& out, const v1::RebuildAggregatesResponse& resp) {
  Table nodes({"node", "rows differing"});
  for (const auto& n : resp.nodes()) nodes.AddRow({n.key(), absl::StrCat(n.rows())});
  out << "\nnodes with the most differing rows:\n";
  nodes.Print(out);
  Table days({"day", "rows differing"});
  for (const auto& d : resp.days()) days.AddRow({d.key(), absl::StrCat(d.rows())});
  out << "\ndays with the most differing rows:\n";
  days.Print(out);
  Table samples({"node", "basis", "dimension", "value", "day", "counter", "events", "stored"});
  for (const auto& d : resp.samples()) {
    for (const auto& c : d.counters()) {
      samples.AddRow({d.node_code(), d.basis(), d.dimension(), d.dimension_value(), d.day(), c.counter(),
                      absl::StrCat(c.expected()), absl::StrCat(c.stored())});
    }
  }
  out << "\nthe first differing rows:\n";
  samples.Print(out);
}

// `check` exits 1 when the stored aggregates differ from the events, so that
// a scheduled job can alert on it.
absl::StatusOr<int> Aggregates(Context& ctx, bool repair) {
  v1::RebuildAggregatesRequest req;
  req.set_repair(repair);
  v1::RebuildAggregatesResponse resp;
  // Minutes on a large database: an hour unless --timeout says otherwise.
  PSTRACK_RETURN_IF_ERROR(ctx.client.Run(
      [&](grpc::ClientContext* c) { return ctx.client.metrics().RebuildAggregates(c, req, &resp); }, absl::Hours(1)));
  const bool differ = resp.rows_differing() > 0;
  if (ctx.output == Output::kJson) {
    PSTRACK_RETURN_IF_ERROR(PrintJson(ctx.out, resp));
  } else {
    ctx.out << "dossiers replayed: " << resp.dossiers() << "\naggregate rows compared: " << resp.rows_compared()
            << "\nrows differing from the events: " << resp.rows_differing();
    if (differ) {
      ctx.out << " (" << resp.rows_missing() << " missing, " << resp.rows_unexpected() << " not expected, "
              << resp.rows_changed() << " with other counts)";
    }
    ctx.out << "\n";
    if (differ) PrintDifferences(ctx.out, resp);
    if (resp.repaired()) {
      ctx.out << "repaired: " << resp.rows_repaired() << " rows set to what the events give\n";
    } else if (differ) {
      ctx.out << "the aggregates differ from the events; 'pstrack aggregates repair' fixes the rows that differ\n";
    } else {
      ctx.out << "the aggregates match the events\n";
    }
  }
  return differ && !resp.repaired() ? kExitFailure : kExitOk;
}

// The options of the commands that measure a scope over a period.
std::vector<OptionSpec> Measured(std::string scope_help, std::vector<OptionSpec> more) {
  return Join(Join(ScopeOptions(std::move(scope_help)), PeriodOptions()), more);
}

}  // namespace

std::vector<Command> MetricsCommands() {
  const std::string measured = "Agency whose subtree is measured (VN = the whole country)";
  return {
      {.words = {"indicators"},
       .group = kGroup,
       .synopsis = "--scope CODE PERIOD [--ids a,b] [--as_filed]",
       .summary = "the indicators of a scope over a period",
       .options = Measured(measured, {IdsOption()}),
       .formats = Formats::kJsonCsv,
       .run = Indicators},
      {.words = {"breakdown"},
       .group = kGroup,
       .synopsis = "--scope CODE PERIOD --by child|field|channel|procedure [--ids a,b]",
       .summary = "the indicators split by child agency, field, channel or procedure",
       .options = Measured(measured, {StringOption("by", "DIM", "child, field, channel or procedure"), IdsOption()}),
       .formats = Formats::kJsonCsv,
       .run = Breakdown},
      {.words = {"series"},
       .group = kGroup,
       .synopsis = "--scope CODE PERIOD --granularity day|month|quarter|year [--ids a,b]",
       .summary = "the indicators day by day, month by month, ...",
       .options = Measured(measured, {StringOption("granularity", "G", "day, month, quarter or year"), IdsOption()}),
       .formats = Formats::kJsonCsv,
       .run = Series},
      {.words = {"rank"},
       .group = kGroup,
       .synopsis = "--scope CODE PERIOD (--indicator ID | --methodology ID) [--level L] [--ascending]",
       .summary = "ranks the children of CODE (or its descendants of level L)",
       .options = Measured("Agency whose children (or descendants of --level) are ranked (VN = the whole country)",
                           {StringOption("indicator", "ID", "Rank by this indicator id"),
                            StringOption("methodology", "ID", "Rank by this methodology's total"),
                            LevelOption("Rank the descendants of this level: ministry, province, department, "
                                        "district, commune"),
                            BoolOption("ascending",
                                       "Lowest first (already the default for lower-is-better "
                                       "indicators)")}),
       .formats = Formats::kJsonCsv,
       .run = Rank},
      {.words = {"score"},
       .group = kGroup,
       .synopsis = "--scope CODE PERIOD [--methodology qd766@2026]",
       .summary = "an index score: points by group, and those not assessed",
       .options = Measured(measured, {StringOption("methodology", "ID", "The methodology (default: the server's)")}),
       .formats = Formats::kJsonCsv,
       .run = Score},
      {.words = {"methodologies"},
       .group = kGroup,
       .summary = "the loaded index methodologies, and the default",
       .formats = Formats::kJsonCsv,
       .run = Methodologies},
      {.words = {"indicator-list"},
       .group = kGroup,
       .summary = "the built-in indicators: id, name, unit, period basis",
       .formats = Formats::kJsonCsv,
       .run = IndicatorList},
      {.words = {"external", "submit"},
       .group = kGroup,
       .positionals = {"FILE.csv"},
       .summary = "figures from outside pstrack (SIPAS, complaints, ...)",
       .details = "Columns: input_id,agency_code,indicator_id,start,end,numerator,denominator,value,source\n"
                  "(start..end half-open, YYYY-MM-DD; a ratio leaves value empty, a plain value leaves\n"
                  "numerator and denominator empty). Exits 1 if any line was rejected.",
       .formats = Formats::kTableOnly,
       .run = ExternalSubmit},
      {.words = {"aggregates", "check"},
       .group = kGroup,
       .summary = "compares the stored aggregates with the events (exits 1 when they differ)",
       .run = [](Context& ctx, const Args&) { return Aggregates(ctx, /*repair=*/false); }},
      {.words = {"aggregates", "repair"},
       .group = kGroup,
       .summary = "rebuilds the aggregate rows that differ from the events",
       .run = [](Context& ctx, const Args&) { return Aggregates(ctx, /*repair=*/true); }},
  };
}

}  // namespace pstrack::cli
