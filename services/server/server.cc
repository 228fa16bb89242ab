#include "services/server/server.h"

#include <algorithm>
#include <fstream>
#include <mutex>
#include <sstream>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/strings/str_split.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "services/server/listener_watch.h"
#include "grpcpp/resource_quota.h"
#include "pstrack/v1/filing.grpc.pb.h"
#include "pstrack/v1/metrics.grpc.pb.h"
#include "services/agencies/agency_csv.h"
#include "services/agencies/agency_registry.h"
#include "services/api/admin_service.h"
#include "services/api/agency_service.h"
#include "services/api/catalog_service.h"
#include "services/api/filing_service.h"
#include "services/api/malformed_requests.h"
#include "services/calendar/working_calendar.h"
#include "services/filings/filings.h"
#include "services/filings/rederive.h"
#include "services/api/metrics_service.h"
#include "services/api/reporting_service.h"
#include "services/common/change_feed.h"
#include "services/metrics/aggregate_maintenance.h"
#include "services/metrics/external_inputs.h"
#include "services/metrics/metrics.h"
#include "services/catalog/catalog.h"
#include "services/catalog/procedure_csv.h"
#include "services/common/build_info.h"
#include "services/common/log.h"
#include "services/common/status.h"
#include "services/common/telemetry.h"
#include "services/http/http_gateway.h"
#include "services/http/openapi.h"
#include "services/http/routes.h"
#include "services/server/tls_files.h"

namespace pstrack {

// Declared in the order Start builds them, so destroyed in reverse: the
// gRPC server first, then the adapters and use cases, the store last (its
// destructor closes it). An early return from Start therefore closes
// whatever it had opened, with no close path written by hand.
struct PstrackServer::Impl {
  std::shared_ptr<const WorkingCalendar> calendar;
  std::unique_ptr<Store> store;
  ChangeFeed changes;
  std::string methodology_dir;
  std::unique_ptr<AgencyRegistry> agencies;
  std::unique_ptr<Catalog> catalog;
  std::unique_ptr<Filings> filings;
  std::unique_ptr<Metrics> metrics;
  std::unique_ptr<ExternalInputs> external_inputs;
  std::unique_ptr<AggregateMaintenance> maintenance;
  std::unique_ptr<Reports> reports;
  std::unique_ptr<AccessControl> access;
  std::unique_ptr<RpcGuard> guard;
  std::unique_ptr<AgencyServiceImpl> agency_service;
  std::unique_ptr<CatalogServiceImpl> catalog_service;
  std::unique_ptr<FilingServiceImpl> filing_service;
  std::unique_ptr<MetricsServiceImpl> metrics_service;
  std::unique_ptr<ReportingServiceImpl> reporting_service;
  std::unique_ptr<AdminServiceImpl> admin_service;
  std::unique_ptr<grpc::Server> server;
  // Before the gRPC server in shutdown (its calls go to it).
  std::unique_ptr<http::HttpGateway> gateway;
  std::unique_ptr<http::HttpGateway> metrics_gateway;
  int port = 0;
  std::string host;
  std::atomic<bool> failed{false};
  std::unique_ptr<ListenerWatch> watch;
  absl::Mutex shutdown_mu;
  bool shut_down ABSL_GUARDED_BY(shutdown_mu) = false;
};

absl::StatusOr<std::shared_ptr<const MethodologyRegistry>> ReloadMethodologyDirectory(PstrackServer::Impl& impl);

namespace {

// Keeps the reflection plugin (registered process-wide) off one server.
class DisableReflection : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    plugins->erase(std::remove_if(plugins->begin(), plugins->end(),
                                  [](const auto& p) { return p->name() == "proto_server_reflection"; }),
                   plugins->end());
  }
};

