/// @file paper_broker.hpp
/// @brief Paper exchange: fills approved orders against the latest market data.
///
/// Pure decide-and-record core (STYLE.md section 4): every input returns the
/// `core::ExecutionReport`s it causes, in order, as data. No clock (time comes
/// from the `ts` argument or the market event's `ts_event`), no I/O, no
/// randomness, no unordered iteration: feeding the same inputs rebuilds the same
/// state and the same reports.
///
/// Matching model (this issue): top of book only, no queue position, no size
/// limit. A marketable order fills its FULL quantity at the touch (buy at the
/// ask, sell at the bid) regardless of displayed size; a resting limit order
/// fills in full on the first market update that makes it marketable, at that
/// update's touch price (so a limit buy can fill below its limit: price
/// improvement). Resting orders of one symbol are matched in arrival order.
///
/// "denied" is pre-trade risk (pkg/risk); this broker only ever "rejects"
/// (STYLE.md section 2).
///
/// Errors: business refusals are reports (rejected / cancel_rejected), never
/// exceptions; no member throws except std::bad_alloc. Decimal overflow aborts.
/// Memory: every client_order_id ever seen is kept (duplicate detection).
/// Thread-safety: none. One owner thread calls every member (single writer).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/decimal.hpp"
#include "core/enums.hpp"
#include "core/messages.hpp"
#include "core/time.hpp"
#include "core/top_of_book.hpp"

namespace matching {

/// Placeholder for later options (latency, slippage, commissions). Empty today.
struct BrokerConfig {};

/// Report texts, one spelling for code and tests.
inline constexpr std::string_view kTextDuplicate = "duplicate client_order_id";
inline constexpr std::string_view kTextNonPositiveQty = "quantity must be positive";
inline constexpr std::string_view kTextLimitWithoutPrice = "limit order without limit_price";
inline constexpr std::string_view kTextNonPositiveLimit = "limit_price must be positive";
inline constexpr std::string_view kTextUnknownOrder = "unknown client_order_id";
inline constexpr std::string_view kTextCanceledOnRequest = "canceled on request";
inline constexpr std::string_view kTextDayExpired = "day order expired at end of day";

class PaperBroker {
 public:
  /// Thread-safety: not thread-safe; single owner. Never throws (beyond std::bad_alloc).
  explicit PaperBroker(BrokerConfig cfg = {});

  /// An order approved by risk arrives at time `ts` (ns UTC, used as every
  /// report's ts_event and, for day orders, as the accept date = floor(ts / 1 day)).
  ///
  /// @return the reports it causes, in order; never empty:
  ///   - `[rejected]` (order_status rejected, leaves 0) with text:
  ///       "duplicate client_order_id" (id already seen by this broker, in any state),
  ///       "quantity must be positive", "limit order without limit_price",
  ///       "limit_price must be positive",
  ///       "no market data for <symbol>" (market order and no price on the side it needs);
  ///   - `[new, fill]` when marketable on arrival: market buy at the ask, market sell
  ///     at the bid; limit buy if ask <= limit_price (fills at the ask), limit sell if
  ///     bid >= limit_price (fills at the bid). Full quantity, any time_in_force;
  ///   - `[new, canceled]` for a non-marketable ioc/fok limit, text
  ///     "<tif>: not immediately marketable" ("ioc: ..." or "fok: ...");
  ///   - `[new]` for a non-marketable day/gtc limit, which rests (see on_quote).
  /// A duplicate's rejected report copies the new message's fields; its exec_id
  /// continues the existing id's sequence so exec_ids stay unique.
  std::vector<core::ExecutionReport> on_submit(const core::OrderSubmit& o, core::TimestampNs ts);

  /// Cancel request at time `ts` (ns UTC).
  /// @return one report: `canceled` (text "canceled on request", leaves 0, cum
  ///   unchanged) for a live order; otherwise `cancel_rejected` with
  ///   order_status = the order's current status and text "unknown client_order_id"
  ///   (order_status rejected, no order fields) or "order is already <status>"
  ///   (e.g. "order is already filled").
  std::vector<core::ExecutionReport> on_cancel(const core::OrderCancel& c, core::TimestampNs ts);

  /// New top of book for q.symbol (replaces both sides). Then, for that symbol:
  /// first day orders accepted on an earlier UTC date than floor(q.ts_event / 1 day)
  /// expire (exec_type expired, text "day order expired at end of day"); then
  /// resting limit orders that became marketable fill at the quote (arrival order).
  /// Expiry is per symbol: only this symbol's market data advances its day.
  /// @return those reports, ts_event = q.ts_event; empty if nothing happened.
  std::vector<core::ExecutionReport> on_quote(const core::Quote& q);

  /// A trade sets both bid and ask to t.price only while the symbol has had no
  /// quote (a Quote or a bid/ask bar); then expiry and matching as on_quote.
  std::vector<core::ExecutionReport> on_trade(const core::Trade& t);

  /// Bar (ts_event = bar end): price_type trade or mid acts like a trade at the close
  /// (sets both sides only while the symbol has had no quote); price_type bid / ask
  /// sets that side to the close (and counts as a quote). Then expiry and matching.
  std::vector<core::ExecutionReport> on_bar(const core::Bar& b);

  /// Number of live (resting) orders over all symbols. O(symbols).
  std::size_t open_orders() const;

  /// Current status of an order, or nullopt if this broker never accepted or rejected it.
  std::optional<core::OrderStatus> order_status(const std::string& client_order_id) const;

 private:
  struct Book {
    core::TopOfBook top;
    std::map<std::uint64_t, std::string> resting;  ///< arrival sequence -> client_order_id
  };
  struct Order {
    core::OrderSubmit submit;
    core::OrderStatus status = core::OrderStatus::new_;
    core::Quantity cum_qty;
    core::Price avg_px;
    std::int64_t accept_day = 0;  ///< floor(accept ts / kNsPerDay)
  };

  core::ExecutionReport report(const core::OrderSubmit& o, core::ExecType type,
                               core::OrderStatus status, core::TimestampNs ts);
  core::ExecutionReport report(Order& ord, core::ExecType type, core::OrderStatus status,
                               core::TimestampNs ts, std::string text = {});
  core::ExecutionReport fill(Order& ord, core::Quantity qty, core::Price px, core::TimestampNs ts);
  std::optional<core::Price> marketable_price(const Order& ord, const Book& book) const;
  std::vector<core::ExecutionReport> on_market(const std::string& symbol, core::TimestampNs ts);
  std::string next_exec_id(const std::string& client_order_id);

  BrokerConfig cfg_;
  std::map<std::string, Book> books_;                 ///< by symbol
  std::map<std::string, Order> orders_;               ///< every accepted or rejected order
  std::map<std::string, std::uint64_t> exec_seq_;     ///< last exec number per client_order_id
  std::uint64_t arrival_seq_ = 0;
};

}  // namespace matching
