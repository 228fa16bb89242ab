#include "services/http/json_print.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"
#include "services/common/text.h"

namespace pstrack::http {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// Shortest text that reads back as the same double (protobuf's SimpleDtoa:
// 15 significant digits when they suffice, else 17).
void AppendDouble(double v, std::string* out) {
  if (std::isnan(v)) {
    *out += "\"NaN\"";
  } else if (std::isinf(v)) {
    *out += v > 0 ? "\"Infinity\"" : "\"-Infinity\"";
  } else {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.15g", v);
    if (std::strtod(buffer, nullptr) != v) std::snprintf(buffer, sizeof buffer, "%.17g", v);
    *out += buffer;
  }
}

void AppendFloat(float v, std::string* out) {
  if (std::isnan(v) || std::isinf(v)) return AppendDouble(v, out);
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6g", v);
  if (std::strtof(buffer, nullptr) != v) std::snprintf(buffer, sizeof buffer, "%.9g", v);
  *out += buffer;
}

// A second's fraction as protobuf writes it: nothing, or 3, 6 or 9
// digits (0 <= nanos < 1e9).
void AppendFraction(int32_t nanos, std::string* out) {
  if (nanos == 0) return;
  if (nanos % 1000000 == 0) {
    absl::StrAppend(out, ".", absl::Dec(nanos / 1000000, absl::kZeroPad3));
  } else if (nanos % 1000 == 0) {
    absl::StrAppend(out, ".", absl::Dec(nanos / 1000, absl::kZeroPad6));
  } else {
    absl::StrAppend(out, ".", absl::Dec(nanos, absl::kZeroPad9));
  }
}

// "2025-07-01T02:30:00Z", with 3, 6 or 9 fraction digits when there are any.
void AppendTimestamp(int64_t seconds, int32_t nanos, std::string* out) {
  const absl::Time t = absl::FromUnixSeconds(seconds);
  *out += '"';
  *out += absl::FormatTime("%Y-%m-%dT%H:%M:%S", t, absl::UTCTimeZone());
  AppendFraction(nanos, out);
  *out += "Z\"";
}

// "1.500s", "-0.010s", "3s".
void AppendDuration(int64_t seconds, int32_t nanos, std::string* out) {
  *out += '"';
  if (seconds < 0 || nanos < 0) {
    *out += '-';
    seconds = -seconds;
    nanos = -nanos;
  }
  absl::StrAppend(out, seconds);
  AppendFraction(nanos, out);
  *out += "s\"";
}

void AppendValue(const Message& message, const FieldDescriptor* field, int index, std::string* out);

// A message: a well-known type as its JSON value, else an object.
void AppendMessage(const Message& message, std::string* out) {
  const Descriptor* d = message.GetDescriptor();
  const Reflection* r = message.GetReflection();
  const std::string& name = d->full_name();
  if (name == "google.protobuf.Timestamp" || name == "google.protobuf.Duration") {
    const int64_t seconds = r->GetInt64(message, d->FindFieldByNumber(1));
    const int32_t nanos = r->GetInt32(message, d->FindFieldByNumber(2));
    return name == "google.protobuf.Timestamp" ? AppendTimestamp(seconds, nanos, out)
                                               : AppendDuration(seconds, nanos, out);
  }
  if (d->file()->name() == "google/protobuf/wrappers.proto") return AppendValue(message, d->FindFieldByNumber(1), -1, out);
  if (name == "google.protobuf.Empty") {
    *out += "{}";
    return;
  }
  if (name.rfind("google.protobuf.", 0) == 0) {
    // Any, Struct, Value, ListValue, FieldMask: protobuf's own rules.
    std::string json;
    google::protobuf::util::JsonPrintOptions options;
    options.always_print_primitive_fields = true;
    (void)google::protobuf::util::MessageToJsonString(message, &json, options);
    *out += json;
    return;
  }
  *out += '{';
  bool first = true;
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* field = d->field(i);
    if (field->is_repeated()) {
      // Lists and maps always (empty ones too).
    } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE || field->has_presence()) {
      // Messages, oneof members and proto3 optional fields when set.
      if (!r->HasField(message, field)) continue;
    }
    if (!first) *out += ',';
    first = false;
    *out += '"';
    *out += field->json_name();
    *out += "\":";
    if (field->is_map()) {
      *out += '{';
      const int n = r->FieldSize(message, field);
      const FieldDescriptor* key = field->message_type()->map_key();
      const FieldDescriptor* value = field->message_type()->map_value();
      for (int k = 0; k < n; ++k) {
        const Message& entry = r->GetRepeatedMessage(message, field, k);
        if (k > 0) *out += ',';
        // Keys are strings in JSON.
        std::string key_json;
        AppendValue(entry, key, -1, &key_json);
        if (key_json.empty() || key_json.front() != '"') key_json = absl::StrCat("\"", key_json, "\"");
        *out += key_json;
        *out += ':';
        AppendValue(entry, value, -1, out);
      }
      *out += '}';
    } else if (field->is_repeated()) {
      *out += '[';
      const int n = r->FieldSize(message, field);
      for (int k = 0; k < n; ++k) {
        if (k > 0) *out += ',';
        AppendValue(message, field, k, out);
      }
      *out += ']';
    } else {
      AppendValue(message, field, -1, out);
    }
  }
  *out += '}';
}

