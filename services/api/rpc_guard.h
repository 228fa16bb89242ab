// The one place every RPC handler passes through: cancellation check,
// exception barrier and error logging. Authentication and limits (a later
// issue) plug in here so no handler can skip them.
#ifndef PSTRACK_SERVICES_API_RPC_GUARD_H_
#define PSTRACK_SERVICES_API_RPC_GUARD_H_

#include <exception>
#include "absl/strings/string_view.h"

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/status.h"

namespace pstrack {

// Runs `handler` for the RPC `method` and converts its status for gRPC.
grpc::Status GuardRpc(grpc::ServerContext* context, absl::string_view method,
                      absl::FunctionRef<absl::Status()> handler);

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_API_RPC_GUARD_H_
