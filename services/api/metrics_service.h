// gRPC adapter for pstrack.v1.MetricsService: translation only; the
// indicators, aggregates and scoring live in services/metrics.
#ifndef PSTRACK_SERVICES_API_METRICS_SERVICE_H_
#define PSTRACK_SERVICES_API_METRICS_SERVICE_H_

#include "pstrack/v1/metrics.grpc.pb.h"
#include "services/api/indicator_watches.h"
#include "services/api/rpc_guard.h"
#include "services/common/change_feed.h"
#include "services/metrics/aggregate_maintenance.h"
#include "services/metrics/external_inputs.h"
#include "services/metrics/metrics.h"

namespace pstrack {

// WatchIndicators runs on gRPC's callback API (IndicatorWatches): a watch
// holds no server thread while it waits.
class MetricsServiceImpl final : public v1::MetricsService::WithCallbackMethod_WatchIndicators<v1::MetricsService::Service> {
 public:
  // `check_options`: how RebuildAggregates runs (its work directory, memory
  // budget); `repair` comes from each request.
  MetricsServiceImpl(Metrics& metrics, ExternalInputs& inputs, AggregateMaintenance& maintenance,
                     const ChangeFeed& changes, RpcGuard& guard, AggregateCheckOptions check_options = {})
      : metrics_(metrics),
        inputs_(inputs),
        maintenance_(maintenance),
        guard_(guard),
        check_options_(std::move(check_options)),
        watches_(metrics, changes, guard) {}

  grpc::Status ListIndicators(grpc::ServerContext* context, const v1::ListIndicatorsRequest* request,
                              v1::ListIndicatorsResponse* response) override;
  grpc::Status GetIndicators(grpc::ServerContext* context, const v1::GetIndicatorsRequest* request,
                             v1::IndicatorSet* response) override;
  grpc::Status GetBreakdown(grpc::ServerContext* context, const v1::GetBreakdownRequest* request,
                            v1::GetBreakdownResponse* response) override;
  grpc::Status GetTimeSeries(grpc::ServerContext* context, const v1::GetTimeSeriesRequest* request,
                             v1::GetTimeSeriesResponse* response) override;
  grpc::Status RankAgencies(grpc::ServerContext* context, const v1::RankAgenciesRequest* request,
                            v1::RankAgenciesResponse* response) override;
  grpc::Status ScoreIndex(grpc::ServerContext* context, const v1::ScoreIndexRequest* request,
                          v1::IndexScore* response) override;
  grpc::Status ListMethodologies(grpc::ServerContext* context, const v1::ListMethodologiesRequest* request,
                                 v1::ListMethodologiesResponse* response) override;
  grpc::Status SubmitExternalInputs(grpc::ServerContext* context, const v1::SubmitExternalInputsRequest* request,
                                    v1::SubmitExternalInputsResponse* response) override;
  grpc::Status ListExternalInputs(grpc::ServerContext* context, const v1::ListExternalInputsRequest* request,
                                  v1::ListExternalInputsResponse* response) override;
  grpc::ServerWriteReactor<v1::IndicatorSet>* WatchIndicators(grpc::CallbackServerContext* context,
                                                              const v1::WatchIndicatorsRequest* request) override {
    return watches_.Start(context, request);
  }
  // Watches open now.
  int open_watches() const { return watches_.size(); }
  grpc::Status RebuildAggregates(grpc::ServerContext* context, const v1::RebuildAggregatesRequest* request,
                                 v1::RebuildAggregatesResponse* response) override;

 private:
  Metrics& metrics_;
  ExternalInputs& inputs_;
  AggregateMaintenance& maintenance_;
  RpcGuard& guard_;
  const AggregateCheckOptions check_options_;
  IndicatorWatches watches_;
};

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_API_METRICS_SERVICE_H_
