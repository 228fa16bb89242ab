// The options a CLI command accepts (name, kind, help) and the values one
// command line gave them, checked against their kinds when parsed.
#ifndef PSTRACK_TOOLS_CLI_OPTIONS_H_
#define PSTRACK_TOOLS_CLI_OPTIONS_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pstrack::cli {

enum class OptionKind {
  kBool,    // --x, --nox, --x=true|false
  kString,  // --x VALUE or --x=VALUE
  kInt,     // a whole number
  kDouble,  // a number
  kList,    // comma-separated values
};

// One option of a command: `--name VALUE`, described by `help`.
struct OptionSpec {
  std::string name;  // without the dashes: "scope"
  OptionKind kind = OptionKind::kString;
  std::string value_name;  // in help texts: "CODE"; empty for booleans
  std::string help;
  std::string default_value;  // as it would be written on the command line
};

OptionSpec BoolOption(std::string name, std::string help);
OptionSpec StringOption(std::string name, std::string value_name, std::string help, std::string default_value = "");
OptionSpec IntOption(std::string name, std::string value_name, std::string help, int default_value = 0);
OptionSpec DoubleOption(std::string name, std::string value_name, std::string help);
OptionSpec ListOption(std::string name, std::string value_name, std::string help);

// Checks `text` as a value of an option of `kind` (the values a boolean
// takes after '=': true, false, 1, 0, yes, no, t, f, y, n). The error names
// the option.
absl::Status CheckOptionValue(const OptionSpec& spec, absl::string_view text);

// The positional arguments and option values of one command line. Every
// option the command declares has a value (its default when not given);
// asking for one it does not declare is a programming error and aborts.
class Args {
 public:
  Args() = default;
  // Defaults for every option of `specs`.
  explicit Args(const std::vector<OptionSpec>& specs);

  // Sets an option's value, already checked with CheckOptionValue.
  void Set(const std::string& name, std::string value);
  void AddPositional(std::string value) { positional_.push_back(std::move(value)); }

  const std::vector<std::string>& positional() const { return positional_; }
  const std::string& positional(size_t i) const { return positional_.at(i); }

  // True if the command line gave the option (even with its default value).
  bool Given(absl::string_view name) const;
  bool Declares(absl::string_view name) const { return values_.contains(name); }

  const std::string& String(absl::string_view name) const;
  bool Bool(absl::string_view name) const;
  int Int(absl::string_view name) const;
  double Double(absl::string_view name) const;
  // The comma-separated parts, as given (not trimmed); none for "".
  std::vector<std::string> List(absl::string_view name) const;

 private:
  struct Value {
    std::string text;
    bool given = false;
  };
  const Value& Find(absl::string_view name) const;

  std::map<std::string, Value, std::less<>> values_;
  std::vector<std::string> positional_;
};

}  // namespace pstrack::cli

#endif  // PSTRACK_TOOLS_CLI_OPTIONS_H_
