/// @file paper_broker.hpp
/// @brief Paper exchange: fills approved orders against the latest market data.
///
/// Pure decide-and-record core (STYLE.md section 4): every input returns the
/// `core::ExecutionReport`s it causes, in order, as data. No clock (time comes from
/// the `ts` argument or the market event's `ts_event`), no I/O, no unordered
/// iteration; the only randomness is the seeded fill model (fill_model.hpp), drawn
/// in input order. Feeding the same inputs to a broker with the same BrokerConfig
/// (random_seed included) rebuilds the same state and byte-identical reports.
/// docs/fill-models.md explains every assumption, with its sources.
///
/// Matching model: top of book, displayed size, no queue position.
///  - The book per symbol is core::TopOfBook (latest quote; trades and bars only
///    while the symbol has no quote) plus the size left at each side's touch:
///    a quote's bid_size / ask_size (absent = unlimited, e.g. FX), for a symbol
///    that has only had trades the last trade's size, for bars unlimited. Fills
///    consume that size; the next quote (or trade, while unquoted) renews it.
///  - A marketable order (market; limit with buy ask <= limit / sell bid >= limit)
///    fills at the touch (buy at the ask, sell at the bid; a limit may improve) at
///    most the size left. The rest: ioc cancels it, fok fills nothing unless the
///    size covers the whole quantity, day / gtc / gtd keep working and fill on
///    later market data (market orders too, at each later touch).
///  - A trade on a quoted symbol whose price is at or through a working limit
///    (buy: price <= limit, sell: price >= limit) fills it at the limit price, at
///    most the trade's size (shared by the orders it reaches, in arrival order).
///  - stop / stop_limit orders wait untriggered until the touch reaches the stop
///    (buy: ask >= stop_price, sell: bid <= stop_price), on arrival or on any later
///    market data; then they act as market / limit orders, and ioc / fok apply at
///    that moment. Untriggered stops rest whatever their time in force.
///  - Bars are a price path (on_bar): resting limits fill at their limit, stops
///    crossed at their stop price, stops gapped through at the open.
///  - Expiry, checked on each market event of the symbol before matching: day
///    orders at the first event of a later UTC date, gtd orders at the first event
///    with ts_event >= expire_time (exec_type expired).
///  - Working orders of one symbol are matched in arrival order; a replace that
///    raises the quantity or changes a price moves the order to the back.
///  - Fill model (BrokerConfig): slippage on liquidity-taking fills (market orders,
///    triggered stops), prob_fill_on_limit for resting limits the market only
///    touches, latency between receipt and the market, commissions.
///  - Venue: reference data (unknown symbols, tick and lot sizes) and instrument
///    halts (on_status) are refused with `rejected` / `cancel_rejected`.
///
/// "denied" is pre-trade risk (pkg/risk); this broker only ever "rejects"
/// (STYLE.md section 2).
///
/// Units: prices in quote currency per unit, quantities in instrument units,
/// money in quote currency (all core::Decimal), times in ns UTC.
/// Errors: business refusals are reports (rejected / cancel_rejected), never
/// exceptions. The constructor throws std::invalid_argument for a configuration
/// validate() refuses; no other member throws except std::bad_alloc and
/// core::ArithmeticError beyond the 128-bit Decimal range (decimal.hpp). Memory: every client_order_id ever seen is kept (duplicate and
/// resend detection).
/// Thread-safety: none. One owner thread calls every member (single writer); const
/// members may run concurrently with each other only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/decimal.hpp"
#include "core/enums.hpp"
#include "core/messages.hpp"
#include "core/time.hpp"
#include "core/top_of_book.hpp"
#include "matching/fill_model.hpp"
#include "matching/instruments.hpp"

