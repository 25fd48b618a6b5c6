/// @file market_check.hpp
/// @brief Which market data a worker may use: the data-quality rule every worker applies.
///
/// Issue 11 ("impossible quotes are filled"): a crossed quote gave riskless P&L and
/// backward timestamps passed silently. Decoders already refuse what is impossible on
/// its own (a price <= 0, codec.hpp); this check refuses what is impossible in
/// context, per symbol, in the order the worker receives its market data (the stream's
/// order for each symbol, so every worker and every replay flags the same messages):
///  - a **crossed quote**, bid above ask: "crossed quote: bid 20 above ask 10".
///    A locked quote (bid equal to ask) is normal;
///  - an **inconsistent bar**, high below low or open/close outside [low, high]:
///    "inconsistent bar: close 12 above high 11";
///  - data that **steps back in time**: ts_event below the latest ts_event of the
///    same symbol that passed this check: "ts_event 1399334400000000000 steps back from
///    1399334401000000000 (EURUSD)". Equal times are normal (two prints in one ns).
/// A flagged message is not used at all: not for fills, marks, reference prices or
/// signals. The worker counts it (heartbeat `flagged`) and logs the reason. Venue
/// data with real crossings (some recorded feeds cross for a moment) is flagged too:
/// nobody can trade at both sides of a crossed book.
///
/// Pure (no clock, no I/O); one std::map entry per symbol. Not thread-safe: one owner.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "core/messages.hpp"

namespace core {

class MarketCheck {
 public:
  /// std::nullopt if `md` may be used, else why not (the texts above). Remembers the
  /// latest usable-in-time ts_event of the symbol: a crossed quote or an inconsistent
  /// bar still moves the symbol's time forward (its time is right, its prices are not).
  std::optional<std::string> check(const MarketData& md);
  /// Forgets every symbol (a fresh start, e.g. before a rebuild).
  void reset() { last_ts_.clear(); }

 private:
  std::map<std::string, TimestampNs> last_ts_;
};

}  // namespace core
