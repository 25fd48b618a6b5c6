/// @file pre_trade.hpp
/// @brief Pre-trade risk: approves or denies each order before it reaches the venue,
///        and moves the trading state by itself on a daily loss or a drawdown.
///
/// Pure (STYLE.md section 4): no clock, no I/O, no logging. Time comes from the
/// events' `ts_event`. State is rebuilt by replaying the same market data, approved
/// orders, execution reports, state changes and policy updates.
/// A refusal is data (`Decision{approved = false, reason}`), never an exception
/// (STYLE.md section 6); the service turns it into an `ExecutionReport` with
/// exec_type `denied` (see `denied_report`). Cancels are never checked here.
///
/// Every denial text starts with the name of the check that denied, then the value
/// and the limit: `"<check>: <what> <value> exceeds limit <limit>"` (see `check`).
/// A value equal to its limit passes; only "exceeds" denies. Every limit added
/// after the first version defaults to "off" (std::nullopt or 0), so a default
/// policy behaves exactly as `Limits{}` always did.
///
/// Errors: no member throws except std::bad_alloc; Decimal overflow aborts.
/// Memory: one entry per symbol, per open order and per order approved within
/// the rate window of each strategy.
/// Thread-safety: none. One owner thread calls every member (single writer).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/decimal.hpp"
#include "core/enums.hpp"
#include "core/messages.hpp"
#include "core/result.hpp"
#include "core/risk_policy.hpp"
#include "core/top_of_book.hpp"
#include "core/time.hpp"
#include "portfolio/portfolio.hpp"

namespace risk {

/// The policy types live in core/risk_policy.hpp (the wire messages carry them);
/// these names keep the risk library's spelling.
using core::Limits;
using core::RiskPolicy;
using core::SymbolLimits;

/// Checks a policy before it is installed (the service rejects a bad policy
/// update with this error and keeps the old policy). Requires max_order_qty,
/// max_order_notional and every set optional to be > 0, the counts to be >= 0 and
/// rate_window_ns > 0. Error.field is the JSON path, e.g. "defaults.max_position"
/// or "per_symbol.AAPL.price_band_bps". Pure.
/// @return std::nullopt if valid, else the first problem found.
std::optional<core::Error> validate(const RiskPolicy& p);

/// Outcome of `RiskEngine::check`. `reason` is "" when approved.
struct Decision {
  bool approved;
  std::string reason;
};

class RiskEngine {
 public:
  /// Starts in TradingState::active with reason "", policy{.defaults = limits},
  /// no positions, prices, open orders or P&L. Automatic transitions are armed.
  explicit RiskEngine(Limits limits);

