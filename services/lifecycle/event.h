// Filing events (the things a one-stop centre reports about a dossier) as
// plain domain values: kinds, field validation, the replay order, and a
// canonical encoding used both for storage and for idempotency (the same
// event id must come with the same content). Pure; thread-safe.
#ifndef PSTRACK_SERVICES_LIFECYCLE_EVENT_H_
#define PSTRACK_SERVICES_LIFECYCLE_EVENT_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/common/dates.h"

namespace pstrack {

// Numbered as pstrack.v1.Channel.
enum class Channel { kUnspecified = 0, kInPerson = 1, kOnline = 2, kPostal = 3 };
// Numbered as pstrack.v1.SatisfactionRating.
enum class Rating { kUnspecified = 0, kVerySatisfied = 1, kSatisfied = 2, kNeutral = 3, kDissatisfied = 4 };

// In lifecycle order: at equal times, events replay in this order (then by
// event id), e.g. a receipt before the processing that starts at the same
// second.
enum class EventKind {
  kUnspecified = 0,
  kRegisteredOnline = 1,
  kReceived = 2,
  kNotAccepted = 3,
  kDigitised = 4,
  kProcessingStarted = 5,
  kSupplementRequested = 6,
  kSupplementReceived = 7,
  kFinancialObligationRequested = 8,
  kPayment = 9,
  kReappointed = 10,
  kResolved = 11,
  kResultReturned = 12,
  kStopped = 13,
  kWithdrawn = 14,
  kFeedback = 15,
};
inline constexpr int kMaxEventKind = 15;

absl::string_view EventKindName(EventKind kind);  // "received", "supplement_requested", ...
absl::StatusOr<EventKind> ParseEventKind(absl::string_view name, absl::string_view field);
absl::string_view ChannelName(Channel channel);  // "in_person", "online", "postal"
absl::StatusOr<Channel> ParseChannel(absl::string_view name, absl::string_view field);
absl::string_view RatingName(Rating rating);
absl::StatusOr<Rating> ParseRating(absl::string_view name, absl::string_view field);

struct FilingEvent {
  std::string event_id;
  std::string dossier_code;
  std::string agency_code;
  std::string procedure_code;  // required on registered_online and received
  absl::Time occurred_at = absl::InfinitePast();
  EventKind kind = EventKind::kUnspecified;

  // Payload; which fields apply depends on the kind.
  Channel channel = Channel::kUnspecified;  // received
  OptionalDate declared_appointment;        // received
  OptionalDate new_appointment;             // reappointed
  std::string reason;                       // not_accepted, supplement_requested, withdrawn, stopped, reappointed
  int64_t amount_vnd = 0;                   // payment, financial_obligation_requested
  bool paid_online = false;                 // payment
  bool electronic_result = false;           // resolved
  bool processed_electronically = false;    // resolved
  bool signed_electronically = false;       // resolved
  bool returned_remotely = false;           // result_returned
  bool digitised_documents = false;         // digitised
  bool digitised_result = false;            // digitised
  bool reused_data = false;                 // digitised
  bool population_db_used = false;          // digitised
  bool shared_for_reuse = false;            // digitised
  Rating rating = Rating::kUnspecified;     // feedback
  bool complaint = false;                   // feedback
};

inline constexpr size_t kMaxEventIdLength = 128;
inline constexpr size_t kMaxDossierCodeLength = 64;
inline constexpr size_t kMaxReasonLength = 2000;

// Checks the event on its own: ids and codes well formed, the dossier code
// beginning with the event's agency code, a kind, an instant within
// 2000..2100, the kind's required payload, no payload of
// another kind. Messages name the field ("event.received.channel").
absl::Status ValidateEvent(const FilingEvent& event);

// Dossier codes (Circular 01/2018/TT-VPCP Art. 19): "<agency code>-YYMMDD-<n>"
// with at least 4 digits of sequence. An event's dossier code must begin
// with its agency's code (ValidateEvent), so that no centre can record
// events of another agency's dossiers.
absl::Status ValidateDossierCode(absl::string_view code, absl::string_view field);
// The agency part of a well-formed dossier code ("P22.STP" of
// "P22.STP-251103-0007"), and its receipt date (which may differ from the
// actual receipt's: counted in the data-quality view, not refused).
absl::string_view DossierCodeAgency(absl::string_view code);
OptionalDate DossierCodeDate(absl::string_view code);

// The replay order: occurred_at, then kind (lifecycle order), then event_id.
bool ReplayOrderLess(const FilingEvent& a, const FilingEvent& b);

// A canonical, versioned text form of every field: equal encodings mean
// equal events. Used to store events and to detect a reused event id.
std::string EncodeEvent(const FilingEvent& event);
absl::StatusOr<FilingEvent> DecodeEvent(absl::string_view encoded);

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_LIFECYCLE_EVENT_H_
