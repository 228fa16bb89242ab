// Periodic reports (submit, get, list) and the checks on the centres'
// data: reconcile, silent, quality.
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/common/status.h"
#include "tools/cli/calls.h"
#include "tools/cli/client.h"
#include "tools/cli/commands.h"
#include "tools/cli/inputs.h"
#include "tools/cli/request_options.h"

namespace pstrack::cli {
namespace {

constexpr char kGroup[] = "Periodic reports and data quality (docs/indicators.md, \"Reported figures\")";

// report submit FILE.csv: a header naming PeriodicReport fields; an empty
// cell leaves a figure unreported (not 0).
absl::StatusOr<int> ReportSubmit(Context& ctx, const Args& args) {
  PSTRACK_ASSIGN_OR_RETURN(std::string text, ReadInput(args.positional(0), std::cerr));
  PSTRACK_ASSIGN_OR_RETURN(const CsvTable table, CsvTable::Parse(text, ReportColumns()));
  BatchSender<v1::SubmitReportsRequest, v1::SubmitReportsResponse> sender(
      ctx.client, 10000, ResultLines::kFromIndex,  // the server's batch limit
      [&](grpc::ClientContext* c, const v1::SubmitReportsRequest& q, v1::SubmitReportsResponse* r) {
        return ctx.client.reporting().SubmitReports(c, q, r);
      });
  int rejected_here = 0;
  for (const auto& row : table.Rows()) {
    absl::StatusOr<v1::PeriodicReport> report = ReportFromRow(table, row);
    if (!report.ok()) {
      ctx.out << "line " << row.line << ": " << report.status().message() << "\n";
      ++rejected_here;
      continue;
    }
    *sender.request().add_reports() = *std::move(report);
    PSTRACK_RETURN_IF_ERROR(sender.Added(row.line));
  }
  PSTRACK_RETURN_IF_ERROR(sender.Flush());
  return PrintImportResults(ctx.out, sender.results(), rejected_here, "reports");
}

// The figures a report gave, "received=40 received_online=10 ...".
std::string FiguresText(const v1::PeriodicReport& r) {
  std::vector<std::string> parts;
  const google::protobuf::Descriptor* d = v1::PeriodicReport::descriptor();
  const google::protobuf::Reflection* reflection = v1::PeriodicReport::GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* f = d->field(i);
    if (f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_INT64 || f->number() >= 30) continue;
    if (f->has_presence() && !reflection->HasField(r, f)) continue;
    parts.push_back(absl::StrCat(f->name(), "=", reflection->GetInt64(r, f)));
  }
  return absl::StrJoin(parts, " ");
}

Table ReportTable() { return Table({"REPORT", "REVISION", "AGENCY", "SUBJECT", "PERIOD", "FIGURES", "RECORDED"}); }

void ReportRow(Table& t, const v1::PeriodicReport& r) {
  t.AddRow({r.report_id(), absl::StrCat(r.revision(), r.current() ? "" : " (superseded)"), r.agency_code(),
            r.procedure_code().empty() ? r.field() : r.procedure_code(), r.period(), FiguresText(r),
            InstantText(r.recorded_at())});
}

absl::StatusOr<int> ReportGet(Context& ctx, const Args& args) {
  v1::GetReportRequest req;
  req.set_report_id(args.positional(0));
  v1::GetReportResponse resp;
  PSTRACK_RETURN_IF_ERROR(
      ctx.client.Run([&](grpc::ClientContext* c) { return ctx.client.reporting().GetReport(c, req, &resp); }));
  if (ctx.output == Output::kJson) {
    PSTRACK_RETURN_IF_ERROR(PrintJson(ctx.out, resp));
    return kExitOk;
  }
  Table t = ReportTable();
  ReportRow(t, resp.report());
  for (const auto& h : resp.history()) ReportRow(t, h);
  t.Print(ctx.out);
  return kExitOk;
}

absl::StatusOr<int> ReportList(Context& ctx, const Args& args) {
  v1::ListReportsRequest req;
  req.set_agency_code(args.String("agency"));
  if (!args.String("period").empty() || !args.String("from").empty()) {
    PSTRACK_ASSIGN_OR_RETURN(*req.mutable_period(), PeriodFromArgs(args));
  }
  req.set_page_size(1000);
  v1::ListReportsResponse all;
  const int limit = args.Int("limit");
  while (true) {
    v1::ListReportsResponse page;
    PSTRACK_RETURN_IF_ERROR(
        ctx.client.Run([&](grpc::ClientContext* c) { return ctx.client.reporting().ListReports(c, req, &page); }));
    for (auto& r : *page.mutable_reports()) {
      if (limit > 0 && all.reports_size() >= limit) break;
      *all.add_reports() = std::move(r);
    }
    if (page.next_page_token().empty() || (limit > 0 && all.reports_size() >= limit)) break;
    req.set_page_token(page.next_page_token());
  }
  if (ctx.output == Output::kJson) {
    PSTRACK_RETURN_IF_ERROR(PrintJson(ctx.out, all));
    return kExitOk;
  }
  Table t = ReportTable();
  for (const auto& r : all.reports()) ReportRow(t, r);
  PSTRACK_RETURN_IF_ERROR(PrintTable(ctx.out, t, ctx.output));
  if (!Raw(ctx.output)) ctx.out << all.reports_size() << " reports\n";
  return kExitOk;
}

std::string DiffText(int64_t missing) {
  if (missing == 0) return "0";
  return missing > 0 ? absl::StrCat(missing, " missing") : absl::StrCat(-missing, " surplus");
}

// One row per reported part of each report: reported, from events, the
// difference; a table shows a report's own cells on its first row only.
Table ReconcileTable(const v1::ReconcileResponse& resp, bool csv) {
  Table t(csv ? std::vector<std::string>{"agency_code", "report_id", "revision", "subject", "period", "role", "part",
                                         "reported", "events", "missing"}
              : std::vector<std::string>{"AGENCY", "REPORT", "PERIOD", "ROLE", "PART", "REPORTED", "EVENTS",
                                         "DIFFERENCE", "COMPLETENESS"});
  const google::protobuf::Descriptor* d = v1::ReconciledFigures::descriptor();
  const google::protobuf::Reflection* reflection = v1::ReconciledFigures::GetReflection();
  for (const auto& row : resp.rows()) {
    bool first = true;
    for (const std::string& part : row.reported_parts()) {
      const google::protobuf::FieldDescriptor* f = d->FindFieldByName(part);
      if (f == nullptr) continue;
      const int64_t reported = reflection->GetInt64(row.reported(), f);
      const int64_t events = reflection->GetInt64(row.events(), f);
      const int64_t missing = reflection->GetInt64(row.missing(), f);
      if (csv) {
        t.AddRow({row.agency_code(), row.report_id(), absl::StrCat(row.revision()), row.subject(),
                  PeriodText(row.period()), row.role(), part, absl::StrCat(reported), absl::StrCat(events),
                  absl::StrCat(missing)});
        continue;
      }
      t.AddRow(
          {first ? row.agency_code() : "", first ? row.report_id() : "", first ? PeriodText(row.period()) : "",
           first ? row.role() : "", part, absl::StrCat(reported), absl::StrCat(events), DiffText(missing),
           first ? (row.completeness().available() ? PercentText(row.completeness().value()) : kNotAvailable) : ""});
      first = false;
    }
  }
  return t;
}

absl::StatusOr<int> Reconcile(Context& ctx, const Args& args) {
  v1::ReconcileRequest req;
  PSTRACK_ASSIGN_OR_RETURN(*req.mutable_scope(), ScopeFromArgs(args));
  PSTRACK_ASSIGN_OR_RETURN(*req.mutable_period(), PeriodFromArgs(args));
  v1::ReconcileResponse resp;
  PSTRACK_RETURN_IF_ERROR(
      ctx.client.Run([&](grpc::ClientContext* c) { return ctx.client.reporting().Reconcile(c, req, &resp); }));
  if (ctx.output == Output::kJson) {
    PSTRACK_RETURN_IF_ERROR(PrintJson(ctx.out, resp));
    return kExitOk;
  }
  const bool csv = Raw(ctx.output);
  PSTRACK_RETURN_IF_ERROR(PrintTable(ctx.out, ReconcileTable(resp, csv), ctx.output));
  if (!csv) {
    const auto& s = resp.sync_completeness();
    ctx.out << "sync completeness (766 indicator 1.4): "
            << (s.available() ? absl::StrCat(PercentText(s.value()), " = ", NumberText(s.numerator()), " / ",
                                             NumberText(s.denominator()))
                              : absl::StrCat(kNotAvailable, " (", s.unavailable_reason(), ")"))
            << "\n";
  }
  return kExitOk;
}

absl::StatusOr<int> Silent(Context& ctx, const Args& args) {
  v1::ListSilentAgenciesRequest req;
  PSTRACK_ASSIGN_OR_RETURN(*req.mutable_scope(), ScopeFromArgs(args));
  req.set_silent_working_days(args.Int("working_days"));
  v1::ListSilentAgenciesResponse resp;
  PSTRACK_RETURN_IF_ERROR(
      ctx.client.Run([&](grpc::ClientContext* c) { return ctx.client.reporting().ListSilentAgencies(c, req, &resp); }));
  if (ctx.output == Output::kJson) {
    PSTRACK_RETURN_IF_ERROR(PrintJson(ctx.out, resp));
    return kExitOk;
  }
  Table t(Raw(ctx.output)
              ? std::vector<std::string>{"agency_code", "agency_name", "last_event_at", "working_days_silent"}
              : std::vector<std::string>{"AGENCY", "NAME", "LAST EVENT", "WORKING DAYS SILENT"});
  for (const auto& a : resp.agencies()) {
    t.AddRow({a.agency_code(), a.agency_name(), InstantText(a.last_event_at()), absl::StrCat(a.working_days_silent())});
  }
  PSTRACK_RETURN_IF_ERROR(PrintTable(ctx.out, t, ctx.output));
  if (!Raw(ctx.output)) ctx.out << resp.agencies_size() << " silent agencies\n";
  return kExitOk;
}

// The request of `quality`, from its options.
absl::StatusOr<v1::GetDataQualityRequest> QualityRequest(const Args& args) {
  static const std::map<std::string, v1::DataQualitySort> kSorts = {
      {"issues", v1::DATA_QUALITY_SORT_ISSUES},       {"rejected", v1::DATA_QUALITY_SORT_REJECTED},
      {"late", v1::DATA_QUALITY_SORT_LATE_EVENTS},    {"mismatches", v1::DATA_QUALITY_SORT_APPOINTMENT_MISMATCHES},
      {"overdue", v1::DATA_QUALITY_SORT_FAR_OVERDUE}, {"code", v1::DATA_QUALITY_SORT_AGENCY_CODE}};
  v1::GetDataQualityRequest req;
  PSTRACK_ASSIGN_OR_RETURN(*req.mutable_scope(), ScopeFromArgs(args));
  PSTRACK_ASSIGN_OR_RETURN(*req.mutable_period(), PeriodFromArgs(args));
  const std::string& sort = args.String("sort");
  auto it = kSorts.find(sort.empty() ? "issues" : sort);
  if (it == kSorts.end()) {
    return absl::InvalidArgumentError("--sort: use issues, rejected, late, mismatches, overdue or code");
  }
  req.set_sort(it->second);
  req.set_ascending(args.Bool("ascending"));
  req.set_far_overdue_working_days(args.Int("far_overdue"));
  req.set_page_size(1000);
  return req;
}

Table QualityTable(const v1::GetDataQualityResponse& all, bool csv) {
  Table t(csv ? std::vector<std::string>{"agency_code", "agency_name", "issues", "events_accepted", "events_rejected",
                                         "late_events", "appointment_mismatches", "dossiers_received",
                                         "far_overdue_open", "top_rejection", "last_event_at"}
              : std::vector<std::string>{"AGENCY", "NAME", "ISSUES", "ACCEPTED", "REJECTED", "LATE", "MISMATCHES",
                                         "RECEIVED", "FAR OVERDUE", "TOP REJECTION", "LAST EVENT"});
  auto add = [&](const v1::GetDataQualityResponse::Row& r, const std::string& code) {
    const std::string top = r.rejected_by_reason().empty() ? ""
                                                           : absl::StrCat(r.rejected_by_reason(0).reason(), " (",
                                                                          r.rejected_by_reason(0).count(), ")");
    t.AddRow({code, r.agency_name(), absl::StrCat(r.issues()), absl::StrCat(r.events_accepted()),
              absl::StrCat(r.events_rejected()), absl::StrCat(r.late_events()),
              absl::StrCat(r.appointment_mismatches()), absl::StrCat(r.dossiers_received()),
              absl::StrCat(r.far_overdue_open()), top, r.has_last_event_at() ? InstantText(r.last_event_at()) : ""});
  };
  for (const auto& r : all.rows()) add(r, r.agency_code());
  if (!csv) add(all.total(), "TOTAL");
  return t;
}

absl::StatusOr<int> Quality(Context& ctx, const Args& args) {
  PSTRACK_ASSIGN_OR_RETURN(v1::GetDataQualityRequest req, QualityRequest(args));
  v1::GetDataQualityResponse all;
  const int limit = args.Int("limit");
  while (true) {
    v1::GetDataQualityResponse page;
    PSTRACK_RETURN_IF_ERROR(
        ctx.client.Run([&](grpc::ClientContext* c) { return ctx.client.reporting().GetDataQuality(c, req, &page); }));
    for (auto& r : *page.mutable_rows()) {
      if (limit > 0 && all.rows_size() >= limit) break;
      *all.add_rows() = std::move(r);
    }
    *all.mutable_total() = page.total();
    if (page.next_page_token().empty() || (limit > 0 && all.rows_size() >= limit)) break;
    req.set_page_token(page.next_page_token());
  }
  if (ctx.output == Output::kJson) {
    PSTRACK_RETURN_IF_ERROR(PrintJson(ctx.out, all));
    return kExitOk;
  }
  PSTRACK_RETURN_IF_ERROR(PrintTable(ctx.out, QualityTable(all, Raw(ctx.output)), ctx.output));
  return kExitOk;
}

}  // namespace

