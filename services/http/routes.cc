#include "services/http/routes.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/api/annotations.pb.h"
#include "pstrack/v1/admin.pb.h"
#include "pstrack/v1/agency.pb.h"
#include "pstrack/v1/catalog.pb.h"
#include "pstrack/v1/filing.pb.h"
#include "pstrack/v1/metrics.pb.h"
#include "pstrack/v1/reporting.pb.h"

namespace pstrack::http {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::MethodDescriptor;
using google::protobuf::ServiceDescriptor;

// The field a dotted path names, each step a singular message but the last.
const FieldDescriptor* FieldAt(const Descriptor* message, absl::string_view path) {
  const FieldDescriptor* field = nullptr;
  for (absl::string_view part : absl::StrSplit(path, '.')) {
    if (message == nullptr) return nullptr;
    field = message->FindFieldByName(std::string(part));
    if (field == nullptr || field->is_repeated()) return nullptr;
    message = field->message_type();
  }
  return field;
}

absl::StatusOr<Route> ParseRule(const MethodDescriptor* method, const google::api::HttpRule& rule) {
  Route route;
  route.method = method;
  route.grpc_method = absl::StrCat("/", method->service()->full_name(), "/", method->name());
  route.body = rule.body();
  switch (rule.pattern_case()) {
    case google::api::HttpRule::kGet: route.http_method = "GET", route.path = rule.get(); break;
    case google::api::HttpRule::kPost: route.http_method = "POST", route.path = rule.post(); break;
    case google::api::HttpRule::kPut: route.http_method = "PUT", route.path = rule.put(); break;
    case google::api::HttpRule::kPatch: route.http_method = "PATCH", route.path = rule.patch(); break;
    case google::api::HttpRule::kDelete: route.http_method = "DELETE", route.path = rule.delete_(); break;
    default:
      return absl::InternalError(absl::StrCat(method->full_name(), ": google.api.http has no supported pattern"));
  }
  auto bad = [&](absl::string_view why) {
    return absl::InternalError(absl::StrCat(method->full_name(), ": path \"", route.path, "\": ", why));
  };
  if (route.path.empty() || route.path[0] != '/') return bad("must start with '/'");
  std::string path = route.path.substr(1);
  // The verb follows the last ':' that is outside braces.
  size_t close = path.rfind('}');
  size_t colon = path.rfind(':');
  if (colon != std::string::npos && (close == std::string::npos || colon > close)) {
    route.verb = path.substr(colon + 1);
    path.resize(colon);
  }
  for (absl::string_view part : absl::StrSplit(path, '/')) {
    Route::Segment segment;
    if (!part.empty() && part.front() == '{') {
      if (part.back() != '}' || part.find('=') != absl::string_view::npos) return bad("only {field} variables");
      segment.variable = true;
      segment.text = std::string(part.substr(1, part.size() - 2));
      const FieldDescriptor* field = FieldAt(method->input_type(), segment.text);
      if (field == nullptr || field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        return bad(absl::StrCat("{", segment.text, "} is not a scalar field of ", method->input_type()->full_name()));
      }
    } else {
      if (part.empty() || part.find_first_of("{}*") != absl::string_view::npos) return bad("bad literal segment");
      segment.text = std::string(part);
    }
    route.segments.push_back(std::move(segment));
  }
  if (!route.body.empty() && route.body != "*") {
    const FieldDescriptor* body = method->input_type()->FindFieldByName(route.body);
    if (body == nullptr || body->is_repeated() || body->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
      return bad(absl::StrCat("body \"", route.body, "\" is not a singular message field of ",
                              method->input_type()->full_name()));
    }
  }
  if (method->client_streaming() && route.body != "*") return bad("a client stream's body must be \"*\"");
  if (!rule.additional_bindings().empty()) return bad("additional_bindings are not supported");
  return route;
}

}  // namespace

