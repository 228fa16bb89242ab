// The one place every pstrack RPC passes through, in this order:
//   0. the request's limits (services/api/request_limits.h): its size for
//      its method, every string field's length; before anything else;
//   1. the deadline (a call without a deadline gets the server's longest;
//      streams excepted); a client's cancellation is noticed once the call
//      has run 5 ms, at the next check;
//   2. authentication (API key metadata or verified client certificate):
//      UNAUTHENTICATED;
//   3. the role check of the method's policy (services/security/policy.h):
//      PERMISSION_DENIED;
//   4. the caller's rate limit: RESOURCE_EXHAUSTED with "retry-after-ms"
//      trailing metadata;
//   5. the handler, under the call's limits (the store stops SQL at the
//      deadline), with an exception barrier; it checks scopes through Call;
//   6. the audit record for writes and admin actions (refusals included),
//      and the call's log line (GuardOptions::request_log).
// Every call has a request id: the caller's x-request-id metadata, or one
// made for it; it goes back in the initial metadata and on every log line
// of the call.
// Health checking and reflection are gRPC's own services and do not pass
// here (see ServerOptions::reflection).
#ifndef PSTRACK_SERVICES_API_RPC_GUARD_H_
#define PSTRACK_SERVICES_API_RPC_GUARD_H_

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/status.h"
#include "services/common/batch.h"
#include "services/common/log.h"
#include "services/common/telemetry.h"
#include "services/security/access_control.h"
#include "services/security/policy.h"

namespace pstrack {

// What a handler knows of its call: who calls, and what to audit.
class Call {
 public:
  Call(AccessControl& access, Caller caller) : access_(access), caller_(std::move(caller)) {}

  const Caller& caller() const { return caller_; }
  // PERMISSION_DENIED (naming `field` and the scope) unless the agency lies
  // in the caller's scope; NOT_FOUND for an unknown agency.
  absl::Status RequireInScope(absl::string_view agency_code, absl::string_view field) {
    return access_.RequireInScope(caller_, agency_code, field);
  }
  // Whether each agency lies in the scope (unknown ones count as inside, so
  // that the write path names them NOT_FOUND).
  absl::StatusOr<absl::flat_hash_map<std::string, bool>> InScope(const std::vector<std::string>& agency_codes) {
    return access_.InScope(caller_, agency_codes);
  }
  absl::Status OutOfScope(absl::string_view field, absl::string_view what) const {
    return AccessControl::OutOfScope(caller_, field, what);
  }
  AccessControl& access() { return access_; }
  // For streams, between messages: UNAUTHENTICATED once the key is revoked.
  absl::Status StillValid() { return access_.StillValid(caller_); }
  // For a client stream, on each message: it is not idle
  // (GuardOptions::stream_idle_timeout).
  void MarkActive() {
    if (activity_us_ != nullptr) activity_us_->store(absl::ToUnixMicros(absl::Now()), std::memory_order_relaxed);
  }
  void set_activity(std::atomic<int64_t>* activity_us) { activity_us_ = activity_us; }

  // For the audit record: what the call touched, and batch counts.
  void SetTarget(std::string target) { target_ = std::move(target); }
  void SetCounts(const BatchCounts& counts) { counts_ = counts; }
  const std::string& target() const { return target_; }
  const BatchCounts& counts() const { return counts_; }

  // For a handler that writes the call's audit row itself, in the
  // transaction of its write (unary event recording: one commit instead of
  // two): the row as the guard has it (method, caller, peer, start time),
  // to complete with the outcome. After MarkAudited the guard writes none.
  AuditRow AuditDraft() const { return draft_; }
  // Whether the call is audited at all (the method's policy says so).
  bool audited_method() const { return audited_method_; }
  absl::Time start() const { return start_; }
  void MarkAudited() { audited_ = true; }
  bool audited() const { return audited_; }
  void SetAuditDraft(AuditRow draft, absl::Time start) {
    draft_ = std::move(draft);
    start_ = start;
    audited_method_ = true;
  }

