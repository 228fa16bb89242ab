// PstrackServer wires the store, the domain services and their gRPC adapters
// into one running gRPC server (with health checking and reflection). Used by
// pstrack-server's main and by the integration tests, so both run the same
// code. Start() returns a serving server; Shutdown() is safe from any thread
// except a signal handler.
#ifndef PSTRACK_SERVICES_SERVER_SERVER_H_
#define PSTRACK_SERVICES_SERVER_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/agencies/agency_registry.h"
#include "services/calendar/working_calendar.h"
#include "services/api/rpc_guard.h"
#include "services/catalog/catalog.h"
#include "services/metrics/methodology.h"
#include "services/security/access_control.h"
#include "storage/store.h"

namespace pstrack {

struct ServerOptions {
  // host:port; port 0 picks a free port (see PstrackServer::port()).
  std::string listen_address = "127.0.0.1:50051";
  // See OpenStore() for the accepted forms.
  std::string database_url = "sqlite:var/pstrack.db";
  StoreOptions store;
  // Largest RPC thread count (sync API; bounds concurrent handlers).
  int max_threads = 64;
  // Largest request accepted, in bytes (batch imports are large).
  int max_receive_message_bytes = 64 << 20;
  // Reference-data files that seed the database at start (what it lacks is
  // added, what it has is kept; LoadReferenceData): agencies first, then
  // the procedure catalog.
  std::vector<std::string> agency_files;
  std::vector<std::string> procedure_files;
  // Directory of per-year working-day calendars (YYYY.csv). Empty: the
  // rule-based calendar only (every year provisional).
  std::string calendar_dir = "data/calendar";
  // Directory of methodology files (*.txt). Empty: no index scores.
  std::string methodology_dir = "data/methodologies";
  // How far past the server's clock an event may be dated.
  absl::Duration clock_allowance = absl::Minutes(5);

  // Access control (docs/security.md). Authentication is on unless
  // `access.auth_disabled` (development only) is set.
  AccessOptions access;
  GuardOptions guard;
  // How long connections may wait in the listener's accept queue, none
  // accepted, before the server stops with a failure (ListenerWatch), and
  // what stops it (main: SIGTERM to itself, then exit status 1).
  absl::Duration listener_stall_limit = absl::Seconds(3);
  std::function<void()> on_listener_stalled;
  // A connection that has not finished its TLS handshake and sent HTTP/2's
  // preface and settings within this time is closed (a client that opens
  // sockets and sends nothing holds no descriptor for long).
  absl::Duration handshake_timeout = absl::Seconds(10);
  // A connection with no call open for this long is closed (clients
  // reconnect when they next call): idle descriptors go back.
  absl::Duration connection_idle_timeout = absl::Minutes(15);
  // HTTP/JSON gateway (services/http/http_gateway.h): host:port, empty for
  // none. It serves with the gRPC port's TLS files when they are set.
  std::string http_listen_address;
  int http_threads = 2;
  // Prometheus metrics (and /healthz, /readyz) alone on host:port, plaintext,
  // for a network the API's clients do not reach; empty: /metrics is on the
  // HTTP port (if any).
  std::string metrics_listen_address;
  // Register gRPC server reflection (open to anyone, like health checking,
  // which is always on for load balancers and orchestrators).
  bool reflection = true;

  // TLS for the gRPC port: PEM files. Without cert/key the port is
  // plaintext (keep it on loopback or behind a TLS-terminating proxy).
  struct Tls {
    std::string cert_file, key_file;
    // CA bundle that signs client certificates; enables mutual TLS.
    std::string client_ca_file;
    // With a client CA: true refuses clients without a certificate at the
    // handshake; false accepts them (they then need an API key).
    bool require_client_cert = false;
  } tls;
};

class PstrackServer {
 public:
  static absl::StatusOr<std::unique_ptr<PstrackServer>> Start(const ServerOptions& options);
  ~PstrackServer();

  int port() const;
  std::string address() const;  // "127.0.0.1:<port>"
  int http_port() const;        // 0 without the HTTP gateway
  int metrics_port() const;     // 0 without --metrics_listen
  Store& store();

  // Marks health NOT_SERVING, lets in-flight calls finish until `grace`
  // passes (then cancels them), and closes the database. Idempotent.
  void Shutdown(absl::Duration grace = absl::Seconds(10));
  // Blocks until Shutdown() has completed.
  void Wait();
  // Whether the server stopped itself on a failure (a stalled listener):
  // the process should exit non-zero.
  bool failed() const;
  // Reloads the methodology files; on any error keeps the loaded ones and
  // returns the error (file, line, reason).
  absl::StatusOr<std::shared_ptr<const MethodologyRegistry>> ReloadMethodologies();

  struct Impl;

 private:
  explicit PstrackServer(std::unique_ptr<Impl> impl);
  absl::Status StartHttp(const ServerOptions& options);
  void RegisterMetrics(const ServerOptions& options);
  std::unique_ptr<Impl> impl_;
};

// Seeds reference data from CSV files through the registries (keeping
// derived data in step with `calendar`, when given): an agency or procedure
// the database does not have yet is added; one it has is kept as it is
// there, whatever the file says, so that a restart never reverts what was
// changed through the API (importing a file through the API applies it).
// Logs a line per rejected row. Returns the number of rejected rows, or an
// error if a file cannot be read.
absl::StatusOr<int> LoadReferenceData(Store& store, const std::vector<std::string>& agency_files,
                                      const std::vector<std::string>& procedure_files,
                                      std::shared_ptr<const WorkingCalendar> calendar = nullptr);

// The hooks that keep dossier rows and aggregates in step with catalog
// changes and agency moves (services/filings/rederive.h).
ProcedureChangedHook ProcedureHook(std::shared_ptr<const WorkingCalendar> calendar);
SubtreeMovedHook MoveHook(std::shared_ptr<const WorkingCalendar> calendar);

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_SERVER_SERVER_H_
