// Tests for the Prometheus exposition: the samples a scraper reads back
// (parsed here line by line) equal what was counted, computed independently
// from the same inputs.
#include "services/common/telemetry.h"

#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

namespace pstrack::telemetry {
namespace {

// "name{labels} value" lines -> value by "name{labels}"; HELP and TYPE
// lines by name.
struct Scrape {
  std::map<std::string, double> samples;
  std::map<std::string, std::string> types, helps;
};

Scrape Read(const std::string& text) {
  Scrape s;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    if (absl::ConsumePrefix(&line, "# TYPE ")) {
      std::vector<std::string> parts = absl::StrSplit(line, absl::MaxSplits(' ', 1));
      s.types[parts[0]] = parts[1];
      continue;
    }
    if (absl::ConsumePrefix(&line, "# HELP ")) {
      std::vector<std::string> parts = absl::StrSplit(line, absl::MaxSplits(' ', 1));
      s.helps[parts[0]] = parts[1];
      continue;
    }
    const size_t space = line.rfind(' ');
    double v = 0;
    const std::string value(line.substr(space + 1));
    if (value == "+Inf") {
      v = INFINITY;
    } else {
      EXPECT_TRUE(absl::SimpleAtod(value, &v)) << line;
    }
    s.samples[std::string(line.substr(0, space))] = v;
  }
  return s;
}

TEST(Telemetry, CountersByLabelWithEscapedValues) {
  Registry r;
  auto& family = r.Counter("t_requests_total", "Calls, by method and code.", {"method", "code"});
  family.With({"A/B", "OK"}).Add();
  family.With({"A/B", "OK"}).Add(2);
  family.With({"A/B", "NOT_FOUND"}).Add();
  family.With({"quote\" back\\ nl\n", "OK"}).Add(5);
  // The same name gives the same family.
  r.Counter("t_requests_total", "ignored", {"method", "code"}).With({"A/B", "OK"}).Add();
  const Scrape s = Read(r.Exposition());
  EXPECT_EQ(s.types.at("t_requests_total"), "counter");
  EXPECT_EQ(s.helps.at("t_requests_total"), "Calls, by method and code.");
  EXPECT_EQ(s.samples.at(R"(t_requests_total{method="A/B",code="OK"})"), 4);
  EXPECT_EQ(s.samples.at(R"(t_requests_total{method="A/B",code="NOT_FOUND"})"), 1);
  EXPECT_EQ(s.samples.at(R"(t_requests_total{method="quote\" back\\ nl\n",code="OK"})"), 5);
  EXPECT_EQ(s.samples.size(), 3u);
}

TEST(Telemetry, HistogramBucketsAreCumulativeAndInclusive) {
  Registry r;
  const std::vector<double> bounds = {0.001, 0.01, 0.1, 1};
  auto& h = r.Histogram("t_duration_seconds", "Durations.", bounds, {"method"});
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> dist(0, 2);
  std::vector<double> seen = {0.001, 0.01, 1, 0};  // on the bounds: "le" includes them
  for (int i = 0; i < 500; ++i) seen.push_back(dist(rng) * dist(rng) * dist(rng) / 4);
  for (double v : seen) h.With({"m"}).Observe(v);
  const Scrape s = Read(r.Exposition());
  EXPECT_EQ(s.types.at("t_duration_seconds"), "histogram");
  double sum = 0;
  for (double v : seen) sum += v;
  for (double le : bounds) {
    int below = 0;
    for (double v : seen) below += v <= le;
    const std::string key = absl::StrCat("t_duration_seconds_bucket{method=\"m\",le=\"", le, "\"}");
    ASSERT_TRUE(s.samples.count(key)) << key << "\n" << r.Exposition();
    EXPECT_EQ(s.samples.at(key), below) << key;
  }
  EXPECT_EQ(s.samples.at(R"(t_duration_seconds_bucket{method="m",le="+Inf"})"), seen.size());
  EXPECT_EQ(s.samples.at(R"(t_duration_seconds_count{method="m"})"), seen.size());
  EXPECT_NEAR(s.samples.at(R"(t_duration_seconds_sum{method="m"})"), sum, 1e-9);
}

TEST(Telemetry, GaugesAreReadAtEachScrapeAndLeaveWithTheirOwner) {
  Registry r;
  double depth = 3;
  int owner = 0;
  r.Gauge("t_queue_depth", "Waiting writes.", {"queue"},
          [&] { return std::vector<std::pair<LabelValues, double>>{{{"write"}, depth}, {{"read"}, 0.5}}; }, &owner);
  r.CounterReader("t_bytes_total", "Bytes.", {}, [] { return std::vector<std::pair<LabelValues, double>>{{{}, 1e12}}; },
                  &owner);
  Scrape s = Read(r.Exposition());
  EXPECT_EQ(s.samples.at(R"(t_queue_depth{queue="write"})"), 3);
  EXPECT_EQ(s.samples.at(R"(t_queue_depth{queue="read"})"), 0.5);
  EXPECT_EQ(s.types.at("t_queue_depth"), "gauge");
  EXPECT_EQ(s.types.at("t_bytes_total"), "counter");
  EXPECT_EQ(s.samples.at("t_bytes_total"), 1e12);
  depth = 7;
  s = Read(r.Exposition());
  EXPECT_EQ(s.samples.at(R"(t_queue_depth{queue="write"})"), 7);
  r.RemoveGauges(&owner);
  s = Read(r.Exposition());
  EXPECT_EQ(s.samples.count(R"(t_queue_depth{queue="write"})"), 0);
  EXPECT_EQ(s.types.count("t_bytes_total"), 0);
}

TEST(Telemetry, ProcessMetricsAreSane) {
  Registry r;
  RegisterProcessMetrics(r);
  const Scrape s = Read(r.Exposition());
  EXPECT_GT(s.samples.at("process_resident_memory_bytes"), 1 << 20);
  EXPECT_GE(s.samples.at("process_virtual_memory_bytes"), s.samples.at("process_resident_memory_bytes"));
  EXPECT_GE(s.samples.at("process_open_fds"), 3);  // stdin, stdout, stderr at least
  EXPECT_GE(s.samples.at("process_max_fds"), s.samples.at("process_open_fds"));
  const double now = static_cast<double>(time(nullptr));
  EXPECT_LE(s.samples.at("process_start_time_seconds"), now + 1);
  EXPECT_GT(s.samples.at("process_start_time_seconds"), now - 24 * 3600 * 365);
  EXPECT_EQ(s.types.at("process_cpu_seconds_total"), "counter");
}

}  // namespace
}  // namespace pstrack::telemetry