absl::StatusOr<std::string> ReadFile(const std::string& path, absl::string_view what = "reference-data file") {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", what, " '", path, "'"));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Reads and checks the PEM files before gRPC sees them: gRPC reports any
// problem with them only as a port it could not add.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> Credentials(const ServerOptions::Tls& tls) {
  if (tls.cert_file.empty() && tls.key_file.empty()) {
    if (!tls.client_ca_file.empty()) {
      return absl::InvalidArgumentError("tls_client_ca needs tls_cert and tls_key (mutual TLS runs over TLS)");
    }
    if (tls.require_client_cert) {
      return absl::InvalidArgumentError(
          "tls_require_client_cert needs tls_cert, tls_key and tls_client_ca (client certificates are checked "
          "against that CA over TLS)");
    }
    return grpc::InsecureServerCredentials();
  }
  if (tls.cert_file.empty() || tls.key_file.empty()) {
    return absl::InvalidArgumentError("TLS needs both tls_cert and tls_key");
  }
  if (tls.require_client_cert && tls.client_ca_file.empty()) {
    return absl::InvalidArgumentError(
        "tls_require_client_cert needs tls_client_ca: without a CA no client certificate can be verified, and "
        "clients without one would be served");
  }
  grpc::SslServerCredentialsOptions options;
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  PSTRACK_ASSIGN_OR_RETURN(pair.private_key, ReadFile(tls.key_file, "TLS private key"));
  PSTRACK_ASSIGN_OR_RETURN(pair.cert_chain, ReadFile(tls.cert_file, "TLS certificate"));
  PSTRACK_RETURN_IF_ERROR(CheckKeyPair(pair.cert_chain, tls.cert_file, pair.private_key, tls.key_file));
  options.pem_key_cert_pairs.push_back(std::move(pair));
  if (tls.client_ca_file.empty()) {
    options.client_certificate_request = GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE;
  } else {
    PSTRACK_ASSIGN_OR_RETURN(options.pem_root_certs, ReadFile(tls.client_ca_file, "TLS client CA"));
    PSTRACK_RETURN_IF_ERROR(CheckCertificates(options.pem_root_certs, tls.client_ca_file, "TLS client CA"));
    options.client_certificate_request = tls.require_client_cert
                                             ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                                             : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(options);
}

}  // namespace

ProcedureChangedHook ProcedureHook(std::shared_ptr<const WorkingCalendar> calendar) {
  if (!calendar) return nullptr;
  return [calendar](CatalogWriter& tx, const Procedure& before, const Procedure& after) {
    return RederiveProcedure(WholeTransaction(tx), *calendar, before, after);
  };
}

SubtreeMovedHook MoveHook(std::shared_ptr<const WorkingCalendar> calendar) {
  if (!calendar) return nullptr;
  return [calendar](AgencyWriter& tx, absl::string_view old_path, absl::string_view new_path) {
    return RederiveMovedSubtree(WholeTransaction(tx), *calendar, old_path, new_path);
  };
}

namespace {

// The codes of `codes` the database already has, for either kind of
// reference record.
template <typename Record, typename Reader>
absl::StatusOr<absl::flat_hash_set<std::string>> Existing(
    Store& store, const std::vector<std::string>& codes,
    absl::StatusOr<std::vector<Record>> (Reader::*find)(const std::vector<std::string>&)) {
  absl::flat_hash_set<std::string> out;
  PSTRACK_RETURN_IF_ERROR(store.Read([&](ReadTransaction& tx) -> absl::Status {
    PSTRACK_ASSIGN_OR_RETURN(std::vector<Record> found, (static_cast<Reader&>(tx).*find)(codes));
    for (const Record& r : found) out.insert(r.code);
    return absl::OkStatus();
  }));
  return out;
}

}  // namespace

