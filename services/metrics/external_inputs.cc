#include "services/metrics/external_inputs.h"

#include <cmath>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "services/agencies/agency_registry.h"
#include "services/common/status.h"

namespace pstrack {

std::vector<ItemOutcome> ExternalInputs::Submit(const std::vector<ExternalInput>& inputs) {
  std::vector<ItemOutcome> out(inputs.size());
  std::shared_ptr<const MethodologyRegistry> registry = methodologies_ ? methodologies_() : nullptr;
  std::set<std::string> known;
  if (registry) {
    for (const Methodology* m : registry->All()) {
      for (const auto& id : m->ExternalInputs()) known.insert(id);
    }
  }
  absl::Status batch = store_.Write([&](MetricsWriter& tx) -> absl::Status {
    for (size_t i = 0; i < inputs.size(); ++i) {
      const ExternalInput& in = inputs[i];
      ItemOutcome& o = out[i];
      o.index = static_cast<int>(i);
      o.key = in.input_id;
      auto check = [&]() -> absl::Status {
        if (in.input_id.empty() || in.input_id.size() > 128) {
          return InvalidField("input.input_id", "must be 1..128 characters");
        }
        if (!known.contains(in.indicator_id)) {
          return InvalidField("input.indicator_id",
                              absl::StrCat("'", in.indicator_id, "' is not an external input of any loaded methodology",
                                           known.empty() ? "" : absl::StrCat(" (known: ", absl::StrJoin(known, ", "), ")")));
        }
        PSTRACK_RETURN_IF_ERROR(ValidatePeriod(in.period, "input.period"));
        for (auto [name, v] : {std::pair<const char*, double>{"input.numerator", in.numerator},
                               {"input.denominator", in.denominator}, {"input.value", in.value}}) {
          if (!std::isfinite(v) || v < 0) return InvalidField(name, "must be a finite number, not negative");
          // Survey respondents, complaints, points: far below this, and
          // sums of many stay exact in a double (below 2^53).
          if (v > kMaxExternalFigure) {
            return InvalidField(name, absl::StrCat("is ", v, "; at most ", kMaxExternalFigure));
          }
        }
        if (in.denominator > 0 && in.numerator > in.denominator) {
          return InvalidField("input.numerator", "is larger than the denominator");
        }
        if (in.denominator == 0 && in.numerator != 0) {
          return InvalidField("input.denominator", "is zero while the numerator is not");
        }
        if (in.denominator == 0 && in.value > 1) {
          return InvalidField("input.value", absl::StrCat(in.value, " is not a rate in [0, 1] (write 87.59% as 0.8759, "
                                                                    "or give a numerator and a denominator)"));
        }
        PSTRACK_ASSIGN_OR_RETURN(Agency agency, RequireAgency(tx, in.agency_code, "input.agency_code"));
        (void)agency;
        return absl::OkStatus();
      }();
      if (!check.ok()) {
        o.status = check;
        continue;
      }
      ExternalInputRow row{in.input_id, in.agency_code, in.indicator_id, in.period.start, in.period.end,
                           in.numerator,  in.denominator, in.value,       in.source,       absl::ToUnixMicros(absl::Now())};
      PSTRACK_ASSIGN_OR_RETURN(auto existing, tx.FindExternalInput(in.input_id));
      if (existing && existing->agency_code == row.agency_code && existing->indicator_id == row.indicator_id &&
          existing->start == row.start && existing->end == row.end && existing->numerator == row.numerator &&
          existing->denominator == row.denominator && existing->value == row.value && existing->source == row.source) {
        o.outcome = WriteOutcome::kUnchanged;
        continue;
      }
      PSTRACK_RETURN_IF_ERROR(tx.PutExternalInput(row));
      o.outcome = WriteOutcome::kApplied;
    }
    return absl::OkStatus();
  });
  if (!batch.ok()) {
    RejectAll(out, batch);
  }
  return out;
}

absl::StatusOr<std::vector<ExternalInput>> ExternalInputs::List(const std::string& agency_code,
                                                                const std::string& indicator_id) {
  std::vector<ExternalInput> out;
  PSTRACK_RETURN_IF_ERROR(store_.Read([&](MetricsReader& tx) -> absl::Status {
    if (!agency_code.empty()) {
      PSTRACK_RETURN_IF_ERROR(RequireAgency(tx, agency_code, "agency_code").status());
    }
    PSTRACK_ASSIGN_OR_RETURN(auto rows, tx.ListExternalInputs(agency_code, indicator_id));
    for (const auto& r : rows) {
      out.push_back(ExternalInput{r.input_id, r.agency_code, r.indicator_id, Period{r.start, r.end}, r.numerator,
                                  r.denominator, r.value, r.source});
    }
    return absl::OkStatus();
  }));
  return out;
}

}  // namespace pstrack
