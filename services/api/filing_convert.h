// Translation between pstrack.v1 filing protos (FilingEvent, Dossier) and the
// domain's FilingEvent and DossierState.
#ifndef PSTRACK_SERVICES_API_FILING_CONVERT_H_
#define PSTRACK_SERVICES_API_FILING_CONVERT_H_

#include "absl/status/statusor.h"
#include "pstrack/v1/filing.pb.h"
#include "services/filings/filings.h"

namespace pstrack {

absl::StatusOr<absl::Time> TimeFromProto(const google::protobuf::Timestamp& t, absl::string_view field);

// Validates the oneof and enum ranges; the rules are ValidateEvent's.
// Instants are truncated to microseconds (the stored precision).
absl::StatusOr<FilingEvent> FilingEventFromProto(const v1::FilingEvent& in);
void FilingEventToProto(const FilingEvent& e, v1::FilingEvent* out);

void DossierToProto(const DossierView& view, v1::Dossier* out);
void DossierStateToProto(const DossierState& state, absl::Time as_of, v1::Dossier* out);

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_API_FILING_CONVERT_H_