absl::StatusOr<int> LoadReferenceData(Store& store, const std::vector<std::string>& agency_files,
                                      const std::vector<std::string>& procedure_files,
                                      std::shared_ptr<const WorkingCalendar> calendar) {
  int rejected = 0;
  auto report = [&](const std::string& file, const std::vector<ItemOutcome>& outcomes, size_t kept) {
    BatchCounts c = CountOutcomes(outcomes);
    for (const auto& o : outcomes) {
      if (o.outcome == WriteOutcome::kRejected) {
        LogWarning(file, ":", o.source_line, ": ", o.status.message());
      }
    }
    LogInfo("loaded ", file, ": ", c.applied, " added, ", kept,
            " already in the database and kept as they are there (to apply the file's version, import it: "
            "'pstrack agency import' or 'pstrack procedure import'), ",
            c.rejected, " rejected");
    rejected += c.rejected;
  };
  // Each file: its rows parsed (bad rows reported and counted), those not
  // yet in the database imported.
  auto load = [&](const std::string& file, auto parse, auto item_of, auto code_of, auto existing_of,
                  auto import) -> absl::Status {
    PSTRACK_ASSIGN_OR_RETURN(std::string text, ReadFile(file));
    auto rows = parse(text);
    if (!rows.ok()) return absl::InvalidArgumentError(absl::StrCat(file, ": ", rows.status().message()));
    using Item = typename decltype(item_of(rows->front()))::value_type;
    std::vector<Item> items;
    std::vector<std::string> codes;
    for (auto& row : *rows) {
      absl::StatusOr<Item> item = item_of(row);
      if (!item.ok()) {
        LogWarning(file, ":", row.line, ": ", item.status().message());
        ++rejected;
        continue;
      }
      codes.push_back(code_of(*item));
      items.push_back(*std::move(item));
    }
    PSTRACK_ASSIGN_OR_RETURN(absl::flat_hash_set<std::string> existing, existing_of(codes));
    std::erase_if(items, [&](const Item& item) { return existing.contains(code_of(item)); });
    report(file, import(items), existing.size());
    return absl::OkStatus();
  };
  AgencyRegistry registry(store, MoveHook(calendar));
  for (const std::string& file : agency_files) {
    PSTRACK_RETURN_IF_ERROR(load(
        file, ParseAgencyCsv,
        [](const AgencyCsvRow& row) -> absl::StatusOr<AgencyImportItem> {
          if (!row.agency.ok()) return row.agency.status();
          return AgencyImportItem{*row.agency, row.line};
        },
        [](const AgencyImportItem& item) { return item.agency.code; },
        [&](const std::vector<std::string>& codes) {
          return Existing<Agency>(store, codes, &AgencyReader::FindAgencies);
        },
        [&](const std::vector<AgencyImportItem>& items) { return registry.Import(items); }));
  }
  Catalog catalog(store, ProcedureHook(calendar));
  for (const std::string& file : procedure_files) {
    PSTRACK_RETURN_IF_ERROR(load(
        file, ParseProcedureCsv,
        [](const ProcedureCsvRow& row) -> absl::StatusOr<ProcedureImportItem> {
          if (!row.procedure.ok()) return row.procedure.status();
          return ProcedureImportItem{*row.procedure, row.line};
        },
        [](const ProcedureImportItem& item) { return item.procedure.code; },
        [&](const std::vector<std::string>& codes) {
          return Existing<Procedure>(store, codes, &ProcedureReader::FindProcedures);
        },
        [&](const std::vector<ProcedureImportItem>& items) { return catalog.Import(items); }));
  }
  return rejected;
}

