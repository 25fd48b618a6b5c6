/// @file instruments_file.hpp
/// @brief Loads the paper venue's instrument reference data from a CSV file.
///
/// Format (deploy/config/instruments.csv): a header `symbol,tick_size,lot_size`,
/// optionally followed by any of `quote_currency`, `multiplier`, `base_currency` (in any
/// order), then one row per symbol. tick_size and lot_size are exact decimals and may be
/// empty (= not checked); quote_currency empty = the account's base currency; multiplier
/// empty = 1; base_currency is set for a currency pair only (EUR for EURUSD: its rate
/// converts EUR P&L, portfolio/fx.hpp). Blank lines and lines starting with `#` are skipped.
/// Thread-safety: free functions with no shared state.
#pragma once

#include <map>
#include <string>

#include "matching/instruments.hpp"
#include "portfolio/fx.hpp"

namespace config {
class Settings;
}

namespace services {

/// Reads `path`. Throws config::ConfigError naming the file, line and field for a
/// missing file, a wrong header, a bad decimal, a duplicate symbol, a non-positive
/// size or multiplier (matching::validate), a bad currency code (Valuation::check).
matching::Instruments load_instruments(const std::string& path);

/// What valuation needs of `instruments` (quote currency, multiplier, pair), with the
/// account's base currency and configured rates (portfolio::parse_rates). Pure.
portfolio::Valuation valuation_from(const matching::Instruments& instruments, std::string base_currency,
                                    std::map<std::string, core::Decimal> rates);

/// `path` as given when it is absolute or exists from the working directory, else beside
/// the settings file (TRADER_CONFIG), so the stack's file can name its neighbour.
std::string resolve_beside_config(const std::string& path);
/// The instruments the worker setting `instruments` names (TRADER_INSTRUMENTS; a relative
/// path via resolve_beside_config); {} when empty. Throws config::ConfigError.
matching::Instruments instruments_from(const config::Settings& s);
/// valuation_from(instruments, setting base_currency (TRADER_BASE_CURRENCY, default USD),
/// parse_rates(setting fx_rates, TRADER_FX_RATES)), checked. Throws config::ConfigError
/// naming the setting (an empty base currency, a bad rate or currency code).
portfolio::Valuation valuation_from(const config::Settings& s, const matching::Instruments& instruments);

}  // namespace services
