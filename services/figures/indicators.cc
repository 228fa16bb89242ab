#include "services/figures/indicators.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace pstrack {
namespace {

constexpr char kDecree61[] = "Decree 61/2018/NĐ-CP and Circular 01/2018/TT-VPCP Art. 13";
constexpr char kPortal[] = "National public service portal practice (Decision 766/QĐ-TTg)";
constexpr char kDecree42[] = "Decree 42/2022/NĐ-CP";

}  // namespace

const std::vector<IndicatorDefinition>& BuiltinIndicators() {
  static const std::vector<IndicatorDefinition> kDefinitions = {
      {"online_service_coverage", "Online-service coverage", "procedures offered online (partial or full)",
       "procedures carried out in the scope", kDecree42, "ratio", "catalog"},
      {"full_online_share_eligible", "Full-online share (of eligible)", "procedures offered full-process online",
       "procedures eligible for full-process online service", kPortal, "ratio", "catalog"},
      {"full_online_share_online", "Full-online share (of online)", "procedures offered full-process online",
       "procedures offered online (press usage)", "Press reports", "ratio", "catalog"},
      {"online_submission_rate", "Online submission rate (digital take-up)", "dossiers received online (channel 2)",
       "dossiers received", kPortal, "ratio", "receipt"},
      {"on_time_rate", "On-time rate", "dossiers finished early or on time", "dossiers finished (resolved, returned, stopped)",
       kDecree61, "ratio", "finish"},
      {"on_time_rate_portal", "On-time rate (portal)",
       "dossiers finished early or on time by portal practice + dossiers open within time at the period's end",
       "dossiers finished in the period (withdrawals included) + dossiers open at its end", kPortal, "ratio",
       "finish+instant"},
      {"early_rate", "Early rate", "dossiers finished before the appointment date", "dossiers finished", kDecree61,
       "ratio", "finish"},
      {"late_rate", "Late rate", "dossiers finished after the appointment date", "dossiers finished", kDecree61,
       "ratio", "finish", true},
      {"overdue_open", "Overdue open dossiers", "open dossiers past their due time at the instant", "", kDecree61,
       "count", "instant", true},
      {"apology_rate", "Apology rate", "finished dossiers re-appointed with an apology letter", "dossiers finished",
       "Decree 61/2018/NĐ-CP Art. 19 (as amended by 107/2021)", "ratio", "finish", true},
      {"online_payment_rate", "Online payment rate", "dossiers paid online",
       "dossiers of fee-bearing procedures with a non-zero amount paid", kPortal, "ratio", "receipt"},
      {"electronic_result_rate", "Electronic result rate", "resolved dossiers with an electronic result",
       "dossiers resolved", kPortal, "ratio", "finish"},
      {"digitisation_rate", "Digitisation rate", "dossiers whose documents and result were digitised",
       "dossiers received", kPortal, "ratio", "receipt"},
      {"digitised_components_rate", "Dossiers with digitised components", "dossiers whose components were digitised at receipt",
       "dossiers received", kPortal, "ratio", "receipt"},
      {"data_reuse_rate", "Data reuse rate", "dossiers that reused digitised data", "dossiers received", kPortal,
       "ratio", "receipt"},
      {"shared_for_reuse_rate", "Digitised data shared for reuse", "dossiers whose digitised data was shared",
       "dossiers received", kPortal, "ratio", "receipt"},
      {"population_db_use_rate", "Population database use", "dossiers that used the national population database",
       "dossiers received", kPortal, "ratio", "receipt"},
      {"satisfaction_rate", "Satisfaction rate", "finished dossiers rated very satisfied or satisfied",
       "finished dossiers with a rating", "SIPAS practice; DOMAIN.md section 6", "ratio", "finish"},
      {"satisfaction_766", "Satisfaction in receiving and resolving dossiers (766)",
       "dossiers finished that were neither late nor met with a complaint or a dissatisfied rating",
       "dossiers finished", kPortal, "ratio", "finish"},
      {"fully_electronic_rate", "Fully electronic dossiers",
       "dossiers handled electronically end to end (online or digitised at receipt, processed and signed "
       "electronically, electronic result, paid online where a fee applies)",
       "dossiers finished", "Press usage (\"online in 5 steps\")", "ratio", "finish"},
      {"average_processing_days", "Average processing time", "working days from receipt to finish, supplement waits excluded",
       "dossiers finished", "DIGIT-style average solution time", "working_days", "finish", true},
      {"full_online_dossier_rate", "Full-online dossiers (766 online service)",
       "dossiers submitted online for procedures offered full-process online",
       "dossiers of procedures eligible for full-process online service", kPortal, "ratio", "receipt"},
      {"population_db_connected_rate", "Procedures connected to the population database",
       "procedures connected to the national population database", "procedures carried out in the scope", kPortal,
       "ratio", "catalog"},
      {"fee_procedures_online_payment_rate", "Fee-bearing procedures with online payment",
       "fee-bearing procedures integrated with online payment", "fee-bearing procedures", kPortal, "ratio", "catalog"},
      {"fee_procedures_with_online_payment_rate", "Fee-bearing procedures paid online at least once",
       "fee-bearing procedures with at least one dossier paid online in the period", "fee-bearing procedures",
       kPortal, "ratio", "catalog"},
      {"procedures_with_online_dossiers_rate", "Online services that received online dossiers",
       "procedures offered online with at least one online dossier in the period", "procedures offered online",
       kPortal, "ratio", "catalog"},
      {"sync_completeness", "Dossiers synced to the national portal", "dossiers synced (received, from events)",
       "dossiers synced, plus for each periodic report compared the dossiers it reports beyond the synced ones of "
       "the same agency and period (per report: the larger of reported and synced)",
       kPortal, "ratio", "receipt"},
      {"received", "Dossiers received", "dossiers received in the period", "", "", "count", "receipt"},
      {"finished", "Dossiers finished", "dossiers finished in the period", "", "", "count", "finish"},
  };
  return kDefinitions;
}

