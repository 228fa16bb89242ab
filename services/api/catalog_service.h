// gRPC adapter for pstrack.v1.CatalogService: translation only; the rules
// live in services/catalog.
#ifndef PSTRACK_SERVICES_API_CATALOG_SERVICE_H_
#define PSTRACK_SERVICES_API_CATALOG_SERVICE_H_

#include "pstrack/v1/catalog.grpc.pb.h"
#include "services/api/rpc_guard.h"
#include "services/catalog/catalog.h"

namespace pstrack {

class CatalogServiceImpl final : public v1::CatalogService::Service {
 public:
  CatalogServiceImpl(Catalog& catalog, RpcGuard& guard) : catalog_(catalog), guard_(guard) {}

  grpc::Status UpsertProcedure(grpc::ServerContext* context, const v1::UpsertProcedureRequest* request,
                               v1::UpsertProcedureResponse* response) override;
  grpc::Status GetProcedure(grpc::ServerContext* context, const v1::GetProcedureRequest* request,
                            v1::Procedure* response) override;
  grpc::Status ListProcedures(grpc::ServerContext* context, const v1::ListProceduresRequest* request,
                              v1::ListProceduresResponse* response) override;
  grpc::Status ImportProcedures(grpc::ServerContext* context, const v1::ImportProceduresRequest* request,
                                v1::ImportProceduresResponse* response) override;

 private:
  Catalog& catalog_;
  RpcGuard& guard_;
};

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_API_CATALOG_SERVICE_H_
