#include "services/http/transcode.h"

#include <set>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"
#include "services/common/text.h"
#include "services/http/json_print.h"

namespace pstrack::http {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumValueDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// Errors echo at most this much of what the caller sent.
constexpr size_t kEcho = 64;

std::string Echo(absl::string_view text) {
  if (text.size() <= kEcho) return std::string(text);
  return absl::StrCat(text.substr(0, kEcho), "…");
}

const FieldDescriptor* FindField(const Descriptor* message, absl::string_view name) {
  const std::string key(name);
  if (const FieldDescriptor* f = message->FindFieldByName(key)) return f;
  if (const FieldDescriptor* f = message->FindFieldByLowercaseName(key)) return f;
  if (const FieldDescriptor* f = message->FindFieldByCamelcaseName(key)) return f;
  for (int i = 0; i < message->field_count(); ++i) {
    if (message->field(i)->json_name() == key) return message->field(i);
  }
  return nullptr;
}

bool IsUtf8(absl::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const size_t n = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

// Well-known types given by their JSON string form in a path or a query.
bool IsStringFormWellKnown(const Descriptor* type) {
  const std::string& name = type->full_name();
  return name == "google.protobuf.Timestamp" || name == "google.protobuf.Duration" ||
         name == "google.protobuf.FieldMask";
}

// The top-level fields the body fills (all for "*").
std::set<const FieldDescriptor*> BodyFields(const Route& route) {
  std::set<const FieldDescriptor*> out;
  const Descriptor* input = route.method->input_type();
  if (route.body == "*") {
    for (int i = 0; i < input->field_count(); ++i) out.insert(input->field(i));
  } else if (!route.body.empty()) {
    out.insert(input->FindFieldByName(route.body));
  }
  return out;
}

}  // namespace

absl::Status ParseJson(absl::string_view json, absl::string_view what, Message* message) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), message, options);
  if (status.ok()) return absl::OkStatus();
  std::string why(status.message().data(), status.message().size());
  if (why.size() > 512) why = absl::StrCat(why.substr(0, 512), "…");
  return absl::InvalidArgumentError(
      absl::StrCat(what, ": not a JSON ", message->GetDescriptor()->full_name(), " (proto3 JSON mapping): ", why));
}

std::string ToJson(const Message& message) {
  std::string out;
  AppendMessageJson(message, &out);
  return out;
}

