// The CLI's exit statuses (0 done; 1 an error, or rows rejected; 2 a wrong
// command line or no server to talk to), carried by an error as a payload.
#ifndef PSTRACK_TOOLS_CLI_EXIT_CODE_H_
#define PSTRACK_TOOLS_CLI_EXIT_CODE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace pstrack::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // an error, or a command that found rows to reject
inline constexpr int kExitUsage = 2;    // a wrong command line, or no server to talk to

inline constexpr char kExitCodePayload[] = "type.pstrack.dev/pstrack.cli.ExitCode";

// `status` (not OK) ending the program with `code`.
inline absl::Status WithExitCode(absl::Status status, int code) {
  status.SetPayload(kExitCodePayload, absl::Cord(absl::StrCat(code)));
  return status;
}

// A command line the CLI cannot run (exit status 2).
inline absl::Status UsageError(absl::string_view message) {
  return WithExitCode(absl::InvalidArgumentError(message), kExitUsage);
}

// The exit status an error ends the program with: 1 unless it says otherwise.
inline int ExitCode(const absl::Status& status) {
  if (status.ok()) return kExitOk;
  int code = kExitFailure;
  if (auto payload = status.GetPayload(kExitCodePayload)) {
    if (!absl::SimpleAtoi(std::string(*payload), &code)) code = kExitFailure;
  }
  return code;
}

}  // namespace pstrack::cli

#endif  // PSTRACK_TOOLS_CLI_EXIT_CODE_H_
