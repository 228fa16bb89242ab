#include "services/api/batch_import.h"
#include "services/api/filing_service.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "grpcpp/support/proto_buffer_reader.h"
#include "grpcpp/support/proto_buffer_writer.h"
#include "grpcpp/impl/codegen/proto_utils.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/api/convert.h"
#include "services/api/filing_convert.h"
#include "services/api/malformed_requests.h"
#include "services/api/rpc_guard.h"
#include "services/common/call_limits.h"
#include "services/common/ceilings.h"
#include "services/common/status.h"
#include "services/common/text.h"

namespace pstrack {
namespace {

// Translates a batch; items that fail translation are decided here.
struct Translated {
  std::vector<FilingEvent> events;
  std::vector<int> lines;
  std::vector<int> positions;  // index in the request of each translated event
};

void Merge(const std::vector<ItemOutcome>& decided, const Translated& t, std::vector<ItemOutcome>* all) {
  for (size_t k = 0; k < decided.size(); ++k) {
    ItemOutcome o = decided[k];
    o.index = t.positions[k];
    (*all)[t.positions[k]] = std::move(o);
  }
}

// Rejects (PERMISSION_DENIED) the translated events whose agency lies
// outside the caller's scope and removes them from `t`, so that only
// in-scope items are written.
absl::StatusOr<std::vector<ItemOutcome>> DropOutOfScope(Call& call, Translated& t) {
  std::vector<ItemOutcome> dropped;
  if (call.caller().national() || t.events.empty()) return dropped;
  std::vector<std::string> codes;
  for (const FilingEvent& e : t.events) codes.push_back(e.agency_code);
  std::sort(codes.begin(), codes.end());
  codes.erase(std::unique(codes.begin(), codes.end()), codes.end());
  PSTRACK_ASSIGN_OR_RETURN(auto in_scope, call.InScope(codes));
  Translated kept;
  for (size_t k = 0; k < t.events.size(); ++k) {
    const int i = t.positions[k];
    if (in_scope[t.events[k].agency_code]) {
      kept.events.push_back(std::move(t.events[k]));
      if (!t.lines.empty()) kept.lines.push_back(t.lines[k]);
      kept.positions.push_back(i);
      continue;
    }
    ItemOutcome& o = dropped.emplace_back();
    o.index = i;
    o.key = t.events[k].event_id;
    o.outcome = WriteOutcome::kRejected;
    o.status = call.OutOfScope(absl::StrCat("events[", i, "].agency_code"), absl::StrCat("agency ", t.events[k].agency_code));
  }
  t = std::move(kept);
  return dropped;
}

// For the audit record: "1200 events, first <event id>".
std::string DescribeEvents(const std::vector<ItemOutcome>& all) {
  return absl::StrCat(all.size(), " events", all.empty() ? "" : absl::StrCat(", first ", all.front().key));
}

absl::StatusOr<DossierStatus> StatusFromProto(int v) {
  if (v < 0 || v > 10) return InvalidField("status", absl::StrCat("unknown status ", v));
  return static_cast<DossierStatus>(v);
}

absl::StatusOr<std::pair<OptionalDate, OptionalDate>> RangeFromProto(const v1::DateRange& r, absl::string_view field) {
  std::pair<OptionalDate, OptionalDate> out;
  if (r.has_start()) {
    PSTRACK_ASSIGN_OR_RETURN(out.first, DateFromProto(r.start(), absl::StrCat(field, ".start")));
  }
  if (r.has_end()) {
    PSTRACK_ASSIGN_OR_RETURN(out.second, DateFromProto(r.end(), absl::StrCat(field, ".end")));
  }
  if (!out.first || !out.second) return InvalidField(field, "needs both start and end");
  if (*out.second <= *out.first) return InvalidField(absl::StrCat(field, ".end"), "must be after start");
  return out;
}

}  // namespace

grpc::Status FilingServiceImpl::RecordEvent(grpc::ServerContext* context, const v1::RecordEventRequest* request,
                                            v1::RecordEventResponse* response) {
  return guard_.Run(context, "RecordEvent", *request, [&](Call& call) -> absl::Status {
    if (!request->has_event()) return MissingField("event");
    call.SetTarget(absl::StrCat("event ", request->event().event_id(), " of dossier ", request->event().dossier_code()));
    absl::StatusOr<FilingEvent> translated = FilingEventFromProto(request->event());
    absl::Status early = translated.status();
    if (early.ok()) early = call.RequireInScope(translated->agency_code, "event.agency_code");
    if (!early.ok()) {
      // Counted in the agency's feed log (data quality) before it is refused.
      if (!IsDatabaseFailure(early)) filings_.RecordTogether({}, {EarlyRejection{request->event().agency_code(), early}});
      return early;
    }
    const FilingEvent& event = *translated;
    if (CeilingOn(Ceiling::kNoWrite) || CeilingOn(Ceiling::kAuditOnly)) {
      if (CeilingOn(Ceiling::kNoWrite)) call.MarkAudited();
      return absl::OkStatus();
    }
    // The audit row goes in the events' transaction: one commit per group.
    AuditBuilder audit = [&](const std::vector<ItemOutcome>& outcomes) {
      AuditRow row = call.AuditDraft();
      const ItemOutcome& o = outcomes.front();
      const absl::Status status = o.outcome == WriteOutcome::kRejected ? o.status : absl::OkStatus();
      CompleteAuditRow(row, status, call.target(), CountOutcomes(outcomes), call.start());
      return row;
    };
    RecordResult result = filings_.RecordTogether({event}, {}, call.audited_method() ? &audit : nullptr);
    if (result.audited) call.MarkAudited();
    const ItemOutcome& o = result.outcomes.front();
    if (o.outcome == WriteOutcome::kRejected) return o.status;
    call.SetCounts(CountOutcomes(result.outcomes));
    response->set_outcome(o.outcome == WriteOutcome::kApplied ? v1::ItemResult::OUTCOME_APPLIED
                                                              : v1::ItemResult::OUTCOME_UNCHANGED);
    auto it = result.dossiers.find(event.dossier_code);
    if (it != result.dossiers.end()) {
      DossierStateToProto(it->second, absl::Now(), response->mutable_dossier());
    } else {
      PSTRACK_ASSIGN_OR_RETURN(DossierView view, filings_.Get(event.dossier_code, std::nullopt, false));
      DossierToProto(view, response->mutable_dossier());
    }
    return absl::OkStatus();
  });
}

grpc::Status FilingServiceImpl::RecordEvents(grpc::ServerContext* context, const v1::RecordEventsRequest* request,
                                             v1::RecordEventsResponse* response) {
  return guard_.Run(context, "RecordEvents", *request, [&](Call& call) -> absl::Status {
    const int n = request->events_size();
    PSTRACK_RETURN_IF_ERROR(CheckBatchSize("events", n, "events"));
    if (request->source_lines_size() != 0 && request->source_lines_size() != n) {
      return InvalidField("source_lines", "must be empty or as long as events");
    }
    std::vector<ItemOutcome> all(n);
    Translated t;
    std::vector<EarlyRejection> early;
    for (int i = 0; i < n; ++i) {
      all[i].index = i;
      all[i].key = request->events(i).event_id();
      all[i].source_line = request->source_lines_size() ? request->source_lines(i) : 0;
      auto e = FilingEventFromProto(request->events(i));
      if (!e.ok()) {
        all[i].status = e.status();
        early.push_back(EarlyRejection{request->events(i).agency_code(), e.status()});
        continue;
      }
      t.events.push_back(*std::move(e));
      t.lines.push_back(all[i].source_line);
      t.positions.push_back(i);
    }
    PSTRACK_ASSIGN_OR_RETURN(std::vector<ItemOutcome> dropped, DropOutOfScope(call, t));
    for (ItemOutcome& o : dropped) {
      o.source_line = all[o.index].source_line;
      early.push_back(EarlyRejection{request->events(o.index).agency_code(), o.status});
      all[o.index] = std::move(o);
    }
    Merge(filings_.Record(t.events, t.lines, early).outcomes, t, &all);
    call.SetTarget(DescribeEvents(all));
    call.SetCounts(CountOutcomes(all));
    for (const auto& o : all) ItemOutcomeToProto(o, response->add_results());
    BatchSummaryToProto(all, response->mutable_summary());
    return absl::OkStatus();
  });
}

// One StreamEvents call on gRPC's callback API: it holds no thread while it
// waits for the client's next message. Messages are decoded as they arrive
// (on gRPC's thread: a parse and a field check); every kStreamBatch of them
// make a chunk, recorded on the service's work queue while the next chunk
// is read. One chunk at a time, in order (a later chunk may continue a
// dossier of an earlier one); a full chunk waits, and reading with it,
// while the one before records. At the end the response says what was
// rejected, by position.
class FilingServiceImpl::EventStream : public grpc::ServerReadReactor<grpc::ByteBuffer> {
 public:
  // Admission (authentication, limits: store reads, and the audit of a
  // refusal: a write) runs on the work queue, never on gRPC's threads.
  EventStream(FilingServiceImpl& service, grpc::CallbackServerContext* context, grpc::ByteBuffer* response)
      : service_(service), context_(context), response_(response) {
    absl::MutexLock lock(&mu_);
    recording_ = true;  // the admission in flight
    service_.stream_work_.Run([this] {
      guarded_ = service_.guard_.Open(context_, "StreamEvents", nullptr);
      std::optional<absl::Status> end;
      {
        absl::MutexLock lock(&mu_);
        recording_ = false;
        if (!guarded_->admitted()) {
          end = EndLocked(guarded_->refusal());
        } else if (context_->IsCancelled()) {
          end = EndLocked(absl::CancelledError("the stream was cancelled"));
        } else {
          ReadLocked();
        }
      }
      if (end) Finish(guarded_->Finish(*std::move(end)));  // touches nothing after: OnDone may run inside
    });
  }

