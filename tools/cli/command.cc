#include "tools/cli/command.h"

#include <iostream>

#include <unistd.h>

#include <set>

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/common/build_info.h"
#include "services/common/text.h"
#include "tools/cli/client.h"
#include "tools/cli/exit_code.h"

namespace pstrack::cli {
namespace {

// The column where summaries begin in `pstrack help`, and the width usage
// lines are folded to.
constexpr size_t kSummaryColumn = 34;
constexpr size_t kWidth = 100;

constexpr char kNotes[] =
    R"(PERIOD is --period 2025|2025-Q3|2025-07|2025-07-15, or --from DATE --until DATE (the until
day not included). Scopes are read in today's agency tree unless --as_filed is given.
A value that cannot be computed prints as n/a with the reason, never as 0. Dates are YYYY-MM-DD.
)";

// An option as written on the command line, before it is checked against
// the command's options.
struct OptionToken {
  std::string name;                  // without dashes, and without "no" for --noname
  std::optional<std::string> value;  // after '=', or the next argument for options that take one
  bool negated = false;              // --noname
};

struct Tokens {
  std::vector<std::string> words;
  std::vector<OptionToken> options;
  bool help = false;
  bool version = false;
};

// The kind of every option some command takes. The same name has the same
// kind in every command (tests/unit/cli_test.cc holds the table to it), so
// an option before the command's words is read as it will be parsed.
std::map<std::string, OptionKind> KnownKinds(const std::vector<Command>& table) {
  std::map<std::string, OptionKind> kinds;
  for (const Command& command : table) {
    for (const OptionSpec& spec : AcceptedOptions(command)) kinds.emplace(spec.name, spec.kind);
  }
  return kinds;
}

Tokens Tokenize(const std::vector<Command>& table, const std::vector<std::string>& argv) {
  const std::map<std::string, OptionKind> kinds = KnownKinds(table);
  Tokens tokens;
  bool options_ended = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (options_ended || arg.size() < 2 || arg[0] != '-') {
      tokens.words.push_back(arg);
      continue;
    }
    if (arg == "--") {
      options_ended = true;
      continue;
    }
    const std::string body = arg.substr(arg[1] == '-' ? 2 : 1);
    const size_t equals = body.find('=');
    OptionToken token;
    token.name = body.substr(0, equals);
    if (equals != std::string::npos) token.value = body.substr(equals + 1);
    if (token.name == "o") token.name = "output";  // -o FORMAT
    if (token.name == "help" || token.name == "h") {
      tokens.help = true;
      continue;
    }
    if (token.name == "version") {
      tokens.version = true;
      continue;
    }
    auto kind = kinds.find(token.name);
    if (kind == kinds.end() && token.name.rfind("no", 0) == 0) {
      auto positive = kinds.find(token.name.substr(2));
      if (positive != kinds.end() && positive->second == OptionKind::kBool) {
        token.name = positive->first;
        token.negated = true;
        kind = positive;
      }
    }
    if (!token.value && kind != kinds.end() && kind->second != OptionKind::kBool && i + 1 < argv.size()) {
      token.value = argv[++i];
    }
    tokens.options.push_back(std::move(token));
  }
  return tokens;
}

std::string Words(const Command& command) { return absl::StrJoin(command.words, " "); }

// Sets the option `token` names in `args`, or says why it cannot.
absl::Status ApplyOption(const Command& command, const std::map<std::string, OptionSpec>& accepted,
                         const std::map<std::string, OptionKind>& known, const OptionToken& token, Args* args) {
  const std::string flag = absl::StrCat("--", token.negated ? "no" : "", token.name);
  auto spec = accepted.find(token.name);
  if (spec == accepted.end()) {
    const std::string help = absl::StrCat("'pstrack ", Words(command), " --help' lists its options");
    if (known.contains(token.name)) {
      return absl::InvalidArgumentError(absl::StrCat(flag, " is not an option of '", Words(command), "'; ", help));
    }
    return absl::InvalidArgumentError(absl::StrCat("unknown option ", flag, "; ", help));
  }
  if (spec->second.kind == OptionKind::kBool) {
    if (token.negated) {
      if (token.value) return absl::InvalidArgumentError(absl::StrCat(flag, " takes no value"));
      args->Set(token.name, "false");
      return absl::OkStatus();
    }
    const std::string value = token.value.value_or("true");
    if (absl::Status s = CheckOptionValue(spec->second, value); !s.ok()) return s;
    args->Set(token.name, value);
    return absl::OkStatus();
  }
  if (!token.value) {
    return absl::InvalidArgumentError(absl::StrCat(flag, " needs a value (", flag, " ", spec->second.value_name, ")"));
  }
  if (absl::Status s = CheckOptionValue(spec->second, *token.value); !s.ok()) return s;
  args->Set(token.name, *token.value);
  return absl::OkStatus();
}

