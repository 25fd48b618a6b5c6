/// @file derived_instruments.hpp
/// @brief Backtests only: instruments derived from the data for the symbols the configured
/// instruments file does not define (marketdata/derive.hpp), so that such a file trades
/// instead of having every order rejected "unknown symbol".
///
/// Used by `traderctl backtest FILE --in-process` (tooling/in_process.hpp, merged into the
/// BrokerConfig) and the pipeline backtest, of a file or `--session ID` (a merged
/// instruments CSV in the sandbox, tooling/sandbox.hpp SandboxConfig::instruments_csv).
/// Both derive from the records the feed publishes, so they agree. `traderctl replay`
/// does not derive: it reproduces a session as it ran (a live one never derives). Live trading (deploy/local/up,
/// compose) never derives: there an unknown symbol stays rejected (docs/fill-models.md).
/// Risk-state never refuses a symbol for lacking a definition (its limits apply to every
/// symbol, per_symbol overrides aside); every worker reads the merged file all the same
/// (TRADER_INSTRUMENTS), for the derived pairs' currencies (portfolio/fx.hpp).
///
/// Thread-safety: free functions without shared state. Errors: add_derived_instruments
/// throws std::runtime_error as marketdata::Reader's constructor (file unreadable).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "marketdata/derive.hpp"
#include "matching/instruments.hpp"
#include "tooling/replay.hpp"

namespace services {

/// When `instruments` is not empty (a file is configured, so unknown symbols are
/// rejected): adds the derived instrument of every symbol in the data file `data_path`
/// (its first `limit` records, 0 = all) that `instruments` does not define, and returns
/// those added, by symbol. A symbol that reads as a pair of two major currencies
/// (portfolio::split_pair: USDJPY) gets them as its base and quote currency, so its P&L
/// is converted into the account currency; any other is priced in the account currency.
/// Empty `instruments` (no file: every symbol accepted, nothing
/// checked) stay empty and nothing is derived.
std::vector<marketdata::DerivedInstrument> add_derived_instruments(matching::Instruments& instruments,
                                                                   const std::string& data_path, std::int64_t limit,
                                                                   const marketdata::quality::Policy& policy = {});

/// The same from the market data among `inputs` (a pipeline backtest's: what it publishes,
/// read from the file or from a session; payloads that are not quotes, trades or bars are
/// left out). Never throws beyond std::bad_alloc.
std::vector<marketdata::DerivedInstrument> add_derived_instruments(matching::Instruments& instruments,
                                                                   const std::vector<ReplayInput>& inputs);

/// "derived instruments (not in instruments.csv): NZDUSD tick 0.00001, lot none; ..."; "" if none.
std::string describe_derived(const std::vector<marketdata::DerivedInstrument>& derived);

/// `instruments` as an instruments file (workers/instruments_file.hpp reads it back):
/// "symbol,tick_size,lot_size,quote_currency,multiplier,base_currency" and one row per
/// symbol, an absent field empty.
std::string instruments_csv(const matching::Instruments& instruments);

}  // namespace services
