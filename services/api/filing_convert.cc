#include "services/api/filing_convert.h"

#include "absl/strings/str_cat.h"
#include "services/api/convert.h"
#include "services/common/status.h"

namespace pstrack {

absl::StatusOr<absl::Time> TimeFromProto(const google::protobuf::Timestamp& t, absl::string_view field) {
  if (t.nanos() < 0 || t.nanos() > 999999999) return InvalidField(field, "nanos out of range");
  // Truncate to microseconds: the precision stored and compared.
  return absl::FromUnixMicros(t.seconds() * 1000000 + t.nanos() / 1000);
}

absl::StatusOr<FilingEvent> FilingEventFromProto(const v1::FilingEvent& in) {
  FilingEvent e;
  e.event_id = in.event_id();
  e.dossier_code = in.dossier_code();
  e.agency_code = in.agency_code();
  e.procedure_code = in.procedure_code();
  if (in.has_occurred_at()) {
    PSTRACK_ASSIGN_OR_RETURN(e.occurred_at, TimeFromProto(in.occurred_at(), "event.occurred_at"));
  }
  using P = v1::FilingEvent;
  switch (in.kind_case()) {
    case P::kRegisteredOnline: e.kind = EventKind::kRegisteredOnline; break;
    case P::kReceived: {
      e.kind = EventKind::kReceived;
      int channel = in.received().channel();
      if (channel < 0 || channel > 3) return InvalidField("event.received.channel", absl::StrCat("unknown channel ", channel));
      e.channel = static_cast<Channel>(channel);
      if (in.received().has_declared_appointment_date()) {
        PSTRACK_ASSIGN_OR_RETURN(e.declared_appointment, DateFromProto(in.received().declared_appointment_date(),
                                                                       "event.received.declared_appointment_date"));
      }
      break;
    }
    case P::kNotAccepted:
      e.kind = EventKind::kNotAccepted;
      e.reason = in.not_accepted().reason();
      break;
    case P::kProcessingStarted: e.kind = EventKind::kProcessingStarted; break;
    case P::kSupplementRequested:
      e.kind = EventKind::kSupplementRequested;
      e.reason = in.supplement_requested().reason();
      break;
    case P::kSupplementReceived: e.kind = EventKind::kSupplementReceived; break;
    case P::kFinancialObligationRequested:
      e.kind = EventKind::kFinancialObligationRequested;
      e.amount_vnd = in.financial_obligation_requested().amount_vnd();
      break;
    case P::kWithdrawn:
      e.kind = EventKind::kWithdrawn;
      e.reason = in.withdrawn().reason();
      break;
    case P::kStopped:
      e.kind = EventKind::kStopped;
      e.reason = in.stopped().reason();
      break;
    case P::kResolved:
      e.kind = EventKind::kResolved;
      e.electronic_result = in.resolved().electronic_result();
      e.processed_electronically = in.resolved().processed_electronically();
      e.signed_electronically = in.resolved().signed_electronically();
      break;
    case P::kResultReturned:
      e.kind = EventKind::kResultReturned;
      e.returned_remotely = in.result_returned().returned_remotely();
      break;
    case P::kReappointed:
      e.kind = EventKind::kReappointed;
      e.reason = in.reappointed().reason();
      if (in.reappointed().has_new_appointment_date()) {
        PSTRACK_ASSIGN_OR_RETURN(e.new_appointment, DateFromProto(in.reappointed().new_appointment_date(),
                                                                  "event.reappointed.new_appointment_date"));
      }
      break;
    case P::kPayment:
      e.kind = EventKind::kPayment;
      e.amount_vnd = in.payment().amount_vnd();
      e.paid_online = in.payment().online();
      break;
    case P::kDigitised:
      e.kind = EventKind::kDigitised;
      e.digitised_documents = in.digitised().documents();
      e.digitised_result = in.digitised().result();
      e.reused_data = in.digitised().reused_data();
      e.population_db_used = in.digitised().population_db_used();
      e.shared_for_reuse = in.digitised().shared_for_reuse();
      break;
    case P::kFeedback: {
      e.kind = EventKind::kFeedback;
      int rating = in.feedback().rating();
      if (rating < 0 || rating > 4) return InvalidField("event.feedback.rating", absl::StrCat("unknown rating ", rating));
      e.rating = static_cast<Rating>(rating);
      e.complaint = in.feedback().complaint();
      break;
    }
    case P::KIND_NOT_SET:
      return InvalidField("event.kind", "set exactly one kind (received, resolved, ...)");
  }
  return e;
}

void FilingEventToProto(const FilingEvent& e, v1::FilingEvent* out) {
  out->set_event_id(e.event_id);
  out->set_dossier_code(e.dossier_code);
  out->set_agency_code(e.agency_code);
  out->set_procedure_code(e.procedure_code);
  TimeToProto(e.occurred_at, out->mutable_occurred_at());
  switch (e.kind) {
    case EventKind::kRegisteredOnline: out->mutable_registered_online(); break;
    case EventKind::kReceived:
      out->mutable_received()->set_channel(static_cast<v1::Channel>(e.channel));
      if (e.declared_appointment) {
        DateToProto(*e.declared_appointment, out->mutable_received()->mutable_declared_appointment_date());
      }
      break;
    case EventKind::kNotAccepted: out->mutable_not_accepted()->set_reason(e.reason); break;
    case EventKind::kProcessingStarted: out->mutable_processing_started(); break;
    case EventKind::kSupplementRequested: out->mutable_supplement_requested()->set_reason(e.reason); break;
    case EventKind::kSupplementReceived: out->mutable_supplement_received(); break;
    case EventKind::kFinancialObligationRequested:
      out->mutable_financial_obligation_requested()->set_amount_vnd(e.amount_vnd);
      break;
    case EventKind::kWithdrawn: out->mutable_withdrawn()->set_reason(e.reason); break;
    case EventKind::kStopped: out->mutable_stopped()->set_reason(e.reason); break;
    case EventKind::kResolved:
      out->mutable_resolved()->set_electronic_result(e.electronic_result);
      out->mutable_resolved()->set_processed_electronically(e.processed_electronically);
      out->mutable_resolved()->set_signed_electronically(e.signed_electronically);
      break;
    case EventKind::kResultReturned: out->mutable_result_returned()->set_returned_remotely(e.returned_remotely); break;
    case EventKind::kReappointed:
      out->mutable_reappointed()->set_reason(e.reason);
      if (e.new_appointment) DateToProto(*e.new_appointment, out->mutable_reappointed()->mutable_new_appointment_date());
      break;
    case EventKind::kPayment:
      out->mutable_payment()->set_amount_vnd(e.amount_vnd);
      out->mutable_payment()->set_online(e.paid_online);
      break;
    case EventKind::kDigitised: {
      auto* d = out->mutable_digitised();
      d->set_documents(e.digitised_documents);
      d->set_result(e.digitised_result);
      d->set_reused_data(e.reused_data);
      d->set_population_db_used(e.population_db_used);
      d->set_shared_for_reuse(e.shared_for_reuse);
      break;
    }
    case EventKind::kFeedback:
      out->mutable_feedback()->set_rating(static_cast<v1::SatisfactionRating>(e.rating));
      out->mutable_feedback()->set_complaint(e.complaint);
      break;
    case EventKind::kUnspecified: break;
  }
}

void DossierStateToProto(const DossierState& s, absl::Time as_of, v1::Dossier* out) {
  out->set_code(s.code);
  out->set_agency_code(s.agency_code);
  out->set_procedure_code(s.procedure_code);
  out->set_status(static_cast<v1::DossierStatus>(s.status));
  out->set_channel(static_cast<v1::Channel>(s.channel));
  if (s.registered_time) TimeToProto(*s.registered_time, out->mutable_registered_time());
  if (s.received_time) TimeToProto(*s.received_time, out->mutable_received_time());
  if (s.appointment) {
    TimeToProto(s.appointment->clock_start, out->mutable_clock_start_time());
    DateToProto(s.appointment->appointment_date, out->mutable_computed_appointment_date());
    TimeToProto(s.appointment->due_time, out->mutable_due_time());
    out->set_calendar_provisional(s.appointment->provisional);
  }
  if (s.declared_appointment) DateToProto(*s.declared_appointment, out->mutable_declared_appointment_date());
  out->set_appointment_mismatch(s.appointment_mismatch);
  if (s.reappointed_date) DateToProto(*s.reappointed_date, out->mutable_reappointed_date());
  if (s.finish_time) TimeToProto(*s.finish_time, out->mutable_finish_time());
  out->set_timeliness(static_cast<v1::Timeliness>(TimelinessAt(s, as_of, false)));
  out->set_portal_timeliness(static_cast<v1::Timeliness>(TimelinessAt(s, as_of, true)));
  out->set_supplement_requests(s.supplement_requests);
  out->set_paid_amount_vnd(s.paid_amount_vnd);
  out->set_paid_online(s.paid_online);
  out->set_electronic_result(s.electronic_result);
  out->set_digitised_documents(s.digitised_documents);
  out->set_digitised_result(s.digitised_result);
  out->set_reused_data(s.reused_data);
  out->set_rating(static_cast<v1::SatisfactionRating>(s.rating));
  if (s.processing_working_days) out->set_processing_working_days(*s.processing_working_days);
  out->set_apology_late(s.apology_late);
  out->set_feedback_count(s.feedback_count);
  out->set_complaint(s.complaint);
  for (const SetAsideEvent& e : s.set_aside) {
    v1::SetAsideEvent* x = out->add_set_aside();
    x->set_event_id(e.event_id);
    x->set_kind(std::string(EventKindName(e.kind)));
    TimeToProto(e.occurred_at, x->mutable_occurred_at());
    x->set_rule(e.rule);
    x->set_reason(e.reason);
  }
  TimeToProto(as_of, out->mutable_as_of());
}

void DossierToProto(const DossierView& view, v1::Dossier* out) {
  DossierStateToProto(view.state, view.as_of, out);
  for (const FilingEvent& e : view.events) FilingEventToProto(e, out->add_events());
}

}  // namespace pstrack
