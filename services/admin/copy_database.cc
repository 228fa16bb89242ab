#include "services/admin/copy_database.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "services/agencies/agency_registry.h"
#include "services/catalog/catalog.h"
#include "services/common/status.h"
#include "services/filings/filings.h"

namespace pstrack {
namespace {

absl::Status FirstRejection(const std::vector<ItemOutcome>& outcomes, absl::string_view what) {
  for (const auto& o : outcomes) {
    if (o.outcome == WriteOutcome::kRejected) {
      return absl::Status(o.status.code(), absl::StrCat(what, " '", o.key, "' was not copied: ", o.status.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<CopyReport> CopyDatabase(Store& from, Store& to, std::shared_ptr<const WorkingCalendar> calendar,
                                        const std::function<void(int64_t)>& progress) {
  CopyReport report;
  PSTRACK_RETURN_IF_ERROR(to.Read([&](ReadTransaction& tx) -> absl::Status {
    PSTRACK_ASSIGN_OR_RETURN(int64_t agencies, tx.CountAgencies());
    PSTRACK_ASSIGN_OR_RETURN(int64_t events, tx.CountEvents());
    if (agencies > 0 || events > 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("to: the target database is not empty (", agencies, " agencies, ", events,
                       " events); copy into a new, empty database"));
    }
    return absl::OkStatus();
  }));
  // Reference data.
  std::vector<AgencyImportItem> agencies;
  std::vector<ProcedureImportItem> procedures;
  std::vector<ExternalInputRow> inputs;
  std::vector<PeriodicReport> reports;
  std::vector<FeedLogRow> feed_log;
  PSTRACK_RETURN_IF_ERROR(from.Read([&](ReadTransaction& tx) -> absl::Status {
    AgencyQuery aq;
    aq.limit = 100000000;
    PSTRACK_ASSIGN_OR_RETURN(auto all_agencies, tx.ListAgencies(aq));
    for (auto& a : all_agencies) agencies.push_back({std::move(a), 0});
    ProcedureQuery pq;
    pq.limit = 100000000;
    PSTRACK_ASSIGN_OR_RETURN(auto all_procedures, tx.ListProcedures(pq));
    for (auto& p : all_procedures) procedures.push_back({std::move(p), 0});
    PSTRACK_ASSIGN_OR_RETURN(inputs, tx.ListExternalInputs("", ""));
    PSTRACK_ASSIGN_OR_RETURN(reports, tx.AllReportRevisions());
    PSTRACK_ASSIGN_OR_RETURN(feed_log, tx.AllFeedLog());
    return absl::OkStatus();
  }));
  AgencyRegistry registry(to);
  for (size_t begin = 0; begin < agencies.size(); begin += kMaxBatchItems) {
    // Parents and successors first: the listing is in path order, and each
    // batch orders its own dependencies.
    std::vector<AgencyImportItem> batch(agencies.begin() + begin,
                                        agencies.begin() + std::min(agencies.size(), begin + kMaxBatchItems));
    PSTRACK_RETURN_IF_ERROR(FirstRejection(registry.Import(batch), "agency"));
  }
  report.agencies = static_cast<int64_t>(agencies.size());
  Catalog catalog(to);
  for (size_t begin = 0; begin < procedures.size(); begin += kMaxBatchItems) {
    std::vector<ProcedureImportItem> batch(procedures.begin() + begin,
                                           procedures.begin() + std::min(procedures.size(), begin + kMaxBatchItems));
    PSTRACK_RETURN_IF_ERROR(FirstRejection(catalog.Import(batch), "procedure"));
  }
  report.procedures = static_cast<int64_t>(procedures.size());
  PSTRACK_RETURN_IF_ERROR(to.Write([&](WriteTransaction& tx) -> absl::Status {
    for (const auto& in : inputs) PSTRACK_RETURN_IF_ERROR(tx.PutExternalInput(in));
    // Every revision, oldest first, so the current one stays current.
    for (const auto& r : reports) PSTRACK_RETURN_IF_ERROR(tx.InsertReportRevision(r));
    return tx.AddFeedLog(feed_log);
  }));
  report.external_inputs = static_cast<int64_t>(inputs.size());
  // API keys, revoked ones too (a revoked token must stay refused): their
  // salted hashes, roles, scopes and certificate subjects, so that every
  // centre's key works on the target as it did on the source.
  ApiKeyQuery kq;
  kq.include_revoked = true;
  kq.limit = 1000;
  while (true) {
    std::vector<ApiKeyRecord> keys;
    PSTRACK_RETURN_IF_ERROR(from.Read([&](ReadTransaction& tx) -> absl::Status {
      PSTRACK_ASSIGN_OR_RETURN(keys, tx.ListApiKeys(kq));
      return absl::OkStatus();
    }));
    if (keys.empty()) break;
    PSTRACK_RETURN_IF_ERROR(to.Write([&](WriteTransaction& tx) -> absl::Status {
      for (const ApiKeyRecord& k : keys) {
        PSTRACK_RETURN_IF_ERROR(tx.InsertApiKey(k));
        if (k.revoke_us) PSTRACK_RETURN_IF_ERROR(tx.RevokeApiKey(k.key_id, *k.revoke_us, k.revoked_by));
      }
      return absl::OkStatus();
    }));
    report.api_keys += static_cast<int64_t>(keys.size());
    kq.after_id = keys.back().key_id;
  }
  report.reports = static_cast<int64_t>(reports.size());
  // Dossier events, a page of dossiers at a time (all events of a dossier
  // travel together), re-ingested so the target derives its own state.
  // The events' arrivals are the source's (copied above), not this copy's.
  // Events the source acknowledged but has not projected yet are projected
  // there first, so that the pages of dossiers below hold every event.
  Filings source(from, calendar);
  for (;;) {
    PSTRACK_ASSIGN_OR_RETURN(int64_t moved, source.ProjectPending());
    if (moved == 0) break;
  }
  Filings filings(to, calendar);
  filings.set_feed_log(false);
  DossierQuery q;
  q.limit = 1000;
  while (true) {
    std::vector<FilingEvent> events;
    size_t page = 0;
    PSTRACK_RETURN_IF_ERROR(from.Read([&](ReadTransaction& tx) -> absl::Status {
      PSTRACK_ASSIGN_OR_RETURN(auto rows, tx.ListDossiers(q));
      page = rows.size();
      if (rows.empty()) return absl::OkStatus();
      std::vector<std::string> codes;
      for (const auto& r : rows) codes.push_back(r.code);
      q.after_code = rows.back().code;
      PSTRACK_ASSIGN_OR_RETURN(auto stored, tx.LoadDossierEvents(codes));
      for (const auto& s : stored) {
        PSTRACK_ASSIGN_OR_RETURN(FilingEvent e, DecodeEvent(s.content));
        events.push_back(std::move(e));
      }
      return absl::OkStatus();
    }));
    if (page == 0) break;
    for (size_t begin = 0; begin < events.size(); begin += kMaxBatchItems) {
      std::vector<FilingEvent> batch(events.begin() + begin,
                                     events.begin() + std::min(events.size(), begin + kMaxBatchItems));
      PSTRACK_RETURN_IF_ERROR(FirstRejection(filings.Record(batch).outcomes, "event"));
    }
    report.dossiers += static_cast<int64_t>(page);
    report.events += static_cast<int64_t>(events.size());
    if (progress) progress(report.events);
  }
  return report;
}

}  // namespace pstrack
