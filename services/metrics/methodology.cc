#include "services/metrics/methodology.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "services/common/status.h"
#include "services/common/text.h"

namespace pstrack {
namespace {

// Points are written with at most a few decimals; sums of them are compared
// with this slack so that 0.1 + 0.2 still equals 0.3.
constexpr double kPointsTolerance = 1e-9;
// A rate computed as 19/20 should reach a 0.95 target or band even when the
// two doubles differ in the last bit.
constexpr double kRateTolerance = 1e-12;

constexpr char kBuiltinPrefix[] = "builtin:";
constexpr char kExternalPrefix[] = "external:";

bool IsIdChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
}

bool IsId(absl::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), IsIdChar); }

// A finite number, written in the file as a plain decimal.
bool ParseNumber(absl::string_view text, double* out) {
  return absl::SimpleAtod(text, out) && std::isfinite(*out);
}

// Collects every error of one file, each "file:line: reason".
class MethodologyParser {
 public:
  MethodologyParser(const std::string& file_name, const std::vector<std::string>& known_builtin_ids)
      : file_(file_name), known_builtin_ids_(known_builtin_ids.begin(), known_builtin_ids.end()) {
    methodology_.file = file_name;
  }

  absl::StatusOr<Methodology> Parse(absl::string_view text) {
    // Tolerate a byte-order mark some editors add; everything else must be
    // clean UTF-8.
    if (absl::StartsWith(text, "\xEF\xBB\xBF")) text.remove_prefix(3);
    int line_no = 0;
    for (absl::string_view raw : absl::StrSplit(text, '\n')) {
      ++line_no;
      if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
      const absl::string_view line = absl::StripAsciiWhitespace(raw);
      if (line.empty() || line.front() == '#') continue;
      if (!IsCleanUtf8(line)) {
        Error(line_no, "not valid UTF-8 text (or has control characters)");
        continue;
      }
      ParseLine(line_no, line);
    }
    Finish();
    if (!errors_.empty()) return absl::InvalidArgumentError(absl::StrJoin(errors_, "\n"));
    return std::move(methodology_);
  }

 private:
  void Error(int line, absl::string_view reason) { errors_.push_back(absl::StrCat(file_, ":", line, ": ", reason)); }

  void ParseLine(int line, absl::string_view text) {
    const size_t space = text.find_first_of(" \t");
    const absl::string_view directive = text.substr(0, space);
    const absl::string_view rest =
        space == absl::string_view::npos ? absl::string_view() : absl::StripAsciiWhitespace(text.substr(space));
    if (directive == "methodology") {
      if (SeenOnce(line, "methodology", &methodology_line_)) ParseId(line, rest);
    } else if (directive == "name") {
      if (SeenOnce(line, "name", &name_line_)) {
        if (rest.empty()) Error(line, "name: is empty");
        methodology_.name = std::string(rest);
      }
    } else if (directive == "source") {
      if (SeenOnce(line, "source", &source_line_)) {
        if (rest.empty()) Error(line, "source: is empty");
        methodology_.source = std::string(rest);
      }
    } else if (directive == "effective_from") {
      if (SeenOnce(line, "effective_from", &effective_from_line_)) {
        absl::StatusOr<Date> date = ParseDate(rest, "effective_from");
        if (date.ok()) {
          methodology_.effective_from = *date;
        } else {
          Error(line, date.status().message());
        }
      }
    } else if (directive == "group") {
      ParseGroup(line, rest);
    } else if (directive == "indicator") {
      ParseIndicator(line, rest);
    } else {
      Error(line, absl::StrCat("unknown directive '", directive,
                               "' (expected methodology, name, source, effective_from, group or indicator)"));
    }
  }

  // False (with an error) when `directive` already appeared.
  bool SeenOnce(int line, absl::string_view directive, int* first_line) {
    if (*first_line != 0) {
      Error(line, absl::StrCat("duplicate '", directive, "' line (first on line ", *first_line, ")"));
      return false;
    }
    *first_line = line;
    return true;
  }

  void ParseId(int line, absl::string_view id) {
    const std::vector<absl::string_view> parts = absl::StrSplit(id, '@');
    if (parts.size() != 2 || !IsId(parts[0]) || !IsId(parts[1])) {
      Error(line, absl::StrCat("methodology: '", id,
                               "' is not of the form name@version (letters, digits, '_', '.', '-')"));
    }
    methodology_.id = std::string(id);
  }

