#include "services/figures/report.h"

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/common/status.h"

namespace pstrack {

const std::array<const char*, kFigureCount>& FigureNames() {
  static const std::array<const char*, kFigureCount> kNames = {
      "received",         "received_online",  "received_in_person", "received_postal",
      "received_eligible_full_online",        "received_full_online",
      "finished",         "finished_early",   "finished_on_time",   "finished_late",
      "open_at_end",      "open_overdue_at_end",
      "fee_dossiers",     "paid_online",      "digitised"};
  return kNames;
}

ReportSubject PeriodicReport::subject_kind() const {
  if (!procedure_code.empty()) return ReportSubject::kProcedure;
  if (!field.empty()) return ReportSubject::kField;
  return ReportSubject::kAgency;
}

std::string PeriodicReport::subject() const {
  if (!procedure_code.empty()) return absl::StrCat("procedure:", procedure_code);
  if (!field.empty()) return absl::StrCat("field:", field);
  return "";
}

absl::Status ParseReportPeriod(absl::string_view label, absl::string_view field, Date* start, Date* end,
                               ReportGranularity* granularity) {
  auto bad = [&] {
    return InvalidField(field, absl::StrCat("'", label,
                                            "' is not a report period: use a month (2025-07), a quarter (2025-Q3) "
                                            "or a year (2025)"));
  };
  int year = 0;
  if (label.size() < 4 || !absl::SimpleAtoi(label.substr(0, 4), &year)) return bad();
  if (year < 2000 || year > 2099) return InvalidField(field, absl::StrCat("year ", year, " is outside 2000..2099"));
  if (label.size() == 4) {
    *start = Date(year, 1, 1);
    *end = Date(year + 1, 1, 1);
    *granularity = ReportGranularity::kYear;
    return absl::OkStatus();
  }
  if (label.size() == 7 && label[4] == '-' && label[5] == 'Q') {
    const int q = label[6] - '0';
    if (q < 1 || q > 4) return bad();
    *start = Date(year, 3 * (q - 1) + 1, 1);
    *end = Date(absl::CivilMonth(*start) + 3);
    *granularity = ReportGranularity::kQuarter;
    return absl::OkStatus();
  }
  if (label.size() == 7 && label[4] == '-') {
    int month = 0;
    if (!absl::SimpleAtoi(label.substr(5, 2), &month) || month < 1 || month > 12) return bad();
    *start = Date(year, month, 1);
    *end = Date(absl::CivilMonth(*start) + 1);
    *granularity = ReportGranularity::kMonth;
    return absl::OkStatus();
  }
  return bad();
}

absl::Status ValidateReport(PeriodicReport& r, absl::string_view prefix) {
  auto f = [&](absl::string_view name) { return absl::StrCat(prefix, prefix.empty() ? "" : ".", name); };
  if (r.report_id.empty()) return MissingField(f("report_id"));
  if (r.report_id.size() > 128) return InvalidField(f("report_id"), "is longer than 128 characters");
  if (r.agency_code.empty()) return MissingField(f("agency_code"));
  if (!r.procedure_code.empty() && !r.field.empty()) {
    return InvalidField(f("field"), "set at most one of procedure_code and field");
  }
  if (r.period_label.empty()) return MissingField(f("period"));
  PSTRACK_RETURN_IF_ERROR(ParseReportPeriod(r.period_label, f("period"), &r.start, &r.end, &r.granularity));
  if (!r.has(Figure::kReceived)) return MissingField(f("received"));
  if (!r.has(Figure::kFinished)) return MissingField(f("finished"));
  const auto& names = FigureNames();
  for (int i = 0; i < kFigureCount; ++i) {
    if (r.figures[i] && *r.figures[i] < 0) {
      return InvalidField(f(names[i]), absl::StrCat("is ", *r.figures[i], "; counts cannot be negative"));
    }
    if (r.figures[i] && *r.figures[i] > kMaxReportedCount) {
      return InvalidField(f(names[i]), absl::StrCat("is ", *r.figures[i], "; a report counts at most ",
                                                     kMaxReportedCount, " dossiers"));
    }
  }
  // A part above its whole names the part.
  auto at_most = [&](Figure part, Figure whole) -> absl::Status {
    if (r.has(part) && r.has(whole) && r.value(part) > r.value(whole)) {
      return InvalidField(f(names[static_cast<int>(part)]),
                          absl::StrCat("is ", r.value(part), ", more than ", names[static_cast<int>(whole)], " (",
                                       r.value(whole), ")"));
    }
    return absl::OkStatus();
  };
  // Parts that together must not exceed their whole (and equal it when all
  // are given: a dossier has exactly one channel and, once finished,
  // exactly one outcome).
  auto split = [&](std::initializer_list<Figure> parts, Figure whole) -> absl::Status {
    int64_t sum = 0;
    bool all = true;
    std::string listed;
    for (Figure p : parts) {
      PSTRACK_RETURN_IF_ERROR(at_most(p, whole));
      all &= r.has(p);
      sum += r.value(p);
      absl::StrAppend(&listed, listed.empty() ? "" : " + ", names[static_cast<int>(p)]);
    }
    const int64_t total = r.value(whole);
    if (sum > total || (all && sum != total)) {
      return InvalidField(f(names[static_cast<int>(whole)]),
                          absl::StrCat("is ", total, " but ", listed, " = ", sum,
                                       all ? "; the parts must add up to it" : "; the parts exceed it"));
    }
    return absl::OkStatus();
  };
  PSTRACK_RETURN_IF_ERROR(
      split({Figure::kReceivedOnline, Figure::kReceivedInPerson, Figure::kReceivedPostal}, Figure::kReceived));
  PSTRACK_RETURN_IF_ERROR(
      split({Figure::kFinishedEarly, Figure::kFinishedOnTime, Figure::kFinishedLate}, Figure::kFinished));
  PSTRACK_RETURN_IF_ERROR(at_most(Figure::kReceivedEligibleFullOnline, Figure::kReceived));
  PSTRACK_RETURN_IF_ERROR(at_most(Figure::kReceivedFullOnline, Figure::kReceivedEligibleFullOnline));
  PSTRACK_RETURN_IF_ERROR(at_most(Figure::kReceivedFullOnline, Figure::kReceivedOnline));
  if (r.has(Figure::kReceivedFullOnline) && !r.has(Figure::kReceivedEligibleFullOnline)) {
    return InvalidField(f("received_eligible_full_online"), "is required with received_full_online");
  }
  PSTRACK_RETURN_IF_ERROR(at_most(Figure::kOpenOverdueAtEnd, Figure::kOpenAtEnd));
  if (r.has(Figure::kOpenOverdueAtEnd) && !r.has(Figure::kOpenAtEnd)) {
    return InvalidField(f("open_at_end"), "is required with open_overdue_at_end");
  }
  PSTRACK_RETURN_IF_ERROR(at_most(Figure::kFeeDossiers, Figure::kReceived));
  PSTRACK_RETURN_IF_ERROR(at_most(Figure::kPaidOnline, Figure::kFeeDossiers));
  if (r.has(Figure::kPaidOnline) && !r.has(Figure::kFeeDossiers)) {
    return InvalidField(f("fee_dossiers"), "is required with paid_online");
  }
  PSTRACK_RETURN_IF_ERROR(at_most(Figure::kDigitised, Figure::kReceived));
  if (r.source.size() > 500) return InvalidField(f("source"), "is longer than 500 characters");
  return absl::OkStatus();
}

std::string EncodeFigures(const PeriodicReport& r) {
  std::string out;
  for (int i = 0; i < kFigureCount; ++i) {
    if (r.figures[i]) absl::StrAppend(&out, out.empty() ? "" : ";", FigureNames()[i], "=", *r.figures[i]);
  }
  return out;
}

absl::Status DecodeFigures(absl::string_view text, PeriodicReport* r) {
  r->figures = {};
  if (text.empty()) return absl::OkStatus();
  for (absl::string_view item : absl::StrSplit(text, ';')) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(item, absl::MaxSplits('=', 1));
    int64_t v = 0;
    bool known = false;
    for (int i = 0; i < kFigureCount; ++i) {
      if (kv.first == FigureNames()[i] && absl::SimpleAtoi(kv.second, &v)) {
        r->figures[i] = v;
        known = true;
      }
    }
    if (!known) return absl::DataLossError(absl::StrCat("report figures: cannot read '", item, "'"));
  }
  return absl::OkStatus();
}

