// HTTP/JSON <-> protobuf for the routes of routes.h, in the proto3 JSON
// mapping (https://protobuf.dev/programming-guides/proto3/#json): names in
// lowerCamelCase on output, lowerCamelCase or the proto's own names on
// input; 64-bit integers as strings; enums by name; Timestamps in RFC 3339.
//
// A request message is filled from three places, in this order: the body
// (the route's `body`: the whole message or one field), the path's
// variables, then the query string (`?scope.agencyCode=P22&indicatorIds=a&
// indicatorIds=b`: a field path per key, repeated keys for repeated
// fields), which may set only fields the body does not carry. Errors are
// INVALID_ARGUMENT naming the place and the field.
#ifndef PSTRACK_SERVICES_HTTP_TRANSCODE_H_
#define PSTRACK_SERVICES_HTTP_TRANSCODE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "services/http/routes.h"

namespace pstrack::http {

// Fills `request` (of the route's input type, empty) from the body, the
// path's variables and the query string (without '?', still encoded).
absl::Status BuildRequest(const RouteMatch& match, absl::string_view query, absl::string_view body,
                          google::protobuf::Message* request);

// One JSON object into `message`; `what` names the source in errors
// ("body", "line 12").
absl::Status ParseJson(absl::string_view json, absl::string_view what, google::protobuf::Message* message);

// The message as JSON: lowerCamelCase names, fields at their default value
// included (a client reads "rejected": 0, not a missing key).
std::string ToJson(const google::protobuf::Message& message);

// Sets the field at a dotted path (proto or JSON names) from its text form,
// adding to a repeated field. `where` names the source in errors.
absl::Status SetFieldFromText(google::protobuf::Message* message, absl::string_view path, absl::string_view value,
                              absl::string_view where);

// The HTTP status of a gRPC status code (google.rpc.Code's mapping; 412 for
// FAILED_PRECONDITION, 499 for CANCELLED).
int HttpStatusOf(int grpc_code);
// A google.rpc.Status as JSON: {"code": 3, "message": "...", "details": []}.
std::string StatusJson(int grpc_code, absl::string_view message);
// "INVALID_ARGUMENT" for 3.
absl::string_view CodeName(int grpc_code);

}  // namespace pstrack::http

#endif  // PSTRACK_SERVICES_HTTP_TRANSCODE_H_
