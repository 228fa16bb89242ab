// pstrack: command-line client of the pstrack gRPC API. Run `pstrack help`.
#include <unistd.h>

#include <algorithm>
#include <set>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
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
#include "pstrack/v1/admin.grpc.pb.h"
#include "pstrack/v1/agency.grpc.pb.h"
#include "pstrack/v1/catalog.grpc.pb.h"
#include "pstrack/v1/filing.grpc.pb.h"
#include "pstrack/v1/metrics.grpc.pb.h"
#include "pstrack/v1/reporting.grpc.pb.h"
#include "services/common/usage.h"
#include "services/api/filing_convert.h"
#include "services/lifecycle/event_csv.h"
#include "services/agencies/agency_csv.h"
#include "services/api/convert.h"
#include "services/catalog/procedure_csv.h"
#include "services/common/csv.h"
#include "services/common/status.h"
#include "services/common/text.h"
#include "services/security/api_key.h"
#include "tools/cli/table.h"

ABSL_FLAG(std::string, server, "127.0.0.1:50051", "pstrack server address, host:port (env PSTRACK_SERVER)");
ABSL_FLAG(std::string, api_key, "", "API key (pst_...); default $PSTRACK_API_KEY, or the file named by --api_key_file");
ABSL_FLAG(std::string, api_key_file, "", "File holding the API key (default $PSTRACK_API_KEY_FILE)");
ABSL_FLAG(std::string, tls_ca, "", "Connect with TLS, trusting this PEM CA bundle (default: plaintext)");
ABSL_FLAG(std::string, tls_cert, "", "Client certificate (PEM) for mutual TLS");
ABSL_FLAG(std::string, tls_key, "", "Client private key (PEM) for mutual TLS");
ABSL_FLAG(std::string, tls_server_name, "", "Expected server name in its certificate (default: the host)");
ABSL_FLAG(std::string, role, "", "key create: centre, analyst or admin; key list: only this role");
ABSL_FLAG(std::string, certificate_subject, "", "key create: client-certificate name that stands for the key");
ABSL_FLAG(bool, certificate_only, false, "key create: no secret, the certificate alone identifies the caller");
ABSL_FLAG(double, rate, 0, "key create: requests per second (0 = the server's default)");
ABSL_FLAG(bool, all, false, "key list: include revoked keys");
ABSL_FLAG(std::string, principal, "", "audit list: only this key id");
ABSL_FLAG(std::string, method, "", "audit list: only this method (e.g. RecordEvents)");
ABSL_FLAG(bool, failures, false, "audit list: only refused or failed calls");
ABSL_FLAG(bool, json, false, "Print JSON instead of tables");
ABSL_FLAG(bool, csv, false, "Print CSV (RFC 4180, a header line, unformatted numbers) instead of tables");
ABSL_FLAG(int, timeout, 0, "Seconds to wait for each call (0: 30 s; an hour for aggregates check and repair)");
ABSL_FLAG(std::string, root, "", "agency list: only this agency's subtree");
ABSL_FLAG(int, depth, 0, "agency list: at most this many levels below --root (0 = all)");
ABSL_FLAG(std::string, level, "", "Level: nation, ministry, province, department, district, commune");
ABSL_FLAG(std::string, as_of, "", "Only what is in force on this date, YYYY-MM-DD");
ABSL_FLAG(std::string, name, "", "agency list: name contains (accents and case ignored); key create: who holds the key");
ABSL_FLAG(std::string, field, "", "procedure list: exact field (lĩnh vực)");
ABSL_FLAG(std::string, mode, "", "procedure list: online mode none, partial or full");
ABSL_FLAG(std::string, agency, "", "procedure list: carried out by this agency");
ABSL_FLAG(std::string, query, "", "procedure list: code, or name contains");
ABSL_FLAG(int, limit, 0, "list: stop after this many rows (0 = all)");
ABSL_FLAG(std::string, status, "", "dossier list: status (received, processing, resolved, ...)");
ABSL_FLAG(bool, overdue, false, "dossier list: only open dossiers past their due time");
ABSL_FLAG(int, batch, 1000, "event send: events per call");
ABSL_FLAG(std::string, scope, "", "metrics: agency whose subtree is measured (VN = the whole country); key create: the key's agency");
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
ABSL_FLAG(bool, ascending, false,
          "rank: lowest first (already the default for lower-is-better indicators); quality: lowest count first");
ABSL_FLAG(int, working_days, 3, "silent: agencies without events for at least this many working days");
ABSL_FLAG(std::string, sort, "issues", "quality: issues, rejected, late, mismatches, overdue or code");
ABSL_FLAG(int, far_overdue, 10, "quality: open dossiers overdue for at least this many working days");

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
Periodic reports and data quality (docs/indicators.md, "Reported figures"):
  report submit FILE.csv          centres' periodic reports; header: report_id,agency_code,period,
                                  received,finished and any other PeriodicReport field (procedure_code,
                                  field, received_online, finished_late, ..., source); an empty
                                  cell = not reported. The same report_id again corrects it.
  report get REPORT_ID            the current revision and its history
  report list [--agency CODE] [PERIOD]
  reconcile --scope CODE PERIOD   reported against event-derived counts, per report, and the
                                  scope's sync completeness
  silent --scope CODE [--working_days 3]   agencies whose events stopped
  quality --scope CODE PERIOD [--sort issues|rejected|late|mismatches|overdue|code] [--ascending]
          [--far_overdue 10]      per agency: rejected events by reason, late events, appointment
                                  mismatches, dossiers open far beyond their due date
Access (docs/security.md):
  whoami                          the identity, role and scope the server sees
  key create --name TEXT --role centre|analyst|admin [--scope CODE] [--certificate_subject CN]
             [--certificate_only] [--rate N]   prints the token once
  key list [--all] [--role R]     keys (never their secrets)
  key revoke KEY_ID               takes effect at once
  audit list [--principal KEY_ID] [--method NAME] [--failures] [--limit N]
                                  writes and admin actions, newest first
  methodologies reload            re-read the server's methodology files
  PERIOD is --period 2025|2025-Q3|2025-07|2025-07-15, or --from DATE --until DATE (the until
  day not included). Scopes are read in today's agency tree unless --as_filed is given.
  A value that cannot be computed prints as n/a with the reason, never as 0.

Credentials: --api_key pst_... (or $PSTRACK_API_KEY, or --api_key_file FILE / $PSTRACK_API_KEY_FILE);
  TLS: --tls_ca CA.pem [--tls_cert C.pem --tls_key K.pem] [--tls_server_name NAME].