namespace {

// The published holiday calendars of `dir`, or the provisional rules alone.
absl::StatusOr<std::shared_ptr<const WorkingCalendar>> LoadCalendar(const std::string& dir) {
  if (dir.empty()) {
    LogWarning("no calendar directory: every year uses the provisional rule-based calendar");
    return std::make_shared<WorkingCalendar>(WorkingCalendar::RulesOnly());
  }
  PSTRACK_ASSIGN_OR_RETURN(WorkingCalendar loaded, WorkingCalendar::LoadDirectory(dir));
  auto calendar = std::make_shared<WorkingCalendar>(std::move(loaded));
  std::string years;
  for (int y : calendar->published_years()) absl::StrAppend(&years, years.empty() ? "" : ",", y);
  LogInfo("working-day calendar from ", dir, ": published years ", years.empty() ? "none" : years, ", version ",
          calendar->version());
  return calendar;
}

// The scoring methodologies of `dir` (none without one).
absl::StatusOr<std::shared_ptr<const MethodologyRegistry>> LoadMethodologies(const std::string& dir) {
  if (dir.empty()) return nullptr;
  PSTRACK_ASSIGN_OR_RETURN(MethodologyRegistry loaded, MethodologyRegistry::LoadDirectory(dir, BuiltinIndicatorIds()));
  auto registry = std::make_shared<const MethodologyRegistry>(std::move(loaded));
  LogInfo("methodologies from ", dir, ": default ", registry->default_id());
  return registry;
}

// The use cases over the store, and what a migration left them to do.
absl::Status BuildUseCases(PstrackServer::Impl& impl, const ServerOptions& options,
                           std::shared_ptr<const MethodologyRegistry> methodologies) {
  Store& store = *impl.store;
  impl.agencies = std::make_unique<AgencyRegistry>(store, MoveHook(impl.calendar));
  impl.catalog = std::make_unique<Catalog>(store, ProcedureHook(impl.calendar));
  impl.filings = std::make_unique<Filings>(store, impl.calendar, &impl.changes);
  impl.filings->set_clock_allowance(options.clock_allowance);
  // Batches and streams are acknowledged once in the event log; the
  // projection follows behind them.
  impl.filings->set_yield_to_writes(store.backend() == "sqlite");
  impl.filings->StartProjection();
  impl.metrics = std::make_unique<Metrics>(store, impl.calendar, std::move(methodologies));
  Metrics* metrics = impl.metrics.get();
  impl.external_inputs = std::make_unique<ExternalInputs>(store, [metrics] { return metrics->methodologies(); });
  impl.maintenance = std::make_unique<AggregateMaintenance>(store, impl.calendar);
  PSTRACK_RETURN_IF_ERROR(impl.maintenance->RunPendingMaintenance());
  impl.reports = std::make_unique<Reports>(store, *impl.metrics, impl.calendar, &impl.changes);
  return absl::OkStatus();
}

// Access control, the guard every call goes through, and the adapters.
void BuildServices(PstrackServer::Impl& impl, const ServerOptions& options) {
  impl.access = std::make_unique<AccessControl>(*impl.store, options.access);
  GuardOptions guard_options = options.guard;
  Filings* filings = impl.filings.get();
  guard_options.wait_for_projection = [filings](absl::Time deadline) { return filings->WaitForProjection(deadline); };
  guard_options.max_batch_request_bytes = static_cast<size_t>(options.max_receive_message_bytes);
  impl.guard = std::make_unique<RpcGuard>(*impl.access, guard_options);
  if (options.access.auth_disabled) {
    LogWarning("AUTHENTICATION IS DISABLED (--dev_no_auth): every caller is an admin. Never do this outside "
               "a developer machine.");
  } else {
    auto has_admin = impl.access->HasActiveAdmin();
    if (has_admin.ok() && !*has_admin) {
      LogWarning("no active admin API key: create one with 'pstrack-admin create-key --db <url> --role admin "
                 "--name <who>' (every call is refused without a key)");
    }
  }
  RpcGuard& guard = *impl.guard;
  impl.agency_service = std::make_unique<AgencyServiceImpl>(*impl.agencies, guard);
  impl.catalog_service = std::make_unique<CatalogServiceImpl>(*impl.catalog, guard);
  impl.filing_service = std::make_unique<FilingServiceImpl>(*impl.filings, guard);
  impl.metrics_service = std::make_unique<MetricsServiceImpl>(*impl.metrics, *impl.external_inputs,
                                                              *impl.maintenance, impl.changes, guard);
  impl.reporting_service = std::make_unique<ReportingServiceImpl>(*impl.reports, guard);
  AdminServiceImpl::Reloader reload;
  if (!impl.methodology_dir.empty()) {
    PstrackServer::Impl* raw = &impl;
    reload = [raw]() { return ReloadMethodologyDirectory(*raw); };
  }
  impl.admin_service = std::make_unique<AdminServiceImpl>(guard, std::move(reload));
}

// The gRPC server on the listening address, serving.
absl::Status Listen(PstrackServer::Impl& impl, const ServerOptions& options,
                    std::shared_ptr<grpc::ServerCredentials> credentials) {
  grpc::EnableDefaultHealthCheckService(true);
  static const bool reflection_plugin = [] {
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
    return true;
  }();
  (void)reflection_plugin;
  grpc::ServerBuilder builder;
  // Without this a second server on the same port would silently share it.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS,
                             static_cast<int>(absl::ToInt64Milliseconds(options.handshake_timeout)));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS,
                             static_cast<int>(absl::ToInt64Milliseconds(options.connection_idle_timeout)));
  if (!options.reflection) builder.SetOption(std::make_unique<DisableReflection>());
  builder.AddListeningPort(options.listen_address, credentials, &impl.port);
  grpc::ResourceQuota quota("pstrack");
  quota.SetMaxThreads(options.max_threads);
  builder.SetResourceQuota(quota);
  // gRPC's sync server keeps only max_pollers idle threads (default 2): a
  // thread that finishes a call beyond that exits, and the next call that
  // blocks (a group commit) makes it create one again. Under 64 concurrent
  // writers that was a thread created and destroyed per call, two thirds of
  // the server's time (pthread_create, munmap, TLB shootdowns). Idle threads
  // stay, up to the quota.
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 2);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, options.max_threads);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(MalformedRequestInterceptorFactory());
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  RouteProtobufLogs();
  builder.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  builder.SetMaxSendMessageSize(options.max_receive_message_bytes);
  builder.RegisterService(impl.agency_service.get());
  builder.RegisterService(impl.catalog_service.get());
  builder.RegisterService(impl.filing_service.get());
  builder.RegisterService(impl.metrics_service.get());
  builder.RegisterService(impl.reporting_service.get());
  builder.RegisterService(impl.admin_service.get());
  impl.server = builder.BuildAndStart();
  if (!impl.server || impl.port == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen_address, " (address in use or not valid)"));
  }
  std::vector<std::string> host_port = absl::StrSplit(options.listen_address, absl::MaxSplits(':', 1));
  impl.host =
      host_port[0] == "0.0.0.0" || host_port[0] == "[::]" || host_port[0].empty() ? "127.0.0.1" : host_port[0];
  impl.server->GetHealthCheckService()->SetServingStatus(true);
  ListenerWatch::Options watch;
  watch.port = impl.port;
  watch.max_threads = options.max_threads;
  watch.stall_limit = options.listener_stall_limit;
  watch.calls_in_flight = [&impl] { return impl.guard->calls_in_flight(); };
  // Shutdown stops the watch before it turns health NOT_SERVING for good.
  watch.set_serving = [&impl](bool serving) { impl.server->GetHealthCheckService()->SetServingStatus(serving); };
  watch.on_stalled = [&impl, stop = options.on_listener_stalled] {
    impl.failed = true;
    if (stop) stop();
  };
  impl.watch = std::make_unique<ListenerWatch>(std::move(watch));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<PstrackServer>> PstrackServer::Start(const ServerOptions& options) {
  auto impl = std::make_unique<Impl>();
  // TLS files first: a wrong one is named before the database is touched.
  PSTRACK_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials, Credentials(options.tls));
  PSTRACK_ASSIGN_OR_RETURN(impl->calendar, LoadCalendar(options.calendar_dir));
  PSTRACK_ASSIGN_OR_RETURN(impl->store, OpenStore(options.database_url, options.store));
  LogInfo("database ", impl->store->backend(), " at schema version ", impl->store->schema_version());
  PSTRACK_ASSIGN_OR_RETURN(int rejected, LoadReferenceData(*impl->store, options.agency_files,
                                                           options.procedure_files, impl->calendar));
  if (rejected > 0) LogWarning(rejected, " reference-data rows were rejected (see above)");
  impl->methodology_dir = options.methodology_dir;
  PSTRACK_ASSIGN_OR_RETURN(std::shared_ptr<const MethodologyRegistry> methodologies,
                           LoadMethodologies(options.methodology_dir));
  PSTRACK_RETURN_IF_ERROR(BuildUseCases(*impl, options, std::move(methodologies)));
  BuildServices(*impl, options);
  PSTRACK_RETURN_IF_ERROR(Listen(*impl, options, std::move(credentials)));
  LogInfo(VersionLine("pstrack-server"), " listening on ", options.listen_address, " (port ", impl->port, ", ",
          options.tls.cert_file.empty() ? "plaintext"
          : options.tls.client_ca_file.empty() ? "TLS"
                                               : "mutual TLS",
          options.access.auth_disabled ? ", NO AUTHENTICATION" : "", ")");
  std::unique_ptr<PstrackServer> server(new PstrackServer(std::move(impl)));
  server->RegisterMetrics(options);
  if (!options.http_listen_address.empty() || !options.metrics_listen_address.empty()) {
    absl::Status started = server->StartHttp(options);
    if (!started.ok()) {
      server->Shutdown(absl::ZeroDuration());
      return started;
    }
  }
  return server;
}

