#include "services/lifecycle/event.h"

#include <array>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/agencies/agency.h"
#include "services/catalog/procedure.h"
#include "services/common/status.h"
#include "services/common/text.h"

namespace pstrack {
namespace {

constexpr std::array<absl::string_view, kMaxEventKind + 1> kKindNames = {
    "unspecified",        "registered_online", "received",   "not_accepted",
    "digitised",          "processing_started", "supplement_requested", "supplement_received",
    "financial_obligation_requested", "payment", "reappointed", "resolved",
    "result_returned",    "stopped",           "withdrawn",  "feedback"};

constexpr std::array<absl::string_view, 4> kChannelNames = {"unspecified", "in_person", "online", "postal"};
constexpr std::array<absl::string_view, 5> kRatingNames = {"unspecified", "very_satisfied", "satisfied", "neutral",
                                                           "dissatisfied"};

template <typename Enum, size_t N>
absl::StatusOr<Enum> ParseName(const std::array<absl::string_view, N>& names, absl::string_view text,
                               absl::string_view field, absl::string_view what) {
  std::string lower = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  for (size_t i = 1; i < N; ++i) {
    if (lower == names[i]) return static_cast<Enum>(i);
  }
  if (lower.empty()) return MissingField(field);
  std::string all;
  for (size_t i = 1; i < N; ++i) absl::StrAppend(&all, i > 1 ? ", " : "", names[i]);
  return InvalidField(field, absl::StrCat("'", text, "' is not ", what, " (", all, ")"));
}

bool IsPrintableAscii(absl::string_view s) {
  for (char c : s) {
    if (c < 0x21 || c > 0x7E) return false;
  }
  return true;
}

// Which payload fields a kind carries, to reject payload sent with the
// wrong kind (a sign of a mapping bug at the centre).
std::string PayloadField(EventKind kind) { return absl::StrCat("event.", EventKindName(kind)); }

const absl::Time kEarliest = absl::FromCivil(absl::CivilSecond(2000, 1, 1, 0, 0, 0), absl::UTCTimeZone());
const absl::Time kLatest = absl::FromCivil(absl::CivilSecond(2100, 1, 1, 0, 0, 0), absl::UTCTimeZone());

std::string Escape(absl::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '|') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

// Splits on unescaped '|' and unescapes.
std::vector<std::string> SplitEscaped(absl::string_view s) {
  std::vector<std::string> parts(1);
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      parts.back().push_back(s[++i]);
    } else if (s[i] == '|') {
      parts.emplace_back();
    } else {
      parts.back().push_back(s[i]);
    }
  }
  return parts;
}

}  // namespace

absl::string_view EventKindName(EventKind kind) {
  int i = static_cast<int>(kind);
  return i >= 0 && i <= kMaxEventKind ? kKindNames[i] : "unknown";
}
absl::StatusOr<EventKind> ParseEventKind(absl::string_view name, absl::string_view field) {
  return ParseName<EventKind>(kKindNames, name, field, "an event kind");
}
absl::string_view ChannelName(Channel channel) {
  int i = static_cast<int>(channel);
  return i >= 0 && i < 4 ? kChannelNames[i] : "unknown";
}
absl::StatusOr<Channel> ParseChannel(absl::string_view name, absl::string_view field) {
  return ParseName<Channel>(kChannelNames, name, field, "a channel");
}
absl::string_view RatingName(Rating rating) {
  int i = static_cast<int>(rating);
  return i >= 0 && i < 5 ? kRatingNames[i] : "unknown";
}
absl::StatusOr<Rating> ParseRating(absl::string_view name, absl::string_view field) {
  return ParseName<Rating>(kRatingNames, name, field, "a rating");
}