namespace matching {

/// Broker options. Every default keeps the plain model: no commission, no reference
/// data, no latency, no slippage, every touched limit fills, no random draws.
///
/// Commissions: per fill, `commission_per_unit` x last_qty + `commission_bps` / 10000
/// x last_qty x last_px; each order pays at least `commission_min_per_order` in all,
/// charged with its first fill (later fills pay only once the order's running total
/// passes the minimum). Rounded half-even to 8 digits. Reported as `commission` on
/// fill reports (quote currency) when any of the three is non-zero.
///
/// Add fields at the end only, with defaults that keep today's behaviour
/// (cmd/execution builds this with designated initializers).
struct BrokerConfig {
  core::Money commission_per_unit;       ///< quote currency per unit filled; >= 0
  core::Decimal commission_bps;          ///< basis points of the fill's notional (qty x price); >= 0
  core::Money commission_min_per_order;  ///< minimum per order, quote currency; >= 0
  /// Reference data by symbol; empty = none (any symbol accepted, nothing checked).
  /// With entries, orders for other symbols are rejected "unknown symbol <sym>".
  Instruments instruments;
  /// ns from receipt to the simulated market, for orders, cancels and replaces
  /// (>= 0; 0 = at once, at the time of receipt). See on_submit / on_cancel.
  core::TimestampNs latency_ns = 0;
  /// Basis points (0 <= bps < 10000) by which liquidity-taking fills (market orders,
  /// triggered stops) fill worse than the touch, rounded away from the trader to the
  /// tick size (else to 8 digits); 0 = at the touch.
  core::Decimal slippage_bps;
  /// Probability (0..1) that a liquidity-taking fill slips one more tick. Needs the
  /// symbol's tick size; without one it does nothing.
  core::Decimal prob_slippage;
  /// Probability (0..1) that a resting limit the market reaches exactly at its price
  /// (a quote's touch or a print equal to the limit) fills on that event; through
  /// the price it always fills. 1 = always (no draw).
  core::Decimal prob_fill_on_limit = core::Decimal::from_raw(core::Decimal::kOne);
  /// Seed of the fill model's generator (splitmix64). Draws happen only for a
  /// probability strictly between 0 and 1. Record it to reproduce a run.
  std::uint64_t random_seed = 0;
  bool charges_commission() const {
    return !commission_per_unit.is_zero() || !commission_bps.is_zero() || !commission_min_per_order.is_zero();
  }
};

/// Report texts, one spelling for code and tests.
inline constexpr std::string_view kTextDuplicate = "duplicate client_order_id";
inline constexpr std::string_view kTextNonPositiveQty = "quantity must be positive";
inline constexpr std::string_view kTextLimitWithoutPrice = "limit order without limit_price";
inline constexpr std::string_view kTextNonPositiveLimit = "limit_price must be positive";
inline constexpr std::string_view kTextUnknownOrder = "unknown client_order_id";
inline constexpr std::string_view kTextCanceledOnRequest = "canceled on request";
inline constexpr std::string_view kTextDayExpired = "day order expired at end of day";
inline constexpr std::string_view kTextGtdExpired = "gtd order expired at expire_time";
inline constexpr std::string_view kTextStopWithoutPrice = "stop order without stop_price";
inline constexpr std::string_view kTextNonPositiveStop = "stop_price must be positive";
inline constexpr std::string_view kTextGtdWithoutExpire = "gtd order without expire_time";
inline constexpr std::string_view kTextIocRest = "ioc: unfilled rest canceled";
inline constexpr std::string_view kTextUnknownOrig = "unknown orig_client_order_id";

/// The first problem with a configuration, as text naming the field and the value
/// (e.g. "prob_slippage 1.5 must be between 0 and 1", "instruments: X tick_size 0
/// must be positive"), or nullopt when PaperBroker accepts it. Pure, thread-safe.
std::optional<std::string> validate(const BrokerConfig& cfg);

class PaperBroker {
 public:
  /// Throws std::invalid_argument(validate(cfg)) for a configuration validate()
  /// refuses (a start-up error: check settings with validate() first).
  explicit PaperBroker(BrokerConfig cfg = {});

