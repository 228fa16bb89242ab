#include "services/figures/indicator_value.h"

#include <cmath>
#include <utility>

namespace pstrack {

IndicatorValue IndicatorValue::Ratio(std::string id, double numerator, double denominator, std::string source) {
  IndicatorValue v;
  v.id = std::move(id);
  v.numerator = numerator;
  v.denominator = denominator;
  v.sources.push_back(std::move(source));
  if (!std::isfinite(numerator) || !std::isfinite(denominator)) {
    // A NaN or infinite count is a bug upstream; reading it as a rate would
    // hide that behind a plausible-looking figure.
    v.unavailable_reason = "numerator or denominator is not a finite number";
    return v;
  }
  if (denominator == 0) {
    v.unavailable_reason = "denominator is zero: no dossiers or procedures in the denominator";
    return v;
  }
  if (denominator < 0) {
    v.unavailable_reason = "denominator is negative";
    return v;
  }
  v.value = numerator / denominator;
  v.available = true;
  return v;
}

IndicatorValue IndicatorValue::Unavailable(std::string id, std::string reason) {
  IndicatorValue v;
  v.id = std::move(id);
  v.unavailable_reason = std::move(reason);
  return v;
}

}  // namespace pstrack