Common flags: --server host:port (default 127.0.0.1:50051, or $PSTRACK_SERVER),
  --json, --csv (indicator commands), --timeout SECONDS, --limit N. Dates are YYYY-MM-DD.
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
    std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
    if (!absl::GetFlag(FLAGS_tls_ca).empty()) {
      grpc::SslCredentialsOptions tls;
      tls.pem_root_certs = ReadOrDie(absl::GetFlag(FLAGS_tls_ca));
      if (!absl::GetFlag(FLAGS_tls_cert).empty()) {
        tls.pem_cert_chain = ReadOrDie(absl::GetFlag(FLAGS_tls_cert));
        tls.pem_private_key = ReadOrDie(absl::GetFlag(FLAGS_tls_key));
      }
      credentials = grpc::SslCredentials(tls);
      if (!absl::GetFlag(FLAGS_tls_server_name).empty()) {
        args.SetSslTargetNameOverride(absl::GetFlag(FLAGS_tls_server_name));
      }
    } else if (!absl::GetFlag(FLAGS_tls_cert).empty()) {
      throw CliError{"--tls_cert needs --tls_ca (the CA that signed the server's certificate)", 2};
    }
    token_ = ApiKey();
    channel_ = grpc::CreateCustomChannel(address_, credentials, args);
    admin_ = v1::AdminService::NewStub(channel_);
    agencies_ = v1::AgencyService::NewStub(channel_);
    catalog_ = v1::CatalogService::NewStub(channel_);
    filings_ = v1::FilingService::NewStub(channel_);
    metrics_ = v1::MetricsService::NewStub(channel_);
    reporting_ = v1::ReportingService::NewStub(channel_);
  }

  // `default_timeout`: the deadline when --timeout is not given (a long
  // call such as the aggregate check waits longer than the flag's default).
  std::unique_ptr<grpc::ClientContext> Context(std::optional<absl::Duration> default_timeout = std::nullopt) const {
    auto ctx = std::make_unique<grpc::ClientContext>();
    const int seconds = absl::GetFlag(FLAGS_timeout);
    const absl::Duration timeout = seconds > 0 ? absl::Seconds(seconds) : default_timeout.value_or(absl::Seconds(30));
    ctx->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    // Sent as metadata on plaintext and TLS channels alike.
    if (!token_.empty()) ctx->AddMetadata("authorization", absl::StrCat("Bearer ", token_));
    return ctx;
  }

  // --api_key, $PSTRACK_API_KEY, --api_key_file, $PSTRACK_API_KEY_FILE.
  static std::string ApiKey() {
    std::string key = absl::GetFlag(FLAGS_api_key);
    if (key.empty()) {
      if (const char* env = std::getenv("PSTRACK_API_KEY")) key = env;
    }
    std::string file = absl::GetFlag(FLAGS_api_key_file);
    if (file.empty()) {
      if (const char* env = std::getenv("PSTRACK_API_KEY_FILE")) file = env;
    }
    if (key.empty() && !file.empty()) key = ReadOrDie(file);
    return std::string(absl::StripAsciiWhitespace(key));
  }

  static std::string ReadOrDie(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw CliError{absl::StrCat("cannot read '", path, "'")};
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
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
                                    "the call's deadline (raise --timeout, in seconds)"),
                       2};
      case grpc::StatusCode::UNAUTHENTICATED:
        throw CliError{absl::StrCat("UNAUTHENTICATED: ", status.error_message(),
                                    token_.empty() ? " (set --api_key, $PSTRACK_API_KEY or --api_key_file)" : "")};
      case grpc::StatusCode::RESOURCE_EXHAUSTED:
        throw CliError{absl::StrCat("RESOURCE_EXHAUSTED: ", status.error_message())};
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
  v1::ReportingService::Stub& reporting() { return *reporting_; }
  v1::AdminService::Stub& admin() { return *admin_; }

 private:
  std::string address_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::AgencyService::Stub> agencies_;
  std::unique_ptr<v1::CatalogService::Stub> catalog_;
  std::unique_ptr<v1::FilingService::Stub> filings_;
  std::unique_ptr<v1::MetricsService::Stub> metrics_;
  std::unique_ptr<v1::ReportingService::Stub> reporting_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
  std::string token_;
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

// ---- indicators, rankings and index scores ----

enum class Output { kTable, kCsv, kJson };

Output OutputFlag() {
  const bool json = absl::GetFlag(FLAGS_json), csv = absl::GetFlag(FLAGS_csv);
  if (json && csv) throw CliError{"choose one of --json and --csv"};
  return json ? Output::kJson : csv ? Output::kCsv : Output::kTable;
}

void PrintTable(const Table& t, Output out) {
  if (out == Output::kCsv) {
    t.PrintCsv(std::cout);
  } else {
    t.Print(std::cout);
  }
}

std::vector<std::string> Cat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

v1::Scope ScopeFlag() {
  const std::string code = absl::GetFlag(FLAGS_scope);
  if (code.empty()) throw CliError{"this command needs --scope CODE (an agency code; VN for the whole country)"};
  v1::Scope scope;
  scope.set_agency_code(code);
  scope.set_tree_view(absl::GetFlag(FLAGS_as_filed) ? v1::TREE_VIEW_AS_FILED : v1::TREE_VIEW_CURRENT);
  return scope;
}

// --period LABEL, or --from and --until (a half-open range, as the API's).
v1::Period PeriodFlag() {
  const std::string label = absl::GetFlag(FLAGS_period);
  const std::string from = absl::GetFlag(FLAGS_from), until = absl::GetFlag(FLAGS_until);
  v1::Period period;
  if (!label.empty()) {
    if (!from.empty() || !until.empty()) throw CliError{"give either --period or --from and --until, not both"};
    period.set_label(label);
    return period;
  }
  if (from.empty() || until.empty()) {
    throw CliError{"this command needs --period (2025, 2025-Q3, 2025-07 or 2025-07-15), or --from DATE and --until DATE"};
  }
  DateToProto(OrDie(ParseDate(from, "--from")), period.mutable_range()->mutable_start());
  DateToProto(OrDie(ParseDate(until, "--until")), period.mutable_range()->mutable_end());
  return period;
}

void IdsFlag(google::protobuf::RepeatedPtrField<std::string>* out) {
  for (const std::string& id : absl::GetFlag(FLAGS_ids)) {
    std::string trimmed(absl::StripAsciiWhitespace(id));
    if (!trimmed.empty()) out->Add(std::move(trimmed));
  }
}

// A period as people say it: "2025", "2025-Q3", "2025-07", "2025-07-15", or
// "2025-07-10 to 2025-08-31" (both days included).
std::string PeriodText(const v1::DateRange& range) {
  auto start = DateFromProto(range.start(), "start");
  auto end = DateFromProto(range.end(), "end");
  if (!start.ok() || !end.ok()) return "?";
  const Date s = *start, e = *end;
  const absl::CivilMonth month(s);
  if (s.day() == 1 && s.month() == 1 && e == Date(absl::CivilYear(s) + 1)) return absl::StrCat(s.year());
  if (s.day() == 1 && (s.month() - 1) % 3 == 0 && e == Date(month + 3)) {
    return absl::StrCat(s.year(), "-Q", (s.month() - 1) / 3 + 1);
  }
  if (s.day() == 1 && e == Date(month + 1)) return absl::FormatCivilTime(month);
  if (e == s + 1) return FormatDate(s);
  return absl::StrCat(FormatDate(s), " to ", FormatDate(e - 1));
}

std::string ScopeText(const v1::Scope& scope, const v1::DateRange& period) {
  return absl::StrCat(scope.agency_code(),
                      scope.tree_view() == v1::TREE_VIEW_AS_FILED ? " (as filed)" : " (today's tree)", ", ",
                      PeriodText(period), " [", DateText(period.start(), true), ", ", DateText(period.end(), true),
                      ")");
}

