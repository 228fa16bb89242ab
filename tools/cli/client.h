// The CLI's connection to a pstrack server: the options every command takes,
// the channel and stubs, and failed calls as messages a person can act on.
#ifndef PSTRACK_TOOLS_CLI_CLIENT_H_
#define PSTRACK_TOOLS_CLI_CLIENT_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "pstrack/v1/admin.grpc.pb.h"
#include "pstrack/v1/agency.grpc.pb.h"
#include "pstrack/v1/catalog.grpc.pb.h"
#include "pstrack/v1/filing.grpc.pb.h"
#include "pstrack/v1/metrics.grpc.pb.h"
#include "pstrack/v1/reporting.grpc.pb.h"
#include "tools/cli/options.h"

namespace pstrack::cli {

inline constexpr char kDefaultServer[] = "127.0.0.1:50051";

// --server, --api_key, --api_key_file, --tls_*, --timeout: every command
// takes them.
std::vector<OptionSpec> ConnectionOptionSpecs();

struct ConnectionOptions {
  std::string address;
  std::string api_key;
  std::string api_key_file;               // read when `api_key` is empty
  std::string tls_ca, tls_cert, tls_key;  // PEM files
  std::string tls_server_name;
  int timeout_seconds = 0;  // 0: the call's default
};

// The options of `args` with the environment's defaults: $PSTRACK_SERVER
// when --server is left at its default, $PSTRACK_API_KEY when --api_key is
// not given, $PSTRACK_API_KEY_FILE when --api_key_file is not.
ConnectionOptions ConnectionOptionsFromArgs(const Args& args);

// "NOT_FOUND" for grpc::StatusCode::NOT_FOUND.
std::string StatusName(grpc::StatusCode code);

class Client {
 public:
  // Opens the channel (lazily: nothing is sent yet). Fails if a TLS or key
  // file cannot be read, or with exit status 2 for --tls_cert without
  // --tls_ca.
  static absl::StatusOr<std::unique_ptr<Client>> Connect(const ConnectionOptions& options);

  // A context for one call: its deadline (--timeout, else `default_timeout`,
  // else 30 s) and the key as metadata.
  std::unique_ptr<grpc::ClientContext> NewContext(std::optional<absl::Duration> default_timeout = std::nullopt) const;

  // Runs `call(context)` (a stub method bound to its request and response)
  // and turns its failure into an error: exit status 2 when the server
  // cannot be reached or does not answer in time.
  template <typename Call>
  absl::Status Run(Call&& call, std::optional<absl::Duration> default_timeout = std::nullopt) const {
    std::unique_ptr<grpc::ClientContext> context = NewContext(default_timeout);
    return Check(call(context.get()));
  }

  absl::Status Check(const grpc::Status& status) const;

  v1::AgencyService::Stub& agencies() { return *agencies_; }
  v1::CatalogService::Stub& catalog() { return *catalog_; }
  v1::FilingService::Stub& filings() { return *filings_; }
  v1::MetricsService::Stub& metrics() { return *metrics_; }
  v1::ReportingService::Stub& reporting() { return *reporting_; }
  v1::AdminService::Stub& admin() { return *admin_; }

 private:
  Client(const ConnectionOptions& options, std::string token) : options_(options), token_(std::move(token)) {}

  ConnectionOptions options_;
  std::string token_;  // the API key sent with every call; empty for none
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::AgencyService::Stub> agencies_;
  std::unique_ptr<v1::CatalogService::Stub> catalog_;
  std::unique_ptr<v1::FilingService::Stub> filings_;
  std::unique_ptr<v1::MetricsService::Stub> metrics_;
  std::unique_ptr<v1::ReportingService::Stub> reporting_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
};

}  // namespace pstrack::cli

#endif  // PSTRACK_TOOLS_CLI_CLIENT_H_
