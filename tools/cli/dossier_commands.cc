// event send, dossier get and dossier list.
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "services/common/status.h"
#include "tools/cli/calls.h"
#include "tools/cli/client.h"
#include "tools/cli/commands.h"
#include "tools/cli/inputs.h"
#include "tools/cli/request_options.h"

namespace pstrack::cli {
namespace {

constexpr char kGroup[] = "Dossier events";

// Progress on standard error: a bar with the rate and the time left on a
// terminal; otherwise (a log, a CI job) a plain line at each 10%.
class Progress {
 public:
  explicit Progress(size_t total) : total_(total), start_(absl::Now()), terminal_(isatty(STDERR_FILENO)) {}

  void Update(size_t done) {
    if (total_ == 0) return;
    const double seconds = absl::ToDoubleSeconds(absl::Now() - start_);
    const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0;
    const std::string left =
        rate > 0 && done < total_ ? absl::StrCat(", ", Clock(static_cast<double>(total_ - done) / rate), " left") : "";
    const std::string figures = absl::StrCat(done, "/", total_, " events, ", static_cast<int64_t>(rate), "/s", left);
    if (terminal_) {
      const int width = 30;
      const int filled = static_cast<int>(width * done / total_);
      std::cerr << "\r[" << std::string(filled, '=') << std::string(width - filled, ' ') << "] " << figures
                << "   " << (done == total_ ? "\n" : "") << std::flush;
      return;
    }
    const int tenth = static_cast<int>(10 * done / total_);
    if (tenth <= printed_tenth_) return;
    printed_tenth_ = tenth;
    std::cerr << "pstrack: " << tenth * 10 << "% (" << figures << ")\n" << std::flush;
  }