 private:
  std::atomic<int64_t>* activity_us_ = nullptr;
  AccessControl& access_;
  Caller caller_;
  std::string target_;
  BatchCounts counts_;
  AuditRow draft_;
  absl::Time start_;
  bool audited_method_ = false;
  bool audited_ = false;
};

// Which calls write a line when they end (pstrack-server's --log_requests).
enum class RequestLog { kAll, kFailures, kNone };

struct GuardOptions {
  // The calls logged when they end (LogRequest: method, code, duration,
  // caller, request id); kFailures: those that end with any status but OK.
  RequestLog request_log = RequestLog::kAll;
  // Deadline given to unary calls that come without one.
  absl::Duration max_call_duration = absl::Minutes(5);
  // The largest request of a batch method (and message of a stream): the
  // server's largest message. Other methods take kSmallRequestBytes.
  size_t max_batch_request_bytes = 64 << 20;
  // Read-your-writes: before a method that reads derived data, waits (until
  // the deadline given) for the projection of the events this server
  // acknowledged (Filings::WaitForProjection). None: nothing to wait for.
  std::function<bool(absl::Time deadline)> wait_for_projection;
  // The longest such a wait may take; the read then goes on with what is
  // projected (and says how many events it does not contain).
  absl::Duration max_projection_wait = absl::Seconds(10);
  // Streams (watches, event streams): at most this many open at once per
  // caller (its principal); a stream older than the age is ended (the
  // client reconnects); a client stream that sends nothing for the idle
  // timeout is ended.
  int max_streams_per_caller = 16;
  absl::Duration max_stream_age = absl::Hours(1);
  absl::Duration stream_idle_timeout = absl::Minutes(5);
};

// An open stream, for the per-caller cap and the reaper (RpcGuard's).
struct OpenStream {
  grpc::ServerContextBase* context;
  std::string principal;
  absl::Time start;
  bool client_stream;
  std::atomic<int64_t> activity_us;
  bool ended = false;  // cancelled by the reaper (under RpcGuard::streams_mu_)
};

class RpcGuard;

// A call the guard has begun (steps 0-4): admitted, or refused with the
// status to answer. For handlers that outlive the thread that began them
// (the callback API's streams); RpcGuard::Run uses it too. Finish, once,
// writes the audit record (step 6), frees the call's stream slot and
// converts the status for gRPC. Not thread-safe: one owner at a time.
class GuardedCall {
 public:
  ~GuardedCall();  // frees the stream slot if Finish did not
  GuardedCall(const GuardedCall&) = delete;
  GuardedCall& operator=(const GuardedCall&) = delete;

  bool admitted() const { return refusal_.ok(); }
  const absl::Status& refusal() const { return refusal_; }
  // Admitted calls only.
  Call& call() { return *call_; }
  absl::Time deadline() const { return deadline_; }
  // Whether the client cancelled (asked once the call has run a few ms).
  std::function<bool()> cancelled() const;
  const MethodPolicy& policy() const { return *policy_; }
  // The caller's x-request-id, or the one made for the call (sent back in
  // the initial metadata).
  const std::string& request_id() const { return request_id_; }
  // For a ScopedLogContext on the threads that work for the call.
  const LogContext* log_context() const { return &log_context_; }
  grpc::Status Finish(absl::Status status);

 private:
  friend class RpcGuard;
  GuardedCall(RpcGuard& guard, grpc::ServerContextBase* context) : guard_(guard), context_(context) {}

  RpcGuard& guard_;
  grpc::ServerContextBase* context_;
  const MethodPolicy* policy_ = nullptr;
  absl::Status refusal_;
  std::string request_id_;
  LogContext log_context_;
  bool audit_refusal_ = true;  // false: a flood of anonymous attempts, or no policy
  AuditRow audit_;
  absl::Time start_;
  absl::Time deadline_ = absl::InfiniteFuture();
  std::optional<Call> call_;
  OpenStream* stream_ = nullptr;
  bool finished_ = false;
};

class RpcGuard {
 public:
  RpcGuard(AccessControl& access, GuardOptions options = {});
  ~RpcGuard();  // stops the stream reaper

  // Runs `handler` for `method` (the name in pstrack's API, e.g.
  // "RecordEvents") with `request`, and converts its status for gRPC.
  grpc::Status Run(grpc::ServerContext* context, absl::string_view method, const google::protobuf::Message& request,
                   absl::FunctionRef<absl::Status(Call&)> handler);
  grpc::Status Run(grpc::ServerContext* context, absl::string_view method, const google::protobuf::Message& request,
                   absl::FunctionRef<absl::Status()> handler) {
    return Run(context, method, request, [&](Call&) { return handler(); });
  }
  // For a client stream, which has no request: the handler checks each
  // message it reads with CheckMessage.
  grpc::Status RunClientStream(grpc::ServerContext* context, absl::string_view method,
                               absl::FunctionRef<absl::Status(Call&)> handler) {
    return Run(context, method, nullptr, handler);
  }
  // Steps 0-4 for a call whose handler runs later or elsewhere (`request`
  // null for a client stream). Never null.
  std::unique_ptr<GuardedCall> Open(grpc::ServerContextBase* context, absl::string_view method,
                                    const google::protobuf::Message* request);
  // The limits of one message of `method`'s stream.
  absl::Status CheckMessage(absl::string_view method, const google::protobuf::Message& message) const;