// Whole numbers print without decimals, others with two.
std::string NumberText(double x) {
  if (std::isfinite(x) && x == std::floor(x) && std::fabs(x) < 1e15) return absl::StrFormat("%.0f", x);
  return absl::StrFormat("%.2f", x);
}

// Unformatted, for CSV: enough digits to recompute a rate.
std::string RawNumber(double x) { return absl::StrFormat("%.12g", x); }

std::string PercentText(double rate) { return absl::StrFormat("%.2f%%", 100 * rate); }

using Definitions = std::map<std::string, v1::IndicatorDefinition>;

Definitions FetchDefinitions(Client& client) {
  v1::ListIndicatorsRequest req;
  v1::ListIndicatorsResponse resp;
  client.Check(client.metrics().ListIndicators(client.Context().get(), req, &resp));
  Definitions out;
  for (const auto& d : resp.indicators()) out[d.id()] = d;
  return out;
}

std::string UnitOf(const Definitions& definitions, const std::string& id) {
  auto it = definitions.find(id);
  return it == definitions.end() ? "" : it->second.unit();
}

// A value that is not available prints as this, with its reason, and never
// as 0; its numerator and denominator are left blank for the same reason.
constexpr char kNotAvailable[] = "n/a";

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
    return {unit, RawNumber(v.value()), RawNumber(v.numerator()), has_denominator ? RawNumber(v.denominator()) : "",
            "true", ""};
  }
  std::string value = unit == "ratio"          ? PercentText(v.value())
                      : unit == "working_days" ? absl::StrFormat("%.1f", v.value())
                                               : NumberText(v.value());
  return {value, NumberText(v.numerator()), has_denominator ? NumberText(v.denominator()) : "", ""};
}

int Indicators(Client& client) {
  const Output out = OutputFlag();
  v1::GetIndicatorsRequest req;
  *req.mutable_scope() = ScopeFlag();
  *req.mutable_period() = PeriodFlag();
  IdsFlag(req.mutable_indicator_ids());
  v1::IndicatorSet set;
  client.Check(client.metrics().GetIndicators(client.Context().get(), req, &set));
  if (out == Output::kJson) {
    std::cout << ToJson(set);
    return 0;
  }
  const Definitions definitions = FetchDefinitions(client);
  const bool csv = out == Output::kCsv;
  if (!csv) {
    std::cout << ScopeText(set.scope(), set.period()) << "; open dossiers judged at " << InstantText(set.as_of())
              << "\n";
  }
  Table t(Cat({csv ? "indicator_id" : "INDICATOR"}, ValueHeader(csv)));
  for (const auto& v : set.values()) {
    t.AddRow(Cat({v.indicator_id()}, ValueCells(v, UnitOf(definitions, v.indicator_id()), csv)));
  }
  PrintTable(t, out);
  if (csv) return 0;
  // Where figures came from when periodic reports are in the scope.
  for (const auto& v : set.values()) {
    const bool reports = std::find(v.sources().begin(), v.sources().end(), "reports") != v.sources().end();
    if (!reports && v.note().empty()) continue;
    std::cout << v.indicator_id() << ": from " << absl::StrJoin(v.sources(), " + ")
              << (v.note().empty() ? "" : absl::StrCat("; ", v.note())) << "\n";
  }
  if (!set.parts().empty()) {
    std::cout << "periodic reports of the scope:\n";
    Table parts({"REPORT", "REVISION", "AGENCY", "SUBJECT", "PERIOD", "ROLE", "WHY"});
    for (const auto& p : set.parts()) {
      parts.AddRow({p.report_id(), absl::StrCat(p.revision()), p.agency_code(), p.subject(), PeriodText(p.period()),
                    p.role(), p.note()});
    }
    parts.Print(std::cout);
  }
  return 0;
}

int Breakdown(Client& client) {
  const Output out = OutputFlag();
  static const std::map<std::string, v1::BreakdownDimension> kDimensions = {
      {"child", v1::BREAKDOWN_DIMENSION_CHILD_AGENCY},
      {"field", v1::BREAKDOWN_DIMENSION_FIELD},
      {"channel", v1::BREAKDOWN_DIMENSION_CHANNEL},
      {"procedure", v1::BREAKDOWN_DIMENSION_PROCEDURE}};
  const std::string by = absl::AsciiStrToLower(absl::GetFlag(FLAGS_by));
  if (by.empty()) throw CliError{"breakdown needs --by child, field, channel or procedure"};
  auto dimension = kDimensions.find(by);
  if (dimension == kDimensions.end()) {
    throw CliError{absl::StrCat("--by: '", by, "' is not a breakdown: use child, field, channel or procedure")};
  }
  v1::GetBreakdownRequest req;
  *req.mutable_scope() = ScopeFlag();
  *req.mutable_period() = PeriodFlag();
  IdsFlag(req.mutable_indicator_ids());
  req.set_dimension(dimension->second);
  v1::GetBreakdownResponse resp;
  client.Check(client.metrics().GetBreakdown(client.Context().get(), req, &resp));
  if (out == Output::kJson) {
    std::cout << ToJson(resp);
    return 0;
  }
  const Definitions definitions = FetchDefinitions(client);
  const bool csv = out == Output::kCsv;
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
  PrintTable(t, out);
  return 0;
}

int Series(Client& client) {
  const Output out = OutputFlag();
  static const std::map<std::string, v1::Granularity> kGranularities = {{"day", v1::GRANULARITY_DAY},
                                                                         {"month", v1::GRANULARITY_MONTH},
                                                                         {"quarter", v1::GRANULARITY_QUARTER},
                                                                         {"year", v1::GRANULARITY_YEAR}};
  const std::string text = absl::AsciiStrToLower(absl::GetFlag(FLAGS_granularity));
  if (text.empty()) throw CliError{"series needs --granularity day, month, quarter or year"};
  auto granularity = kGranularities.find(text);
  if (granularity == kGranularities.end()) {
    throw CliError{absl::StrCat("--granularity: '", text, "' is not one of day, month, quarter, year")};
  }
  v1::GetTimeSeriesRequest req;
  *req.mutable_scope() = ScopeFlag();
  *req.mutable_period() = PeriodFlag();
  IdsFlag(req.mutable_indicator_ids());
  req.set_granularity(granularity->second);
  v1::GetTimeSeriesResponse resp;
  client.Check(client.metrics().GetTimeSeries(client.Context().get(), req, &resp));
  if (out == Output::kJson) {
    std::cout << ToJson(resp);
    return 0;
  }
  const Definitions definitions = FetchDefinitions(client);
  const bool csv = out == Output::kCsv;
  Table t(Cat(csv ? std::vector<std::string>{"start", "end", "indicator_id"}
                  : std::vector<std::string>{"PERIOD", "INDICATOR"},
              ValueHeader(csv)));
  for (const auto& point : resp.points()) {
    std::vector<std::string> when = csv ? std::vector<std::string>{DateText(point.period().start(), true),
                                                                   DateText(point.period().end(), true)}
                                        : std::vector<std::string>{PeriodText(point.period())};
    for (const auto& v : point.values()) {
      t.AddRow(Cat(Cat(when, {v.indicator_id()}), ValueCells(v, UnitOf(definitions, v.indicator_id()), csv)));
    }
  }
  PrintTable(t, out);
  return 0;
}