  // "<what>: '<text>' is not a number" or "... is negative"; false on error.
  bool ParsePoints(int line, absl::string_view what, absl::string_view text, double* out) {
    if (!ParseNumber(text, out)) {
      Error(line, absl::StrCat(what, ": '", text, "' is not a number"));
      return false;
    }
    if (*out < 0) {
      Error(line, absl::StrCat(what, ": ", text, " is negative"));
      return false;
    }
    return true;
  }

  void ParseGroup(int line, absl::string_view rest) {
    const std::vector<absl::string_view> fields = absl::StrSplit(rest, '|');
    if (fields.size() != 3) {
      Error(line, absl::StrCat("group: expected 'group <id> | <name> | <max points>', got ", fields.size(),
                               " field(s)"));
      return;
    }
    MethodologyGroup group;
    group.id = std::string(absl::StripAsciiWhitespace(fields[0]));
    group.name = std::string(absl::StripAsciiWhitespace(fields[1]));
    bool ok = true;
    if (!IsId(group.id)) {
      Error(line, absl::StrCat("group id: '", group.id,
                               "' is empty or has characters other than letters, digits, '_', '.', '-'"));
      ok = false;
    }
    if (group.name.empty()) {
      Error(line, "group name: is empty");
      ok = false;
    }
    ok = ParsePoints(line, "group max points", absl::StripAsciiWhitespace(fields[2]), &group.max_points) && ok;
    auto [it, inserted] = group_lines_by_id_.emplace(group.id, line);
    if (!inserted) {
      Error(line, absl::StrCat("duplicate group id '", group.id, "' (first on line ", it->second, ")"));
      ok = false;
    }
    // A bad group still receives its indicators so that their own errors
    // are reported, but it is not checked further.
    methodology_.groups.push_back(std::move(group));
    group_lines_.push_back(ok ? line : 0);
  }

  void ParseIndicator(int line, absl::string_view rest) {
    const std::vector<absl::string_view> raw_fields = absl::StrSplit(rest, '|');
    std::vector<absl::string_view> fields;
    for (absl::string_view f : raw_fields) fields.push_back(absl::StripAsciiWhitespace(f));
    if (fields.size() != 5 && fields.size() != 6) {
      Error(line, absl::StrCat("indicator: expected 'indicator <id> | <name> | <max points> | <source> | <rule>"
                               " [| invert]', got ",
                               fields.size(), " field(s)"));
      return;
    }
    MethodologyIndicator indicator;
    indicator.line = line;
    indicator.id = std::string(fields[0]);
    indicator.name = std::string(fields[1]);
    if (!IsId(indicator.id)) {
      Error(line, absl::StrCat("indicator id: '", indicator.id,
                               "' is empty or has characters other than letters, digits, '_', '.', '-'"));
    }
    auto [it, inserted] = indicator_lines_by_id_.emplace(indicator.id, line);
    if (!inserted) {
      Error(line, absl::StrCat("duplicate indicator id '", indicator.id, "' (first on line ", it->second, ")"));
    }
    if (indicator.name.empty()) Error(line, "indicator name: is empty");
    const bool points_ok = ParsePoints(line, "max points", fields[2], &indicator.max_points);
    ParseSource(line, fields[3], &indicator.source);
    if (fields.size() == 6) {
      if (fields[5] == "invert") {
        indicator.invert = true;
      } else {
        Error(line, absl::StrCat("unknown option '", fields[5], "' (the only option is 'invert')"));
      }
    }
    if (points_ok) ParseRule(line, fields[4], &indicator);
    if (methodology_.groups.empty()) {
      Error(line, absl::StrCat("indicator '", indicator.id, "' comes before any group"));
      return;
    }
    methodology_.groups.back().indicators.push_back(std::move(indicator));
  }

