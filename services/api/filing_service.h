// gRPC adapter for pstrack.v1.FilingService: translation only; ingestion and
// the lifecycle rules live in services/filings.
#ifndef PSTRACK_SERVICES_API_FILING_SERVICE_H_
#define PSTRACK_SERVICES_API_FILING_SERVICE_H_

#include "grpcpp/support/byte_buffer.h"
#include "pstrack/v1/filing.grpc.pb.h"
#include "services/api/rpc_guard.h"
#include "services/common/work_queue.h"
#include "services/filings/filings.h"

namespace pstrack {

// StreamEvents runs on gRPC's callback API (EventStream): a stream holds no
// server thread while it waits for its client; its chunks are recorded on a
// work queue of its own.
class FilingServiceImpl final : public v1::FilingService::WithRawCallbackMethod_StreamEvents<v1::FilingService::Service> {
 public:
  FilingServiceImpl(Filings& filings, RpcGuard& guard);
  ~FilingServiceImpl() override;

  grpc::Status RecordEvent(grpc::ServerContext* context, const v1::RecordEventRequest* request,
                           v1::RecordEventResponse* response) override;
  grpc::Status RecordEvents(grpc::ServerContext* context, const v1::RecordEventsRequest* request,
                            v1::RecordEventsResponse* response) override;
  // StreamEvents reads its messages as bytes and decodes each one itself:
  // gRPC's reader ends a stream at a message that does not parse as if the
  // client had finished, so the events after it were dropped silently. A
  // message that does not parse is now reported among the rejected items,
  // by position, and the stream goes on.
  grpc::ServerReadReactor<grpc::ByteBuffer>* StreamEvents(grpc::CallbackServerContext* context,
                                                          grpc::ByteBuffer* response) override;
  grpc::Status GetDossier(grpc::ServerContext* context, const v1::GetDossierRequest* request,
                          v1::Dossier* response) override;
  grpc::Status ListDossiers(grpc::ServerContext* context, const v1::ListDossiersRequest* request,
                            v1::ListDossiersResponse* response) override;

  // Events a stream commits at a time.
  static constexpr int kStreamBatch = 5000;

 private:
  class EventStream;
  // Streams record at most this many chunks at once (each a transaction).
  static constexpr int kStreamWorkers = 4;

  Filings& filings_;
  RpcGuard& guard_;
  WorkQueue stream_work_{kStreamWorkers};
};

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_API_FILING_SERVICE_H_
