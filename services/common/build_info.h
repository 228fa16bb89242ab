// What was built: the project's version, the source commit and the build
// type, for --version and the server's start-up line. The definitions are
// generated at build time (tools/cmake/build_info.cmake) into a library of
// their own, so a new commit recompiles one file.
#ifndef PSTRACK_SERVICES_COMMON_BUILD_INFO_H_
#define PSTRACK_SERVICES_COMMON_BUILD_INFO_H_

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace pstrack {

absl::string_view ProjectVersion();  // "0.1.0", from CMakeLists.txt
// The git commit the tree was built from (12 hex digits, "-modified" when
// tracked files differed from it); "unknown" when built outside a checkout.
absl::string_view SourceCommit();
absl::string_view BuildType();       // "RelWithDebInfo", "Debug", ...

// "pstrack-server 0.1.0 (commit 71cd509abcde, RelWithDebInfo build)".
inline std::string VersionLine(absl::string_view program) {
  return absl::StrCat(program, " ", ProjectVersion(), " (commit ", SourceCommit(), ", ", BuildType(), " build)");
}

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_COMMON_BUILD_INFO_H_
