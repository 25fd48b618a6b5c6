/// @file instruments.hpp
/// @brief Instrument reference data: tick and lot sizes (the paper venue checks orders
/// against them), quote currency, multiplier and a pair's base currency (valuation).
///
/// Pure value types and checks; thread-safe (no state). Never throw beyond std::bad_alloc.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/decimal.hpp"

namespace matching {

/// One tradable symbol at the paper venue (NautilusTrader's `Instrument`
/// price_increment / size_increment, LEAN's `SymbolProperties` MinimumPriceVariation /
/// LotSize). Absent fields are not checked.
struct Instrument {
  std::string symbol;                      ///< "" = the key it is stored under in BrokerConfig::instruments
  std::optional<core::Price> tick_size;    ///< limit_price and stop_price must be multiples (> 0)
  std::optional<core::Quantity> lot_size;  ///< quantity must be a multiple (> 0)
  /// The currency prices and P&L are in ("" = the account's base currency); not used by
  /// the venue, by valuation and risk (portfolio/fx.hpp).
  std::string quote_currency;
  std::optional<core::Decimal> multiplier;  ///< units per quantity unit (> 0; absent = 1)
  /// For a currency pair, its base (asset) currency ("EUR" of EURUSD); "" = not a pair.
  std::string base_currency;
  friend bool operator==(const Instrument&, const Instrument&) = default;
};

/// By symbol. Empty = no reference data: every symbol is accepted, nothing is checked.
using Instruments = std::map<std::string, Instrument>;

/// "<field> <p> is not a multiple of tick size <t>" when `inst` has a tick size that
/// `px` is not a multiple of; nullopt otherwise. `field` is "limit_price" or "stop_price".
std::optional<std::string> check_tick(std::string_view field, core::Price px, const Instrument& inst);

/// "quantity <q> is not a multiple of lot size <l>" when `inst` has a lot size that
/// `qty` is not a multiple of; nullopt otherwise.
std::optional<std::string> check_lot(core::Quantity qty, const Instrument& inst);

/// The first problem with the reference data (a key and a symbol that differ, a tick
/// or lot size that is not positive), or nullopt.
std::optional<std::string> validate(const Instruments& instruments);

}  // namespace matching
