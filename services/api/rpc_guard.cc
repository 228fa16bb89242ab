#include "services/api/rpc_guard.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/security/auth_context.h"
#include "services/api/request_limits.h"
#include "services/common/call_limits.h"
#include "services/common/grpc_status.h"
#include "services/common/in_process.h"
#include "services/common/log.h"
#include "services/common/text.h"

namespace pstrack {
namespace {

constexpr absl::Duration kCancelCheckAfter = absl::Milliseconds(5);

}  // namespace

std::string TokenFromMetadata(const grpc::ServerContextBase& context) {
  const auto& md = context.client_metadata();
  auto it = md.find("authorization");
  if (it != md.end()) {
    absl::string_view value(it->second.data(), it->second.size());
    value = absl::StripAsciiWhitespace(value);
    if (value.size() > 7 && absl::EqualsIgnoreCase(value.substr(0, 7), "bearer ")) value.remove_prefix(7);
    return std::string(absl::StripAsciiWhitespace(value));
  }
  it = md.find("x-api-key");
  if (it != md.end()) return std::string(absl::StripAsciiWhitespace(absl::string_view(it->second.data(), it->second.size())));
  return "";
}

std::string PeerOf(const grpc::ServerContextBase& context) {
  const auto& md = context.client_metadata();
  auto secret = md.find(kInProcessSecretKey);
  auto peer = md.find(kHttpPeerKey);
  if (secret == md.end() || peer == md.end() ||
      absl::string_view(secret->second.data(), secret->second.size()) != InProcessSecret()) {
    return context.peer();
  }
  return std::string(peer->second.data(), std::min<size_t>(peer->second.size(), 128));
}

std::vector<std::string> CertificateSubjects(const grpc::ServerContextBase& context) {
  std::vector<std::string> out;
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (!auth || !auth->IsPeerAuthenticated()) return out;
  for (const char* property : {"x509_common_name", "x509_subject_alternative_name"}) {
    for (const grpc::string_ref& v : auth->FindPropertyValues(property)) {
      std::string s(v.data(), v.size());
      if (!s.empty() && std::find(out.begin(), out.end(), s) == out.end()) out.push_back(std::move(s));
    }
  }
  return out;
}

size_t RpcGuard::MaxRequestBytes(const MethodPolicy& policy) const {
  return policy.batch ? options_.max_batch_request_bytes : kSmallRequestBytes;
}

absl::Status RpcGuard::CheckMessage(absl::string_view method, const google::protobuf::Message& message) const {
  const MethodPolicy* policy = FindMethodPolicy(method);
  if (policy == nullptr) return absl::InternalError(absl::StrCat("no access policy for ", method));
  return CheckRequestLimits(message, method, MaxRequestBytes(*policy));
}

RpcGuard::RpcGuard(AccessControl& access, GuardOptions options) : access_(access), options_(std::move(options)) {
  reaper_ = std::thread([this] { ReapStreams(); });
}

RpcGuard::~RpcGuard() {
  {
    absl::MutexLock lock(&streams_mu_);
    stop_reaper_ = true;
    streams_cv_.SignalAll();
  }
  reaper_.join();
}

absl::StatusOr<OpenStream*> RpcGuard::OpenStreamSlot(grpc::ServerContextBase* context,
                                                              const std::string& principal, bool client_stream) {
  absl::MutexLock lock(&streams_mu_);
  int& open = streams_per_caller_[principal];
  if (open >= options_.max_streams_per_caller) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "at most ", options_.max_streams_per_caller, " streams may be open at once per caller (",
        principal, " has ", open, "; --max_streams_per_key): close one, or wait for one to end, and retry"));
  }
  ++open;
  auto* stream = new OpenStream{context, principal, absl::Now(), client_stream, {absl::ToUnixMicros(absl::Now())}};
  streams_.insert(stream);
  return stream;
}

void RpcGuard::CloseStreamSlot(OpenStream* stream) {
  absl::MutexLock lock(&streams_mu_);
  if (--streams_per_caller_[stream->principal] == 0) streams_per_caller_.erase(stream->principal);
  streams_.erase(stream);
  delete stream;
}

void RpcGuard::ReapStreams() {
  absl::MutexLock lock(&streams_mu_);
  while (!stop_reaper_) {
    streams_cv_.WaitWithTimeout(&streams_mu_, absl::Seconds(1));
    const absl::Time now = absl::Now();
    for (OpenStream* s : streams_) {
      if (s->ended) continue;
      const bool old = now - s->start >= options_.max_stream_age;
      const bool idle = s->client_stream && now - absl::FromUnixMicros(s->activity_us.load(std::memory_order_relaxed)) >=
                                                   options_.stream_idle_timeout;
      if (!old && !idle) continue;
      LogInfo("ending a stream of ", s->principal, " from ", PeerOf(*s->context), ": ",
              old ? absl::StrCat("older than ", absl::FormatDuration(options_.max_stream_age), " (--max_stream_age)")
                  : absl::StrCat("nothing sent for ", absl::FormatDuration(options_.stream_idle_timeout),
                                 " (--stream_idle_timeout)"));
      s->ended = true;
      s->context->TryCancel();
    }
  }
}

