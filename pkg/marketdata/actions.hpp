/// @file actions.hpp
/// @brief Corporate actions for a replay: the actions file, the schedule that slots its
/// actions into the data, and the detector that warns of splits nobody declared.
///
/// Issue 14: unadjusted daily bars across AAPL's 7-for-1 split moved P&L by +-550k
/// overnight, without a word. Recorded prices in shared/data are raw (not adjusted),
/// as LEAN stores them, so a position held across a split must be adjusted as a broker
/// adjusts it: that is what a core::CorporateAction does in every worker. The feed
/// publishes them from an actions file (`feed --actions FILE`, `traderctl backtest FILE
/// --actions FILE`); without one it warns of suspected splits.
///
/// The actions file: CSV, header with the columns `date,symbol,action,value` (any
/// order, names exact, extra columns ignored), `#` comment lines and blank lines
/// skipped, one action per row:
///  - `date`: the ex-date, YYYY-MM-DD (1970-01-01 .. 2099-12-31); the action's ts_event
///    is 00:00 UTC of it;
///  - `symbol`: a subject token (subjects::is_valid_symbol);
///  - `action`: `split` or `dividend`;
///  - `value`: for a split the ratio, as `N:M` (N new shares for M old: `2:1`, `7:1`,
///    `1:10`) or as a decimal (new per old: `2`, `0.1`); N/M must be an exact decimal
///    of at most 8 fractional digits (1:3 is refused). For a dividend the cash amount per
///    share, a decimal > 0.
/// Example (the splits inside shared/data's bars_1d_SPY_IBM_BAC_1998-2021.csv):
///     date,symbol,action,value
///     1999-05-27,IBM,split,2:1
///     2004-08-30,BAC,split,2:1
///
/// Thread-safety: the functions are reentrant; each class has one owner thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/decimal.hpp"
#include "core/messages.hpp"

namespace marketdata {

/// Reads an actions file. Returns its actions sorted by ts_event (file order among
/// equal times). Throws std::runtime_error "<path>: cannot open: ..." or
/// "<path>: line N: <column>: <why>" (a wrong number of columns, a bad date, symbol,
/// action or value, a missing column in the header): an actions file is configuration,
/// so a bad row stops the run before it starts rather than replay half the actions.
std::vector<core::CorporateAction> read_actions(const std::string& path);

/// Parses a split ratio: "N:M" (exact N/M) or a decimal > 0. nullopt if it is neither,
/// or if N/M is not exact in 8 fractional digits. Pure.
std::optional<core::Decimal> parse_split_ratio(std::string_view text);

/// Slots actions into a stream of records by time: an action goes out before the first
/// record whose ts_event is AFTER the action's (so a daily bar that ends at the ex-date's
/// midnight, the day before's bar, still comes first).
class ActionSchedule {
 public:
  ActionSchedule() = default;
  /// `actions` sorted by ts_event (read_actions' order).
  explicit ActionSchedule(std::vector<core::CorporateAction> actions);
  /// The actions to publish before a record with ts_event `ts`, in order; each once.
  std::vector<core::CorporateAction> due(core::TimestampNs ts);
  /// Actions not given out yet (after the data's end: nothing to adjust any more).
  std::size_t pending() const noexcept { return actions_.size() - next_; }
  /// Whether a split of `symbol` has ts_event `day_start` (00:00 UTC of a date).
  bool has_split(const std::string& symbol, core::TimestampNs day_start) const;

 private:
  std::vector<core::CorporateAction> actions_;
  std::size_t next_ = 0;
  std::set<std::pair<std::string, core::TimestampNs>> splits_;
};

/// Warns of a split nobody declared: for trade bars of one day or longer (daily bars),
/// a bar whose open is about a split factor away from the previous bar's close. The
/// factors are 3:2, 2, 3, 4, 5, 7, 8, 10, 15, 20 and their reverses; "about" is within
/// 5 % of the factor (a real one-day move of 50 % is rare; a 2-for-1 split shows as
/// close/open = 2.00 +- the overnight move). A heuristic: it may miss a split whose
/// overnight move was large, and it may flag a crash; the warning says so.
/// Example: IBM closed 1999-05-26 at 181.38 and opened 1999-05-27 at 90.56 (2-for-1).
class SplitDetector {
 public:
  /// `schedule` (may be null): splits it holds are declared, not suspected.
  explicit SplitDetector(const ActionSchedule* schedule = nullptr) : schedule_(schedule) {}
  /// Feed every record; returns a warning for a suspected split at this bar, e.g.
  /// "suspected 2:1 split of IBM on 1999-05-27: close 181.38 then open 90.56; prices are
  /// not adjusted (give an actions file: docs/data-quality.md#corporate-actions)".
  std::optional<std::string> on_record(const core::MarketData& md);

 private:
  const ActionSchedule* schedule_;
  std::map<std::string, core::Price> last_close_;  ///< per symbol, daily trade bars only
};

}  // namespace marketdata
