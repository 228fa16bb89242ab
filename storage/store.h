// The storage interface the services depend on. It speaks domain values
// (Agency, Procedure) and hides SOCI and SQL entirely; backends are SQLite
// (embedded default) and PostgreSQL (ready for a later issue).
//
// Threading: a Store is shared by all RPC threads. Read() may run
// concurrently with other reads and with one Write(); Write() calls are
// serialised (SQLite allows one writer). A transaction object must be used
// only inside the callback that received it.
#ifndef PSTRACK_STORAGE_STORE_H_
#define PSTRACK_STORAGE_STORE_H_

#include <cstdint>
#include <memory>
#include <map>
#include <optional>
#include <tuple>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/agencies/agency.h"
#include "services/catalog/procedure.h"
#include "services/common/dates.h"
#include "services/metrics/contribution.h"
#include "services/reports/report.h"
#include "services/security/api_key.h"

namespace pstrack {

// Filters for listing agencies; results come ordered by path.
struct AgencyQuery {
  std::string root_path;  // subtree (root included); empty = everything
  int max_depth = 0;      // absolute depth limit; 0 = none
  AgencyLevel level = AgencyLevel::kUnspecified;
  OptionalDate as_of;
  std::string name_folded;  // FoldForSearch() of the name substring
  bool ended_only = false;  // only agencies with a valid_until
  std::string after_path;   // keyset pagination: paths strictly after this
  int limit = 100;
};

// Filters for listing procedures; results come ordered by code.
struct ProcedureQuery {
  std::string field;
  OnlineMode online_mode = OnlineMode::kUnspecified;
  // Carried out by this agency: listed explicitly, or offered at its level.
  std::string agency_code;
  AgencyLevel agency_level = AgencyLevel::kUnspecified;
  AgencyLevel level = AgencyLevel::kUnspecified;
  OptionalDate as_of;
  std::string query_folded;  // substring of the folded name, or exact code
  std::optional<bool> full_online_eligible;
  std::optional<bool> fee_bearing;
  std::string after_code;
  int limit = 100;
};

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
  std::string after_code;
  int limit = 100;
};

// Aggregate buckets: per agency node (the filing agency and each of its
// ancestors, so a subtree's total is the rows of its root), basis (receipt or
// finish day), breakdown dimension and day.
enum class AggregateDim { kTotal = 0, kChannel = 1, kField = 2, kProcedure = 3 };

struct AggregateKey {
  std::string node_code;
  Basis basis = Basis::kReceipt;
  AggregateDim dim = AggregateDim::kTotal;
  std::string dim_value;  // "" for kTotal
  std::string day;        // "YYYY-MM-DD"
  bool operator<(const AggregateKey& o) const {
    return std::tie(node_code, basis, dim, dim_value, day) < std::tie(o.node_code, o.basis, o.dim, o.dim_value, o.day);
  }
  bool operator==(const AggregateKey& o) const {
    return std::tie(node_code, basis, dim, dim_value, day) == std::tie(o.node_code, o.basis, o.dim, o.dim_value, o.day);
  }
};

struct AggregateRow {
  AggregateKey key;
  Counts counts{};
  // Not a figure: how many times a procedure row of this node, basis and
  // day turned a presence counter (kPresenceCounters) on or off (both at
  // once: one), kept on the total row; AddAggregates counts it (ignoring
  // the field in its input). It only grows, so an unchanged sum over a range means that no
  // procedure row of the range changed presence: readers check what they
  // derived from presence (a ranking's catalog figures) with it. Rebuilding
  // the aggregates restarts it, and moves the reference version
  // (ReadTransaction::ReferenceVersion) for that reason.
  int64_t changes = 0;
};

// The order of a store's aggregate rows (its primary key) after node, basis
// and dimension: SQLite clusters them by day first (a month of a breakdown
// is one range), PostgreSQL's key has the dimension value first.
enum class StoredAggregateOrder { kValueThenDay, kDayThenValue };