absl::Status ValidateDossierCode(absl::string_view code, absl::string_view field) {
  if (code.empty()) return MissingField(field);
  if (code.size() > kMaxDossierCodeLength || !IsPrintableAscii(code)) {
    return InvalidField(field, absl::StrCat("must be 1..", kMaxDossierCodeLength, " printable ASCII characters"));
  }
  std::vector<absl::string_view> parts = absl::StrSplit(code, '-');
  auto bad = [&] {
    return InvalidField(field, absl::StrCat("'", code,
                                            "' is not a dossier code <agency>-YYMMDD-<sequence> "
                                            "(Circular 01/2018/TT-VPCP Art. 19), e.g. P22.STP-251103-0007"));
  };
  if (parts.size() < 3) return bad();
  absl::string_view date = parts[parts.size() - 2], seq = parts.back();
  if (date.size() != 6 || seq.size() < 4 || seq.size() > 8) return bad();
  for (char c : absl::StrCat(date, seq)) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return bad();
  }
  int yy = (date[0] - '0') * 10 + (date[1] - '0'), mm = (date[2] - '0') * 10 + (date[3] - '0'),
      dd = (date[4] - '0') * 10 + (date[5] - '0');
  if (!MakeDate(2000 + yy, mm, dd, field).ok()) {
    return InvalidField(field, absl::StrCat("'", code, "' has no valid receipt date YYMMDD ('", date, "')"));
  }
  return absl::OkStatus();
}

absl::string_view DossierCodeAgency(absl::string_view code) {
  // "<agency>-YYMMDD-<sequence>": the agency part may itself hold '-'.
  const size_t seq = code.rfind('-');
  if (seq == absl::string_view::npos || seq == 0) return {};
  const size_t date = code.rfind('-', seq - 1);
  return date == absl::string_view::npos ? absl::string_view() : code.substr(0, date);
}

OptionalDate DossierCodeDate(absl::string_view code) {
  const size_t seq = code.rfind('-');
  if (seq == absl::string_view::npos || seq < 7) return std::nullopt;
  const absl::string_view date = code.substr(seq - 6, 6);
  for (char c : date) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  }
  auto d = MakeDate(2000 + (date[0] - '0') * 10 + (date[1] - '0'), (date[2] - '0') * 10 + (date[3] - '0'),
                    (date[4] - '0') * 10 + (date[5] - '0'), "code");
  if (!d.ok()) return std::nullopt;
  return *d;
}

