// The OpenAPI 3.0 contract of the HTTP/JSON API, generated from the protos:
// the routes (routes.h), the messages and enums in the proto3 JSON mapping,
// and the protos' comments as descriptions (from the descriptor set with
// source info that the build embeds: proto/CMakeLists.txt). Served at
// /openapi.json and committed as docs/openapi.json (a test compares them;
// tools/update_openapi.sh rewrites the file).
#ifndef PSTRACK_SERVICES_HTTP_OPENAPI_H_
#define PSTRACK_SERVICES_HTTP_OPENAPI_H_

#include <string>

#include "absl/status/statusor.h"
#include "services/http/routes.h"

namespace pstrack::http {

// The document, pretty-printed (2 spaces), the same bytes on every call.
absl::StatusOr<std::string> OpenApiJson(const RouteTable& routes, const std::string& version);

}  // namespace pstrack::http

#endif  // PSTRACK_SERVICES_HTTP_OPENAPI_H_
