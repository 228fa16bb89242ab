#include "services/filings/dossier_pages.h"

#include "services/common/call_limits.h"
#include "services/common/status.h"

namespace pstrack {

absl::Status ForEachDossierPage(
    DossierReader& tx, DossierQuery query, int per_page,
    absl::FunctionRef<absl::Status(const std::vector<DossierRow>&, EventsByDossier&)> on_page) {
  query.limit = per_page;
  while (true) {
    PSTRACK_RETURN_IF_ERROR(CheckCallLimits());
    PSTRACK_ASSIGN_OR_RETURN(std::vector<DossierRow> rows, tx.ListDossiers(query));
    if (rows.empty()) return absl::OkStatus();
    std::vector<std::string> codes;
    codes.reserve(rows.size());
    for (const DossierRow& r : rows) codes.push_back(r.code);
    PSTRACK_ASSIGN_OR_RETURN(std::vector<StoredEvent> stored, tx.LoadDossierEvents(codes));
    EventsByDossier events;
    for (const StoredEvent& s : stored) {
      PSTRACK_ASSIGN_OR_RETURN(FilingEvent e, DecodeEvent(s.content));
      events[s.dossier_code].push_back(std::move(e));
    }
    PSTRACK_RETURN_IF_ERROR(on_page(rows, events));
    query.after_code = rows.back().code;
  }
}

}  // namespace pstrack
