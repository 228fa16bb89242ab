// Requests whose bytes are not the method's message. gRPC's sync server
// answers them INTERNAL with an empty message, before any handler (so
// before authentication), and protobuf writes an ERROR line for each one
// with a string that is not UTF-8: anyone could fill the log. Here they
// are answered INVALID_ARGUMENT naming the message type, and protobuf's log
// lines go through a rate limit.
#ifndef PSTRACK_SERVICES_API_MALFORMED_REQUESTS_H_
#define PSTRACK_SERVICES_API_MALFORMED_REQUESTS_H_

#include <memory>

#include "absl/strings/string_view.h"
#include "grpcpp/support/server_interceptor.h"

namespace pstrack {

// A server interceptor (one per call): a unary or server-streaming call
// whose request did not parse ends with INVALID_ARGUMENT "the request is not
// a valid pstrack.v1.X message". Client streams read their messages as
// bytes and report each bad one themselves (FilingServiceImpl).
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MalformedRequestInterceptorFactory();

// The message a call of `method` ("/pstrack.v1.CatalogService/GetProcedure")
// gets when its request (or the `position`th message of its stream, from
// 0; -1 for a unary request) does not parse.
std::string MalformedRequestMessage(absl::string_view method, int position);

// Protobuf's log lines (parse errors above all) go to pstrack's log, at
// most one a second of each text with a count of those left out. Once per
// process.
void RouteProtobufLogs();

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_API_MALFORMED_REQUESTS_H_