// One value of `field` (element `index` of a repeated field, -1 if singular).
void AppendValue(const Message& message, const FieldDescriptor* field, int index, std::string* out) {
  const Reflection* r = message.GetReflection();
  const bool rep = index >= 0;
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      absl::StrAppend(out, rep ? r->GetRepeatedInt32(message, field, index) : r->GetInt32(message, field));
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
      absl::StrAppend(out, rep ? r->GetRepeatedUInt32(message, field, index) : r->GetUInt32(message, field));
      break;
    case FieldDescriptor::CPPTYPE_INT64:
      absl::StrAppend(out, "\"", rep ? r->GetRepeatedInt64(message, field, index) : r->GetInt64(message, field),
                      "\"");
      break;
    case FieldDescriptor::CPPTYPE_UINT64:
      absl::StrAppend(out, "\"", rep ? r->GetRepeatedUInt64(message, field, index) : r->GetUInt64(message, field),
                      "\"");
      break;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      AppendDouble(rep ? r->GetRepeatedDouble(message, field, index) : r->GetDouble(message, field), out);
      break;
    case FieldDescriptor::CPPTYPE_FLOAT:
      AppendFloat(rep ? r->GetRepeatedFloat(message, field, index) : r->GetFloat(message, field), out);
      break;
    case FieldDescriptor::CPPTYPE_BOOL:
      *out += (rep ? r->GetRepeatedBool(message, field, index) : r->GetBool(message, field)) ? "true" : "false";
      break;
    case FieldDescriptor::CPPTYPE_ENUM: {
      const int number = rep ? r->GetRepeatedEnumValue(message, field, index) : r->GetEnumValue(message, field);
      if (field->enum_type()->full_name() == "google.protobuf.NullValue") {
        *out += "null";
        break;
      }
      const auto* value = field->enum_type()->FindValueByNumber(number);
      if (value != nullptr) {
        absl::StrAppend(out, "\"", value->name(), "\"");
      } else {
        absl::StrAppend(out, number);  // an open enum's unknown value
      }
      break;
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string scratch;
      const std::string& s = rep ? r->GetRepeatedStringReference(message, field, index, &scratch)
                                 : r->GetStringReference(message, field, &scratch);
      if (field->type() == FieldDescriptor::TYPE_BYTES) {
        absl::StrAppend(out, "\"", absl::Base64Escape(s), "\"");
      } else {
        AppendJsonString(s, out);
      }
      break;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      AppendMessage(rep ? r->GetRepeatedMessage(message, field, index) : r->GetMessage(message, field), out);
      break;
  }
}

}  // namespace

void AppendMessageJson(const Message& message, std::string* out) { AppendMessage(message, out); }

}  // namespace pstrack::http