absl::Status ValidateEvent(const FilingEvent& e) {
  if (e.event_id.empty()) return MissingField("event.event_id");
  if (e.event_id.size() > kMaxEventIdLength || !IsPrintableAscii(e.event_id)) {
    return InvalidField("event.event_id", absl::StrCat("must be 1..", kMaxEventIdLength,
                                                       " printable ASCII characters without spaces"));
  }
  PSTRACK_RETURN_IF_ERROR(ValidateDossierCode(e.dossier_code, "event.dossier_code"));
  PSTRACK_RETURN_IF_ERROR(ValidateAgencyCode(e.agency_code, "event.agency_code"));
  if (DossierCodeAgency(e.dossier_code) != e.agency_code) {
    return InvalidField("event.dossier_code",
                        absl::StrCat("'", e.dossier_code, "' names agency '", DossierCodeAgency(e.dossier_code),
                                     "', not the event's agency '", e.agency_code,
                                     "': a dossier code begins with the code of the agency that received it"));
  }
  if (!e.procedure_code.empty()) {
    PSTRACK_RETURN_IF_ERROR(ValidateProcedureCode(e.procedure_code, "event.procedure_code"));
  }
  if (e.occurred_at == absl::InfinitePast()) return MissingField("event.occurred_at");
  if (e.occurred_at < kEarliest || e.occurred_at >= kLatest) {
    return InvalidField("event.occurred_at", "must be between 2000-01-01 and 2100-01-01");
  }
  int kind = static_cast<int>(e.kind);
  if (e.kind == EventKind::kUnspecified) return MissingField("event.kind");
  if (kind < 0 || kind > kMaxEventKind) return InvalidField("event.kind", absl::StrCat("unknown kind ", kind));
  const std::string f = PayloadField(e.kind);
  auto stray = [&](bool present, absl::string_view name) -> absl::Status {
    if (!present) return absl::OkStatus();
    return InvalidField(absl::StrCat("event.", name),
                        absl::StrCat("does not apply to a ", EventKindName(e.kind), " event"));
  };
  using K = EventKind;
  if ((e.kind == K::kRegisteredOnline || e.kind == K::kReceived) && e.procedure_code.empty()) {
    return InvalidField("event.procedure_code", absl::StrCat("is required on a ", EventKindName(e.kind), " event"));
  }
  if (e.kind == K::kReceived) {
    if (e.channel == Channel::kUnspecified) return MissingField(absl::StrCat(f, ".channel"));
    if (static_cast<int>(e.channel) < 0 || static_cast<int>(e.channel) > 3) {
      return InvalidField(absl::StrCat(f, ".channel"), "unknown channel");
    }
  } else {
    PSTRACK_RETURN_IF_ERROR(stray(e.channel != Channel::kUnspecified, "received.channel"));
    PSTRACK_RETURN_IF_ERROR(stray(e.declared_appointment.has_value(), "received.declared_appointment_date"));
  }
  if (e.kind == K::kReappointed) {
    if (!e.new_appointment) return MissingField(absl::StrCat(f, ".new_appointment_date"));
  } else {
    PSTRACK_RETURN_IF_ERROR(stray(e.new_appointment.has_value(), "reappointed.new_appointment_date"));
  }
  const bool has_reason = e.kind == K::kNotAccepted || e.kind == K::kSupplementRequested ||
                          e.kind == K::kWithdrawn || e.kind == K::kStopped || e.kind == K::kReappointed;
  PSTRACK_RETURN_IF_ERROR(stray(!has_reason && !e.reason.empty(), "reason"));
  if (e.reason.size() > kMaxReasonLength || !IsCleanUtf8(e.reason)) {
    return InvalidField(absl::StrCat(f, ".reason"), absl::StrCat("must be UTF-8 text of at most ", kMaxReasonLength,
                                                                 " bytes without control characters"));
  }
  if (e.kind == K::kPayment) {
    if (e.amount_vnd <= 0) return InvalidField(absl::StrCat(f, ".amount_vnd"), "must be positive");
  } else if (e.kind == K::kFinancialObligationRequested) {
    if (e.amount_vnd < 0) return InvalidField(absl::StrCat(f, ".amount_vnd"), "must not be negative");
  } else {
    PSTRACK_RETURN_IF_ERROR(stray(e.amount_vnd != 0, "payment.amount_vnd"));
  }
  if (e.amount_vnd > 1'000'000'000'000LL) {
    return InvalidField(absl::StrCat(f, ".amount_vnd"), "exceeds 10^12 VND");
  }
  if (e.kind != K::kPayment) PSTRACK_RETURN_IF_ERROR(stray(e.paid_online, "payment.online"));
  if (e.kind != K::kResolved) {
    PSTRACK_RETURN_IF_ERROR(stray(e.electronic_result || e.processed_electronically || e.signed_electronically,
                                  "resolved.electronic_result"));
  }
  if (e.kind != K::kResultReturned) PSTRACK_RETURN_IF_ERROR(stray(e.returned_remotely, "result_returned.returned_remotely"));
  if (e.kind == K::kDigitised) {
    if (!e.digitised_documents && !e.digitised_result && !e.reused_data && !e.population_db_used &&
        !e.shared_for_reuse) {
      return InvalidField(f, "says nothing was digitised: set at least one of documents, result, reused_data, "
                             "population_db_used, shared_for_reuse");
    }
  } else {
    PSTRACK_RETURN_IF_ERROR(stray(e.digitised_documents || e.digitised_result || e.reused_data ||
                                      e.population_db_used || e.shared_for_reuse,
                                  "digitised"));
  }
  if (e.kind == K::kFeedback) {
    if (e.rating == Rating::kUnspecified) return MissingField(absl::StrCat(f, ".rating"));
    if (static_cast<int>(e.rating) < 0 || static_cast<int>(e.rating) > 4) {
      return InvalidField(absl::StrCat(f, ".rating"), "unknown rating");
    }
  } else {
    PSTRACK_RETURN_IF_ERROR(stray(e.rating != Rating::kUnspecified || e.complaint, "feedback"));
  }
  return absl::OkStatus();
}