std::vector<Command> ReportCommands() {
  return {
      {.words = {"report", "submit"},
       .alias = "reports",
       .group = kGroup,
       .positionals = {"FILE.csv"},
       .summary = "centres' periodic reports; the same report_id again corrects it",
       .details = "Header: report_id,agency_code,period,received,finished and any other PeriodicReport field\n"
                  "(procedure_code, field, received_online, finished_late, ..., source); an empty cell = not\n"
                  "reported. Exits 1 if any line was rejected.",
       .formats = Formats::kTableOnly,
       .run = ReportSubmit},
      {.words = {"report", "get"},
       .alias = "reports",
       .group = kGroup,
       .positionals = {"REPORT_ID"},
       .summary = "the current revision and its history",
       .run = ReportGet},
      {.words = {"report", "list"},
       .alias = "reports",
       .group = kGroup,
       .synopsis = "[--agency CODE] [PERIOD]",
       .summary = "the reports of an agency's subtree, over a period",
       .options = Join({StringOption("agency", "CODE", "Only reports of this agency's subtree"), LimitOption()},
                       PeriodOptions()),
       .formats = Formats::kJsonCsv,
       .run = ReportList},
      {.words = {"reconcile"},
       .group = kGroup,
       .synopsis = "--scope CODE PERIOD",
       .summary = "reported against event-derived counts, and the sync completeness",
       .options = Join(ScopeOptions("Agency whose subtree is checked (VN = the whole country)"), PeriodOptions()),
       .formats = Formats::kJsonCsv,
       .run = Reconcile},
      {.words = {"silent"},
       .group = kGroup,
       .synopsis = "--scope CODE [--working_days 3]",
       .summary = "agencies whose events stopped",
       .options =
           Join(ScopeOptions("Agency whose subtree is checked (VN = the whole country)"),
                {IntOption("working_days", "N", "Agencies without events for at least this many working days", 3)}),
       .formats = Formats::kJsonCsv,
       .run = Silent},
      {.words = {"quality"},
       .group = kGroup,
       .synopsis = "--scope CODE PERIOD [--sort issues|rejected|late|mismatches|overdue|code] [--ascending] "
                   "[--far_overdue 10]",
       .summary = "per agency: rejected and late events, mismatches, far-overdue dossiers",
       .details = "Rejected events by reason, late events, appointment mismatches, dossiers open far beyond\n"
                  "their due date; worst first (codes A-Z).",
       .options = Join(Join(ScopeOptions("Agency whose subtree is checked (VN = the whole country)"), PeriodOptions()),
                       {StringOption("sort", "S", "issues, rejected, late, mismatches, overdue or code", "issues"),
                        BoolOption("ascending", "Lowest count first"),
                        IntOption("far_overdue", "N", "Open dossiers overdue for at least this many working days", 10),
                        LimitOption()}),
       .formats = Formats::kJsonCsv,
       .run = Quality},
  };
}

}  // namespace pstrack::cli