// Time roll-ups. Besides its day rows (basis 1..3), a node may have month
// rows (basis + kMonthGrain, day "YYYY-MM-01") and year rows (basis +
// kYearGrain, day "YYYY-01-01"), each the sum of its days. Which nodes have
// them is the writer's choice (services/metrics/aggregation.h); a query
// says whether its nodes do (AggregateQuery::rolled_up).
inline constexpr int kMonthGrain = 10, kYearGrain = 20;
AggregateKey MonthRollup(const AggregateKey& day_key);
AggregateKey YearRollup(const AggregateKey& day_key);

// Sums of aggregate rows for some nodes, one basis and one dimension, over
// [from_day, until_day), grouped as asked.
struct AggregateQuery {
  std::vector<std::string> nodes;
  Basis basis = Basis::kReceipt;
  AggregateDim dim = AggregateDim::kTotal;
  std::string from_day, until_day;
  bool by_node = false;       // keep node_code in the result
  bool by_dim_value = false;  // keep dim_value
  bool by_month = false;      // day becomes "YYYY-MM"
  bool by_day = false;        // keep the day
  // Only these counters are summed (the others come back 0); empty = all.
  // Fewer sums make wide scans (a year of every procedure) much cheaper.
  std::vector<Counter> only = {};
  // Every node has month and year roll-ups: long ranges read those. False
  // reads the day rows, which every node has.
  bool rolled_up = false;
  // Also sum AggregateRow::changes.
  bool with_changes = false;
};

// Open dossiers of a subtree at an instant: received at or before it and
// not finished by then, judged as TimelinessAt does (the clock stopped while
// a supplement is awaited).
struct OpenCounts {
  int64_t open = 0;
  int64_t overdue = 0;         // by the rule's due time
  int64_t portal_overdue = 0;  // by the portal's due time
};

// A figure pstrack cannot derive, submitted per agency and period.
struct ExternalInputRow {
  std::string input_id, agency_code, indicator_id;
  Date start, end;  // [start, end)
  double numerator = 0, denominator = 0, value = 0;
  std::string source;
  int64_t recorded_us = 0;
};

// Current reports (PeriodicReport), ordered by report id.
struct ReportQuery {
  // Agencies of these subtrees (by path); empty = every agency.
  std::vector<std::string> paths = {};
  // Reports overlapping [from, until) (or, with contained_only, lying
  // inside it); unset = any period.
  OptionalDate from = {}, until = {};
  bool contained_only = false;
  std::string after_id = {};  // keyset pagination
  int limit = 100;
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

// Open dossiers of one agency overdue since at or before an instant.
struct OverdueByAgency {
  std::string agency_code;
  int64_t count = 0;
  int64_t oldest_overdue_us = 0;
};

// One entry of the audit log (pstrack.v1.AuditRecord).
struct AuditRow {
  int64_t id = 0;  // assigned on insert
  int64_t at_us = 0;
  std::string principal;
  int role = 0;
  std::string method, target;
  int code = 0;
  std::string message;
  int applied = 0, unchanged = 0, rejected = 0;
  std::string peer;
  int64_t duration_us = 0;
};

// Audit entries, newest first.
struct AuditQuery {
  std::string principal = {};
  std::string method_suffix = {};  // matches the end of the method name
  bool failures_only = false;
  std::optional<int64_t> since_us = {}, before_us = {};  // [since, before)
  std::optional<int64_t> before_id = {};  // keyset pagination
  int limit = 100;
};

// API keys, by key id.
struct ApiKeyQuery {
  bool include_revoked = false;
  Role role = Role::kUnspecified;
  std::string after_id = {};
  int limit = 100;
};

class ReadTransaction {
 public:
  virtual ~ReadTransaction() = default;

  virtual absl::StatusOr<std::optional<Agency>> FindAgency(absl::string_view code) = 0;
  // Those of `codes` that exist, in no particular order: one statement per
  // few thousand codes (a batch's lookups one by one were a third of
  // PostgreSQL ingestion, each a round trip).
  virtual absl::StatusOr<std::vector<Agency>> FindAgencies(const std::vector<std::string>& codes) = 0;
  virtual absl::StatusOr<std::vector<Agency>> ListAgencies(const AgencyQuery& query) = 0;
  virtual absl::StatusOr<int64_t> CountAgencies() = 0;