int Rank(Client& client) {
  const Output out = OutputFlag();
  const std::string indicator = absl::GetFlag(FLAGS_indicator), methodology = absl::GetFlag(FLAGS_methodology);
  if (indicator.empty() == methodology.empty()) {
    throw CliError{"rank needs exactly one of --indicator ID (see 'pstrack indicator-list') and --methodology ID "
                   "(see 'pstrack methodologies')"};
  }
  v1::RankAgenciesRequest req;
  *req.mutable_parent() = ScopeFlag();
  req.set_level(static_cast<v1::AgencyLevel>(LevelFlag()));
  *req.mutable_period() = PeriodFlag();
  req.set_indicator_id(indicator);
  req.set_methodology_id(methodology);
  req.set_ascending(absl::GetFlag(FLAGS_ascending));
  v1::RankAgenciesResponse resp;
  client.Check(client.metrics().RankAgencies(client.Context().get(), req, &resp));
  if (out == Output::kJson) {
    std::cout << ToJson(resp);
    return 0;
  }
  const bool csv = out == Output::kCsv;
  // Rank 0 means "not ranked": the value is not available.
  auto rank = [&](int r) { return r > 0 ? absl::StrCat(r) : csv ? "" : "-"; };
  int unranked = 0;
  if (!indicator.empty()) {
    const std::string unit = UnitOf(FetchDefinitions(client), indicator);
    Table t(Cat(csv ? std::vector<std::string>{"rank", "agency_code", "agency_name", "indicator_id"}
                    : std::vector<std::string>{"RANK", "AGENCY", "NAME"},
                ValueHeader(csv)));
    if (!csv) t.SetMaxWidth(2, 40);
    for (const auto& e : resp.entries()) {
      std::vector<std::string> cells = {rank(e.rank()), e.agency_code(), e.agency_name()};
      if (csv) cells.push_back(indicator);
      t.AddRow(Cat(cells, ValueCells(e.value(), unit, csv)));
      unranked += e.rank() == 0;
    }
    PrintTable(t, out);
  } else {
    Table t(csv ? std::vector<std::string>{"rank", "agency_code", "agency_name", "methodology_id", "points",
                                           "max_points"}
                : std::vector<std::string>{"RANK", "AGENCY", "NAME", "POINTS", "OF"});
    if (!csv) t.SetMaxWidth(2, 40);
    for (const auto& e : resp.entries()) {
      if (csv) {
        t.AddRow({rank(e.rank()), e.agency_code(), e.agency_name(), methodology, RawNumber(e.score()),
                  RawNumber(e.value().denominator())});
      } else {
        t.AddRow({rank(e.rank()), e.agency_code(), e.agency_name(), NumberText(e.score()),
                  NumberText(e.value().denominator())});
      }
      unranked += e.rank() == 0;
    }
    PrintTable(t, out);
  }
  if (!csv) {
    std::cout << resp.entries_size() << " agencies";
    if (unranked > 0) std::cout << ", " << unranked << " not ranked (value not available)";
    std::cout << "\n";
  }
  return 0;
}

int Score(Client& client) {
  const Output out = OutputFlag();
  v1::ScoreIndexRequest req;
  *req.mutable_scope() = ScopeFlag();
  *req.mutable_period() = PeriodFlag();
  req.set_methodology_id(absl::GetFlag(FLAGS_methodology));
  v1::IndexScore score;
  client.Check(client.metrics().ScoreIndex(client.Context().get(), req, &score));
  if (out == Output::kJson) {
    std::cout << ToJson(score);
    return 0;
  }
  const bool csv = out == Output::kCsv;
  auto note = [](const v1::IndicatorValue& v) {
    if (!v.available()) return v.unavailable_reason();
    std::vector<std::string> external;
    for (const auto& s : v.sources()) {
      if (s.rfind("external:", 0) == 0) external.push_back(s);
    }
    return absl::StrJoin(external, "; ");
  };
  std::vector<std::string> unavailable;
  if (csv) {
    Table t({"row", "group_id", "indicator_id", "name", "input", "value", "available", "target", "rule", "points",
             "max_points", "note"});
    for (const auto& g : score.groups()) {
      t.AddRow({"group", g.id(), "", g.name(), "", "", "", "", "", RawNumber(g.points()), RawNumber(g.max_points()),
                ""});
      for (const auto& i : g.indicators()) {
        const bool ok = i.value().available();
        t.AddRow({"indicator", g.id(), i.id(), i.name(), i.input(), ok ? RawNumber(i.value().value()) : kNotAvailable,
                  ok ? "true" : "false", i.rule() == "linear_to_target" ? RawNumber(i.target()) : "", i.rule(),
                  ok ? RawNumber(i.points()) : kNotAvailable, RawNumber(i.max_points()), note(i.value())});
      }
    }
    t.AddRow({"total", "", "", score.methodology_id(), "", "", "", "", "", RawNumber(score.total_points()),
              RawNumber(score.max_points()), ""});
    t.AddRow({"unavailable", "", "", score.methodology_id(), "", "", "", "", "", RawNumber(score.unavailable_points()),
              "", "max points of the indicators whose input is missing, not counted as zero"});
    t.PrintCsv(std::cout);
    return 0;
  }
  std::cout << score.methodology_id() << ": " << ScopeText(score.scope(), score.period()) << "\n";
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
      if (!ok && i.max_points() > 0) unavailable.push_back(absl::StrCat(i.id(), " (", NumberText(i.max_points()), ")"));
      std::string target = i.rule() == "linear_to_target" ? PercentText(i.target())
                           : i.rule() == "bands"          ? "bands"
                                                          : "no points";
      std::string input = i.input();
      if (input.rfind("builtin:", 0) == 0) input = input.substr(8);
      t.AddRow({"", i.id(), i.name(), input, ok ? PercentText(i.value().value()) : kNotAvailable, target,
                ok ? NumberText(i.points()) : kNotAvailable, NumberText(i.max_points()), note(i.value())});
    }
  }
  t.Print(std::cout);
  std::cout << "total: " << NumberText(score.total_points()) << " of " << NumberText(score.max_points())
            << " points\n";
  if (score.unavailable_points() > 0) {
    std::cout << "unavailable: " << NumberText(score.unavailable_points())
              << " points not scored because an input is missing (not counted as zero): "
              << absl::StrJoin(unavailable, ", ") << "\n"
              << "so " << NumberText(score.total_points()) << " of the "
              << NumberText(score.max_points() - score.unavailable_points()) << " points that could be assessed\n";
  } else {
    std::cout << "unavailable: 0 points\n";
  }
  return 0;
}

int Methodologies(Client& client) {
  const Output out = OutputFlag();
  v1::ListMethodologiesRequest req;
  v1::ListMethodologiesResponse resp;
  client.Check(client.metrics().ListMethodologies(client.Context().get(), req, &resp));
  if (out == Output::kJson) {
    std::cout << ToJson(resp);
    return 0;
  }
  const bool csv = out == Output::kCsv;
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
  PrintTable(t, out);
  if (!csv) std::cout << resp.methodologies_size() << " methodologies; default " << resp.default_id() << "\n";
  return 0;
}

