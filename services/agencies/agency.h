// The agency tree (cơ quan, đơn vị) as plain domain values, and the rules an
// agency must satisfy on its own (field formats, which level may sit under
// which). Pure functions; no storage or RPC types. Thread-safe.
#ifndef PSTRACK_SERVICES_AGENCIES_AGENCY_H_
#define PSTRACK_SERVICES_AGENCIES_AGENCY_H_

#include <cstdint>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/common/dates.h"

namespace pstrack {

// Numbered as pstrack.v1.AgencyLevel.
enum class AgencyLevel {
  kUnspecified = 0,
  kNation = 1,
  kMinistry = 2,
  kProvince = 3,
  kDepartment = 4,  // sở, or a ministry's unit
  kDistrict = 5,    // huyện, until 2025-06-30
  kCommune = 6,     // xã, phường, đặc khu
};

inline constexpr int kMaxAgencyLevel = 6;

struct Agency {
  std::string code;
  std::string name;
  AgencyLevel level = AgencyLevel::kUnspecified;
  std::string parent_code;  // empty only for the nation
  std::string admin_code;   // mã đơn vị hành chính, informational
  OptionalDate valid_from;  // inclusive
  OptionalDate valid_until; // exclusive
  std::string successor_code;

  // Maintained by the registry.
  std::string path;  // "VN/P22/P22.STP"
  int depth = 0;
  int64_t revision = 0;
  absl::Time create_time = absl::UnixEpoch();
  absl::Time update_time = absl::UnixEpoch();

  // True when the fields a client sets are equal (derived fields ignored).
  bool SameContent(const Agency& other) const;
  // In force on day `d`: valid_from <= d < valid_until.
  bool InForceOn(Date d) const;
};

// "nation", "province", ... as used in CSV files and the CLI.
absl::string_view AgencyLevelName(AgencyLevel level);
absl::StatusOr<AgencyLevel> ParseAgencyLevel(absl::string_view name, absl::string_view field);

inline constexpr size_t kMaxAgencyCodeLength = 64;
inline constexpr size_t kMaxAgencyNameLength = 256;
inline constexpr size_t kMaxPathDepth = 16;

// 1..64 characters of A-Z 0-9 . _ -, starting with a letter or digit.
absl::Status ValidateAgencyCode(absl::string_view code, absl::string_view field);

// Checks every client-set field on its own: formats, lengths, date order,
// successor requires an end date, nation has no parent, others have one.
// Fields are named with the prefix `field` ("agency").
absl::Status ValidateAgencyFields(const Agency& agency, absl::string_view field = "agency");

// Whether an agency of `child` level may sit under one of `parent` level.
// Subtrees as key ranges of paths ("VN/P22/P22.STP"): the subtree at
// `root_path` is the root and the paths in [root + "/", SubtreeEnd(root)),
// '0' being the byte after '/'; so it is one index range scan. The range
// also holds a few paths outside the subtree (a sibling "P22.D1" of
// "P22"): InSubtree tells them apart.
bool InSubtree(absl::string_view path, absl::string_view root_path);
std::string SubtreeEnd(absl::string_view root_path);

bool LevelMayHaveParent(AgencyLevel child, AgencyLevel parent);
// FAILED_PRECONDITION naming agency.level when it may not.
absl::Status CheckParentLevel(const Agency& child, const Agency& parent);

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_AGENCIES_AGENCY_H_
