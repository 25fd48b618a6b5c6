/// @file market_maker.hpp
/// @brief Built-in `market_maker`: two-sided quoting around the mid, on quotes.
///
/// Rule (per symbol, on each quote with bid < ask; symmetric quoting around the mid with
/// a hard inventory limit: the simplest form of Avellaneda and Stoikov, "High-frequency
/// trading in a limit order book", Quantitative Finance 8(3), 2008, without the
/// inventory skew; NautilusTrader's examples/strategies/volatility_market_maker.py
/// quotes the same way with an ATR-sized spread):
///   mid      = (bid + ask) / 2
///   half     = mid * spread_bps / 20000           (spread_bps: our bid-to-ask distance)
///   our bid  = min(floor_to(mid - half, tick), bid)     never through the market
///   our ask  = max(ceil_to(mid + half, tick), ask)
///   bid size = min(quantity, displayed bid_size, max_position - position), 0 if negative
///   ask size = min(quantity, displayed ask_size, max_position + position), 0 if negative
/// (a missing displayed size does not cap). Each side keeps at most one working LIMIT
/// order (gtc): none -> submit; working with another leaves quantity, or a price more than
/// `requote_bps` of the mid away from the wanted one -> replace (quantity = filled part +
/// size, price = the wanted one); size 0 -> cancel. The tolerance (Hummingbot's
/// pure market making `order_refresh_tolerance_pct`) lets the market run into a resting
/// quote: an order re-centred on every tick only fills on a jump. A side whose cancel/replace is in
/// flight waits for the answer. So one quote may give up to two commands. `symbol` ("*" =
/// every symbol) restricts it to one symbol.
///
/// Params: spread_bps (10, > 0), quantity (1, > 0), max_position (5, > 0: |position| it may
/// reach), requote_bps (5, >= 0), tick (0.01, > 0), symbol ("*" = all; give e.g.
/// symbol=BTCUSDT).
/// Pure; state in the Context only. Thread-safety: none.
#pragma once

#include <string>

#include "strategy/registry.hpp"
#include "strategy/strategy.hpp"

namespace strategy {

struct MarketMakerConfig {
  core::Decimal spread_bps = core::Decimal::from_int(10);
  core::Quantity quantity = core::Decimal::from_int(1);
  core::Quantity max_position = core::Decimal::from_int(5);
  core::Decimal requote_bps = core::Decimal::from_int(5);  ///< price tolerance before a replace, >= 0
  core::Price tick = core::Decimal::parse("0.01").value();
  std::string symbol;  ///< "" = every symbol
};

class MarketMaker : public Strategy {
 public:
  /// Throws std::invalid_argument naming a field that is not > 0.
  explicit MarketMaker(MarketMakerConfig cfg);
  void on_quote(const core::Quote& q, Context& ctx) override;

 private:
  void work_side(Context& ctx, const std::string& symbol, core::Side side, core::Price px, core::Quantity qty,
                 core::Price mid);
  MarketMakerConfig cfg_;
};

/// The built-in `market_maker` for the registry (params as in the file comment).
Registration market_maker_registration();

}  // namespace strategy
