// pstrack: command-line client of the pstrack gRPC API. Run `pstrack help`.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "pstrack/v1/agency.grpc.pb.h"
#include "pstrack/v1/catalog.grpc.pb.h"
#include "pstrack/v1/filing.grpc.pb.h"
#include "pstrack/v1/metrics.grpc.pb.h"
#include "services/api/filing_convert.h"
#include "services/filings/event_csv.h"
#include "services/agencies/agency_csv.h"
#include "services/api/convert.h"
#include "services/catalog/procedure_csv.h"
#include "services/common/csv.h"
#include "services/common/text.h"
#include "tools/cli/table.h"

ABSL_FLAG(std::string, server, "127.0.0.1:50051", "pstrack server address, host:port (env PSTRACK_SERVER)");
ABSL_FLAG(bool, json, false, "Print JSON instead of tables");
ABSL_FLAG(bool, csv, false, "Print CSV (RFC 4180, a header line, unformatted numbers) instead of tables");
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
ABSL_FLAG(std::string, status, "", "dossier list: status (received, processing, resolved, ...)");
ABSL_FLAG(bool, overdue, false, "dossier list: only open dossiers past their due time");
ABSL_FLAG(int, batch, 1000, "event send: events per call");
ABSL_FLAG(std::string, scope, "", "metrics: agency whose subtree is measured (VN = the whole country)");
ABSL_FLAG(bool, as_filed, false,
          "metrics: keep figures with the agency they were filed at (default: today's tree, where former "
          "agencies count under their successors)");
ABSL_FLAG(std::string, period, "", "metrics: 2025, 2025-Q3, 2025-07 or 2025-07-15");
ABSL_FLAG(std::string, from, "", "metrics: first day of the period, YYYY-MM-DD (with --until, instead of --period)");
ABSL_FLAG(std::string, until, "", "metrics: end of the period, YYYY-MM-DD, not included (2025-01-01 to 2026-01-01 = 2025)");
ABSL_FLAG(std::vector<std::string>, ids, {}, "metrics: only these indicator ids, comma-separated (default: all)");
ABSL_FLAG(std::string, by, "", "breakdown: child, field, channel or procedure");
ABSL_FLAG(std::string, granularity, "", "series: day, month, quarter or year");
ABSL_FLAG(std::string, indicator, "", "rank: rank by this indicator id");
ABSL_FLAG(std::string, methodology, "", "rank: rank by this methodology's total; score: the methodology (default: the server's)");
ABSL_FLAG(bool, ascending, false, "rank: lowest first (already the default for lower-is-better indicators)");

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
Dossier events:
  event send FILE.jsonl|FILE.csv  send filing events (JSON lines in the API's JSON form, or CSV
                                  with the columns listed in docs/api.md); prints a summary
  dossier get CODE                one dossier: state, appointment dates, outcome, timeline
  dossier list [--agency CODE] [--status S] [--overdue]
Procedures:
  procedure list [--field F] [--mode none|partial|full] [--agency CODE] [--level L]
                 [--query TEXT] [--as_of DATE]
  procedure get CODE
  procedure import FILE.csv       columns: see docs/api.md
Indicators and index scores (docs/indicators.md):
  indicators --scope CODE PERIOD [--ids a,b] [--as_filed]
  breakdown --scope CODE PERIOD --by child|field|channel|procedure [--ids a,b]
  series --scope CODE PERIOD --granularity day|month|quarter|year [--ids a,b]
  rank --scope CODE PERIOD (--indicator ID | --methodology ID) [--level L] [--ascending]
                                  ranks the children of CODE (or its descendants of level L)
  score --scope CODE PERIOD [--methodology qd766@2026]
  methodologies                   the loaded index methodologies, and the default
  indicator-list                  the built-in indicators: id, name, unit, period basis
  external submit FILE.csv        figures from outside pstrack (SIPAS, complaints, ...); columns:
                                  input_id,agency_code,indicator_id,start,end,numerator,
                                  denominator,value,source (start..end half-open, YYYY-MM-DD)
  aggregates check|repair         compare the stored aggregates with the events (check exits 1
                                  when they differ); repair rebuilds them
  PERIOD is --period 2025|2025-Q3|2025-07|2025-07-15, or --from DATE --until DATE (the until
  day not included). Scopes are read in today's agency tree unless --as_filed is given.
  A value that cannot be computed prints as n/a with the reason, never as 0.

