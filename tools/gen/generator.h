// A deterministic, realistic national data set for benchmarks: the agency
// tree (the 34 provinces in force since 2025-07-01, their departments and
// about 3,300 communes), a catalog of about 2,000 procedures, and dossiers
// whose events follow the lifecycle rules (docs/lifecycle.md) with a
// realistic mix of channels, outcomes, supplements, re-appointments,
// withdrawals, payments, digitisation and feedback.
//
// Everything depends only on the options: the world on them, each dossier on
// them and its index, so dossiers can be made in any order, any subset, in
// parallel. Sizes, names and shares are plausible, not official figures. The
// generated tree stands for the whole year: the agencies below a province
// carry no validity dates.
#ifndef PSTRACK_TOOLS_GEN_GENERATOR_H_
#define PSTRACK_TOOLS_GEN_GENERATOR_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "services/agencies/agency.h"
#include "services/calendar/working_calendar.h"
#include "services/catalog/procedure.h"
#include "services/lifecycle/event.h"

namespace pstrack::gen {

struct GenOptions {
  uint64_t seed = 20251126;
  int64_t dossiers = 100000;  // total dossiers, at most kMaxDossiers
  int year = 2025;            // dossiers are received on the working days of this year
  int procedures = 2000;      // kMinProcedures..kMaxProcedures
  // The working days the server will use (appointment dates and outcomes are
  // planned with it); null: the rule-based calendar.
  std::shared_ptr<const WorkingCalendar> calendar = nullptr;
};

inline constexpr int64_t kMaxDossiers = 10'000'000'000;
inline constexpr int kMinProcedures = 100;
inline constexpr int kMaxProcedures = 10000;

namespace internal {
struct Index;  // what DossierEvents samples from; built by MakeWorld
}

struct World {
  std::vector<Agency> agencies;       // parents before children, VN first
  std::vector<Procedure> procedures;  // normalized
  std::shared_ptr<const internal::Index> index;
};

// What the generator intended, summed over the dossiers it made. Every
// dossier is either not accepted or received; a received one ends resolved
// (early, on time or late by Circular 01/2018), withdrawn, stopped, or stays
// open.
struct GenTotals {
  int64_t dossiers = 0, events = 0;
  int64_t received = 0;
  int64_t in_person = 0, online = 0, postal = 0;  // received dossiers by channel
  int64_t not_accepted = 0, withdrawn = 0, stopped = 0, open = 0;
  int64_t resolved = 0, early = 0, on_time = 0, late = 0;
  int64_t returned = 0;
  int64_t supplemented = 0;                     // received a supplement request (all were then completed)
  int64_t two_supplements = 0;                  // of which two requests (late by portal practice)
  int64_t reappointed = 0;                      // apology letter with a new date
  int64_t declared = 0, declared_mismatch = 0;  // receipts with a declared appointment date; differing from pstrack's
  int64_t fee_bearing = 0;                      // received dossiers of fee-bearing procedures
  int64_t paid = 0, paid_online = 0;            // dossiers that paid (land: only once resolved), online
  int64_t digitised = 0;
  int64_t feedback = 0, satisfied = 0, complaints = 0;  // satisfied: very satisfied or satisfied

  void Add(const GenTotals& other);
};

// INVALID_ARGUMENT naming the option that is out of range.
absl::Status ValidateOptions(const GenOptions& options);

// Requires ValidateOptions(options).ok().
World MakeWorld(const GenOptions& options);

// Appends the events of dossier `index` (0 <= index < options.dossiers), in
// replay order, and adds what they intend to `totals` when given. `world`
// must come from MakeWorld(options). Event ids are "<dossier code>/<n>".
void DossierEvents(const GenOptions& options, const World& world, int64_t index, std::vector<FilingEvent>* out,
                   GenTotals* totals = nullptr);

// CSV files in the formats the importers read (docs/api.md; ParseAgencyCsv,
// ParseProcedureCsv, ParseEventCsv), header line included for the first two.
std::string AgencyCsv(const std::vector<Agency>& agencies);
std::string ProcedureCsv(const std::vector<Procedure>& procedures);
extern const char kEventCsvHeader[];  // with its newline
void AppendEventCsv(const FilingEvent& event, std::string* out);

}  // namespace pstrack::gen

#endif  // PSTRACK_TOOLS_GEN_GENERATOR_H_
