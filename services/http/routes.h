// The HTTP/JSON routes of the API, read from the `google.api.http` options
// of the RPCs in proto/pstrack/v1/ (one table, built once at start): which
// HTTP method and path template calls which RPC, which request field the
// body fills, and how a request path is matched.
//
// Templates are the subset of google/api/http.proto the API uses: literal
// segments, `{field.path}` variables of one segment each, and a custom verb
// (`/v1/events:batch`). A variable's value is percent-decoded after the path
// is split on '/', so a code holding '/' is sent as %2F.
#ifndef PSTRACK_SERVICES_HTTP_ROUTES_H_
#define PSTRACK_SERVICES_HTTP_ROUTES_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"

namespace pstrack::http {

struct Route {
  std::string http_method;  // "GET", "POST", "PUT", "PATCH", "DELETE"
  std::string path;         // the template as written, "/v1/agencies/{code}"
  // The template, split: a segment is a literal or, in braces' place, the
  // field path of a variable ("scope.agency_code").
  struct Segment {
    bool variable = false;
    std::string text;
  };
  std::vector<Segment> segments;
  std::string verb;  // after ':' in the last segment; empty when none
  // "" (no body: every field not in the path comes from the query), "*"
  // (the whole request message), or a top-level field's name.
  std::string body;
  const google::protobuf::MethodDescriptor* method = nullptr;
  std::string grpc_method;  // "/pstrack.v1.FilingService/RecordEvents"

  bool client_streaming() const { return method->client_streaming(); }
  bool server_streaming() const { return method->server_streaming(); }
};

// A request path matched to a route: the route and its variables' values
// (field path, decoded value).
struct RouteMatch {
  const Route* route = nullptr;
  std::vector<std::pair<std::string, std::string>> variables;
};

class RouteTable {
 public:
  // Every RPC of `services` that carries a google.api.http option.
  // INTERNAL when an option uses what this table does not support.
  static absl::StatusOr<RouteTable> Build(const std::vector<const google::protobuf::ServiceDescriptor*>& services);
  // The services of proto/pstrack/v1 (from the generated pool).
  static absl::StatusOr<RouteTable> ForApi();

  enum class Outcome { kMatched, kNoPath, kWrongMethod };
  // `path` is the request target's path (no query), still percent-encoded.
  // kWrongMethod: the path matches routes of other methods only; `allowed`
  // then lists them.
  Outcome Match(absl::string_view http_method, absl::string_view path, RouteMatch* match,
                std::vector<std::string>* allowed) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

// Percent-decoding of a path segment or a query component ('+' is a space
// only in the query). false when an escape is malformed.
bool PercentDecode(absl::string_view in, bool plus_is_space, std::string* out);

}  // namespace pstrack::http

#endif  // PSTRACK_SERVICES_HTTP_ROUTES_H_
