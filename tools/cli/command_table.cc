#include "tools/cli/commands.h"

namespace pstrack::cli {

const std::vector<Command>& CommandTable() {
  static const auto* kTable = [] {
    auto* table = new std::vector<Command>;
    for (auto group :
         {AgencyCommands, DossierCommands, CatalogCommands, MetricsCommands, ReportCommands, AccessCommands}) {
      for (Command& command : group()) table->push_back(std::move(command));
    }
    // Served by RunCli itself (it needs the table).
    table->push_back({.words = {"completion", "bash"},
                      .group = "Shell",
                      .summary = "prints a bash completion script: source <(pstrack completion bash)",
                      .formats = Formats::kTableOnly});
    return table;
  }();
  return *kTable;
}

}  // namespace pstrack::cli