Common flags: --server host:port (default 127.0.0.1:50051, or $PSTRACK_SERVER),
  --json, --csv, --timeout SECONDS, --limit N. Dates are YYYY-MM-DD.
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
    filings_ = v1::FilingService::NewStub(channel_);
    metrics_ = v1::MetricsService::NewStub(channel_);
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
  v1::FilingService::Stub& filings() { return *filings_; }
  v1::MetricsService::Stub& metrics() { return *metrics_; }

 private:
  std::string address_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::AgencyService::Stub> agencies_;
  std::unique_ptr<v1::CatalogService::Stub> catalog_;
  std::unique_ptr<v1::FilingService::Stub> filings_;
  std::unique_ptr<v1::MetricsService::Stub> metrics_;
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

// ---- events and dossiers ----

struct ParsedEvent {
  int line = 0;
  v1::FilingEvent event;
};

// Reads a .jsonl (one FilingEvent per line, proto JSON) or a .csv file. Bad
// lines are printed and counted; the rest is returned.
std::vector<ParsedEvent> ReadEvents(const std::string& path, int* local_rejects) {
  std::string text = ReadFileOrDie(path);
  std::vector<ParsedEvent> out;
  const bool csv = path.size() >= 4 && path.substr(path.size() - 4) == ".csv";
  if (csv) {
    for (auto& row : OrDie(ParseEventCsv(text))) {
      if (!row.event.ok()) {
        std::cout << "line " << row.line << ": " << row.event.status().message() << "\n";
        ++*local_rejects;
        continue;
      }
      ParsedEvent p;
      p.line = row.line;
      FilingEventToProto(*row.event, &p.event);
      out.push_back(std::move(p));
    }
    return out;
  }
  std::istringstream in(text);
  std::string line;
  google::protobuf::util::JsonParseOptions options;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    ParsedEvent p;
    p.line = n;
    auto status = google::protobuf::util::JsonStringToMessage(line, &p.event, options);
    if (!status.ok()) {
      std::string why(status.message());
      std::replace(why.begin(), why.end(), '\n', ' ');
      std::cout << "line " << n << ": not a FilingEvent in JSON: " << why << "\n";
      ++*local_rejects;
      continue;
    }
    out.push_back(std::move(p));
  }
  return out;
}

void Progress(size_t done, size_t total) {
  if (!isatty(STDERR_FILENO) || total == 0) return;
  const int width = 40;
  int filled = static_cast<int>(width * done / total);
  std::cerr << "\r[" << std::string(filled, '=') << std::string(width - filled, ' ') << "] " << done << "/" << total
            << " events" << (done == total ? "\n" : "") << std::flush;
}

int EventSend(Client& client, const std::string& path) {
  int local_rejects = 0;
  std::vector<ParsedEvent> events = ReadEvents(path, &local_rejects);
  const size_t batch = static_cast<size_t>(std::clamp(absl::GetFlag(FLAGS_batch), 1, 10000));
  int applied = 0, unchanged = 0, rejected = local_rejects;
  std::map<std::string, int> reasons;
  for (size_t begin = 0; begin < events.size(); begin += batch) {
    v1::RecordEventsRequest req;
    for (size_t i = begin; i < std::min(events.size(), begin + batch); ++i) {
      *req.add_events() = events[i].event;
      req.add_source_lines(events[i].line);
    }
    v1::RecordEventsResponse resp;
    client.Check(client.filings().RecordEvents(client.Context().get(), req, &resp));
    for (const auto& r : resp.results()) {
      if (r.outcome() == v1::ItemResult::OUTCOME_APPLIED) ++applied;
      if (r.outcome() == v1::ItemResult::OUTCOME_UNCHANGED) ++unchanged;
      if (r.outcome() == v1::ItemResult::OUTCOME_REJECTED) {
        ++rejected;
        ++reasons[Client::StatusName(static_cast<grpc::StatusCode>(r.code()))];
        std::cout << "line " << r.source_line() << ": " << r.key() << ": " << r.message() << "\n";
      }
    }
    Progress(std::min(events.size(), begin + batch), events.size());
  }
  std::cout << "events: " << applied << " accepted, " << unchanged << " duplicate, " << rejected << " rejected";
  if (!reasons.empty()) {
    std::vector<std::string> parts;
    for (const auto& [reason, n] : reasons) parts.push_back(absl::StrCat(n, " ", reason));
    std::cout << " (" << absl::StrJoin(parts, ", ") << ")";
  }
  std::cout << "\n";
  return rejected > 0 ? 1 : 0;
}

std::string InstantText(const google::protobuf::Timestamp& t) {
  return absl::FormatTime("%Y-%m-%d %H:%M", absl::FromUnixSeconds(t.seconds()), VietnamTimeZone());
}

std::string EnumText(const google::protobuf::EnumDescriptor* d, int value, const std::string& prefix) {
  const auto* v = d->FindValueByNumber(value);
  if (!v) return absl::StrCat(value);
  std::string name = v->name();
  if (name.rfind(prefix, 0) == 0) name = name.substr(prefix.size());
  return absl::AsciiStrToLower(name);
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
    case v1::FilingEvent::kSupplementRequested: return e.supplement_requested().reason();
    case v1::FilingEvent::kWithdrawn: return e.withdrawn().reason();
    case v1::FilingEvent::kStopped: return e.stopped().reason();
    case v1::FilingEvent::kNotAccepted: return e.not_accepted().reason();
    default: return "";
  }
}

