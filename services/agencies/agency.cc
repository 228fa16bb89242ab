#include "services/agencies/agency.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/common/status.h"
#include "services/common/text.h"

namespace pstrack {

bool InSubtree(absl::string_view path, absl::string_view root_path) {
  return absl::StartsWith(path, root_path) && (path.size() == root_path.size() || path[root_path.size()] == '/');
}

std::string SubtreeEnd(absl::string_view root_path) { return absl::StrCat(root_path, "0"); }

bool Agency::SameContent(const Agency& o) const {
  return code == o.code && name == o.name && level == o.level && parent_code == o.parent_code &&
         admin_code == o.admin_code && valid_from == o.valid_from && valid_until == o.valid_until &&
         successor_code == o.successor_code;
}

bool Agency::InForceOn(Date d) const {
  return (!valid_from || *valid_from <= d) && (!valid_until || d < *valid_until);
}

absl::string_view AgencyLevelName(AgencyLevel level) {
  switch (level) {
    case AgencyLevel::kNation: return "nation";
    case AgencyLevel::kMinistry: return "ministry";
    case AgencyLevel::kProvince: return "province";
    case AgencyLevel::kDepartment: return "department";
    case AgencyLevel::kDistrict: return "district";
    case AgencyLevel::kCommune: return "commune";
    case AgencyLevel::kUnspecified: break;
  }
  return "unspecified";
}

absl::StatusOr<AgencyLevel> ParseAgencyLevel(absl::string_view name, absl::string_view field) {
  std::string lower = absl::AsciiStrToLower(absl::StripAsciiWhitespace(name));
  for (int i = 1; i <= kMaxAgencyLevel; ++i) {
    auto level = static_cast<AgencyLevel>(i);
    if (lower == AgencyLevelName(level)) return level;
  }
  if (lower.empty()) return MissingField(field);
  return InvalidField(field, absl::StrCat("'", name,
                                          "' is not a level (nation, ministry, province, department, "
                                          "district, commune)"));
}

absl::Status ValidateAgencyCode(absl::string_view code, absl::string_view field) {
  if (code.empty()) return MissingField(field);
  if (code.size() > kMaxAgencyCodeLength) {
    return InvalidField(field, absl::StrCat("is ", code.size(), " characters long; at most ",
                                            kMaxAgencyCodeLength, " allowed"));
  }
  if (!absl::ascii_isupper(static_cast<unsigned char>(code[0])) &&
      !absl::ascii_isdigit(static_cast<unsigned char>(code[0]))) {
    return InvalidField(field, absl::StrCat("'", code, "' must start with A-Z or 0-9"));
  }
  for (char c : code) {
    unsigned char u = static_cast<unsigned char>(c);
    if (!absl::ascii_isupper(u) && !absl::ascii_isdigit(u) && c != '.' && c != '_' && c != '-') {
      return InvalidField(field, absl::StrCat("'", code,
                                              "' may contain only A-Z, 0-9, '.', '_' and '-'"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateAgencyFields(const Agency& a, absl::string_view field) {
  auto f = [&](absl::string_view name) { return absl::StrCat(field, ".", name); };
  PSTRACK_RETURN_IF_ERROR(ValidateAgencyCode(a.code, f("code")));
  if (a.name.empty()) return MissingField(f("name"));
  if (!IsCleanUtf8(a.name)) return InvalidField(f("name"), "must be UTF-8 text without control characters");
  if (Utf8Length(a.name) > kMaxAgencyNameLength) {
    return InvalidField(f("name"), absl::StrCat("longer than ", kMaxAgencyNameLength, " characters"));
  }
  if (a.level == AgencyLevel::kUnspecified) return MissingField(f("level"));
  if (static_cast<int>(a.level) < 0 || static_cast<int>(a.level) > kMaxAgencyLevel) {
    return InvalidField(f("level"), absl::StrCat("unknown level ", static_cast<int>(a.level)));
  }
  if (a.level == AgencyLevel::kNation) {
    if (!a.parent_code.empty()) return InvalidField(f("parent_code"), "the nation has no parent");
  } else {
    if (a.parent_code.empty()) {
      return InvalidField(f("parent_code"),
                          absl::StrCat("is required for a ", AgencyLevelName(a.level)));
    }
    PSTRACK_RETURN_IF_ERROR(ValidateAgencyCode(a.parent_code, f("parent_code")));
    if (a.parent_code == a.code) return InvalidField(f("parent_code"), "an agency cannot be its own parent");
  }
  if (a.admin_code.size() > 32 || !IsCleanUtf8(a.admin_code)) {
    return InvalidField(f("admin_code"), "must be at most 32 characters of text");
  }
  if (a.valid_from && a.valid_until && *a.valid_until <= *a.valid_from) {
    return InvalidField(f("valid_until"), absl::StrCat(FormatDate(*a.valid_until),
                                                       " must be after valid_from ",
                                                       FormatDate(*a.valid_from)));
  }
  if (!a.successor_code.empty()) {
    PSTRACK_RETURN_IF_ERROR(ValidateAgencyCode(a.successor_code, f("successor_code")));
    if (a.successor_code == a.code) {
      return InvalidField(f("successor_code"), "an agency cannot succeed itself");
    }
    if (!a.valid_until) {
      return InvalidField(f("successor_code"),
                          "requires valid_until: only an agency that ended has a successor");
    }
  }
  return absl::OkStatus();
}

bool LevelMayHaveParent(AgencyLevel child, AgencyLevel parent) {
  using L = AgencyLevel;
  switch (child) {
    case L::kMinistry:
    case L::kProvince: return parent == L::kNation;
    case L::kDepartment: return parent == L::kProvince || parent == L::kMinistry;
    case L::kDistrict: return parent == L::kProvince;
    case L::kCommune: return parent == L::kProvince || parent == L::kDistrict;
    case L::kNation:
    case L::kUnspecified: return false;
  }
  return false;
}

absl::Status CheckParentLevel(const Agency& child, const Agency& parent) {
  if (LevelMayHaveParent(child.level, parent.level)) return absl::OkStatus();
  return FieldError(absl::StatusCode::kFailedPrecondition, "agency.level",
                    absl::StrCat("a ", AgencyLevelName(child.level), " cannot sit under ",
                                 AgencyLevelName(parent.level), " '", parent.code, "'"));
}

}  // namespace pstrack
