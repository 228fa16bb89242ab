#include "services/api/indicator_watches.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/message_differencer.h"
#include "services/api/convert.h"
#include "services/api/metrics_convert.h"
#include "services/common/call_limits.h"
#include "services/common/grpc_status.h"
#include "services/common/log.h"
#include "services/common/status.h"

namespace pstrack {
namespace {

// How often the serving thread looks for changes and due watches; also the
// shortest interval a client may ask for.
constexpr absl::Duration kTick = absl::Milliseconds(100);
// The longest one computation (or an admission) may take: the store stops
// its statements then, and the watch ends with the error.
constexpr absl::Duration kQueryLimit = absl::Seconds(30);

}  // namespace

struct IndicatorWatches::Watch {
  // Set by Start; the rest by Admit on the serving thread, fixed after.
  grpc::CallbackServerContext* context = nullptr;
  v1::WatchIndicatorsRequest request;
  bool admitted = false;  // the serving thread's
  std::unique_ptr<GuardedCall> guarded;
  ScopeRequest scope;
  Period period;
  std::vector<std::string> ids;
  v1::Scope scope_proto;
  absl::Duration interval;
  std::string query_key;  // the same for watches that compute the same set

  absl::Mutex mu;
  Reactor* reactor ABSL_GUARDED_BY(mu) = nullptr;  // null once gRPC is done with it
  bool writing ABSL_GUARDED_BY(mu) = false;
  bool finishing ABSL_GUARDED_BY(mu) = false;  // Finish called, or due when the write in flight completes
  std::optional<absl::Status> end_after_write ABSL_GUARDED_BY(mu);
  bool admission_done ABSL_GUARDED_BY(mu) = false;  // guarded is set (admitted or refused)
  bool sent_first ABSL_GUARDED_BY(mu) = false;
  uint64_t seen_version ABSL_GUARDED_BY(mu) = 0;
  absl::Time next_allowed ABSL_GUARDED_BY(mu) = absl::InfinitePast();
  v1::IndicatorSet last ABSL_GUARDED_BY(mu);     // as compared (without as_of and log)
  v1::IndicatorSet writing_ ABSL_GUARDED_BY(mu);  // the message in flight (gRPC reads it until OnWriteDone)
};

class IndicatorWatches::Reactor : public grpc::ServerWriteReactor<v1::IndicatorSet> {
 public:
  Reactor(IndicatorWatches& hub, std::shared_ptr<Watch> watch) : hub_(hub), watch_(std::move(watch)) {}

  // Ends the call with `status` (audited by the guard), now or once the
  // write in flight completes. Any thread; once.
  static void End(std::shared_ptr<Watch> w, absl::Status status) {
    Reactor* reactor = nullptr;
    grpc::Status finished;
    {
      absl::MutexLock lock(&w->mu);
      if (w->finishing || w->reactor == nullptr) return;
      if (w->writing || !w->admission_done) {  // ended once the write (or the admission) completes
        if (!w->end_after_write) w->end_after_write = std::move(status);
        return;
      }
      w->finishing = true;
      reactor = w->reactor;
      // (No guarded call: its admission threw before it began.)
      finished = w->guarded != nullptr ? w->guarded->Finish(std::move(status)) : ToGrpcStatus(status);
    }
    reactor->Finish(finished);
  }

  void OnWriteDone(bool ok) override {
    std::optional<absl::Status> end;
    {
      absl::MutexLock lock(&watch_->mu);
      watch_->writing = false;
      end = std::exchange(watch_->end_after_write, std::nullopt);
    }
    if (!ok) {
      End(watch_, absl::OkStatus());  // the client went away
    } else if (end) {
      End(watch_, *std::move(end));
    } else {
      hub_.Wake();  // a change may have come meanwhile
    }
  }
  void OnCancel() override { End(watch_, absl::CancelledError("the watch was cancelled")); }
  void OnDone() override {
    {
      absl::MutexLock lock(&watch_->mu);
      watch_->reactor = nullptr;
      // A refusal or an error ended it before it began: Finish ran; the
      // slot is freed with the guarded call.
    }
    delete this;
  }

 private:
  IndicatorWatches& hub_;
  std::shared_ptr<Watch> watch_;
};

IndicatorWatches::IndicatorWatches(Metrics& metrics, const ChangeFeed& changes, RpcGuard& guard)
    : metrics_(metrics), changes_(changes), guard_(guard) {
  thread_ = std::thread([this] { Serve(); });
}

IndicatorWatches::~IndicatorWatches() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  cv_.SignalAll();
  thread_.join();
}

bool IndicatorWatches::Stopping() const {
  absl::MutexLock lock(&mu_);
  return stop_;
}

int IndicatorWatches::size() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(watches_.size());
}

void IndicatorWatches::Wake() {
  {
    absl::MutexLock lock(&mu_);
    wake_ = true;
  }
  cv_.Signal();
}

grpc::ServerWriteReactor<v1::IndicatorSet>* IndicatorWatches::Start(grpc::CallbackServerContext* context,
                                                                   const v1::WatchIndicatorsRequest* request) {
  auto w = std::make_shared<Watch>();
  auto* reactor = new Reactor(*this, w);
  w->context = context;
  w->request = *request;
  {
    absl::MutexLock lock(&w->mu);
    w->reactor = reactor;
  }
  {
    absl::MutexLock lock(&mu_);
    watches_.push_back(std::move(w));
    wake_ = true;
  }
  cv_.Signal();
  return reactor;
}

