// Administrative procedures (thủ tục hành chính) as plain domain values, and
// the rules a procedure must satisfy on its own. Pure functions; thread-safe.
#ifndef PSTRACK_SERVICES_CATALOG_PROCEDURE_H_
#define PSTRACK_SERVICES_CATALOG_PROCEDURE_H_

#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/agencies/agency.h"
#include "services/common/dates.h"

namespace pstrack {

// Numbered as pstrack.v1.OnlineServiceMode (Decree 42/2022/NĐ-CP).
enum class OnlineMode { kUnspecified = 0, kNone = 1, kPartial = 2, kFull = 3 };
// Numbered as pstrack.v1.ResolutionTimeUnit.
enum class TimeUnit { kUnspecified = 0, kWorkingDays = 1, kWorkingHours = 2 };

inline constexpr uint32_t kMaxResolutionDays = 365;
inline constexpr uint32_t kMaxResolutionHours = 365 * 8;

struct Procedure {
  std::string code;   // "1.001193"
  std::string name;
  std::string field;  // lĩnh vực
  std::vector<AgencyLevel> levels;        // sorted, unique after Normalize()
  std::vector<std::string> agency_codes;  // sorted, unique after Normalize()
  OnlineMode online_mode = OnlineMode::kUnspecified;
  bool full_online_eligible = false;
  uint32_t resolution_amount = 0;
  TimeUnit resolution_unit = TimeUnit::kUnspecified;
  bool fee_bearing = false;
  bool online_payment_integrated = false;
  bool population_db_connected = false;
  OptionalDate valid_from;   // inclusive
  OptionalDate valid_until;  // exclusive

  int64_t revision = 0;
  absl::Time create_time = absl::UnixEpoch();
  absl::Time update_time = absl::UnixEpoch();

  // Sorts and de-duplicates levels and agency codes, so that equal content
  // compares equal whatever order a client sent.
  void Normalize();
  bool SameContent(const Procedure& other) const;
  bool InForceOn(Date d) const;
  // Offered as an online public service (partial or full process): what
  // online-service coverage counts.
  bool OffersOnline() const { return online_mode == OnlineMode::kPartial || online_mode == OnlineMode::kFull; }
};

absl::string_view OnlineModeName(OnlineMode mode);  // "none", "partial", "full"
absl::StatusOr<OnlineMode> ParseOnlineMode(absl::string_view text, absl::string_view field);
absl::string_view TimeUnitName(TimeUnit unit);      // "working_days", "working_hours"
absl::StatusOr<TimeUnit> ParseTimeUnit(absl::string_view text, absl::string_view field);

// "D.DDDDDD": the National Database's code format.
absl::Status ValidateProcedureCode(absl::string_view code, absl::string_view field);

// Checks every field on its own (formats, ranges, consistency of the online
// mode, eligibility and payment flags). Agency existence is the catalog's job.
absl::Status ValidateProcedureFields(const Procedure& p, absl::string_view field = "procedure");

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_CATALOG_PROCEDURE_H_
