#include "tools/cli/client.h"

#include <cstdlib>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "tools/cli/exit_code.h"
#include "tools/cli/inputs.h"

namespace pstrack::cli {
namespace {

std::string FromEnvironment(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

// --api_key, $PSTRACK_API_KEY, then the file.
absl::StatusOr<std::string> ApiKey(const ConnectionOptions& options) {
  std::string key = options.api_key;
  if (key.empty() && !options.api_key_file.empty()) {
    absl::StatusOr<std::string> text = ReadFile(options.api_key_file);
    if (!text.ok()) return text.status();
    key = *std::move(text);
  }
  return std::string(absl::StripAsciiWhitespace(key));
}

}  // namespace

std::vector<OptionSpec> ConnectionOptionSpecs() {
  return {
      StringOption("server", "HOST:PORT", "pstrack server address (env PSTRACK_SERVER)", kDefaultServer),
      StringOption("api_key", "KEY",
                   "API key (pst_...); default $PSTRACK_API_KEY, or the file named by --api_key_file"),
      StringOption("api_key_file", "FILE", "File holding the API key (default $PSTRACK_API_KEY_FILE)"),
      StringOption("tls_ca", "CA.pem", "Connect with TLS, trusting this PEM CA bundle (default: plaintext)"),
      StringOption("tls_cert", "C.pem", "Client certificate (PEM) for mutual TLS"),
      StringOption("tls_key", "K.pem", "Client private key (PEM) for mutual TLS"),
      StringOption("tls_server_name", "NAME", "Expected server name in its certificate (default: the host)"),
      IntOption("timeout", "SECONDS",
                "Seconds to wait for each call (0: 30 s; an hour for aggregates check and repair)"),
  };
}

ConnectionOptions ConnectionOptionsFromArgs(const Args& args) {
  ConnectionOptions options;
  options.address = args.String("server");
  if (std::string env = FromEnvironment("PSTRACK_SERVER"); !env.empty() && options.address == kDefaultServer) {
    options.address = env;
  }
  options.api_key = args.String("api_key");
  if (options.api_key.empty()) options.api_key = FromEnvironment("PSTRACK_API_KEY");
  options.api_key_file = args.String("api_key_file");
  if (options.api_key_file.empty()) options.api_key_file = FromEnvironment("PSTRACK_API_KEY_FILE");
  options.tls_ca = args.String("tls_ca");
  options.tls_cert = args.String("tls_cert");
  options.tls_key = args.String("tls_key");
  options.tls_server_name = args.String("tls_server_name");
  options.timeout_seconds = args.Int("timeout");
  return options;
}

std::string StatusName(grpc::StatusCode code) {
  static const char* kNames[] = {
      "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
      "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
      "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
      "DATA_LOSS", "UNAUTHENTICATED"};
  const int c = static_cast<int>(code);
  return c >= 0 && c <= 16 ? kNames[c] : "ERROR";
}

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(const ConnectionOptions& options) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  args.SetMaxSendMessageSize(64 << 20);
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (!options.tls_ca.empty()) {
    grpc::SslCredentialsOptions tls;
    absl::StatusOr<std::string> ca = ReadFile(options.tls_ca);
    if (!ca.ok()) return ca.status();
    tls.pem_root_certs = *std::move(ca);
    if (!options.tls_cert.empty()) {
      absl::StatusOr<std::string> cert = ReadFile(options.tls_cert);
      if (!cert.ok()) return cert.status();
      absl::StatusOr<std::string> key = ReadFile(options.tls_key);
      if (!key.ok()) return key.status();
      tls.pem_cert_chain = *std::move(cert);
      tls.pem_private_key = *std::move(key);
    }
    credentials = grpc::SslCredentials(tls);
    if (!options.tls_server_name.empty()) args.SetSslTargetNameOverride(options.tls_server_name);
  } else if (!options.tls_cert.empty()) {
    return WithExitCode(
        absl::InvalidArgumentError("--tls_cert needs --tls_ca (the CA that signed the server's certificate)"),
        kExitUsage);
  }
  absl::StatusOr<std::string> token = ApiKey(options);
  if (!token.ok()) return token.status();
  std::unique_ptr<Client> client(new Client(options, *std::move(token)));
  client->channel_ = grpc::CreateCustomChannel(options.address, credentials, args);
  client->admin_ = v1::AdminService::NewStub(client->channel_);
  client->agencies_ = v1::AgencyService::NewStub(client->channel_);
  client->catalog_ = v1::CatalogService::NewStub(client->channel_);
  client->filings_ = v1::FilingService::NewStub(client->channel_);
  client->metrics_ = v1::MetricsService::NewStub(client->channel_);
  client->reporting_ = v1::ReportingService::NewStub(client->channel_);
  return client;
}

std::unique_ptr<grpc::ClientContext> Client::NewContext(std::optional<absl::Duration> default_timeout) const {
  auto context = std::make_unique<grpc::ClientContext>();
  const int seconds = options_.timeout_seconds;
  const absl::Duration timeout = seconds > 0 ? absl::Seconds(seconds) : default_timeout.value_or(absl::Seconds(30));
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  // Sent as metadata on plaintext and TLS channels alike.
  if (!token_.empty()) context->AddMetadata("authorization", absl::StrCat("Bearer ", token_));
  return context;
}

absl::Status Client::Check(const grpc::Status& status) const {
  if (status.ok()) return absl::OkStatus();
  const std::string& address = options_.address;
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      return WithExitCode(
          absl::UnavailableError(absl::StrCat(
              "cannot reach the pstrack server at ", address,
              ": is pstrack-server running? (use --server host:port; detail: ", status.error_message(), ")")),
          kExitUsage);
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return WithExitCode(
          absl::DeadlineExceededError(absl::StrCat("the server at ", address, " did not answer within ",
                                                   "the call's deadline (raise --timeout, in seconds)")),
          kExitUsage);
    case grpc::StatusCode::UNAUTHENTICATED:
      return absl::UnauthenticatedError(
          absl::StrCat("UNAUTHENTICATED: ", status.error_message(),
                       token_.empty() ? " (set --api_key, $PSTRACK_API_KEY or --api_key_file)" : ""));
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return absl::ResourceExhaustedError(absl::StrCat("RESOURCE_EXHAUSTED: ", status.error_message()));
    case grpc::StatusCode::UNIMPLEMENTED:
      return absl::UnimplementedError(
          absl::StrCat("the server at ", address, " does not implement this call (", status.error_message(), ")"));
    default:
      return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                          absl::StrCat(StatusName(status.error_code()), ": ", status.error_message()));
  }
}

}  // namespace pstrack::cli