  void ParseSource(int line, absl::string_view text, IndicatorSource* source) {
    absl::string_view id = text;
    if (absl::ConsumePrefix(&id, kBuiltinPrefix)) {
      source->kind = IndicatorSource::Kind::kBuiltin;
      if (IsId(id) && !known_builtin_ids_.contains(std::string(id))) {
        Error(line, absl::StrCat("source: '", id, "' is not a known built-in indicator"));
      }
    } else if (absl::ConsumePrefix(&id, kExternalPrefix)) {
      source->kind = IndicatorSource::Kind::kExternal;
    } else {
      Error(line, absl::StrCat("source: '", text, "' must be builtin:<id> or external:<id>"));
      return;
    }
    if (!IsId(id)) {
      Error(line, absl::StrCat("source: '", text,
                               "' has an empty id or characters other than letters, digits, '_', '.', '-'"));
    }
    source->id = std::string(id);
  }

  // Needs indicator->max_points.
  void ParseRule(int line, absl::string_view text, MethodologyIndicator* indicator) {
    const size_t space = text.find_first_of(" \t");
    const absl::string_view rule = text.substr(0, space);
    const absl::string_view args =
        space == absl::string_view::npos ? absl::string_view() : absl::StripAsciiWhitespace(text.substr(space));
    if (rule == "linear") {
      indicator->rule = ScoringRule::kLinearToTarget;
      absl::string_view target = args;
      if (!absl::ConsumePrefix(&target, "target=")) {
        Error(line, absl::StrCat("rule: 'linear' needs 'target=<rate>', got '", args, "'"));
        return;
      }
      if (!ParseNumber(target, &indicator->target)) {
        Error(line, absl::StrCat("target: '", target, "' is not a number"));
        return;
      }
      if (!(indicator->target > 0 && indicator->target <= 1)) {
        Error(line, absl::StrCat("target: ", target, " is outside (0, 1]"));
      }
    } else if (rule == "bands") {
      indicator->rule = ScoringRule::kBands;
      ParseBands(line, args, indicator);
    } else if (rule == "none") {
      indicator->rule = ScoringRule::kNoPoints;
      if (!args.empty()) Error(line, absl::StrCat("rule: 'none' takes no arguments, got '", args, "'"));
      if (indicator->max_points > 0) {
        Error(line, absl::StrCat("rule 'none' gives no points but max points is ", indicator->max_points));
      }
    } else {
      Error(line, absl::StrCat("rule: unknown rule '", rule, "' (expected linear, bands or none)"));
    }
  }

  void ParseBands(int line, absl::string_view args, MethodologyIndicator* indicator) {
    if (args.empty()) {
      Error(line, "bands: expected 'bands <threshold>:<points>, ...'");
      return;
    }
    for (absl::string_view item : absl::StrSplit(args, ',')) {
      item = absl::StripAsciiWhitespace(item);
      const std::vector<absl::string_view> pair = absl::StrSplit(item, ':');
      Band band;
      if (pair.size() != 2 || !ParseNumber(absl::StripAsciiWhitespace(pair[0]), &band.threshold) ||
          !ParseNumber(absl::StripAsciiWhitespace(pair[1]), &band.points)) {
        Error(line, absl::StrCat("bands: '", item, "' is not <threshold>:<points>"));
        return;
      }
      if (band.threshold < 0 || band.threshold > 1) {
        Error(line, absl::StrCat("bands: threshold ", band.threshold, " is outside [0, 1]"));
        return;
      }
      if (band.points < 0) {
        Error(line, absl::StrCat("bands: points ", band.points, " are negative"));
        return;
      }
      if (band.points > indicator->max_points + kPointsTolerance) {
        Error(line, absl::StrCat("bands: band points ", band.points, " are above the indicator's max points ",
                                 indicator->max_points));
        return;
      }
      if (!indicator->bands.empty()) {
        const Band& previous = indicator->bands.back();
        if (band.threshold <= previous.threshold) {
          Error(line, absl::StrCat("bands: thresholds must ascend, got ", band.threshold, " after ",
                                   previous.threshold));
          return;
        }
        if (band.points < previous.points) {
          Error(line, absl::StrCat("bands: points must not fall as the threshold rises, got ", band.points,
                                   " after ", previous.points));
          return;
        }
      }
      indicator->bands.push_back(band);
    }
    if (std::abs(indicator->bands.back().points - indicator->max_points) > kPointsTolerance) {
      Error(line, absl::StrCat("bands: the last band gives ", indicator->bands.back().points,
                               " points but the indicator's max points are ", indicator->max_points));
    }
  }

