// Filings: recording dossier events and answering dossier queries over a
// Store. Ingestion validates each event (fields, agency in force on the day,
// dossier code naming the agency, procedure known, not in the future),
// dedupes by event id and appends it to the event log in one transaction:
// an event acknowledged is durable, a rejected one leaves nothing behind.
// The projection (projection.h) then replays every touched dossier from its
// full event set (Replay in lifecycle.h, which sets aside what the lifecycle
// rules break but never refuses) into its index row and the aggregates:
// in the same transaction, or behind it on the projector's thread
// (StartProjection).
// Thread-safe: the Store serialises writers; the calendar is immutable.
#ifndef PSTRACK_SERVICES_FILINGS_FILINGS_H_
#define PSTRACK_SERVICES_FILINGS_FILINGS_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/calendar/working_calendar.h"
#include "services/common/change_feed.h"
#include "services/common/group_commit.h"
#include "services/common/batch.h"
#include "services/lifecycle/event.h"
#include "services/lifecycle/lifecycle.h"
#include "services/filings/filing_store.h"

namespace pstrack {

// How far past the server's clock an event may be dated by default: clocks
// of centres' systems drift.
inline constexpr absl::Duration kDefaultClockAllowance = absl::Minutes(5);

struct RecordResult {
  std::vector<ItemOutcome> outcomes;  // one per event, in request order
  // The state of each dossier the batch touched, after the batch.
  std::map<std::string, DossierState> dossiers;
  // RecordTogether with an audit builder: whether its row was committed
  // with the events (false when the transaction failed).
  bool audited = false;
};

// Builds a call's audit row from its outcomes, inside the transaction that
// writes them, so that a unary write and its audit row share one commit.
using AuditBuilder = std::function<AuditRow(const std::vector<ItemOutcome>& outcomes)>;

struct DossierView {
  DossierState state;
  std::vector<FilingEvent> events;  // in replay order
  absl::Time as_of;
  Timeliness timeliness = Timeliness::kUnspecified;         // by the rule, at as_of
  Timeliness portal_timeliness = Timeliness::kUnspecified;  // by portal practice, at as_of
};

struct DossierListRequest {
  std::string agency_code = {};  // subtree
  std::string procedure_code = {};
  DossierStatus status = DossierStatus::kUnspecified;
  Channel channel = Channel::kUnspecified;
  OptionalDate received_from = {}, received_until = {};
  OptionalDate finished_from = {}, finished_until = {};
  bool overdue_only = false;
  // Open, not overdue at as_of, due by the end of the n-th working day
  // after as_of's day (0 = no such filter).
  int due_within_working_days = 0;
  std::optional<absl::Time> as_of = {};
  int page_size = 0;
  std::string page_token = {};
};

struct DossierPage {
  std::vector<DossierView> dossiers;
  std::string next_page_token;
};

// An event rejected before it reached Filings (it could not be read, or its
// agency lies outside the caller's scope): counted in the feed log with the
// batch it came with.
struct EarlyRejection {
  std::string agency_code;  // as sent
  absl::Status status;
};

// The feed-log reason of a rejection: the status code and the field at
// fault, item indices dropped ("INVALID_ARGUMENT event.occurred_at").
std::string RejectionReason(const absl::Status& status);

class Filings {
 public:
  Filings(FilingStore store, std::shared_ptr<const WorkingCalendar> calendar, ChangeFeed* changes = nullptr);

  // Records a batch: each event is applied (appended to the log),
  // acknowledged as a duplicate, or rejected on its own; with a projector
  // running (StartProjection) it is projected afterwards, otherwise in the
  // same transaction. `source_lines` (optional, same length) is echoed. A
  // database failure rejects the whole batch (nothing committed).
  //
  // The same transaction adds to the feed log (per agency and arrival day):
  // events accepted, accepted late (after the end of the working day after
  // the day they occurred), and rejected by reason, `early` ones included.
  RecordResult Record(const std::vector<FilingEvent>& events, const std::vector<int>& source_lines = {},
                      const std::vector<EarlyRejection>& early = {});
  // The same for small batches from many concurrent callers (unary calls):
  // batches that arrive together are recorded in one transaction, so they
  // share one commit (group commit). Each caller gets its own outcomes, and
  // returns once they are durable. A database failure rejects the group.
  // With `audit`, the caller's audit row is written in the same transaction
  // (RecordResult::audited).
  RecordResult RecordTogether(const std::vector<FilingEvent>& events, const std::vector<EarlyRejection>& early = {},
                              const AuditBuilder* audit = nullptr);

  // Without a feed log (copies of a database, which carry the source's).
  void set_feed_log(bool on) { feed_log_ = on; }

