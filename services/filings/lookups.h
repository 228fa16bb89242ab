// What ingestion, the projection and dossier queries look up while they
// work on a batch or a page: agencies and procedures by code (each asked of
// the database once), a dossier's procedure, stored events decoded by
// dossier. Thread-compatible: one per transaction.
#ifndef PSTRACK_SERVICES_FILINGS_LOOKUPS_H_
#define PSTRACK_SERVICES_FILINGS_LOOKUPS_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "services/common/status.h"
#include "services/filings/filing_store.h"
#include "services/lifecycle/lifecycle.h"

namespace pstrack {

// Lookups shared by the events of one batch or one page.
class Lookups {
 public:
  explicit Lookups(FilingReader& tx) : tx_(tx) {}

  // Reads the agencies and procedures these events name in a few
  // statements; later Find* calls for them (found or not) ask the database
  // nothing.
  absl::Status Prefetch(const std::vector<const FilingEvent*>& events) {
    absl::flat_hash_set<std::string> agency_codes, procedure_codes;
    for (const FilingEvent* e : events) {
      if (!agencies_.contains(e->agency_code)) agency_codes.insert(e->agency_code);
      if (!e->procedure_code.empty() && !procedures_.contains(e->procedure_code)) {
        procedure_codes.insert(e->procedure_code);
      }
    }
    const std::vector<std::string> agencies_asked(agency_codes.begin(), agency_codes.end());
    PSTRACK_ASSIGN_OR_RETURN(std::vector<Agency> agencies, tx_.FindAgencies(agencies_asked));
    for (const std::string& c : agencies_asked) agencies_.emplace(c, std::nullopt);
    for (Agency& a : agencies) agencies_[a.code] = std::move(a);
    const std::vector<std::string> procedures_asked(procedure_codes.begin(), procedure_codes.end());
    PSTRACK_ASSIGN_OR_RETURN(std::vector<Procedure> procedures, tx_.FindProcedures(procedures_asked));
    for (const std::string& c : procedures_asked) procedures_.emplace(c, std::nullopt);
    for (Procedure& p : procedures) procedures_[p.code] = std::move(p);
    return absl::OkStatus();
  }

  absl::StatusOr<const Agency*> FindAgency(const std::string& code) {
    auto it = agencies_.find(code);
    if (it == agencies_.end()) {
      PSTRACK_ASSIGN_OR_RETURN(auto found, tx_.FindAgency(code));
      it = agencies_.emplace(code, std::move(found)).first;
    }
    return it->second ? &*it->second : nullptr;
  }
  absl::StatusOr<const Procedure*> FindProcedure(const std::string& code) {
    auto it = procedures_.find(code);
    if (it == procedures_.end()) {
      PSTRACK_ASSIGN_OR_RETURN(auto found, tx_.FindProcedure(code));
      it = procedures_.emplace(code, std::move(found)).first;
    }
    return it->second ? &*it->second : nullptr;
  }

 private:
  FilingReader& tx_;
  absl::flat_hash_map<std::string, std::optional<Agency>> agencies_;
  absl::flat_hash_map<std::string, std::optional<Procedure>> procedures_;
};

// The dossier's procedure (ProcedureCodeOf: the first named in replay
// order, whatever order the events are in), if known.
inline absl::StatusOr<const Procedure*> ProcedureOf(const std::vector<FilingEvent>& events, Lookups& lookups) {
  const std::string code = ProcedureCodeOf(events);
  if (code.empty()) return nullptr;
  return lookups.FindProcedure(code);
}

inline absl::StatusOr<std::map<std::string, std::vector<FilingEvent>>> DecodeByDossier(
    const std::vector<StoredEvent>& stored) {
  std::map<std::string, std::vector<FilingEvent>> out;
  for (const StoredEvent& s : stored) {
    PSTRACK_ASSIGN_OR_RETURN(FilingEvent e, DecodeEvent(s.content));
    out[s.dossier_code].push_back(std::move(e));
  }
  return out;
}

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_FILINGS_LOOKUPS_H_
