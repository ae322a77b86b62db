// Process-wide metrics in the Prometheus text exposition format (version 0.0.4,
// https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format).
//
// Every module records what an operator needs to see (requests by route and status, commit
// latency, sequencer batch sizes, grants by outcome, verification outcomes by reason code, open
// databases) into the one default registry; every server exposes it at GET /metrics
// (http/http.h). Label values are never secrets, tokens, DIDs of patients or health data: only
// route templates, status codes, outcome and reason codes chosen by the code that records them.
//
// Thread-safe; recording is a mutex and a map lookup per call, cheap next to a request.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace medallion::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

// Bucket upper bounds (seconds) for latencies from 50 µs to 10 s.
const std::vector<double>& LatencyBuckets();
// Bucket upper bounds for counts (batch sizes) from 1 to 4096.
const std::vector<double>& SizeBuckets();

class Registry {
 public:
  // The process's registry, the one /metrics renders.
  static Registry& Default();

  // A counter: adds `delta` (≥ 0) to the series `name{labels}`, created at 0. `help` is kept from
  // the first call for the family. REQUIRES: name and label names match [a-zA-Z_:][a-zA-Z0-9_:]*,
  // and every call for one name uses one type.
  void Add(std::string_view name, std::string_view help, const Labels& labels, double delta = 1);
  // A gauge: sets the series to `value` / adds `delta` (may be negative).
  void Set(std::string_view name, std::string_view help, const Labels& labels, double value);
  void AddGauge(std::string_view name, std::string_view help, const Labels& labels, double delta);
  // A histogram with cumulative `buckets` (ascending upper bounds; +Inf is implicit): one
  // observation of `value`. Every call for one name uses the same buckets.
  void Observe(std::string_view name, std::string_view help, const Labels& labels, double value,
               const std::vector<double>& buckets);
  // A gauge computed at each render (e.g. the ledger's size). A later registration under the
  // same name and labels replaces the earlier one; `Remove` forgets it (call it before the
  // object `read` refers to goes away).
  void GaugeFunction(std::string_view name, std::string_view help, const Labels& labels,
                     std::function<double()> read);
  void Remove(std::string_view name, const Labels& labels);

  // The whole registry in the text format: families sorted by name, each with # HELP and
  // # TYPE, histograms as _bucket{le=...}, _sum and _count.
  std::string Render() const;

  // A series' current value (counter or gauge; a histogram's count), 0 if absent. For tests.
  double Value(std::string_view name, const Labels& labels) const;

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Series {
    double value = 0;               // counter, gauge
    std::vector<uint64_t> buckets;  // histogram: per-bucket (non-cumulative) counts, +Inf last
    double sum = 0;
    uint64_t count = 0;
    std::function<double()> read;  // gauge computed at render
  };
  struct Family {
    Type type = Type::kCounter;
    std::string help;
    std::vector<double> bounds;
    std::map<std::string, Series> series;  // key: rendered label set, e.g. {a="b",c="d"}
  };
  Series& SeriesLocked(std::string_view name, std::string_view help, Type type,
                       const Labels& labels);

  mutable std::mutex mu_;
  std::map<std::string, Family, std::less<>> families_;
};

// Text-format escaping of a label value (backslash, double quote, newline).
std::string EscapeLabelValue(std::string_view value);

// Times a scope into a histogram of seconds (LatencyBuckets) on destruction.
class ScopedTimer {
 public:
  ScopedTimer(std::string_view name, std::string_view help, Labels labels);
  ~ScopedTimer();
  ScopedTimer(const ScopedTimer&) = delete;
  ScopedTimer& operator=(const ScopedTimer&) = delete;

 private:
  std::string name_, help_;
  Labels labels_;
  int64_t start_ns_;
};

}  // namespace medallion::metrics
