/// @file mean_reversion.hpp
/// @brief Built-in `mean_reversion`: buys a bar close far below its moving average with a
/// LIMIT order at the lower band and sells back at the mean (long only), on bars.
///
/// Rule (per symbol, on each bar close; Bollinger bands, J. Bollinger, "Bollinger on
/// Bollinger Bands", 2001, with the mean absolute deviation instead of the standard
/// deviation so that every step is exact Decimal arithmetic; the mean-reversion use of
/// bands as in E. Chan, "Algorithmic Trading", Wiley 2013, ch. 3):
///   mean  = sum(last `window` closes) / window
///   mad   = sum(|close_i - mean|) / window
///   lower = floor_to(mean - k * mad, tick)        (the entry price)
///   exit  = ceil_to(mean, tick)                    (the exit price)
/// (core::Decimal div: half-even to 8 digits.) Once `window` closes were seen:
///  - entry: flat (position 0), no buy order working and close < lower -> buy limit
///    `quantity` at lower, time_in_force gtc;
///  - a working buy: cancelled when `max_bars` closes went by since it was sent
///    (unfilled, stale) or when close >= lower (the signal is gone); otherwise replaced to
///    the new lower band when the band moved;
///  - exit: position > 0 -> a sell limit for the position at exit (gtc); when the mean
///    or the position moves, that order is replaced (quantity = its filled part +
///    position, price = exit).
/// Several commands may go out on one bar (e.g. a cancel of the entry and the exit).
///
/// Prices: trade and mid bars use the close; bid/ask bar pairs the mid of the two
/// closes, once both bars of one ts_event arrived (as ma_cross). Quotes and trades are
/// ignored.
///
/// Params: window (20, >= 2), k (2, > 0: band width in MADs), quantity (100, > 0),
/// max_bars (5, >= 1), tick (0.01, > 0: price grid of the limit prices).
/// Pure; state per symbol in std::map. Thread-safety: none.
#pragma once

#include <cstddef>
#include <deque>
#include <map>
#include <optional>
#include <string>

#include "strategy/registry.hpp"
#include "strategy/strategy.hpp"

namespace strategy {

struct MeanReversionConfig {
  std::size_t window = 20;
  core::Decimal k = core::Decimal::from_int(2);
  core::Quantity quantity = core::Decimal::from_int(100);
  std::size_t max_bars = 5;
  core::Price tick = core::Decimal::parse("0.01").value();
};

class MeanReversion : public Strategy {
 public:
  /// Throws std::invalid_argument naming a bad field (window < 2, k, quantity, tick <= 0,
  /// max_bars < 1).
  explicit MeanReversion(MeanReversionConfig cfg);
  void on_bar(const core::Bar& b, Context& ctx) override;
  /// A split divides the closes of its window (and the bands) by the ratio.
  void on_corporate_action(const core::CorporateAction& a, Context& ctx) override;
  /// The bands of `symbol` after its last close (nullopt until `window` closes).
  struct Bands {
    core::Price mean, mad, lower;
  };
  std::optional<Bands> bands(const std::string& symbol) const;

 private:
  struct SymbolState {
    std::deque<core::Price> closes;
    core::Money sum;
    std::size_t entry_bars = 0;  ///< closes seen since the working entry was sent
    std::optional<core::Price> bid_close, ask_close;
    core::TimestampNs bid_ts = 0, ask_ts = 0;
    std::optional<core::TimestampNs> fed_ts;
    std::optional<Bands> bands;
  };
  void on_close(const std::string& symbol, core::Price px, Context& ctx);
  MeanReversionConfig cfg_;
  std::map<std::string, SymbolState> symbols_;
};

/// The built-in `mean_reversion` for the registry (params as in the file comment).
Registration mean_reversion_registration();

}  // namespace strategy
