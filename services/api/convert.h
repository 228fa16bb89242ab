// Translation between pstrack.v1 protos and domain values. Used by the gRPC
// adapters (server) and the CLI (client); the only place that knows both.
#ifndef PSTRACK_SERVICES_API_CONVERT_H_
#define PSTRACK_SERVICES_API_CONVERT_H_

#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"
#include "pstrack/v1/agency.pb.h"
#include "pstrack/v1/catalog.pb.h"
#include "pstrack/v1/common.pb.h"
#include "services/agencies/agency.h"
#include "services/catalog/procedure.h"
#include "services/common/batch.h"
#include "services/common/dates.h"

namespace pstrack {

void DateToProto(Date d, v1::Date* out);
absl::StatusOr<Date> DateFromProto(const v1::Date& d, absl::string_view field);
void TimeToProto(absl::Time t, google::protobuf::Timestamp* out);

void AgencyToProto(const Agency& a, v1::Agency* out);
// Validates enum values and dates; other rules are the domain's.
absl::StatusOr<Agency> AgencyFromProto(const v1::Agency& in, absl::string_view field = "agency");

void ProcedureToProto(const Procedure& p, v1::Procedure* out);
absl::StatusOr<Procedure> ProcedureFromProto(const v1::Procedure& in, absl::string_view field = "procedure");

void ItemOutcomeToProto(const ItemOutcome& o, v1::ItemResult* out);
void BatchSummaryToProto(const std::vector<ItemOutcome>& outcomes, v1::BatchSummary* out);

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_API_CONVERT_H_
