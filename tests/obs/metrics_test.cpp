// obs/metrics.hpp: the Prometheus text format as promtool reads it, the histogram's
// buckets, and a label set that stays bounded whatever the input.
#include <catch2/catch.hpp>

#include <string>

#include <fmt/format.h>

#include "obs/metrics.hpp"
#include "promtool.hpp"

namespace {
int promtool_check(const std::string& text, std::string& said) { return testsupport::promtool_check_metrics(text, said); }
}  // namespace

TEST_CASE("a histogram counts each duration in the first bucket whose bound holds it, cumulatively") {
  obs::Histogram h({0.001, 0.01, 0.1});
  h.observe_ns(1'000'000);      // exactly 1 ms: <= 0.001
  h.observe_ns(1'000'001);      // just above: the 0.01 bucket
  h.observe_ns(50'000'000);     // 50 ms
  h.observe_ns(2'000'000'000);  // 2 s: +Inf only
  h.observe_ns(-5);             // counts as 0
  const auto s = h.snapshot();
  CHECK(s.cumulative == std::vector<std::uint64_t>{2, 3, 4, 5});
  CHECK(s.count == 5);
  CHECK(s.sum_s == Approx(2.052000001));
  CHECK_THROWS_AS(obs::Histogram({0.1, 0.01}), std::invalid_argument);
  CHECK_THROWS_AS(obs::Histogram({0.0}), std::invalid_argument);
}

TEST_CASE("a label counter keeps at most its bound of values and counts the rest as other") {
  obs::LabelCounter c(3);
  for (int i = 0; i < 1000; ++i) c.add(fmt::format("made-up-field-{}", i));
  c.add("made-up-field-1", 5);
  const auto s = c.snapshot();
  REQUIRE(s.size() == 4);
  std::uint64_t total = 0;
  for (const auto& [v, n] : s) total += n;
  CHECK(total == 1005);
  CHECK(s.back().first == "other");
  CHECK(s.back().second == 997);
}

TEST_CASE("what the exposition writes, awkward text included, is what promtool accepts") {
  obs::Exposition x;
  x.family("trader_things_total", "counter", "Things.\nWith a second line and a \\ backslash.");
  x.sample("trader_things_total", {{"worker", "risk-state"}, {"field", "a \"quoted\"\nnew\\line"}}, std::uint64_t{42});
  x.sample("trader_things_total", {{"worker", "risk-state"}, {"field", "ünïcödé"}}, std::uint64_t{1});
  x.family("trader_level", "gauge", "A level.");
  x.sample("trader_level", {}, 0.1);
  x.sample("trader_level", {{"k", "inf"}}, std::numeric_limits<double>::infinity());
  x.sample("trader_level", {{"k", "nan"}}, std::numeric_limits<double>::quiet_NaN());
  x.sample("trader_level", {{"k", "neg"}}, std::int64_t{-3});
  obs::Histogram h(obs::Histogram::latency_bounds());
  h.observe_ns(30'000);
  h.observe_ns(3'000'000'000);
  x.family("trader_handling_seconds", "histogram", "Handling time.");
  x.histogram("trader_handling_seconds", {{"worker", "execution"}}, h);
  const auto& t = x.text();
  CHECK_THAT(t, Catch::Contains(R"(field="a \"quoted\"\nnew\\line"} 42)"));
  CHECK_THAT(t, Catch::Contains("# HELP trader_things_total Things.\\nWith a second line and a \\\\ backslash.\n"));
  CHECK_THAT(t, Catch::Contains("trader_level{k=\"inf\"} +Inf\n"));
  CHECK_THAT(t, Catch::Contains("trader_level{k=\"nan\"} NaN\n"));
  CHECK_THAT(t, Catch::Contains("trader_handling_seconds_bucket{worker=\"execution\",le=\"5e-05\"} 1\n"));
  CHECK_THAT(t, Catch::Contains("trader_handling_seconds_bucket{worker=\"execution\",le=\"+Inf\"} 2\n"));
  CHECK_THAT(t, Catch::Contains("trader_handling_seconds_count{worker=\"execution\"} 2\n"));
  std::string said;
  INFO(t);
  CHECK(promtool_check(t, said) == 0);
  CHECK(said.empty());
}

TEST_CASE("promtool refuses what the format does not allow, so the check above can fail") {
  std::string said;
  CHECK(promtool_check("trader_x{worker=\"a\"\"} 1\n", said) != 0);
  CHECK(promtool_check("# TYPE trader_y_total counter\ntrader_y_total 1\n", said) != 0);  // no HELP
}