  /// An order approved by risk, received at time `ts` (ns UTC).
  ///
  /// Answered at receipt (ts_event = ts), whatever the latency: resends, duplicates
  /// and validation. Then the order reaches the market: at once with latency_ns 0
  /// (reports with ts_event = ts, appended to the same vector); with latency_ns > 0
  /// it is held in flight and reaches the market at the first market event of its
  /// symbol (quote, trade, bar, status) with ts_event >= ts + latency_ns, after that
  /// event updated the book and matched the orders already working, against the book
  /// it left (bars: at the open); its reports come back from
  /// that on_quote / on_trade / on_bar / on_status, with that event's ts_event.
  /// Day orders take the UTC date of ts + latency_ns as their accept date.
  ///
  /// @return the reports, in order. EMPTY for an identical resend (every field equal
  ///   to the order.submit this broker already has under that id, except ts_event):
  ///   it changes nothing and is answered by nothing (risk-state upstream answers
  ///   resends from its own state); and empty for an accepted order while latency_ns
  ///   > 0. Otherwise:
  ///   - at receipt, `[rejected]` (order_status rejected, leaves 0) with text:
  ///       "duplicate client_order_id" (the id is known with different content, or is
  ///       the new id of a replace), "unknown symbol <sym>" (instruments configured,
  ///       symbol not among them), "quantity must be positive",
  ///       "quantity <q> is not a multiple of lot size <l>",
  ///       "<order_type> order without limit_price", "limit_price must be positive",
  ///       "limit_price <p> is not a multiple of tick size <t>",
  ///       "stop order without stop_price" (stop and stop_limit),
  ///       "stop_price must be positive", "stop_price <p> is not a multiple of tick size <t>",
  ///       "gtd order without expire_time", "expire_time <t> is not after the order time <ts>";
  ///   - at the market, `[rejected]` with "symbol <sym> is halted: <reason>" (or
  ///     "symbol <sym> is halted"), or "no market data for <symbol>" (market order and
  ///     no price on the side it needs);
  ///   - `[new, fill]` / `[new, partial_fill, ...]` when marketable on arrival (see the
  ///     model above): a fill of at most the displayed size, then for ioc the rest
  ///     canceled (text "ioc: unfilled rest canceled"); fok fills in full or not at all;
  ///   - `[new, canceled]` for an ioc/fok that cannot fill at once, text
  ///     "<tif>: not immediately marketable", or for fok with too little size
  ///     "fok: displayed size <s> does not cover quantity <q>";
  ///   - `[new]` (possibly followed by a partial fill) for a day/gtc/gtd order that
  ///     keeps working, and for an untriggered stop of any time in force;
  ///   - `[new, expired]` for a gtd order that reaches the market at or after its
  ///     expire_time (only with latency).
  /// A duplicate's rejected report copies the new message's fields; its exec_id
  /// continues the existing id's sequence so exec_ids stay unique.
  std::vector<core::ExecutionReport> on_submit(const core::OrderSubmit& o, core::TimestampNs ts);

  /// Cancel/replace (FIX 35=G) received at time `ts`. On success, one `replaced`
  /// report on the NEW client_order_id with orig_client_order_id set, quantity the
  /// new quantity, cum_qty and avg_px carried over, leaves = quantity - cum_qty,
  /// order_status the order's (new or partially_filled); the old id is done (later
  /// cancels and replaces of it are cancel_rejected). Fields the replace leaves out
  /// keep their values. If the replaced order is now marketable (or its stop
  /// triggers) fills follow at once. Otherwise one `cancel_rejected` on the new id
  /// (orig_client_order_id set; order unchanged), order_status the old order's
  /// status, text:
  ///   "unknown orig_client_order_id" (order_status rejected), "order is already <status>",
  ///   "order was replaced by <id>", "duplicate client_order_id" (the new id was used),
  ///   "quantity <q> is not above the filled quantity <cum>",
  ///   "limit_price does not apply to a <type> order" (likewise stop_price),
  ///   "quantity must be positive", "limit_price must be positive", "stop_price must be positive",
  ///   "quantity <q> is not a multiple of lot size <l>",
  ///   "limit_price <p> is not a multiple of tick size <t>" (likewise stop_price),
  ///   "symbol <sym> is halted: <reason>" (checked at the market).
  /// With latency_ns > 0 these checks run at receipt (refusals answered at once,
  /// ts_event = ts) and again when the replace reaches the market (the order may
  /// have filled meanwhile); an accepted replace returns nothing at receipt and its
  /// new id is taken from then on (a submit with it is a duplicate; a cancel or a
  /// replace naming it follows it to the market).
  std::vector<core::ExecutionReport> on_replace(const core::OrderReplace& r, core::TimestampNs ts);

