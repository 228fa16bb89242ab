// Protobuf messages as JSON in the proto3 mapping, as protobuf's
// MessageToJsonString prints them with always_print_primitive_fields (names
// in lowerCamelCase, scalar fields at their default value and empty lists
// included, 64-bit integers as strings, enums by name, Timestamp and
// Duration as strings, wrappers as their value) but by walking the message
// with reflection once: protobuf 3.21's printer serialises the message and
// re-reads the bytes through a type resolver, which was most of what the
// HTTP gateway added to a call. Well-known types other than Timestamp,
// Duration, the wrappers and Empty (Any, Struct, FieldMask) are handed to
// protobuf's printer. tests/api/http_gateway_test.cc holds the two to the
// same JSON for generated messages of every response type.
#ifndef PSTRACK_SERVICES_HTTP_JSON_PRINT_H_
#define PSTRACK_SERVICES_HTTP_JSON_PRINT_H_

#include <string>

#include "google/protobuf/message.h"

namespace pstrack::http {

// Appends `message` as a JSON object to `out`.
void AppendMessageJson(const google::protobuf::Message& message, std::string* out);

}  // namespace pstrack::http

#endif  // PSTRACK_SERVICES_HTTP_JSON_PRINT_H_