absl::Status SetFieldFromText(Message* message, absl::string_view path, absl::string_view value,
                              absl::string_view where) {
  auto error = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(where, " '", Echo(path), "': ", why));
  };
  std::vector<absl::string_view> parts = absl::StrSplit(path, '.');
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    const FieldDescriptor* f = FindField(message->GetDescriptor(), parts[i]);
    if (f == nullptr) {
      return error(absl::StrCat("no field '", Echo(parts[i]), "' in ", message->GetDescriptor()->full_name()));
    }
    if (f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE || f->is_repeated() || IsStringFormWellKnown(f->message_type())) {
      return error(absl::StrCat("'", f->name(), "' has no fields to name"));
    }
    message = message->GetReflection()->MutableMessage(message, f);
  }
  const Descriptor* type = message->GetDescriptor();
  const FieldDescriptor* f = FindField(type, parts.back());
  if (f == nullptr) return error(absl::StrCat("no field '", Echo(parts.back()), "' in ", type->full_name()));
  if (f->is_map()) return error("a map cannot be set here: send it in a JSON body");
  const Reflection* r = message->GetReflection();
  const bool repeated = f->is_repeated();
  const std::string text(value);
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string v = text;
      if (f->type() == FieldDescriptor::TYPE_BYTES) {
        if (!absl::Base64Unescape(text, &v) && !absl::WebSafeBase64Unescape(text, &v)) return error("not base64");
      } else if (!IsUtf8(text)) {
        return error("not UTF-8 text (percent-encode the UTF-8 bytes of each character)");
      }
      repeated ? r->AddString(message, f, std::move(v)) : r->SetString(message, f, std::move(v));
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_INT32: {
      int32_t v;
      if (!absl::SimpleAtoi(text, &v)) return error(absl::StrCat("not a 32-bit integer: \"", Echo(text), "\""));
      repeated ? r->AddInt32(message, f, v) : r->SetInt32(message, f, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_INT64: {
      int64_t v;
      if (!absl::SimpleAtoi(text, &v)) return error(absl::StrCat("not a 64-bit integer: \"", Echo(text), "\""));
      repeated ? r->AddInt64(message, f, v) : r->SetInt64(message, f, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_UINT32: {
      uint32_t v;
      if (!absl::SimpleAtoi(text, &v)) return error(absl::StrCat("not an unsigned integer: \"", Echo(text), "\""));
      repeated ? r->AddUInt32(message, f, v) : r->SetUInt32(message, f, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_UINT64: {
      uint64_t v;
      if (!absl::SimpleAtoi(text, &v)) return error(absl::StrCat("not an unsigned integer: \"", Echo(text), "\""));
      repeated ? r->AddUInt64(message, f, v) : r->SetUInt64(message, f, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT: {
      double v;
      if (!absl::SimpleAtod(text, &v)) return error(absl::StrCat("not a number: \"", Echo(text), "\""));
      if (f->cpp_type() == FieldDescriptor::CPPTYPE_DOUBLE) {
        repeated ? r->AddDouble(message, f, v) : r->SetDouble(message, f, v);
      } else {
        repeated ? r->AddFloat(message, f, static_cast<float>(v)) : r->SetFloat(message, f, static_cast<float>(v));
      }
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_BOOL: {
      bool v;
      if (text == "true" || text == "1") {
        v = true;
      } else if (text == "false" || text == "0") {
        v = false;
      } else {
        return error(absl::StrCat("not true or false: \"", Echo(text), "\""));
      }
      repeated ? r->AddBool(message, f, v) : r->SetBool(message, f, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      const EnumValueDescriptor* e = f->enum_type()->FindValueByName(text);
      if (e == nullptr) e = f->enum_type()->FindValueByName(absl::AsciiStrToUpper(text));
      if (int number; e == nullptr && absl::SimpleAtoi(text, &number)) e = f->enum_type()->FindValueByNumber(number);
      if (e == nullptr) {
        std::string names;
        for (int i = 0; i < f->enum_type()->value_count(); ++i) {
          absl::StrAppend(&names, i ? ", " : "", f->enum_type()->value(i)->name());
        }
        return error(absl::StrCat("\"", Echo(text), "\" is not one of ", names));
      }
      repeated ? r->AddEnum(message, f, e) : r->SetEnum(message, f, e);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      if (!IsStringFormWellKnown(f->message_type())) {
        return error(absl::StrCat("a ", f->message_type()->full_name(), " is set by its fields ('", parts.back(),
                                  ".<field>') or in a JSON body"));
      }
      Message* target = repeated ? r->AddMessage(message, f) : r->MutableMessage(message, f);
      std::string json;
      absl::StrAppend(&json, "\"", absl::Utf8SafeCEscape(text), "\"");
      google::protobuf::util::JsonParseOptions options;
      if (!google::protobuf::util::JsonStringToMessage(json, target, options).ok()) {
        return error(absl::StrCat("not a ", f->message_type()->name(), " (",
                                  f->message_type()->name() == "Timestamp" ? "RFC 3339, 2025-10-01T08:00:00Z"
                                  : f->message_type()->name() == "Duration" ? "seconds with 's', 1.5s"
                                                                            : "comma-separated lowerCamel paths",
                                  "): \"", Echo(text), "\""));
      }
      return absl::OkStatus();
    }
  }
  return error("cannot be set from text");
}

absl::Status BuildRequest(const RouteMatch& match, absl::string_view query, absl::string_view body,
                          Message* request) {
  const Route& route = *match.route;
  const std::set<const FieldDescriptor*> body_fields = BodyFields(route);
  if (route.body.empty()) {
    if (!absl::StripAsciiWhitespace(body).empty()) {
      return absl::InvalidArgumentError(absl::StrCat(route.http_method, " ", route.path,
                                                     " takes no body: send its fields in the query string"));
    }
  } else if (!absl::StripAsciiWhitespace(body).empty()) {
    if (route.body == "*") {
      if (absl::Status s = ParseJson(body, "body", request); !s.ok()) return s;
    } else {
      const FieldDescriptor* f = request->GetDescriptor()->FindFieldByName(route.body);
      Message* target = request->GetReflection()->MutableMessage(request, f);
      if (absl::Status s = ParseJson(body, "body", target); !s.ok()) return s;
    }
  }
  for (const auto& [path, value] : match.variables) {
    // The path wins over the body: "PUT /v1/procedures/X" upserts X.
    if (absl::Status s = SetFieldFromText(request, path, value, "path variable"); !s.ok()) return s;
  }
  if (query.empty()) return absl::OkStatus();
  std::set<std::string> variables;
  for (const auto& v : match.variables) variables.insert(v.first);
  for (absl::string_view pair : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(pair, absl::MaxSplits('=', 1));
    std::string key, value;
    if (!PercentDecode(kv.first, true, &key) || !PercentDecode(kv.second, true, &value)) {
      return absl::InvalidArgumentError(absl::StrCat("query parameter '", Echo(kv.first), "': bad %-escape"));
    }
    const std::string top = key.substr(0, key.find('.'));
    const FieldDescriptor* top_field = FindField(request->GetDescriptor(), top);
    if (top_field != nullptr && body_fields.count(top_field) > 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("query parameter '", Echo(key), "': the body carries '", top_field->json_name(), "'"));
    }
    if (absl::Status s = SetFieldFromText(request, key, value, "query parameter"); !s.ok()) return s;
  }
  return absl::OkStatus();
}

int HttpStatusOf(int grpc_code) {
  switch (grpc_code) {
    case 0: return 200;   // OK
    case 1: return 499;   // CANCELLED
    case 2: return 500;   // UNKNOWN
    case 3: return 400;   // INVALID_ARGUMENT
    case 4: return 504;   // DEADLINE_EXCEEDED
    case 5: return 404;   // NOT_FOUND
    case 6: return 409;   // ALREADY_EXISTS
    case 7: return 403;   // PERMISSION_DENIED
    case 8: return 429;   // RESOURCE_EXHAUSTED
    case 9: return 412;   // FAILED_PRECONDITION
    case 10: return 409;  // ABORTED
    case 11: return 400;  // OUT_OF_RANGE
    case 12: return 501;  // UNIMPLEMENTED
    case 13: return 500;  // INTERNAL
    case 14: return 503;  // UNAVAILABLE
    case 15: return 500;  // DATA_LOSS
    case 16: return 401;  // UNAUTHENTICATED
    default: return 500;
  }
}

absl::string_view CodeName(int grpc_code) {
  static constexpr absl::string_view kNames[] = {
      "OK",        "CANCELLED",           "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
      "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
      "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};
  if (grpc_code < 0 || grpc_code > 16) return "UNKNOWN";
  return kNames[grpc_code];
}

std::string StatusJson(int grpc_code, absl::string_view message) {
  std::string out = absl::StrCat("{\"code\":", grpc_code, ",\"message\":");
  AppendJsonString(message, &out);
  out += ",\"details\":[]}";
  return out;
}

}  // namespace pstrack::http
