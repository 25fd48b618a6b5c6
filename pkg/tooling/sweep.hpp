/// @file sweep.hpp
/// @brief `traderctl sweep FILE --strategy NAME --param fast=5,10,20 --param slow=50,100`:
/// a parameter sweep of in-process backtests (tooling/in_process.hpp), run in parallel on
/// every core, ranked by a chosen statistic (analytics/analytics.hpp) and written as CSV.
///
/// Each combination of the grid is one in-process backtest of the same file with the same
/// settings, only the strategy's params differ; its analysis is that of `traderctl
/// backtest FILE --in-process --strategy NAME --param ...` with those params (the same
/// code, so a sweep's row equals the single run: tests/tooling/sweep_test.cpp checks it).
/// Runs are independent (run_in_process is reentrant: its own bus and workers), so the
/// results do not depend on how many run at once or in which order they finish.
///
/// Errors: expand_grid and parse_axis throw std::invalid_argument naming the bad param; a
/// run that throws is reported in its row's `error` (the sweep goes on).
/// Thread-safety: run_sweep starts `jobs` threads of its own and joins them before it
/// returns; the other functions are pure.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analytics/analytics.hpp"
#include "strategy/strategy.hpp"
#include "tooling/in_process.hpp"

namespace services {

/// One swept parameter: its key and the values to try, in the order given.
struct SweepAxis {
  std::string key;
  std::vector<std::string> values;
};

/// "fast=5,10,20" -> {fast, [5, 10, 20]}; "quantity=1000" -> one value. Throws
/// std::invalid_argument: no '=', an empty key or value, a value given twice.
SweepAxis parse_axis(std::string_view text);

/// Every combination of `axes` (the first axis varies slowest), each on top of `fixed`.
/// Throws std::invalid_argument: a key swept twice, or more than `max_runs` combinations.
std::vector<strategy::Params> expand_grid(const std::vector<SweepAxis>& axes, const strategy::Params& fixed = {},
                                          std::size_t max_runs = 10'000);

/// The statistics a sweep ranks by (keys of the analysis' STATS, docs/statistics.md) and
/// whether more is better: sharpe, sortino, calmar, pnl_total, pnl_realized, return_pct,
/// annualized_return_pct, win_rate, profit_factor, expectancy (higher is better);
/// max_drawdown, max_drawdown_pct, commission (lower is better).
struct RankStat {
  std::string name;
  bool higher_is_better = true;
};
/// Throws std::invalid_argument listing the known names.
RankStat rank_stat(std::string_view name);
/// The value of `stat` in `s` (money as its exact decimal converted for ranking only),
/// nullopt where the analysis has none (e.g. Sharpe of a one-day run).
std::optional<double> stat_value(const analytics::Stats& s, const RankStat& stat);

struct SweepRow {
  std::size_t index = 0;       ///< position in the grid (expand_grid's order)
  strategy::Params params;     ///< the whole params of this run
  analytics::Stats totals;     ///< the run's totals (analytics)
  std::string error;           ///< "" = ran; else why the run failed
};

struct SweepConfig {
  InProcessConfig base;           ///< the file and every worker's settings (strategies replaced per run)
  std::string strategy;           ///< the registered name (strategy_id = the name)
  std::vector<strategy::Params> grid;  ///< expand_grid's combinations
  analytics::Settings settings;   ///< the analysis' capital and annualization
  unsigned jobs = 0;              ///< threads (0 = std::thread::hardware_concurrency, at least 1)
};

/// Runs every combination; rows in grid order. Never throws for a failing run (its row
/// says why); throws std::invalid_argument for an empty grid.
std::vector<SweepRow> run_sweep(const SweepConfig& cfg);

/// Row indexes best first by `stat`, then the rows without a value of it, then the failed
/// ones; ties kept in grid order.
std::vector<std::size_t> rank_rows(const std::vector<SweepRow>& rows, const RankStat& stat);

/// The ranked table as CSV: rank, every swept key, then the statistics (sharpe, sortino,
/// calmar, pnl_total, return_pct, max_drawdown, max_drawdown_pct, round_trips, win_rate,
/// profit_factor, expectancy, commission, fills, orders_rejected), then error. Values as
/// in the JSON (decimals exact, null as empty).
std::string sweep_csv(const std::vector<SweepRow>& rows, const std::vector<std::size_t>& order,
                      const std::vector<std::string>& keys);

/// The same as a table for the terminal (the best `limit` rows; 0 = all).
std::string sweep_table(const std::vector<SweepRow>& rows, const std::vector<std::size_t>& order,
                        const std::vector<std::string>& keys, std::size_t limit = 20);

/// `traderctl sweep FILE --strategy NAME --param KEY=V1,V2,... [--param ...] [--rank STAT]
/// [--csv FILE|-] [--jobs N] [--limit N] [--actions FILE] [--capital X] [--periods-per-year N]`:
/// prints the ranked table and the best row's single-backtest command, writes the CSV
/// (default sweep-<NAME>.csv in the current directory). Every other worker setting comes
/// from the environment and TRADER_CONFIG, as for `backtest --in-process`. Returns the exit
/// code: 0, 1 if every run failed; throws std::invalid_argument for bad arguments (the
/// caller prints the usage, exit 2) and what the file or a bad setting throws.
int sweep_command(const std::vector<std::string>& args);

}  // namespace services