 private:
  static std::string Clock(double seconds) {
    const int64_t s = static_cast<int64_t>(seconds + 0.5);
    return s >= 3600 ? absl::StrFormat("%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                     : absl::StrFormat("%d:%02d", s / 60, s % 60);
  }
  const size_t total_;
  const absl::Time start_;
  const bool terminal_;
  int printed_tenth_ = 0;
};

absl::StatusOr<int> EventSend(Context& ctx, const Args& args) {
  const std::string& path = args.positional(0);
  int rejected = 0;
  PSTRACK_ASSIGN_OR_RETURN(std::string text, ReadInput(path, std::cerr));
  PSTRACK_ASSIGN_OR_RETURN(std::vector<ParsedEvent> events, ParseEvents(path, text, ctx.out, &rejected));
  const size_t batch = static_cast<size_t>(std::clamp(args.Int("batch"), 1, 10000));
  int applied = 0, unchanged = 0;
  std::map<std::string, int> reasons;
  Progress progress(events.size());
  for (size_t begin = 0; begin < events.size(); begin += batch) {
    v1::RecordEventsRequest req;
    for (size_t i = begin; i < std::min(events.size(), begin + batch); ++i) {
      *req.add_events() = events[i].event;
      req.add_source_lines(events[i].line);
    }
    v1::RecordEventsResponse resp;
    PSTRACK_RETURN_IF_ERROR(
        ctx.client.Run([&](grpc::ClientContext* c) { return ctx.client.filings().RecordEvents(c, req, &resp); }));
    for (const auto& r : resp.results()) {
      if (r.outcome() == v1::ItemResult::OUTCOME_APPLIED) ++applied;
      if (r.outcome() == v1::ItemResult::OUTCOME_UNCHANGED) ++unchanged;
      if (r.outcome() == v1::ItemResult::OUTCOME_REJECTED) {
        ++rejected;
        ++reasons[StatusName(static_cast<grpc::StatusCode>(r.code()))];
        ctx.out << "line " << r.source_line() << ": " << r.key() << ": " << r.message() << "\n";
      }
    }
    progress.Update(std::min(events.size(), begin + batch));
  }
  ctx.out << "events: " << applied << " accepted, " << unchanged << " duplicate, " << rejected << " rejected";
  if (!reasons.empty()) {
    std::vector<std::string> parts;
    for (const auto& [reason, n] : reasons) parts.push_back(absl::StrCat(n, " ", reason));
    ctx.out << " (" << absl::StrJoin(parts, ", ") << ")";
  }
  ctx.out << "\n";
  return rejected > 0 ? kExitFailure : kExitOk;
}

std::string EventDetail(const v1::FilingEvent& e) {
  switch (e.kind_case()) {
    case v1::FilingEvent::kReceived:
      return absl::StrCat(EnumText(v1::Channel_descriptor(), e.received().channel(), "CHANNEL_"),
                          e.received().has_declared_appointment_date()
                              ? ", declared " + DateText(e.received().declared_appointment_date(), true)
                              : "");
    case v1::FilingEvent::kReappointed:
      return absl::StrCat("new date ", DateText(e.reappointed().new_appointment_date(), true), " ",
                          e.reappointed().reason());
    case v1::FilingEvent::kPayment:
      return absl::StrCat(e.payment().amount_vnd(), " VND", e.payment().online() ? ", online" : "");
    case v1::FilingEvent::kFeedback:
      return absl::StrCat(EnumText(v1::SatisfactionRating_descriptor(), e.feedback().rating(), "SATISFACTION_RATING_"),
                          e.feedback().complaint() ? ", complaint" : "");
    case v1::FilingEvent::kResolved:
      return e.resolved().electronic_result() ? "electronic result" : "";
    case v1::FilingEvent::kSupplementRequested:
      return e.supplement_requested().reason();
    case v1::FilingEvent::kWithdrawn:
      return e.withdrawn().reason();
    case v1::FilingEvent::kStopped:
      return e.stopped().reason();
    case v1::FilingEvent::kNotAccepted:
      return e.not_accepted().reason();
    default:
      return "";
  }
}

// The dossier's state and outcome, one row a field.
Table DossierFields(const v1::Dossier& d) {
  auto timeliness = [](int t) { return EnumText(v1::Timeliness_descriptor(), t, "TIMELINESS_"); };
  Table t({"FIELD", "VALUE"});
  t.AddRow({"status", absl::StrCat(EnumText(v1::DossierStatus_descriptor(), d.status(), "DOSSIER_STATUS_"), " (",
                                   static_cast<int>(d.status()), ")")});
  t.AddRow({"channel", EnumText(v1::Channel_descriptor(), d.channel(), "CHANNEL_")});
  if (d.has_received_time()) t.AddRow({"received", InstantText(d.received_time())});
  if (d.has_computed_appointment_date()) {
    t.AddRow({"appointment", absl::StrCat(DateText(d.computed_appointment_date(), true), " (computed",
                                          d.calendar_provisional() ? ", provisional calendar" : "", ")")});
  }
  if (d.has_declared_appointment_date()) {
    t.AddRow({"declared", absl::StrCat(DateText(d.declared_appointment_date(), true),
                                       d.appointment_mismatch() ? "  ≠ computed" : "  = computed")});
  }
  if (d.has_reappointed_date()) {
    t.AddRow({"re-appointed",
              absl::StrCat(DateText(d.reappointed_date(), true), d.apology_late() ? " (late apology)" : "")});
  }
  if (d.has_finish_time()) t.AddRow({"finished", InstantText(d.finish_time())});
  t.AddRow({"timeliness",
            absl::StrCat(timeliness(d.timeliness()), " (rule), ", timeliness(d.portal_timeliness()), " (portal)")});
  if (d.supplement_requests()) t.AddRow({"supplements", absl::StrCat(d.supplement_requests())});
  if (d.paid_amount_vnd()) {
    t.AddRow({"paid", absl::StrCat(d.paid_amount_vnd(), " VND", d.paid_online() ? " online" : "")});
  }
  return t;
}

absl::StatusOr<int> DossierGet(Context& ctx, const Args& args) {
  v1::GetDossierRequest req;
  req.set_code(args.positional(0));
  v1::Dossier d;
  PSTRACK_RETURN_IF_ERROR(
      ctx.client.Run([&](grpc::ClientContext* c) { return ctx.client.filings().GetDossier(c, req, &d); }));
  if (ctx.output == Output::kJson) {
    PSTRACK_RETURN_IF_ERROR(PrintJson(ctx.out, d));
    return kExitOk;
  }
  ctx.out << "Dossier " << d.code() << "  procedure " << d.procedure_code() << "  agency " << d.agency_code() << "\n";
  DossierFields(d).Print(ctx.out);
  ctx.out << "\n";
  // Events a lifecycle rule set aside are kept and shown, marked.
  absl::flat_hash_map<std::string, std::string> set_aside;
  for (const auto& x : d.set_aside()) set_aside[x.event_id()] = x.rule();
  Table timeline({"TIME", "EVENT", "DETAIL", "EVENT ID"});
  for (const auto& e : d.events()) {
    const auto* field = e.GetDescriptor()->FindFieldByNumber(static_cast<int>(e.kind_case()));
    std::string detail = EventDetail(e);
    if (auto it = set_aside.find(e.event_id()); it != set_aside.end()) {
      detail = absl::StrCat(detail, detail.empty() ? "" : "  ", "[set aside: ", it->second, "]");
    }
    timeline.AddRow({InstantText(e.occurred_at()), field ? field->name() : "?", detail, e.event_id()});
  }
  timeline.Print(ctx.out);
  if (d.set_aside_size() > 0) {
    ctx.out << "\nSet aside by a lifecycle rule (kept, not counted; docs/lifecycle.md):\n";
    for (const auto& x : d.set_aside()) ctx.out << "  " << x.event_id() << ": rule " << x.rule() << ": " << x.reason() << "\n";
  }
  return kExitOk;
}

absl::StatusOr<int> DossierList(Context& ctx, const Args& args) {
  v1::ListDossiersRequest req;
  req.set_agency_code(args.String("agency"));
  if (const std::string& s = args.String("status"); !s.empty()) {
    v1::DossierStatus status;
    if (!v1::DossierStatus_Parse("DOSSIER_STATUS_" + absl::AsciiStrToUpper(s), &status)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--status: '", s, "' is not a status (received, processing, resolved, ...)"));
    }
    req.set_status(status);
  }
  req.set_overdue_only(args.Bool("overdue"));
  req.set_due_within_working_days(args.Int("due_within"));
  v1::ListDossiersResponse all;
  PSTRACK_RETURN_IF_ERROR(FetchPages(
      ctx.client, req, args.Int("limit"), [](v1::ListDossiersResponse& r) { return r.mutable_dossiers(); },
      [&](grpc::ClientContext* c, const v1::ListDossiersRequest& q, v1::ListDossiersResponse* r) {
        return ctx.client.filings().ListDossiers(c, q, r);
      },
      &all));
  if (ctx.output == Output::kJson) {
    PSTRACK_RETURN_IF_ERROR(PrintJson(ctx.out, all));
    return kExitOk;
  }
  Table t({"DOSSIER", "AGENCY", "PROCEDURE", "STATUS", "RECEIVED", "APPOINTMENT", "TIMELINESS"});
  for (const auto& d : all.dossiers()) {
    t.AddRow({d.code(), d.agency_code(), d.procedure_code(),
              EnumText(v1::DossierStatus_descriptor(), d.status(), "DOSSIER_STATUS_"),
              d.has_received_time() ? InstantText(d.received_time()) : "",
              DateText(d.computed_appointment_date(), d.has_computed_appointment_date()),
              EnumText(v1::Timeliness_descriptor(), d.timeliness(), "TIMELINESS_")});
  }
  PSTRACK_RETURN_IF_ERROR(PrintTable(ctx.out, t, ctx.output));
  if (!Raw(ctx.output)) ctx.out << all.dossiers_size() << " dossiers\n";
  return kExitOk;
}

}  // namespace

std::vector<Command> DossierCommands() {
  return {
      {.words = {"event", "send"},
       .alias = "events",
       .group = kGroup,
       .positionals = {"FILE.jsonl|FILE.csv"},
       .summary = "send filing events; prints a summary",
       .details = "JSON lines (each line a FilingEvent in the API's JSON form), or CSV with the columns\n"
                  "listed in docs/api.md (a file named *.csv). Each rejected line is printed with its\n"
                  "reason; exits 1 if any was rejected.",
       .options = {IntOption("batch", "N", "Events per call", 1000)},
       .formats = Formats::kTableOnly,
       .run = EventSend},
      {.words = {"dossier", "get"},
       .alias = "dossiers",
       .group = kGroup,
       .positionals = {"CODE"},
       .summary = "one dossier: state, appointment dates, outcome, timeline",
       .run = DossierGet},
      {.words = {"dossier", "list"},
       .alias = "dossiers",
       .group = kGroup,
       .synopsis = "[--agency CODE] [--status S] [--overdue]",
       .summary = "dossiers of an agency's subtree, by status",
       .options = {StringOption("agency", "CODE", "Only dossiers of this agency's subtree"),
                   StringOption("status", "S", "Status (received, processing, resolved, ...)"),
                   BoolOption("overdue", "Only open dossiers past their due time"),
                   IntOption("due_within", "N", "Only open dossiers due within N working days (not yet overdue)"),
                   LimitOption()},
       .formats = Formats::kJsonCsv,
       .run = DossierList},
  };
}

}  // namespace pstrack::cli
