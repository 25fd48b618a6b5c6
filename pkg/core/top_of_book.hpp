/// @file top_of_book.hpp
/// @brief The best bid and ask of one symbol, as market data reveal them.
///
/// One rule for every component that needs a reference price (the paper
/// broker's fills, pre-trade risk's notional):
///   - a quote sets both sides and marks the symbol as quoted;
///   - a bid bar or an ask bar (FX bid/ask bar files) sets that side to the
///     bar's close and marks the symbol as quoted;
///   - a trade, or a trade/mid bar's close, sets both sides only while the symbol
///     has never been quoted (a print says less than a quote about where one can
///     trade next).
/// Pure value type; not thread-safe (single owner).
#pragma once

#include <optional>

#include "core/messages.hpp"

namespace core {

struct TopOfBook {
  std::optional<Price> bid;
  std::optional<Price> ask;
  bool has_quote = false;  ///< a quote or a bid/ask bar was seen

  void on_quote(const Quote& q) {
    bid = q.bid;
    ask = q.ask;
    has_quote = true;
  }
  void on_trade(const Trade& t) { on_print(t.price); }
  void on_bar(const Bar& b) {
    switch (b.price_type) {
      case PriceType::bid:
        bid = b.close;
        has_quote = true;
        break;
      case PriceType::ask:
        ask = b.close;
        has_quote = true;
        break;
      case PriceType::trade:
      case PriceType::mid:
        on_print(b.close);
        break;
    }
  }
  /// Where an order of `side` trades now: the ask for a buy, the bid for a sell.
  std::optional<Price> touch(Side side) const { return side == Side::buy ? ask : bid; }

 private:
  void on_print(Price px) {
    if (has_quote) return;
    bid = px;
    ask = px;
  }
};

}  // namespace core
