// pstrack: command-line client of the pstrack gRPC API. Run `pstrack help`.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "pstrack/v1/agency.grpc.pb.h"
#include "pstrack/v1/catalog.grpc.pb.h"
#include "services/agencies/agency_csv.h"
#include "services/api/convert.h"
#include "services/catalog/procedure_csv.h"
#include "services/common/text.h"
#include "tools/cli/table.h"

ABSL_FLAG(std::string, server, "127.0.0.1:50051", "pstrack server address, host:port (env PSTRACK_SERVER)");
ABSL_FLAG(bool, json, false, "Print JSON instead of tables");
ABSL_FLAG(int, timeout, 30, "Seconds to wait for each call");
ABSL_FLAG(std::string, root, "", "agency list: only this agency's subtree");
ABSL_FLAG(int, depth, 0, "agency list: at most this many levels below --root (0 = all)");
ABSL_FLAG(std::string, level, "", "Level: nation, ministry, province, department, district, commune");
ABSL_FLAG(std::string, as_of, "", "Only what is in force on this date, YYYY-MM-DD");
ABSL_FLAG(std::string, name, "", "agency list: name contains (accents and case ignored)");
ABSL_FLAG(std::string, field, "", "procedure list: exact field (lĩnh vực)");
ABSL_FLAG(std::string, mode, "", "procedure list: online mode none, partial or full");
ABSL_FLAG(std::string, agency, "", "procedure list: carried out by this agency");
ABSL_FLAG(std::string, query, "", "procedure list: code, or name contains");
ABSL_FLAG(int, limit, 0, "list: stop after this many rows (0 = all)");

namespace pstrack {
namespace {

constexpr char kUsage[] = R"(pstrack: command-line client of the pstrack server.

Usage: pstrack [flags] <command> [arguments]

Agencies:
  agency list [--root CODE] [--depth N] [--level L] [--as_of DATE] [--name TEXT]
  agency get CODE
  agency import FILE.csv          columns: code,name,level,parent_code,admin_code,
                                  valid_from,valid_until,successor_code
  agency resolve CODE --as_of DATE   the agency standing for CODE on that date
Procedures:
  procedure list [--field F] [--mode none|partial|full] [--agency CODE] [--level L]
                 [--query TEXT] [--as_of DATE]
  procedure get CODE
  procedure import FILE.csv       columns: see docs/api.md

Common flags: --server host:port (default 127.0.0.1:50051, or $PSTRACK_SERVER),
  --json, --timeout SECONDS, --limit N. Dates are YYYY-MM-DD.
)";

// An error already explained to the user; exit code 1 (2 if the server is unreachable).
struct CliError {
  std::string message;
  int exit_code = 1;
};

class Client {
 public:
  explicit Client(std::string address) : address_(std::move(address)) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(64 << 20);
    args.SetMaxSendMessageSize(64 << 20);
    channel_ = grpc::CreateCustomChannel(address_, grpc::InsecureChannelCredentials(), args);
    agencies_ = v1::AgencyService::NewStub(channel_);
    catalog_ = v1::CatalogService::NewStub(channel_);
  }

  std::unique_ptr<grpc::ClientContext> Context() const {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(absl::GetFlag(FLAGS_timeout))));
    return ctx;
  }

  // Turns a failed call into a message a person can act on.
  void Check(const grpc::Status& status) const {
    if (status.ok()) return;
    switch (status.error_code()) {
      case grpc::StatusCode::UNAVAILABLE:
        throw CliError{absl::StrCat("cannot reach the pstrack server at ", address_,
                                    ": is pstrack-server running? (use --server host:port; detail: ",
                                    status.error_message(), ")"),
                       2};
      case grpc::StatusCode::DEADLINE_EXCEEDED:
        throw CliError{absl::StrCat("the server at ", address_, " did not answer within ",
                                    absl::GetFlag(FLAGS_timeout), " s (raise --timeout)"),
                       2};
      case grpc::StatusCode::UNIMPLEMENTED:
        throw CliError{absl::StrCat("the server at ", address_, " does not implement this call (",
                                    status.error_message(), ")")};
      default:
        throw CliError{absl::StrCat(StatusName(status.error_code()), ": ", status.error_message())};
    }
  }

  static std::string StatusName(grpc::StatusCode code) {
    static const char* kNames[] = {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
                                   "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
                                   "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
                                   "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};
    int c = static_cast<int>(code);
    return c >= 0 && c <= 16 ? kNames[c] : "ERROR";
  }

  v1::AgencyService::Stub& agencies() { return *agencies_; }
  v1::CatalogService::Stub& catalog() { return *catalog_; }

 private:
  std::string address_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::AgencyService::Stub> agencies_;
  std::unique_ptr<v1::CatalogService::Stub> catalog_;
};

