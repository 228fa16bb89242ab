// --help and --version for pstrack's programs. Abseil lists, for --help, the
// flags defined in a file named after the program (pstrack-server.cc, ...);
// ours are defined in main.cc files, so --help answered "No flags matched".
// Abseil's --version printed "Debug build (NDEBUG not #defined)" even for
// release builds; ours prints the version and the source commit. Call
// before absl::ParseCommandLine.
#ifndef PSTRACK_SERVICES_COMMON_USAGE_H_
#define PSTRACK_SERVICES_COMMON_USAGE_H_

#include <string>

#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "services/common/build_info.h"

namespace pstrack {

// --help and --helpshort list the flags defined in `flags_file` (for
// example "services/server/main.cc"); --version prints VersionLine(program).
inline void SetUpUsage(absl::string_view program, absl::string_view flags_file) {
  absl::FlagsUsageConfig config;
  config.version_string = [name = std::string(program)] { return VersionLine(name) + "\n"; };
  auto own = [suffix = absl::StrCat("/", flags_file)](absl::string_view file) {
    return absl::EndsWith(absl::StrCat("/", file), suffix);
  };
  config.contains_help_flags = own;
  config.contains_helpshort_flags = own;
  absl::SetFlagsUsageConfig(config);
}

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_COMMON_USAGE_H_
