/// @file derive.hpp
/// @brief Default instruments derived from a data file: tick size from the decimals of its
/// prices, lot size from the decimals of its sizes (issue 14: "a backtest of a file whose
/// symbol has no instrument definition still trades").
///
/// Per symbol, over every record read:
///  - **tick_size** = 10^-d, d = the most fractional digits of any price of the symbol
///    (quote bid and ask; trade price; bar open, high, low, close). Digits are those of the
///    exact decimal value: "1.38720" has 4 (trailing zeros say nothing), "9682" has 0 (tick 1).
///  - **lot_size** = 10^-d, d = the most fractional digits of any size (quote bid_size and
///    ask_size, trade size, bar volume): all whole -> 1. A symbol whose records carry no size
///    (quotes without sizes, bars without volume) gets none (quantities not checked).
/// This is the finest grid the data shows, never a coarser one, so every price and size in
/// the file is a multiple of it; it is a default for backtests, not reference data (a venue
/// may accept finer prices than a file happens to show).
///
/// Pure (no I/O) but derive_instruments(), which reads a file with marketdata::Reader.
/// Thread-safety: an InstrumentDeriver has one owner; the free functions are reentrant.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/messages.hpp"
#include "marketdata/quality.hpp"

namespace marketdata {

struct DerivedInstrument {
  std::string symbol;
  core::Price tick_size;                   ///< 10^-price_decimals, > 0
  std::optional<core::Quantity> lot_size;  ///< 10^-size_decimals; none when the data has no sizes
  int price_decimals = 0;                  ///< 0..8
  std::optional<int> size_decimals;        ///< 0..8
  friend bool operator==(const DerivedInstrument&, const DerivedInstrument&) = default;
};

/// "NZDUSD tick 0.00001, lot none" / "BTCUSDT tick 0.01, lot 0.000001". Pure.
std::string to_string(const DerivedInstrument&);

/// Fractional digits of the exact value (0..8): 1.5 -> 1, 1.50 -> 1, 2 -> 0, 0.00001 -> 5. Pure.
int fractional_digits(core::Decimal d) noexcept;

/// Collects the decimals of each symbol's prices and sizes, record by record.
class InstrumentDeriver {
 public:
  void add(const core::MarketData& md);
  /// One per symbol seen, by symbol.
  std::vector<DerivedInstrument> instruments() const;

 private:
  struct Seen {
    int price = 0;
    std::optional<int> size;
  };
  std::map<std::string, Seen> seen_;
};

/// The records the feed publishes from the file at `path` under data-quality `policy`
/// (marketdata/quality.hpp: bad and dropped rows left out; at most `limit` records,
/// 0 = all) through an InstrumentDeriver: what the feed's subscribers see, so a backtest
/// derives the same from the file as from the inputs it recorded. Throws
/// std::runtime_error as marketdata::Reader's constructor.
std::vector<DerivedInstrument> derive_instruments(const std::string& path, std::int64_t limit = 0,
                                                  const quality::Policy& policy = {});

}  // namespace marketdata
