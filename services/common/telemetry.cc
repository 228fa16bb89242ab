#include "services/common/telemetry.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace pstrack::telemetry {
namespace {

// A label value or help text escaped as the format asks.
std::string Escape(const std::string& s, bool quote) {
  std::string out;
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string Number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return absl::StrFormat("%.0f", v);
  return absl::StrFormat("%.15g", v);
}

std::string Labels(const std::vector<std::string>& names, const LabelValues& values,
                   const std::string& extra_name = "", const std::string& extra_value = "") {
  std::vector<std::string> parts;
  for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
    parts.push_back(absl::StrCat(names[i], "=\"", Escape(values[i], true), "\""));
  }
  if (!extra_name.empty()) parts.push_back(absl::StrCat(extra_name, "=\"", extra_value, "\""));
  if (parts.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < parts.size(); ++i) absl::StrAppend(&out, i ? "," : "", parts[i]);
  return out + "}";
}

void AddDouble(std::atomic<double>& a, double v) {
  double old = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(old, old + v, std::memory_order_relaxed)) {
  }
}

}  // namespace

void HistogramSeries::Observe(double v) {
  const size_t i = std::lower_bound(bounds_->begin(), bounds_->end(), v) - bounds_->begin();
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  AddDouble(sum_, v);
}

void HistogramSeries::Read(std::vector<uint64_t>* cumulative, double* sum, uint64_t* count) const {
  cumulative->clear();
  uint64_t running = 0;
  for (const auto& c : counts_) {
    running += c.load(std::memory_order_relaxed);
    cumulative->push_back(running);
  }
  *count = running;
  *sum = sum_.load(std::memory_order_relaxed);
}

template <typename Series>
Series& Family<Series>::With(const LabelValues& values) {
  absl::MutexLock lock(&mu_);
  auto& slot = series_[values];
  if (slot == nullptr) slot = make_();
  return *slot;
}

template class Family<CounterSeries>;
template class Family<HistogramSeries>;

Registry& Registry::Global() {
  static Registry* registry = new Registry();
  return *registry;
}

Family<CounterSeries>& Registry::Counter(const std::string& name, const std::string& help,
                                         std::vector<std::string> label_names) {
  absl::MutexLock lock(&mu_);
  for (const auto& e : entries_) {
    if (e->name == name && e->counter) return *e->counter;
  }
  auto e = std::make_unique<Entry>();
  e->name = name;
  e->help = help;
  e->type = "counter";
  e->label_names = label_names;
  e->counter.reset(new Family<CounterSeries>(std::move(label_names)));
  entries_.push_back(std::move(e));
  return *entries_.back()->counter;
}

Family<HistogramSeries>& Registry::Histogram(const std::string& name, const std::string& help,
                                             std::vector<double> bounds, std::vector<std::string> label_names) {
  absl::MutexLock lock(&mu_);
  for (const auto& e : entries_) {
    if (e->name == name && e->histogram) return *e->histogram;
  }
  auto e = std::make_unique<Entry>();
  e->name = name;
  e->help = help;
  e->type = "histogram";
  e->label_names = label_names;
  e->bounds = std::move(bounds);
  e->histogram.reset(new Family<HistogramSeries>(std::move(label_names), &e->bounds));
  entries_.push_back(std::move(e));
  return *entries_.back()->histogram;
}

void Registry::CounterReader(const std::string& name, const std::string& help, std::vector<std::string> label_names,
                             GaugeReader read, const void* owner) {
  Gauge(name, help, std::move(label_names), std::move(read), owner);
  absl::MutexLock lock(&mu_);
  for (auto& e : entries_) {
    if (e->name == name && e->gauge) e->type = "counter";
  }
}

void Registry::Gauge(const std::string& name, const std::string& help, std::vector<std::string> label_names,
                     GaugeReader read, const void* owner) {
  absl::MutexLock lock(&mu_);
  // One reader per name: a later server in the same process replaces it.
  for (auto& e : entries_) {
    if (e->name == name && e->gauge) {
      e->gauge = std::move(read);
      e->owner = owner;
      return;
    }
  }
  auto e = std::make_unique<Entry>();
  e->name = name;
  e->help = help;
  e->type = "gauge";
  e->label_names = std::move(label_names);
  e->gauge = std::move(read);
  e->owner = owner;
  entries_.push_back(std::move(e));
}

void Registry::RemoveGauges(const void* owner) {
  absl::MutexLock lock(&mu_);
  entries_.erase(std::remove_if(entries_.begin(), entries_.end(),
                                [&](const auto& e) { return e->gauge && e->owner == owner; }),
                 entries_.end());
}

