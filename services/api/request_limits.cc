#include "services/api/request_limits.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/common/status.h"
#include "services/common/text.h"

namespace pstrack {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

std::string Size(size_t bytes) {
  if (bytes >= (size_t{1} << 20) && bytes % (size_t{1} << 20) == 0) return absl::StrCat(bytes >> 20, " MiB");
  if (bytes >= 1024 && bytes % 1024 == 0) return absl::StrCat(bytes >> 10, " KiB");
  return absl::StrCat(bytes, " bytes");
}

absl::Status TooLong(const std::string& path, const std::string& value, size_t limit) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": is ", value.size(), " bytes long; at most ", limit,
                                                 " bytes (", Excerpt(value, 64), ")"));
}

absl::Status CheckStrings(const Message& message, const std::string& prefix) {
  const Reflection* reflection = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    const std::string name = prefix.empty() ? field->name() : absl::StrCat(prefix, ".", field->name());
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
      const size_t limit = MaxStringBytes(field->name());
      if (field->is_repeated()) {
        const int n = reflection->FieldSize(message, field);
        for (int i = 0; i < n; ++i) {
          std::string scratch;
          const std::string& value = reflection->GetRepeatedStringReference(message, field, i, &scratch);
          if (value.size() > limit) return TooLong(absl::StrCat(name, "[", i, "]"), value, limit);
        }
      } else {
        std::string scratch;
        const std::string& value = reflection->GetStringReference(message, field, &scratch);
        if (value.size() > limit) return TooLong(name, value, limit);
      }
    } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (field->is_repeated()) {
        const int n = reflection->FieldSize(message, field);
        for (int i = 0; i < n; ++i) {
          absl::Status s =
              CheckStrings(reflection->GetRepeatedMessage(message, field, i), absl::StrCat(name, "[", i, "]"));
          if (!s.ok()) return s;
        }
      } else {
        absl::Status s = CheckStrings(reflection->GetMessage(message, field), name);
        if (!s.ok()) return s;
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

size_t MaxStringBytes(absl::string_view field) {
  if (field == "query" || field == "name_contains") return 256;
  if (absl::EndsWith(field, "page_token")) return 1024;
  if (field == "code" || absl::EndsWith(field, "_code") || absl::EndsWith(field, "_codes")) return 256;
  if (field == "id" || absl::EndsWith(field, "_id") || absl::EndsWith(field, "_ids")) return 512;
  return 4096;
}

absl::Status CheckRequestLimits(const Message& request, absl::string_view method, size_t max_bytes) {
  // Strings first, so that one oversized value is named as the field it is.
  PSTRACK_RETURN_IF_ERROR(CheckStrings(request, ""));
  const size_t size = request.ByteSizeLong();
  if (size > max_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat("request too large: ", Size(size), "; ", method,
                                                     " takes at most ", Size(max_bytes),
                                                     " (this is a size limit, not a rate limit: do not retry)"));
  }
  return absl::OkStatus();
}

}  // namespace pstrack
