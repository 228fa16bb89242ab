#include "services/api/batch_import.h"
#include "services/api/reporting_service.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "services/api/convert.h"
#include "services/api/metrics_convert.h"
#include "services/common/status.h"

namespace pstrack {
namespace {

// Optional int64 fields of PeriodicReport, in Figure order (received and
// finished are plain fields).
template <typename Fn>
void ForEachFigure(Fn&& fn) {
  using R = v1::PeriodicReport;
  fn(Figure::kReceivedOnline, &R::has_received_online, &R::received_online, &R::set_received_online);
  fn(Figure::kReceivedInPerson, &R::has_received_in_person, &R::received_in_person, &R::set_received_in_person);
  fn(Figure::kReceivedPostal, &R::has_received_postal, &R::received_postal, &R::set_received_postal);
  fn(Figure::kReceivedEligibleFullOnline, &R::has_received_eligible_full_online, &R::received_eligible_full_online,
     &R::set_received_eligible_full_online);
  fn(Figure::kReceivedFullOnline, &R::has_received_full_online, &R::received_full_online,
     &R::set_received_full_online);
  fn(Figure::kFinishedEarly, &R::has_finished_early, &R::finished_early, &R::set_finished_early);
  fn(Figure::kFinishedOnTime, &R::has_finished_on_time, &R::finished_on_time, &R::set_finished_on_time);
  fn(Figure::kFinishedLate, &R::has_finished_late, &R::finished_late, &R::set_finished_late);
  fn(Figure::kOpenAtEnd, &R::has_open_at_end, &R::open_at_end, &R::set_open_at_end);
  fn(Figure::kOpenOverdueAtEnd, &R::has_open_overdue_at_end, &R::open_overdue_at_end, &R::set_open_overdue_at_end);
  fn(Figure::kFeeDossiers, &R::has_fee_dossiers, &R::fee_dossiers, &R::set_fee_dossiers);
  fn(Figure::kPaidOnline, &R::has_paid_online, &R::paid_online, &R::set_paid_online);
  fn(Figure::kDigitised, &R::has_digitised, &R::digitised, &R::set_digitised);
}

void FiguresToProto(const std::array<int64_t, kComparedCount>& f, v1::ReconciledFigures* out) {
  out->set_received(f[0]);
  out->set_received_online(f[1]);
  out->set_received_in_person(f[2]);
  out->set_received_postal(f[3]);
  out->set_finished(f[4]);
  out->set_finished_early(f[5]);
  out->set_finished_on_time(f[6]);
  out->set_finished_late(f[7]);
}

void QualityRowToProto(const DataQualityRow& r, v1::GetDataQualityResponse::Row* out) {
  out->set_agency_code(r.agency_code);
  out->set_agency_name(r.agency_name);
  out->set_events_accepted(r.accepted);
  out->set_events_rejected(r.rejected);
  for (const auto& [reason, n] : r.rejected_by_reason) {
    auto* rc = out->add_rejected_by_reason();
    rc->set_reason(reason);
    rc->set_count(n);
  }
  out->set_late_events(r.late);
  out->set_appointment_mismatches(r.mismatches);
  out->set_dossiers_received(r.received);
  out->set_far_overdue_open(r.far_overdue);
  if (r.oldest_overdue_us) TimeToProto(absl::FromUnixMicros(r.oldest_overdue_us), out->mutable_oldest_overdue_since());
  if (r.last_event_us) TimeToProto(absl::FromUnixMicros(r.last_event_us), out->mutable_last_event_at());
  out->set_set_aside_events(r.set_aside);
  out->set_code_date_mismatches(r.code_date_mismatches);
  out->set_issues(r.issues());
}

}  // namespace

PeriodicReport ReportFromProto(const v1::PeriodicReport& in) {
  PeriodicReport r;
  r.report_id = in.report_id();
  r.agency_code = in.agency_code();
  r.procedure_code = in.procedure_code();
  r.field = in.field();
  r.period_label = in.period();
  r.source = in.source();
  r.figures[static_cast<int>(Figure::kReceived)] = in.received();
  r.figures[static_cast<int>(Figure::kFinished)] = in.finished();
  ForEachFigure([&](Figure f, auto has, auto get, auto) {
    if ((in.*has)()) r.figures[static_cast<int>(f)] = (in.*get)();
  });
  return r;
}

void ReportToProto(const PeriodicReport& r, v1::PeriodicReport* out) {
  out->set_report_id(r.report_id);
  out->set_agency_code(r.agency_code);
  out->set_procedure_code(r.procedure_code);
  out->set_field(r.field);
  out->set_period(r.period_label);
  out->set_source(r.source);
  out->set_received(r.value(Figure::kReceived));
  out->set_finished(r.value(Figure::kFinished));
  ForEachFigure([&](Figure f, auto, auto, auto set) {
    if (r.has(f)) (out->*set)(r.value(f));
  });
  out->set_revision(r.revision);
  out->set_current(r.current);
  DateToProto(r.start, out->mutable_period_range()->mutable_start());
  DateToProto(r.end, out->mutable_period_range()->mutable_end());
  if (r.recorded_us) TimeToProto(absl::FromUnixMicros(r.recorded_us), out->mutable_recorded_at());
  out->set_recorded_by(r.recorded_by);
}

grpc::Status ReportingServiceImpl::SubmitReports(grpc::ServerContext* context, const v1::SubmitReportsRequest* request,
                                                 v1::SubmitReportsResponse* response) {
  return guard_.Run(context, "SubmitReports", *request, [&](Call& call) -> absl::Status {
    const int n = request->reports_size();
    PSTRACK_RETURN_IF_ERROR(CheckBatchSize("reports", n, "reports"));
    std::vector<PeriodicReport> reports;
    std::vector<int> positions;
    std::vector<ItemOutcome> all(n);
    // Centres report for their own subtree only.
    absl::flat_hash_map<std::string, bool> in_scope;
    if (!call.caller().national()) {
      std::vector<std::string> codes;
      for (const auto& r : request->reports()) codes.push_back(r.agency_code());
      std::sort(codes.begin(), codes.end());
      codes.erase(std::unique(codes.begin(), codes.end()), codes.end());
      PSTRACK_ASSIGN_OR_RETURN(in_scope, call.InScope(codes));
    }
    for (int i = 0; i < n; ++i) {
      const v1::PeriodicReport& r = request->reports(i);
      all[i].index = i;
      all[i].key = r.report_id();
      if (!call.caller().national() && !in_scope[r.agency_code()]) {
        all[i].status = call.OutOfScope(absl::StrCat("reports[", i, "].agency_code"), absl::StrCat("agency ", r.agency_code()));
        continue;
      }
      reports.push_back(ReportFromProto(r));
      positions.push_back(i);
    }
    std::vector<ItemOutcome> decided = reports_.Submit(std::move(reports), call.caller().principal);
    for (size_t k = 0; k < decided.size(); ++k) {
      ItemOutcome o = decided[k];
      const int i = positions[k];
      o.index = i;
      // Messages name the item by its place in the request.
      if (!o.status.ok() && i != static_cast<int>(k)) {
        const std::string from = absl::StrCat("reports[", k, "]"), to = absl::StrCat("reports[", i, "]");
        std::string message(o.status.message());
        if (message.rfind(from, 0) == 0) message = to + message.substr(from.size());
        o.status = absl::Status(o.status.code(), message);
      }
      all[i] = std::move(o);
    }
    call.SetTarget(absl::StrCat(n, " reports, first ", request->reports(0).report_id()));
    call.SetCounts(CountOutcomes(all));
    for (const auto& o : all) ItemOutcomeToProto(o, response->add_results());
    BatchSummaryToProto(all, response->mutable_summary());
    return absl::OkStatus();
  });
}

grpc::Status ReportingServiceImpl::GetReport(grpc::ServerContext* context, const v1::GetReportRequest* request,
                                             v1::GetReportResponse* response) {
  return guard_.Run(context, "GetReport", *request, [&](Call& call) -> absl::Status {
    PSTRACK_ASSIGN_OR_RETURN(std::vector<PeriodicReport> history, reports_.Get(request->report_id()));
    PSTRACK_RETURN_IF_ERROR(call.RequireInScope(history.front().agency_code, "report_id"));
    ReportToProto(history.front(), response->mutable_report());
    for (size_t i = 1; i < history.size(); ++i) ReportToProto(history[i], response->add_history());
    return absl::OkStatus();
  });
}

grpc::Status ReportingServiceImpl::ListReports(grpc::ServerContext* context, const v1::ListReportsRequest* request,
                                               v1::ListReportsResponse* response) {
  return guard_.Run(context, "ListReports", *request, [&](Call& call) -> absl::Status {
    std::string agency = request->agency_code();
    if (agency.empty()) {
      agency = call.caller().scope_agency_code;
    } else {
      PSTRACK_RETURN_IF_ERROR(call.RequireInScope(agency, "agency_code"));
    }
    std::optional<Period> period;
    if (request->has_period()) {
      PSTRACK_ASSIGN_OR_RETURN(period, PeriodFromProto(request->period(), true, "period"));
    }
    PSTRACK_ASSIGN_OR_RETURN(ReportPage page,
                             reports_.List(agency, period, request->page_size(), request->page_token()));
    for (const auto& r : page.reports) ReportToProto(r, response->add_reports());
    response->set_next_page_token(page.next_page_token);
    return absl::OkStatus();
  });
}

grpc::Status ReportingServiceImpl::Reconcile(grpc::ServerContext* context, const v1::ReconcileRequest* request,
                                             v1::ReconcileResponse* response) {
  return guard_.Run(context, "Reconcile", *request, [&](Call& call) -> absl::Status {
    PSTRACK_ASSIGN_OR_RETURN(ScopeRequest scope, ScopeFromProto(request->scope(), request->has_scope(), "scope"));
    PSTRACK_RETURN_IF_ERROR(call.RequireInScope(scope.agency_code, "scope.agency_code"));
    PSTRACK_ASSIGN_OR_RETURN(Period period, PeriodFromProto(request->period(), request->has_period(), "period"));
    PSTRACK_ASSIGN_OR_RETURN(Reconciliation r, reports_.Reconcile(scope, period));
    for (const ReconcileRow& row : r.rows) {
      auto* out = response->add_rows();
      const PeriodicReport& rep = row.use.report;
      out->set_agency_code(rep.agency_code);
      out->set_agency_name(row.agency_name);
      out->set_report_id(rep.report_id);
      out->set_revision(rep.revision);
      out->set_subject(rep.subject());
      PeriodToProto(Period{rep.start, rep.end}, out->mutable_period());
      FiguresToProto(row.reported, out->mutable_reported());
      FiguresToProto(row.events, out->mutable_events());
      FiguresToProto(row.missing, out->mutable_missing());
      for (int i = 0; i < kComparedCount; ++i) {
        if (row.compared[i]) out->add_reported_parts(ComparedNames()[i]);
      }
      ValueToProto(row.completeness, out->mutable_completeness());
      out->set_balanced(row.balanced);
      out->set_role(ReportRoleName(row.use.role));
    }
    ValueToProto(r.sync_completeness, response->mutable_sync_completeness());
    return absl::OkStatus();
  });
}

grpc::Status ReportingServiceImpl::ListSilentAgencies(grpc::ServerContext* context,
                                                      const v1::ListSilentAgenciesRequest* request,
                                                      v1::ListSilentAgenciesResponse* response) {
  return guard_.Run(context, "ListSilentAgencies", *request, [&](Call& call) -> absl::Status {
    PSTRACK_ASSIGN_OR_RETURN(ScopeRequest scope, ScopeFromProto(request->scope(), request->has_scope(), "scope"));
    PSTRACK_RETURN_IF_ERROR(call.RequireInScope(scope.agency_code, "scope.agency_code"));
    PSTRACK_ASSIGN_OR_RETURN(auto as_of, OptionalTime(request->has_as_of(), request->as_of(), "as_of"));
    PSTRACK_ASSIGN_OR_RETURN(std::vector<SilentAgency> silent,
                             reports_.Silent(scope, request->silent_working_days(), as_of));
    for (const SilentAgency& s : silent) {
      auto* out = response->add_agencies();
      out->set_agency_code(s.agency_code);
      out->set_agency_name(s.agency_name);
      TimeToProto(absl::FromUnixMicros(s.last_event_us), out->mutable_last_event_at());
      out->set_working_days_silent(s.working_days_silent);
    }
    return absl::OkStatus();
  });
}

grpc::Status ReportingServiceImpl::GetDataQuality(grpc::ServerContext* context,
                                                  const v1::GetDataQualityRequest* request,
                                                  v1::GetDataQualityResponse* response) {
  return guard_.Run(context, "GetDataQuality", *request, [&](Call& call) -> absl::Status {
    DataQualityRequest r;
    PSTRACK_ASSIGN_OR_RETURN(r.scope, ScopeFromProto(request->scope(), request->has_scope(), "scope"));
    PSTRACK_RETURN_IF_ERROR(call.RequireInScope(r.scope.agency_code, "scope.agency_code"));
    PSTRACK_ASSIGN_OR_RETURN(r.period, PeriodFromProto(request->period(), request->has_period(), "period"));
    switch (request->sort()) {
      case v1::DATA_QUALITY_SORT_UNSPECIFIED:
      case v1::DATA_QUALITY_SORT_ISSUES: r.sort = QualitySort::kIssues; break;
      case v1::DATA_QUALITY_SORT_REJECTED: r.sort = QualitySort::kRejected; break;
      case v1::DATA_QUALITY_SORT_LATE_EVENTS: r.sort = QualitySort::kLateEvents; break;
      case v1::DATA_QUALITY_SORT_APPOINTMENT_MISMATCHES: r.sort = QualitySort::kMismatches; break;
      case v1::DATA_QUALITY_SORT_FAR_OVERDUE: r.sort = QualitySort::kFarOverdue; break;
      case v1::DATA_QUALITY_SORT_AGENCY_CODE: r.sort = QualitySort::kAgencyCode; break;
      case v1::DATA_QUALITY_SORT_SET_ASIDE: r.sort = QualitySort::kSetAside; break;
      default: return InvalidField("sort", absl::StrCat("unknown sort ", request->sort()));
    }
    r.ascending = request->ascending();
    r.far_overdue_working_days = request->far_overdue_working_days();
    PSTRACK_ASSIGN_OR_RETURN(r.as_of, OptionalTime(request->has_as_of(), request->as_of(), "as_of"));
    r.page_size = request->page_size();
    r.page_token = request->page_token();
    PSTRACK_ASSIGN_OR_RETURN(DataQualityPage page, reports_.Quality(r));
    for (const auto& row : page.rows) QualityRowToProto(row, response->add_rows());
    QualityRowToProto(page.total, response->mutable_total());
    response->set_next_page_token(page.next_page_token);
    return absl::OkStatus();
  });
}

}  // namespace pstrack
