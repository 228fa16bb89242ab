// Metrics in the Prometheus text exposition format (version 0.0.4), served
// at /metrics (services/http/). A registry holds counter and histogram
// families, made once and kept for the life of the process, and gauges read
// when scraped (callbacks). Recording is lock-free once a labelled series
// exists (a relaxed atomic add); finding a series by its label values takes
// a mutex, so hot paths keep the series they use.
//
//   Counter& c = registry.Counter("pstrack_x_total", "What it counts.", {"kind"}).With({"a"});
//   c.Add();
#ifndef PSTRACK_SERVICES_COMMON_TELEMETRY_H_
#define PSTRACK_SERVICES_COMMON_TELEMETRY_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace pstrack::telemetry {

using LabelValues = std::vector<std::string>;

class CounterSeries {
 public:
  void Add(double v = 1) {
    // Integral steps (the common case) stay exact in a double up to 2^53.
    double old = value_.load(std::memory_order_relaxed);
    while (!value_.compare_exchange_weak(old, old + v, std::memory_order_relaxed)) {
    }
  }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class HistogramSeries {
 public:
  explicit HistogramSeries(const std::vector<double>* bounds) : bounds_(bounds), counts_(bounds->size() + 1) {}
  void Observe(double v);
  // Cumulative counts per bound (then +Inf), the sum and the count.
  void Read(std::vector<uint64_t>* cumulative, double* sum, uint64_t* count) const;

 private:
  const std::vector<double>* bounds_;
  std::vector<std::atomic<uint64_t>> counts_;
  std::atomic<double> sum_{0};
};

template <typename Series>
class Family {
 public:
  // The series of these label values (as many as the family's names),
  // made on first use. The reference stays valid for the registry's life.
  Series& With(const LabelValues& values);

 private:
  friend class Registry;
  template <typename... Args>
  explicit Family(std::vector<std::string> label_names, Args... args)
      : label_names_(std::move(label_names)), make_([=] { return std::make_unique<Series>(args...); }) {}
  std::vector<std::string> label_names_;
  std::function<std::unique_ptr<Series>()> make_;
  mutable absl::Mutex mu_;
  std::map<LabelValues, std::unique_ptr<Series>> series_ ABSL_GUARDED_BY(mu_);
};

class Registry {
 public:
  // The process's registry (what /metrics shows).
  static Registry& Global();

  // The same name returns the same family (its help and labels are those of
  // the first call).
  Family<CounterSeries>& Counter(const std::string& name, const std::string& help,
                                 std::vector<std::string> label_names = {});
  Family<HistogramSeries>& Histogram(const std::string& name, const std::string& help, std::vector<double> bounds,
                                     std::vector<std::string> label_names = {});
  // A gauge read at each scrape: `read` returns (label values, value) pairs.
  using GaugeReader = std::function<std::vector<std::pair<LabelValues, double>>()>;
  // `owner` names who registered it, for RemoveGauges (a server that stops).
  void Gauge(const std::string& name, const std::string& help, std::vector<std::string> label_names,
             GaugeReader read, const void* owner = nullptr);
  // The same for a counter kept elsewhere (a total read at each scrape).
  void CounterReader(const std::string& name, const std::string& help, std::vector<std::string> label_names,
                     GaugeReader read, const void* owner = nullptr);
  void RemoveGauges(const void* owner);

  // Every family and gauge, in the order they were made.
  std::string Exposition() const;

 private:
  struct Entry {
    std::string name, help, type;
    std::vector<std::string> label_names;
    std::vector<double> bounds;
    std::unique_ptr<Family<CounterSeries>> counter;
    std::unique_ptr<Family<HistogramSeries>> histogram;
    GaugeReader gauge;
    const void* owner = nullptr;
  };
  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<Entry>> entries_ ABSL_GUARDED_BY(mu_);
};

// The process's own gauges, Prometheus' standard names:
// process_resident_memory_bytes, process_virtual_memory_bytes,
// process_cpu_seconds_total, process_open_fds, process_max_fds,
// process_start_time_seconds; and pstrack_open_sockets (every socket the
// process holds: listeners, gRPC and HTTP connections, database
// connections). Idempotent.
void RegisterProcessMetrics(Registry& registry);

// Bucket bounds for durations in seconds (0.5 ms .. 30 s).
const std::vector<double>& LatencyBuckets();

}  // namespace pstrack::telemetry

#endif  // PSTRACK_SERVICES_COMMON_TELEMETRY_H_