  // The projection behind the writes (the server does this): from here on
  // Record acknowledges a batch once it is in the event log, and a
  // background thread projects the log into the dossiers and aggregates.
  // Without it every write projects what it appended in its own
  // transaction. RecordTogether (unary calls) then replays its dossiers in
  // its transaction, so that its answer carries their state.
  void StartProjection();
  // Whether the projector gives way to writes (YieldToWrites): for a
  // database with one writer (SQLite), where they would wait for each
  // other. Set before StartProjection.
  void set_yield_to_writes(bool on) { yield_to_writes_ = on; }
  // Holds the projector back (it finishes its round, then waits) until
  // released: for measuring the append alone (pstrack-bench).
  void set_projection_held(bool held);
  // Stops the projector after its round in progress (the log keeps what is
  // pending for the next start). Idempotent; the destructor does it too.
  void StopProjection();
  // Events the projector moves per round (kProjectionRound); set before
  // StartProjection.
  void set_projection_round(int events) { projection_round_ = events; }
  // Projects up to `max_events` of the oldest pending events of the log
  // (every writer's, this process's or another's) in one transaction;
  // returns how many it moved. Moves nothing while another process holds
  // the projection (PostgreSQL: one projector at a time).
  absl::StatusOr<int64_t> ProjectPending(int max_events = kProjectionRound);
  // Read-your-writes: waits, until `deadline` at the latest, for the
  // projection of every event this process acknowledged before the call.
  // Returns false if the deadline came first (the read then goes on with
  // what is projected, and says how much is pending).
  bool WaitForProjection(absl::Time deadline);
  // The log as a fresh read snapshot sees it.
  absl::StatusOr<LogState> Log();
  // How far past the server's clock an event may be dated (default 5 min).
  void set_clock_allowance(absl::Duration allowance) { clock_allowance_ = allowance; }

  // A dossier with every event this server has, projected or not.
  absl::StatusOr<DossierView> Get(absl::string_view code, std::optional<absl::Time> as_of, bool with_events);
  absl::StatusOr<DossierPage> List(const DossierListRequest& request);

  const WorkingCalendar& calendar() const { return *calendar_; }

  ~Filings();

  // Unary event writes waiting for their group commit now.
  int write_queue_depth() const { return group_commit_.waiting(); }

  // Events a projection round moves at most.
  static constexpr int kProjectionRound = 20000;
  // While fewer events than this wait for the projection, it gives way to
  // writes that wait for the database's one writer (SQLite): a burst is
  // acknowledged at the speed of the log, and projected after it.
  static constexpr int64_t kProjectionBacklogToYield = 200000;

 private:
  struct Pending {
    const std::vector<FilingEvent>* events;
    const std::vector<EarlyRejection>* early;
    const AuditBuilder* audit;
    RecordResult result;
  };
  void RecordGroup(std::vector<Pending*>& group, absl::FunctionRef<void()> hand_on);
  // What a write does after its append, in its transaction: project the
  // dossiers it appended to, replay them for the caller, or nothing.
  enum class AfterAppend { kProject, kReplay, kNothing };
  // Record, and in the same transaction the audit rows `audits` makes from
  // the final outcomes (result.audited tells whether they were committed).
  // `released` runs once the write lock is free (Store::Write).
  using AuditRows = std::function<std::vector<AuditRow>(const std::vector<ItemOutcome>&)>;
  RecordResult RecordWithAudit(const std::vector<FilingEvent>& events, const std::vector<int>& source_lines,
                               const std::vector<EarlyRejection>& early, const AuditRows* audits,
                               absl::FunctionRef<void()> released, AfterAppend after);
  void ProjectorLoop();
  // Waits while writes are under way or came within the last few
  // milliseconds (a client sending batches back to back), unless a read
  // waits for the projection or the backlog is too long.
  void YieldToWrites();

  FilingStore store_;
  std::shared_ptr<const WorkingCalendar> calendar_;
  ChangeFeed* changes_;  // bumped after a commit that applied events; may be null
  GroupCommit<Pending> group_commit_;
  bool feed_log_ = true;
  absl::Duration clock_allowance_ = kDefaultClockAllowance;

  // The projection behind the writes (StartProjection).
  std::atomic<bool> background_{false};
  bool yield_to_writes_ = true;
  int projection_round_ = kProjectionRound;
  std::atomic<int64_t> acknowledged_seq_{0};  // the highest log seq this process acknowledged unprojected
  std::atomic<int> appends_in_flight_{0};     // writes between their start and their answer
  std::atomic<int64_t> last_append_us_{0};    // when the latest write ended
  std::atomic<int> readers_waiting_{0};       // reads waiting for the projection (it then yields no more)
  absl::Mutex projection_mu_;
  absl::CondVar projection_cv_;  // work for the projector, or a round done
  int64_t projected_through_ ABSL_GUARDED_BY(projection_mu_) = 0;  // nothing pending at or below
  // The highest acknowledged sequence number WaitForProjection saw
  // projected in the database (projected_through_ is a log position: on
  // PostgreSQL it can pass events not yet committed).
  int64_t verified_through_ ABSL_GUARDED_BY(projection_mu_) = 0;
  // The log position the change feed was last bumped for (ProjectPending):
  // a watch on this process learns of what any process projected.
  int64_t announced_position_ ABSL_GUARDED_BY(projection_mu_) = 0;
  bool projection_work_ ABSL_GUARDED_BY(projection_mu_) = false;
  bool projector_stop_ ABSL_GUARDED_BY(projection_mu_) = false;
  bool projection_held_ ABSL_GUARDED_BY(projection_mu_) = false;
  std::thread projector_;
};

// The dossier's index row, from its replayed state.
DossierRow ToDossierRow(const DossierState& state, const std::string& agency_path, absl::Time now);
// The stored form of an event recorded at `now`.
StoredEvent ToStored(const FilingEvent& event, absl::Time now);

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_FILINGS_FILINGS_H_