  /// Runs every check without recording anything (a query); the first failing
  /// one wins, in this order (L = policy().for_symbol(o.symbol)):
  ///  1. state:     halted -> "trading halted: <state_reason()>".
  ///  2. quantity:  quantity > L.max_order_qty ->
  ///                "max_order_qty: quantity <q> exceeds limit <limit>".
  ///  3. reference: the price used for notional is the limit_price of a limit or
  ///                stop-limit order, else (market, stop) the ask for a buy / bid for a
  ///                sell from the symbol's latest market data; none -> "no reference price for <symbol>".
  ///  4. notional:  |quantity| x price > L.max_order_notional ->
  ///                "max_order_notional: notional <n> exceeds limit <limit>"
  ///                (notional as defined in portfolio::notional, multiplier 1; exact
  ///                Decimal mul rounded half-even to 8 digits).
  ///  5. price band (orders with a limit_price: limit, stop_limit; when
  ///                L.price_band_bps is set): the distance
  ///                |limit_price - mid| x 10000 / mid (bps, Decimal rounded to 8 digits)
  ///                > band -> "price_band: limit_price <p> is <d> bps from mid <m>, band
  ///                <b> bps" (<d> shown rounded UP to 2 decimals, so it always reads
  ///                above the band). mid = (bid + ask) / 2, or the one side known (bid
  ///                or ask bar files), by the core::TopOfBook rule. No market data for
  ///                the symbol -> "price_band: no reference mid for <symbol>".
  ///  6. reducing:  in reducing state the order must shrink |position| without flipping it:
  ///                "reducing: order would increase position" (same side as the position,
  ///                or position flat) or "reducing: order would flip position".
  ///  7. position:  after = position + signed quantity; |after| > L.max_position and
  ///                |after| > |position| (an order that shrinks the position always
  ///                passes) -> "max_position: position after fill <after> exceeds limit <l>".
  ///  8. gross:     sum over symbols of |position| x mark, with this symbol's position
  ///                replaced by `after` -> if > max_gross_exposure and above the gross
  ///                exposure before the order -> "max_gross_exposure: gross exposure
  ///                after fill <g> exceeds limit <l>". mark = mid (as in 5), else the
  ///                last fill price of the symbol, else (order symbol only) the price of 3.
  ///  9. open orders: open_orders() + 1 > max_open_orders ->
  ///                "max_open_orders: open orders after approval <n> exceeds limit <l>".
  /// 10. rate:      n = orders approved for o.strategy_id with ts_event in
  ///                (o.ts_event - rate_window_ns, o.ts_event], plus this one;
  ///                n > max_orders_per_window -> "max_orders_per_window: <n> orders in
  ///                <window> for strategy <strategy_id or manual>, limit <l>"; the window
  ///                reads "1s", "250ms", "10us" or "7ns" (largest exact unit).
  /// Quantity positivity and limit_price presence are the venue's checks (it rejects).
  /// Positions are from fills only; in-flight orders are bounded by checks 9 and 10.
  Decision check(const core::OrderSubmit& o) const;

  /// check(o), and on approval on_approved(o). What the service calls per order.
  Decision decide(const core::OrderSubmit& o);

  /// Records an approved order: it counts as open (check 9) until an execution report
  /// with a terminal order_status names its client_order_id, and its ts_event enters
  /// the rate window of its strategy_id (check 10). Call it when replaying approved
  /// orders (trading.orders.approved); decide() calls it itself. Ages out rate-window
  /// entries older than the newest ts_event of that strategy minus the window.
  void on_approved(const core::OrderSubmit& o);

  /// Reference prices per symbol, by the rule of core::TopOfBook (the same one the
  /// paper broker fills by); marks P&L as portfolio::Portfolio does and evaluates the
  /// automatic transitions (see take_transitions).
  void on_quote(const core::Quote& q);
  void on_trade(const core::Trade& t);
  void on_bar(const core::Bar& b);

  /// Tracks the net position per symbol from fills (reports with last_qty > 0):
  /// buy adds last_qty, sell subtracts it, and P&L (portfolio::Portfolio::on_fill),
  /// then evaluates the automatic transitions. A report with a terminal order_status
  /// (except exec_type denied, which risk wrote itself, and cancel_rejected) closes one
  /// open order of that client_order_id. Other reports are ignored.
  void on_execution(const core::ExecutionReport& r);

  /// Transition to `s` at time `ts` (ns UTC) by a person or at start-up (source
  /// "manual", "startup", ...). Records `reason` as state_reason(). Setting `active`
  /// (even when already active) re-arms both automatic triggers.
  /// @return the RiskStateChanged to publish (previous_state = the old state), or
  ///   nullopt if `s` equals the current state (nothing changes, reason kept).
  std::optional<core::RiskStateChanged> set_state(core::TradingState s, std::string reason,
                                                  std::string source, core::TimestampNs ts);

