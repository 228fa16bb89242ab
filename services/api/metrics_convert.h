// Proto <-> domain translation of the metrics vocabulary (scopes, periods,
// indicator values, report parts), shared by the metrics and reporting
// adapters.
#ifndef PSTRACK_SERVICES_API_METRICS_CONVERT_H_
#define PSTRACK_SERVICES_API_METRICS_CONVERT_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/repeated_field.h"
#include "google/protobuf/timestamp.pb.h"
#include "pstrack/v1/metrics.pb.h"
#include "services/metrics/metrics.h"

namespace pstrack {

// INVALID_ARGUMENT naming `field` when absent (present = false) or malformed.
absl::StatusOr<ScopeRequest> ScopeFromProto(const v1::Scope& scope, bool present, absl::string_view field);
absl::StatusOr<Period> PeriodFromProto(const v1::Period& p, bool present, absl::string_view field);
void PeriodToProto(const Period& p, v1::DateRange* out);
void ValueToProto(const IndicatorValue& v, v1::IndicatorValue* out);
// A report seen by an indicator query, and its role.
void ReportUseToProto(const ReportUse& use, v1::SourcePart* out);
// Where an answer stands in the event log.
void LogToProto(const LogState& log, v1::LogPosition* out);
std::vector<std::string> Ids(const google::protobuf::RepeatedPtrField<std::string>& ids);
absl::StatusOr<std::optional<absl::Time>> OptionalTime(bool has, const google::protobuf::Timestamp& t,
                                                       absl::string_view field);

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_API_METRICS_CONVERT_H_
