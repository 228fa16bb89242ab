// The events, the dossier index and the feed log as ingestion reads and
// writes them, and everything ingestion touches in one transaction.
// Thread-compatible.
#ifndef PSTRACK_SERVICES_FILINGS_FILING_STORE_H_
#define PSTRACK_SERVICES_FILINGS_FILING_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/catalog/catalog_store.h"
#include "services/figures/aggregate_store.h"
#include "services/security/security_store.h"
#include "services/common/transactions.h"

namespace pstrack {

// A filing event as stored: its canonical encoding (services/lifecycle/event.h)
// with the columns queries need.
struct StoredEvent {
  std::string event_id;
  std::string dossier_code;
  int64_t occurred_us = 0;
  int kind = 0;
  std::string content;
  int64_t recorded_us = 0;
};

// The query index of a dossier. Derived: the dossier's state is always the
// replay of its events; this row only makes listing and filtering cheap.
struct DossierRow {
  std::string code, agency_code, agency_path, procedure_code;
  int status = 0;
  int channel = 0;
  std::optional<int64_t> received_us, due_us, finish_us, wait_since_us;
  // OverdueFrom() by the rule and by portal practice (absent: never).
  std::optional<int64_t> overdue_from_us, portal_overdue_from_us;
  std::string received_day, finish_day;  // "YYYY-MM-DD" local, or empty
  int event_count = 0;
  int64_t updated_us = 0;
};

struct DossierQuery {
  std::string agency_path;  // subtree; empty = all
  std::string procedure_code;
  int status = 0;
  int channel = 0;
  OptionalDate received_from, received_until;  // [from, until)
  OptionalDate finished_from, finished_until;
  // Open and overdue at this instant (OverdueFrom in lifecycle.h).
  std::optional<int64_t> overdue_at_us;
  // Open, not overdue at `first` and overdue by `second`: due in between.
  std::optional<std::pair<int64_t, int64_t>> due_between_us;
  std::string after_code;
  int limit = 100;
};

// Open dossiers of a subtree at an instant: received at or before it and
// not finished by then, judged as TimelinessAt does (the clock stopped while
// a supplement is awaited).
struct OpenCounts {
  int64_t open = 0;
  int64_t overdue = 0;         // by the rule's due time
  int64_t portal_overdue = 0;  // by the portal's due time
};

// Open dossiers of one agency overdue since at or before an instant.
struct OverdueByAgency {
  std::string agency_code;
  int64_t count = 0;
  int64_t oldest_overdue_us = 0;
};

// One counter of the feed log: per agency code (as sent, known or not),
// local day the event occurred (its arrival day when refused before its
// time could be read) and metric ("accepted", "late", "rejected:<reason>").
struct FeedLogRow {
  std::string agency_code;
  std::string day;  // "YYYY-MM-DD"; empty in sums over days
  std::string metric;
  int64_t count = 0;
  int64_t last_us = 0;  // latest arrival counted
};

struct FeedLogQuery {
  std::vector<std::string> paths = {};  // subtrees; empty = every code, unknown ones included
  std::string from_day, until_day;      // [from, until)
};

// When an agency's events arrived, first and last (any day).
struct FeedLast {
  std::string agency_code;
  int64_t first_us = 0, last_us = 0;
};

// The events and the dossier index.
class DossierReader {
 public:
  virtual ~DossierReader() = default;
  // Stored events with these ids (any dossier).
  virtual absl::StatusOr<std::vector<StoredEvent>> FindEvents(const std::vector<std::string>& event_ids) = 0;
  // Every stored event of these dossiers.
  virtual absl::StatusOr<std::vector<StoredEvent>> LoadDossierEvents(const std::vector<std::string>& dossier_codes) = 0;
  virtual absl::StatusOr<std::optional<DossierRow>> FindDossier(absl::string_view code) = 0;
  // Ordered by code.
  virtual absl::StatusOr<std::vector<DossierRow>> ListDossiers(const DossierQuery& query) = 0;
  // Every event stored: projected, or still in the event log.
  virtual absl::StatusOr<int64_t> CountEvents() = 0;
  virtual absl::StatusOr<OpenCounts> CountOpen(const std::vector<std::string>& agency_paths, int64_t at_us) = 0;
  // Open dossiers of these subtrees overdue (by the rule) since at or
  // before `since_us`, per filing agency.
  virtual absl::StatusOr<std::vector<OverdueByAgency>> CountOverdueSince(const std::vector<std::string>& paths,
                                                                          int64_t since_us) = 0;
};

class DossierWriter : public virtual DossierReader, public virtual TransactionControl {
 public:
  // Appends events (ids not yet stored), in multi-row statements.
  virtual absl::Status InsertEvents(const std::vector<StoredEvent>& events) = 0;
  // Inserts or replaces dossiers' index rows, in multi-row statements.
  virtual absl::Status PutDossiers(const std::vector<DossierRow>& rows) = 0;
};

class FeedLogReader {
 public:
  virtual ~FeedLogReader() = default;
  // Feed-log counters summed over the days of the query, per agency code
  // and metric.
  virtual absl::StatusOr<std::vector<FeedLogRow>> SumFeedLog(const FeedLogQuery& query) = 0;
  // Every feed-log row (for copies).
  virtual absl::StatusOr<std::vector<FeedLogRow>> AllFeedLog() = 0;
  // First and last arrivals of the agencies of these subtrees (empty = all).
  virtual absl::StatusOr<std::vector<FeedLast>> ListFeedLast(const std::vector<std::string>& paths) = 0;
};

class FeedLogWriter : public virtual FeedLogReader, public virtual TransactionControl {
 public:
  // Adds counts to feed-log rows (creating them; last_us is the maximum),
  // and moves the agencies' first and last arrivals.
  virtual absl::Status AddFeedLog(const std::vector<FeedLogRow>& rows) = 0;
};

// An event of the log: acknowledged and durable, not yet projected into
// the dossiers and the aggregates. `seq` orders the log (on PostgreSQL
// sequence values may commit out of order: nothing relies on a prefix).
struct LoggedEvent {
  int64_t seq = 0;
  StoredEvent event;
};

// The log as a reader's snapshot sees it.
struct LogState {
  int64_t pending = 0;            // events acknowledged, not yet projected
  int64_t first_pending_seq = 0;  // 0 when nothing is pending
  int64_t last_seq = 0;           // the highest sequence number handed out
  // Every event up to here is in the figures.
  int64_t position() const { return pending > 0 ? first_pending_seq - 1 : last_seq; }
};

// The event log: what writers append and the projection consumes.
class EventLogReader {
 public:
  virtual ~EventLogReader() = default;
  // Logged (not yet projected) events with these ids.
  virtual absl::StatusOr<std::vector<StoredEvent>> FindLoggedEvents(const std::vector<std::string>& event_ids) = 0;
  // The oldest pending events, at most `limit`.
  virtual absl::StatusOr<std::vector<LoggedEvent>> PendingEvents(int limit) = 0;
  // Every pending event of these dossiers.
  virtual absl::StatusOr<std::vector<LoggedEvent>> PendingEventsOf(const std::vector<std::string>& dossier_codes) = 0;
  virtual absl::StatusOr<LogState> GetLogState() = 0;
  // Whether an event numbered `seq` or lower is still pending (visible to
  // this transaction). For read-your-writes: on PostgreSQL sequence numbers
  // are handed out before commit, so a position derived from the log (or
  // the sequence) can pass events that another transaction has not
  // committed yet; a committed event is either visible here or projected.
  virtual absl::StatusOr<bool> PendingThrough(int64_t seq) = 0;
};

class EventLogWriter : public virtual EventLogReader, public virtual TransactionControl {
 public:
  // Appends events (ids stored nowhere yet), in multi-row statements;
  // returns the highest sequence number they got.
  virtual absl::StatusOr<int64_t> AppendToLog(const std::vector<StoredEvent>& events) = 0;
  // Removes projected events from the log; returns how many of them it
  // still held (fewer: another transaction projected some meanwhile).
  virtual absl::StatusOr<int64_t> RemoveFromLog(const std::vector<int64_t>& seqs) = 0;
  // Whether this transaction may project: one projector at a time across
  // the processes sharing the database (released at commit); with `wait`,
  // once the current one has committed. Only the lead's transaction writes
  // dossier rows and aggregates, so it needs no lock on the dossiers.
  virtual absl::StatusOr<bool> LeadProjection(bool wait) = 0;
};

// Waits until this transaction leads the projection: whatever else writes
// dossier rows or aggregates (an inline projection, a re-derivation, a
// rebuild) does it as the lead, so that no projection round runs meanwhile.
inline absl::Status LeadTheProjection(EventLogWriter& tx) {
  absl::StatusOr<bool> lead = tx.LeadProjection(/*wait=*/true);
  if (!lead.ok()) return lead.status();
  if (!*lead) return absl::InternalError("the projection's lock was not granted");
  return absl::OkStatus();
}

// What ingestion and re-derivation read: the reference data, the dossiers,
// the log, their aggregates and the feed log.
class FilingReader : public virtual CatalogReader,
                     public virtual DossierReader,
                     public virtual EventLogReader,
                     public virtual AggregateReader,
                     public virtual FeedLogReader {};

// What they write in the same transaction (the audit row of a batch too).
class FilingWriter : public virtual FilingReader,
                     public virtual DossierWriter,
                     public virtual EventLogWriter,
                     public virtual AggregateWriter,
                     public virtual FeedLogWriter,
                     public virtual AuditWriter {};

using FilingStore = Transactions<FilingReader, FilingWriter>;

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_FILINGS_FILING_STORE_H_
