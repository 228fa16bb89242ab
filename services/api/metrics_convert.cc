#include "services/api/metrics_convert.h"

#include "absl/strings/str_cat.h"
#include "services/api/convert.h"
#include "services/api/filing_convert.h"
#include "services/common/status.h"

namespace pstrack {

absl::StatusOr<ScopeRequest> ScopeFromProto(const v1::Scope& scope, bool present, absl::string_view field) {
  if (!present) return MissingField(field);
  ScopeRequest out;
  out.agency_code = scope.agency_code();
  if (out.agency_code.empty()) return MissingField(absl::StrCat(field, ".agency_code"));
  switch (scope.tree_view()) {
    case v1::TREE_VIEW_UNSPECIFIED:
    case v1::TREE_VIEW_CURRENT: out.view = TreeView::kCurrent; break;
    case v1::TREE_VIEW_AS_FILED: out.view = TreeView::kAsFiled; break;
    default: return InvalidField(absl::StrCat(field, ".tree_view"), "unknown tree view");
  }
  return out;
}

absl::StatusOr<Period> PeriodFromProto(const v1::Period& p, bool present, absl::string_view field) {
  if (!present) return MissingField(field);
  Period out;
  switch (p.kind_case()) {
    case v1::Period::kLabel: {
      PSTRACK_ASSIGN_OR_RETURN(out, ParsePeriodLabel(p.label(), absl::StrCat(field, ".label")));
      break;
    }
    case v1::Period::kRange: {
      if (!p.range().has_start() || !p.range().has_end()) {
        return InvalidField(absl::StrCat(field, ".range"), "needs both start and end");
      }
      PSTRACK_ASSIGN_OR_RETURN(out.start, DateFromProto(p.range().start(), absl::StrCat(field, ".range.start")));
      PSTRACK_ASSIGN_OR_RETURN(out.end, DateFromProto(p.range().end(), absl::StrCat(field, ".range.end")));
      break;
    }
    case v1::Period::KIND_NOT_SET: return InvalidField(field, "set a range or a label (2025, 2025-Q3, 2025-07)");
  }
  PSTRACK_RETURN_IF_ERROR(ValidatePeriod(out, field));
  return out;
}

void PeriodToProto(const Period& p, v1::DateRange* out) {
  DateToProto(p.start, out->mutable_start());
  DateToProto(p.end, out->mutable_end());
}

void ValueToProto(const IndicatorValue& v, v1::IndicatorValue* out) {
  out->set_indicator_id(v.id);
  out->set_numerator(v.numerator);
  out->set_denominator(v.denominator);
  out->set_value(v.available ? v.value : 0);
  out->set_available(v.available);
  out->set_unavailable_reason(v.unavailable_reason);
  for (const auto& s : v.sources) out->add_sources(s);
  out->set_note(v.note);
}

void ReportUseToProto(const ReportUse& use, v1::SourcePart* out) {
  out->set_agency_code(use.report.agency_code);
  PeriodToProto(Period{use.report.start, use.report.end}, out->mutable_period());
  out->set_source(use.role == ReportRole::kCounted ? "reports" : "events");
  out->set_report_id(use.report.report_id);
  out->set_revision(use.report.revision);
  out->set_subject(use.report.subject());
  out->set_role(ReportRoleName(use.role));
  out->set_note(use.note);
}

std::vector<std::string> Ids(const google::protobuf::RepeatedPtrField<std::string>& ids) {
  return std::vector<std::string>(ids.begin(), ids.end());
}

absl::StatusOr<std::optional<absl::Time>> OptionalTime(bool has, const google::protobuf::Timestamp& t,
                                                       absl::string_view field) {
  if (!has) return std::optional<absl::Time>();
  PSTRACK_ASSIGN_OR_RETURN(absl::Time out, TimeFromProto(t, field));
  return std::optional<absl::Time>(out);
}

void LogToProto(const LogState& log, v1::LogPosition* out) {
  out->set_position(log.position());
  out->set_pending_events(log.pending);
}

}  // namespace pstrack