  /// Cancel request received at time `ts` (ns UTC). Cancels are accepted while the
  /// symbol is halted.
  /// @return with latency_ns 0, one report: `canceled` (text "canceled on request",
  ///   leaves 0, cum unchanged) for a live order; otherwise `cancel_rejected` with
  ///   order_status = the order's current status and text "unknown client_order_id"
  ///   (order_status rejected, no order fields) or "order is already <status>"
  ///   (e.g. "order is already filled"), or "order was replaced by <id>".
  ///   With latency_ns > 0: unknown and finished orders are answered at once as
  ///   above; for a working order one `pending_cancel` (FIX 150=6; order_status,
  ///   cum and leaves unchanged, ts_event = ts), and the cancel travels to the market:
  ///   `canceled` there, or `cancel_rejected` if the order finished meanwhile. For an
  ///   order (or a replace's new id) still in flight nothing is returned: the cancel
  ///   follows it and is answered when both reach the market.
  std::vector<core::ExecutionReport> on_cancel(const core::OrderCancel& c, core::TimestampNs ts);

  /// New top of book and displayed sizes for q.symbol. Then, for that symbol's working
  /// orders in arrival order: expiry (day: first event of a later UTC date, text "day
  /// order expired at end of day"; gtd: ts_event >= expire_time, text "gtd order
  /// expired at expire_time"), stop triggers, fills at the touch within the displayed
  /// size (none while the symbol is halted). Then the commands in flight that are due
  /// (ts + latency_ns <= q.ts_event) reach the market, in order of receipt, against
  /// this quote and what its displayed size has left: a market order with latency L
  /// fills at the first quote at or after receipt + L (NautilusTrader settles delayed
  /// commands after the datum that makes them due, the same way). Only this symbol's
  /// market data advances its orders.
  /// @return those reports, ts_event = q.ts_event; empty if nothing happened.
  std::vector<core::ExecutionReport> on_quote(const core::Quote& q);

  /// A trade on a symbol never quoted sets bid and ask to t.price with t.size at
  /// each, then acts as on_quote. On a quoted symbol the book stays; after expiry
  /// and matching as on_quote, the trade fills working limit-priced orders it
  /// reaches (price at or through the limit; exactly at it with probability
  /// prob_fill_on_limit) at their limit, at most t.size in all. Then, as on_quote, the
  /// commands due reach the market (after the print: it does not fill them).
  /// ts_event = t.ts_event.
  std::vector<core::ExecutionReport> on_trade(const core::Trade& t);

  /// Bar (ts_event = bar end), walked as a price path: open, then the extreme nearer
  /// the open (high if high - open <= open - low, else low), the other extreme, close
  /// (NautilusTrader's adaptive high/low ordering; on a tie, high first). Each point
  /// is a print of unlimited size: trade / mid bars set both sides while the symbol
  /// has no quote (else they leave the book and fill limits they reach at the limit);
  /// bid / ask bars set that side. Expiry once, before the path; commands in flight
  /// due by the bar's end arrive at the open (and take liquidity there: market
  /// orders fill at the open). At the open the book jumps: a stop it gaps through
  /// fills at the open; after it the price moves continuously, so a stop crossed
  /// triggers at and fills at its stop price (plus slippage). A resting limit the
  /// path reaches fills at its limit price, never better, gap or not (LEAN's equity
  /// model, NautilusTrader's maker fills). Every report has ts_event = b.ts_event.
  std::vector<core::ExecutionReport> on_bar(const core::Bar& b);

