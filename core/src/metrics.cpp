#include "medallion/core/metrics.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace medallion::metrics {
namespace {

int64_t MonotonicNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A sample value as the text format writes it: integers without a fraction, others with
// enough digits to round-trip, and the format's spellings of the infinities and NaN.
std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[40];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    // The shortest of 15 or 17 significant digits that reads back as the same double.
    std::snprintf(buf, sizeof buf, "%.15g", v);
    if (std::strtod(buf, nullptr) != v) std::snprintf(buf, sizeof buf, "%.17g", v);
  }
  return buf;
}

std::string LabelKey(const Labels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i) out += ',';
    out += labels[i].first;
    out += "=\"";
    out += EscapeLabelValue(labels[i].second);
    out += '"';
  }
  out += '}';
  return out;
}

// `key` ({a="b"} or empty) with one more label appended (the histogram's le).
std::string WithLabel(const std::string& key, const std::string& name, const std::string& value) {
  const std::string extra = name + "=\"" + value + "\"";
  if (key.empty()) return "{" + extra + "}";
  return key.substr(0, key.size() - 1) + "," + extra + "}";
}

// The text format's escaping: backslash and newline always, the double quote in label values
// only (HELP text keeps it as is).
std::string Escape(std::string_view text, bool quote) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

const std::vector<double>& LatencyBuckets() {
  static const std::vector<double> kBuckets = {0.00005, 0.0001, 0.00025, 0.0005, 0.001,
                                               0.0025,  0.005,  0.01,    0.025,  0.05,
                                               0.1,     0.25,   0.5,     1,      2.5,
                                               5,       10};
  return kBuckets;
}

const std::vector<double>& SizeBuckets() {
  static const std::vector<double> kBuckets = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096};
  return kBuckets;
}

std::string EscapeLabelValue(std::string_view value) { return Escape(value, true); }

Registry& Registry::Default() {
  static Registry* registry = new Registry();  // never destroyed: recorded into until exit
  return *registry;
}

Registry::Series& Registry::SeriesLocked(std::string_view name, std::string_view help, Type type,
                                         const Labels& labels) {
  auto it = families_.find(name);
  if (it == families_.end()) {
    it = families_.emplace(std::string(name), Family{}).first;
    it->second.type = type;
    it->second.help = std::string(help);
  }
  return it->second.series[LabelKey(labels)];
}

void Registry::Add(std::string_view name, std::string_view help, const Labels& labels,
                   double delta) {
  std::lock_guard<std::mutex> lock(mu_);
  SeriesLocked(name, help, Type::kCounter, labels).value += delta;
}

void Registry::Set(std::string_view name, std::string_view help, const Labels& labels,
                   double value) {
  std::lock_guard<std::mutex> lock(mu_);
  SeriesLocked(name, help, Type::kGauge, labels).value = value;
}

void Registry::AddGauge(std::string_view name, std::string_view help, const Labels& labels,
                        double delta) {
  std::lock_guard<std::mutex> lock(mu_);
  SeriesLocked(name, help, Type::kGauge, labels).value += delta;
}

void Registry::Observe(std::string_view name, std::string_view help, const Labels& labels,
                       double value, const std::vector<double>& buckets) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = families_.find(name);
  if (it == families_.end()) {
    it = families_.emplace(std::string(name), Family{}).first;
    it->second.type = Type::kHistogram;
    it->second.help = std::string(help);
    it->second.bounds = buckets;
  }
  Family& family = it->second;
  Series& s = family.series[LabelKey(labels)];
  if (s.buckets.empty()) s.buckets.assign(family.bounds.size() + 1, 0);
  const size_t i = static_cast<size_t>(
      std::lower_bound(family.bounds.begin(), family.bounds.end(), value) - family.bounds.begin());
  s.buckets[i]++;
  s.sum += value;
  s.count++;
}

void Registry::GaugeFunction(std::string_view name, std::string_view help, const Labels& labels,
                             std::function<double()> read) {
  std::lock_guard<std::mutex> lock(mu_);
  SeriesLocked(name, help, Type::kGauge, labels).read = std::move(read);
}

void Registry::Remove(std::string_view name, const Labels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = families_.find(name);
  if (it == families_.end()) return;
  it->second.series.erase(LabelKey(labels));
  if (it->second.series.empty()) families_.erase(it);
}

double Registry::Value(std::string_view name, const Labels& labels) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = families_.find(name);
  if (it == families_.end()) return 0;
  auto s = it->second.series.find(LabelKey(labels));
  if (s == it->second.series.end()) return 0;
  if (it->second.type == Type::kHistogram) return static_cast<double>(s->second.count);
  return s->second.read ? s->second.read() : s->second.value;
}

std::string Registry::Render() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (const auto& [name, family] : families_) {
    out += "# HELP " + name + " " + Escape(family.help, false) + "\n";
    out += "# TYPE " + name + " ";
    out += family.type == Type::kCounter ? "counter" :
           family.type == Type::kGauge   ? "gauge" :
                                           "histogram";
    out += "\n";
    for (const auto& [key, s] : family.series) {
      if (family.type != Type::kHistogram) {
        out += name + key + " " + FormatValue(s.read ? s.read() : s.value) + "\n";
        continue;
      }
      uint64_t cumulative = 0;
      for (size_t i = 0; i < s.buckets.size(); ++i) {
        cumulative += s.buckets[i];
        const std::string le =
            i < family.bounds.size() ? FormatValue(family.bounds[i]) : std::string("+Inf");
        out += name + "_bucket" + WithLabel(key, "le", le) + " " +
               FormatValue(static_cast<double>(cumulative)) + "\n";
      }
      out += name + "_sum" + key + " " + FormatValue(s.sum) + "\n";
      out += name + "_count" + key + " " + FormatValue(static_cast<double>(s.count)) + "\n";
    }
  }
  return out;
}

ScopedTimer::ScopedTimer(std::string_view name, std::string_view help, Labels labels)
    : name_(name), help_(help), labels_(std::move(labels)), start_ns_(MonotonicNanos()) {}

ScopedTimer::~ScopedTimer() {
  Registry::Default().Observe(name_, help_, labels_,
                              static_cast<double>(MonotonicNanos() - start_ns_) / 1e9,
                              LatencyBuckets());
}

}  // namespace medallion::metrics
