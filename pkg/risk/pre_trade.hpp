/// @file pre_trade.hpp
/// @brief Pre-trade risk: approves or denies each order before it reaches the venue.
///
/// Pure (STYLE.md section 4): no clock, no I/O, no logging. State is rebuilt by
/// replaying the same market data, execution reports and state changes.
/// A refusal is data (`Decision{approved = false, reason}`), never an exception
/// (STYLE.md section 6); the service turns it into an `ExecutionReport` with
/// exec_type `denied` (see `denied_report`). Cancels are never checked here.
///
/// Errors: no member throws except std::bad_alloc; Decimal overflow aborts.
/// Thread-safety: none. One owner thread calls every member (single writer).
#pragma once

#include <map>
#include <optional>
#include <string>

#include "core/decimal.hpp"
#include "core/enums.hpp"
#include "core/messages.hpp"
#include "core/top_of_book.hpp"
#include "core/time.hpp"

namespace risk {

/// Per-order limits. A value equal to its limit passes; only "exceeds" denies.
struct Limits {
  core::Quantity max_order_qty = core::Decimal::from_int(1'000'000);    ///< instrument units
  core::Money max_order_notional = core::Decimal::from_int(10'000'000);  ///< quote currency
};

/// Outcome of `RiskEngine::check`. `reason` is "" when approved.
struct Decision {
  bool approved;
  std::string reason;
};

class RiskEngine {
 public:
  /// Starts in TradingState::active with reason "" and no positions or prices.
  explicit RiskEngine(Limits limits);

  /// Runs every check; the first failing one wins, in this order:
  ///  1. state:     halted -> "trading halted: <state_reason()>".
  ///  2. quantity:  quantity > max_order_qty ->
  ///                "max_order_qty: quantity <q> exceeds limit <limit>".
  ///  3. reference: the price used for notional is the limit_price of a limit order
  ///                (that has one), else the ask for a buy / bid for a sell from the
  ///                symbol's latest market data; none -> "no reference price for <symbol>".
  ///  4. notional:  |quantity| x price > max_order_notional ->
  ///                "max_order_notional: notional <n> exceeds limit <limit>"
  ///                (notional as defined in portfolio::notional, multiplier 1; exact
  ///                Decimal mul rounded half-even to 8 digits).
  ///  5. reducing:  in reducing state the order must shrink |position| without flipping it:
  ///                "reducing: order would increase position" (same side as the position,
  ///                or position flat) or "reducing: order would flip position".
  /// Quantity positivity and limit_price presence are the venue's checks (it rejects).
  /// Position is from fills only (in-flight orders are not counted).
  Decision check(const core::OrderSubmit& o) const;

  /// Reference prices per symbol, by the rule of core::TopOfBook (the same one the
  /// paper broker fills by).
  void on_quote(const core::Quote& q);
  void on_trade(const core::Trade& t);
  void on_bar(const core::Bar& b);

  /// Tracks the net position per symbol from fills (reports with last_qty > 0):
  /// buy adds last_qty, sell subtracts it. Other reports are ignored.
  void on_execution(const core::ExecutionReport& r);

  /// Transition to `s` at time `ts` (ns UTC). Records `reason` as state_reason().
  /// @return the RiskStateChanged to publish (previous_state = the old state), or
  ///   nullopt if `s` equals the current state (nothing changes, reason kept).
  std::optional<core::RiskStateChanged> set_state(core::TradingState s, std::string reason,
                                                  std::string source, core::TimestampNs ts);

  core::TradingState state() const;
  const std::string& state_reason() const;
  const Limits& limits() const;
  /// Signed net position (+ long, - short) of `symbol` from fills; 0 if never traded.
  core::Quantity position(const std::string& symbol) const;
  /// The price `check` would use for notional, or nullopt (see check, step 3).
  std::optional<core::Price> reference_price(const core::OrderSubmit& o) const;

 private:
  Limits limits_;
  core::TradingState state_ = core::TradingState::active;
  std::string state_reason_;
  std::map<std::string, core::TopOfBook> refs_;  ///< by symbol
  std::map<std::string, core::Quantity> positions_;  ///< by symbol, signed
};

/// Builds the report the service publishes for a denied order: exec_type and
/// order_status `denied`, text = reason, cum/leaves/avg 0, order fields copied,
/// exec_id "<client_order_id>-denied", ts_event = ts. Pure; never throws.
core::ExecutionReport denied_report(const core::OrderSubmit& o, std::string reason,
                                    core::TimestampNs ts);

}  // namespace risk