int IndicatorList(Client& client) {
  const Output out = OutputFlag();
  v1::ListIndicatorsRequest req;
  v1::ListIndicatorsResponse resp;
  client.Check(client.metrics().ListIndicators(client.Context().get(), req, &resp));
  if (out == Output::kJson) {
    std::cout << ToJson(resp);
    return 0;
  }
  const bool csv = out == Output::kCsv;
  Table t(csv ? std::vector<std::string>{"id", "name", "unit", "period_basis", "numerator", "denominator", "source"}
              : std::vector<std::string>{"ID", "NAME", "UNIT", "BASIS"});
  for (const auto& d : resp.indicators()) {
    if (csv) {
      t.AddRow({d.id(), d.name(), d.unit(), d.period_basis(), d.numerator(), d.denominator(), d.source()});
    } else {
      t.AddRow({d.id(), d.name(), d.unit(), d.period_basis()});
    }
  }
  PrintTable(t, out);
  if (!csv) std::cout << resp.indicators_size() << " indicators (formulas: docs/indicators.md, or --json)\n";
  return 0;
}

int ExternalSubmit(Client& client, const std::string& path) {
  const CsvTable table = OrDie(CsvTable::Parse(ReadFileOrDie(path), {"input_id", "agency_code", "indicator_id", "start",
                                                                    "end", "numerator", "denominator", "value",
                                                                    "source"}));
  // An empty cell is 0: a ratio leaves `value` empty, a plain value leaves
  // numerator and denominator empty.
  auto number = [](const CsvTable::Row& row, const char* column) -> absl::StatusOr<double> {
    const std::string text(absl::StripAsciiWhitespace(row.Get(column)));
    double out = 0;
    if (!text.empty() && !absl::SimpleAtod(text, &out)) {
      return absl::InvalidArgumentError(absl::StrCat(column, ": '", text, "' is not a number"));
    }
    return out;
  };
  constexpr int kChunk = 10000;  // the server's batch limit
  int local_rejects = 0;
  std::vector<v1::ItemResult> results;
  v1::SubmitExternalInputsRequest req;
  std::vector<int> lines;  // the file line of each input of `req`
  auto flush = [&] {
    if (req.inputs().empty()) return;
    v1::SubmitExternalInputsResponse resp;
    client.Check(client.metrics().SubmitExternalInputs(client.Context().get(), req, &resp));
    for (auto r : resp.results()) {
      if (r.index() >= 0 && static_cast<size_t>(r.index()) < lines.size()) r.set_source_line(lines[r.index()]);
      results.push_back(std::move(r));
    }
    req.Clear();
    lines.clear();
  };
  for (const auto& row : table.Rows()) {
    auto parsed = [&]() -> absl::StatusOr<v1::ExternalInput> {
      v1::ExternalInput in;
      in.set_input_id(std::string(row.Get("input_id")));
      in.set_agency_code(std::string(row.Get("agency_code")));
      in.set_indicator_id(std::string(row.Get("indicator_id")));
      PSTRACK_ASSIGN_OR_RETURN(Date start, ParseDate(row.Get("start"), "start"));
      PSTRACK_ASSIGN_OR_RETURN(Date end, ParseDate(row.Get("end"), "end"));
      DateToProto(start, in.mutable_period()->mutable_start());
      DateToProto(end, in.mutable_period()->mutable_end());
      PSTRACK_ASSIGN_OR_RETURN(double numerator, number(row, "numerator"));
      PSTRACK_ASSIGN_OR_RETURN(double denominator, number(row, "denominator"));
      PSTRACK_ASSIGN_OR_RETURN(double value, number(row, "value"));
      in.set_numerator(numerator);
      in.set_denominator(denominator);
      in.set_value(value);
      in.set_source(std::string(row.Get("source")));
      return in;
    }();
    if (!parsed.ok()) {
      std::cout << "line " << row.line << ": " << parsed.status().message() << "\n";
      ++local_rejects;
      continue;
    }
    *req.add_inputs() = *std::move(parsed);
    lines.push_back(row.line);
    if (req.inputs_size() == kChunk) flush();
  }
  flush();
  PrintImportResults(results, local_rejects, "external inputs");
  return local_rejects > 0 || std::any_of(results.begin(), results.end(), [](const v1::ItemResult& r) {
           return r.outcome() == v1::ItemResult::OUTCOME_REJECTED;
         })
             ? 1
             : 0;
}

// `check` exits 1 when the stored aggregates differ from the events, so that
// a scheduled job can alert on it.
int Aggregates(Client& client, bool repair) {
  v1::RebuildAggregatesRequest req;
  req.set_repair(repair);
  v1::RebuildAggregatesResponse resp;
  // Minutes on a large database: an hour unless --timeout says otherwise.
  client.Check(client.metrics().RebuildAggregates(client.Context(absl::Hours(1)).get(), req, &resp));
  const bool differ = resp.rows_differing() > 0;
  if (absl::GetFlag(FLAGS_json)) {
    std::cout << ToJson(resp);
  } else {
    std::cout << "dossiers replayed: " << resp.dossiers() << "\naggregate rows compared: " << resp.rows_compared()
              << "\nrows differing from the events: " << resp.rows_differing();
    if (differ) {
      std::cout << " (" << resp.rows_missing() << " missing, " << resp.rows_unexpected() << " not expected, "
                << resp.rows_changed() << " with other counts)";
    }
    std::cout << "\n";
    if (differ) {
      Table nodes({"node", "rows differing"});
      for (const auto& n : resp.nodes()) nodes.AddRow({n.key(), absl::StrCat(n.rows())});
      std::cout << "\nnodes with the most differing rows:\n";
      nodes.Print(std::cout);
      Table days({"day", "rows differing"});
      for (const auto& d : resp.days()) days.AddRow({d.key(), absl::StrCat(d.rows())});
      std::cout << "\ndays with the most differing rows:\n";
      days.Print(std::cout);
      Table samples({"node", "basis", "dimension", "value", "day", "counter", "events", "stored"});
      for (const auto& d : resp.samples()) {
        for (const auto& c : d.counters()) {
          samples.AddRow({d.node_code(), d.basis(), d.dimension(), d.dimension_value(), d.day(), c.counter(),
                       absl::StrCat(c.expected()), absl::StrCat(c.stored())});
        }
      }
      std::cout << "\nthe first differing rows:\n";
      samples.Print(std::cout);
    }
    if (resp.repaired()) {
      std::cout << "repaired: " << resp.rows_repaired() << " rows set to what the events give\n";
    } else if (differ) {
      std::cout << "the aggregates differ from the events; 'pstrack aggregates repair' fixes the rows that differ\n";
    } else {
      std::cout << "the aggregates match the events\n";
    }
  }
  return differ && !resp.repaired() ? 1 : 0;
}

std::string RoleText(int role) { return std::string(RoleName(static_cast<Role>(role))); }

std::string TimeText(const google::protobuf::Timestamp& t) {
  if (t.seconds() == 0 && t.nanos() == 0) return "";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", absl::FromUnixSeconds(t.seconds()), VietnamTimeZone());
}

