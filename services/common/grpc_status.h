// The one converter between absl::Status (used by all domain code) and
// grpc::Status (used only by the gRPC adapters). gRPC 1.51 has no public one.
#ifndef PSTRACK_SERVICES_COMMON_GRPC_STATUS_H_
#define PSTRACK_SERVICES_COMMON_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace pstrack {

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_COMMON_GRPC_STATUS_H_