  /// Automatic transitions (crisis mode) made since the last call, oldest first;
  /// the caller publishes each on risk.state and records it. Drains the queue.
  ///
  /// Evaluated after every fill and every mark (market data), at that event's ts_event:
  ///  - daily loss = equity at the start of the UTC day of the event - equity now
  ///    (equity = total P&L since the engine started, portfolio rules). When it is
  ///    >= daily_loss_limit and the state is not halted -> halted, reason
  ///    "daily_loss_limit: loss <l> since <day start ISO-8601> reaches limit <limit>".
  ///  - drawdown = peak equity - equity now (portfolio::drawdown; peak since start).
  ///    When it is >= max_drawdown and the state is active -> reducing, reason
  ///    "max_drawdown: drawdown <d> from peak equity <p> reaches limit <limit>".
  ///    Reducing, not halted: the desk may still unwind; a further loss that reaches
  ///    daily_loss_limit halts it.
  /// Every event has source "auto". Automatic transitions only tighten
  /// (active -> reducing -> halted): they never move to active, so they never undo a
  /// person's halt. A trigger that fired is latched until a person sets `active`,
  /// so a person may loosen an automatic halt to reducing to unwind. Re-arming resets
  /// no figure: resuming while a figure is still at its limit trips it again on the
  /// next fill or mark; raise the limit (set_policy) or wait for the next UTC day.
  std::vector<core::RiskStateChanged> take_transitions();

  /// Replaces the whole policy (run-time update). Takes effect for the next check and
  /// the next evaluation of the automatic triggers; positions, open orders, rate
  /// windows and the state are kept (a longer rate window sees only the approvals
  /// still kept under the old one). Precondition: validate(p) is nullopt.
  void set_policy(RiskPolicy p);
  const RiskPolicy& policy() const;

  core::TradingState state() const;
  const std::string& state_reason() const;
  /// policy().defaults.
  const Limits& limits() const;
  /// Signed net position (+ long, - short) of `symbol` from fills; 0 if never traded.
  core::Quantity position(const std::string& symbol) const;
  /// The price `check` would use for notional, or nullopt (see check, step 3).
  std::optional<core::Price> reference_price(const core::OrderSubmit& o) const;
  /// Orders approved and not yet terminal.
  std::int64_t open_orders() const;
  /// Total P&L (realized + unrealized) since start, and its running peak.
  core::Money equity() const;
  core::Money peak_equity() const;
  /// Equity at the start of the current UTC day (of the latest event time).
  core::Money day_start_equity() const;

 private:
  Decision evaluate(const core::OrderSubmit& o) const;
  std::optional<core::Price> mid(const std::string& symbol) const;
  std::optional<core::Price> mark(const std::string& symbol) const;
  void roll_day(core::TimestampNs ts);
  void revalue(bool changed, core::TimestampNs ts);
  void transition(core::TradingState s, std::string reason, core::TimestampNs ts);

  RiskPolicy policy_;
  core::TradingState state_ = core::TradingState::active;
  std::string state_reason_;
  std::map<std::string, core::TopOfBook> refs_;  ///< by symbol
  std::map<std::string, core::Quantity> positions_;  ///< by symbol, signed
  std::map<std::string, core::Price> last_fill_px_;  ///< by symbol
  std::map<std::string, std::int64_t> open_;  ///< client_order_id -> approvals not yet terminal
  std::int64_t open_count_ = 0;
  std::map<std::string, std::multiset<core::TimestampNs>> rate_;  ///< by strategy_id
  portfolio::Portfolio pnl_;
  core::Money equity_;
  core::Money peak_;
  core::Money day_start_equity_;
  std::optional<std::int64_t> day_;  ///< UTC day number of the latest event
  bool daily_armed_ = true;
  bool drawdown_armed_ = true;
  std::vector<core::RiskStateChanged> pending_;
};

/// Builds the report the service publishes for a denied order: exec_type and
/// order_status `denied`, text = reason, cum/leaves/avg 0, order fields copied,
/// exec_id "<client_order_id>-denied", ts_event = ts. Pure; never throws.
core::ExecutionReport denied_report(const core::OrderSubmit& o, std::string reason,
                                    core::TimestampNs ts);

}  // namespace risk