int WhoAmI(Client& client) {
  v1::WhoAmIRequest req;
  v1::WhoAmIResponse resp;
  client.Check(client.admin().WhoAmI(client.Context().get(), req, &resp));
  if (absl::GetFlag(FLAGS_json)) {
    std::cout << ToJson(resp);
    return 0;
  }
  std::cout << "principal: " << resp.principal() << "\nname: " << resp.name() << "\nrole: " << RoleText(resp.role())
            << "\nscope: " << (resp.scope_agency_code().empty() ? "the whole country" : resp.scope_agency_code())
            << "\n";
  if (resp.authentication_disabled()) std::cout << "WARNING: the server runs without authentication\n";
  return 0;
}

int KeyCreate(Client& client) {
  v1::CreateApiKeyRequest req;
  v1::ApiKey* key = req.mutable_key();
  key->set_name(absl::GetFlag(FLAGS_name));
  if (absl::GetFlag(FLAGS_role).empty()) throw CliError{"key create needs --role centre|analyst|admin", 2};
  key->set_role(static_cast<v1::Role>(OrDie(ParseRole(absl::GetFlag(FLAGS_role), "--role"))));
  key->set_scope_agency_code(absl::GetFlag(FLAGS_scope));
  key->set_certificate_subject(absl::GetFlag(FLAGS_certificate_subject));
  key->set_certificate_only(absl::GetFlag(FLAGS_certificate_only));
  key->set_rate_limit_per_second(absl::GetFlag(FLAGS_rate));
  v1::CreateApiKeyResponse resp;
  client.Check(client.admin().CreateApiKey(client.Context().get(), req, &resp));
  if (absl::GetFlag(FLAGS_json)) {
    std::cout << ToJson(resp);
    return 0;
  }
  std::cout << "created " << RoleText(resp.key().role()) << " key " << resp.key().key_id() << " for '"
            << resp.key().name() << "'";
  if (!resp.key().scope_agency_code().empty()) std::cout << ", scope " << resp.key().scope_agency_code();
  std::cout << "\n";
  if (!resp.token().empty()) {
    std::cout << "token (shown once; pstrack keeps only a salted hash):\n" << resp.token() << "\n";
  } else {
    std::cout << "certificate-only identity: clients present a certificate named '"
              << resp.key().certificate_subject() << "'\n";
  }
  return 0;
}

int KeyList(Client& client) {
  const Output out = OutputFlag();
  v1::ListApiKeysRequest req;
  req.set_include_revoked(absl::GetFlag(FLAGS_all));
  if (!absl::GetFlag(FLAGS_role).empty()) {
    req.set_role(static_cast<v1::Role>(OrDie(ParseRole(absl::GetFlag(FLAGS_role), "--role"))));
  }
  v1::ListApiKeysResponse all;
  do {
    v1::ListApiKeysResponse page;
    client.Check(client.admin().ListApiKeys(client.Context().get(), req, &page));
    for (auto& k : *page.mutable_keys()) *all.add_keys() = std::move(k);
    req.set_page_token(page.next_page_token());
  } while (!req.page_token().empty());
  if (out == Output::kJson) {
    std::cout << ToJson(all);
    return 0;
  }
  Table t({"KEY ID", "ROLE", "SCOPE", "NAME", "CERTIFICATE", "RATE/S", "CREATED", "REVOKED"});
  for (const auto& k : all.keys()) {
    t.AddRow({k.key_id(), RoleText(k.role()), k.scope_agency_code().empty() ? "VN (all)" : k.scope_agency_code(),
              k.name(), k.certificate_subject() + (k.certificate_only() ? " (only)" : ""),
              k.rate_limit_per_second() > 0 ? RawNumber(k.rate_limit_per_second()) : "default",
              TimeText(k.create_time()) + " by " + k.created_by(),
              k.has_revoke_time() ? TimeText(k.revoke_time()) + " by " + k.revoked_by() : ""});
  }
  PrintTable(t, out);
  if (out != Output::kCsv) std::cout << all.keys_size() << " keys\n";
  return 0;
}

int KeyRevoke(Client& client, const std::string& key_id) {
  v1::RevokeApiKeyRequest req;
  req.set_key_id(key_id);
  v1::ApiKey resp;
  client.Check(client.admin().RevokeApiKey(client.Context().get(), req, &resp));
  if (absl::GetFlag(FLAGS_json)) {
    std::cout << ToJson(resp);
  } else {
    std::cout << "revoked key " << resp.key_id() << " ('" << resp.name() << "'); it is refused from now on\n";
  }
  return 0;
}

int AuditList(Client& client) {
  const Output out = OutputFlag();
  v1::ListAuditRecordsRequest req;
  req.set_principal(absl::GetFlag(FLAGS_principal));
  req.set_method(absl::GetFlag(FLAGS_method));
  req.set_failures_only(absl::GetFlag(FLAGS_failures));
  const int limit = absl::GetFlag(FLAGS_limit) > 0 ? absl::GetFlag(FLAGS_limit) : 100;
  v1::ListAuditRecordsResponse all;
  do {
    req.set_page_size(std::min(1000, limit - all.records_size()));
    v1::ListAuditRecordsResponse page;
    client.Check(client.admin().ListAuditRecords(client.Context().get(), req, &page));
    for (auto& r : *page.mutable_records()) *all.add_records() = std::move(r);
    req.set_page_token(page.next_page_token());
  } while (!req.page_token().empty() && all.records_size() < limit);
  if (out == Output::kJson) {
    std::cout << ToJson(all);
    return 0;
  }
  Table t({"ID", "TIME", "PRINCIPAL", "ROLE", "METHOD", "TARGET", "RESULT", "APPLIED", "UNCHANGED", "REJECTED", "MS"});
  if (out != Output::kCsv) {
    t.SetMaxWidth(5, 40);
    t.SetMaxWidth(6, 60);
  }
  for (const auto& r : all.records()) {
    std::string method = r.method().substr(r.method().rfind('.') + 1);
    t.AddRow({absl::StrCat(r.id()), TimeText(r.time()), r.principal(), RoleText(r.role()), method, r.target(),
              r.code() == 0 ? "OK" : absl::StrCat(Client::StatusName(static_cast<grpc::StatusCode>(r.code())), ": ",
                                                  r.message()),
              absl::StrCat(r.applied()), absl::StrCat(r.unchanged()), absl::StrCat(r.rejected()),
              absl::StrCat(r.duration_us() / 1000)});
  }
  PrintTable(t, out);
  if (out != Output::kCsv) std::cout << all.records_size() << " records\n";
  return 0;
}

int MethodologiesReload(Client& client) {
  v1::ReloadMethodologiesRequest req;
  v1::ReloadMethodologiesResponse resp;
  client.Check(client.admin().ReloadMethodologies(client.Context().get(), req, &resp));
  if (absl::GetFlag(FLAGS_json)) {
    std::cout << ToJson(resp);
  } else {
    std::cout << "reloaded " << resp.methodology_ids_size() << " methodologies (" << absl::StrJoin(resp.methodology_ids(), ", ")
              << "); default " << resp.default_id() << "\n";
  }
  return 0;
}

// ---- periodic reports, reconciliation, data quality ----

