#include "tools/cli/calls.h"

namespace pstrack::cli {

int PrintImportResults(std::ostream& out, const std::vector<v1::ItemResult>& results, int rejected_here,
                       const char* noun) {
  int applied = 0, unchanged = 0, rejected = rejected_here;
  for (const auto& r : results) {
    if (r.outcome() == v1::ItemResult::OUTCOME_APPLIED) ++applied;
    if (r.outcome() == v1::ItemResult::OUTCOME_UNCHANGED) ++unchanged;
    if (r.outcome() == v1::ItemResult::OUTCOME_REJECTED) {
      ++rejected;
      out << "line " << r.source_line() << ": " << r.message() << "\n";
    }
  }
  out << noun << ": " << applied << " applied, " << unchanged << " unchanged, " << rejected << " rejected\n";
  return rejected > 0 ? kExitFailure : kExitOk;
}

}  // namespace pstrack::cli