absl::Status IndicatorWatches::Admit(Watch& w) {
  // Authentication and limits read the store: here, not on gRPC's threads.
  w.guarded = guard_.Open(w.context, "WatchIndicators", &w.request);
  if (!w.guarded->admitted()) return w.guarded->refusal();
  ScopedCallLimits limits(std::min(w.guarded->deadline(), absl::Now() + kQueryLimit), w.guarded->cancelled());
  Call& call = w.guarded->call();
  const v1::WatchIndicatorsRequest& request = w.request;
  PSTRACK_ASSIGN_OR_RETURN(w.scope, ScopeFromProto(request.scope(), request.has_scope(), "scope"));
  PSTRACK_RETURN_IF_ERROR(call.RequireInScope(w.scope.agency_code, "scope.agency_code"));
  PSTRACK_ASSIGN_OR_RETURN(w.period, PeriodFromProto(request.period(), request.has_period(), "period"));
  w.interval = absl::Seconds(1);
  if (request.has_min_interval()) {
    w.interval = absl::Seconds(request.min_interval().seconds()) + absl::Nanoseconds(request.min_interval().nanos());
    if (w.interval < kTick) return InvalidField("min_interval", "must be at least 100 ms");
  }
  w.ids = Ids(request.indicator_ids());
  v1::WatchIndicatorsRequest key = request;
  key.clear_min_interval();
  w.query_key = key.SerializeAsString();
  return absl::OkStatus();
}

void IndicatorWatches::Serve() {
  for (;;) {
    std::vector<std::shared_ptr<Watch>> watches;
    {
      absl::MutexLock lock(&mu_);
      if (!wake_ && !stop_) cv_.WaitWithTimeout(&mu_, kTick);
      if (stop_) return;
      wake_ = false;
      // Watches gRPC is done with leave the list.
      std::erase_if(watches_, [](const std::shared_ptr<Watch>& w) {
        absl::MutexLock watch_lock(&w->mu);
        return w->reactor == nullptr;
      });
      watches = watches_;
    }
    Round(watches, changes_.version());
  }
}

void IndicatorWatches::Round(const std::vector<std::shared_ptr<Watch>>& watches, uint64_t version) {
  const absl::Time now = absl::Now();
  absl::flat_hash_map<std::string, absl::StatusOr<IndicatorSetResult>> computed;  // by query, this round
  for (const std::shared_ptr<Watch>& w : watches) {
    if (Stopping()) return;
    if (!w->admitted) {
      {
        absl::MutexLock lock(&w->mu);
        if (w->reactor == nullptr || w->finishing) continue;
      }
      absl::Status admitted;
      try {
        admitted = Admit(*w);
      } catch (const std::exception& e) {
        admitted = absl::InternalError(absl::StrCat("internal error: ", e.what()));
      }
      std::optional<absl::Status> cancelled;
      {
        absl::MutexLock lock(&w->mu);
        w->admission_done = true;
        cancelled = std::exchange(w->end_after_write, std::nullopt);
      }
      if (!admitted.ok() || cancelled) {
        Reactor::End(w, admitted.ok() ? *cancelled : admitted);
        continue;
      }
      w->admitted = true;
    }
    {
      absl::MutexLock lock(&w->mu);
      if (w->reactor == nullptr || w->finishing || w->writing || now < w->next_allowed) continue;
      if (w->sent_first && w->seen_version == version) continue;
    }
    // A revoked key's watch ends.
    if (absl::Status valid = w->guarded->call().StillValid(); !valid.ok()) {
      Reactor::End(w, valid);
      continue;
    }
    auto it = computed.find(w->query_key);
    if (it == computed.end()) {
      absl::StatusOr<IndicatorSetResult> result;
      try {
        ScopedCallLimits limits(absl::Now() + kQueryLimit);
        result = metrics_.Indicators(w->scope, w->period, w->ids, std::nullopt);
      } catch (const std::exception& e) {
        result = absl::InternalError(absl::StrCat("internal error: ", e.what()));
      }
      it = computed.emplace(w->query_key, std::move(result)).first;
    }
    if (!it->second.ok()) {
      Reactor::End(w, it->second.status());
      continue;
    }
    const IndicatorSetResult& r = *it->second;
    v1::IndicatorSet set;
    *set.mutable_scope() = w->scope_proto;
    PeriodToProto(r.period, set.mutable_period());
    for (const auto& v : r.values) ValueToProto(v, set.add_values());
    Reactor* reactor = nullptr;
    const v1::IndicatorSet* message = nullptr;
    {
      absl::MutexLock lock(&w->mu);
      if (w->reactor == nullptr || w->finishing || w->writing) continue;
      w->seen_version = version;
      // The first set, then only sets whose values changed; at most one
      // message per interval.
      if (w->sent_first && google::protobuf::util::MessageDifferencer::Equals(set, w->last)) continue;
      w->last = set;
      TimeToProto(r.as_of, set.mutable_as_of());
      LogToProto(r.log, set.mutable_log());
      w->writing_ = std::move(set);
      w->writing = true;
      w->sent_first = true;
      w->next_allowed = now + w->interval;
      reactor = w->reactor;
      message = &w->writing_;
    }
    // OnDone cannot run while a write is in flight, so the reactor lives.
    reactor->StartWrite(message);
  }
}

}  // namespace pstrack
