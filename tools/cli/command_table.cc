#include "tools/cli/commands.h"

namespace pstrack::cli {

const std::vector<Command>& CommandTable() {
  static const auto* kTable = [] {
    auto* table = new std::vector<Command>;
    for (auto group :
         {AgencyCommands, DossierCommands, CatalogCommands, MetricsCommands, ReportCommands, AccessCommands}) {
      for (Command& command : group()) table->push_back(std::move(command));
    }
    return table;
  }();
  return *kTable;
}

}  // namespace pstrack::cli