  void Finish() {
    if (methodology_line_ == 0) Error(1, "no 'methodology <name>@<version>' line in the file");
    if (name_line_ == 0) Error(1, "no 'name' line in the file");
    if (methodology_.groups.empty()) Error(1, "no groups in the file");
    for (size_t i = 0; i < methodology_.groups.size(); ++i) {
      const int line = group_lines_[i];
      if (line == 0) continue;  // already reported
      const MethodologyGroup& group = methodology_.groups[i];
      if (group.indicators.empty()) {
        Error(line, absl::StrCat("group '", group.id, "' has no indicators"));
        continue;
      }
      double sum = 0;
      for (const MethodologyIndicator& indicator : group.indicators) sum += indicator.max_points;
      if (std::abs(sum - group.max_points) > kPointsTolerance) {
        Error(line, absl::StrCat("group '", group.id, "': max points ", group.max_points,
                                 " differ from the sum of its indicators' max points, ", sum));
      }
    }
  }

  const std::string file_;
  const std::set<std::string> known_builtin_ids_;
  Methodology methodology_;
  std::vector<std::string> errors_;
  int methodology_line_ = 0;
  int name_line_ = 0;
  int source_line_ = 0;
  int effective_from_line_ = 0;
  std::vector<int> group_lines_;  // per group; 0 when the group line itself was bad
  std::map<std::string, int> group_lines_by_id_;
  std::map<std::string, int> indicator_lines_by_id_;
};

// Appends `id` unless already there, keeping the order of first use.
void AppendUnique(std::vector<std::string>& ids, const std::string& id) {
  if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
}

std::vector<std::string> InputsOfKind(const Methodology& methodology, IndicatorSource::Kind kind) {
  std::vector<std::string> out;
  for (const MethodologyGroup& group : methodology.groups) {
    for (const MethodologyIndicator& indicator : group.indicators) {
      if (indicator.source.kind == kind) AppendUnique(out, indicator.source.id);
    }
  }
  return out;
}

}  // namespace

std::string IndicatorSource::ToString() const {
  return absl::StrCat(kind == Kind::kBuiltin ? kBuiltinPrefix : kExternalPrefix, id);
}

double Methodology::max_points() const {
  double sum = 0;
  for (const MethodologyGroup& group : groups) sum += group.max_points;
  return sum;
}

std::vector<std::string> Methodology::ExternalInputs() const {
  return InputsOfKind(*this, IndicatorSource::Kind::kExternal);
}

std::vector<std::string> Methodology::BuiltinInputs() const {
  return InputsOfKind(*this, IndicatorSource::Kind::kBuiltin);
}

absl::StatusOr<Methodology> ParseMethodology(const std::string& file_name, absl::string_view text,
                                             const std::vector<std::string>& known_builtin_ids) {
  return MethodologyParser(file_name, known_builtin_ids).Parse(text);
}

double ScoreIndicator(const MethodologyIndicator& indicator, const IndicatorValue& value) {
  if (!value.available || !std::isfinite(value.value)) return 0;
  double rate = indicator.invert ? 1 - value.value : value.value;
  rate = std::clamp(rate, 0.0, 1.0);
  switch (indicator.rule) {
    case ScoringRule::kLinearToTarget:
      if (indicator.target <= 0) return 0;  // rejected by the parser
      if (rate + kRateTolerance >= indicator.target) return indicator.max_points;
      return rate / indicator.target * indicator.max_points;
    case ScoringRule::kBands: {
      double points = 0;
      for (const Band& band : indicator.bands) {
        if (rate + kRateTolerance >= band.threshold) points = band.points;
      }
      return points;
    }
    case ScoringRule::kNoPoints:
      return 0;
  }
  return 0;
}