std::string Registry::Exposition() const {
  // Gauge readers run under the lock, so that RemoveGauges cannot free what
  // one uses while it runs (a reader must not register metrics).
  absl::MutexLock lock(&mu_);
  std::string out;
  for (const auto& e : entries_) {
    absl::StrAppend(&out, "# HELP ", e->name, " ", Escape(e->help, false), "\n# TYPE ", e->name, " ", e->type, "\n");
    if (e->counter) {
      absl::MutexLock series_lock(&e->counter->mu_);
      for (const auto& [values, series] : e->counter->series_) {
        absl::StrAppend(&out, e->name, Labels(e->label_names, values), " ", Number(series->value()), "\n");
      }
    } else if (e->histogram) {
      absl::MutexLock series_lock(&e->histogram->mu_);
      std::vector<uint64_t> cumulative;
      for (const auto& [values, series] : e->histogram->series_) {
        double sum;
        uint64_t count;
        series->Read(&cumulative, &sum, &count);
        for (size_t i = 0; i < cumulative.size(); ++i) {
          const std::string le = i < e->bounds.size() ? Number(e->bounds[i]) : "+Inf";
          absl::StrAppend(&out, e->name, "_bucket", Labels(e->label_names, values, "le", le), " ", cumulative[i],
                          "\n");
        }
        absl::StrAppend(&out, e->name, "_sum", Labels(e->label_names, values), " ", Number(sum), "\n");
        absl::StrAppend(&out, e->name, "_count", Labels(e->label_names, values), " ", count, "\n");
      }
    } else if (e->gauge) {
      for (const auto& [values, v] : e->gauge()) {
        absl::StrAppend(&out, e->name, Labels(e->label_names, values), " ", Number(v), "\n");
      }
    }
  }
  return out;
}

namespace {

// Fields of /proc/self/stat after the command name (which may hold spaces).
std::vector<std::string> StatFields() {
  std::ifstream in("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return {};
  return absl::StrSplit(text.substr(close + 2), ' ', absl::SkipEmpty());
}

double Field(const std::vector<std::string>& fields, size_t i) {
  double v = 0;
  if (i < fields.size()) (void)absl::SimpleAtod(fields[i], &v);
  return v;
}

}  // namespace

void RegisterProcessMetrics(Registry& registry) {
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  // Fields after ')' (man 5 proc): 0 state, ... 11 utime, 12 stime, 19 starttime, 20 vsize, 21 rss.
  registry.Gauge("process_resident_memory_bytes", "Resident memory size in bytes.", {},
                 [page] { return std::vector<std::pair<LabelValues, double>>{{{}, Field(StatFields(), 21) * page}}; });
  registry.Gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", {},
                 [] { return std::vector<std::pair<LabelValues, double>>{{{}, Field(StatFields(), 20)}}; });
  registry.CounterReader("process_cpu_seconds_total", "User and system CPU time spent, in seconds.", {}, [ticks] {
    const auto f = StatFields();
    return std::vector<std::pair<LabelValues, double>>{{{}, (Field(f, 11) + Field(f, 12)) / ticks}};
  });
  registry.Gauge("process_start_time_seconds", "Start time of the process since the Unix epoch, in seconds.", {},
                 [ticks] {
                   double boot = 0;
                   std::ifstream in("/proc/stat");
                   for (std::string line; std::getline(in, line);) {
                     if (absl::StartsWith(line, "btime ")) (void)absl::SimpleAtod(line.substr(6), &boot);
                   }
                   return std::vector<std::pair<LabelValues, double>>{{{}, boot + Field(StatFields(), 19) / ticks}};
                 });
  registry.Gauge("process_max_fds", "The descriptor limit (soft).", {}, [] {
    rlimit r{};
    getrlimit(RLIMIT_NOFILE, &r);
    return std::vector<std::pair<LabelValues, double>>{{{}, static_cast<double>(r.rlim_cur)}};
  });
  // One walk of /proc/self/fd for both.
  auto count_fds = [](bool sockets_only) {
    double n = 0;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
      if (!sockets_only) {
        ++n;
        continue;
      }
      std::error_code link_ec;
      const auto target = std::filesystem::read_symlink(entry.path(), link_ec);
      if (!link_ec && absl::StartsWith(target.string(), "socket:")) ++n;
    }
    return std::vector<std::pair<LabelValues, double>>{{{}, n}};
  };
  registry.Gauge("process_open_fds", "Open file descriptors.", {}, [count_fds] { return count_fds(false); });
  registry.Gauge("pstrack_open_sockets",
                 "Sockets the process holds: listeners, gRPC and HTTP client connections, database connections.", {},
                 [count_fds] { return count_fds(true); });
}

const std::vector<double>& LatencyBuckets() {
  static const std::vector<double> buckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                              0.1,    0.25,  0.5,    1,     2.5,  5,     10, 30};
  return buckets;
}

}  // namespace pstrack::telemetry