// report submit FILE.csv: a header naming PeriodicReport fields; an empty
// cell leaves a figure unreported (not 0).
int ReportSubmit(Client& client, const std::string& path) {
  const CsvTable table =
      OrDie(CsvTable::Parse(ReadFileOrDie(path), {"report_id", "agency_code", "period", "received", "finished"}));
  const google::protobuf::Descriptor* d = v1::PeriodicReport::descriptor();
  const google::protobuf::Reflection* reflection = v1::PeriodicReport::GetReflection();
  static const std::set<std::string> kText = {"report_id", "agency_code", "procedure_code", "field", "period", "source"};
  constexpr int kChunk = 10000;  // the server's batch limit
  int local_rejects = 0;
  std::vector<v1::ItemResult> results;
  v1::SubmitReportsRequest req;
  std::vector<int> lines;
  auto flush = [&] {
    if (req.reports().empty()) return;
    v1::SubmitReportsResponse resp;
    client.Check(client.reporting().SubmitReports(client.Context().get(), req, &resp));
    for (auto r : resp.results()) {
      if (r.index() >= 0 && static_cast<size_t>(r.index()) < lines.size()) r.set_source_line(lines[r.index()]);
      results.push_back(std::move(r));
    }
    req.Clear();
    lines.clear();
  };
  for (const auto& row : table.Rows()) {
    v1::PeriodicReport report;
    std::string error;
    for (const std::string& column : table.header()) {
      const google::protobuf::FieldDescriptor* f = d->FindFieldByName(column);
      const std::string cell(absl::StripAsciiWhitespace(row.Get(column)));
      if (f == nullptr || f->number() >= 30) {
        error = absl::StrCat(column, ": not a report column (see docs/api.md, PeriodicReport)");
        break;
      }
      if (kText.contains(column)) {
        reflection->SetString(&report, f, cell);
        continue;
      }
      if (cell.empty()) continue;  // not reported
      int64_t n = 0;
      if (!absl::SimpleAtoi(cell, &n)) {
        error = absl::StrCat(column, ": '", cell, "' is not a whole number");
        break;
      }
      reflection->SetInt64(&report, f, n);
    }
    if (!error.empty()) {
      std::cout << "line " << row.line << ": " << error << "\n";
      ++local_rejects;
      continue;
    }
    *req.add_reports() = std::move(report);
    lines.push_back(row.line);
    if (req.reports_size() == kChunk) flush();
  }
  flush();
  PrintImportResults(results, local_rejects, "reports");
  return local_rejects > 0 || std::any_of(results.begin(), results.end(), [](const v1::ItemResult& r) {
           return r.outcome() == v1::ItemResult::OUTCOME_REJECTED;
         });
}

// The figures a report gave, "received=40 online=10 ...".
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

void ReportRow(Table& t, const v1::PeriodicReport& r) {
  t.AddRow({r.report_id(), absl::StrCat(r.revision(), r.current() ? "" : " (superseded)"), r.agency_code(),
            r.procedure_code().empty() ? r.field() : r.procedure_code(), r.period(), FiguresText(r),
            InstantText(r.recorded_at())});
}

int ReportGet(Client& client, const std::string& id) {
  v1::GetReportRequest req;
  req.set_report_id(id);
  v1::GetReportResponse resp;
  client.Check(client.reporting().GetReport(client.Context().get(), req, &resp));
  if (absl::GetFlag(FLAGS_json)) {
    std::cout << ToJson(resp);
    return 0;
  }
  Table t({"REPORT", "REVISION", "AGENCY", "SUBJECT", "PERIOD", "FIGURES", "RECORDED"});
  ReportRow(t, resp.report());
  for (const auto& h : resp.history()) ReportRow(t, h);
  t.Print(std::cout);
  return 0;
}

int ReportList(Client& client) {
  v1::ListReportsRequest req;
  req.set_agency_code(absl::GetFlag(FLAGS_agency));
  if (!absl::GetFlag(FLAGS_period).empty() || !absl::GetFlag(FLAGS_from).empty()) *req.mutable_period() = PeriodFlag();
  req.set_page_size(1000);
  v1::ListReportsResponse all;
  const int limit = absl::GetFlag(FLAGS_limit);
  while (true) {
    v1::ListReportsResponse page;
    client.Check(client.reporting().ListReports(client.Context().get(), req, &page));
    for (auto& r : *page.mutable_reports()) {
      if (limit > 0 && all.reports_size() >= limit) break;
      *all.add_reports() = std::move(r);
    }
    if (page.next_page_token().empty() || (limit > 0 && all.reports_size() >= limit)) break;
    req.set_page_token(page.next_page_token());
  }
  if (absl::GetFlag(FLAGS_json)) {
    std::cout << ToJson(all);
    return 0;
  }
  Table t({"REPORT", "REVISION", "AGENCY", "SUBJECT", "PERIOD", "FIGURES", "RECORDED"});
  for (const auto& r : all.reports()) ReportRow(t, r);
  t.Print(std::cout);
  std::cout << all.reports_size() << " reports\n";
  return 0;
}

std::string DiffText(int64_t missing) {
  if (missing == 0) return "0";
  return missing > 0 ? absl::StrCat(missing, " missing") : absl::StrCat(-missing, " surplus");
}

int Reconcile(Client& client) {
  const Output out = OutputFlag();
  v1::ReconcileRequest req;
  *req.mutable_scope() = ScopeFlag();
  *req.mutable_period() = PeriodFlag();
  v1::ReconcileResponse resp;
  client.Check(client.reporting().Reconcile(client.Context().get(), req, &resp));
  if (out == Output::kJson) {
    std::cout << ToJson(resp);
    return 0;
  }
  const bool csv = out == Output::kCsv;
  Table t(csv ? std::vector<std::string>{"agency_code", "report_id", "revision", "subject", "period", "role",
                                         "part", "reported", "events", "missing"}
              : std::vector<std::string>{"AGENCY", "REPORT", "PERIOD", "ROLE", "PART", "REPORTED", "EVENTS",
                                         "DIFFERENCE", "COMPLETENESS"});
  for (const auto& row : resp.rows()) {
    const google::protobuf::Descriptor* d = v1::ReconciledFigures::descriptor();
    const google::protobuf::Reflection* reflection = v1::ReconciledFigures::GetReflection();
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
      t.AddRow({first ? row.agency_code() : "", first ? row.report_id() : "", first ? PeriodText(row.period()) : "",
                first ? row.role() : "", part, absl::StrCat(reported), absl::StrCat(events), DiffText(missing),
                first ? (row.completeness().available() ? PercentText(row.completeness().value()) : kNotAvailable)
                      : ""});
      first = false;
    }
  }
  PrintTable(t, out);
  if (!csv) {
    const auto& s = resp.sync_completeness();
    std::cout << "sync completeness (766 indicator 1.4): "
              << (s.available() ? absl::StrCat(PercentText(s.value()), " = ", NumberText(s.numerator()), " / ",
                                               NumberText(s.denominator()))
                                : absl::StrCat(kNotAvailable, " (", s.unavailable_reason(), ")"))
              << "\n";
  }
  return 0;
}

