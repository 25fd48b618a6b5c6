#include "obs/metrics.hpp"

#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

namespace obs {

Histogram::Histogram(std::vector<double> bounds_s)
    : bounds_(std::move(bounds_s)), buckets_(new std::atomic<std::uint64_t>[bounds_.size() + 1]) {
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    if (!std::isfinite(bounds_[i]) || bounds_[i] <= 0 || (i > 0 && bounds_[i] <= bounds_[i - 1]))
      throw std::invalid_argument("histogram bounds must be finite, positive and ascending");
    bounds_ns_.push_back(static_cast<std::int64_t>(std::llround(bounds_[i] * 1e9)));
  }
  for (std::size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

std::vector<double> Histogram::latency_bounds() {
  return {1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

void Histogram::observe_ns(std::int64_t ns) noexcept {
  if (ns < 0) ns = 0;
  std::size_t i = 0;
  while (i < bounds_ns_.size() && ns > bounds_ns_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(static_cast<std::uint64_t>(ns), std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  std::uint64_t total = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    total += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(total);
  }
  s.count = total;
  s.sum_s = static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9;
  return s;
}

void LabelCounter::add(std::string_view value, std::uint64_t n) {
  std::lock_guard lock(mu_);
  if (auto it = counts_.find(value); it != counts_.end()) {
    it->second += n;
    return;
  }
  if (counts_.size() >= max_) {
    counts_["other"] += n;  // "other" itself may take the last place; it never needs a new one after
    return;
  }
  counts_.emplace(std::string(value), n);
}

std::vector<std::pair<std::string, std::uint64_t>> LabelCounter::snapshot() const {
  std::lock_guard lock(mu_);
  return {counts_.begin(), counts_.end()};
}

namespace {

/// HELP text: backslash and line feed escaped.
void put_help(std::string& out, std::string_view s) {
  for (const char c : s) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
}

/// A label value: backslash, double quote and line feed escaped.
void put_label_value(std::string& out, std::string_view s) {
  for (const char c : s) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
}

std::string format_double(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

}  // namespace

void Exposition::family(std::string_view name, std::string_view type, std::string_view help) {
  fmt::format_to(std::back_inserter(out_), "# HELP {} ", name);
  put_help(out_, help);
  fmt::format_to(std::back_inserter(out_), "\n# TYPE {} {}\n", name, type);
}

void Exposition::head(std::string_view name, const Labels& labels, std::string_view extra_name,
                      std::string_view extra_value) {
  out_ += name;
  if (labels.empty() && extra_name.empty()) return;
  out_ += '{';
  bool first = true;
  auto put = [&](std::string_view k, std::string_view v) {
    if (!first) out_ += ',';
    first = false;
    out_ += k;
    out_ += "=\"";
    put_label_value(out_, v);
    out_ += '"';
  };
  for (const auto& [k, v] : labels) put(k, v);
  if (!extra_name.empty()) put(extra_name, extra_value);
  out_ += '}';
}

void Exposition::sample(std::string_view name, const Labels& labels, double value) {
  head(name, labels);
  out_ += ' ';
  out_ += format_double(value);
  out_ += '\n';
}

void Exposition::sample(std::string_view name, const Labels& labels, std::uint64_t value) {
  head(name, labels);
  fmt::format_to(std::back_inserter(out_), " {}\n", value);
}

void Exposition::sample(std::string_view name, const Labels& labels, std::int64_t value) {
  head(name, labels);
  fmt::format_to(std::back_inserter(out_), " {}\n", value);
}

void Exposition::sample_number(std::string_view name, const Labels& labels, std::string_view number) {
  head(name, labels);
  out_ += ' ';
  out_ += number;
  out_ += '\n';
}

void Exposition::histogram(std::string_view name, const Labels& labels, const Histogram& h) {
  const auto s = h.snapshot();
  const std::string bucket = std::string(name) + "_bucket";
  for (std::size_t i = 0; i <= h.bounds().size(); ++i) {
    const auto le = i < h.bounds().size() ? format_double(h.bounds()[i]) : std::string("+Inf");
    head(bucket, labels, "le", le);
    fmt::format_to(std::back_inserter(out_), " {}\n", s.cumulative[i]);
  }
  sample(std::string(name) + "_sum", labels, s.sum_s);
  sample(std::string(name) + "_count", labels, s.count);
}

}  // namespace obs