  /// The venue's status of s.symbol at s.ts_event: it applies, then commands in flight
  /// that are due reach the market (under the new status). `halted`:
  /// new orders and replaces on the symbol are refused (`rejected` / `cancel_rejected`,
  /// text "symbol <sym> is halted: <reason>", or "symbol <sym> is halted" when the
  /// reason is empty); working orders stay but nothing triggers or fills while halted;
  /// market data still update the book; cancels go through; day / gtd expiry goes on.
  /// `trading` resumes: expiry, then working orders are matched at once against the
  /// book (ts_event = s.ts_event). A symbol never seen before may be halted too.
  /// @return the reports of due arrivals, expiries and (on resume) fills.
  std::vector<core::ExecutionReport> on_status(const core::InstrumentStatus& s);

  /// A corporate action of a.symbol at a.ts_event. Commands in flight that are due
  /// reach the market first (as on_status). A `split` then cancels every working order
  /// on the symbol (text "canceled: <symbol> split, ratio <r>"), as brokers cancel open
  /// orders across a split rather than guess new prices, and restates the symbol's last
  /// prices (divided by the ratio) and displayed sizes (multiplied) until the next data.
  /// A `dividend` changes nothing at the venue (the price drop comes with the data).
  /// @return the reports of due arrivals and the cancels, in arrival order.
  std::vector<core::ExecutionReport> on_action(const core::CorporateAction& a);

  /// Number of working orders (resting limits, working market rests, untriggered
  /// stops) over all symbols; orders still in flight are not counted. O(symbols).
  std::size_t open_orders() const;

  /// Commands (submits, cancels, replaces) received but not yet at the market;
  /// always 0 with latency_ns 0. O(symbols).
  std::size_t in_flight() const;

  /// BrokerConfig::random_seed, for the service to record next to the reports.
  std::uint64_t random_seed() const noexcept { return cfg_.random_seed; }

  /// Current status of an order, or nullopt if this broker never accepted or rejected
  /// it (or it is still in flight, not acknowledged yet). A replaced id keeps the
  /// status it had when it was replaced (see replaced_by). O(log orders).
  std::optional<core::OrderStatus> order_status(const std::string& client_order_id) const;

  /// The id that replaced `client_order_id`, or nullopt if it was not replaced.
  std::optional<std::string> replaced_by(const std::string& client_order_id) const;

 private:
  /// An order.submit on its way to the market (the Order itself is in orders_).
  struct SubmitRef {
    std::string client_order_id;
  };
  /// A command received but not yet at the market (latency_ns > 0).
  struct InFlight {
    std::variant<SubmitRef, core::OrderCancel, core::OrderReplace> cmd;
    core::TimestampNs due = 0;  ///< time of receipt + latency_ns
  };
  struct Book {
    core::TopOfBook top;
    std::optional<core::Quantity> bid_left;  ///< size left at the bid; nullopt = unlimited
    std::optional<core::Quantity> ask_left;  ///< size left at the ask; nullopt = unlimited
    std::map<std::uint64_t, std::string> resting;  ///< arrival sequence -> client_order_id
    std::deque<InFlight> in_flight;                ///< commands for this symbol, in order of receipt
    bool halted = false;
    std::string halt_reason;
  };
  struct Order {
    core::OrderSubmit submit;
    core::OrderStatus status = core::OrderStatus::new_;
    core::Quantity cum_qty;
    core::Price avg_px;           ///< notional_e16 / cum_qty, half-even
    __int128 notional_e16 = 0;    ///< sum of last_px.raw x last_qty.raw over the fills (exact, 10^-16)
    std::int64_t accept_day = 0;  ///< floor(time it reaches the market / kNsPerDay)
    bool triggered = true;        ///< false while a stop / stop_limit waits for its stop price
    bool in_flight = false;       ///< received, not yet at the market (no report sent yet)
    std::uint64_t seq = 0;        ///< key in Book::resting while working
    std::optional<std::string> replaced_by;
    bool via_replace = false;     ///< created by a replace (its id never came in an order.submit)
    core::Money commission_raw;   ///< per-unit + bps commission over all fills, before the minimum
    core::Money commission_paid;  ///< what the fill reports have charged so far
  };
  /// How one matching pass sees the market (a quote, a trade, one point of a bar path).
  struct Step {
    bool expire = true;                        ///< check day / gtd expiry first (once per market event)
    bool buys = true;                          ///< match buy orders (their side, the ask, may have moved)
    bool sells = true;                         ///< match sell orders (the bid)
    std::optional<core::Price> bid_from;       ///< bar path: the bid moved continuously from here to the touch
    std::optional<core::Price> ask_from;       ///< likewise the ask; nullopt = the side jumped (quote, trade, open)
    std::optional<core::Price> print;          ///< a print that fills working limits it reaches, at their limit
    std::optional<core::Quantity> print_size;  ///< nullopt = unlimited (bars)
    bool bar = false;                          ///< a point of a bar path: resting limits fill at their limit
  };