int RpcGuard::open_streams() const {
  absl::MutexLock lock(&streams_mu_);
  return static_cast<int>(streams_.size());
}

std::pair<int, int> RpcGuard::open_streams_by_kind() const {
  absl::MutexLock lock(&streams_mu_);
  int client = 0;
  for (const auto& s : streams_) client += s->client_stream;
  return {client, static_cast<int>(streams_.size()) - client};
}

void RpcGuard::Count(const MethodPolicy& policy, const absl::Status& status, const BatchCounts& counts,
                     absl::Duration took) {
  requests_->With({policy.full_name(), absl::StatusCodeToString(status.code())}).Add();
  latency_->With({policy.full_name()}).Observe(absl::ToDoubleSeconds(took));
  const int items = counts.applied + counts.unchanged + counts.rejected;
  if (policy.batch && items > 0) batch_items_->With({policy.full_name()}).Observe(items);
  if (absl::StartsWith(policy.method, "RecordEvent") || policy.method == "StreamEvents") {
    if (counts.applied > 0) events_applied_->Add(counts.applied);
    if (counts.unchanged > 0) events_unchanged_->Add(counts.unchanged);
    int rejected = counts.rejected;
    // A unary RecordEvent refused for what it sent counts its one event.
    if (items == 0 && policy.method == "RecordEvent" &&
        (status.code() == absl::StatusCode::kInvalidArgument || status.code() == absl::StatusCode::kNotFound ||
         status.code() == absl::StatusCode::kAlreadyExists || status.code() == absl::StatusCode::kPermissionDenied)) {
      rejected = 1;
    }
    if (rejected > 0) events_rejected_->Add(rejected);
  }
}

grpc::Status RpcGuard::Run(grpc::ServerContext* context, absl::string_view method,
                           const google::protobuf::Message& request, absl::FunctionRef<absl::Status(Call&)> handler) {
  return Run(context, method, &request, handler);
}

grpc::Status RpcGuard::Run(grpc::ServerContext* context, absl::string_view method,
                           const google::protobuf::Message* request, absl::FunctionRef<absl::Status(Call&)> handler) {
  in_flight_.fetch_add(1, std::memory_order_relaxed);
  struct Leaving {
    std::atomic<int>& n;
    ~Leaving() { n.fetch_sub(1, std::memory_order_relaxed); }
  } leaving{in_flight_};
  std::unique_ptr<GuardedCall> guarded = Open(context, method, request);
  if (!guarded->admitted()) return guarded->Finish(guarded->refusal());
  const absl::Time deadline = guarded->deadline();
  absl::Status status;
  {
    ScopedCallLimits limits(deadline, guarded->cancelled());
    status = CheckCallLimits();
    if (status.ok() && guarded->policy().reads_projection && options_.wait_for_projection) {
      options_.wait_for_projection(std::min(deadline, absl::Now() + options_.max_projection_wait));
    }
    if (status.ok()) {
      ScopedLogContext log_context(guarded->log_context());
      try {
        status = handler(guarded->call());
      } catch (const std::exception& e) {
        status = absl::InternalError(absl::StrCat("internal error: ", e.what()));
      }
    }
    // A handler that was stopped by its deadline may report it in other
    // words (a failed batch); say what happened.
    if (!status.ok() && status.code() != absl::StatusCode::kDeadlineExceeded) {
      absl::Status limit = CheckCallLimits();
      if (!limit.ok() && limit.code() == absl::StatusCode::kDeadlineExceeded) status = limit;
    }
  }
  return guarded->Finish(status);
}

