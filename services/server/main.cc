// pstrack-server: the gRPC server. Flags are listed with --help.
#include <sys/resource.h>
#include <unistd.h>
#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "grpc/support/log.h"
#include "services/common/build_info.h"
#include "services/common/log.h"
#include "services/common/usage.h"
#include "services/http/openapi.h"
#include "services/http/routes.h"
#include "services/server/server.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051", "Address to listen on, host:port (0.0.0.0:50051 for all interfaces)");
ABSL_FLAG(std::string, http_listen, "",
          "Also serve the API as HTTP/JSON on host:port (docs/api.md); with the gRPC port's TLS files if set");
ABSL_FLAG(std::string, metrics_listen, "",
          "Serve Prometheus metrics (/metrics, with /healthz and /readyz) alone on host:port, plaintext; "
          "without it /metrics is on the --http_listen port");
ABSL_FLAG(int, http_threads, 2, "Threads of the HTTP/JSON gateway (it waits on nothing: 1-2 suffice)");
ABSL_FLAG(bool, print_openapi, false, "Print the HTTP/JSON API's OpenAPI document (docs/openapi.json) and exit");
ABSL_FLAG(std::string, db, "", "Database URL: sqlite:///path/file.db or postgresql://user@host:port/db. "
                               "Default: a SQLite file pstrack.db in --data_dir");
ABSL_FLAG(std::string, data_dir, "var", "Directory for the default SQLite database (created if missing)");
ABSL_FLAG(std::vector<std::string>, agencies, {}, "Agency reference-data CSV files to load at start (comma-separated)");
ABSL_FLAG(std::vector<std::string>, procedures, {}, "Procedure catalog CSV files to load at start (comma-separated)");
ABSL_FLAG(std::string, calendar_dir, "data/calendar",
          "Directory of per-year working-day calendars (YYYY.csv); empty for the rule-based calendar only");
ABSL_FLAG(std::string, methodology_dir, "data/methodologies",
          "Directory of index methodology files (*.txt); reloaded on SIGHUP (a bad file keeps the loaded ones)");
ABSL_FLAG(int, max_threads, 64, "Largest number of threads serving RPCs");
ABSL_FLAG(int, read_connections, 4, "Database connections used for reads");
ABSL_FLAG(int, reader_cache_mib, 16, "SQLite: page cache of each reading connection (MiB)");
ABSL_FLAG(int, wal_limit_mib, 256,
          "SQLite: size of the write-ahead log past which a blocking checkpoint empties it (writers wait)");
ABSL_FLAG(int, long_snapshot_wal_mib, 8192,
          "SQLite: how far the write-ahead log may grow during the aggregate check (it holds one snapshot, so the "
          "log cannot be emptied meanwhile) before the check gives up with RESOURCE_EXHAUSTED; 0 = no limit");
ABSL_FLAG(int, max_db_mib, 0,
          "SQLite: largest size of the database file in MiB (0 = the disk's); writes past it are refused with "
          "RESOURCE_EXHAUSTED, as on a full disk");
ABSL_FLAG(int, shutdown_grace_seconds, 10, "How long in-flight calls may run after SIGTERM");
ABSL_FLAG(bool, dev_no_auth, false,
          "DEVELOPMENT ONLY: serve every call without authentication, as an admin (a warning is logged)");
ABSL_FLAG(double, rate_limit, 200, "Requests per second per API key when the key sets none; 0 = unlimited");
ABSL_FLAG(double, rate_burst_seconds, 2, "Burst allowance, in seconds of the rate limit");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate chain for TLS on the gRPC port");
ABSL_FLAG(std::string, tls_key, "", "PEM private key for TLS on the gRPC port");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA bundle for client certificates (mutual TLS); a verified certificate registered on a key "
          "identifies the caller");
ABSL_FLAG(bool, tls_require_client_cert, false, "With --tls_client_ca: refuse clients without a certificate");
ABSL_FLAG(bool, reflection, true, "Serve gRPC reflection (open, like health checking)");
ABSL_FLAG(int, max_message_mb, 64, "Largest request or response message, in MiB");
ABSL_FLAG(int, max_call_seconds, 300, "Deadline given to unary calls that arrive without one");
ABSL_FLAG(int, max_streams_per_key, 16, "Streams (watches, event streams) one caller may have open at once");
ABSL_FLAG(absl::Duration, max_stream_age, absl::Hours(1), "A stream older than this is ended (the client reconnects)");
ABSL_FLAG(absl::Duration, handshake_timeout, absl::Seconds(10),
          "A connection that has not finished its TLS and HTTP/2 handshake in this time is closed");
