// --help for pstrack's programs. Abseil lists, for --help, the flags defined
// in a file named after the program (pstrack-server.cc, ...); ours are
// defined in main.cc files, so --help answered "No flags matched". Call
// before absl::ParseCommandLine with the defining file's path from the
// source root.
#ifndef PSTRACK_SERVICES_COMMON_USAGE_H_
#define PSTRACK_SERVICES_COMMON_USAGE_H_

#include <string>

#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace pstrack {

// --help and --helpshort list the flags defined in `flags_file` (for
// example "services/server/main.cc").
inline void HelpListsFlagsOf(absl::string_view flags_file) {
  absl::FlagsUsageConfig config;
  auto own = [suffix = absl::StrCat("/", flags_file)](absl::string_view file) {
    return absl::EndsWith(absl::StrCat("/", file), suffix);
  };
  config.contains_help_flags = own;
  config.contains_helpshort_flags = own;
  absl::SetFlagsUsageConfig(config);
}

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_COMMON_USAGE_H_
