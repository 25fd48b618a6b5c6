/// @file fx.hpp
/// @brief Currencies: what each symbol is priced in (Valuation) and the rates that
/// convert an amount of one currency into the account's base currency (FxRates).
///
/// Terms (NautilusTrader's Instrument.quote_currency / multiplier, LEAN's
/// SymbolProperties.QuoteCurrency / ContractMultiplier, the account's base currency):
///   - quote currency: the currency an instrument's prices, P&L and commissions are in
///     (JPY for USDJPY, USD for IBM). A symbol without one is priced in the base currency.
///   - multiplier: units of the underlying per unit of quantity (1 for cash instruments,
///     50 for an E-mini S&P future); notional and P&L are qty x price x multiplier.
///   - currency pair: an instrument whose base currency (the asset) is a currency too:
///     its price is the number of quote-currency units one base-currency unit costs.
///   - rate(X): the base-currency value of one unit of X. 1 for the base currency; from
///     the data when a pair of X and the base currency trades (its latest mid; the
///     reciprocal when the base currency is the pair's asset, as for USDJPY in a USD
///     account); else the configured rate; else unknown.
///
/// Conversion: amount x rate, half-even to 8 digits (core::mul): the only rounding in
/// the money path, and only in the base-currency figures; per-currency figures stay exact.
/// Cross rates (EURJPY in a USD account) are not derived: such a currency needs a pair
/// with the base currency in the data or a configured rate.
///
/// Pure (no clock, no I/O). Errors: Valuation::check returns the first problem; the
/// rest never throws except std::bad_alloc and core::ArithmeticError out of the Decimal
/// range. Thread-safety: values; one owner thread per FxRates.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/decimal.hpp"

namespace portfolio {

/// What valuation needs to know of one symbol.
struct SymbolTerms {
  std::string currency;                                     ///< quote currency; "" = the base currency
  core::Decimal multiplier = core::Decimal::from_int(1);    ///< > 0
  std::string asset_currency;                               ///< a currency pair's base currency; "" = not a pair
  friend bool operator==(const SymbolTerms&, const SymbolTerms&) = default;
};

/// The account's currency view: its base currency, each symbol's terms, configured rates.
struct Valuation {
  /// The account (base) currency all totals are in; "" = unnamed (every symbol in one
  /// currency, nothing converted: what a Portfolio built without a Valuation does).
  std::string base_currency;
  std::map<std::string, SymbolTerms> symbols;       ///< by symbol; absent: see terms_of
  std::map<std::string, core::Decimal> rates;       ///< configured: base-currency value of 1 unit, > 0

  /// The terms of `symbol`: those given; else, when a base currency is named and the
  /// symbol reads as a pair of two major currencies (split_pair: USDJPY), that pair
  /// (multiplier 1), as every FX venue names its pairs; else the base currency, 1.
  SymbolTerms terms_of(const std::string& symbol) const;
  /// The quote currency of `symbol` (terms_of's; its "" = base_currency).
  std::string currency_of(const std::string& symbol) const;
  /// The multiplier of `symbol` (terms_of's).
  core::Decimal multiplier_of(const std::string& symbol) const;
  /// The first problem: a non-positive multiplier or rate, a currency code that is not
  /// 1-16 characters of A-Z 0-9, a pair whose asset and quote currencies are equal.
  std::optional<std::string> check() const;
  friend bool operator==(const Valuation&, const Valuation&) = default;
};

/// Parses configured rates: "JPY=0.0067,USDT=1" (comma- or space-separated CUR=RATE).
/// "" gives none. Throws std::invalid_argument naming the bad part.
std::map<std::string, core::Decimal> parse_rates(std::string_view text);

/// Rates into the base currency, from a Valuation's pairs (updated from market marks)
/// and its configured rates.
class FxRates {
 public:
  FxRates() = default;
  explicit FxRates(const Valuation& v);

  /// A new mark (mid, or last price) of `symbol`. When the symbol is a pair of a
  /// currency and the base currency (Valuation::terms_of), updates that currency's
  /// market rate; returns true if a rate changed. Non-positive marks are ignored.
  bool observe(const std::string& symbol, core::Price mark);
  /// The base-currency value of one unit of `currency` (see the file comment); nullopt
  /// when unknown. 1 for the base currency and, when base_currency is "", for "".
  std::optional<core::Decimal> rate(std::string_view currency) const;
  /// amount x rate(currency), or nullopt when the rate is unknown.
  std::optional<core::Decimal> to_base(core::Decimal amount, std::string_view currency) const;
  const std::string& base_currency() const noexcept { return base_; }

  /// For callers that mark one symbol again and again (Portfolio): the symbol's slot,
  /// >= 0 when it is a pair with the base currency, -1 otherwise; look it up once.
  int slot(const std::string& symbol);
  /// observe() of the symbol whose slot() is `slot` (>= 0): O(1), no lookup.
  bool observe_slot(int slot, core::Price mark);

 private:
  struct Pair {
    std::string other;  ///< the currency that is not the base currency
    bool inverse;       ///< the base currency is the asset: rate = 1 / mark
    std::optional<core::Decimal> rate;  ///< from its latest usable mark
    std::uint64_t changed = 0;          ///< when `rate` last changed (changes_ then): the latest pair wins
  };
  std::string base_;
  std::vector<Pair> pairs_;                                    ///< pairs with the base currency, by slot
  std::map<std::string, int, std::less<>> slots_;              ///< symbols looked at: slot or -1
  std::map<std::string, SymbolTerms> defined_;                 ///< Valuation::symbols
  std::map<std::string, core::Decimal, std::less<>> configured_;
  std::uint64_t changes_ = 0;
};

/// A pair's split by ISO 4217-style codes: "USDJPY" -> {"USD", "JPY"} when both halves
/// are ISO 4217 codes of the currencies most traded (BIS Triennial Survey 2022: USD EUR
/// JPY GBP CNY AUD CAD CHF HKD SGD SEK KRW NOK NZD INR MXN TWD ZAR BRL DKK PLN THB ILS
/// IDR CZK HUF TRY); nullopt otherwise (crypto pairs such as BTCUSDT included: a stable
/// coin is not a currency with a rate we could take for granted). For symbols that have
/// no instrument definition (backtests derive one, tooling/derived_instruments.hpp).
std::optional<std::pair<std::string, std::string>> split_pair(std::string_view symbol);

}  // namespace portfolio
