// The HTTP/JSON face of the gRPC API (docs/api.md, "HTTP/JSON"): an
// HTTP/1.1 server (Boost.Beast, asynchronous: no thread waits on a client
// or on a call) that turns each request into a call of the RPC its route
// names (routes.h) and sends it to the same gRPC server over an in-process
// channel. Authentication, roles, scopes, rate limits, deadlines, audit and
// status conversion are therefore the gRPC path's own (RpcGuard): HTTP adds
// only the transcoding (transcode.h).
//
//   unary RPCs          JSON body / path / query  ->  JSON response
//   StreamEvents        an NDJSON upload (one FilingEvent per line), sent
//                       as a client stream while it is read
//   WatchIndicators     Server-Sent Events: one `data:` per IndicatorSet
//   GET /healthz        200 while the process serves HTTP (liveness)
//   GET /readyz         200 when gRPC health says SERVING, else 503
//   GET /openapi.json   the API's OpenAPI 3 contract (openapi.h)
//   GET /metrics        Prometheus metrics (services/common/telemetry.h)
//
// Errors are a google.rpc.Status in JSON with the HTTP status of its code
// (transcode.h); RESOURCE_EXHAUSTED carries Retry-After, UNAUTHENTICATED
// WWW-Authenticate.
#ifndef PSTRACK_SERVICES_HTTP_HTTP_GATEWAY_H_
#define PSTRACK_SERVICES_HTTP_HTTP_GATEWAY_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"

namespace pstrack::http {

struct GatewayOptions {
  // host:port; port 0 picks a free port (HttpGateway::port()).
  std::string listen_address = "127.0.0.1:8080";
  int threads = 2;
  // Largest request body of a unary call (the gRPC message limit).
  size_t max_body_bytes = 64 << 20;
  // Longest line of an NDJSON upload.
  size_t max_line_bytes = 1 << 20;
  // Connections beyond this are answered 503 and closed.
  int max_connections = 4096;
  // How long reading a request's header (or a part of its body) and
  // writing a response may take; how long a kept-alive connection may wait
  // for its next request.
  absl::Duration io_timeout = absl::Seconds(30);
  absl::Duration keep_alive_timeout = absl::Seconds(60);
  // TLS with these PEM files (the gRPC port's); plaintext without them.
  struct Tls {
    std::string cert_file, key_file, client_ca_file;
    bool require_client_cert = false;
  } tls;
  // Served at /openapi.json.
  std::string openapi_json;
  // false: only /metrics, /healthz and /readyz (--metrics_listen).
  bool serve_api = true;
};

class HttpGateway {
 public:
  // Listens and serves; calls go to `channel` (the gRPC server's
  // in-process channel).
  static absl::StatusOr<std::unique_ptr<HttpGateway>> Start(const GatewayOptions& options,
                                                            std::shared_ptr<grpc::Channel> channel);
  ~HttpGateway();
  HttpGateway(const HttpGateway&) = delete;
  HttpGateway& operator=(const HttpGateway&) = delete;

  int port() const;
  // HTTP connections open now.
  int open_connections() const;

  // Stops accepting, ends the open streams, lets calls in flight finish
  // for up to `grace` (then cancels them), closes every connection and
  // joins the threads. Call before the gRPC server shuts down.
  void Shutdown(absl::Duration grace);

  struct Impl;

 private:
  explicit HttpGateway(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pstrack::http

#endif  // PSTRACK_SERVICES_HTTP_HTTP_GATEWAY_H_