bool ReplayOrderLess(const FilingEvent& a, const FilingEvent& b) {
  if (a.occurred_at != b.occurred_at) return a.occurred_at < b.occurred_at;
  if (a.kind != b.kind) return a.kind < b.kind;
  return a.event_id < b.event_id;
}

std::string EncodeEvent(const FilingEvent& e) {
  int flags = (e.paid_online << 0) | (e.electronic_result << 1) | (e.processed_electronically << 2) |
              (e.signed_electronically << 3) | (e.returned_remotely << 4) | (e.digitised_documents << 5) |
              (e.digitised_result << 6) | (e.reused_data << 7) | (e.population_db_used << 8) |
              (e.shared_for_reuse << 9) | (e.complaint << 10);
  return absl::StrCat("e1|", Escape(e.event_id), "|", Escape(e.dossier_code), "|", Escape(e.agency_code), "|",
                      Escape(e.procedure_code), "|", absl::ToUnixMicros(e.occurred_at), "|",
                      static_cast<int>(e.kind), "|", static_cast<int>(e.channel), "|",
                      FormatOptionalDate(e.declared_appointment), "|", FormatOptionalDate(e.new_appointment), "|",
                      Escape(e.reason), "|", e.amount_vnd, "|", flags, "|", static_cast<int>(e.rating));
}

absl::StatusOr<FilingEvent> DecodeEvent(absl::string_view encoded) {
  std::vector<std::string> p = SplitEscaped(encoded);
  if (p.size() != 14 || p[0] != "e1") return absl::DataLossError("stored event has an unknown encoding");
  FilingEvent e;
  e.event_id = p[1];
  e.dossier_code = p[2];
  e.agency_code = p[3];
  e.procedure_code = p[4];
  int64_t micros = 0;
  int kind = 0, channel = 0, flags = 0, rating = 0;
  if (!absl::SimpleAtoi(p[5], &micros) || !absl::SimpleAtoi(p[6], &kind) || !absl::SimpleAtoi(p[7], &channel) ||
      !absl::SimpleAtoi(p[11], &e.amount_vnd) || !absl::SimpleAtoi(p[12], &flags) ||
      !absl::SimpleAtoi(p[13], &rating)) {
    return absl::DataLossError("stored event has malformed numbers");
  }
  e.occurred_at = absl::FromUnixMicros(micros);
  e.kind = static_cast<EventKind>(kind);
  e.channel = static_cast<Channel>(channel);
  auto declared = ParseOptionalDate(p[8], "declared");
  auto reappointed = ParseOptionalDate(p[9], "new");
  if (!declared.ok() || !reappointed.ok()) return absl::DataLossError("stored event has a malformed date");
  e.declared_appointment = *declared;
  e.new_appointment = *reappointed;
  e.reason = p[10];
  e.paid_online = flags & (1 << 0);
  e.electronic_result = flags & (1 << 1);
  e.processed_electronically = flags & (1 << 2);
  e.signed_electronically = flags & (1 << 3);
  e.returned_remotely = flags & (1 << 4);
  e.digitised_documents = flags & (1 << 5);
  e.digitised_result = flags & (1 << 6);
  e.reused_data = flags & (1 << 7);
  e.population_db_used = flags & (1 << 8);
  e.shared_for_reuse = flags & (1 << 9);
  e.complaint = flags & (1 << 10);
  e.rating = static_cast<Rating>(rating);
  return e;
}

}  // namespace pstrack