  void OnReadDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    reading_ = false;
    if (finished_) return;
    if (!ok) {  // the client finished sending
      input_ended_ = true;
      Chunk rest{std::exchange(chunk_, Chunk())};
      if (recording_) {
        waiting_ = std::move(rest);
      } else {
        RecordLocked(std::move(rest));
      }
      return;
    }
    guarded_->call().MarkActive();
    Decode();
    if (static_cast<int>(chunk_.t.events.size() + chunk_.early.size()) < kStreamBatch) {
      ReadLocked();
      return;
    }
    Chunk full{std::exchange(chunk_, Chunk())};
    if (recording_) {
      waiting_ = std::move(full);  // read on once the one before is recorded
      return;
    }
    RecordLocked(std::move(full));
    ReadLocked();
  }

  // The client cancelled, or the server ended the stream (RpcGuard's
  // reaper: --max_stream_age, --stream_idle_timeout; shutdown). With a
  // chunk or the admission in flight, that task sees it and ends the call;
  // else the end (its audit record is a write) goes to the work queue.
  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    if (recording_) return;
    std::optional<absl::Status> end = EndLocked(absl::CancelledError("the stream was cancelled"));
    if (!end) return;
    service_.stream_work_.Run([this, end = *std::move(end)] { Finish(guarded_->Finish(end)); });
  }

  void OnDone() override { delete this; }

 private:
  struct Chunk {
    Translated t;
    std::vector<EarlyRejection> early;  // since the previous chunk
  };

  void ReadLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    reading_ = true;
    StartRead(&bytes_);
  }

  // Decodes the message just read into the current chunk.
  void Decode() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    message_.Clear();
    const bool parsed = grpc::GenericDeserialize<grpc::ProtoBufferReader, v1::FilingEvent>(&bytes_, &message_).ok();
    // What a failed parse left behind may be anything (a string that is
    // not UTF-8): it is not echoed.
    if (!parsed) message_.Clear();
    absl::Status decoded = parsed ? service_.guard_.CheckMessage("StreamEvents", message_)
                                  : absl::InvalidArgumentError(MalformedRequestMessage(
                                        "/pstrack.v1.FilingService/StreamEvents", position_));
    auto e = decoded.ok() ? FilingEventFromProto(message_) : absl::StatusOr<FilingEvent>(decoded);
    if (!e.ok()) {
      ItemOutcome o;
      o.index = position_;
      o.key = Excerpt(message_.event_id());
      o.status = e.status();
      chunk_.early.push_back(EarlyRejection{Excerpt(message_.agency_code()), o.status});
      undecodable_.push_back(std::move(o));
    } else {
      chunk_.t.events.push_back(*std::move(e));
      chunk_.t.positions.push_back(position_);
    }
    ++position_;
  }

  // Records `chunk` on the work queue; then the next one waiting, or the end.
  void RecordLocked(Chunk chunk) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    recording_ = true;
    service_.stream_work_.Run([this, chunk = std::move(chunk)]() mutable {
      absl::Status recorded;
      {
        ScopedCallLimits limits(guarded_->deadline(), [this] { return context_->IsCancelled(); });
        try {
          recorded = Record(std::move(chunk));
        } catch (const std::exception& e) {
          recorded = absl::InternalError(absl::StrCat("internal error: ", e.what()));
        }
      }
      std::optional<absl::Status> end;
      {
        absl::MutexLock lock(&mu_);
        recording_ = false;
        if (finished_) return;
        if (!recorded.ok()) {
          end = EndLocked(recorded);  // everything acknowledged before it is committed
        } else if (context_->IsCancelled()) {
          end = EndLocked(absl::CancelledError("the stream was cancelled"));
        } else if (waiting_) {
          RecordLocked(*std::exchange(waiting_, std::nullopt));
          if (!input_ended_) ReadLocked();
        } else if (input_ended_) {
          end = EndLocked(Respond());
        }
      }
      // Outside the lock: gRPC may run OnDone (which deletes this) inside
      // Finish, and the audit record is a write.
      if (end) Finish(guarded_->Finish(*std::move(end)));
    });
  }

  // Records one chunk: its events and the early rejections since the
  // previous chunk. Touches rejected_ and counts_ (one chunk at a time).
  absl::Status Record(Chunk chunk) {
    Translated& t = chunk.t;
    if (t.events.empty() && chunk.early.empty()) return absl::OkStatus();
    Call& call = guarded_->call();
    PSTRACK_RETURN_IF_ERROR(call.StillValid());  // a key revoked mid-stream writes no more
    std::vector<std::string> dropped_agencies;
    for (const FilingEvent& e : t.events) dropped_agencies.push_back(e.agency_code);
    const std::vector<int> positions = t.positions;
    PSTRACK_ASSIGN_OR_RETURN(std::vector<ItemOutcome> dropped, DropOutOfScope(call, t));
    for (ItemOutcome& o : dropped) {
      const size_t k = std::find(positions.begin(), positions.end(), o.index) - positions.begin();
      chunk.early.push_back(EarlyRejection{k < dropped_agencies.size() ? dropped_agencies[k] : "", o.status});
      rejected_.push_back(std::move(o));
    }
    std::vector<ItemOutcome> outcomes = service_.filings_.Record(t.events, {}, chunk.early).outcomes;
    for (size_t k = 0; k < outcomes.size(); ++k) {
      ItemOutcome& o = outcomes[k];
      o.index = t.positions[k];
      if (o.outcome == WriteOutcome::kApplied) ++counts_.applied;
      if (o.outcome == WriteOutcome::kUnchanged) ++counts_.unchanged;
      if (o.outcome == WriteOutcome::kRejected) rejected_.push_back(std::move(o));
    }
    return absl::OkStatus();
  }

  // The response once every chunk is recorded.
  absl::Status Respond() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (ItemOutcome& o : undecodable_) rejected_.push_back(std::move(o));
    std::sort(rejected_.begin(), rejected_.end(),
              [](const ItemOutcome& a, const ItemOutcome& b) { return a.index < b.index; });
    counts_.rejected = static_cast<int>(rejected_.size());
    Call& call = guarded_->call();
    call.SetTarget(absl::StrCat(position_, " events streamed"));
    call.SetCounts(counts_);
    v1::StreamEventsResponse response;
    response.mutable_summary()->set_applied(counts_.applied);
    response.mutable_summary()->set_unchanged(counts_.unchanged);
    response.mutable_summary()->set_rejected(counts_.rejected);
    for (const auto& o : rejected_) ItemOutcomeToProto(o, response.add_rejected());
    bool own_buffer = false;
    grpc::Status serialized =
        grpc::GenericSerialize<grpc::ProtoBufferWriter, v1::StreamEventsResponse>(response, response_, &own_buffer);
    return serialized.ok() ? absl::OkStatus() : absl::InternalError(serialized.error_message());
  }

  // The status to end the call with, once; the caller then, after
  // releasing mu_, audits it (guarded_->Finish) and calls Finish, and
  // touches nothing after (gRPC may run OnDone, which deletes this, inside
  // Finish). A read still in flight completes (not ok) once the call ends.
  std::optional<absl::Status> EndLocked(absl::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return std::nullopt;
    finished_ = true;
    return status;
  }

  FilingServiceImpl& service_;
  grpc::CallbackServerContext* const context_;
  grpc::ByteBuffer* const response_;
  std::unique_ptr<GuardedCall> guarded_;
  absl::Mutex mu_;
  grpc::ByteBuffer bytes_ ABSL_GUARDED_BY(mu_);
  v1::FilingEvent message_ ABSL_GUARDED_BY(mu_);
  int position_ ABSL_GUARDED_BY(mu_) = 0;
  Chunk chunk_ ABSL_GUARDED_BY(mu_);                    // being read
  std::optional<Chunk> waiting_ ABSL_GUARDED_BY(mu_);   // full, waiting for the one recording
  std::vector<ItemOutcome> undecodable_ ABSL_GUARDED_BY(mu_);
  bool reading_ ABSL_GUARDED_BY(mu_) = false;
  bool recording_ ABSL_GUARDED_BY(mu_) = false;  // a chunk (or the admission) on the work queue
  bool input_ended_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  // The work queue's (one chunk at a time), then Respond's.
  std::vector<ItemOutcome> rejected_;
  BatchCounts counts_;
};

