#include "services/catalog/procedure.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/common/status.h"
#include "services/common/text.h"

namespace pstrack {

void Procedure::Normalize() {
  std::sort(levels.begin(), levels.end());
  levels.erase(std::unique(levels.begin(), levels.end()), levels.end());
  std::sort(agency_codes.begin(), agency_codes.end());
  agency_codes.erase(std::unique(agency_codes.begin(), agency_codes.end()), agency_codes.end());
}

bool Procedure::SameContent(const Procedure& o) const {
  return code == o.code && name == o.name && field == o.field && levels == o.levels &&
         agency_codes == o.agency_codes && online_mode == o.online_mode &&
         full_online_eligible == o.full_online_eligible && resolution_amount == o.resolution_amount &&
         resolution_unit == o.resolution_unit && fee_bearing == o.fee_bearing &&
         online_payment_integrated == o.online_payment_integrated &&
         population_db_connected == o.population_db_connected && valid_from == o.valid_from &&
         valid_until == o.valid_until;
}

bool Procedure::InForceOn(Date d) const {
  return (!valid_from || *valid_from <= d) && (!valid_until || d < *valid_until);
}

absl::string_view OnlineModeName(OnlineMode mode) {
  switch (mode) {
    case OnlineMode::kNone: return "none";
    case OnlineMode::kPartial: return "partial";
    case OnlineMode::kFull: return "full";
    case OnlineMode::kUnspecified: break;
  }
  return "unspecified";
}

absl::StatusOr<OnlineMode> ParseOnlineMode(absl::string_view text, absl::string_view field) {
  std::string t = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  if (t == "none") return OnlineMode::kNone;
  if (t == "partial") return OnlineMode::kPartial;
  if (t == "full") return OnlineMode::kFull;
  if (t.empty()) return MissingField(field);
  return InvalidField(field, absl::StrCat("'", text, "' is not an online mode (none, partial, full)"));
}

absl::string_view TimeUnitName(TimeUnit unit) {
  switch (unit) {
    case TimeUnit::kWorkingDays: return "working_days";
    case TimeUnit::kWorkingHours: return "working_hours";
    case TimeUnit::kUnspecified: break;
  }
  return "unspecified";
}

absl::StatusOr<TimeUnit> ParseTimeUnit(absl::string_view text, absl::string_view field) {
  std::string t = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  if (t == "working_days" || t == "days") return TimeUnit::kWorkingDays;
  if (t == "working_hours" || t == "hours") return TimeUnit::kWorkingHours;
  if (t.empty()) return MissingField(field);
  return InvalidField(field, absl::StrCat("'", text, "' is not a unit (working_days, working_hours)"));
}

absl::Status ValidateProcedureCode(absl::string_view code, absl::string_view field) {
  if (code.empty()) return MissingField(field);
  bool ok = code.size() == 8 && absl::ascii_isdigit(static_cast<unsigned char>(code[0])) &&
            code[0] != '0' && code[1] == '.';
  for (size_t i = 2; ok && i < code.size(); ++i) ok = absl::ascii_isdigit(static_cast<unsigned char>(code[i]));
  if (!ok) {
    return InvalidField(field, absl::StrCat("'", code,
                                            "' is not a procedure code of the form D.DDDDDD "
                                            "(e.g. 1.001193)"));
  }
  return absl::OkStatus();
}

absl::Status ValidateProcedureFields(const Procedure& p, absl::string_view field) {
  auto f = [&](absl::string_view name) { return absl::StrCat(field, ".", name); };
  PSTRACK_RETURN_IF_ERROR(ValidateProcedureCode(p.code, f("code")));
  if (p.name.empty()) return MissingField(f("name"));
  if (!IsCleanUtf8(p.name) || Utf8Length(p.name) > 1024) {
    return InvalidField(f("name"), "must be 1..1024 characters of UTF-8 text without control characters");
  }
  if (p.field.empty()) return MissingField(f("field"));
  if (!IsCleanUtf8(p.field) || Utf8Length(p.field) > 256) {
    return InvalidField(f("field"), "must be 1..256 characters of UTF-8 text without control characters");
  }
  for (AgencyLevel level : p.levels) {
    if (level == AgencyLevel::kUnspecified || static_cast<int>(level) < 0 ||
        static_cast<int>(level) > kMaxAgencyLevel) {
      return InvalidField(f("levels"), absl::StrCat("unknown level ", static_cast<int>(level)));
    }
  }
  for (const auto& code : p.agency_codes) {
    PSTRACK_RETURN_IF_ERROR(ValidateAgencyCode(code, f("agency_codes")));
  }
  if (p.levels.empty() && p.agency_codes.empty()) {
    return InvalidField(f("levels"), "name at least one level or agency that carries the procedure out");
  }
  if (p.online_mode == OnlineMode::kUnspecified) return MissingField(f("online_mode"));
  if (static_cast<int>(p.online_mode) < 0 || static_cast<int>(p.online_mode) > 3) {
    return InvalidField(f("online_mode"), absl::StrCat("unknown mode ", static_cast<int>(p.online_mode)));
  }
  if (p.online_mode == OnlineMode::kFull && !p.full_online_eligible) {
    return InvalidField(f("full_online_eligible"),
                        "must be true for a procedure offered full-process online");
  }
  if (p.resolution_unit == TimeUnit::kUnspecified) return MissingField(f("resolution_time.unit"));
  if (static_cast<int>(p.resolution_unit) < 0 || static_cast<int>(p.resolution_unit) > 2) {
    return InvalidField(f("resolution_time.unit"), "unknown unit");
  }
  uint32_t max = p.resolution_unit == TimeUnit::kWorkingDays ? kMaxResolutionDays : kMaxResolutionHours;
  if (p.resolution_amount > max) {
    return InvalidField(f("resolution_time.amount"),
                        absl::StrCat(p.resolution_amount, " is out of range 0..", max, " ",
                                     TimeUnitName(p.resolution_unit)));
  }
  if (p.online_payment_integrated && !p.fee_bearing) {
    return InvalidField(f("online_payment_integrated"), "requires fee_bearing: there is nothing to pay");
  }
  if (p.valid_from && p.valid_until && *p.valid_until <= *p.valid_from) {
    return InvalidField(f("valid_until"), absl::StrCat(FormatDate(*p.valid_until),
                                                       " must be after valid_from ",
                                                       FormatDate(*p.valid_from)));
  }
  return absl::OkStatus();
}

}  // namespace pstrack
