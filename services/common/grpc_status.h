// The one converter between absl::Status (used by all domain code) and
// grpc::Status (used only by the gRPC adapters). gRPC 1.51 has no public one.
#ifndef PSTRACK_SERVICES_COMMON_GRPC_STATUS_H_
#define PSTRACK_SERVICES_COMMON_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

#include <cstddef>

namespace pstrack {

// Status messages are cut to this many bytes (with "…"): a message echoes
// what the caller sent, and a megabyte of it would exceed clients' default
// metadata limit, which they report as RESOURCE_EXHAUSTED.
inline constexpr size_t kMaxStatusMessageBytes = 1024;

// Converts, cutting the message to kMaxStatusMessageBytes.
grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_COMMON_GRPC_STATUS_H_
