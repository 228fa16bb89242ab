// The CLI as a table of commands (words, arguments, options, handler), with
// one parser, one help generator and RunCli serving them all.
#ifndef PSTRACK_TOOLS_CLI_COMMAND_H_
#define PSTRACK_TOOLS_CLI_COMMAND_H_

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/cli/options.h"
#include "tools/cli/output.h"

namespace pstrack::cli {

class Client;

// What a handler works with: the server, where to print, and in what form.
struct Context {
  Client& client;
  std::ostream& out;
  Output output = Output::kTable;
};

// Runs a command whose arguments were parsed. Returns the exit status of a
// command that ran to its end (kExitOk, or kExitFailure when it found rows
// to reject or aggregates that differ), or the error that stopped it.
using Handler = std::function<absl::StatusOr<int>(Context& context, const Args& args)>;

struct Command {
  // Every member has a default, so that the table's entries name only what
  // they set (designated initializers).
  std::vector<std::string> words = {};        // {"agency", "list"}
  std::string alias = {};                     // another spelling of words[0]: "agencies"
  std::string group = {};                     // its heading in `pstrack help`
  std::vector<std::string> positionals = {};  // {"CODE"}: exactly these many
  std::string synopsis = {};                  // the options in its usage line
  std::string summary = {};                   // one line
  std::string details = {};                   // lines more for `--help`; may be empty
  std::vector<OptionSpec> options = {};       // its own (the connection options are everyone's)
  Formats formats = Formats::kJson;
  Handler run = nullptr;
};

// `words` joined, then the positionals and the synopsis: "agency get CODE".
std::string UsageLine(const Command& command);

// Every option `command` accepts: its own, --json and --csv as its formats
// say, and the connection options.
std::vector<OptionSpec> AcceptedOptions(const Command& command);

// The command `words` name: the longest command whose words begin `words`
// (its first word may be the alias). `*used` is set to how many words it
// took. Null if none.
const Command* FindCommand(const std::vector<Command>& table, const std::vector<std::string>& words, size_t* used);

// A command line, parsed against the table.
struct Invocation {
  const Command* command = nullptr;  // null when no command is named
  std::vector<std::string> words;    // every argument that is not an option, in order
  Args args;                         // the command's options and positionals
  Output output = Output::kTable;
  bool help = false;     // --help (or -h) anywhere
  bool version = false;  // --version anywhere
};

// Parses `argv` (without the program's name). Options may come before,
// between or after the words, as --name=value or --name value; booleans as
// --name, --noname or --name=false; "--" ends the options. Errors name the
// option: one the command does not take, a value missing or of the wrong
// kind; a command that is not in the table (exit status 2); the wrong
// number of positionals (2). With --help or --version nothing but the
// command is checked.
absl::StatusOr<Invocation> ParseCommandLine(const std::vector<Command>& table, const std::vector<std::string>& argv);

// `pstrack help`: every command by group, with its summary, and the notes
// that apply to all of them.
std::string GlobalHelp(const std::vector<Command>& table);
// `pstrack completion bash`: a bash completion script for the table's
// commands and their options.
std::string BashCompletion(const std::vector<Command>& table);

// `pstrack COMMAND --help`: its usage line, summary, details and options.
std::string CommandHelp(const Command& command);
// `pstrack agency --help`: the commands whose words begin with `prefix`;
// empty if none do.
std::string PrefixHelp(const std::vector<Command>& table, const std::vector<std::string>& prefix);

// Runs one command line (without the program's name) against `table`,
// printing to `out` and errors to `err` ("pstrack: <message>"). Returns the
// exit status.
int RunCli(const std::vector<Command>& table, const std::vector<std::string>& argv, std::ostream& out,
           std::ostream& err);

}  // namespace pstrack::cli

#endif  // PSTRACK_TOOLS_CLI_COMMAND_H_