// The arguments of `command`: the words after its own, and the options.
absl::StatusOr<Args> ParseArgs(const std::vector<Command>& table, const Command& command, const Tokens& tokens,
                               const std::vector<std::string>& rest) {
  const std::vector<OptionSpec> specs = AcceptedOptions(command);
  std::map<std::string, OptionSpec> accepted;
  for (const OptionSpec& spec : specs) accepted.emplace(spec.name, spec);
  const std::map<std::string, OptionKind> known = KnownKinds(table);
  Args args(specs);
  for (const OptionToken& token : tokens.options) {
    if (absl::Status s = ApplyOption(command, accepted, known, token, &args); !s.ok()) return s;
  }
  for (const std::string& word : rest) args.AddPositional(word);
  if (args.positional().size() != command.positionals.size()) {
    return UsageError(absl::StrCat("usage: pstrack ", UsageLine(command)));
  }
  return args;
}

absl::StatusOr<Output> OutputOf(const Args& args) {
  const bool json = args.Declares("json") && args.Bool("json");
  const bool csv = args.Declares("csv") && args.Bool("csv");
  const std::string named = args.Declares("output") ? args.String("output") : "";
  if (json + csv + !named.empty() > 1) return UsageError("choose one of -o, --json and --csv");
  if (named.empty()) return json ? Output::kJson : csv ? Output::kCsv : Output::kTable;
  if (named == "table") return Output::kTable;
  if (named == "csv") return Output::kCsv;
  if (named == "json") return Output::kJson;
  if (named == "xlsx") return Output::kXlsx;
  return UsageError(absl::StrCat("-o: '", named, "' is not a format (table, csv, json or xlsx)"));
}

// The parts of a synopsis: split at the spaces outside brackets, so that
// "[--root CODE]" stays whole.
std::vector<std::string> SynopsisParts(const std::string& synopsis) {
  std::vector<std::string> parts;
  std::string part;
  int depth = 0;
  for (char c : synopsis) {
    if (c == '[' || c == '(') ++depth;
    if (c == ']' || c == ')') --depth;
    if (c == ' ' && depth == 0) {
      if (!part.empty()) parts.push_back(std::move(part));
      part.clear();
      continue;
    }
    part += c;
  }
  if (!part.empty()) parts.push_back(std::move(part));
  return parts;
}

// `lead` and the command's usage line, folded before kWidth columns; the
// lines after the first are indented past the command's words.
std::string WrappedUsage(const std::string& lead, const Command& command) {
  std::string line = absl::StrCat(lead, Words(command));
  const size_t indent = Utf8Length(line);
  std::vector<std::string> parts = command.positionals;
  for (std::string& part : SynopsisParts(command.synopsis)) parts.push_back(std::move(part));
  std::string text;
  for (const std::string& part : parts) {
    if (Utf8Length(line) > indent && Utf8Length(line) + 1 + Utf8Length(part) > kWidth) {
      absl::StrAppend(&text, line, "\n");
      line = std::string(indent, ' ');
    }
    absl::StrAppend(&line, " ", part);
  }
  return text + line;
}

// "  agency get CODE" and its summary at kSummaryColumn (on the next line
// when the usage line reaches it).
std::string CommandLine(const Command& command) {
  std::string text = WrappedUsage("  ", command);
  const size_t width = Utf8Length(text.substr(text.rfind('\n') + 1));
  if (width + 2 <= kSummaryColumn) {
    text.append(kSummaryColumn - width, ' ');
  } else {
    absl::StrAppend(&text, "\n", std::string(kSummaryColumn, ' '));
  }
  absl::StrAppend(&text, command.summary, "\n");
  return text;
}

// "  --name VALUE   help (default x)", the helps aligned.
std::string OptionLines(const std::vector<OptionSpec>& specs) {
  std::vector<std::string> left;
  size_t width = 0;
  for (const OptionSpec& spec : specs) {
    left.push_back(absl::StrCat("  --", spec.name, spec.value_name.empty() ? "" : " ", spec.value_name));
    width = std::max(width, Utf8Length(left.back()));
  }
  width = std::min<size_t>(width, 30) + 2;
  std::string text;
  for (size_t i = 0; i < specs.size(); ++i) {
    const OptionSpec& spec = specs[i];
    const size_t w = Utf8Length(left[i]);
    text += left[i];
    text += w + 2 <= width ? std::string(width - w, ' ') : absl::StrCat("\n", std::string(width, ' '));
    text += spec.help;
    const bool shown = spec.kind == OptionKind::kString || spec.kind == OptionKind::kList
                           ? !spec.default_value.empty()
                           : spec.kind != OptionKind::kBool && spec.default_value != "0";
    if (shown) absl::StrAppend(&text, " (default ", spec.default_value, ")");
    text += "\n";
  }
  return text;
}

