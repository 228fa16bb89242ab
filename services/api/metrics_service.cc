#include "services/api/batch_import.h"
#include "services/api/metrics_service.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/message_differencer.h"
#include "services/api/convert.h"
#include "services/api/metrics_convert.h"
#include "services/api/filing_convert.h"
#include "services/api/rpc_guard.h"
#include "services/common/status.h"

namespace pstrack {
namespace {

void ScoreToProto(const IndexScore& s, v1::IndexScore* out) {
  out->set_methodology_id(s.methodology->id);
  for (const GroupScore& g : s.groups) {
    auto* group = out->add_groups();
    group->set_id(g.group->id);
    group->set_name(g.group->name);
    group->set_max_points(g.group->max_points);
    group->set_points(g.points);
    for (const IndicatorScore& i : g.indicators) {
      auto* ind = group->add_indicators();
      ind->set_id(i.indicator->id);
      ind->set_name(i.indicator->name);
      ind->set_max_points(i.indicator->max_points);
      ind->set_input(i.indicator->source.ToString());
      ValueToProto(i.value, ind->mutable_value());
      ind->set_points(i.points);
      ind->set_target(i.indicator->target);
      ind->set_rule(i.indicator->rule == ScoringRule::kLinearToTarget ? "linear_to_target"
                    : i.indicator->rule == ScoringRule::kBands        ? "bands"
                                                                      : "no_points");
    }
  }
  out->set_total_points(s.total_points);
  out->set_max_points(s.max_points);
  out->set_unavailable_points(s.unavailable_points);
}

}  // namespace

grpc::Status MetricsServiceImpl::ListIndicators(grpc::ServerContext* context, const v1::ListIndicatorsRequest* request,
                                                v1::ListIndicatorsResponse* response) {
  return guard_.Run(context, "ListIndicators", *request, [&]() -> absl::Status {
    for (const IndicatorDefinition& d : BuiltinIndicators()) {
      auto* out = response->add_indicators();
      out->set_id(d.id);
      out->set_name(d.name);
      out->set_numerator(d.numerator);
      out->set_denominator(d.denominator);
      out->set_source(d.source);
      out->set_unit(d.unit);
      out->set_period_basis(d.period_basis);
    }
    return absl::OkStatus();
  });
}

grpc::Status MetricsServiceImpl::GetIndicators(grpc::ServerContext* context, const v1::GetIndicatorsRequest* request,
                                               v1::IndicatorSet* response) {
  return guard_.Run(context, "GetIndicators", *request, [&](Call& call) -> absl::Status {
    PSTRACK_ASSIGN_OR_RETURN(ScopeRequest scope, ScopeFromProto(request->scope(), request->has_scope(), "scope"));
    PSTRACK_RETURN_IF_ERROR(call.RequireInScope(scope.agency_code, "scope.agency_code"));
    PSTRACK_ASSIGN_OR_RETURN(Period period, PeriodFromProto(request->period(), request->has_period(), "period"));
    PSTRACK_ASSIGN_OR_RETURN(auto as_of, OptionalTime(request->has_as_of(), request->as_of(), "as_of"));
    PSTRACK_ASSIGN_OR_RETURN(IndicatorSetResult r,
                             metrics_.Indicators(scope, period, Ids(request->indicator_ids()), as_of));
    *response->mutable_scope() = request->scope();
    PeriodToProto(r.period, response->mutable_period());
    TimeToProto(r.as_of, response->mutable_as_of());
    for (const auto& v : r.values) ValueToProto(v, response->add_values());
    for (const auto& part : r.parts) ReportUseToProto(part, response->add_parts());
    LogToProto(r.log, response->mutable_log());
    return absl::OkStatus();
  });
}

grpc::Status MetricsServiceImpl::GetBreakdown(grpc::ServerContext* context, const v1::GetBreakdownRequest* request,
                                              v1::GetBreakdownResponse* response) {
  return guard_.Run(context, "GetBreakdown", *request, [&](Call& call) -> absl::Status {
    PSTRACK_ASSIGN_OR_RETURN(ScopeRequest scope, ScopeFromProto(request->scope(), request->has_scope(), "scope"));
    PSTRACK_RETURN_IF_ERROR(call.RequireInScope(scope.agency_code, "scope.agency_code"));
    PSTRACK_ASSIGN_OR_RETURN(Period period, PeriodFromProto(request->period(), request->has_period(), "period"));
    PSTRACK_ASSIGN_OR_RETURN(auto as_of, OptionalTime(request->has_as_of(), request->as_of(), "as_of"));
    Dimension dim;
    switch (request->dimension()) {
      case v1::BREAKDOWN_DIMENSION_CHILD_AGENCY: dim = Dimension::kChildAgency; break;
      case v1::BREAKDOWN_DIMENSION_FIELD: dim = Dimension::kField; break;
      case v1::BREAKDOWN_DIMENSION_CHANNEL: dim = Dimension::kChannel; break;
      case v1::BREAKDOWN_DIMENSION_PROCEDURE: dim = Dimension::kProcedure; break;
      default: return InvalidField("dimension", "choose child agency, field, channel or procedure");
    }
    PSTRACK_ASSIGN_OR_RETURN(auto rows, metrics_.Breakdown(scope, period, Ids(request->indicator_ids()), dim, as_of));
    PSTRACK_ASSIGN_OR_RETURN(IndicatorSetResult total,
                             metrics_.Indicators(scope, period, Ids(request->indicator_ids()), as_of));
    for (const auto& row : rows) {
      auto* out = response->add_rows();
      out->set_key(row.key);
      out->set_label(row.label);
      for (const auto& v : row.values) ValueToProto(v, out->add_values());
    }
    for (const auto& v : total.values) ValueToProto(v, response->add_total());
    LogToProto(total.log, response->mutable_log());
    return absl::OkStatus();
  });
}

grpc::Status MetricsServiceImpl::GetTimeSeries(grpc::ServerContext* context, const v1::GetTimeSeriesRequest* request,
                                               v1::GetTimeSeriesResponse* response) {
  return guard_.Run(context, "GetTimeSeries", *request, [&](Call& call) -> absl::Status {
    PSTRACK_ASSIGN_OR_RETURN(ScopeRequest scope, ScopeFromProto(request->scope(), request->has_scope(), "scope"));
    PSTRACK_RETURN_IF_ERROR(call.RequireInScope(scope.agency_code, "scope.agency_code"));
    PSTRACK_ASSIGN_OR_RETURN(Period period, PeriodFromProto(request->period(), request->has_period(), "period"));
    Granularity g;
    switch (request->granularity()) {
      case v1::GRANULARITY_DAY: g = Granularity::kDay; break;
      case v1::GRANULARITY_MONTH: g = Granularity::kMonth; break;
      case v1::GRANULARITY_QUARTER: g = Granularity::kQuarter; break;
      case v1::GRANULARITY_YEAR: g = Granularity::kYear; break;
      default: return InvalidField("granularity", "choose day, month, quarter or year");
    }
    LogState log;
    PSTRACK_ASSIGN_OR_RETURN(auto points, metrics_.TimeSeries(scope, period, Ids(request->indicator_ids()), g, &log));
    LogToProto(log, response->mutable_log());
    for (const auto& p : points) {
      auto* out = response->add_points();
      PeriodToProto(p.period, out->mutable_period());
      for (const auto& v : p.values) ValueToProto(v, out->add_values());
    }
    return absl::OkStatus();
  });
}

grpc::Status MetricsServiceImpl::RankAgencies(grpc::ServerContext* context, const v1::RankAgenciesRequest* request,
                                              v1::RankAgenciesResponse* response) {
  return guard_.Run(context, "RankAgencies", *request, [&](Call& call) -> absl::Status {
    PSTRACK_ASSIGN_OR_RETURN(ScopeRequest parent, ScopeFromProto(request->parent(), request->has_parent(), "parent"));
    PSTRACK_RETURN_IF_ERROR(call.RequireInScope(parent.agency_code, "parent.agency_code"));
    PSTRACK_ASSIGN_OR_RETURN(Period period, PeriodFromProto(request->period(), request->has_period(), "period"));
    if (request->level() < 0 || request->level() > kMaxAgencyLevel) return InvalidField("level", "unknown level");
    std::optional<bool> ascending;
    if (request->ascending()) ascending = true;
    LogState log;
    PSTRACK_ASSIGN_OR_RETURN(auto entries,
                             metrics_.Rank(parent, static_cast<AgencyLevel>(request->level()), period,
                                           request->indicator_id(), request->methodology_id(), ascending, &log,
                                           request->min_sample_size()));
    LogToProto(log, response->mutable_log());
    for (const auto& e : entries) {
      auto* out = response->add_entries();
      out->set_rank(e.rank);
      out->set_agency_code(e.agency_code);
      out->set_agency_name(e.agency_name);
      ValueToProto(e.value, out->mutable_value());
      out->set_score(e.score);
      out->set_sample_size(e.sample_size);
      out->set_below_min_sample(e.below_min_sample);
      if (e.index) ScoreToProto(*e.index, out->mutable_index());
    }
    return absl::OkStatus();
  });
}

grpc::Status MetricsServiceImpl::ScoreIndex(grpc::ServerContext* context, const v1::ScoreIndexRequest* request,
                                            v1::IndexScore* response) {
  return guard_.Run(context, "ScoreIndex", *request, [&](Call& call) -> absl::Status {
    PSTRACK_ASSIGN_OR_RETURN(ScopeRequest scope, ScopeFromProto(request->scope(), request->has_scope(), "scope"));
    PSTRACK_RETURN_IF_ERROR(call.RequireInScope(scope.agency_code, "scope.agency_code"));
    PSTRACK_ASSIGN_OR_RETURN(Period period, PeriodFromProto(request->period(), request->has_period(), "period"));
    PSTRACK_ASSIGN_OR_RETURN(ScoredIndex s, metrics_.Score(scope, period, request->methodology_id()));
    ScoreToProto(s.score, response);
    LogToProto(s.log, response->mutable_log());
    *response->mutable_scope() = request->scope();
    PeriodToProto(period, response->mutable_period());
    return absl::OkStatus();
  });
}

grpc::Status MetricsServiceImpl::ListMethodologies(grpc::ServerContext* context, const v1::ListMethodologiesRequest* request,
                                                   v1::ListMethodologiesResponse* response) {
  return guard_.Run(context, "ListMethodologies", *request, [&]() -> absl::Status {
    auto registry = metrics_.methodologies();
    if (!registry) return absl::OkStatus();
    for (const Methodology* m : registry->All()) {
      auto* out = response->add_methodologies();
      out->set_id(m->id);
      out->set_name(m->name);
      out->set_source(m->source);
      if (m->effective_from) DateToProto(*m->effective_from, out->mutable_effective_from());
      out->set_max_points(m->max_points());
    }
    response->set_default_id(registry->default_id());
    return absl::OkStatus();
  });
}

grpc::Status MetricsServiceImpl::SubmitExternalInputs(grpc::ServerContext* context,
                                                      const v1::SubmitExternalInputsRequest* request,
                                                      v1::SubmitExternalInputsResponse* response) {
  return guard_.Run(context, "SubmitExternalInputs", *request, [&](Call& call) -> absl::Status {
    PSTRACK_RETURN_IF_ERROR(CheckBatchSize("inputs", request->inputs_size(), "inputs"));
    std::vector<ItemOutcome> all = ImportItems<ExternalInput>(
        request->inputs_size(),
        [&](int i, ItemOutcome& o) -> absl::StatusOr<ExternalInput> {
          const auto& in = request->inputs(i);
          o.key = in.input_id();
          if (!in.has_period() || !in.period().has_start() || !in.period().has_end()) {
            return InvalidField("input.period", "needs both start and end");
          }
          PSTRACK_ASSIGN_OR_RETURN(Date start, DateFromProto(in.period().start(), "input.period.start"));
          PSTRACK_ASSIGN_OR_RETURN(Date end, DateFromProto(in.period().end(), "input.period.end"));
          return ExternalInput{in.input_id(),  in.agency_code(),  in.indicator_id(), Period{start, end},
                               in.numerator(), in.denominator(), in.value(),        in.source()};
        },
        [&](std::vector<ExternalInput> inputs) { return inputs_.Submit(inputs); });
    call.SetTarget(absl::StrCat(all.size(), " external inputs, first ", all.front().key));
    call.SetCounts(CountOutcomes(all));
    for (const auto& o : all) ItemOutcomeToProto(o, response->add_results());
    BatchSummaryToProto(all, response->mutable_summary());
    return absl::OkStatus();
  });
}

grpc::Status MetricsServiceImpl::ListExternalInputs(grpc::ServerContext* context,
                                                    const v1::ListExternalInputsRequest* request,
                                                    v1::ListExternalInputsResponse* response) {
  return guard_.Run(context, "ListExternalInputs", *request, [&](Call& call) -> absl::Status {
    if (!call.caller().national()) {
      if (request->agency_code().empty()) {
        return call.OutOfScope("agency_code", "the whole country (name an agency)");
      }
      PSTRACK_RETURN_IF_ERROR(call.RequireInScope(request->agency_code(), "agency_code"));
    }
    PSTRACK_ASSIGN_OR_RETURN(auto inputs, inputs_.List(request->agency_code(), request->indicator_id()));
    for (const auto& in : inputs) {
      auto* out = response->add_inputs();
      out->set_input_id(in.input_id);
      out->set_agency_code(in.agency_code);
      out->set_indicator_id(in.indicator_id);
      PeriodToProto(in.period, out->mutable_period());
      out->set_numerator(in.numerator);
      out->set_denominator(in.denominator);
      out->set_value(in.value);
      out->set_source(in.source);
    }
    return absl::OkStatus();
  });
}

grpc::Status MetricsServiceImpl::RebuildAggregates(grpc::ServerContext* context,
                                                   const v1::RebuildAggregatesRequest* request,
                                                   v1::RebuildAggregatesResponse* response) {
  return guard_.Run(context, "RebuildAggregates", *request, [&](Call& call) -> absl::Status {
    call.SetTarget(request->repair() ? "aggregates: check and repair" : "aggregates: check");
    AggregateCheckOptions options = check_options_;
    options.repair = request->repair();
    PSTRACK_ASSIGN_OR_RETURN(AggregateCheck check, maintenance_.CheckAggregates(options));
    response->set_dossiers(check.dossiers);
    response->set_rows_compared(check.rows_compared);
    response->set_rows_differing(check.rows_differing);
    response->set_repaired(check.repaired);
    response->set_rows_missing(check.rows_missing);
    response->set_rows_unexpected(check.rows_unexpected);
    response->set_rows_changed(check.rows_changed);
    response->set_rows_repaired(check.rows_repaired);
    static constexpr const char* kDims[] = {"total", "channel", "field", "procedure"};
    for (const AggregateDifferenceSample& d : check.samples) {
      v1::AggregateDifference* out = response->add_samples();
      out->set_node_code(d.key.node_code);
      const int basis = static_cast<int>(d.key.basis);
      const int day_basis = basis % kMonthGrain;
      out->set_basis(absl::StrCat(day_basis == 1 ? "receipt" : day_basis == 2 ? "finish" : "clock",
                                  basis >= kYearGrain ? "_year" : basis >= kMonthGrain ? "_month" : ""));
      const int dim = static_cast<int>(d.key.dim);
      out->set_dimension(dim >= 0 && dim < 4 ? kDims[dim] : absl::StrCat(dim));
      out->set_dimension_value(d.key.dim_value);
      out->set_day(d.key.day);
      for (int i = 0; i < kCounterCount; ++i) {
        if (d.expected[i] == d.stored[i]) continue;
        v1::CounterDifference* c = out->add_counters();
        c->set_counter(CounterNames()[i]);
        c->set_expected(d.expected[i]);
        c->set_stored(d.stored[i]);
      }
    }
    for (const auto& [key, rows] : check.nodes) {
      v1::DifferenceCount* c = response->add_nodes();
      c->set_key(key);
      c->set_rows(rows);
    }
    for (const auto& [key, rows] : check.days) {
      v1::DifferenceCount* c = response->add_days();
      c->set_key(key);
      c->set_rows(rows);
    }
    return absl::OkStatus();
  });
}

}  // namespace pstrack
