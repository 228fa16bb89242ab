// gRPC adapter for pstrack.v1.AdminService: API keys, the audit log,
// methodology reloads and WhoAmI. Key rules live in services/security.
#ifndef PSTRACK_SERVICES_API_ADMIN_SERVICE_H_
#define PSTRACK_SERVICES_API_ADMIN_SERVICE_H_

#include <functional>
#include <memory>

#include "pstrack/v1/admin.grpc.pb.h"
#include "services/api/rpc_guard.h"
#include "services/metrics/methodology.h"

namespace pstrack {

class AdminServiceImpl final : public v1::AdminService::Service {
 public:
  // `reload` re-reads the methodology files and returns the new registry.
  using Reloader = std::function<absl::StatusOr<std::shared_ptr<const MethodologyRegistry>>()>;
  AdminServiceImpl(RpcGuard& guard, Reloader reload) : guard_(guard), reload_(std::move(reload)) {}

  grpc::Status CreateApiKey(grpc::ServerContext* context, const v1::CreateApiKeyRequest* request,
                            v1::CreateApiKeyResponse* response) override;
  grpc::Status ListApiKeys(grpc::ServerContext* context, const v1::ListApiKeysRequest* request,
                           v1::ListApiKeysResponse* response) override;
  grpc::Status RevokeApiKey(grpc::ServerContext* context, const v1::RevokeApiKeyRequest* request,
                            v1::ApiKey* response) override;
  grpc::Status ListAuditRecords(grpc::ServerContext* context, const v1::ListAuditRecordsRequest* request,
                                v1::ListAuditRecordsResponse* response) override;
  grpc::Status ReloadMethodologies(grpc::ServerContext* context, const v1::ReloadMethodologiesRequest* request,
                                   v1::ReloadMethodologiesResponse* response) override;
  grpc::Status WhoAmI(grpc::ServerContext* context, const v1::WhoAmIRequest* request,
                      v1::WhoAmIResponse* response) override;

 private:
  RpcGuard& guard_;
  Reloader reload_;
};

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_API_ADMIN_SERVICE_H_