std::string ToJson(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  auto status = google::protobuf::util::MessageToJsonString(m, &out, options);
  if (!status.ok()) throw CliError{absl::StrCat("cannot print JSON: ", status.ToString())};
  return out;
}

template <typename T>
T OrDie(absl::StatusOr<T> v) {
  if (!v.ok()) throw CliError{std::string(v.status().message())};
  return *std::move(v);
}

std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CliError{absl::StrCat("cannot read '", path, "'")};
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string DateText(const v1::Date& d, bool has) {
  if (!has) return "";
  auto date = DateFromProto(d, "date");
  return date.ok() ? FormatDate(*date) : "?";
}

std::string LevelText(int level) { return std::string(AgencyLevelName(static_cast<AgencyLevel>(level))); }

std::optional<v1::Date> DateFlag() {
  std::string text = absl::GetFlag(FLAGS_as_of);
  if (text.empty()) return std::nullopt;
  Date d = OrDie(ParseDate(text, "--as_of"));
  v1::Date out;
  DateToProto(d, &out);
  return out;
}

int LevelFlag() {
  std::string text = absl::GetFlag(FLAGS_level);
  if (text.empty()) return 0;
  return static_cast<int>(OrDie(ParseAgencyLevel(text, "--level")));
}

void PrintImportResults(const std::vector<v1::ItemResult>& results, int local_rejects, const char* noun) {
  int applied = 0, unchanged = 0, rejected = local_rejects;
  for (const auto& r : results) {
    if (r.outcome() == v1::ItemResult::OUTCOME_APPLIED) ++applied;
    if (r.outcome() == v1::ItemResult::OUTCOME_UNCHANGED) ++unchanged;
    if (r.outcome() == v1::ItemResult::OUTCOME_REJECTED) {
      ++rejected;
      std::cout << "line " << r.source_line() << ": " << r.message() << "\n";
    }
  }
  std::cout << noun << ": " << applied << " applied, " << unchanged << " unchanged, " << rejected
            << " rejected\n";
}

// ---- agency commands ----

void AgencyRow(Table& t, const v1::Agency& a) {
  t.AddRow({a.code(), a.name(), LevelText(a.level()), a.parent_code(), DateText(a.valid_from(), a.has_valid_from()),
            DateText(a.valid_until(), a.has_valid_until()), a.successor_code()});
}

int AgencyList(Client& client) {
  v1::ListAgenciesRequest req;
  req.set_root_code(absl::GetFlag(FLAGS_root));
  req.set_max_depth(absl::GetFlag(FLAGS_depth));
  req.set_level(static_cast<v1::AgencyLevel>(LevelFlag()));
  if (auto d = DateFlag()) *req.mutable_as_of() = *d;
  req.set_name_contains(absl::GetFlag(FLAGS_name));
  const int limit = absl::GetFlag(FLAGS_limit);
  v1::ListAgenciesResponse all;
  do {
    req.set_page_size(limit > 0 ? std::min(1000, limit - all.agencies_size()) : 1000);
    v1::ListAgenciesResponse page;
    client.Check(client.agencies().ListAgencies(client.Context().get(), req, &page));
    for (auto& a : *page.mutable_agencies()) *all.add_agencies() = std::move(a);
    req.set_page_token(page.next_page_token());
  } while (!req.page_token().empty() && (limit == 0 || all.agencies_size() < limit));
  if (absl::GetFlag(FLAGS_json)) {
    std::cout << ToJson(all);
    return 0;
  }
  Table t({"CODE", "NAME", "LEVEL", "PARENT", "FROM", "UNTIL", "SUCCESSOR"});
  for (const auto& a : all.agencies()) AgencyRow(t, a);
  t.Print(std::cout);
  std::cout << all.agencies_size() << " agencies\n";
  return 0;
}

