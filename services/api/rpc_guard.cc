#include "services/api/rpc_guard.h"

#include "services/common/grpc_status.h"
#include "services/common/log.h"

namespace pstrack {

grpc::Status GuardRpc(grpc::ServerContext* context, absl::string_view method,
                      absl::FunctionRef<absl::Status()> handler) {
  if (context->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "the call was cancelled");
  absl::Status status;
  try {
    status = handler();
  } catch (const std::exception& e) {
    status = absl::InternalError(absl::StrCat("internal error: ", e.what()));
  }
  if (status.code() == absl::StatusCode::kInternal || status.code() == absl::StatusCode::kUnknown ||
      status.code() == absl::StatusCode::kDataLoss) {
    LogError(method, " from ", context->peer(), " failed: ", status.ToString());
  }
  return ToGrpcStatus(status);
}

}  // namespace pstrack