void PstrackServer::RegisterMetrics(const ServerOptions& options) {
  using telemetry::LabelValues;
  using Values = std::vector<std::pair<LabelValues, double>>;
  telemetry::Registry& r = telemetry::Registry::Global();
  telemetry::RegisterProcessMetrics(r);
  Impl* impl = impl_.get();
  r.Gauge("pstrack_build_info", "The server's version, source commit and build type (always 1).",
          {"version", "commit", "build_type", "backend"},
          [backend = std::string(impl->store->backend())] {
            return Values{{{std::string(ProjectVersion()), std::string(SourceCommit()), std::string(BuildType()),
                            backend},
                           1}};
          },
          impl);
  r.Gauge("pstrack_rpc_in_flight", "Unary calls running on the server's threads now (see --max_threads).", {},
          [impl] { return Values{{{}, static_cast<double>(impl->guard->calls_in_flight())}}; }, impl);
  r.Gauge("pstrack_streams_open", "Streams open now, by kind.", {"kind"},
          [impl] {
            const auto [client, server] = impl->guard->open_streams_by_kind();
            return Values{{{"event_stream"}, static_cast<double>(client)}, {{"watch"}, static_cast<double>(server)}};
          },
          impl);
  r.Gauge("pstrack_write_queue_depth", "Writes waiting for their group commit now, by queue.", {"queue"},
          [impl] {
            return Values{{{"events"}, static_cast<double>(impl->filings->write_queue_depth())},
                          {{"audit"}, static_cast<double>(impl->access->audit_queue_depth())}};
          },
          impl);
  r.Gauge("pstrack_projection_pending_events",
          "Events acknowledged (durable in the event log) and not yet in the figures.", {},
          [impl] {
            absl::StatusOr<LogState> log = impl->filings->Log();
            return log.ok() ? Values{{{}, static_cast<double>(log->pending)}} : Values{};
          },
          impl);
  r.Gauge("pstrack_database_bytes", "The database's size on disk, by file (SQLite: database and wal).", {"file"},
          [impl] {
            const Store::DiskUsage u = impl->store->disk_usage();
            Values out;
            if (u.database_bytes >= 0) out.push_back({{"database"}, static_cast<double>(u.database_bytes)});
            if (u.wal_bytes >= 0) out.push_back({{"wal"}, static_cast<double>(u.wal_bytes)});
            return out;
          },
          impl);
  r.Gauge("pstrack_http_connections_open", "HTTP connections open now (the HTTP/JSON gateway).", {},
          [impl] {
            return Values{{{}, static_cast<double>(impl->gateway ? impl->gateway->open_connections() : 0)}};
          },
          impl);
  (void)options;
}

