// gRPC adapter for pstrack.v1.ReportingService: translation and scope
// checks only; the rules live in services/reports.
#ifndef PSTRACK_SERVICES_API_REPORTING_SERVICE_H_
#define PSTRACK_SERVICES_API_REPORTING_SERVICE_H_

#include "pstrack/v1/reporting.grpc.pb.h"
#include "services/api/rpc_guard.h"
#include "services/reports/reports.h"

namespace pstrack {

class ReportingServiceImpl final : public v1::ReportingService::Service {
 public:
  ReportingServiceImpl(Reports& reports, RpcGuard& guard) : reports_(reports), guard_(guard) {}

  grpc::Status SubmitReports(grpc::ServerContext* context, const v1::SubmitReportsRequest* request,
                             v1::SubmitReportsResponse* response) override;
  grpc::Status GetReport(grpc::ServerContext* context, const v1::GetReportRequest* request,
                         v1::GetReportResponse* response) override;
  grpc::Status ListReports(grpc::ServerContext* context, const v1::ListReportsRequest* request,
                           v1::ListReportsResponse* response) override;
  grpc::Status Reconcile(grpc::ServerContext* context, const v1::ReconcileRequest* request,
                         v1::ReconcileResponse* response) override;
  grpc::Status ListSilentAgencies(grpc::ServerContext* context, const v1::ListSilentAgenciesRequest* request,
                                  v1::ListSilentAgenciesResponse* response) override;
  grpc::Status GetDataQuality(grpc::ServerContext* context, const v1::GetDataQualityRequest* request,
                              v1::GetDataQualityResponse* response) override;

 private:
  Reports& reports_;
  RpcGuard& guard_;
};

// Translation of a report (received and finished always; the other figures
// only when present).
PeriodicReport ReportFromProto(const v1::PeriodicReport& in);
void ReportToProto(const PeriodicReport& in, v1::PeriodicReport* out);

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_API_REPORTING_SERVICE_H_
