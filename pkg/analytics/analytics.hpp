/// @file analytics.hpp
/// @brief The statistics quants expect of a session (issue 14): equity curve, Sharpe,
/// Sortino, Calmar, drawdown and its duration, round trips (win rate, profit factor,
/// expectancy), time in the market, turnover, commission and slippage, rejections by
/// reason; for the totals, per symbol and per strategy_id. docs/statistics.md defines
/// every figure with its source.
///
/// Input: the session's event log in EVENT-TIME order (docs/architecture.md, "Event
/// time"; tooling/report.hpp sorts a stored or in-process log so), as typed messages
/// (on_market_data, on_execution) or as logged JSON (on_event: subject + payload,
/// decoded with codec::Decoder). Market data goes through core::MarketCheck as in every
/// worker: a flagged message is not used (counted in `warnings`). P&L comes from
/// portfolio::Portfolio (one for the total, one per symbol, one per strategy_id), so
/// the totals are the reporter's figures exactly (pnl, fills, orders, max drawdown).
///
/// Conventions (all in docs/statistics.md):
///  - money, prices and quantities are exact core::Decimal in the one reporting
///    currency (Settings::base_currency, a label: no conversion is made); ratios and
///    percentages are double, percentages as fractions (0.004 = 0.4 %);
///  - an execution report without a strategy_id (a person's order) counts under the
///    strategy_id "manual";
///  - times are int64 ns UTC from the events (ts_event); no clock is read;
///  - equity = starting_capital + total P&L (realized net of commissions + unrealized);
///  - returns are DAILY: the equity at the close of each UTC day that has events (its
///    last event), r_d = E_d / E_(d-1) - 1, E_0 = starting_capital; days without any
///    event (weekends of FX and equities) are not periods; annualized with N =
///    periods_per_year;
///  - Sharpe (Sharpe, "The Sharpe Ratio", J. Portfolio Management 21(1), 1994; ex post):
///    mean(r - rf) / stdev(r - rf) x sqrt(N), stdev the sample standard deviation
///    (n - 1), rf = risk_free_rate / N per period;
///  - Sortino (Sortino & Price, "Performance Measurement in a Downside Risk Framework",
///    J. Investing 3(3), 1994): (mean(r) - T) / DD x sqrt(N), target T = rf per period,
///    DD = sqrt(sum over ALL n periods of min(0, r - T)^2 / n);
///  - Calmar (Young, "Calmar Ratio: A Smoother Tool", Futures 20(1), 1991): annualized
///    return / max_drawdown_pct, over the whole span (not Young's 36 months);
///    annualized return = (E_end / starting_capital)^(N / n) - 1 over n daily returns;
///  - a statistic that needs >= 2 returns (annualized return, Sharpe, Sortino, Calmar)
///    or whose denominator is 0 is nullopt, and `warnings` says why;
///  - drawdown = peak equity - equity (portfolio::drawdown); max_drawdown in money (the
///    reporter's figure), max_drawdown_pct = max over time of drawdown / peak equity,
///    max_drawdown_duration_ns from the peak before the largest money drawdown to the
///    first time equity is back at that peak, or to the end of the span if never;
///  - round trips as LEAN's default (FillGroupingMethod.FlatToFlat, FIFO matching): per
///    (strategy_id, symbol) a round trip opens when the position leaves zero and closes
///    when it returns to zero; a fill through zero closes one and opens the next (its
///    commission split by quantity). pnl = direction x (exit notional - entry notional)
///    + dividends while open - the commissions of its fills; entry/exit px are volume-weighted; wins pnl > 0,
///    losses pnl < 0 (0 is neither); positions still open at the end are not round
///    trips (a warning says so);
///  - slippage per fill vs the touch at fill time: buy (last_px - ask) x last_qty, sell
///    (bid - last_px) x last_qty, from the latest quote (or bid/ask bars) of the symbol;
///    0 where none is known (trade or trade-bar data). Positive = paid;
///  - turnover = gross notional traded / starting_capital; time in the market = the
///    fraction of the span (first to last event) with a non-zero position;
///  - periods_per_year 0 = auto: 365 if any market data falls on a Saturday (UTC) or on a
///    Sunday before 17:00 UTC (crypto trades through the weekend; the FX week opens on
///    Sunday evening UTC, which does not count), else 252. A bar counts at its start
///    (ts_start, else ts_event - 1 ns: a Friday's daily bar ends at Saturday 00:00).
///
/// Errors: nothing throws except std::bad_alloc and core::ArithmeticError (a figure out
/// of the 128-bit Decimal range, unreachable with wire-range inputs). A logged event that
/// does not decode is skipped and counted in `warnings`.
/// Thread-safety: Analyzer has none (one owner thread); the free functions are pure and
/// reentrant.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/decimal.hpp"
#include "core/market_check.hpp"
#include "core/messages.hpp"
#include "core/time.hpp"
#include "portfolio/portfolio.hpp"