  AccessControl& access() { return access_; }
  // Handlers running now on the server's threads (each holds one; the
  // callback API's streams hold none between their messages).
  int calls_in_flight() const { return in_flight_.load(std::memory_order_relaxed); }
  // Streams open now (of every caller).
  int open_streams() const;
  // (client streams: StreamEvents; server streams: WatchIndicators).
  std::pair<int, int> open_streams_by_kind() const;

 private:
  // The call's metrics (requests by method and code, latency, events by
  // outcome, batch sizes).
  void Count(const MethodPolicy& policy, const absl::Status& status, const BatchCounts& counts, absl::Duration took);
  telemetry::Family<telemetry::CounterSeries>* requests_ = &telemetry::Registry::Global().Counter(
      "pstrack_rpc_requests_total", "Calls answered, by method and status code (HTTP calls included).",
      {"method", "code"});
  telemetry::Family<telemetry::HistogramSeries>* latency_ = &telemetry::Registry::Global().Histogram(
      "pstrack_rpc_duration_seconds", "Time from a call's arrival to its answer, by method.",
      telemetry::LatencyBuckets(), {"method"});
  telemetry::Family<telemetry::HistogramSeries>* batch_items_ = &telemetry::Registry::Global().Histogram(
      "pstrack_batch_items", "Items per batch call (events, agencies, procedures, reports, inputs), by method.",
      {1, 10, 100, 1000, 5000, 10000, 100000}, {"method"});
  telemetry::CounterSeries* events_applied_ = &EventsCounter().With({"applied"});
  telemetry::CounterSeries* events_unchanged_ = &EventsCounter().With({"duplicate"});
  telemetry::CounterSeries* events_rejected_ = &EventsCounter().With({"refused"});
  telemetry::CounterSeries* rate_limited_ =
      &telemetry::Registry::Global()
           .Counter("pstrack_rate_limited_total", "Calls refused by a caller's rate limit (RESOURCE_EXHAUSTED).")
           .With({});
  static telemetry::Family<telemetry::CounterSeries>& EventsCounter() {
    return telemetry::Registry::Global().Counter(
        "pstrack_events_total",
        "Dossier events received, by outcome: applied (new), duplicate (already stored, no effect), refused.",
        {"outcome"});
  }
  friend class GuardedCall;
  grpc::Status Run(grpc::ServerContext* context, absl::string_view method, const google::protobuf::Message* request,
                   absl::FunctionRef<absl::Status(Call&)> handler);
  size_t MaxRequestBytes(const MethodPolicy& policy) const;

  // A slot for a stream of `principal`, or RESOURCE_EXHAUSTED at the cap.
  absl::StatusOr<OpenStream*> OpenStreamSlot(grpc::ServerContextBase* context, const std::string& principal,
                                             bool client_stream);
  void CloseStreamSlot(OpenStream* stream);
  // Ends streams past their age or idle (ServerContext::TryCancel), every second.
  void ReapStreams();

  AccessControl& access_;
  const GuardOptions options_;
  std::atomic<int> in_flight_{0};
  mutable absl::Mutex streams_mu_;
  absl::CondVar streams_cv_;
  absl::flat_hash_map<std::string, int> streams_per_caller_ ABSL_GUARDED_BY(streams_mu_);
  absl::flat_hash_set<OpenStream*> streams_ ABSL_GUARDED_BY(streams_mu_);
  bool stop_reaper_ ABSL_GUARDED_BY(streams_mu_) = false;
  std::thread reaper_;
};

// The API key a call carries: "authorization: Bearer <token>" or
// "x-api-key: <token>"; empty when none.
std::string TokenFromMetadata(const grpc::ServerContextBase& context);

// The caller's address: gRPC's peer, or for a call of the HTTP gateway
// (services/http/) the HTTP client's address it sends with the process's
// in-process secret (services/common/in_process.h).
std::string PeerOf(const grpc::ServerContextBase& context);
// Names of the verified client certificate (common name, then subject
// alternative names); empty without mutual TLS.
std::vector<std::string> CertificateSubjects(const grpc::ServerContextBase& context);

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_API_RPC_GUARD_H_
