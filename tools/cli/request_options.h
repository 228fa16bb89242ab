// Options several commands take and read the same way (a scope, a period,
// --as_of, --level, --ids, --limit), as specs and as request fields.
#ifndef PSTRACK_TOOLS_CLI_REQUEST_OPTIONS_H_
#define PSTRACK_TOOLS_CLI_REQUEST_OPTIONS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "pstrack/v1/common.pb.h"
#include "pstrack/v1/metrics.pb.h"
#include "tools/cli/options.h"

namespace pstrack::cli {

// --scope and --as_filed, read by ScopeFromArgs; `help` says what the scope
// is to the command.
std::vector<OptionSpec> ScopeOptions(std::string help);
// --period, --from and --until, read by PeriodFromArgs.
std::vector<OptionSpec> PeriodOptions();
OptionSpec AsOfOption(std::string help);
OptionSpec LevelOption(std::string help);
OptionSpec IdsOption();
OptionSpec LimitOption(std::string help = "Stop after this many rows (0 = all)");

// `specs` and then `more`.
std::vector<OptionSpec> Join(std::vector<OptionSpec> specs, const std::vector<OptionSpec>& more);

// --scope CODE, required, in today's tree or as filed (--as_filed).
absl::StatusOr<v1::Scope> ScopeFromArgs(const Args& args);
// --period LABEL, or --from and --until (a half-open range, as the API's).
absl::StatusOr<v1::Period> PeriodFromArgs(const Args& args);
// --as_of DATE, if given.
absl::StatusOr<std::optional<v1::Date>> AsOfFromArgs(const Args& args);
// --level, as the API's AgencyLevel number (0 when not given).
absl::StatusOr<int> LevelFromArgs(const Args& args);
// --ids a,b: the ids trimmed, empty ones left out.
void IdsFromArgs(const Args& args, google::protobuf::RepeatedPtrField<std::string>* out);

}  // namespace pstrack::cli

#endif  // PSTRACK_TOOLS_CLI_REQUEST_OPTIONS_H_
