/// @file quality.hpp
/// @brief Data quality of a recorded market data file: what the feed drops or flags, row by row.
///
/// Issue 14 ("a zero ask corrupted the valuation"; "345 crossed closes passed without a
/// word"): the feed checks every row it reads, with the row's file line, before it
/// publishes it. The kinds, in the order they are tried (a row gets at most one finding,
/// the first that applies):
///
/// | kind           | what                                                                              | field               | default |
/// |----------------|-----------------------------------------------------------------------------------|---------------------|---------|
/// | `non_positive` | a price <= 0 (the Reader refuses it; the feed hands its error here)               | the price column    | drop (only drop: the bus's decoders refuse it) |
/// | `crossed`      | a quote with bid > ask; a bid/ask bar row whose bid close is above its ask close  | `bid` / `bid_close` | drop    |
/// | `inconsistent` | a bar with high < low, or open or close outside [low, high]                       | e.g. `close`, `ask_high` | drop |
/// | `backward`     | ts_event below the latest ts_event of the same symbol (equal times are normal)    | `ts_event` (`date`) | drop    |
/// | `outlier`      | a price jump far beyond recent volatility (the rule below)                        | the price column    | flag    |
///
/// **drop**: the row is not published. **flag**: it is published as read. Either way the
/// finding is reported (Finding::message, e.g. "line 17: crossed quote: bid 20 above ask
/// 10 (dropped)"), and counted by kind (Counts). Dropping a crossed or inconsistent row
/// loses nothing the workers would use: they never use one (core/market_check.hpp).
/// A crossed or inconsistent row still moves its symbol's time forward (its time is right,
/// its prices are not), as core::MarketCheck does; a backward row does not.
///
/// **Outlier rule** (a causal, one-sided form of the rule of Barndorff-Nielsen, Hansen,
/// Lunde and Shephard, "Realized kernels in practice: trades and quotes", Econometrics
/// Journal 12(3), 2009, section 3.1, rule Q4/T4: "more than 10 mean absolute deviations
/// from a rolling centred median of 50 observations"; Brownlees and Gallo, "Financial
/// econometric analysis at ultra-high frequency: data handling concerns", CSDA 51(4),
/// 2006, use the same shape with a granularity floor). A feed cannot look ahead, so the
/// window is the past one. Per series (symbol and price type: a quote's mid
/// (bid + ask) / 2, a trade's price, a bar's close; bid and ask bars are two series):
///  - r = |p / ref - 1|, ref = the price of the series' latest accepted record;
///  - m = the mean of the latest W accepted values of r (W = `window`, default 50);
///  - after a warm-up of W accepted returns, the record is an outlier when
///    r > k x max(m, floor) (k = `k`, default 10; floor = `floor_bps` / 10000, default
///    1 bp, so that a flat stretch (m = 0) does not make every tick an outlier);
///  - an outlier changes neither ref nor the window, so a lone bad print is one finding,
///    and the next good print is measured against the last good one;
///  - a **level shift**: when the record after an outlier is within the threshold of that
///    outlier's price (two prints agree on the new level), it is accepted and becomes ref
///    (its return in the window is the one from the outlier's price). A split in unadjusted
///    daily bars is thus one outlier, not a run of them.
/// Returns are doubles (ratios; prices stay exact decimals everywhere else); the decision
/// is a pure function of the file, so every run of the same file flags the same rows.
///
/// Thread-safety: a Check has one owner (not thread-safe); Policy is a value.
/// Errors: Policy::parse throws std::invalid_argument naming the bad item. check() never
/// throws beyond std::bad_alloc.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/messages.hpp"
#include "core/result.hpp"
#include "marketdata/reader.hpp"

namespace marketdata::quality {

/// The kinds of finding, in the order they are tried.
enum class Kind { non_positive, crossed, inconsistent, backward, outlier };
inline constexpr std::size_t kKinds = 5;
/// "non_positive", "crossed", "inconsistent", "backward", "outlier". Pure.
std::string_view to_string(Kind) noexcept;

enum class Action { drop, flag };
/// "drop", "flag". Pure.
std::string_view to_string(Action) noexcept;

/// The outlier rule's parameters (see the file comment).
struct OutlierRule {
  int window = 50;         ///< W: returns in the rolling mean, and the warm-up (>= 1)
  double k = 10;           ///< threshold in multiples of the mean absolute return (> 0)
  double floor_bps = 1;    ///< lower bound of that mean, basis points (>= 0)
  friend bool operator==(const OutlierRule&, const OutlierRule&) = default;
};

/// What to do with each kind, and the outlier rule.
struct Policy {
  std::array<Action, kKinds> action = {Action::drop, Action::drop, Action::drop, Action::drop, Action::flag};
  OutlierRule outlier;