  virtual absl::StatusOr<std::optional<Procedure>> FindProcedure(absl::string_view code) = 0;
  virtual absl::StatusOr<std::vector<Procedure>> FindProcedures(const std::vector<std::string>& codes) = 0;
  virtual absl::StatusOr<std::vector<Procedure>> ListProcedures(const ProcedureQuery& query) = 0;
  virtual absl::StatusOr<int64_t> CountProcedures() = 0;

  // Stored events with these ids (any dossier).
  virtual absl::StatusOr<std::vector<StoredEvent>> FindEvents(const std::vector<std::string>& event_ids) = 0;
  // Every stored event of these dossiers.
  virtual absl::StatusOr<std::vector<StoredEvent>> LoadDossierEvents(const std::vector<std::string>& dossier_codes) = 0;
  virtual absl::StatusOr<std::optional<DossierRow>> FindDossier(absl::string_view code) = 0;
  // Ordered by code.
  virtual absl::StatusOr<std::vector<DossierRow>> ListDossiers(const DossierQuery& query) = 0;
  virtual absl::StatusOr<int64_t> CountEvents() = 0;

  virtual absl::StatusOr<std::vector<AggregateRow>> SumAggregates(const AggregateQuery& query) = 0;
  // For each of `counters`, the distinct dim values (sorted) of the query's
  // nodes and range where it is positive in some row (the query's grouping
  // and `only` are ignored). Stored counts are sums of dossiers'
  // contributions and never negative, so these are exactly the values whose
  // sum is positive, found in one scan without summing (which costs several
  // times more on wide breakdowns).
  virtual absl::StatusOr<std::vector<std::vector<std::string>>> PositiveValues(
      const AggregateQuery& query, const std::vector<Counter>& counters) = 0;
  // The rows behind PositiveValues, streamed: for each row with a positive
  // counter, its node ("" unless `by_node`), dim value and one 0/1 flag per
  // counter. A value may come more than once (per flag combination, and
  // per node, day and grain when by node): callers drop the repeats. What a
  // ranking reads, every node in one statement, without building strings.
  virtual absl::Status ForEachPositiveValue(
      const AggregateQuery& query, const std::vector<Counter>& counters, bool by_node,
      absl::FunctionRef<void(const std::string& node, const std::string& value, const std::vector<int>& flags)>
          on_row) = 0;
  // Every stored aggregate row with a non-zero counter (for checks).
  virtual absl::StatusOr<std::vector<AggregateRow>> AllAggregates() = 0;
  // The stored aggregate rows of every grain (zero rows too), in the
  // store's key order: up to `limit` after `after` (none: from the first).
  // A page is one indexed range read, whatever the table's size.
  virtual StoredAggregateOrder aggregate_order() const = 0;
  virtual absl::StatusOr<std::vector<AggregateRow>> AggregatePage(const std::optional<AggregateKey>& after,
                                                                  int limit) = 0;
  virtual absl::StatusOr<OpenCounts> CountOpen(const std::vector<std::string>& agency_paths, int64_t at_us) = 0;

