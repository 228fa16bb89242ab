// A FilingWriter that forwards every call to another one: a fault test
// derives from it and overrides the one method it breaks (as leveldb's
// EnvWrapper does for Env). Thread-compatible, like the transaction it wraps.
#ifndef PSTRACK_TESTS_STORE_FILING_WRITER_WRAPPER_H_
#define PSTRACK_TESTS_STORE_FILING_WRITER_WRAPPER_H_

#include <optional>
#include <string>
#include <vector>

#include "services/filings/filing_store.h"

namespace pstrack {

class FilingWriterWrapper : public FilingWriter {
 public:
  explicit FilingWriterWrapper(FilingWriter& target) : t_(target) {}

  absl::StatusOr<std::optional<Agency>> FindAgency(absl::string_view c) override { return t_.FindAgency(c); }
  absl::StatusOr<std::vector<Agency>> FindAgencies(const std::vector<std::string>& c) override {
    return t_.FindAgencies(c);
  }
  absl::StatusOr<std::vector<Agency>> ListAgencies(const AgencyQuery& q) override { return t_.ListAgencies(q); }
  absl::StatusOr<int64_t> CountAgencies() override { return t_.CountAgencies(); }
  absl::StatusOr<std::optional<Procedure>> FindProcedure(absl::string_view c) override {
    return t_.FindProcedure(c);
  }
  absl::StatusOr<std::vector<Procedure>> FindProcedures(const std::vector<std::string>& c) override {
    return t_.FindProcedures(c);
  }
  absl::StatusOr<std::vector<Procedure>> ListProcedures(const ProcedureQuery& q) override {
    return t_.ListProcedures(q);
  }
  absl::StatusOr<int64_t> CountProcedures() override { return t_.CountProcedures(); }
  absl::StatusOr<std::string> ReferenceVersion() override { return t_.ReferenceVersion(); }

  absl::StatusOr<std::vector<StoredEvent>> FindEvents(const std::vector<std::string>& ids) override {
    return t_.FindEvents(ids);
  }
  absl::StatusOr<std::vector<StoredEvent>> LoadDossierEvents(const std::vector<std::string>& c) override {
    return t_.LoadDossierEvents(c);
  }
  absl::StatusOr<std::optional<DossierRow>> FindDossier(absl::string_view c) override { return t_.FindDossier(c); }
  absl::StatusOr<std::vector<DossierRow>> ListDossiers(const DossierQuery& q) override { return t_.ListDossiers(q); }
  absl::StatusOr<int64_t> CountEvents() override { return t_.CountEvents(); }
  absl::StatusOr<OpenCounts> CountOpen(const std::vector<std::string>& p, int64_t at_us) override {
    return t_.CountOpen(p, at_us);
  }
  absl::StatusOr<std::vector<OverdueByAgency>> CountOverdueSince(const std::vector<std::string>& p,
                                                                 int64_t since_us) override {
    return t_.CountOverdueSince(p, since_us);
  }
  absl::Status InsertEvents(const std::vector<StoredEvent>& e) override { return t_.InsertEvents(e); }

  absl::StatusOr<std::vector<StoredEvent>> FindLoggedEvents(const std::vector<std::string>& ids) override {
    return t_.FindLoggedEvents(ids);
  }
  absl::StatusOr<std::vector<LoggedEvent>> PendingEvents(int limit) override { return t_.PendingEvents(limit); }
  absl::StatusOr<std::vector<LoggedEvent>> PendingEventsOf(const std::vector<std::string>& c) override {
    return t_.PendingEventsOf(c);
  }
  absl::StatusOr<LogState> GetLogState() override { return t_.GetLogState(); }
  absl::StatusOr<bool> PendingThrough(int64_t seq) override { return t_.PendingThrough(seq); }
  absl::StatusOr<int64_t> AppendToLog(const std::vector<StoredEvent>& e) override { return t_.AppendToLog(e); }
  absl::StatusOr<int64_t> RemoveFromLog(const std::vector<int64_t>& seqs) override { return t_.RemoveFromLog(seqs); }
  absl::StatusOr<bool> LeadProjection(bool wait) override { return t_.LeadProjection(wait); }
  absl::Status PutDossiers(const std::vector<DossierRow>& rows) override { return t_.PutDossiers(rows); }

  absl::StatusOr<std::vector<FeedLogRow>> SumFeedLog(const FeedLogQuery& q) override { return t_.SumFeedLog(q); }
  absl::StatusOr<std::vector<FeedLogRow>> AllFeedLog() override { return t_.AllFeedLog(); }
  absl::StatusOr<std::vector<FeedLast>> ListFeedLast(const std::vector<std::string>& p) override {
    return t_.ListFeedLast(p);
  }
  absl::Status AddFeedLog(const std::vector<FeedLogRow>& rows) override { return t_.AddFeedLog(rows); }

  absl::StatusOr<std::vector<AggregateRow>> SumAggregates(const AggregateQuery& q) override {
    return t_.SumAggregates(q);
  }
  absl::StatusOr<std::vector<std::vector<std::string>>> PositiveValues(const AggregateQuery& q,
                                                                       const std::vector<Counter>& c) override {
    return t_.PositiveValues(q, c);
  }
  absl::Status ForEachPositiveValue(
      const AggregateQuery& q, const std::vector<Counter>& c, bool by_node,
      absl::FunctionRef<void(const std::string&, const std::string&, const std::vector<int>&)> on_row) override {
    return t_.ForEachPositiveValue(q, c, by_node, on_row);
  }
  absl::StatusOr<std::vector<AggregateRow>> AllAggregates() override { return t_.AllAggregates(); }
  StoredAggregateOrder aggregate_order() const override { return t_.aggregate_order(); }
  absl::StatusOr<std::vector<AggregateRow>> AggregatePage(const std::optional<AggregateKey>& after,
                                                          int limit) override {
    return t_.AggregatePage(after, limit);
  }
  absl::Status AddAggregates(const std::vector<AggregateRow>& rows) override { return t_.AddAggregates(rows); }
  absl::Status ClearAggregates() override { return t_.ClearAggregates(); }

  absl::Status InsertAudit(const std::vector<AuditRow>& rows) override { return t_.InsertAudit(rows); }
  absl::Status Atomically(absl::FunctionRef<absl::Status()> fn) override { return t_.Atomically(fn); }
  absl::Status LockKeys(const std::vector<std::string>& keys) override { return t_.LockKeys(keys); }

 private:
  FilingWriter& t_;
};

}  // namespace pstrack

#endif  // PSTRACK_TESTS_STORE_FILING_WRITER_WRAPPER_H_