namespace analytics {

struct Settings {
  core::Money starting_capital = core::Decimal::from_int(1'000'000);  ///< > 0
  std::string base_currency = "USD";  ///< the account currency every figure is in (valuation's base)
  /// Each symbol's quote currency and multiplier, configured rates (portfolio/fx.hpp): P&L
  /// in other currencies is converted into base_currency (its base_currency is overridden
  /// by the one above). Default: every symbol in base_currency, multiplier 1.
  portfolio::Valuation valuation;
  int periods_per_year = 0;           ///< 0 = auto (365 or 252, see the file comment)
  double risk_free_rate = 0;          ///< annual, a fraction (0.02 = 2 %)
};

/// The figures of one scope (the totals, a symbol or a strategy_id). Keys as in the JSON.
struct Stats {
  core::Money pnl_total, pnl_realized, pnl_unrealized;  ///< realized is net of commissions
  core::Money pnl_realized_gross;  ///< realized before commissions (pnl_realized + commission)
  core::Money commission, slippage, gross_notional_traded;
  core::Money dividends;  ///< received (+) or paid on shorts (-), in pnl_realized
  double turnover = 0;
  std::optional<double> return_pct;             ///< pnl_total / starting_capital
  std::optional<double> annualized_return_pct;  ///< needs >= 2 daily returns
  std::optional<double> sharpe, sortino, calmar;
  core::Money max_drawdown;
  double max_drawdown_pct = 0;
  core::DurationNs max_drawdown_duration_ns = 0;
  std::int64_t round_trips = 0, wins = 0, losses = 0;
  std::optional<double> win_rate;       ///< wins / round_trips; nullopt with none
  std::optional<double> profit_factor;  ///< gross profit / |gross loss|; nullopt when no loss
  core::Money expectancy, avg_win, avg_loss;  ///< mean pnl per round trip / win / loss (0 when none)
  double time_in_market_pct = 0;
  std::int64_t fills = 0, orders = 0, orders_denied = 0, orders_rejected = 0;
  std::int64_t daily_returns = 0;       ///< how many returns Sharpe etc. were computed from
  /// P&L per quote currency and its conversion (portfolio::Portfolio::snapshot); one entry
  /// per currency traded.
  std::vector<core::CurrencyPnl> currencies;
};

struct EquityPoint {
  core::TimestampNs ts = 0;
  core::Money equity, pnl, drawdown;
  double drawdown_pct = 0;
};

struct PositionPoint {
  core::TimestampNs ts = 0;
  std::string symbol, strategy_id;
  core::Quantity quantity;  ///< signed position of (strategy_id, symbol) after the fill
};

struct FillRow {
  core::TimestampNs ts = 0;
  std::string symbol, strategy_id, client_order_id;
  core::Side side = core::Side::buy;
  core::Quantity quantity;
  core::Price price;
  core::Money commission;
  core::Money slippage;
};

struct PricePoint {
  core::TimestampNs ts = 0;
  std::string symbol;
  core::Price price;  ///< the mark: quote mid, trade price, bar close (bid/ask bars: mid)
};

struct RoundTrip {
  std::string symbol, strategy_id;
  bool is_long = true;  ///< direction: "long" | "short"
  core::Quantity quantity;  ///< total entered (= total exited)
  core::TimestampNs entry_ts = 0, exit_ts = 0;
  core::Price entry_px, exit_px;  ///< volume-weighted
  core::Money pnl;          ///< net of `commission`, dividends while open included; base currency
  core::Money commission;   ///< base currency
  core::DurationNs holding_ns = 0;
  std::string currency;     ///< the symbol's quote currency
  core::Money pnl_in_currency;  ///< pnl in `currency` (exact); pnl = this x the rate at the exit
};

struct Rejection {
  std::string exec_type;  ///< "denied" | "rejected"
  std::string reason;     ///< the execution report's text
  std::int64_t count = 0;
};

struct DataQualityKind {
  std::string kind;
  std::int64_t count = 0;
  std::vector<std::int64_t> lines;
};

struct DataQuality {
  std::int64_t dropped = 0, flagged = 0;
  std::vector<DataQualityKind> by_kind;
};

struct SymbolStats {
  std::string symbol;
  Stats stats;
};
struct StrategyStats {
  std::string strategy_id;
  Stats stats;
};

/// Everything to_json writes: the analysis JSON that pkg/reportpage reads (its keys and
/// limits: docs/statistics.md, "Outputs").
struct Analysis {
  std::string title;
  std::string session_id;
  bool is_final = false;  ///< "final" if the session ended (session.ended seen), else "interim"
  Settings settings;    ///< periods_per_year resolved (never 0 here)
  core::TimestampNs first_ts = 0, last_ts = 0;
  Stats totals;
  std::vector<SymbolStats> per_symbol;      ///< sorted by symbol
  std::vector<StrategyStats> per_strategy;  ///< sorted by strategy_id
  std::vector<Rejection> rejections;        ///< by exec_type, then count descending, then reason
  std::vector<std::string> warnings;
  DataQuality data_quality;
  /// Every change of the total equity (and every fill's time), in event-time order; to_json
  /// downsamples it to <= 5000 points (first, last and every fill's time kept).
  std::vector<EquityPoint> equity_curve;
  std::vector<PositionPoint> positions;     ///< one per fill
  std::vector<FillRow> fills;
  std::vector<PricePoint> prices;           ///< every mark; to_json keeps <= 2000 per symbol (first, last, fills)
  std::vector<RoundTrip> round_trips;       ///< by exit time
};

/// Feeds on a session's log and computes an Analysis at any time.
class Analyzer {
 public:
  /// Throws std::invalid_argument if starting_capital <= 0 or periods_per_year < 0.
  explicit Analyzer(Settings s = {});
  ~Analyzer();
  Analyzer(Analyzer&&) noexcept;
  Analyzer& operator=(Analyzer&&) noexcept;