  virtual absl::StatusOr<std::optional<ExternalInputRow>> FindExternalInput(absl::string_view input_id) = 0;
  // Inputs of an agency (and indicator, when not empty), by start day then id.
  virtual absl::StatusOr<std::vector<ExternalInputRow>> ListExternalInputs(absl::string_view agency_code,
                                                                           absl::string_view indicator_id) = 0;
  virtual absl::StatusOr<std::optional<ApiKeyRecord>> FindApiKey(absl::string_view key_id) = 0;
  // Keys (revoked or not) whose certificate identity is `subject`.
  virtual absl::StatusOr<std::vector<ApiKeyRecord>> FindApiKeysByCertificate(absl::string_view subject) = 0;
  virtual absl::StatusOr<std::vector<ApiKeyRecord>> ListApiKeys(const ApiKeyQuery& query) = 0;
  virtual absl::StatusOr<std::vector<AuditRow>> ListAudit(const AuditQuery& query) = 0;
  // A fingerprint of the agency tree and the catalog that changes with every
  // write to them (counts, revision sums, latest update times; a procedure's
  // agency list changes with its revision): lets a
  // process keep a copy in memory and notice another replica's changes.
  virtual absl::StatusOr<std::string> ReferenceVersion() = 0;
  // Every revision of a report, newest first (empty: unknown id).
  virtual absl::StatusOr<std::vector<PeriodicReport>> FindReport(absl::string_view report_id) = 0;
  // The current report of an agency for a subject, granularity and period
  // start, if any.
  virtual absl::StatusOr<std::optional<PeriodicReport>> FindReportAt(const PeriodicReport& slot) = 0;
  virtual absl::StatusOr<std::vector<PeriodicReport>> ListReports(const ReportQuery& query) = 0;
  // Every revision of every report, by id and revision (for copies).
  virtual absl::StatusOr<std::vector<PeriodicReport>> AllReportRevisions() = 0;
  // Feed-log counters summed over the days of the query, per agency code
  // and metric.
  virtual absl::StatusOr<std::vector<FeedLogRow>> SumFeedLog(const FeedLogQuery& query) = 0;
  // Every feed-log row (for copies).
  virtual absl::StatusOr<std::vector<FeedLogRow>> AllFeedLog() = 0;
  // First and last arrivals of the agencies of these subtrees (empty = all).
  virtual absl::StatusOr<std::vector<FeedLast>> ListFeedLast(const std::vector<std::string>& paths) = 0;
  // Open dossiers of these subtrees overdue (by the rule) since at or
  // before `since_us`, per filing agency.
  virtual absl::StatusOr<std::vector<OverdueByAgency>> CountOverdueSince(const std::vector<std::string>& paths,
                                                                          int64_t since_us) = 0;
  // Work a migration left for the server (e.g. "rebuild_aggregates").
  virtual absl::StatusOr<std::vector<std::string>> PendingMaintenance() = 0;
};

class WriteTransaction : public ReadTransaction {
 public:
  // Inserts a new agency (code not yet present).
  virtual absl::Status InsertAgency(const Agency& agency) = 0;
  // Replaces the stored agency with the same code (all fields, including
  // path, depth, revision and times).
  virtual absl::Status UpdateAgency(const Agency& agency) = 0;
  // Rewrites the paths of every strict descendant of `old_path` to sit under
  // `new_path`, shifting their depth by `depth_delta`.
  virtual absl::Status MoveDescendants(absl::string_view old_path, absl::string_view new_path,
                                       int depth_delta) = 0;
  // Inserts or replaces a procedure and its agency list.
  virtual absl::Status PutProcedure(const Procedure& procedure) = 0;
  // Appends events (ids not yet stored), in multi-row statements.
  virtual absl::Status InsertEvents(const std::vector<StoredEvent>& events) = 0;
  // Inserts or replaces dossiers' index rows, in multi-row statements.
  virtual absl::Status PutDossiers(const std::vector<DossierRow>& rows) = 0;
  // Adds each row's counts to the stored bucket (creating it), in
  // multi-row statements. Negative counts retract. Counts the change counts
  // of the total rows (AggregateRow::changes).
  virtual absl::Status AddAggregates(const std::vector<AggregateRow>& deltas) = 0;
  virtual absl::Status ClearAggregates() = 0;
  virtual absl::Status PutExternalInput(const ExternalInputRow& row) = 0;
  // Inserts a new key (ALREADY_EXISTS if its id is taken).
  virtual absl::Status InsertApiKey(const ApiKeyRecord& key) = 0;
  // Marks a key revoked.
  virtual absl::Status RevokeApiKey(absl::string_view key_id, int64_t revoke_us, absl::string_view revoked_by) = 0;
  // Appends audit entries (ids assigned by the database).
  virtual absl::Status InsertAudit(const std::vector<AuditRow>& rows) = 0;
  virtual absl::Status CompleteMaintenance(absl::string_view task) = 0;
  // Stores a report revision as given; when it is current, the earlier
  // current revision of its id stops being current.
  virtual absl::Status InsertReportRevision(const PeriodicReport& report) = 0;
  // Adds counts to feed-log rows (creating them; last_us is the maximum),
  // and moves the agencies' first and last arrivals.
  virtual absl::Status AddFeedLog(const std::vector<FeedLogRow>& rows) = 0;

  // Serialises writers of the same keys (dossier codes) across server
  // processes until the transaction ends: PostgreSQL transaction-scoped
  // advisory locks, taken in a fixed order so two replicas cannot deadlock.
  // SQLite has a single writer already: a no-op there.
  virtual absl::Status LockKeys(const std::vector<std::string>& keys) = 0;

