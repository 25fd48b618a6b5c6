/// @file risk_policy.hpp
/// @brief Pre-trade risk limits: account-wide defaults and per-symbol overrides.
///
/// Plain data shared by pkg/risk (which enforces them, see risk/pre_trade.hpp for
/// every check's rule) and the wire messages that install or announce a policy
/// (`risk.policy.set` on risk.management, `risk.policy` on risk.state). Money and
/// quantities are exact Decimals; durations are nanoseconds. Thread-safety: plain
/// values, no shared state.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "core/decimal.hpp"
#include "core/enums.hpp"
#include "core/time.hpp"

namespace core {

/// Account-wide limits, and the per-symbol defaults. A value equal to its limit
/// passes (order checks); the automatic state triggers fire when a figure reaches
/// its limit (>=). std::nullopt or 0 switches a limit off.
struct Limits {
  Quantity max_order_qty = Decimal::from_int(1'000'000);    ///< instrument units
  Money max_order_notional = Decimal::from_int(10'000'000);  ///< base (account) currency: qty x price x multiplier, converted (portfolio/fx.hpp)
  /// |position after the order fills| per symbol, in instrument units, with every
  /// working order on the order's side counted as filled (risk::RiskEngine::check, 7).
  std::optional<Quantity> max_position;
  /// Sum over symbols of the larger worst case, |position + working buys| or
  /// |position - working sells|, x mark price x multiplier, with the order added (base currency;
  /// risk::RiskEngine::check, 8).
  std::optional<Money> max_gross_exposure;
  /// Orders approved and not yet terminal, this one included. 0 = off.
  std::int64_t max_open_orders = 0;
  /// Fat-finger band: a limit price further than this many basis points from the mid.
  std::optional<Decimal> price_band_bps;
  /// Orders approved per strategy_id within a sliding window of rate_window_ns. 0 = off.
  std::int64_t max_orders_per_window = 0;
  DurationNs rate_window_ns = kNsPerSecond;
  /// Loss since the start of the UTC day (of the event time) that halts trading.
  std::optional<Money> daily_loss_limit;
  /// Drawdown from peak equity that trips `drawdown_action`.
  std::optional<Money> max_drawdown;
  /// What a drawdown reaching max_drawdown does: `reducing` (the default: an active
  /// desk may only unwind) or `halted` (an active or reducing desk stops trading).
  /// `active` is not an action (risk::validate refuses it).
  TradingState drawdown_action = TradingState::reducing;
  friend bool operator==(const Limits&, const Limits&) = default;
};

/// Overrides of the defaults for one symbol; std::nullopt = use the default.
/// (A per-symbol override can tighten or loosen a limit but not switch off a
/// default that is on; set it very high instead.)
struct SymbolLimits {
  std::optional<Quantity> max_order_qty;
  std::optional<Money> max_order_notional;
  std::optional<Quantity> max_position;
  std::optional<Decimal> price_band_bps;
  friend bool operator==(const SymbolLimits&, const SymbolLimits&) = default;
};

/// Limits of one strategy: its orders (those whose strategy_id it is) are checked
/// against them in addition to the account's and the symbol's (risk::RiskEngine::check,
/// 11); std::nullopt = none.
struct StrategyLimits {
  std::optional<Quantity> max_order_qty;     ///< one order's quantity
  std::optional<Money> max_order_notional;   ///< one order's qty x price x multiplier, base currency
  /// The strategy's own position per symbol (its fills) with its working orders on the
  /// order's side, after the order: as check 7, on the strategy's share only.
  std::optional<Quantity> max_position;
  friend bool operator==(const StrategyLimits&, const StrategyLimits&) = default;
};

/// Everything the engine enforces. Account-wide limits (max_gross_exposure,
/// max_open_orders, the rate limit, daily_loss_limit, max_drawdown and its
/// drawdown_action) are read from `defaults` only.
struct RiskPolicy {
  Limits defaults;
  std::map<std::string, SymbolLimits> per_symbol;  ///< by symbol (sorted: deterministic)
  std::map<std::string, StrategyLimits> per_strategy;  ///< by strategy_id (sorted)

  /// The limits that apply to `symbol`: defaults overridden by per_symbol[symbol].
  Limits for_symbol(const std::string& symbol) const;
  friend bool operator==(const RiskPolicy&, const RiskPolicy&) = default;
};

}  // namespace core
