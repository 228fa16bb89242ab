// gRPC adapter for pstrack.v1.AgencyService: translates protos to domain
// values, calls AgencyRegistry, translates back. No rules live here.
#ifndef PSTRACK_SERVICES_API_AGENCY_SERVICE_H_
#define PSTRACK_SERVICES_API_AGENCY_SERVICE_H_

#include "pstrack/v1/agency.grpc.pb.h"
#include "services/api/rpc_guard.h"
#include "services/agencies/agency_registry.h"

namespace pstrack {

class AgencyServiceImpl final : public v1::AgencyService::Service {
 public:
  AgencyServiceImpl(AgencyRegistry& registry, RpcGuard& guard) : registry_(registry), guard_(guard) {}

  grpc::Status CreateAgency(grpc::ServerContext* context, const v1::CreateAgencyRequest* request,
                            v1::Agency* response) override;
  grpc::Status UpdateAgency(grpc::ServerContext* context, const v1::UpdateAgencyRequest* request,
                            v1::Agency* response) override;
  grpc::Status GetAgency(grpc::ServerContext* context, const v1::GetAgencyRequest* request,
                         v1::Agency* response) override;
  grpc::Status ListAgencies(grpc::ServerContext* context, const v1::ListAgenciesRequest* request,
                            v1::ListAgenciesResponse* response) override;
  grpc::Status ImportAgencies(grpc::ServerContext* context, const v1::ImportAgenciesRequest* request,
                              v1::ImportAgenciesResponse* response) override;
  grpc::Status ResolveSuccessor(grpc::ServerContext* context, const v1::ResolveSuccessorRequest* request,
                                v1::ResolveSuccessorResponse* response) override;

 private:
  AgencyRegistry& registry_;
  RpcGuard& guard_;
};

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_API_AGENCY_SERVICE_H_