absl::Status PstrackServer::StartHttp(const ServerOptions& options) {
  PSTRACK_ASSIGN_OR_RETURN(http::RouteTable routes, http::RouteTable::ForApi());
  http::GatewayOptions gateway;
  gateway.listen_address = options.http_listen_address;
  gateway.threads = options.http_threads;
  gateway.max_body_bytes = static_cast<size_t>(options.max_receive_message_bytes);
  gateway.tls = {options.tls.cert_file, options.tls.key_file, options.tls.client_ca_file,
                 options.tls.require_client_cert};
  PSTRACK_ASSIGN_OR_RETURN(gateway.openapi_json, http::OpenApiJson(routes, std::string(ProjectVersion())));
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  args.SetMaxSendMessageSize(options.max_receive_message_bytes);
  if (!options.http_listen_address.empty()) {
    PSTRACK_ASSIGN_OR_RETURN(impl_->gateway,
                             http::HttpGateway::Start(gateway, impl_->server->InProcessChannel(args)));
    LogInfo("HTTP/JSON on ", options.http_listen_address, " (port ", impl_->gateway->port(), ", ",
            options.tls.cert_file.empty() ? "plaintext" : "TLS", ")");
  }
  if (!options.metrics_listen_address.empty()) {
    http::GatewayOptions metrics = gateway;
    metrics.listen_address = options.metrics_listen_address;
    metrics.serve_api = false;
    metrics.threads = 1;
    metrics.tls = {};
    metrics.openapi_json.clear();
    PSTRACK_ASSIGN_OR_RETURN(impl_->metrics_gateway,
                             http::HttpGateway::Start(metrics, impl_->server->InProcessChannel(args)));
    LogInfo("metrics on ", options.metrics_listen_address, " (port ", impl_->metrics_gateway->port(),
            ", plaintext): /metrics, /healthz, /readyz");
  }
  return absl::OkStatus();
}

