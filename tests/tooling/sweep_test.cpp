// traderctl sweep (tooling/sweep.hpp): the grid, the ranking, the CSV, and the issue's
// acceptance test: "a sweep's best row equals a single backtest run with those parameters".
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "support/servers.hpp"
#include "tooling/in_process.hpp"
#include "tooling/report.hpp"
#include "tooling/sweep.hpp"

namespace {

services::InProcessConfig base_config() {
  services::InProcessConfig c;
  c.data_path = testsupport::shared_data_dir() + "/quotes_EURUSD_2014-05-06.csv";
  c.limit = 6'000;
  c.policy.defaults.max_order_qty = core::Decimal::from_int(1'000'000);
  c.policy.defaults.max_order_notional = core::Decimal::from_int(100'000'000);
  return c;
}

/// The analysis totals of one in-process backtest, as `traderctl backtest --in-process`
/// computes them (ctl.cpp): the log in event-time order through the Analyzer.
analytics::Stats single_run(services::InProcessConfig c, strategy::Params params) {
  c.strategies = {strategy::Choice{.name = "ma_cross", .strategy_id = "ma_cross", .params = std::move(params)}};
  services::EventTimeLog log;
  c.on_logged = [&log](std::uint64_t seq, std::string_view subject, std::string_view json) { log.add(seq, subject, json); };
  (void)services::run_in_process(c);
  analytics::Analyzer an;
  log.feed(an);
  an.on_session_ended();
  return an.analysis().totals;
}

}  // namespace

TEST_CASE("sweep axes parse KEY=V1,V2 and refuse what is not a list of values", "[sweep]") {
  const auto a = services::parse_axis("fast=5, 10,20");
  CHECK(a.key == "fast");
  CHECK(a.values == std::vector<std::string>{"5", "10", "20"});
  CHECK(services::parse_axis("quantity=1000").values.size() == 1);
  CHECK_THROWS_WITH(services::parse_axis("fast"), Catch::Contains("need KEY=V1,V2"));
  CHECK_THROWS_WITH(services::parse_axis("=5"), Catch::Contains("empty key"));
  CHECK_THROWS_WITH(services::parse_axis("fast=5,,10"), Catch::Contains("an empty value"));
  CHECK_THROWS_WITH(services::parse_axis("fast=5,5"), Catch::Contains("5 given twice"));
}

TEST_CASE("the grid is every combination, the first axis slowest, on top of the fixed params", "[sweep]") {
  const auto g = services::expand_grid({services::parse_axis("fast=5,10"), services::parse_axis("slow=50,100,200")},
                                       strategy::Params{{"quantity", "1"}});
  REQUIRE(g.size() == 6);
  CHECK(g[0].describe() == "fast=5 quantity=1 slow=50");
  CHECK(g[1].describe() == "fast=5 quantity=1 slow=100");
  CHECK(g[3].describe() == "fast=10 quantity=1 slow=50");
  CHECK(g[5].describe() == "fast=10 quantity=1 slow=200");
  CHECK_THROWS_WITH(services::expand_grid({services::parse_axis("fast=1"), services::parse_axis("fast=2")}),
                    Catch::Contains("swept twice"));
  CHECK_THROWS_WITH(services::expand_grid({services::parse_axis("a=1,2,3"), services::parse_axis("b=1,2,3")}, {}, 8),
                    Catch::Contains("more than 8 combinations"));
}

TEST_CASE("rows rank by the chosen statistic, best first, failed and null rows last", "[sweep]") {
  std::vector<services::SweepRow> rows(4);
  rows[0].totals.pnl_total = core::Decimal::from_int(-5);
  rows[0].totals.max_drawdown = core::Decimal::from_int(9);
  rows[1].totals.pnl_total = core::Decimal::from_int(7);
  rows[1].totals.max_drawdown = core::Decimal::from_int(3);
  rows[1].totals.sharpe = 0.4;
  rows[2].error = "boom";
  rows[2].totals.pnl_total = core::Decimal::from_int(100);
  rows[3].totals.pnl_total = core::Decimal::from_int(7);  // ties rows[1]: grid order kept
  rows[3].totals.max_drawdown = core::Decimal::from_int(1);
  CHECK(services::rank_rows(rows, services::rank_stat("pnl_total")) == std::vector<std::size_t>{1, 3, 0, 2});
  CHECK(services::rank_rows(rows, services::rank_stat("max_drawdown")) == std::vector<std::size_t>{3, 1, 0, 2});
  CHECK(services::rank_rows(rows, services::rank_stat("sharpe")) == std::vector<std::size_t>{1, 0, 3, 2});
  CHECK_THROWS_WITH(services::rank_stat("luck"), Catch::Contains("one of sharpe"));
  const auto csv = services::sweep_csv(rows, {1, 0}, {});
  CHECK_THAT(csv, Catch::StartsWith("rank,sharpe,sortino,calmar,pnl_total,"));
  CHECK_THAT(csv, Catch::Contains("\n1,0.4,,,7,"));
}

TEST_CASE("issue 14: a sweep's best row equals a single backtest with its params, however many run at once",
          "[sweep][in_process]") {
  services::SweepConfig cfg{.base = base_config(),
                            .strategy = "ma_cross",
                            .grid = services::expand_grid({services::parse_axis("fast=3,5,8"),
                                                           services::parse_axis("slow=20,40")}),
                            .jobs = 2};
  const auto rows = services::run_sweep(cfg);
  REQUIRE(rows.size() == 6);
  for (const auto& r : rows) {
    INFO(r.params.describe() << ": " << r.error);
    CHECK(r.error.empty());
    CHECK(r.totals.fills > 0);
  }
  const auto order = services::rank_rows(rows, services::rank_stat("pnl_total"));
  const auto& best = rows[order.front()];
  CHECK(best.totals.pnl_total >= rows[order.back()].totals.pnl_total);
  // Different params give different runs (the sweep really varies them).
  CHECK(rows[0].totals.fills != rows[5].totals.fills);

  const auto alone = single_run(base_config(), best.params);
  CHECK(alone.pnl_total == best.totals.pnl_total);
  CHECK(alone.pnl_realized == best.totals.pnl_realized);
  CHECK(alone.max_drawdown == best.totals.max_drawdown);
  CHECK(alone.fills == best.totals.fills);
  CHECK(alone.round_trips == best.totals.round_trips);
  CHECK(alone.expectancy == best.totals.expectancy);

  // One at a time gives the same rows.
  cfg.jobs = 1;
  const auto serial = services::run_sweep(cfg);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    INFO("row " << i);
    CHECK(serial[i].totals.pnl_total == rows[i].totals.pnl_total);
    CHECK(serial[i].totals.fills == rows[i].totals.fills);
  }
}

TEST_CASE("a sweep row whose params the strategy refuses fails alone, naming the param", "[sweep][in_process]") {
  services::SweepConfig cfg{.base = base_config(),
                            .strategy = "ma_cross",
                            .grid = services::expand_grid({services::parse_axis("fast=3,50"),
                                                           services::parse_axis("slow=20")}),
                            .jobs = 2};
  cfg.base.limit = 500;
  const auto rows = services::run_sweep(cfg);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].error.empty());
  CHECK_THAT(rows[1].error, Catch::Contains("slow"));  // fast 50 >= slow 20
}