  void on_market_data(const core::MarketData& md);
  /// A split or dividend (core::CorporateAction), applied as the reporter does
  /// (portfolio::Portfolio::on_action); an open round trip's quantities follow a split, and
  /// a dividend received (or paid, short) while it is open counts in its pnl.
  void on_corporate_action(const core::CorporateAction& a);
  /// A warning from outside the log (e.g. the feed's suspected splits), listed after the own.
  void add_warning(std::string w);
  void on_execution(const core::ExecutionReport& r);
  /// The session ended (session.ended): the analysis is "final".
  void on_session_ended();
  /// One logged event: market.data.* (quote, trade, bar, corporate_action whose symbol is
  /// the subject's; instrument_status ignored),
  /// trading.executions (execution_report), session.lifecycle (session.ended); any other
  /// subject is ignored. A payload that does not decode is skipped and counted.
  void on_event(std::string_view subject, std::string_view json);
  /// The session's feed.summary (data quality), when it has one.
  void set_data_quality(DataQuality dq);

  /// The analysis of everything fed so far (the current day counts as closed). O(events).
  Analysis analysis(std::string title = {}, std::string session_id = {}) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Statistics of a series of periodic returns (fractions), annualized with `n_per_year`.
/// nullopt (with the reason in `why`) when undefined. Pure; formulas in the file comment.
std::optional<double> sharpe_ratio(const std::vector<double>& returns, int n_per_year, double risk_free_rate,
                                   std::string* why = nullptr);
std::optional<double> sortino_ratio(const std::vector<double>& returns, int n_per_year, double risk_free_rate,
                                    std::string* why = nullptr);
/// (end / start)^(n_per_year / periods) - 1; nullopt for periods < 2 or start <= 0.
std::optional<double> annualized_return(core::Money start, core::Money end, std::int64_t periods, int n_per_year);
/// a / b as a double, from the exact decimals (b != 0). Pure.
double ratio(core::Decimal a, core::Decimal b);

/// The analysis as JSON: the contract the report page reads (docs/statistics.md, "Outputs"):
/// decimals as strings, ratios as numbers or null, ns UTC times, every string escaped. Pure.
std::string to_json(const Analysis& a);
/// The round trips as CSV, one header line:
/// symbol,strategy_id,direction,quantity,entry_ts,exit_ts,entry_px,exit_px,pnl,commission,holding_ns
std::string trades_csv(const Analysis& a);
/// The whole equity curve as CSV: ts,equity,pnl,drawdown,drawdown_pct
std::string equity_csv(const Analysis& a);
/// A compact table for the terminal: totals, per symbol, per strategy, rejections by
/// reason, warnings.
std::string to_text(const Analysis& a);

}  // namespace analytics