int DossierGet(Client& client, const std::string& code) {
  v1::GetDossierRequest req;
  req.set_code(code);
  v1::Dossier d;
  client.Check(client.filings().GetDossier(client.Context().get(), req, &d));
  if (absl::GetFlag(FLAGS_json)) {
    std::cout << ToJson(d);
    return 0;
  }
  auto timeliness = [](int t) { return EnumText(v1::Timeliness_descriptor(), t, "TIMELINESS_"); };
  std::cout << "Dossier " << d.code() << "  procedure " << d.procedure_code() << "  agency " << d.agency_code()
            << "\n";
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
    t.AddRow({"re-appointed", absl::StrCat(DateText(d.reappointed_date(), true), d.apology_late() ? " (late apology)" : "")});
  }
  if (d.has_finish_time()) t.AddRow({"finished", InstantText(d.finish_time())});
  t.AddRow({"timeliness", absl::StrCat(timeliness(d.timeliness()), " (rule), ", timeliness(d.portal_timeliness()),
                                       " (portal)")});
  if (d.supplement_requests()) t.AddRow({"supplements", absl::StrCat(d.supplement_requests())});
  if (d.paid_amount_vnd()) t.AddRow({"paid", absl::StrCat(d.paid_amount_vnd(), " VND", d.paid_online() ? " online" : "")});
  t.Print(std::cout);
  std::cout << "\n";
  Table timeline({"TIME", "EVENT", "DETAIL", "EVENT ID"});
  for (const auto& e : d.events()) {
    const auto* field = e.GetDescriptor()->FindFieldByNumber(static_cast<int>(e.kind_case()));
    timeline.AddRow({InstantText(e.occurred_at()), field ? field->name() : "?", EventDetail(e), e.event_id()});
  }
  timeline.Print(std::cout);
  return 0;
}

int DossierList(Client& client) {
  v1::ListDossiersRequest req;
  req.set_agency_code(absl::GetFlag(FLAGS_agency));
  if (std::string s = absl::GetFlag(FLAGS_status); !s.empty()) {
    int value = 0;
    if (!v1::DossierStatus_Parse("DOSSIER_STATUS_" + absl::AsciiStrToUpper(s), reinterpret_cast<v1::DossierStatus*>(&value))) {
      throw CliError{absl::StrCat("--status: '", s, "' is not a status (received, processing, resolved, ...)")};
    }
    req.set_status(static_cast<v1::DossierStatus>(value));
  }
  req.set_overdue_only(absl::GetFlag(FLAGS_overdue));
  const int limit = absl::GetFlag(FLAGS_limit);
  v1::ListDossiersResponse all;
  do {
    req.set_page_size(limit > 0 ? std::min(1000, limit - all.dossiers_size()) : 1000);
    v1::ListDossiersResponse page;
    client.Check(client.filings().ListDossiers(client.Context().get(), req, &page));
    for (auto& d : *page.mutable_dossiers()) *all.add_dossiers() = std::move(d);
    req.set_page_token(page.next_page_token());
  } while (!req.page_token().empty() && (limit == 0 || all.dossiers_size() < limit));
  if (absl::GetFlag(FLAGS_json)) {
    std::cout << ToJson(all);
    return 0;
  }
  Table t({"DOSSIER", "AGENCY", "PROCEDURE", "STATUS", "RECEIVED", "APPOINTMENT", "TIMELINESS"});
  for (const auto& d : all.dossiers()) {
    t.AddRow({d.code(), d.agency_code(), d.procedure_code(),
              EnumText(v1::DossierStatus_descriptor(), d.status(), "DOSSIER_STATUS_"),
              d.has_received_time() ? InstantText(d.received_time()) : "",
              DateText(d.computed_appointment_date(), d.has_computed_appointment_date()),
              EnumText(v1::Timeliness_descriptor(), d.timeliness(), "TIMELINESS_")});
  }
  t.Print(std::cout);
  std::cout << all.dossiers_size() << " dossiers\n";
  return 0;
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
  } else if (noun == "event" || noun == "events") {
    if (verb == "send") return need(3, "event send FILE.jsonl|FILE.csv"), EventSend(client, args[2]);
  } else if (noun == "dossier" || noun == "dossiers") {
    if (verb == "get") return need(3, "dossier get CODE"), DossierGet(client, args[2]);
    if (verb == "list") return need(2, "dossier list [flags]"), DossierList(client);
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
