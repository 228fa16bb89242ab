#include "services/common/ceilings.h"

#ifdef PSTRACK_CEILINGS
#include <cstdlib>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#endif

namespace pstrack {

#ifdef PSTRACK_CEILINGS
bool CeilingOn(Ceiling c) {
  static const std::vector<std::string> on = [] {
    const char* env = std::getenv("PSTRACK_CEILING");
    return std::vector<std::string>(absl::StrSplit(env == nullptr ? "" : env, ',', absl::SkipEmpty()));
  }();
  // In the order of Ceiling.
  static constexpr const char* kNames[] = {"no_write", "audit_only", "no_aggregates", "no_durable_wait",
                                           "cached_auth"};
  static_assert(std::size(kNames) == static_cast<size_t>(Ceiling::kCachedAuth) + 1);
  for (const std::string& name : on) {
    if (name == kNames[static_cast<int>(c)]) return true;
  }
  return false;
}
#else
bool CeilingOn(Ceiling) { return false; }
#endif

}  // namespace pstrack
