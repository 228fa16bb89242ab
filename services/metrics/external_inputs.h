// External inputs: the figures pstrack cannot derive (survey results,
// complaints), submitted per agency, indicator and period for the
// methodologies that score them. Validates and stores them idempotently by
// input id; lists them.
// Thread-safe: the store serialises writers.
#ifndef PSTRACK_SERVICES_METRICS_EXTERNAL_INPUTS_H_
#define PSTRACK_SERVICES_METRICS_EXTERNAL_INPUTS_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/common/batch.h"
#include "services/metrics/methodology.h"
#include "services/metrics/metrics_store.h"
#include "services/metrics/period.h"

namespace pstrack {

// The largest numerator, denominator or value an external input may give.
inline constexpr double kMaxExternalFigure = 1e12;

struct ExternalInput {
  std::string input_id, agency_code, indicator_id;
  Period period;
  double numerator = 0, denominator = 0, value = 0;
  std::string source;
};

class ExternalInputs {
 public:
  // `methodologies` gives the ones loaded now: an input's indicator must be
  // an external input of one of them.
  ExternalInputs(MetricsStore store, std::function<std::shared_ptr<const MethodologyRegistry>()> methodologies)
      : store_(store), methodologies_(std::move(methodologies)) {}

  // Each input applied, unchanged (the same content under its id) or
  // rejected on its own.
  std::vector<ItemOutcome> Submit(const std::vector<ExternalInput>& inputs);
  // The inputs of an agency (every agency if empty), of one indicator if
  // given, by start day then id.
  absl::StatusOr<std::vector<ExternalInput>> List(const std::string& agency_code, const std::string& indicator_id);

 private:
  MetricsStore store_;
  std::function<std::shared_ptr<const MethodologyRegistry>()> methodologies_;
};

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_METRICS_EXTERNAL_INPUTS_H_
