/// @file metrics.hpp
/// @brief What a worker tells Prometheus: the text exposition format (version 0.0.4,
/// https://prometheus.io/docs/instrumenting/exposition_formats/) and the few
/// instruments the workers keep between scrapes: a duration Histogram, and a
/// LabelCounter whose label set is bounded whatever the input says.
///
/// There is no Prometheus client library in Debian 12 (docs/dependencies.md); the
/// format is small, and `promtool check metrics` checks what this writes
/// (tests/obs/metrics_test.cpp, tests/integration/http_test.cpp).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace obs {

/// Label name -> value pairs of one sample. Names must match [a-zA-Z_][a-zA-Z0-9_]*
/// (they are the program's constants); values are any text (escaped on output).
using Labels = std::vector<std::pair<std::string_view, std::string_view>>;

/// A histogram of durations in seconds with fixed upper bounds, as Prometheus counts
/// them: bucket i counts observations <= bound i, plus +Inf, the count and the sum.
/// Thread-safe (relaxed atomics): observe from any thread, snapshot from the scrape.
class Histogram {
 public:
  /// `bounds_s`: ascending, finite, positive upper bounds in seconds. Throws
  /// std::invalid_argument otherwise.
  explicit Histogram(std::vector<double> bounds_s);
  /// Bounds from 10 us to 10 s, about three per decade: handling latencies.
  static std::vector<double> latency_bounds();
  /// Counts one duration (nanoseconds; negative counts as 0).
  void observe_ns(std::int64_t ns) noexcept;
  struct Snapshot {
    std::vector<std::uint64_t> cumulative;  ///< per bound, then +Inf (== count)
    std::uint64_t count = 0;
    double sum_s = 0;
  };
  /// The counts so far. Concurrent observations may be partly included (each bucket
  /// is read once, then made cumulative, so the result is monotonic in the bounds).
  Snapshot snapshot() const;
  const std::vector<double>& bounds() const noexcept { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::vector<std::int64_t> bounds_ns_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  ///< per bound, then +Inf; not cumulative
  std::atomic<std::uint64_t> sum_ns_{0};
};

/// Counts by one label value, with at most `max_values` distinct values: later new
/// values count under "other" (a hostile sender that makes up a field name per
/// message must not grow the metrics without bound). Thread-safe (a mutex).
class LabelCounter {
 public:
  explicit LabelCounter(std::size_t max_values = 64) : max_(max_values) {}
  void add(std::string_view value, std::uint64_t n = 1);
  /// (value, count), ascending by value.
  std::vector<std::pair<std::string, std::uint64_t>> snapshot() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::uint64_t, std::less<>> counts_;
  std::size_t max_;
};

/// Writes one scrape in the text exposition format. Not thread-safe (one per scrape).
class Exposition {
 public:
  /// Starts a metric family: its # HELP and # TYPE lines. `type`: "counter", "gauge"
  /// or "histogram". Every sample after it until the next family belongs to it. In
  /// format 0.0.4 a counter's family has its sample's name (`..._total`); a histogram's
  /// is the base name of its _bucket, _sum and _count.
  void family(std::string_view name, std::string_view type, std::string_view help);
  /// One sample: `name` (the family's name, or with _total/_bucket/_sum/_count), its
  /// labels, its value. Doubles as Prometheus parses them (+Inf, -Inf, NaN).
  void sample(std::string_view name, const Labels& labels, double value);
  void sample(std::string_view name, const Labels& labels, std::uint64_t value);
  void sample(std::string_view name, const Labels& labels, std::int64_t value);
  /// A value already written as a number (an exact decimal such as "-5826.999992":
  /// money is never a double in this project; Prometheus parses the text). `number`
  /// must be a float literal Prometheus reads ([-]digits[.digits]); it is not checked.
  void sample_number(std::string_view name, const Labels& labels, std::string_view number);
  /// The samples of a histogram family `name` (_bucket with le, _sum, _count).
  void histogram(std::string_view name, const Labels& labels, const Histogram& h);
  const std::string& text() const noexcept { return out_; }

 private:
  void head(std::string_view name, const Labels& labels, std::string_view extra_name = {},
            std::string_view extra_value = {});
  std::string out_;
};

/// The content type of the format, for the HTTP response.
inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace obs
