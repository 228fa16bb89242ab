// agency list, get, import and resolve.
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/agencies/agency_csv.h"
#include "services/api/convert.h"
#include "services/common/status.h"
#include "tools/cli/calls.h"
#include "tools/cli/client.h"
#include "tools/cli/commands.h"
#include "tools/cli/inputs.h"
#include "tools/cli/request_options.h"

namespace pstrack::cli {
namespace {

constexpr char kGroup[] = "Agencies";

void AgencyRow(Table& t, const v1::Agency& a) {
  t.AddRow({a.code(), a.name(), LevelText(a.level()), a.parent_code(), DateText(a.valid_from(), a.has_valid_from()),
            DateText(a.valid_until(), a.has_valid_until()), a.successor_code()});
}

absl::StatusOr<int> AgencyList(Context& ctx, const Args& args) {
  v1::ListAgenciesRequest req;
  req.set_root_code(args.String("root"));
  req.set_max_depth(args.Int("depth"));
  PSTRACK_ASSIGN_OR_RETURN(int level, LevelFromArgs(args));
  req.set_level(static_cast<v1::AgencyLevel>(level));
  PSTRACK_ASSIGN_OR_RETURN(std::optional<v1::Date> as_of, AsOfFromArgs(args));
  if (as_of) *req.mutable_as_of() = *as_of;
  req.set_name_contains(args.String("name"));
  v1::ListAgenciesResponse all;
  PSTRACK_RETURN_IF_ERROR(FetchPages(
      ctx.client, req, args.Int("limit"), [](v1::ListAgenciesResponse& r) { return r.mutable_agencies(); },
      [&](grpc::ClientContext* c, const v1::ListAgenciesRequest& q, v1::ListAgenciesResponse* r) {
        return ctx.client.agencies().ListAgencies(c, q, r);
      },
      &all));
  if (ctx.output == Output::kJson) {
    PSTRACK_RETURN_IF_ERROR(PrintJson(ctx.out, all));
    return kExitOk;
  }
  Table t({"CODE", "NAME", "LEVEL", "PARENT", "FROM", "UNTIL", "SUCCESSOR"});
  for (const auto& a : all.agencies()) AgencyRow(t, a);
  PSTRACK_RETURN_IF_ERROR(PrintTable(ctx.out, t, ctx.output));
  if (!Raw(ctx.output)) ctx.out << all.agencies_size() << " agencies\n";
  return kExitOk;
}

absl::Status PrintAgency(Context& ctx, const v1::Agency& a) {
  if (ctx.output == Output::kJson) return PrintJson(ctx.out, a);
  Table t({"FIELD", "VALUE"});
  t.AddRow({"code", a.code()});
  t.AddRow({"name", a.name()});
  t.AddRow({"level", LevelText(a.level())});
  t.AddRow({"parent_code", a.parent_code()});
  t.AddRow({"admin_code", a.admin_code()});
  t.AddRow({"valid_from", DateText(a.valid_from(), a.has_valid_from())});
  t.AddRow({"valid_until", DateText(a.valid_until(), a.has_valid_until())});
  t.AddRow({"successor_code", a.successor_code()});
  t.AddRow({"path", a.path()});
  t.AddRow({"revision", absl::StrCat(a.revision())});
  t.Print(ctx.out);
  return absl::OkStatus();
}

absl::StatusOr<int> AgencyGet(Context& ctx, const Args& args) {
  v1::GetAgencyRequest req;
  req.set_code(args.positional(0));
  v1::Agency a;
  PSTRACK_RETURN_IF_ERROR(
      ctx.client.Run([&](grpc::ClientContext* c) { return ctx.client.agencies().GetAgency(c, req, &a); }));
  PSTRACK_RETURN_IF_ERROR(PrintAgency(ctx, a));
  return kExitOk;
}

absl::StatusOr<int> AgencyResolve(Context& ctx, const Args& args) {
  v1::ResolveSuccessorRequest req;
  req.set_code(args.positional(0));
  PSTRACK_ASSIGN_OR_RETURN(std::optional<v1::Date> as_of, AsOfFromArgs(args));
  if (!as_of) return absl::InvalidArgumentError("agency resolve needs --as_of YYYY-MM-DD");
  *req.mutable_as_of() = *as_of;
  v1::ResolveSuccessorResponse resp;
  PSTRACK_RETURN_IF_ERROR(
      ctx.client.Run([&](grpc::ClientContext* c) { return ctx.client.agencies().ResolveSuccessor(c, req, &resp); }));
  if (ctx.output == Output::kJson) {
    PSTRACK_RETURN_IF_ERROR(PrintJson(ctx.out, resp));
    return kExitOk;
  }
  ctx.out << absl::StrJoin(resp.lineage(), " -> ") << "\n";
  PSTRACK_RETURN_IF_ERROR(PrintAgency(ctx, resp.agency()));
  return kExitOk;
}

absl::StatusOr<int> AgencyImport(Context& ctx, const Args& args) {
  PSTRACK_ASSIGN_OR_RETURN(std::string text, ReadInput(args.positional(0), std::cerr));
  PSTRACK_ASSIGN_OR_RETURN(std::vector<AgencyCsvRow> rows, ParseAgencyCsv(text));
  // One call holds the whole file (up to the server's batch limit) so that
  // parents and successors are ordered before their dependants.
  BatchSender<v1::ImportAgenciesRequest, v1::ImportAgenciesResponse> sender(
      ctx.client, 10000, ResultLines::kFromServer,
      [&](grpc::ClientContext* c, const v1::ImportAgenciesRequest& q, v1::ImportAgenciesResponse* r) {
        return ctx.client.agencies().ImportAgencies(c, q, r);
      });
  int rejected_here = 0;
  for (const auto& row : rows) {
    if (!row.agency.ok()) {
      ctx.out << "line " << row.line << ": " << row.agency.status().message() << "\n";
      ++rejected_here;
      continue;
    }
    auto* item = sender.request().add_items();
    AgencyToProto(*row.agency, item->mutable_agency());
    item->set_source_line(row.line);
    PSTRACK_RETURN_IF_ERROR(sender.Added(row.line));
  }
  PSTRACK_RETURN_IF_ERROR(sender.Flush());
  return PrintImportResults(ctx.out, sender.results(), rejected_here, "agencies");
}

}  // namespace

std::vector<Command> AgencyCommands() {
  return {
      {.words = {"agency", "list"},
       .alias = "agencies",
       .group = kGroup,
       .synopsis = "[--root CODE] [--depth N] [--level L] [--as_of DATE] [--name TEXT]",
       .summary = "agencies: a subtree, a level, those in force on a date",
       .options = {StringOption("root", "CODE", "Only this agency's subtree"),
                   IntOption("depth", "N", "At most this many levels below --root (0 = all)"),
                   LevelOption("Level: nation, ministry, province, department, district, commune"),
                   AsOfOption("Only what is in force on this date, YYYY-MM-DD"),
                   StringOption("name", "TEXT", "Name contains (accents and case ignored)"), LimitOption()},
       .formats = Formats::kJsonCsv,
       .run = AgencyList},
      {.words = {"agency", "get"},
       .alias = "agencies",
       .group = kGroup,
       .positionals = {"CODE"},
       .summary = "one agency: its fields, tree path and revision",
       .run = AgencyGet},
      {.words = {"agency", "import"},
       .alias = "agencies",
       .group = kGroup,
       .positionals = {"FILE.csv"},
       .summary = "adds or updates agencies; each bad line is reported",
       .details = "Columns: code,name,level,parent_code,admin_code,valid_from,valid_until,successor_code\n"
                  "(docs/api.md). Good lines land; exits 1 if any line was rejected.",
       .formats = Formats::kTableOnly,
       .run = AgencyImport},
      {.words = {"agency", "resolve"},
       .alias = "agencies",
       .group = kGroup,
       .positionals = {"CODE"},
       .synopsis = "--as_of DATE",
       .summary = "the agency standing for CODE on that date",
       .options = {AsOfOption("The date, YYYY-MM-DD (required)")},
       .run = AgencyResolve},
  };
}

}  // namespace pstrack::cli