const IndicatorDefinition* FindIndicator(absl::string_view id) {
  for (const auto& d : BuiltinIndicators()) {
    if (d.id == id) return &d;
  }
  return nullptr;
}

std::vector<std::string> BuiltinIndicatorIds() {
  std::vector<std::string> ids;
  for (const auto& d : BuiltinIndicators()) ids.push_back(d.id);
  return ids;
}

int64_t Get(const Counts& counts, Counter c) { return counts[static_cast<int>(c)]; }

IndicatorValue ComputeIndicator(const IndicatorDefinition& d, const ScopeTotals& t) {
  using C = Counter;
  const Counts& r = t.receipt;
  const Counts& f = t.finish;
  const CatalogTotals& c = t.catalog;
  auto ratio = [&](double n, double den, const char* source) { return IndicatorValue::Ratio(d.id, n, den, source); };
  auto catalog = [&](double n, double den) {
    if (!t.has_catalog) return IndicatorValue::Unavailable(d.id, "catalog figures are not defined for this breakdown");
    return ratio(n, den, "catalog");
  };
  const std::string& id = d.id;
  if (id == "online_service_coverage") return catalog(c.online, c.procedures);
  if (id == "full_online_share_eligible") return catalog(c.full, c.eligible);
  if (id == "full_online_share_online") return catalog(c.full, c.online);
  if (id == "population_db_connected_rate") return catalog(c.population_db_connected, c.procedures);
  if (id == "fee_procedures_online_payment_rate") return catalog(c.fee_online_payment, c.fee_bearing);
  if (id == "fee_procedures_with_online_payment_rate") return catalog(c.fee_with_online_paid, c.fee_bearing);
  if (id == "procedures_with_online_dossiers_rate") return catalog(c.online_with_online_dossier, c.online);
  if (id == "online_submission_rate") return ratio(Get(r, C::kReceivedOnline), Get(r, C::kReceived), "events");
  if (id == "on_time_rate") return ratio(Get(f, C::kEarly) + Get(f, C::kOnTime), Get(f, C::kFinished), "events");
  if (id == "on_time_rate_portal") {
    if (!t.has_instant) return IndicatorValue::Unavailable(id, "needs open dossiers at an instant, not defined for this breakdown");
    const double within = static_cast<double>(t.open - t.open_portal_overdue);
    return ratio(Get(f, C::kPortalEarly) + Get(f, C::kPortalOnTime) + within, Get(f, C::kPortalFinished) + t.open,
                 "events");
  }
  if (id == "early_rate") return ratio(Get(f, C::kEarly), Get(f, C::kFinished), "events");
  if (id == "late_rate") return ratio(Get(f, C::kLate), Get(f, C::kFinished), "events");
  if (id == "overdue_open") {
    if (!t.has_instant) return IndicatorValue::Unavailable(id, "needs open dossiers at an instant, not defined for this breakdown");
    IndicatorValue v;
    v.id = id;
    v.numerator = v.value = static_cast<double>(t.open_overdue);
    v.denominator = static_cast<double>(t.open);
    v.available = true;
    v.sources = {"events"};
    return v;
  }
  if (id == "apology_rate") return ratio(Get(f, C::kApology), Get(f, C::kFinished), "events");
  if (id == "online_payment_rate") return ratio(Get(r, C::kPaidOnline), Get(r, C::kReceivedFeeNonZero), "events");
  if (id == "electronic_result_rate") return ratio(Get(f, C::kElectronicResult), Get(f, C::kResolved), "events");
  if (id == "digitisation_rate") return ratio(Get(r, C::kDigitised), Get(r, C::kReceived), "events");
  if (id == "digitised_components_rate") return ratio(Get(r, C::kDigitisedDocuments), Get(r, C::kReceived), "events");
  if (id == "data_reuse_rate") return ratio(Get(r, C::kReusedData), Get(r, C::kReceived), "events");
  if (id == "shared_for_reuse_rate") return ratio(Get(r, C::kSharedForReuse), Get(r, C::kReceived), "events");
  if (id == "population_db_use_rate") return ratio(Get(r, C::kPopulationDbUsed), Get(r, C::kReceived), "events");
  if (id == "satisfaction_rate") return ratio(Get(f, C::kSatisfied), Get(f, C::kRated), "events");
  if (id == "satisfaction_766") {
    return ratio(Get(f, C::kFinished) - Get(f, C::kLateOrDisliked), Get(f, C::kFinished), "events");
  }
  if (id == "fully_electronic_rate") return ratio(Get(f, C::kFullyElectronic), Get(f, C::kFinished), "events");
  if (id == "average_processing_days") return ratio(Get(f, C::kProcessingDays), Get(f, C::kFinished), "events");
  if (id == "full_online_dossier_rate") {
    return ratio(Get(r, C::kReceivedFullOnline), Get(r, C::kReceivedEligibleFullOnline), "events");
  }
  if (id == "sync_completeness") {
    // Computed with the periodic reports of the scope (Metrics::Values).
    return IndicatorValue::Unavailable(id, "needs the periodic reports of the scope");
  }
  if (id == "received" || id == "finished") {
    IndicatorValue v;
    v.id = id;
    v.numerator = v.value = static_cast<double>(id == "received" ? Get(r, C::kReceived) : Get(f, C::kFinished));
    v.available = true;
    v.sources = {"events"};
    return v;
  }
  return IndicatorValue::Unavailable(id, "unknown indicator");
}

}  // namespace pstrack
