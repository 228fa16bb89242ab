#include "tools/cli/request_options.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "services/agencies/agency.h"
#include "services/api/convert.h"
#include "services/common/dates.h"

namespace pstrack::cli {

std::vector<OptionSpec> ScopeOptions(std::string help) {
  return {StringOption("scope", "CODE", std::move(help)),
          BoolOption("as_filed",
                     "Keep figures with the agency they were filed at (default: today's tree, where former "
                     "agencies count under their successors)")};
}

std::vector<OptionSpec> PeriodOptions() {
  return {
      StringOption("period", "P", "2025, 2025-Q3, 2025-07 or 2025-07-15"),
      StringOption("from", "DATE", "First day of the period, YYYY-MM-DD (with --until, instead of --period)"),
      StringOption("until", "DATE", "End of the period, YYYY-MM-DD, not included (2025-01-01 to 2026-01-01 = 2025)")};
}

OptionSpec AsOfOption(std::string help) { return StringOption("as_of", "DATE", std::move(help)); }

OptionSpec LevelOption(std::string help) { return StringOption("level", "L", std::move(help)); }

OptionSpec IdsOption() { return ListOption("ids", "a,b", "Only these indicator ids, comma-separated (default: all)"); }

OptionSpec LimitOption(std::string help) { return IntOption("limit", "N", std::move(help)); }

std::vector<OptionSpec> Join(std::vector<OptionSpec> specs, const std::vector<OptionSpec>& more) {
  specs.insert(specs.end(), more.begin(), more.end());
  return specs;
}

absl::StatusOr<v1::Scope> ScopeFromArgs(const Args& args) {
  const std::string& code = args.String("scope");
  if (code.empty()) {
    return absl::InvalidArgumentError("this command needs --scope CODE (an agency code; VN for the whole country)");
  }
  v1::Scope scope;
  scope.set_agency_code(code);
  scope.set_tree_view(args.Bool("as_filed") ? v1::TREE_VIEW_AS_FILED : v1::TREE_VIEW_CURRENT);
  return scope;
}

absl::StatusOr<v1::Period> PeriodFromArgs(const Args& args) {
  const std::string& label = args.String("period");
  const std::string& from = args.String("from");
  const std::string& until = args.String("until");
  v1::Period period;
  if (!label.empty()) {
    if (!from.empty() || !until.empty()) {
      return absl::InvalidArgumentError("give either --period or --from and --until, not both");
    }
    period.set_label(label);
    return period;
  }
  if (from.empty() || until.empty()) {
    return absl::InvalidArgumentError(
        "this command needs --period (2025, 2025-Q3, 2025-07 or 2025-07-15), or --from DATE and --until DATE");
  }
  absl::StatusOr<Date> start = ParseDate(from, "--from");
  if (!start.ok()) return start.status();
  absl::StatusOr<Date> end = ParseDate(until, "--until");
  if (!end.ok()) return end.status();
  DateToProto(*start, period.mutable_range()->mutable_start());
  DateToProto(*end, period.mutable_range()->mutable_end());
  return period;
}

absl::StatusOr<std::optional<v1::Date>> AsOfFromArgs(const Args& args) {
  const std::string& text = args.String("as_of");
  if (text.empty()) return std::nullopt;
  absl::StatusOr<Date> date = ParseDate(text, "--as_of");
  if (!date.ok()) return date.status();
  v1::Date out;
  DateToProto(*date, &out);
  return out;
}

absl::StatusOr<int> LevelFromArgs(const Args& args) {
  const std::string& text = args.String("level");
  if (text.empty()) return 0;
  absl::StatusOr<AgencyLevel> level = ParseAgencyLevel(text, "--level");
  if (!level.ok()) return level.status();
  return static_cast<int>(*level);
}

void IdsFromArgs(const Args& args, google::protobuf::RepeatedPtrField<std::string>* out) {
  for (const std::string& id : args.List("ids")) {
    std::string trimmed(absl::StripAsciiWhitespace(id));
    if (!trimmed.empty()) out->Add(std::move(trimmed));
  }
}

}  // namespace pstrack::cli