bool PercentDecode(absl::string_view in, bool plus_is_space, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      auto hex = [](char h) -> int {
        if (h >= '0' && h <= '9') return h - '0';
        h = absl::ascii_tolower(h);
        if (h >= 'a' && h <= 'f') return h - 'a' + 10;
        return -1;
      };
      const int hi = hex(in[i + 1]), lo = hex(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
  return true;
}

absl::StatusOr<RouteTable> RouteTable::Build(const std::vector<const ServiceDescriptor*>& services) {
  RouteTable table;
  for (const ServiceDescriptor* service : services) {
    for (int i = 0; i < service->method_count(); ++i) {
      const MethodDescriptor* method = service->method(i);
      if (!method->options().HasExtension(google::api::http)) continue;
      absl::StatusOr<Route> route = ParseRule(method, method->options().GetExtension(google::api::http));
      if (!route.ok()) return route.status();
      for (const Route& other : table.routes_) {
        if (other.http_method == route->http_method && other.path == route->path) {
          return absl::InternalError(absl::StrCat(route->http_method, " ", route->path, " is bound twice: ",
                                                  other.method->full_name(), " and ", method->full_name()));
        }
      }
      table.routes_.push_back(*std::move(route));
    }
  }
  return table;
}

absl::StatusOr<RouteTable> RouteTable::ForApi() {
  // A message of each file names the file (and links it in).
  const std::pair<const google::protobuf::FileDescriptor*, const char*> services[] = {
      {v1::GetAgencyRequest::descriptor()->file(), "AgencyService"},
      {v1::GetProcedureRequest::descriptor()->file(), "CatalogService"},
      {v1::GetDossierRequest::descriptor()->file(), "FilingService"},
      {v1::GetIndicatorsRequest::descriptor()->file(), "MetricsService"},
      {v1::GetReportRequest::descriptor()->file(), "ReportingService"},
      {v1::WhoAmIRequest::descriptor()->file(), "AdminService"},
  };
  std::vector<const ServiceDescriptor*> found;
  for (const auto& [file, name] : services) {
    const ServiceDescriptor* service = file->FindServiceByName(name);
    if (service == nullptr) return absl::InternalError(absl::StrCat("no service ", name, " in ", file->name()));
    found.push_back(service);
  }
  return Build(found);
}

RouteTable::Outcome RouteTable::Match(absl::string_view http_method, absl::string_view path, RouteMatch* match,
                                      std::vector<std::string>* allowed) const {
  allowed->clear();
  if (path.empty() || path[0] != '/') return Outcome::kNoPath;
  std::vector<absl::string_view> parts = absl::StrSplit(path.substr(1), '/');
  bool matched_other_method = false;
  for (const Route& route : routes_) {
    if (route.segments.size() != parts.size()) continue;
    absl::string_view last = parts.back();
    if (!route.verb.empty()) {
      const std::string suffix = absl::StrCat(":", route.verb);
      if (!absl::EndsWith(last, suffix)) continue;
      last.remove_suffix(suffix.size());
    }
    RouteMatch candidate;
    candidate.route = &route;
    bool ok = true;
    for (size_t i = 0; i < parts.size() && ok; ++i) {
      const absl::string_view part = i + 1 == parts.size() ? last : parts[i];
      const Route::Segment& segment = route.segments[i];
      if (segment.variable) {
        std::string value;
        ok = !part.empty() && PercentDecode(part, /*plus_is_space=*/false, &value);
        if (ok) candidate.variables.emplace_back(segment.text, std::move(value));
      } else {
        ok = part == segment.text;
      }
    }
    // A route without a verb does not take a last segment that ends with
    // one of another route's verbs ("/v1/agencies/P22:successor" is not
    // GetAgency of "P22:successor"): verbs are tried by their own routes.
    if (ok && route.verb.empty()) {
      for (const Route& other : routes_) {
        if (!other.verb.empty() && other.segments.size() == parts.size() &&
            absl::EndsWith(parts.back(), absl::StrCat(":", other.verb))) {
          ok = false;
          break;
        }
      }
    }
    if (!ok) continue;
    if (route.http_method != http_method) {
      matched_other_method = true;
      if (std::find(allowed->begin(), allowed->end(), route.http_method) == allowed->end()) {
        allowed->push_back(route.http_method);
      }
      continue;
    }
    *match = std::move(candidate);
    return Outcome::kMatched;
  }
  return matched_other_method ? Outcome::kWrongMethod : Outcome::kNoPath;
}

}  // namespace pstrack::http