void PrintAgency(const v1::Agency& a) {
  if (absl::GetFlag(FLAGS_json)) {
    std::cout << ToJson(a);
    return;
  }
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
  t.Print(std::cout);
}

int AgencyGet(Client& client, const std::string& code) {
  v1::GetAgencyRequest req;
  req.set_code(code);
  v1::Agency a;
  client.Check(client.agencies().GetAgency(client.Context().get(), req, &a));
  PrintAgency(a);
  return 0;
}

int AgencyResolve(Client& client, const std::string& code) {
  v1::ResolveSuccessorRequest req;
  req.set_code(code);
  auto d = DateFlag();
  if (!d) throw CliError{"agency resolve needs --as_of YYYY-MM-DD"};
  *req.mutable_as_of() = *d;
  v1::ResolveSuccessorResponse resp;
  client.Check(client.agencies().ResolveSuccessor(client.Context().get(), req, &resp));
  if (absl::GetFlag(FLAGS_json)) {
    std::cout << ToJson(resp);
    return 0;
  }
  std::cout << absl::StrJoin(resp.lineage(), " -> ") << "\n";
  PrintAgency(resp.agency());
  return 0;
}

int AgencyImport(Client& client, const std::string& path) {
  auto rows = OrDie(ParseAgencyCsv(ReadFileOrDie(path)));
  // One call holds the whole file (up to the server's batch limit) so that
  // parents and successors are ordered before their dependants.
  constexpr int kChunk = 10000;
  int local_rejects = 0;
  std::vector<v1::ItemResult> results;
  v1::ImportAgenciesRequest req;
  auto flush = [&] {
    if (req.items().empty()) return;
    v1::ImportAgenciesResponse resp;
    client.Check(client.agencies().ImportAgencies(client.Context().get(), req, &resp));
    for (auto& r : resp.results()) results.push_back(r);
    req.Clear();
  };
  for (const auto& row : rows) {
    if (!row.agency.ok()) {
      std::cout << "line " << row.line << ": " << row.agency.status().message() << "\n";
      ++local_rejects;
      continue;
    }
    auto* item = req.add_items();
    AgencyToProto(*row.agency, item->mutable_agency());
    item->set_source_line(row.line);
    if (req.items_size() == kChunk) flush();
  }
  flush();
  PrintImportResults(results, local_rejects, "agencies");
  return local_rejects > 0 || std::any_of(results.begin(), results.end(), [](const v1::ItemResult& r) {
           return r.outcome() == v1::ItemResult::OUTCOME_REJECTED;
         })
             ? 1
             : 0;
}

// ---- procedure commands ----

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

int ProcedureList(Client& client) {
  v1::ListProceduresRequest req;
  req.set_field(absl::GetFlag(FLAGS_field));
  if (!absl::GetFlag(FLAGS_mode).empty()) {
    req.set_online_mode(static_cast<v1::OnlineServiceMode>(OrDie(ParseOnlineMode(absl::GetFlag(FLAGS_mode), "--mode"))));
  }
  req.set_agency_code(absl::GetFlag(FLAGS_agency));
  req.set_level(static_cast<v1::AgencyLevel>(LevelFlag()));
  req.set_query(absl::GetFlag(FLAGS_query));
  if (auto d = DateFlag()) *req.mutable_as_of() = *d;
  const int limit = absl::GetFlag(FLAGS_limit);
  v1::ListProceduresResponse all;
  do {
    req.set_page_size(limit > 0 ? std::min(1000, limit - all.procedures_size()) : 1000);
    v1::ListProceduresResponse page;
    client.Check(client.catalog().ListProcedures(client.Context().get(), req, &page));
    for (auto& p : *page.mutable_procedures()) *all.add_procedures() = std::move(p);
    req.set_page_token(page.next_page_token());
  } while (!req.page_token().empty() && (limit == 0 || all.procedures_size() < limit));
  if (absl::GetFlag(FLAGS_json)) {
    std::cout << ToJson(all);
    return 0;
  }
  Table t({"CODE", "NAME", "FIELD", "ONLINE", "TIME", "FEE", "CARRIED OUT BY"});
  t.SetMaxWidth(1, 60);
  for (const auto& p : all.procedures()) {
    t.AddRow({p.code(), p.name(), p.field(), ModeText(p.online_mode()), TimeText(p.resolution_time()),
              p.fee_bearing() ? (p.online_payment_integrated() ? "yes, online" : "yes") : "no", LevelsText(p)});
  }
  t.Print(std::cout);
  std::cout << all.procedures_size() << " procedures\n";
  return 0;
}

