// The feed log: counters per agency, day and metric, and first and last arrivals.
// Implements its part of a store's transactions (storage/sql_transaction.h).
// Thread-compatible: used inside one transaction.
#ifndef PSTRACK_STORAGE_TABLES_FEED_LOG_TABLES_H_
#define PSTRACK_STORAGE_TABLES_FEED_LOG_TABLES_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/filings/filing_store.h"
#include "storage/sql/context.h"

namespace pstrack::sql {

class SqlFeedLogTables : public virtual FeedLogWriter, protected virtual SqlContext {
 public:
  absl::Status AddFeedLog(const std::vector<FeedLogRow>& rows) override;
  absl::StatusOr<std::vector<FeedLogRow>> SumFeedLog(const FeedLogQuery& query) override;
  absl::StatusOr<std::vector<FeedLogRow>> AllFeedLog() override;
  absl::StatusOr<std::vector<FeedLast>> ListFeedLast(const std::vector<std::string>& paths) override;

 protected:
  absl::StatusOr<std::vector<FeedLogRow>> QueryFeedLog(DynamicQuery& q, bool with_day);
};

}  // namespace pstrack::sql

#endif  // PSTRACK_STORAGE_TABLES_FEED_LOG_TABLES_H_
