// WatchIndicators on gRPC's callback API: a watch holds no server thread
// while it waits. One thread serves every watch: every 100 ms it looks at
// the change feed, and for each watch that may send (its first set, or the
// data changed, its interval since the last message has passed, and no
// write of it is in flight) it computes the watch's indicator set, once per
// distinct (scope, period, indicators) among the watches due, and writes it
// if it differs from the last one sent. A watch ends when the client goes
// away or cancels, the stream reaper cancels it (RpcGuard: age), or its key
// is revoked. Admission (authentication, limits, scope: store reads) runs on
// that thread too, never on gRPC's; each computation stops after 30 s.
//
// Thread-safe. Each watch's state is under its own mutex; gRPC operations
// (StartWrite, Finish) are started outside it.
#ifndef PSTRACK_SERVICES_API_INDICATOR_WATCHES_H_
#define PSTRACK_SERVICES_API_INDICATOR_WATCHES_H_

#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/support/server_callback.h"
#include "pstrack/v1/metrics.pb.h"
#include "services/api/rpc_guard.h"
#include "services/common/change_feed.h"
#include "services/metrics/metrics.h"

namespace pstrack {

class IndicatorWatches {
 public:
  IndicatorWatches(Metrics& metrics, const ChangeFeed& changes, RpcGuard& guard);
  ~IndicatorWatches();  // ends the serving thread; every watch must have ended (the server shut down first)

  // The reactor of a new WatchIndicators call (gRPC owns it until OnDone).
  grpc::ServerWriteReactor<v1::IndicatorSet>* Start(grpc::CallbackServerContext* context,
                                                   const v1::WatchIndicatorsRequest* request);

  // Watches open now.
  int size() const;

 private:
  struct Watch;
  class Reactor;

  void Serve();
  // Authenticates and validates a new watch (the serving thread).
  absl::Status Admit(Watch& w);
  bool Stopping() const;
  // One pass over the watches due at `version`.
  void Round(const std::vector<std::shared_ptr<Watch>>& watches, uint64_t version);
  void Wake();

  Metrics& metrics_;
  const ChangeFeed& changes_;
  RpcGuard& guard_;
  mutable absl::Mutex mu_;
  absl::CondVar cv_;
  std::vector<std::shared_ptr<Watch>> watches_ ABSL_GUARDED_BY(mu_);
  bool wake_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_API_INDICATOR_WATCHES_H_