std::unique_ptr<GuardedCall> RpcGuard::Open(grpc::ServerContextBase* context, absl::string_view method,
                                            const google::protobuf::Message* request) {
  std::unique_ptr<GuardedCall> g(new GuardedCall(*this, context));
  g->start_ = absl::Now();
  {
    const auto& md = context->client_metadata();
    auto it = md.find("x-request-id");
    const absl::string_view given =
        it == md.end() ? absl::string_view() : absl::string_view(it->second.data(), it->second.size());
    g->request_id_ = IsValidRequestId(given) ? std::string(given) : NewRequestId();
    context->AddInitialMetadata("x-request-id", g->request_id_);
  }
  g->policy_ = FindMethodPolicy(method);
  if (g->policy_ == nullptr) {
    // Fail closed: a method without a policy is never served.
    LogError("no access policy for method ", method);
    g->refusal_ = absl::InternalError(absl::StrCat("no access policy for ", method));
    g->audit_refusal_ = false;
    return g;
  }
  const MethodPolicy& policy = *g->policy_;
  // Before any other work: a request over its limits costs nothing more
  // than this walk, whoever sends it.
  if (request != nullptr) {
    if (absl::Status bounded = CheckRequestLimits(*request, method, MaxRequestBytes(policy)); !bounded.ok()) {
      g->refusal_ = bounded;
      g->audit_refusal_ = false;
      return g;
    }
  }
  g->audit_.method = policy.full_name();
  g->log_context_ = LogContext{g->audit_.method, g->request_id_, {}};
  g->audit_.peer = PeerOf(*context);
  g->audit_.principal = "anonymous";

  // gRPC reports "no deadline" as the largest time point.
  g->deadline_ = context->deadline() == std::chrono::system_clock::time_point::max()
                     ? absl::InfiniteFuture()
                     : absl::FromChrono(context->deadline());
  if (!policy.stream && !policy.long_running) g->deadline_ = std::min(g->deadline_, g->start_ + options_.max_call_duration);

  absl::StatusOr<Caller> caller;
  {
    ScopedCallLimits limits(g->deadline_, g->cancelled());
    caller = access_.Authenticate(TokenFromMetadata(*context), CertificateSubjects(*context));
  }
  if (!caller.ok()) {
    g->refusal_ = caller.status();
    // A flood of anonymous attempts: refused, not recorded.
    if (policy.audited && !access_.AuditAnonymousAttempt(g->audit_.peer)) g->audit_refusal_ = false;
    return g;
  }
  g->audit_.principal = caller->principal;
  g->log_context_.key_id = g->audit_.principal;
  g->audit_.role = static_cast<int>(caller->role);
  if (absl::Status role = AccessControl::CheckRole(*caller, policy); !role.ok()) {
    g->refusal_ = role;
    return g;
  }
  absl::Duration retry_after;
  if (absl::Status admitted = access_.Admit(*caller, &retry_after); !admitted.ok()) {
    rate_limited_->Add();
    context->AddTrailingMetadata("retry-after-ms", std::to_string(absl::ToInt64Milliseconds(retry_after) + 1));
    g->refusal_ = admitted;
    return g;
  }
  // A stream takes one of its caller's slots for its lifetime.
  if (policy.stream) {
    absl::StatusOr<OpenStream*> slot = OpenStreamSlot(context, caller->principal, /*client_stream=*/policy.batch);
    if (!slot.ok()) {
      g->refusal_ = slot.status();
      return g;
    }
    g->stream_ = *slot;
  }
  g->call_.emplace(access_, *std::move(caller));
  if (g->stream_ != nullptr) g->call_->set_activity(&g->stream_->activity_us);
  if (policy.audited) {
    AuditRow draft = g->audit_;
    draft.at_us = absl::ToUnixMicros(g->start_);
    g->call_->SetAuditDraft(std::move(draft), g->start_);
  }
  return g;
}

std::function<bool()> GuardedCall::cancelled() const {
  // Whether the client cancelled is asked only once the call has run a few
  // milliseconds: asking polls gRPC's completion queue, and asked before
  // every transaction it was a tenth of a unary write; a shorter call ends
  // before a cancellation could spare any work.
  return [context = context_, start = start_] {
    return absl::Now() - start >= kCancelCheckAfter && context->IsCancelled();
  };
}

GuardedCall::~GuardedCall() {
  if (stream_ != nullptr) guard_.CloseStreamSlot(std::exchange(stream_, nullptr));
}

grpc::Status GuardedCall::Finish(absl::Status status) {
  if (finished_) return ToGrpcStatus(status);
  finished_ = true;
  if (stream_ != nullptr) guard_.CloseStreamSlot(std::exchange(stream_, nullptr));
  if (policy_ == nullptr) return ToGrpcStatus(status);
  const bool refused = !refusal_.ok();
  const Call* call = call_.has_value() ? &*call_ : nullptr;
  const absl::Duration took = absl::Now() - start_;
  guard_.Count(*policy_, status, call != nullptr ? call->counts() : BatchCounts{}, took);
  const bool server_fault = status.code() == absl::StatusCode::kInternal ||
                            status.code() == absl::StatusCode::kUnknown || status.code() == absl::StatusCode::kDataLoss;
  const RequestLog log = guard_.options_.request_log;
  if (server_fault || log == RequestLog::kAll || (log == RequestLog::kFailures && !status.ok())) {
    const std::string method = policy_->full_name();
    const std::string code = absl::StatusCodeToString(status.code());
    const std::string peer = audit_.peer.empty() ? PeerOf(*context_) : audit_.peer;
    const std::string message = status.ok() ? std::string() : TruncateUtf8(status.message(), 1024);
    LogRequest(server_fault ? LogLevel::kError : LogLevel::kInfo,
               RequestRecord{method, code, took, log_context_.key_id, request_id_, peer, message});
  }
  if (policy_->audited && !(call != nullptr && call->audited()) && !(refused && !audit_refusal_)) {
    audit_.at_us = absl::ToUnixMicros(start_);
    CompleteAuditRow(audit_, status, call != nullptr ? call->target() : "",
                     call != nullptr ? call->counts() : BatchCounts{}, start_);
    absl::Status written = guard_.access_.Audit(audit_);
    if (!written.ok()) LogError("audit record for ", audit_.method, " not written: ", written.ToString());
  }
  return ToGrpcStatus(status);
}

}  // namespace pstrack