std::vector<OptionSpec> FormatOptions(Formats formats) {
  std::vector<OptionSpec> specs;
  if (formats != Formats::kTableOnly) specs.push_back(BoolOption("json", "Print JSON instead of tables"));
  if (formats == Formats::kJsonCsv) {
    specs.push_back(BoolOption("csv", "Print CSV (RFC 4180, a header line, unformatted numbers) instead of tables"));
    specs.push_back(StringOption("output", "FORMAT",
                                 "-o: table, csv, json, or xlsx (an Excel workbook: numbers as numbers, rates as "
                                 "percentages; redirect it to a file)"));
  }
  return specs;
}

bool BeginsWith(const Command& command, const std::vector<std::string>& words) {
  if (words.size() > command.words.size()) return false;
  for (size_t i = 0; i < words.size(); ++i) {
    const bool alias = i == 0 && !command.alias.empty() && words[0] == command.alias;
    if (words[i] != command.words[i] && !alias) return false;
  }
  return true;
}

}  // namespace

std::string UsageLine(const Command& command) {
  std::vector<std::string> parts = command.words;
  parts.insert(parts.end(), command.positionals.begin(), command.positionals.end());
  if (!command.synopsis.empty()) parts.push_back(command.synopsis);
  return absl::StrJoin(parts, " ");
}

std::vector<OptionSpec> AcceptedOptions(const Command& command) {
  std::vector<OptionSpec> specs = command.options;
  for (OptionSpec& spec : FormatOptions(command.formats)) specs.push_back(std::move(spec));
  for (OptionSpec& spec : ConnectionOptionSpecs()) specs.push_back(std::move(spec));
  return specs;
}

const Command* FindCommand(const std::vector<Command>& table, const std::vector<std::string>& words, size_t* used) {
  const Command* found = nullptr;
  for (const Command& command : table) {
    if (words.size() < command.words.size()) continue;
    const std::vector<std::string> head(words.begin(), words.begin() + command.words.size());
    if (!BeginsWith(command, head)) continue;
    if (found == nullptr || command.words.size() > found->words.size()) found = &command;
  }
  if (found != nullptr) *used = found->words.size();
  return found;
}

absl::StatusOr<Invocation> ParseCommandLine(const std::vector<Command>& table, const std::vector<std::string>& argv) {
  const Tokens tokens = Tokenize(table, argv);
  Invocation invocation;
  invocation.words = tokens.words;
  invocation.help = tokens.help;
  invocation.version = tokens.version;
  if (!invocation.words.empty() && invocation.words[0] == "help") {
    invocation.help = true;
    invocation.words.erase(invocation.words.begin());
  }
  if (invocation.version || invocation.words.empty()) return invocation;
  size_t used = 0;
  const Command* command = FindCommand(table, invocation.words, &used);
  if (command == nullptr) {
    // `pstrack help something` and `pstrack something --help` show what there is.
    if (invocation.help) return invocation;
    return UsageError(absl::StrCat("unknown command '", absl::StrJoin(invocation.words, " "), "'; run 'pstrack help'"));
  }
  invocation.command = command;
  if (invocation.help) return invocation;
  const std::vector<std::string> rest(invocation.words.begin() + used, invocation.words.end());
  absl::StatusOr<Args> args = ParseArgs(table, *command, tokens, rest);
  if (!args.ok()) return args.status();
  invocation.args = *std::move(args);
  absl::StatusOr<Output> output = OutputOf(invocation.args);
  if (!output.ok()) return output.status();
  invocation.output = *output;
  return invocation;
}

std::string GlobalHelp(const std::vector<Command>& table) {
  std::string text =
      "pstrack: command-line client of the pstrack server.\n\n"
      "Usage: pstrack [options] <command> [arguments]\n"
      "       pstrack <command> --help      the command's arguments and options\n";
  std::vector<std::string> groups;
  for (const Command& command : table) {
    if (std::find(groups.begin(), groups.end(), command.group) == groups.end()) groups.push_back(command.group);
  }
  for (const std::string& group : groups) {
    absl::StrAppend(&text, "\n", group, ":\n");
    for (const Command& command : table) {
      if (command.group == group) text += CommandLine(command);
    }
  }
  absl::StrAppend(&text, "\n", kNotes, "\nConnection options (every command):\n", OptionLines(ConnectionOptionSpecs()));
  return text;
}