PstrackServer::PstrackServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

PstrackServer::~PstrackServer() { Shutdown(absl::Seconds(5)); }

int PstrackServer::port() const { return impl_->port; }
int PstrackServer::http_port() const { return impl_->gateway ? impl_->gateway->port() : 0; }
int PstrackServer::metrics_port() const { return impl_->metrics_gateway ? impl_->metrics_gateway->port() : 0; }
bool PstrackServer::failed() const { return impl_->failed; }
std::string PstrackServer::address() const { return absl::StrCat(impl_->host, ":", impl_->port); }
Store& PstrackServer::store() { return *impl_->store; }

void PstrackServer::Shutdown(absl::Duration grace) {
  absl::MutexLock lock(&impl_->shutdown_mu);
  if (impl_->shut_down) return;
  impl_->shut_down = true;
  LogInfo("shutting down: health NOT_SERVING, draining in-flight calls");
  impl_->watch.reset();
  impl_->server->GetHealthCheckService()->SetServingStatus(false);
  const absl::Time deadline = absl::Now() + grace;
  telemetry::Registry::Global().RemoveGauges(impl_.get());
  if (impl_->gateway) {
    impl_->gateway->Shutdown(grace);
    impl_->gateway.reset();
  }
  if (impl_->metrics_gateway) {
    impl_->metrics_gateway->Shutdown(absl::ZeroDuration());
    impl_->metrics_gateway.reset();
  }
  impl_->server->Shutdown(absl::ToChronoTime(std::max(deadline, absl::Now())));
  impl_->server->Wait();
  impl_->filings->StopProjection();
  impl_->store->Close();
  LogInfo("stopped: database closed");
}

void PstrackServer::Wait() { impl_->server->Wait(); }

absl::StatusOr<std::shared_ptr<const MethodologyRegistry>> PstrackServer::ReloadMethodologies() {
  return ReloadMethodologyDirectory(*impl_);
}

absl::StatusOr<std::shared_ptr<const MethodologyRegistry>> ReloadMethodologyDirectory(PstrackServer::Impl& impl) {
  if (impl.methodology_dir.empty()) return absl::FailedPreconditionError("no methodology directory configured");
  auto loaded = MethodologyRegistry::LoadDirectory(impl.methodology_dir, BuiltinIndicatorIds());
  if (!loaded.ok()) {
    LogError("methodology reload failed, keeping the loaded ones: ", loaded.status().message());
    return loaded.status();
  }
  auto registry = std::make_shared<const MethodologyRegistry>(*std::move(loaded));
  LogInfo("methodologies reloaded: default ", registry->default_id());
  impl.metrics->SetMethodologies(registry);
  return registry;
}

}  // namespace pstrack