FilingServiceImpl::FilingServiceImpl(Filings& filings, RpcGuard& guard) : filings_(filings), guard_(guard) {}

FilingServiceImpl::~FilingServiceImpl() = default;

grpc::ServerReadReactor<grpc::ByteBuffer>* FilingServiceImpl::StreamEvents(grpc::CallbackServerContext* context,
                                                                          grpc::ByteBuffer* response) {
  return new EventStream(*this, context, response);
}

grpc::Status FilingServiceImpl::GetDossier(grpc::ServerContext* context, const v1::GetDossierRequest* request,
                                           v1::Dossier* response) {
  return guard_.Run(context, "GetDossier", *request, [&](Call& call) -> absl::Status {
    std::optional<absl::Time> as_of;
    if (request->has_as_of()) {
      PSTRACK_ASSIGN_OR_RETURN(as_of, TimeFromProto(request->as_of(), "as_of"));
    }
    PSTRACK_ASSIGN_OR_RETURN(DossierView view, filings_.Get(request->code(), as_of, !request->omit_events()));
    if (!call.caller().national()) {
      absl::Status in_scope = call.RequireInScope(view.state.agency_code, "code");
      if (!in_scope.ok()) return call.OutOfScope("code", absl::StrCat("dossier ", request->code()));
    }
    DossierToProto(view, response);
    return absl::OkStatus();
  });
}