int ProcedureGet(Client& client, const std::string& code) {
  v1::GetProcedureRequest req;
  req.set_code(code);
  v1::Procedure p;
  client.Check(client.catalog().GetProcedure(client.Context().get(), req, &p));
  if (absl::GetFlag(FLAGS_json)) {
    std::cout << ToJson(p);
    return 0;
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
  t.Print(std::cout);
  return 0;
}

int ProcedureImport(Client& client, const std::string& path) {
  auto rows = OrDie(ParseProcedureCsv(ReadFileOrDie(path)));
  constexpr int kChunk = 1000;
  int local_rejects = 0;
  std::vector<v1::ItemResult> results;
  v1::ImportProceduresRequest req;
  auto flush = [&] {
    if (req.items().empty()) return;
    v1::ImportProceduresResponse resp;
    client.Check(client.catalog().ImportProcedures(client.Context().get(), req, &resp));
    for (auto& r : resp.results()) results.push_back(r);
    req.Clear();
  };
  for (const auto& row : rows) {
    if (!row.procedure.ok()) {
      std::cout << "line " << row.line << ": " << row.procedure.status().message() << "\n";
      ++local_rejects;
      continue;
    }
    auto* item = req.add_items();
    ProcedureToProto(*row.procedure, item->mutable_procedure());
    item->set_source_line(row.line);
    if (req.items_size() == kChunk) flush();
  }
  flush();
  PrintImportResults(results, local_rejects, "procedures");
  return local_rejects > 0 || std::any_of(results.begin(), results.end(), [](const v1::ItemResult& r) {
           return r.outcome() == v1::ItemResult::OUTCOME_REJECTED;
         })
             ? 1
             : 0;
}

int Run(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "help" || args[0] == "--help") {
    std::cout << kUsage;
    return args.empty() ? 2 : 0;
  }
  std::string address = absl::GetFlag(FLAGS_server);
  if (const char* env = std::getenv("PSTRACK_SERVER"); env && address == "127.0.0.1:50051") address = env;
  Client client(address);
  auto need = [&](size_t n, const char* usage) {
    if (args.size() != n) throw CliError{absl::StrCat("usage: pstrack ", usage), 2};
  };
  const std::string noun = args[0], verb = args.size() > 1 ? args[1] : "";
  if (noun == "agency" || noun == "agencies") {
    if (verb == "list") return need(2, "agency list [flags]"), AgencyList(client);
    if (verb == "get") return need(3, "agency get CODE"), AgencyGet(client, args[2]);
    if (verb == "import") return need(3, "agency import FILE.csv"), AgencyImport(client, args[2]);
    if (verb == "resolve") return need(3, "agency resolve CODE --as_of DATE"), AgencyResolve(client, args[2]);
  } else if (noun == "procedure" || noun == "procedures") {
    if (verb == "list") return need(2, "procedure list [flags]"), ProcedureList(client);
    if (verb == "get") return need(3, "procedure get CODE"), ProcedureGet(client, args[2]);
    if (verb == "import") return need(3, "procedure import FILE.csv"), ProcedureImport(client, args[2]);
  }
  throw CliError{absl::StrCat("unknown command '", absl::StrJoin(args, " "), "'; run 'pstrack help'"), 2};
}

}  // namespace
}  // namespace pstrack

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(pstrack::kUsage);
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  std::vector<std::string> args(rest.begin() + 1, rest.end());
  try {
    return pstrack::Run(args);
  } catch (const pstrack::CliError& e) {
    std::cerr << "pstrack: " << e.message << "\n";
    return e.exit_code;
  }
}