  // Runs `fn` so that if it fails, everything it wrote is undone while the
  // rest of the transaction stays (a savepoint). Lets a batch keep its good
  // items and drop its bad ones without half-written items.
  virtual absl::Status Atomically(absl::FunctionRef<absl::Status()> fn) = 0;
};

struct StoreOptions {
  // Readers that may run at once (SQLite: separate connections in WAL mode).
  int read_connections = 4;
  // SQLite page cache of the writing connection (MiB).
  int writer_cache_mib = 64;
  // SQLite page cache of each reading connection (MiB). A ranking reads
  // some 60,000 aggregate rows (15 MiB of pages); with SQLite's 2 MiB
  // default they were read again from the OS cache each time (a sixth of
  // its time in pread).
  int reader_cache_mib = 16;
  // SQLite: the commit that takes the write-ahead log past this (MiB) runs
  // a blocking checkpoint and truncates the log before it returns (writers
  // wait; a reader older than the busy timeout defers it to the next
  // commit). Passive checkpoints alone never catch up under sustained
  // writing: a 10M-dossier load grew the log to 50 GB.
  int wal_limit_mib = 256;
  // SQLite: how far the log may grow while a long snapshot lasts (MiB; 0 =
  // no limit) before its holder gives up (Store::LongSnapshotGrowth).
  int long_snapshot_wal_mib = 8192;
  // How long a connection waits for a lock before failing (SQLite busy timeout).
  int busy_timeout_ms = 5000;
  // SQLite: the size the database file may reach (MiB; 0 = as large as the
  // disk allows). A write past it is refused like one on a full disk
  // (RESOURCE_EXHAUSTED), leaving room on the volume for everything else.
  int max_database_mib = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // Runs `fn` in a read-only snapshot.
  virtual absl::Status Read(absl::FunctionRef<absl::Status(ReadTransaction&)> fn) = 0;
  // The same for a snapshot held for minutes (the aggregate check): writers
  // go on; on a SQLite file the write-ahead log is not truncated while it
  // lasts (a truncation would wait for it, and stall every commit), so the
  // log grows by what is written meanwhile and is truncated after.
  virtual absl::Status ReadLongSnapshot(absl::FunctionRef<absl::Status(ReadTransaction&)> fn) { return Read(fn); }
  // Whether a long snapshot may go on: on a SQLite file, RESOURCE_EXHAUSTED
  // once the log has grown past StoreOptions::long_snapshot_wal_mib (the
  // holder gives up, so the disk does not fill under the writers). Cheap:
  // call it every page.
  virtual absl::Status LongSnapshotGrowth() const { return absl::OkStatus(); }
  // Runs `fn` in a write transaction: committed if `fn` returns OK, rolled
  // back otherwise. Returns after the commit is durable.
  absl::Status Write(absl::FunctionRef<absl::Status(WriteTransaction&)> fn) {
    return Write(fn, [] {});
  }
  // The same, and calls `released` once the transaction has ended and the
  // write lock is free, before the wait for the commit to be durable (on a
  // SQLite file the log is flushed outside the lock). A group commit hands
  // the lock to its next group there: that group's transaction then runs
  // while this one's log is flushed, instead of after.
  virtual absl::Status Write(absl::FunctionRef<absl::Status(WriteTransaction&)> fn,
                             absl::FunctionRef<void()> released) = 0;

  // "sqlite" or "postgresql".
  virtual absl::string_view backend() const = 0;
  virtual int schema_version() const = 0;
  // Closes every connection; later calls fail with UNAVAILABLE.
  virtual void Close() = 0;
};

// Opens the database named by `url` and brings its schema up to date:
//   sqlite:///abs/path.db, sqlite:relative/path.db, a bare file path,
//   postgresql://user@host:port/dbname (also postgres://).
// A database whose schema is newer than this build is refused with
// FAILED_PRECONDITION.
absl::StatusOr<std::unique_ptr<Store>> OpenStore(absl::string_view url,
                                                 const StoreOptions& options = {});

// The newest schema version this build knows.
int LatestSchemaVersion();

}  // namespace pstrack

#endif  // PSTRACK_STORAGE_STORE_H_
