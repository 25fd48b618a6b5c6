/// @file ma_cross.hpp
/// @brief Example strategy: simple-moving-average crossover, always in the market after the first cross.
///
/// Per symbol it keeps the last `slow` prices and two exact running sums. Once
/// `slow` prices have been seen, fast SMA = sum(last fast) / fast and slow SMA =
/// sum(last slow) / slow (core::Decimal div, half-even to 8 digits). The sign of
/// fast - slow is remembered; a CROSS is a change of that sign between two
/// observations (ties keep the previous sign, the first observation only sets it):
///   - cross up   (fast goes above slow) -> target position +quantity (buy);
///   - cross down (fast goes below slow) -> target position -quantity (sell).
/// The order is for target - position (from flat: quantity; to flip: 2 x quantity),
/// a market order with time_in_force ioc, client_order_id
/// "<strategy_id>-<symbol>-<n>" with n = 1, 2, ... per symbol, ts_event = the
/// market event's ts_event. A cross is deferred, not dropped, while an order for
/// the symbol is in flight (until on_execution sees a terminal order_status for it)
/// or while fewer than `min_events_between_orders` prices arrived since the last
/// order: at the first price after that, the strategy trades toward the target of
/// the CURRENT sign (nothing if the position already matches). So the position
/// follows the signal whatever the bus latency; an order that was denied or
/// canceled unfilled is not retried until the next cross.
/// Reference: the textbook dual moving-average crossover (e.g. Murphy, "Technical
/// Analysis of the Financial Markets", ch. 9).
///
/// Prices fed: quote mid (bid + ask) / 2, trade price, trade/mid bar close; for
/// bid/ask bars the mid of the bid and ask closes, fed once when both bars of one
/// ts_event (bar end) have arrived, in either order.
///
/// Pure: no clock, no I/O, no randomness; symbols are kept in std::map.
/// Errors: only the constructor throws (std::invalid_argument); the rest throws
/// nothing except std::bad_alloc and core::ArithmeticError beyond the 128-bit Decimal
/// range (decimal.hpp).
/// Thread-safety: none. One owner thread calls every member (single writer).
///
/// On the Strategy API (strategy.hpp) it is the built-in `ma_cross` (MaCrossStrategy):
/// the same class behind the API, its orders submitted with its own ids
/// "<strategy_id>-<symbol>-<n>". Params: fast (20), slow (100), quantity (1000),
/// min_events_between_orders (0), as in MaCrossConfig.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <optional>
#include <string>

#include "core/decimal.hpp"
#include "core/messages.hpp"
#include "core/time.hpp"
#include "strategy/registry.hpp"
#include "strategy/strategy.hpp"

namespace strategy {

struct MaCrossConfig {
  std::size_t fast = 20;                                    ///< prices in the fast SMA, >= 1
  std::size_t slow = 100;                                   ///< prices in the slow SMA, > fast
  core::Quantity quantity = core::Decimal::from_int(1000);  ///< target |position|, > 0
  std::string strategy_id = "ma_cross";
  std::size_t min_events_between_orders = 0;  ///< prices that must arrive after an order before the next
};

class MaCross {
 public:
  /// Throws std::invalid_argument if fast == 0, slow <= fast or quantity <= 0
  /// (a configuration error found at startup, STYLE.md section 6).
  explicit MaCross(MaCrossConfig cfg);

  /// Feed one market event; returns the order to submit if this price makes a cross
  /// that is acted on (see the file comment), else nullopt.
  std::optional<core::OrderSubmit> on_quote(const core::Quote& q);
  std::optional<core::OrderSubmit> on_trade(const core::Trade& t);
  std::optional<core::OrderSubmit> on_bar(const core::Bar& b);
  /// Feed a plain price for `symbol` at `ts` (ns UTC); the on_* functions call this.
  std::optional<core::OrderSubmit> on_price(const std::string& symbol, core::Price px,
                                            core::TimestampNs ts);

  /// Reports for this strategy (strategy_id == config's) update its position from
  /// fills (last_qty > 0) and clear the in-flight order on a terminal order_status.
  /// Other reports are ignored.
  void on_execution(const core::ExecutionReport& r);

  /// A split of a symbol (core::CorporateAction; dividends change nothing here): its
  /// position is multiplied by the ratio and the prices of its SMA windows divided by it
  /// (the sums recomputed from the window), so the split is no cross.
  void on_action(const core::CorporateAction& a);

  /// Signed position from this strategy's fills (0 if unknown).
  /// After a rebuild from the event log (services::StrategyService): at least
  /// `orders_sent` orders were sent on `symbol` (the next id is numbered after them,
  /// so a restarted strategy never reuses a client_order_id), and `in_flight` is the
  /// order still waiting for a final report, as the log says (nullopt: none).
  void restore(const std::string& symbol, std::uint64_t orders_sent, std::optional<std::string> in_flight);

  core::Quantity position(const std::string& symbol) const;
  /// client_order_id of the order in flight for `symbol`, if any.
  std::optional<std::string> in_flight(const std::string& symbol) const;
  /// Current SMAs, or nullopt until `slow` prices were seen.
  std::optional<core::Price> fast_sma(const std::string& symbol) const;
  std::optional<core::Price> slow_sma(const std::string& symbol) const;
  const MaCrossConfig& config() const;

 private:
  struct SymbolState {
    std::deque<core::Price> window;  ///< last <= slow prices, oldest first
    core::Money fast_sum;
    core::Money slow_sum;
    int sign = 0;  ///< last non-zero sign of fast - slow; 0 = not observed yet
    bool cross_pending = false;  ///< a cross not yet acted on (order in flight, or too soon)
    core::Quantity position;
    std::optional<std::string> in_flight;
    std::uint64_t orders_sent = 0;
    std::size_t events_since_order = std::numeric_limits<std::size_t>::max();
    std::optional<core::Price> bid_close, ask_close;
    core::TimestampNs bid_ts = 0, ask_ts = 0;
    std::optional<core::TimestampNs> bar_fed_ts;
  };

  MaCrossConfig cfg_;
  std::map<std::string, SymbolState> symbols_;
};

/// MaCross on the Strategy API: each order it decides is submitted as it is (its id, its
/// ts_event), reports reach its on_execution.
class MaCrossStrategy : public Strategy {
 public:
  /// Throws std::invalid_argument as MaCross does.
  explicit MaCrossStrategy(MaCrossConfig cfg) : impl_(std::move(cfg)) {}
  void on_quote(const core::Quote& q, Context& ctx) override { send(impl_.on_quote(q), ctx); }
  void on_trade(const core::Trade& t, Context& ctx) override { send(impl_.on_trade(t), ctx); }
  void on_bar(const core::Bar& b, Context& ctx) override { send(impl_.on_bar(b), ctx); }
  void on_execution(const core::ExecutionReport& r, Context&) override { impl_.on_execution(r); }
  void on_corporate_action(const core::CorporateAction& a, Context&) override { impl_.on_action(a); }
  const MaCross& crossover() const noexcept { return impl_; }

 private:
  static void send(std::optional<core::OrderSubmit> o, Context& ctx) {
    if (o) ctx.submit(std::move(*o));
  }
  MaCross impl_;
};

/// Params fast, slow, quantity, min_events_between_orders (see MaCrossConfig) ->
/// MaCrossConfig with `strategy_id`. Throws std::invalid_argument naming the param.
MaCrossConfig ma_cross_config(const Params& p, const std::string& strategy_id);
/// The built-in `ma_cross` for the registry.
Registration ma_cross_registration();

}  // namespace strategy