std::string BashCompletion(const std::vector<Command>& table) {
  // Every command's words, and for each its options.
  std::map<std::string, std::set<std::string>> next;  // words so far -> next word
  std::map<std::string, std::vector<std::string>> options;
  for (const Command& command : table) {
    std::vector<std::vector<std::string>> spellings = {command.words};
    if (!command.alias.empty()) {
      std::vector<std::string> alias = command.words;
      alias[0] = command.alias;
      spellings.push_back(alias);
    }
    for (const auto& words : spellings) {
      std::string prefix;
      for (const std::string& w : words) {
        next[prefix].insert(w);
        prefix = prefix.empty() ? w : absl::StrCat(prefix, " ", w);
      }
      for (const OptionSpec& spec : AcceptedOptions(command)) options[prefix].push_back("--" + spec.name);
      options[prefix].push_back("--help");
    }
  }
  std::string script =
      "# bash completion for pstrack: source <(pstrack completion bash)\n"
      "_pstrack() {\n"
      "  local cur=${COMP_WORDS[COMP_CWORD]} words=() w\n"
      "  for w in \"${COMP_WORDS[@]:1:COMP_CWORD-1}\"; do [[ $w == -* ]] || words+=(\"$w\"); done\n"
      "  local key=\"${words[*]}\"\n"
      "  if [[ $cur == -* ]]; then\n"
      "    case $key in\n";
  for (const auto& [prefix, opts] : options) {
    absl::StrAppend(&script, "      \"", prefix, "\") COMPREPLY=($(compgen -W \"", absl::StrJoin(opts, " "),
                    "\" -- \"$cur\")); return ;;\n");
  }
  absl::StrAppend(&script, "    esac\n  fi\n  case $key in\n");
  for (const auto& [prefix, words] : next) {
    absl::StrAppend(&script, "    \"", prefix, "\") COMPREPLY=($(compgen -W \"", absl::StrJoin(words, " "),
                    "\" -- \"$cur\")) ;;\n");
  }
  absl::StrAppend(&script, "    *) COMPREPLY=($(compgen -f -- \"$cur\")) ;;\n  esac\n}\ncomplete -o default -F _pstrack pstrack\n");
  return script;
}

std::string CommandHelp(const Command& command) {
  std::string text = absl::StrCat(WrappedUsage("Usage: pstrack ", command), "\n\n", command.summary, "\n");
  if (!command.details.empty()) absl::StrAppend(&text, command.details, "\n");
  std::vector<OptionSpec> own = command.options;
  for (OptionSpec& spec : FormatOptions(command.formats)) own.push_back(std::move(spec));
  if (!own.empty()) absl::StrAppend(&text, "\nOptions:\n", OptionLines(own));
  absl::StrAppend(&text, "\nConnection options:\n", OptionLines(ConnectionOptionSpecs()));
  return text;
}

std::string PrefixHelp(const std::vector<Command>& table, const std::vector<std::string>& prefix) {
  std::string lines;
  for (const Command& command : table) {
    if (BeginsWith(command, prefix)) lines += CommandLine(command);
  }
  if (lines.empty()) return "";
  return absl::StrCat("Commands of 'pstrack ", absl::StrJoin(prefix, " "), "' ('pstrack COMMAND --help' for one):\n",
                      lines);
}

int RunCli(const std::vector<Command>& table, const std::vector<std::string>& argv, std::ostream& out,
           std::ostream& err) {
  auto fail = [&](const absl::Status& status) {
    err << "pstrack: " << status.message() << "\n";
    return ExitCode(status);
  };
  absl::StatusOr<Invocation> invocation = ParseCommandLine(table, argv);
  if (!invocation.ok()) return fail(invocation.status());
  if (invocation->version) {
    out << VersionLine("pstrack") << "\n";
    return kExitOk;
  }
  const Command* command = invocation->command;
  if (command == nullptr) {
    const std::string prefix = PrefixHelp(table, invocation->words);
    out << (invocation->words.empty() || prefix.empty() ? GlobalHelp(table) : prefix);
    // Without a command and without asking for help: a usage error.
    return invocation->help ? kExitOk : kExitUsage;
  }
  if (invocation->help) {
    out << CommandHelp(*command);
    return kExitOk;
  }
  if (command->words == std::vector<std::string>{"completion", "bash"}) {
    out << BashCompletion(table);
    return kExitOk;
  }
  // A workbook is bytes for a file, not for a terminal.
  if (invocation->output == Output::kXlsx && &out == &std::cout && isatty(STDOUT_FILENO)) {
    return fail(absl::InvalidArgumentError("-o xlsx writes an Excel workbook: redirect it to a file, e.g. "
                                           "'pstrack rank ... -o xlsx > ranking.xlsx'"));
  }
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(ConnectionOptionsFromArgs(invocation->args));
  if (!client.ok()) return fail(client.status());
  Context context{**client, out, invocation->output};
  absl::StatusOr<int> done = command->run(context, invocation->args);
  if (!done.ok()) return fail(done.status());
  return *done;
}

}  // namespace pstrack::cli