int Silent(Client& client) {
  const Output out = OutputFlag();
  v1::ListSilentAgenciesRequest req;
  *req.mutable_scope() = ScopeFlag();
  req.set_silent_working_days(absl::GetFlag(FLAGS_working_days));
  v1::ListSilentAgenciesResponse resp;
  client.Check(client.reporting().ListSilentAgencies(client.Context().get(), req, &resp));
  if (out == Output::kJson) {
    std::cout << ToJson(resp);
    return 0;
  }
  Table t(out == Output::kCsv ? std::vector<std::string>{"agency_code", "agency_name", "last_event_at",
                                                          "working_days_silent"}
                              : std::vector<std::string>{"AGENCY", "NAME", "LAST EVENT", "WORKING DAYS SILENT"});
  for (const auto& a : resp.agencies()) {
    t.AddRow({a.agency_code(), a.agency_name(), InstantText(a.last_event_at()), absl::StrCat(a.working_days_silent())});
  }
  PrintTable(t, out);
  if (out != Output::kCsv) std::cout << resp.agencies_size() << " silent agencies\n";
  return 0;
}

int Quality(Client& client) {
  const Output out = OutputFlag();
  static const std::map<std::string, v1::DataQualitySort> kSorts = {
      {"issues", v1::DATA_QUALITY_SORT_ISSUES},
      {"rejected", v1::DATA_QUALITY_SORT_REJECTED},
      {"late", v1::DATA_QUALITY_SORT_LATE_EVENTS},
      {"mismatches", v1::DATA_QUALITY_SORT_APPOINTMENT_MISMATCHES},
      {"overdue", v1::DATA_QUALITY_SORT_FAR_OVERDUE},
      {"code", v1::DATA_QUALITY_SORT_AGENCY_CODE}};
  v1::GetDataQualityRequest req;
  *req.mutable_scope() = ScopeFlag();
  *req.mutable_period() = PeriodFlag();
  const std::string sort = absl::GetFlag(FLAGS_sort);
  auto it = kSorts.find(sort.empty() ? "issues" : sort);
  if (it == kSorts.end()) throw CliError{"--sort: use issues, rejected, late, mismatches, overdue or code"};
  req.set_sort(it->second);
  req.set_ascending(absl::GetFlag(FLAGS_ascending));
  req.set_far_overdue_working_days(absl::GetFlag(FLAGS_far_overdue));
  req.set_page_size(1000);
  v1::GetDataQualityResponse all;
  const int limit = absl::GetFlag(FLAGS_limit);
  while (true) {
    v1::GetDataQualityResponse page;
    client.Check(client.reporting().GetDataQuality(client.Context().get(), req, &page));
    for (auto& r : *page.mutable_rows()) {
      if (limit > 0 && all.rows_size() >= limit) break;
      *all.add_rows() = std::move(r);
    }
    *all.mutable_total() = page.total();
    if (page.next_page_token().empty() || (limit > 0 && all.rows_size() >= limit)) break;
    req.set_page_token(page.next_page_token());
  }
  if (out == Output::kJson) {
    std::cout << ToJson(all);
    return 0;
  }
  const bool csv = out == Output::kCsv;
  Table t(csv ? std::vector<std::string>{"agency_code", "agency_name", "issues", "events_accepted", "events_rejected",
                                         "late_events", "appointment_mismatches", "dossiers_received",
                                         "far_overdue_open", "top_rejection", "last_event_at"}
              : std::vector<std::string>{"AGENCY", "NAME", "ISSUES", "ACCEPTED", "REJECTED", "LATE", "MISMATCHES",
                                         "RECEIVED", "FAR OVERDUE", "TOP REJECTION", "LAST EVENT"});
  auto add = [&](const v1::GetDataQualityResponse::Row& r, const std::string& code) {
    const std::string top = r.rejected_by_reason().empty()
                                ? ""
                                : absl::StrCat(r.rejected_by_reason(0).reason(), " (", r.rejected_by_reason(0).count(), ")");
    t.AddRow({code, r.agency_name(), absl::StrCat(r.issues()), absl::StrCat(r.events_accepted()),
              absl::StrCat(r.events_rejected()), absl::StrCat(r.late_events()), absl::StrCat(r.appointment_mismatches()),
              absl::StrCat(r.dossiers_received()), absl::StrCat(r.far_overdue_open()), top,
              r.has_last_event_at() ? InstantText(r.last_event_at()) : ""});
  };
  for (const auto& r : all.rows()) add(r, r.agency_code());
  if (!csv) add(all.total(), "TOTAL");
  PrintTable(t, out);
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
  } else if (noun == "indicators") {
    return need(1, "indicators --scope CODE --period P [flags]"), Indicators(client);
  } else if (noun == "breakdown") {
    return need(1, "breakdown --scope CODE --period P --by child|field|channel|procedure [flags]"), Breakdown(client);
  } else if (noun == "series") {
    return need(1, "series --scope CODE --period P --granularity day|month|quarter|year [flags]"), Series(client);
  } else if (noun == "rank") {
    return need(1, "rank --scope CODE --period P (--indicator ID | --methodology ID) [flags]"), Rank(client);
  } else if (noun == "score") {
    return need(1, "score --scope CODE --period P [--methodology ID]"), Score(client);
  } else if (noun == "methodologies") {
    if (verb == "reload") return need(2, "methodologies reload"), MethodologiesReload(client);
    return need(1, "methodologies"), Methodologies(client);
  } else if (noun == "whoami") {
    return need(1, "whoami"), WhoAmI(client);
  } else if (noun == "key" || noun == "keys") {
    if (verb == "create") return need(2, "key create --name TEXT --role ROLE [--scope CODE]"), KeyCreate(client);
    if (verb == "list") return need(2, "key list [--all] [--role ROLE]"), KeyList(client);
    if (verb == "revoke") return need(3, "key revoke KEY_ID"), KeyRevoke(client, args[2]);
  } else if (noun == "audit") {
    if (verb == "list") return need(2, "audit list [flags]"), AuditList(client);
  } else if (noun == "indicator-list") {
    return need(1, "indicator-list"), IndicatorList(client);
  } else if (noun == "external") {
    if (verb == "submit") return need(3, "external submit FILE.csv"), ExternalSubmit(client, args[2]);
  } else if (noun == "report" || noun == "reports") {
    if (verb == "submit") return need(3, "report submit FILE.csv"), ReportSubmit(client, args[2]);
    if (verb == "get") return need(3, "report get REPORT_ID"), ReportGet(client, args[2]);
    if (verb == "list") return need(2, "report list [--agency CODE] [--period P]"), ReportList(client);
  } else if (noun == "reconcile") {
    return need(1, "reconcile --scope CODE --period P"), Reconcile(client);
  } else if (noun == "silent") {
    return need(1, "silent --scope CODE [--working_days N]"), Silent(client);
  } else if (noun == "quality") {
    return need(1, "quality --scope CODE --period P [--sort S] [--ascending]"), Quality(client);
  } else if (noun == "aggregates") {
    if (verb == "check" || verb == "repair") return need(2, "aggregates check|repair"), Aggregates(client, verb == "repair");
  }
  throw CliError{absl::StrCat("unknown command '", absl::StrJoin(args, " "), "'; run 'pstrack help'"), 2};
}

}  // namespace
}  // namespace pstrack

int main(int argc, char** argv) {
  pstrack::SetUpUsage("pstrack", "tools/cli/main.cc");
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
