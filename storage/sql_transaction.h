// A store's transaction on SQLite or PostgreSQL: the sum of its table groups
// (storage/tables/, one per interface group), over one connection
// (storage/sql/context.h), with savepoints and cross-process key locks.
// Thread-compatible: used inside one Store::Read or Write callback.
#ifndef PSTRACK_STORAGE_SQL_TRANSACTION_H_
#define PSTRACK_STORAGE_SQL_TRANSACTION_H_

#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "storage/store.h"
#include "storage/tables/agency_tables.h"
#include "storage/tables/aggregate_tables.h"
#include "storage/tables/catalog_tables.h"
#include "storage/tables/dossier_tables.h"
#include "storage/tables/event_log_tables.h"
#include "storage/tables/feed_log_tables.h"
#include "storage/tables/metrics_tables.h"
#include "storage/tables/report_tables.h"
#include "storage/tables/security_tables.h"

namespace pstrack::sql {

class SqlTransaction final : public WriteTransaction,
                             public SqlAgencyTables,
                             public SqlCatalogTables,
                             public SqlDossierTables,
                             public SqlEventLogTables,
                             public SqlAggregateTables,
                             public SqlSecurityTables,
                             public SqlReportTables,
                             public SqlFeedLogTables,
                             public SqlMetricsTables {
 public:
  // A transaction already begun on the dialect's connection.
  explicit SqlTransaction(Dialect& dialect) : SqlContext(dialect) {}

  absl::Status LockKeys(const std::vector<std::string>& keys) override;
  absl::Status Atomically(absl::FunctionRef<absl::Status()> fn) override;
};

}  // namespace pstrack::sql

#endif  // PSTRACK_STORAGE_SQL_TRANSACTION_H_
