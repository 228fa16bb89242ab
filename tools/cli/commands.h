// The CLI's commands, one function per group (each in its own file), and the
// whole table in the order `pstrack help` lists them.
#ifndef PSTRACK_TOOLS_CLI_COMMANDS_H_
#define PSTRACK_TOOLS_CLI_COMMANDS_H_

#include <vector>

#include "tools/cli/command.h"

namespace pstrack::cli {

std::vector<Command> AgencyCommands();   // agency list, get, import, resolve
std::vector<Command> DossierCommands();  // event send, dossier get, list
std::vector<Command> CatalogCommands();  // procedure list, get, import
std::vector<Command> MetricsCommands();  // indicators, breakdown, series, rank, score, ...
std::vector<Command> ReportCommands();   // report submit, get, list; reconcile, silent, quality
std::vector<Command> AccessCommands();   // whoami, key, audit, methodologies reload

const std::vector<Command>& CommandTable();

}  // namespace pstrack::cli

#endif  // PSTRACK_TOOLS_CLI_COMMANDS_H_
