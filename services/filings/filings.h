// Filings: recording dossier events and answering dossier queries over a
// Store. Ingestion validates each event (fields, agency in force on the day,
// dossier code naming the agency, procedure known, not in the future),
// dedupes by event id, replays every touched dossier from its full event set
// (Replay in lifecycle.h, which sets aside what the lifecycle rules break but
// never refuses), and writes the new events and the dossier's index row in
// one transaction: an event acknowledged is committed, and a rejected one
// leaves nothing behind.
// Thread-safe: the Store serialises writers; the calendar is immutable.
#ifndef PSTRACK_SERVICES_FILINGS_FILINGS_H_
#define PSTRACK_SERVICES_FILINGS_FILINGS_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

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

  // Records a batch: each event is applied, acknowledged as a duplicate, or
  // rejected on its own. `source_lines` (optional, same length) is echoed.
  // A database failure rejects the whole batch (nothing committed).
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
  // How far past the server's clock an event may be dated (default 5 min).
  void set_clock_allowance(absl::Duration allowance) { clock_allowance_ = allowance; }

  absl::StatusOr<DossierView> Get(absl::string_view code, std::optional<absl::Time> as_of, bool with_events);
  absl::StatusOr<DossierPage> List(const DossierListRequest& request);

  const WorkingCalendar& calendar() const { return *calendar_; }

 private:
  struct Pending {
    const std::vector<FilingEvent>* events;
    const std::vector<EarlyRejection>* early;
    const AuditBuilder* audit;
    RecordResult result;
  };
  void RecordGroup(std::vector<Pending*>& group, absl::FunctionRef<void()> hand_on);
  // Record, and in the same transaction the audit rows `audits` makes from
  // the final outcomes (result.audited tells whether they were committed).
  // `released` runs once the write lock is free (Store::Write).
  using AuditRows = std::function<std::vector<AuditRow>(const std::vector<ItemOutcome>&)>;
  RecordResult RecordWithAudit(const std::vector<FilingEvent>& events, const std::vector<int>& source_lines,
                               const std::vector<EarlyRejection>& early, const AuditRows* audits,
                               absl::FunctionRef<void()> released);

  FilingStore store_;
  std::shared_ptr<const WorkingCalendar> calendar_;
  ChangeFeed* changes_;  // bumped after a commit that applied events; may be null
  GroupCommit<Pending> group_commit_;
  bool feed_log_ = true;
  absl::Duration clock_allowance_ = kDefaultClockAllowance;
};

// The dossier's index row, from its replayed state.
DossierRow ToDossierRow(const DossierState& state, const std::string& agency_path, absl::Time now);
// The stored form of an event recorded at `now`.
StoredEvent ToStored(const FilingEvent& event, absl::Time now);

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_FILINGS_FILINGS_H_
