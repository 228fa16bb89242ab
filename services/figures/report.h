// A centre's periodic report (pstrack.v1.PeriodicReport): the figures of an
// agency, or of one of its procedures or procedure fields, for a calendar
// month, quarter or year, the way the government reporting system collects
// them from centres that cannot send dossier events. Validation, the
// canonical encoding of its figures, and what a report contributes to each
// built-in indicator. Pure; thread-safe.
#ifndef PSTRACK_SERVICES_FIGURES_REPORT_H_
#define PSTRACK_SERVICES_FIGURES_REPORT_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/common/dates.h"

namespace pstrack {

// The figures a report may carry. Received and finished are always present;
// the others are optional (a report that leaves one out says nothing about
// it, which is not the same as 0). Order is the order of the encoding.
enum class Figure {
  kReceived = 0,
  kReceivedOnline,
  kReceivedInPerson,
  kReceivedPostal,
  kReceivedEligibleFullOnline,
  kReceivedFullOnline,
  kFinished,
  kFinishedEarly,
  kFinishedOnTime,
  kFinishedLate,
  kOpenAtEnd,
  kOpenOverdueAtEnd,
  kFeeDossiers,
  kPaidOnline,
  kDigitised,
  kCount,
};
inline constexpr int kFigureCount = static_cast<int>(Figure::kCount);
// "received", "received_online", ... (the proto field names).
const std::array<const char*, kFigureCount>& FigureNames();

// The largest figure a report may give: a billion dossiers of one agency in
// one period (Việt Nam's whole national public-service portal handles a few
// hundred million a year). Sums of up to nine billion reports at the bound
// still fit in int64_t.
inline constexpr int64_t kMaxReportedCount = 1'000'000'000;

enum class ReportSubject { kAgency = 0, kField = 1, kProcedure = 2 };
enum class ReportGranularity { kMonth = 2, kQuarter = 3, kYear = 4 };

struct PeriodicReport {
  std::string report_id;
  std::string agency_code;
  std::string procedure_code;  // at most one of procedure_code and field
  std::string field;
  std::string period_label;    // "2025-07", "2025-Q3", "2025"
  std::array<std::optional<int64_t>, kFigureCount> figures{};
  std::string source;

  // Set by ValidateReport from the label.
  Date start, end;  // [start, end)
  ReportGranularity granularity = ReportGranularity::kMonth;

  // Set by the service and the store.
  int revision = 0;
  bool current = true;
  int64_t recorded_us = 0;
  std::string recorded_by;

  std::optional<int64_t> get(Figure f) const { return figures[static_cast<int>(f)]; }
  int64_t value(Figure f) const { return figures[static_cast<int>(f)].value_or(0); }
  bool has(Figure f) const { return figures[static_cast<int>(f)].has_value(); }
  ReportSubject subject_kind() const;
  // "" (the whole agency), "field:<name>" or "procedure:<code>".
  std::string subject() const;
};

// Checks identity fields, the period label (filling start, end and
// granularity) and the figures: none negative, parts never above their
// total, the three channels adding up to `received` when all are given, the
// three outcomes adding up to `finished` when all are given. Errors name
// the field under `prefix` (e.g. "reports[3].finished_late").
absl::Status ValidateReport(PeriodicReport& report, absl::string_view prefix);

// The figures as "received=10;received_online=4;..." (present ones only,
// in Figure order), and back.
std::string EncodeFigures(const PeriodicReport& report);
absl::Status DecodeFigures(absl::string_view text, PeriodicReport* report);

// Same identity, period, figures and source (revision and times aside).
bool SameContent(const PeriodicReport& a, const PeriodicReport& b);

// What a report gives one built-in indicator: nothing ever (the indicator
// needs what reports do not carry), nothing because this report leaves out
// a figure it needs, or a numerator and denominator to add to the events'.
// `at_end`: the instant of the indicator is this report's period end (open
// dossiers at the end are then usable).
struct ReportShare {
  enum Kind { kNotDerivable, kLacking, kValue } kind = kNotDerivable;
  double numerator = 0, denominator = 0;
};
ReportShare ShareOf(absl::string_view indicator_id, const PeriodicReport& report, bool at_end);

// Parses "2025-07", "2025-Q3" or "2025".
absl::Status ParseReportPeriod(absl::string_view label, absl::string_view field, Date* start, Date* end,
                               ReportGranularity* granularity);

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_FIGURES_REPORT_H_
