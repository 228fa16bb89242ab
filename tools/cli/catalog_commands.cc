// procedure list, get and import.
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/api/convert.h"
#include "services/catalog/procedure.h"
#include "services/catalog/procedure_csv.h"
#include "services/common/status.h"
#include "tools/cli/calls.h"
#include "tools/cli/client.h"
#include "tools/cli/commands.h"
#include "tools/cli/inputs.h"
#include "tools/cli/request_options.h"

namespace pstrack::cli {
namespace {

constexpr char kGroup[] = "Procedures";

std::string ModeText(int mode) { return std::string(OnlineModeName(static_cast<OnlineMode>(mode))); }

std::string TimeText(const v1::ResolutionTime& t) {
  return absl::StrCat(t.amount(), t.unit() == v1::RESOLUTION_TIME_UNIT_WORKING_HOURS ? " h" : " d");
}

std::string LevelsText(const v1::Procedure& p) {
  std::vector<std::string> parts;
  for (int l : p.levels()) parts.push_back(LevelText(l));
  for (const auto& c : p.agency_codes()) parts.push_back(c);
  return absl::StrJoin(parts, ";");
}

absl::StatusOr<int> ProcedureList(Context& ctx, const Args& args) {
  v1::ListProceduresRequest req;
  req.set_field(args.String("field"));
  if (const std::string& mode = args.String("mode"); !mode.empty()) {
    PSTRACK_ASSIGN_OR_RETURN(OnlineMode parsed, ParseOnlineMode(mode, "--mode"));
    req.set_online_mode(static_cast<v1::OnlineServiceMode>(parsed));
  }
  req.set_agency_code(args.String("agency"));
  PSTRACK_ASSIGN_OR_RETURN(int level, LevelFromArgs(args));
  req.set_level(static_cast<v1::AgencyLevel>(level));
  req.set_query(args.String("query"));
  PSTRACK_ASSIGN_OR_RETURN(std::optional<v1::Date> as_of, AsOfFromArgs(args));
  if (as_of) *req.mutable_as_of() = *as_of;
  v1::ListProceduresResponse all;
  PSTRACK_RETURN_IF_ERROR(FetchPages(
      ctx.client, req, args.Int("limit"), [](v1::ListProceduresResponse& r) { return r.mutable_procedures(); },
      [&](grpc::ClientContext* c, const v1::ListProceduresRequest& q, v1::ListProceduresResponse* r) {
        return ctx.client.catalog().ListProcedures(c, q, r);
      },
      &all));
  if (ctx.output == Output::kJson) {
    PSTRACK_RETURN_IF_ERROR(PrintJson(ctx.out, all));
    return kExitOk;
  }
  Table t({"CODE", "NAME", "FIELD", "ONLINE", "TIME", "FEE", "CARRIED OUT BY"});
  t.SetMaxWidth(1, 60);
  for (const auto& p : all.procedures()) {
    t.AddRow({p.code(), p.name(), p.field(), ModeText(p.online_mode()), TimeText(p.resolution_time()),
              p.fee_bearing() ? (p.online_payment_integrated() ? "yes, online" : "yes") : "no", LevelsText(p)});
  }
  PSTRACK_RETURN_IF_ERROR(PrintTable(ctx.out, t, ctx.output));
  if (!Raw(ctx.output)) ctx.out << all.procedures_size() << " procedures\n";
  return kExitOk;
}

absl::StatusOr<int> ProcedureGet(Context& ctx, const Args& args) {
  v1::GetProcedureRequest req;
  req.set_code(args.positional(0));
  v1::Procedure p;
  PSTRACK_RETURN_IF_ERROR(
      ctx.client.Run([&](grpc::ClientContext* c) { return ctx.client.catalog().GetProcedure(c, req, &p); }));
  if (ctx.output == Output::kJson) {
    PSTRACK_RETURN_IF_ERROR(PrintJson(ctx.out, p));
    return kExitOk;
  }
  auto yes = [](bool b) { return b ? "yes" : "no"; };
  Table t({"FIELD", "VALUE"});
  t.AddRow({"code", p.code()});
  t.AddRow({"name", p.name()});
  t.AddRow({"field", p.field()});
  t.AddRow({"carried out by", LevelsText(p)});
  t.AddRow({"online mode", ModeText(p.online_mode())});
  t.AddRow({"full-online eligible", yes(p.full_online_eligible())});
  t.AddRow({"resolution time", TimeText(p.resolution_time())});
  t.AddRow({"fee-bearing", yes(p.fee_bearing())});
  t.AddRow({"online payment", yes(p.online_payment_integrated())});
  t.AddRow({"population database", yes(p.population_db_connected())});
  t.AddRow({"valid from", DateText(p.valid_from(), p.has_valid_from())});
  t.AddRow({"valid until", DateText(p.valid_until(), p.has_valid_until())});
  t.AddRow({"revision", absl::StrCat(p.revision())});
  t.Print(ctx.out);
  return kExitOk;
}

absl::StatusOr<int> ProcedureImport(Context& ctx, const Args& args) {
  PSTRACK_ASSIGN_OR_RETURN(std::string text, ReadInput(args.positional(0), std::cerr));
  PSTRACK_ASSIGN_OR_RETURN(std::vector<ProcedureCsvRow> rows, ParseProcedureCsv(text));
  BatchSender<v1::ImportProceduresRequest, v1::ImportProceduresResponse> sender(
      ctx.client, 1000, ResultLines::kFromServer,
      [&](grpc::ClientContext* c, const v1::ImportProceduresRequest& q, v1::ImportProceduresResponse* r) {
        return ctx.client.catalog().ImportProcedures(c, q, r);
      });
  int rejected_here = 0;
  for (const auto& row : rows) {
    if (!row.procedure.ok()) {
      ctx.out << "line " << row.line << ": " << row.procedure.status().message() << "\n";
      ++rejected_here;
      continue;
    }
    auto* item = sender.request().add_items();
    ProcedureToProto(*row.procedure, item->mutable_procedure());
    item->set_source_line(row.line);
    PSTRACK_RETURN_IF_ERROR(sender.Added(row.line));
  }
  PSTRACK_RETURN_IF_ERROR(sender.Flush());
  return PrintImportResults(ctx.out, sender.results(), rejected_here, "procedures");
}

}  // namespace

std::vector<Command> CatalogCommands() {
  return {
      {.words = {"procedure", "list"},
       .alias = "procedures",
       .group = kGroup,
       .synopsis = "[--field F] [--mode none|partial|full] [--agency CODE] [--level L] [--query TEXT] [--as_of DATE]",
       .summary = "the catalog's procedures, filtered",
       .options = {StringOption("field", "F", "Exact field (lĩnh vực)"),
                   StringOption("mode", "M", "Online mode none, partial or full"),
                   StringOption("agency", "CODE", "Carried out by this agency"),
                   LevelOption("Offered at this level: nation, ministry, province, department, district, commune"),
                   StringOption("query", "TEXT", "Code, or name contains"),
                   AsOfOption("Only what is in force on this date, YYYY-MM-DD"), LimitOption()},
       .formats = Formats::kJsonCsv,
       .run = ProcedureList},
      {.words = {"procedure", "get"},
       .alias = "procedures",
       .group = kGroup,
       .positionals = {"CODE"},
       .summary = "one procedure",
       .run = ProcedureGet},
      {.words = {"procedure", "import"},
       .alias = "procedures",
       .group = kGroup,
       .positionals = {"FILE.csv"},
       .summary = "adds or updates procedures (columns: see docs/api.md)",
       .details = "Good lines land; each bad line is reported; exits 1 if any line was rejected.",
       .formats = Formats::kTableOnly,
       .run = ProcedureImport},
  };
}

}  // namespace pstrack::cli