IndexScore Score(const Methodology& methodology, const std::map<std::string, IndicatorValue>& values) {
  IndexScore out;
  out.methodology = &methodology;
  out.max_points = methodology.max_points();
  for (const MethodologyGroup& group : methodology.groups) {
    GroupScore group_score;
    group_score.group = &group;
    for (const MethodologyIndicator& indicator : group.indicators) {
      IndicatorScore score;
      score.indicator = &indicator;
      const std::string key = indicator.source.ToString();
      auto it = values.find(key);
      if (it == values.end()) {
        score.value = IndicatorValue::Unavailable(indicator.source.id, absl::StrCat("no value supplied for ", key));
      } else {
        score.value = it->second;
        if (score.value.available && !std::isfinite(score.value.value)) {
          // Scored as 0 it would look like a real figure; say so instead.
          score.value.available = false;
          score.value.unavailable_reason = "value is not a finite number";
        }
      }
      if (score.value.available) {
        score.points = ScoreIndicator(indicator, score.value);
        group_score.points += score.points;
      } else {
        out.unavailable_points += indicator.max_points;
      }
      group_score.indicators.push_back(std::move(score));
    }
    out.total_points += group_score.points;
    out.groups.push_back(std::move(group_score));
  }
  return out;
}

absl::StatusOr<MethodologyRegistry> MethodologyRegistry::LoadDirectory(
    const std::string& directory, const std::vector<std::string>& known_builtin_ids) {
  std::error_code ec;
  std::filesystem::directory_iterator it(directory, ec);
  if (ec) {
    return absl::NotFoundError(
        absl::StrCat("cannot read methodology directory '", directory, "': ", ec.message()));
  }
  std::vector<std::filesystem::path> paths;
  for (const auto& entry : it) {
    if (entry.is_regular_file() && entry.path().extension() == ".txt") paths.push_back(entry.path());
  }
  // Sorted so that errors and duplicate reports do not depend on the order
  // the file system lists the directory in.
  std::sort(paths.begin(), paths.end());

  MethodologyRegistry registry;
  std::map<std::string, std::string> file_of_id;
  std::vector<std::string> errors;
  for (const auto& path : paths) {
    const std::string file = path.string();
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      errors.push_back(absl::StrCat(file, ": cannot read the file"));
      continue;
    }
    std::ostringstream content;
    content << in.rdbuf();
    absl::StatusOr<Methodology> methodology = ParseMethodology(file, content.str(), known_builtin_ids);
    if (!methodology.ok()) {
      errors.push_back(std::string(methodology.status().message()));
      continue;
    }
    auto [first, inserted] = file_of_id.emplace(methodology->id, file);
    if (!inserted) {
      errors.push_back(absl::StrCat(file, ": methodology '", methodology->id, "' is already defined in ",
                                    first->second));
      continue;
    }
    std::string id = methodology->id;  // copied: the methodology is moved below
    registry.by_id_.emplace(std::move(id), std::make_shared<const Methodology>(*std::move(methodology)));
  }
  if (!errors.empty()) return absl::InvalidArgumentError(absl::StrJoin(errors, "\n"));
  if (registry.by_id_.empty()) {
    return absl::NotFoundError(absl::StrCat("no methodology files (*.txt) in '", directory, "'"));
  }

  // The newest effective_from wins; a methodology without one is older than
  // any dated one; ties go to the highest id so the choice is stable.
  const Methodology* newest = nullptr;
  for (const auto& [id, methodology] : registry.by_id_) {
    if (newest == nullptr || methodology->effective_from > newest->effective_from ||
        (methodology->effective_from == newest->effective_from && methodology->id > newest->id)) {
      newest = methodology.get();
    }
  }
  registry.default_id_ = newest->id;
  return registry;
}

absl::StatusOr<const Methodology*> MethodologyRegistry::Find(absl::string_view id) const {
  if (id.empty()) {
    if (default_id_.empty()) {
      return FieldError(absl::StatusCode::kNotFound, "methodology_id", "no methodologies are loaded");
    }
    return by_id_.at(default_id_).get();
  }
  auto it = by_id_.find(std::string(id));
  if (it == by_id_.end()) {
    std::vector<std::string> known;
    for (const auto& [known_id, methodology] : by_id_) known.push_back(known_id);
    return FieldError(absl::StatusCode::kNotFound, "methodology_id",
                      absl::StrCat("no methodology '", id, "' (known: ",
                                   known.empty() ? "none" : absl::StrJoin(known, ", "), ")"));
  }
  return it->second.get();
}

std::vector<const Methodology*> MethodologyRegistry::All() const {
  std::vector<const Methodology*> out;
  out.reserve(by_id_.size());
  for (const auto& [id, methodology] : by_id_) out.push_back(methodology.get());
  return out;
}

}  // namespace pstrack
