/// @file portfolio.hpp
/// @brief Positions, P&L and drawdown from execution reports and market data.
///
/// This header is where the derived trading terms are defined (STYLE.md section 2):
///   - `notional`       = |qty| x price x multiplier (the instrument's, fx.hpp; 1 by default),
///                      in the instrument's quote currency;
///   - `mark_to_market` revalues an open position at the mark price; the gain or
///                      loss is `unrealized_pnl` = mark_px x qty - open cost (signed qty,
///                      open cost = the signed sum of the open lots' qty x fill price);
///   - `drawdown`       = peak equity - current equity, where equity is total P&L
///                      (realized + unrealized) since the portfolio started at 0, in the
///                      base currency.
///
/// Currencies (issue 14; fx.hpp): each symbol's P&L, cost, commission and notional are in
/// its quote currency and multiplied by its multiplier (lot cost = qty x px x multiplier),
/// exact. They are summed per currency (exact), and the totals (realized, unrealized,
/// total, peak, drawdown, commission) are in the base currency: per currency, its sum x
/// its current rate (FxRates: the data's pair mid, else the configured rate), so a JPY
/// balance is revalued as USDJPY moves, as a multi-currency account is. A currency with
/// no rate yet is left out of the totals (its entry in `currencies` has no rate).
/// gross_notional_traded in the base currency converts each fill at the rate of its time.
/// Without a Valuation (base currency ""), everything is one unnamed currency, as before.
///
/// Accounting is FIFO lots (first in, first out: the default cost basis of US brokers,
/// IRS Publication 550 "Basis of Investment Property"; LEAN's FillMatchingMethod.FIFO):
/// every opening fill adds a lot (quantity, fill price); a reducing fill closes the
/// oldest lots first and realizes, per closed lot, (fill_px - lot_px) x closed_qty for a
/// long and (lot_px - fill_px) x closed_qty for a short; a fill through zero closes every
/// lot and opens the remainder as a new lot at fill_px.
///
/// Exact money (issue 14): P&L is computed from the lots' exact cost sums, never from a
/// rounded average. Each term is a product qty x px, exact whenever its fractional digits
/// fit the Decimal's 8 (every file in shared/data: at most 5 price + 3 size digits), so
/// whole shares at cent prices always give whole-cent realized and total P&L. `avg_px` =
/// |open cost| / |qty| (core::div, half-even to 8 digits) is for display only: no P&L
/// figure is derived from it. (NautilusTrader's Position uses average cost instead;
/// its realized P&L on a partial close then depends on a rounded average price.)
///
/// Commissions (ExecutionReport::commission, per fill, quote currency; absent = 0)
/// are a realized cost charged when the fill happens, opening fills included, as
/// in NautilusTrader's Position:
///   realized_pnl = sum of closed-lot P&L - sum of commissions
/// per symbol and in total; so total_pnl, peak_pnl and max_drawdown are net of
/// commissions too. Lot prices and avg_px (the entry price) do not include them. A
/// negative commission (a rebate) adds to realized P&L.
///
/// Pure (STYLE.md section 4): no clock, no I/O; time comes from the events.
/// Errors: no member throws except std::bad_alloc, and core::ArithmeticError if a
/// figure leaves the 128-bit Decimal range (unreachable with wire-range inputs; the
/// worker then quarantines the message, decimal.hpp).
/// Memory: one entry per symbol and per distinct client_order_id seen.
/// Thread-safety: none. One owner thread calls every member (single writer).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "core/decimal.hpp"
#include "core/messages.hpp"
#include "core/time.hpp"
#include "portfolio/fx.hpp"

namespace portfolio {

/// |q| x p x multiplier, in quote currency. Throws core::ArithmeticError out of range.
core::Money notional(core::Quantity q, core::Price p, core::Decimal multiplier = core::Decimal::from_int(1));
/// Unrealized P&L of `qty` (signed) whose open lots cost `open_cost` (signed: the sum
/// of signed lot qty x lot px x multiplier), revalued at `mark_px`:
/// mark_px x qty x multiplier - open_cost. Zero for a flat position (open cost 0).
core::Money mark_to_market(core::Quantity qty, core::Money open_cost, core::Price mark_px,
                           core::Decimal multiplier = core::Decimal::from_int(1));
/// peak - current (>= 0 when peak is the running maximum of current).
core::Money drawdown(core::Money peak, core::Money current);

class Portfolio {
 public:
  /// Empty portfolio: no positions, all totals 0, peak_pnl 0. `v`: the base currency,
  /// each symbol's quote currency and multiplier, configured rates (fx.hpp); default:
  /// one unnamed currency, multipliers 1. Precondition: !v.check().
  explicit Portfolio(Valuation v = {});

  /// Every execution report goes here (the service calls it for all of them).
  /// Counts distinct client_order_ids (`orders`; cancel_rejected reports do not add
  /// one, since they may name an unknown id), exec_type denied (`orders_denied`)
  /// and exec_type rejected (`orders_rejected`; a cancel_rejected is not counted),
  /// advances ts_event, and calls on_fill for fill / partial_fill reports.
  void on_execution(const core::ExecutionReport& r);

  /// Applies one fill: r.last_qty at r.last_px on r.side for r.symbol (FIFO lot
  /// rules above) and deducts r.commission (if any) from realized P&L. Ignores
  /// reports with last_qty == 0. Counts it in `fills` and adds
  /// notional(last_qty, last_px) to gross_notional_traded. If the symbol has no mark
  /// yet, the fill price becomes its mark. Then updates peak / max drawdown.
  /// Does not de-duplicate: every call applies the fill. O(log symbols + lots closed).
  void on_fill(const core::ExecutionReport& r);

