// What the periodic-report use cases read and write. Thread-compatible.
#ifndef PSTRACK_SERVICES_REPORTS_REPORTS_STORE_H_
#define PSTRACK_SERVICES_REPORTS_REPORTS_STORE_H_

#include "services/common/transactions.h"
#include "services/figures/report_selection.h"
#include "services/figures/report_store.h"
#include "services/filings/filing_store.h"

namespace pstrack {

class ReportsReader : public virtual ReportSelectionReader, public virtual DossierReader, public virtual FeedLogReader {};

class ReportsWriter : public virtual ReportsReader, public virtual ReportWriter {};

using ReportsStore = Transactions<ReportsReader, ReportsWriter>;

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_REPORTS_REPORTS_STORE_H_