grpc::Status FilingServiceImpl::ListDossiers(grpc::ServerContext* context, const v1::ListDossiersRequest* request,
                                             v1::ListDossiersResponse* response) {
  return guard_.Run(context, "ListDossiers", *request, [&](Call& call) -> absl::Status {
    DossierListRequest r;
    r.agency_code = request->agency_code();
    // A scoped key lists its own subtree unless it names an agency in it.
    if (r.agency_code.empty()) {
      r.agency_code = call.caller().scope_agency_code;
    } else {
      PSTRACK_RETURN_IF_ERROR(call.RequireInScope(r.agency_code, "agency_code"));
    }
    if (!request->procedure_code().empty()) {
      PSTRACK_RETURN_IF_ERROR(ValidateProcedureCode(request->procedure_code(), "procedure_code"));
    }
    r.procedure_code = request->procedure_code();
    PSTRACK_ASSIGN_OR_RETURN(r.status, StatusFromProto(request->status()));
    if (request->channel() < 0 || request->channel() > 3) {
      return InvalidField("channel", absl::StrCat("unknown channel ", request->channel()));
    }
    r.channel = static_cast<Channel>(request->channel());
    if (request->has_received()) {
      PSTRACK_ASSIGN_OR_RETURN(auto range, RangeFromProto(request->received(), "received"));
      std::tie(r.received_from, r.received_until) = range;
    }
    if (request->has_finished()) {
      PSTRACK_ASSIGN_OR_RETURN(auto range, RangeFromProto(request->finished(), "finished"));
      std::tie(r.finished_from, r.finished_until) = range;
    }
    r.overdue_only = request->overdue_only();
    r.due_within_working_days = request->due_within_working_days();
    if (request->has_as_of()) {
      PSTRACK_ASSIGN_OR_RETURN(r.as_of, TimeFromProto(request->as_of(), "as_of"));
    }
    r.page_size = request->page_size();
    r.page_token = request->page_token();
    PSTRACK_ASSIGN_OR_RETURN(DossierPage page, filings_.List(r));
    for (const DossierView& v : page.dossiers) DossierToProto(v, response->add_dossiers());
    response->set_next_page_token(page.next_page_token);
    return absl::OkStatus();
  });
}

}  // namespace pstrack