  /// Sets the mark-to-market price of `symbol` at time `ts` (ns UTC), revalues its
  /// unrealized P&L and updates peak / max drawdown. O(log symbols).
  void mark(const std::string& symbol, core::Price mark_px, core::TimestampNs ts);

  /// mark = (bid + ask) / 2. The symbol counts as quoted from then on.
  void on_quote(const core::Quote& q);
  /// mark = price, only while the symbol has had no quote (a Quote or bid/ask bar).
  void on_trade(const core::Trade& t);
  /// Trade (and mid) bars: mark = close, only while the symbol has had no quote.
  /// Bid/ask bars: mark = mid of the latest bid-bar close and ask-bar close (the
  /// one side's close until both were seen); the symbol counts as quoted.
  void on_bar(const core::Bar& b);

  /// A corporate action at a.ts_event (core::CorporateAction):
  ///  - split by `ratio`: every open lot's quantity is multiplied by ratio and its cost
  ///    kept (lot price = cost / new quantity), so open cost and P&L do not move; the
  ///    mark (and the bid/ask bar closes) is divided by ratio until the next price;
  ///    bought_qty / sold_qty keep counting what was traded (pre-split units before);
  ///  - dividend of `amount` per share: realized P&L += quantity x amount (a short
  ///    position pays it), counted in dividends().
  /// Then updates peak / max drawdown. A symbol without a position only has its mark
  /// adjusted. Exact as long as quantity x ratio and the lot costs fit 8 digits (a lot
  /// price after a 7-for-1 split is rounded, but only whole-lot closes use it exactly).
  void on_action(const core::CorporateAction& a);

  /// Dividends received (+) or paid (-) in total, included in realized P&L (base currency).
  core::Money dividends() const;

  /// Current report: positions sorted by symbol (every symbol that has had a fill,
  /// flat ones included, each with its currency), totals in the base currency,
  /// commissions, peak_pnl, max_drawdown, counters, P&L per currency (when a base
  /// currency is named), ts_event = the latest ts_event seen. `final_report` only
  /// selects the message type. O(symbols).
  core::PerformanceReport snapshot(bool final_report) const;

  /// Signed quantity of `symbol` (0 if unknown).
  core::Quantity position(const std::string& symbol) const;
  /// Commissions paid in total (base currency), and on fills of `symbol` (0 if
  /// unknown; its quote currency), already deducted from realized P&L.
  core::Money commission() const;
  core::Money commission(const std::string& symbol) const;
  /// Total P&L (realized + unrealized) in the base currency, as snapshot().total_pnl.
  core::Money total_pnl() const;
  const Valuation& valuation() const noexcept { return valuation_; }
  /// The rates this portfolio converts with (kept up to date from its marks).
  const FxRates& fx() const noexcept { return fx_; }

 private:
  /// One open lot: what one opening fill (or the remainder of a flip) bought or sold.
  struct Lot {
    core::Quantity qty;  ///< > 0; the position's sign says long or short
    core::Price px;      ///< the fill price (after a split: cost / qty, rounded)
    core::Money cost;    ///< qty x px x multiplier when opened, exact; kept across splits
  };
  struct Position {
    std::string currency;      ///< quote currency (valuation_.currency_of)
    core::Decimal multiplier = core::Decimal::from_int(1);
    bool one = true;           ///< multiplier == 1 (no multiplication needed)
    core::Quantity quantity;   ///< signed
    std::deque<Lot> lots;      ///< open lots, oldest first (empty when flat)
    core::Money open_cost;     ///< signed sum of lot costs (exact)
    core::Price avg_px;        ///< |open_cost| / |quantity| rounded: display only
    std::optional<core::Price> mark_px;
    core::Money realized_pnl;
    core::Money unrealized_pnl;
    core::Money commission;    ///< paid on this symbol's fills (included in realized_pnl)
    core::Quantity bought_qty;
    core::Quantity sold_qty;
    bool traded = false;
    bool has_quote = false;
    std::optional<core::Price> bid_close;  ///< latest bid-bar close
    std::optional<core::Price> ask_close;  ///< latest ask-bar close
    int fx_slot = -2;                      ///< FxRates::slot of the symbol; -2 = not looked up yet
  };

  /// One currency's sums over its positions, in that currency (exact).
  struct Totals {
    core::Money realized;
    core::Money unrealized;  ///< running sum of its positions' unrealized_pnl
    core::Money commission;
    core::Money dividends;
    core::Money gross_notional;
  };
  struct BaseTotals {
    core::Money realized, unrealized, commission, dividends;
  };

  Position& position_of(const std::string& symbol);
  core::Money cost(const Position& p, core::Price px, core::Quantity q) const;
  void revalue(Position& p);
  void update_drawdown();
  void seen(core::TimestampNs ts);
  BaseTotals base_totals() const;

  Valuation valuation_;
  FxRates fx_;
  std::map<std::string, Position> positions_;  ///< by symbol (sorted for snapshots)
  std::map<std::string, Totals> totals_;       ///< by currency
  std::set<std::string> order_ids_;
  core::Money peak_pnl_;
  core::Money max_drawdown_;
  core::Money gross_notional_;  ///< base currency, each fill at the rate of its time
  std::int64_t fills_ = 0;
  std::int64_t orders_denied_ = 0;
  std::int64_t orders_rejected_ = 0;
  core::TimestampNs ts_event_ = 0;
};

}  // namespace portfolio