ABSL_FLAG(absl::Duration, connection_idle_timeout, absl::Minutes(15),
          "A connection with no call open for this long is closed (clients reconnect)");
ABSL_FLAG(absl::Duration, stream_idle_timeout, absl::Minutes(5),
          "An event stream that sends nothing for this long is ended");
ABSL_FLAG(absl::Duration, clock_allowance, absl::Minutes(5),
          "How far past the server's clock an event may be dated (clocks of centres' systems drift), e.g. 5m");
ABSL_FLAG(std::string, log_format, "text",
          "Log lines as text or json (one JSON object per line: time, level, message, method, code, duration_ms, "
          "key_id, request_id)");
ABSL_FLAG(std::string, log_requests, "all",
          "Which calls write a line when they end: all, failures (any status but OK) or none");

int main(int argc, char** argv) {
  pstrack::SetUpUsage("pstrack-server", "services/server/main.cc");
  absl::SetProgramUsageMessage("pstrack-server: public-service tracking gRPC server. See README.md.");
  absl::ParseCommandLine(argc, argv);
  pstrack::LogFormat log_format;
  if (!pstrack::ParseLogFormat(absl::GetFlag(FLAGS_log_format), &log_format)) {
    pstrack::LogError("cannot start: --log_format must be text or json, not \"", absl::GetFlag(FLAGS_log_format), "\"");
    return 2;
  }
  pstrack::SetLogFormat(log_format);
  // gRPC's own lines (connection errors, assertions) in the same format.
  gpr_set_log_function([](gpr_log_func_args* args) {
    const pstrack::LogLevel level =
        args->severity == GPR_LOG_SEVERITY_ERROR ? pstrack::LogLevel::kError : pstrack::LogLevel::kInfo;
    pstrack::LogLine(level, absl::StrCat("grpc: ", args->message, " (", args->file, ":", args->line, ")"));
  });
  if (absl::GetFlag(FLAGS_print_openapi)) {
    auto routes = pstrack::http::RouteTable::ForApi();
    auto doc = routes.ok() ? pstrack::http::OpenApiJson(*routes, std::string(pstrack::ProjectVersion()))
                           : absl::StatusOr<std::string>(routes.status());
    if (!doc.ok()) {
      pstrack::LogError("cannot make the OpenAPI document: ", doc.status().message());
      return 1;
    }
    fwrite(doc->data(), 1, doc->size(), stdout);
    return 0;
  }

  // Block SIGINT/SIGTERM in every thread; a watcher thread waits for them so
  // that shutdown runs outside a signal handler.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  pstrack::ServerOptions options;
  options.listen_address = absl::GetFlag(FLAGS_listen);
  options.http_listen_address = absl::GetFlag(FLAGS_http_listen);
  options.http_threads = absl::GetFlag(FLAGS_http_threads);
  options.metrics_listen_address = absl::GetFlag(FLAGS_metrics_listen);
  options.database_url = absl::GetFlag(FLAGS_db);
  if (options.database_url.empty()) {
    options.database_url = absl::StrCat("sqlite:", absl::GetFlag(FLAGS_data_dir), "/pstrack.db");
  }
  options.agency_files = absl::GetFlag(FLAGS_agencies);
  options.procedure_files = absl::GetFlag(FLAGS_procedures);
  options.max_threads = absl::GetFlag(FLAGS_max_threads);
  options.calendar_dir = absl::GetFlag(FLAGS_calendar_dir);
  options.methodology_dir = absl::GetFlag(FLAGS_methodology_dir);
  options.store.read_connections = absl::GetFlag(FLAGS_read_connections);
  options.store.reader_cache_mib = absl::GetFlag(FLAGS_reader_cache_mib);
  options.store.wal_limit_mib = absl::GetFlag(FLAGS_wal_limit_mib);
  options.store.max_database_mib = absl::GetFlag(FLAGS_max_db_mib);
  options.store.long_snapshot_wal_mib = absl::GetFlag(FLAGS_long_snapshot_wal_mib);
  options.access.auth_disabled = absl::GetFlag(FLAGS_dev_no_auth);
  options.access.default_rate_per_second = absl::GetFlag(FLAGS_rate_limit);
  options.access.burst_seconds = absl::GetFlag(FLAGS_rate_burst_seconds);
  options.tls.cert_file = absl::GetFlag(FLAGS_tls_cert);
  options.tls.key_file = absl::GetFlag(FLAGS_tls_key);
  options.tls.client_ca_file = absl::GetFlag(FLAGS_tls_client_ca);
  options.tls.require_client_cert = absl::GetFlag(FLAGS_tls_require_client_cert);
  options.reflection = absl::GetFlag(FLAGS_reflection);
  options.max_receive_message_bytes = absl::GetFlag(FLAGS_max_message_mb) << 20;
  options.guard.max_call_duration = absl::Seconds(absl::GetFlag(FLAGS_max_call_seconds));
  options.clock_allowance = absl::GetFlag(FLAGS_clock_allowance);
  options.guard.max_streams_per_caller = absl::GetFlag(FLAGS_max_streams_per_key);
  options.guard.max_stream_age = absl::GetFlag(FLAGS_max_stream_age);
  options.guard.stream_idle_timeout = absl::GetFlag(FLAGS_stream_idle_timeout);
  options.handshake_timeout = absl::GetFlag(FLAGS_handshake_timeout);
  if (const std::string requests = absl::GetFlag(FLAGS_log_requests); requests == "all") {
    options.guard.request_log = pstrack::RequestLog::kAll;
  } else if (requests == "failures") {
    options.guard.request_log = pstrack::RequestLog::kFailures;
  } else if (requests == "none") {
    options.guard.request_log = pstrack::RequestLog::kNone;
  } else {
    pstrack::LogError("cannot start: --log_requests must be all, failures or none, not \"", requests, "\"");
    return 2;
  }
  options.connection_idle_timeout = absl::GetFlag(FLAGS_connection_idle_timeout);
  if (absl::GetFlag(FLAGS_max_message_mb) < 1 || absl::GetFlag(FLAGS_max_message_mb) > 1024 ||
      absl::GetFlag(FLAGS_max_call_seconds) < 1 || absl::GetFlag(FLAGS_rate_limit) < 0 ||
      absl::GetFlag(FLAGS_wal_limit_mib) < 1 || absl::GetFlag(FLAGS_reader_cache_mib) < 1 ||
      absl::GetFlag(FLAGS_max_db_mib) < 0 || absl::GetFlag(FLAGS_long_snapshot_wal_mib) < 0 ||
      absl::GetFlag(FLAGS_clock_allowance) < absl::ZeroDuration() || absl::GetFlag(FLAGS_max_streams_per_key) < 1 ||
      absl::GetFlag(FLAGS_http_threads) < 1 || absl::GetFlag(FLAGS_http_threads) > 64 ||
      absl::GetFlag(FLAGS_max_stream_age) <= absl::ZeroDuration() ||
      absl::GetFlag(FLAGS_stream_idle_timeout) <= absl::ZeroDuration() ||
      absl::GetFlag(FLAGS_handshake_timeout) <= absl::ZeroDuration() ||
      absl::GetFlag(FLAGS_handshake_timeout) > absl::Hours(1) ||
      absl::GetFlag(FLAGS_connection_idle_timeout) <= absl::ZeroDuration() ||
      absl::GetFlag(FLAGS_connection_idle_timeout) > absl::Hours(24 * 20)) {
    pstrack::LogError("cannot start: --max_message_mb must be 1..1024, --max_call_seconds at least 1, "
                      "--rate_limit, --max_db_mib, --long_snapshot_wal_mib and --clock_allowance not negative, "
                      "--wal_limit_mib, --reader_cache_mib and --max_streams_per_key at least 1, "
                      "--max_stream_age and --stream_idle_timeout positive, --http_threads 1..64, --handshake_timeout positive "
                      "up to 1h, --connection_idle_timeout positive up to 20 days");
    return 2;
  }

  // Every client connection is a descriptor: the soft limit (often 1,024)
  // goes up to the hard one.
  if (rlimit files{}; getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    const rlim_t soft = files.rlim_cur;
    files.rlim_cur = files.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &files) == 0) {
      pstrack::LogInfo("open-file limit raised from ", soft, " to ", files.rlim_max);
    }
  }
  // A stalled listener (ListenerWatch) stops the server as SIGTERM does,
  // and the process then exits with status 1.
  options.on_listener_stalled = [] { kill(getpid(), SIGTERM); };

  auto server = pstrack::PstrackServer::Start(options);
  if (!server.ok()) {
    pstrack::LogError("cannot start: ", server.status().message());
    return 1;
  }
  std::thread watcher([&] {
    int sig = 0;
    while (sigwait(&signals, &sig) == 0 && sig == SIGHUP) {
      pstrack::LogInfo("received SIGHUP: reloading methodologies");
      (void)(*server)->ReloadMethodologies().status();
    }
    pstrack::LogInfo("received ", sig == SIGINT ? "SIGINT" : "SIGTERM");
    (*server)->Shutdown(absl::Seconds(absl::GetFlag(FLAGS_shutdown_grace_seconds)));
  });
  (*server)->Wait();
  watcher.join();
  const bool failed = (*server)->failed();
  server->reset();
  return failed ? 1 : 0;
}