  Action operator[](Kind k) const noexcept { return action[static_cast<std::size_t>(k)]; }

  /// A comma-separated list of `kind=drop|flag` and `outlier_window=N`, `outlier_k=X`,
  /// `outlier_floor_bps=X` applied on top of the defaults; "" = the defaults.
  /// E.g. "outlier=drop,crossed=flag,outlier_k=20". `non_positive=flag` is refused
  /// (such a row cannot be published). Throws std::invalid_argument:
  /// "quality: unknown item \"x=1\" (kinds: ...)".
  static Policy parse(std::string_view spec);
  /// The policy in parse()'s syntax, every item spelled out (for logs and manifests).
  std::string to_string() const;
  friend bool operator==(const Policy&, const Policy&) = default;
};

/// One dropped or flagged row.
struct Finding {
  Kind kind = Kind::crossed;
  Action action = Action::drop;
  std::int64_t line = 0;   ///< 1-based file line (the header is line 1)
  std::string field;       ///< the column, e.g. "ask", "bid_close", "ts_event"
  /// "line 17: crossed quote: bid 20 above ask 10 (dropped)" / "... (flagged)";
  /// an outlier: "line 40: outlier: IBM close 116.06 moves 50.72% from 235.5 (limit 10 x
  /// mean |return| 2.068% of the last 50 = 20.68%) (flagged)".
  std::string message;
};

/// Counts by kind, and the first few lines of each.
struct Counts {
  static constexpr std::size_t kLinesKept = 5;
  std::array<std::int64_t, kKinds> count{};
  std::array<std::vector<std::int64_t>, kKinds> first_lines;  ///< up to kLinesKept each, in file order
  std::int64_t dropped = 0;
  std::int64_t flagged = 0;

  std::int64_t operator[](Kind k) const noexcept { return count[static_cast<std::size_t>(k)]; }
  std::int64_t total() const noexcept { return dropped + flagged; }
  /// "crossed 2 (lines 3, 9), outlier 1 (line 40); dropped 2, flagged 1", or "none".
  std::string to_string() const;
  friend bool operator==(const Counts&, const Counts&) = default;
};

/// The checks over one file, row by row in file order. One per file (state per symbol).
class Check {
 public:
  /// `time_field` names the time column in findings: "ts_event", or "date" for daily bars.
  explicit Check(Policy policy = {}, std::string time_field = "ts_event");

  /// Checks the records of one row (one record; a bars_bid_ask row: its bid bar, then its
  /// ask bar) from line `line`. std::nullopt: publish them. A Finding: counted; publish
  /// them only when its action is flag.
  std::optional<Finding> check_row(std::span<const core::MarketData> row, std::int64_t line);
  /// A row the Reader refused for a price <= 0 (Reader::last_bad_row()): counted as
  /// non_positive and always dropped. `reader_error` is the Reader's Error.
  Finding non_positive(const core::Error& reader_error, std::int64_t line);

  const Counts& counts() const noexcept { return counts_; }
  const Policy& policy() const noexcept { return policy_; }

 private:
  struct Series {
    double ref = 0;           // price of the latest accepted record (0 = none yet)
    double ref_bid = 0, ref_ask = 0;
    std::vector<double> window;  // ring of accepted |returns|
    std::size_t next = 0;        // ring position
    std::optional<double> outlier;  // price of the previous record if it was an outlier
  };
  Finding record(Kind kind, std::int64_t line, std::string field, std::string_view what);
  std::optional<std::pair<std::string, std::string>> outlier(const core::MarketData& md);

  Policy policy_;
  std::string time_field_;
  Counts counts_;
  std::map<std::string, core::TimestampNs> last_ts_;
  std::map<std::pair<std::string, int>, Series> series_;
};

/// One file row, read and checked (CheckedReader::next).
struct Row {
  std::int64_t line = 0;                   ///< its file line
  std::vector<core::MarketData> records;   ///< what to publish: empty when dropped or bad
  std::optional<Finding> finding;          ///< set: the row was dropped or flagged
  std::optional<core::Error> error;        ///< set: a malformed row (Reader's Error), not published
};

/// A marketdata::Reader whose rows pass a Check: what the feed (workers/feed.hpp) and
/// `traderctl backtest` (the inputs it stores or publishes itself) publish, so both
/// publish the same records. Reads the file (I/O); one owner.
class CheckedReader {
 public:
  /// Throws as Reader's constructor, and std::invalid_argument for a bad policy.
  CheckedReader(const std::string& path, Policy policy);
  /// The next row; std::nullopt at end of file. Never throws beyond std::bad_alloc.
  std::optional<Row> next();
  const Reader& reader() const noexcept { return reader_; }
  const Check& check() const noexcept { return check_; }

 private:
  Reader reader_;
  Check check_;
};

}  // namespace marketdata::quality
