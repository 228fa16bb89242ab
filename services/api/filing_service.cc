#include "services/api/batch_import.h"
#include "services/api/filing_service.h"

#include <algorithm>
#include <future>
#include <utility>

#include "grpcpp/support/proto_buffer_reader.h"
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

FilingServiceImpl::FilingServiceImpl(Filings& filings, RpcGuard& guard) : filings_(filings), guard_(guard) {
  // The generated handler of StreamEvents gives way to one that reads bytes
  // (a client stream's handler; "streamed" is gRPC's name for replacing a
  // method's handler, and a client stream is served as a bidirectional one
  // with no payload read in advance, as before).
  const int index = v1::FilingEvent::descriptor()->file()->FindServiceByName("FilingService")
                        ->FindMethodByName("StreamEvents")->index();
  MarkMethodStreamed(index, new grpc::internal::ClientStreamingHandler<FilingServiceImpl, grpc::ByteBuffer,
                                                                       v1::StreamEventsResponse>(
                                [](FilingServiceImpl* service, grpc::ServerContext* context,
                                   grpc::ServerReader<grpc::ByteBuffer>* reader, v1::StreamEventsResponse* response) {
                                  return service->StreamEvents(context, reader, response);
                                },
                                this));
}

grpc::Status FilingServiceImpl::StreamEvents(grpc::ServerContext* context, grpc::ServerReader<grpc::ByteBuffer>* reader,
                                             v1::StreamEventsResponse* response) {
  return guard_.RunClientStream(context, "StreamEvents", [&](Call& call) -> absl::Status {
    std::vector<ItemOutcome> rejected;
    BatchCounts counts;
    int position = 0;
    // Records one chunk (its events and the early rejections since the
    // previous chunk); touches `rejected` and `counts`.
    auto record = [&](Translated t, std::vector<EarlyRejection> early) -> absl::Status {
      if (t.events.empty() && early.empty()) return absl::OkStatus();
      PSTRACK_RETURN_IF_ERROR(call.StillValid());  // a key revoked mid-stream writes no more
      std::vector<std::string> dropped_agencies;
      for (const FilingEvent& e : t.events) dropped_agencies.push_back(e.agency_code);
      const std::vector<int> positions = t.positions;
      PSTRACK_ASSIGN_OR_RETURN(std::vector<ItemOutcome> dropped, DropOutOfScope(call, t));
      for (ItemOutcome& o : dropped) {
        const size_t k = std::find(positions.begin(), positions.end(), o.index) - positions.begin();
        early.push_back(EarlyRejection{k < dropped_agencies.size() ? dropped_agencies[k] : "", o.status});
        rejected.push_back(std::move(o));
      }
      std::vector<ItemOutcome> outcomes = filings_.Record(t.events, {}, early).outcomes;
      for (size_t k = 0; k < outcomes.size(); ++k) {
        ItemOutcome& o = outcomes[k];
        o.index = t.positions[k];
        if (o.outcome == WriteOutcome::kApplied) ++counts.applied;
        if (o.outcome == WriteOutcome::kUnchanged) ++counts.unchanged;
        if (o.outcome == WriteOutcome::kRejected) rejected.push_back(std::move(o));
      }
      return absl::OkStatus();
    };
    // A chunk is recorded on a thread of its own while this one reads and
    // decodes the next, message by message (a stream went at 0.69-0.74 of
    // the batch rate with the two in turn, 0.79-0.91 overlapped). One chunk
    // at a time, in order (a later chunk may continue a dossier of an
    // earlier one).
    const absl::Time deadline = CurrentCallDeadline();
    std::future<absl::Status> recording;  // the chunk in flight; declared after what it touches
    auto flush = [&](Translated t, std::vector<EarlyRejection> early) -> absl::Status {
      if (recording.valid()) PSTRACK_RETURN_IF_ERROR(recording.get());
      recording = std::async(std::launch::async, [&, t = std::move(t), early = std::move(early)]() mutable {
        ScopedCallLimits limits(deadline, [context] { return context->IsCancelled(); });
        return record(std::move(t), std::move(early));
      });
      return absl::OkStatus();
    };
    std::vector<ItemOutcome> undecodable;  // this thread's, while a chunk records
    Translated t;
    std::vector<EarlyRejection> early;  // since the last chunk
    grpc::ByteBuffer bytes;
    v1::FilingEvent message;
    while (reader->Read(&bytes)) {
      if (context->IsCancelled()) return absl::CancelledError("the client cancelled the stream");
      call.MarkActive();
      message.Clear();
      const bool parsed = grpc::GenericDeserialize<grpc::ProtoBufferReader, v1::FilingEvent>(&bytes, &message).ok();
      // What a failed parse left behind may be anything (a string that is
      // not UTF-8): it is not echoed.
      if (!parsed) message.Clear();
      absl::Status decoded = parsed ? guard_.CheckMessage("StreamEvents", message)
                                    : absl::InvalidArgumentError(MalformedRequestMessage(
                                          "/pstrack.v1.FilingService/StreamEvents", position));
      auto e = decoded.ok() ? FilingEventFromProto(message) : absl::StatusOr<FilingEvent>(decoded);
      if (!e.ok()) {
        ItemOutcome o;
        o.index = position;
        o.key = Excerpt(message.event_id());
        o.status = e.status();
        early.push_back(EarlyRejection{Excerpt(message.agency_code()), o.status});
        undecodable.push_back(std::move(o));
      } else {
        t.events.push_back(*std::move(e));
        t.positions.push_back(position);
      }
      ++position;
      if (static_cast<int>(t.events.size() + early.size()) >= kStreamBatch) {
        PSTRACK_RETURN_IF_ERROR(flush(std::exchange(t, Translated()), std::exchange(early, {})));
      }
    }
    PSTRACK_RETURN_IF_ERROR(flush(std::move(t), std::move(early)));
    PSTRACK_RETURN_IF_ERROR(recording.get());
    for (ItemOutcome& o : undecodable) rejected.push_back(std::move(o));
    std::sort(rejected.begin(), rejected.end(), [](const ItemOutcome& a, const ItemOutcome& b) { return a.index < b.index; });
    counts.rejected = static_cast<int>(rejected.size());
    call.SetTarget(absl::StrCat(position, " events streamed"));
    call.SetCounts(counts);
    response->mutable_summary()->set_applied(counts.applied);
    response->mutable_summary()->set_unchanged(counts.unchanged);
    response->mutable_summary()->set_rejected(counts.rejected);
    for (const auto& o : rejected) ItemOutcomeToProto(o, response->add_rejected());
    return absl::OkStatus();
  });
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
