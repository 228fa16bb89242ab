// One indicator's value for a scope and period: numerator, denominator and
// whether it can be read at all. Shared by the indicator computation and the
// methodology scoring. Plain value type; thread-compatible.
#ifndef PSTRACK_SERVICES_FIGURES_INDICATOR_VALUE_H_
#define PSTRACK_SERVICES_FIGURES_INDICATOR_VALUE_H_

#include <string>
#include <vector>

namespace pstrack {

struct IndicatorValue {
  std::string id;
  double numerator = 0;
  double denominator = 0;
  // numerator / denominator for ratios; the count or the mean otherwise.
  double value = 0;
  // False when the denominator is zero or an input is missing: a value
  // that is not available must never be read as zero.
  bool available = false;
  std::string unavailable_reason;
  // Where the figures came from: "events", "reports", "catalog",
  // "external:<source>".
  std::vector<std::string> sources;
  // How the sources were combined, when it matters (e.g. reported parts
  // that lack the figures this indicator needs).
  std::string note;

  static IndicatorValue Ratio(std::string id, double numerator, double denominator, std::string source);
  static IndicatorValue Unavailable(std::string id, std::string reason);
};

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_FIGURES_INDICATOR_VALUE_H_
