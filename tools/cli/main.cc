// pstrack: command-line client of the pstrack gRPC API. Run `pstrack help`;
// the commands are the table of tools/cli/commands.h.
#include <iostream>
#include <string>
#include <vector>

#include "tools/cli/command.h"
#include "tools/cli/commands.h"

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  return pstrack::cli::RunCli(pstrack::cli::CommandTable(), args, std::cout, std::cerr);
}
