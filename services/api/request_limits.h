// Bounds on what a request may hold, checked by the RPC guard before any
// other work (before authentication, before a value is looked at): a
// request's size against its method's limit, and every string field,
// however deeply nested, against the limit of its kind. Over a limit, the
// caller gets an error naming the field and the limit, echoing at most a
// short excerpt of the value (docs/api.md, "Limits").
#ifndef PSTRACK_SERVICES_API_REQUEST_LIMITS_H_
#define PSTRACK_SERVICES_API_REQUEST_LIMITS_H_

#include <cstddef>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace pstrack {

// Requests of methods that carry no batch: a code, a filter, a page token.
inline constexpr size_t kSmallRequestBytes = 64 << 10;

// The largest length in bytes of a string field named `field` (the proto
// field name, e.g. "agency_code"): codes 256, identifiers 512, search texts
// ("query", "name_contains") 256, page tokens 1,024, anything else 4,096.
// These bound work and echoes; the domain's own rules (a code is at most 64
// characters) still apply below them.
size_t MaxStringBytes(absl::string_view field);

// INVALID_ARGUMENT naming the first string field over its MaxStringBytes,
// as a path ("events[3].dossier_code"); otherwise RESOURCE_EXHAUSTED when
// `request` is larger than `max_bytes` (its serialized size, unknown fields
// included).
absl::Status CheckRequestLimits(const google::protobuf::Message& request, absl::string_view method,
                                size_t max_bytes);

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_API_REQUEST_LIMITS_H_