ReportShare ShareOf(absl::string_view id, const PeriodicReport& r, bool at_end) {
  using F = Figure;
  ReportShare s;
  auto value = [&](double n, double d) {
    s.kind = ReportShare::kValue;
    s.numerator = n;
    s.denominator = d;
    return s;
  };
  auto lacking = [&] {
    s.kind = ReportShare::kLacking;
    return s;
  };
  auto ratio = [&](F part, F whole) {
    if (!r.has(part) || !r.has(whole)) return lacking();
    return value(static_cast<double>(r.value(part)), static_cast<double>(r.value(whole)));
  };
  const double finished = static_cast<double>(r.value(F::kFinished));
  if (id == "received") return value(static_cast<double>(r.value(F::kReceived)), 0);
  if (id == "finished") return value(finished, 0);
  if (id == "online_submission_rate") return ratio(F::kReceivedOnline, F::kReceived);
  if (id == "digitisation_rate") return ratio(F::kDigitised, F::kReceived);
  if (id == "online_payment_rate") return ratio(F::kPaidOnline, F::kFeeDossiers);
  if (id == "full_online_dossier_rate") return ratio(F::kReceivedFullOnline, F::kReceivedEligibleFullOnline);
  if (id == "early_rate") return ratio(F::kFinishedEarly, F::kFinished);
  // Early + on time + late = finished, so either side gives the other.
  const bool has_late = r.has(F::kFinishedLate);
  const bool has_in_time = r.has(F::kFinishedEarly) && r.has(F::kFinishedOnTime);
  const double late = has_late ? static_cast<double>(r.value(F::kFinishedLate))
                               : finished - static_cast<double>(r.value(F::kFinishedEarly) + r.value(F::kFinishedOnTime));
  if (id == "on_time_rate") return has_late || has_in_time ? value(finished - late, finished) : lacking();
  if (id == "late_rate") return has_late || has_in_time ? value(late, finished) : lacking();
  if (id == "overdue_open") {
    if (!at_end || !r.has(F::kOpenOverdueAtEnd)) return lacking();
    return value(static_cast<double>(r.value(F::kOpenOverdueAtEnd)), static_cast<double>(r.value(F::kOpenAtEnd)));
  }
  return s;
}

bool SameContent(const PeriodicReport& a, const PeriodicReport& b) {
  return a.report_id == b.report_id && a.agency_code == b.agency_code && a.procedure_code == b.procedure_code &&
         a.field == b.field && a.start == b.start && a.end == b.end && a.figures == b.figures && a.source == b.source;
}

}  // namespace pstrack
