#include "tools/cli/options.h"

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace pstrack::cli {
namespace {

// The spellings of a boolean after '=' (as Abseil's flags took them).
std::optional<bool> ParseBool(absl::string_view text) {
  const std::string lower = absl::AsciiStrToLower(text);
  for (const char* yes : {"true", "1", "yes", "t", "y"}) {
    if (lower == yes) return true;
  }
  for (const char* no : {"false", "0", "no", "f", "n"}) {
    if (lower == no) return false;
  }
  return std::nullopt;
}

}  // namespace

OptionSpec BoolOption(std::string name, std::string help) {
  return {std::move(name), OptionKind::kBool, "", std::move(help), "false"};
}

OptionSpec StringOption(std::string name, std::string value_name, std::string help, std::string default_value) {
  return {std::move(name), OptionKind::kString, std::move(value_name), std::move(help), std::move(default_value)};
}

OptionSpec IntOption(std::string name, std::string value_name, std::string help, int default_value) {
  return {std::move(name), OptionKind::kInt, std::move(value_name), std::move(help), absl::StrCat(default_value)};
}

OptionSpec DoubleOption(std::string name, std::string value_name, std::string help) {
  return {std::move(name), OptionKind::kDouble, std::move(value_name), std::move(help), "0"};
}

OptionSpec ListOption(std::string name, std::string value_name, std::string help) {
  return {std::move(name), OptionKind::kList, std::move(value_name), std::move(help), ""};
}

absl::Status CheckOptionValue(const OptionSpec& spec, absl::string_view text) {
  switch (spec.kind) {
    case OptionKind::kBool:
      if (!ParseBool(text)) {
        return absl::InvalidArgumentError(absl::StrCat("--", spec.name, ": '", text, "' is not true or false"));
      }
      break;
    case OptionKind::kInt: {
      int n = 0;
      if (!absl::SimpleAtoi(text, &n)) {
        return absl::InvalidArgumentError(absl::StrCat("--", spec.name, ": '", text, "' is not a whole number"));
      }
      break;
    }
    case OptionKind::kDouble: {
      double x = 0;
      if (!absl::SimpleAtod(text, &x)) {
        return absl::InvalidArgumentError(absl::StrCat("--", spec.name, ": '", text, "' is not a number"));
      }
      break;
    }
    case OptionKind::kString:
    case OptionKind::kList:
      break;
  }
  return absl::OkStatus();
}

Args::Args(const std::vector<OptionSpec>& specs) {
  for (const OptionSpec& spec : specs) values_[spec.name] = Value{spec.default_value, false};
}

void Args::Set(const std::string& name, std::string value) {
  Value& v = values_[name];
  v.text = std::move(value);
  v.given = true;
}

const Args::Value& Args::Find(absl::string_view name) const {
  auto it = values_.find(name);
  if (it == values_.end()) {
    // A handler reads an option its command does not declare: a bug in the
    // command table, never a user's mistake.
    std::fprintf(stderr, "pstrack: internal error: option --%.*s is not declared by this command\n",
                 static_cast<int>(name.size()), name.data());
    std::abort();
  }
  return it->second;
}

bool Args::Given(absl::string_view name) const { return Find(name).given; }

const std::string& Args::String(absl::string_view name) const { return Find(name).text; }

bool Args::Bool(absl::string_view name) const { return ParseBool(Find(name).text).value_or(false); }

int Args::Int(absl::string_view name) const {
  int n = 0;
  return absl::SimpleAtoi(Find(name).text, &n) ? n : 0;
}

double Args::Double(absl::string_view name) const {
  double x = 0;
  return absl::SimpleAtod(Find(name).text, &x) ? x : 0;
}

std::vector<std::string> Args::List(absl::string_view name) const {
  const std::string& text = Find(name).text;
  if (text.empty()) return {};
  return absl::StrSplit(text, ',');
}

}  // namespace pstrack::cli