  core::ExecutionReport report(const core::OrderSubmit& o, core::ExecType type,
                               core::OrderStatus status, core::TimestampNs ts);
  core::ExecutionReport report(Order& ord, core::ExecType type, core::OrderStatus status,
                               core::TimestampNs ts, std::string text = {});
  core::ExecutionReport fill(Order& ord, core::Quantity qty, core::Price px, core::TimestampNs ts);
  /// Triggers, fills within the size left, applies ioc/fok. `resting`: the order was
  /// working before this pass (not arriving or replaced now). `from`: the order's side
  /// of the book moved continuously from there to the touch (bar path). Returns true
  /// while the order keeps working.
  bool work(Order& ord, Book& book, core::TimestampNs ts, std::vector<core::ExecutionReport>& out,
            bool resting, std::optional<core::Price> from = std::nullopt, bool maker_at_limit = false);
  /// The order reaches the market at market time `ts` (arrival = receipt + latency).
  void arrive(Order& ord, core::TimestampNs ts, core::TimestampNs arrival, std::vector<core::ExecutionReport>& out);
  void do_cancel(const core::OrderCancel& c, core::TimestampNs ts, std::vector<core::ExecutionReport>& out);
  void do_replace(const core::OrderReplace& rq, core::TimestampNs ts, std::vector<core::ExecutionReport>& out);
  /// Pushes the cancel_rejected answer and returns true if `rq` cannot be done now.
  bool replace_refused(const core::OrderReplace& rq, core::TimestampNs ts, bool at_market,
                       std::vector<core::ExecutionReport>& out);
  /// Commands of `symbol` due by `ts` reach the market, in order of receipt.
  void deliver(const std::string& symbol, core::TimestampNs ts, std::vector<core::ExecutionReport>& out);
  void expire(Book& book, core::TimestampNs ts, std::vector<core::ExecutionReport>& out);
  void match(Book& book, core::TimestampNs ts, const Step& step, std::vector<core::ExecutionReport>& out);
  std::string next_exec_id(const std::string& client_order_id);
  const Instrument* instrument(const std::string& symbol) const;
  static std::optional<std::string> halted(const Book& book, const std::string& symbol);

  BrokerConfig cfg_;
  FillModel fill_model_;
  std::map<std::string, Book> books_;                 ///< by symbol
  std::map<std::string, Order> orders_;               ///< every order received (in flight, working, done)
  std::map<std::string, std::string> reserved_;       ///< new id of a replace in flight -> symbol
  std::map<std::string, std::uint64_t> exec_seq_;     ///< last exec number per client_order_id
  std::uint64_t arrival_seq_ = 0;
};

}  // namespace matching
