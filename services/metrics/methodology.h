// Versioned methodologies for index scores (the Decision 766/QĐ-TTg service
// index, reform-index components): groups of indicators with maximum points,
// targets and a scoring rule, loaded from data files, never written in code.
// Scoring is a pure function of the indicator values it is given.
// Immutable after loading; thread-safe.
#ifndef PSTRACK_SERVICES_METRICS_METHODOLOGY_H_
#define PSTRACK_SERVICES_METRICS_METHODOLOGY_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "services/common/dates.h"
#include "services/figures/indicator_value.h"

namespace pstrack {

enum class ScoringRule {
  // Decision 766 portal practice: points = max when rate >= target, else
  // rate / target * max.
  kLinearToTarget,
  // Banded thresholds as reform-index sub-criteria use: the points of the
  // highest band whose threshold the rate reaches (0 below every band).
  kBands,
  // Tracked and shown, worth no points.
  kNoPoints,
};

struct Band {
  double threshold = 0;  // a rate in [0, 1]
  double points = 0;
};

// What an indicator is computed from.
struct IndicatorSource {
  enum class Kind { kBuiltin, kExternal };
  Kind kind = Kind::kBuiltin;
  std::string id;  // a built-in indicator id ("on_time_rate") or an external input id ("sipas")
  std::string ToString() const;  // "builtin:on_time_rate" / "external:sipas"
};

struct MethodologyIndicator {
  std::string id;    // e.g. "2.1"
  std::string name;
  double max_points = 0;
  IndicatorSource source;
  ScoringRule rule = ScoringRule::kLinearToTarget;
  double target = 1;         // kLinearToTarget, a rate in (0, 1]
  std::vector<Band> bands;   // kBands, ascending thresholds
  // When true, the rate used is 1 - value (for "lower is better" inputs).
  bool invert = false;
  int line = 0;              // where it was declared
};

struct MethodologyGroup {
  std::string id;
  std::string name;
  double max_points = 0;  // equals the sum of its indicators' max points
  std::vector<MethodologyIndicator> indicators;
};

struct Methodology {
  std::string id;  // "qd766@2026": name@version
  std::string name;
  std::string source;
  OptionalDate effective_from;
  std::vector<MethodologyGroup> groups;
  std::string file;  // where it was loaded from

  double max_points() const;
  // Every external input id the methodology reads.
  std::vector<std::string> ExternalInputs() const;
  // Every built-in indicator id it reads.
  std::vector<std::string> BuiltinInputs() const;
};

struct IndicatorScore {
  const MethodologyIndicator* indicator = nullptr;
  IndicatorValue value;  // as given (available or not)
  double points = 0;     // meaningful only when value.available
};

struct GroupScore {
  const MethodologyGroup* group = nullptr;
  double points = 0;  // over the available indicators
  std::vector<IndicatorScore> indicators;
};

struct IndexScore {
  const Methodology* methodology = nullptr;
  std::vector<GroupScore> groups;
  double total_points = 0;
  double max_points = 0;
  double unavailable_points = 0;  // max points of indicators whose input is missing
};

// Parses one methodology file (format in data/methodologies/README.md).
// Errors name the file, the line and the reason.
absl::StatusOr<Methodology> ParseMethodology(const std::string& file_name, absl::string_view text,
                                             const std::vector<std::string>& known_builtin_ids);

// Points for one indicator value under its rule (0 when not available).
double ScoreIndicator(const MethodologyIndicator& indicator, const IndicatorValue& value);

// Scores with the given values: `values` is keyed by IndicatorSource::ToString()
// ("builtin:on_time_rate", "external:sipas"); a missing key is "not available".
IndexScore Score(const Methodology& methodology, const std::map<std::string, IndicatorValue>& values);

// All methodologies of a directory (*.txt), by id. A reload keeps the last
// good set when any file is malformed.
class MethodologyRegistry {
 public:
  static absl::StatusOr<MethodologyRegistry> LoadDirectory(const std::string& directory,
                                                           const std::vector<std::string>& known_builtin_ids);
  // The methodology with this id, or the default (the newest effective_from)
  // when `id` is empty. NOT_FOUND naming methodology_id otherwise.
  absl::StatusOr<const Methodology*> Find(absl::string_view id) const;
  std::vector<const Methodology*> All() const;
  const std::string& default_id() const { return default_id_; }

 private:
  std::map<std::string, std::shared_ptr<const Methodology>> by_id_;
  std::string default_id_;
};

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_METRICS_METHODOLOGY_H_
