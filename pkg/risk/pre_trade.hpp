/// @file pre_trade.hpp
/// @brief Pre-trade risk: approves or denies each order and replace before it reaches
///        the venue, and moves the trading state by itself on a daily loss or a drawdown.
///
/// Pure (STYLE.md section 4): no clock, no I/O, no logging. Time comes from the
/// events' `ts_event`. State is rebuilt by replaying, in store order, the same market
/// data, approved orders and replaces, execution reports (risk's own denials
/// included), recorded risk.state events (`restore`) and risk.policy events
/// (`set_policy`); see "Rebuild" below.
/// A refusal is data (`Decision{approved = false, reason}`), never an exception
/// (STYLE.md section 6); the service turns it into an `ExecutionReport`: exec_type
/// `denied` for an order (`denied_report`), `cancel_rejected` for a replace
/// (`denied_replace_report`). Cancels are never checked: they always pass.
///
/// Every denial text starts with the name of the check that denied, then the value
/// and the limit: `"<check>: <what> <value> exceeds limit <limit>"` (see `check`).
/// A value equal to its limit passes; only "exceeds" denies. Every limit added
/// after the first version defaults to "off" (std::nullopt or 0), so a default
/// policy behaves exactly as `Limits{}` always did. The rules are written down for
/// people in docs/trading-rules.md ("Pre-trade risk").
///
/// Orders and ids. The engine remembers every client_order_id it decided (approved or
/// denied) and every id named by an execution report, with the order's terms, the
/// highest cum_qty and the latest order_status reported:
///  - an identical resend of a decided order (every field equal except ts_event) is
///    not decided again: Decision{duplicate = true}, nothing recorded or counted;
///  - any other reuse of a known id is denied ("duplicate client_order_id: ...");
///  - a fill is applied once: only a report whose cum_qty is above the cum_qty already
///    seen for that order moves the position (the same report may arrive twice
///    around a restart); a replaced order's new id inherits the old id's cum_qty.
///
/// Working orders (open-order exposure, issue 11). An order is working while it is
/// open (OrderState::open: approved, not terminal, not replaced); it counts its
/// leaves, order quantity - cum_qty (never below 0), on its side of its symbol
/// (working_qty, exposure). The figures follow the events exactly: an approval adds
/// the order's quantity; a fill moves last_qty from working to position (a repeated
/// report, cum_qty already seen, moves nothing); a terminal report (filled, canceled,
/// expired, rejected) removes what is left; a `replaced` report moves the order to the
/// new id with the new quantity (leaves = new quantity - inherited cum_qty). An
/// approved replace changes nothing until the venue's `replaced` report. Checks 7 and 8
/// count the working orders; a rebuild (below) gives the same figures.
///
/// Rebuild. To rebuild after a restart, construct the engine with the configured
/// limits, call set_replaying(true), feed every recorded event in store order:
/// market data (on_quote / on_trade / on_bar), approved order.submit (on_approved),
/// approved order.replace (on_approved_replace), execution reports (on_execution,
/// risk's own denied and cancel_rejected reports included), risk.state events
/// (restore) and risk.policy events (set_policy); then set_replaying(false, ts) with
/// the time of the last event. While replaying, the automatic transitions are not
/// evaluated (the recorded risk.state events say what happened); the evaluation at
/// the end catches a transition that a crash prevented from being recorded.
///
/// Errors: no member throws except std::bad_alloc, and core::ArithmeticError if a
/// figure leaves the 128-bit Decimal range (unreachable with wire-range inputs; the
/// worker then quarantines the message, decimal.hpp).
/// Memory: one entry per symbol, per client_order_id seen (kept for the duplicate
/// check: a few hundred bytes each, never dropped), per working order (its limit_price)
/// and per order approved within the rate window of each strategy.
/// Thread-safety: none. One owner thread calls every member (single writer).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/decimal.hpp"
#include "core/enums.hpp"
#include "core/messages.hpp"
#include "core/result.hpp"
#include "core/risk_policy.hpp"
#include "core/top_of_book.hpp"
#include "core/time.hpp"
#include "portfolio/portfolio.hpp"

namespace risk {

/// The policy types live in core/risk_policy.hpp (the wire messages carry them);
/// these names keep the risk library's spelling.
using core::Limits;
using core::RiskPolicy;
using core::SymbolLimits;

/// Checks a policy before it is installed (the service rejects a bad policy
/// update with this error and keeps the old policy). Requires max_order_qty,
/// max_order_notional and every set optional to be > 0, the counts to be >= 0,
/// rate_window_ns > 0 and drawdown_action reducing or halted ("defaults.drawdown_action:
/// must be \"reducing\" or \"halted\", got \"active\""). Error.field is the JSON path,
/// e.g. "defaults.max_position" or "per_symbol.AAPL.price_band_bps". Pure.
/// @return std::nullopt if valid, else the first problem found.
std::optional<core::Error> validate(const RiskPolicy& p);

/// Outcome of `RiskEngine::check` / `check_replace`.
struct Decision {
  bool approved;
  std::string reason;  ///< "" when approved; the denial text, or why a resend was ignored
  /// An identical resend of a client_order_id already decided: approved is false, but
  /// it is NOT a denial: nothing was recorded or counted, and the service publishes
  /// no report (it may answer a requester with `reason`, "resend of <id> ignored:
  /// already approved" or "... already denied").
  bool duplicate = false;
  /// On a denial: the exec_id its report carries, "<client_order_id>-denied" for the
  /// first denial naming that id, "<client_order_id>-denied-<n>" for the n-th (an id
  /// reused again and again). Unique and deterministic (a rebuild counts the recorded
  /// denials). "" when approved or duplicate.
  std::string exec_id = {};
};

/// One symbol's position and working orders, in instrument units (RiskEngine::exposure).
struct SymbolExposure {
  core::Quantity position;      ///< signed net position from fills (+ long, - short)
  core::Quantity working_buy;   ///< leaves of the working buy orders (>= 0)
  core::Quantity working_sell;  ///< leaves of the working sell orders (>= 0)
  /// The position if every working buy filled and no sell did: position + working_buy.
  core::Quantity worst_long() const { return position + working_buy; }
  /// The position if every working sell filled and no buy did: position - working_sell.
  core::Quantity worst_short() const { return position - working_sell; }
  friend bool operator==(const SymbolExposure&, const SymbolExposure&) = default;
};

/// What the engine knows about one client_order_id (RiskEngine::order).
struct OrderState {
  /// The order's terms: as approved or denied; for a replaced order's new id, the
  /// original's terms with the new quantity and prices and this id; for an id known
  /// only from execution reports, the terms those reports carry.
  core::OrderSubmit order;
  core::Quantity cum_qty;       ///< highest cum_qty reported (inherited across a replace)
  core::Price avg_px;           ///< avg_px of the latest report that advanced or kept cum_qty
  core::OrderStatus status = core::OrderStatus::new_;  ///< latest order_status reported
  bool approved = false;        ///< decided and approved by this engine
  bool open = false;            ///< counts in open_orders(): approved, not terminal, not replaced
  /// What it counts in working_qty(): order.quantity - cum_qty (>= 0) while open, else 0.
  core::Quantity working_qty;
  std::optional<std::string> replaced_by;  ///< the new id once a `replaced` report moved the order
  friend bool operator==(const OrderState&, const OrderState&) = default;
};

class RiskEngine {
 public:
  /// Starts in TradingState::active with reason "", policy{.defaults = limits},
  /// no positions, prices, orders or P&L. Automatic transitions are armed; not replaying.
  /// `valuation`: the account's base currency, each symbol's quote currency and
  /// multiplier, configured rates (portfolio/fx.hpp); notional limits (checks 4, 6, 8)
  /// and the P&L of the automatic transitions are in its base currency. Default: one
  /// unnamed currency, multipliers 1.
  explicit RiskEngine(Limits limits, portfolio::Valuation valuation = {});

  /// Runs every check without recording anything (a query); the first failing
  /// one wins, in this order (L = policy().for_symbol(o.symbol)):
  ///  0. id:        o.client_order_id already known -> an identical resend (every
  ///                field equal but ts_event) of a decided order is a duplicate
  ///                (Decision::duplicate, "resend of <id> ignored: already approved" /
  ///                "... already denied"); anything else is denied:
  ///                "duplicate client_order_id: <id> is already used by another order".
  ///  1. state:     halted -> "trading halted: <state_reason()>".
  ///  2. quantity:  quantity > L.max_order_qty ->
  ///                "max_order_qty: quantity <q> exceeds limit <limit>".
  ///  3. reference: the price used for notional is the limit_price of a limit or
  ///                stop-limit order, else (market, stop) the ask for a buy / bid for a
  ///                sell from the symbol's latest market data; none -> "no reference price for <symbol>".
  ///  4. notional:  |quantity| x price x multiplier, converted into the base currency
  ///                (portfolio::notional, portfolio::FxRates: the data's pair mid, else
  ///                the configured rate; Decimal mul rounded half-even to 8 digits)
  ///                > L.max_order_notional (base currency) ->
  ///                "max_order_notional: notional <n> exceeds limit <limit>", or for a
  ///                symbol quoted in another currency "max_order_notional: notional
  ///                <n> <CCY> = <b> <BASE> exceeds limit <limit>". No rate for the
  ///                symbol's currency yet -> "max_order_notional: no <CCY> rate to value
  ///                <symbol> in <BASE> (...)": a limit that cannot be evaluated denies.
  ///  5. price band (orders with a limit_price: limit, stop_limit; when
  ///                L.price_band_bps is set): the distance
  ///                |limit_price - mid| x 10000 / mid (bps, Decimal rounded to 8 digits)
  ///                > band -> "price_band: limit_price <p> is <d> bps from mid <m>, band
  ///                <b> bps" (<d> shown rounded UP to 2 decimals, so it always reads
  ///                above the band). mid = (bid + ask) / 2, or the one side known (bid
  ///                or ask bar files), by the core::TopOfBook rule. No market data for
  ///                the symbol -> "price_band: no reference mid for <symbol>".
  ///  6. reducing:  in reducing state the order must shrink |position| without flipping it:
  ///                "reducing: order would increase position" (same side as the position,
  ///                or position flat) or "reducing: order would flip position".
  ///  7. position (worst case per side, as NautilusTrader's and brokers' pre-trade
  ///                checks): P = position(o.symbol), W = working_qty(o.symbol, o.side).
  ///                before = P + W for a buy, P - W for a sell: the position if every
  ///                working order on the order's side filled and none on the other;
  ///                after = before + quantity (buy), before - quantity (sell).
  ///                |after| > L.max_position and |after| > |before| -> denied. An order
  ///                that cannot make its side's worst case larger always passes (a buy
  ///                while P + W is short by at least half the order, a sell likewise):
  ///                a pure reduction is never denied. Each side is checked alone, as an
  ///                order never changes the other side's figure: a sell while long with
  ///                working buys is judged on P - W(sell) - quantity only, so it passes
  ///                even when P + W(buy) exceeds the limit (e.g. after the limit was
  ///                lowered). Text: "max_position: position with working orders after
  ///                fill <after> exceeds limit <l>", or, when W = 0 (the figure is then
  ///                the position after this fill), "max_position: position after fill
  ///                <after> exceeds limit <l>".
  ///  8. gross:     per symbol s with position P and working quantities B (buy) and S
  ///                (sell): exposure(s) = max(|P + B|, |P - S|) x mark(s) (the larger
  ///                worst case, portfolio::notional, in the base currency as check 4;
  ///                a symbol without a rate denies as check 4 does); gross = the sum over every symbol
  ///                with a position or working orders. before = today's gross; after =
  ///                the same with o.quantity added to B (buy) or S (sell) of o.symbol.
  ///                after > max_gross_exposure and after > before -> "max_gross_exposure:
  ///                gross exposure with working orders after fill <g> exceeds limit <l>",
  ///                or, when no symbol has a working order (the figure is then the
  ///                positions after this fill), "max_gross_exposure: gross exposure after
  ///                fill <g> exceeds limit <l>". mark(s) = mid (as in 5), else the last
  ///                fill price of s, else the highest limit_price of s's working orders
  ///                (for o.symbol: the highest of those and the price of 3); a symbol
  ///                with none of these counts 0.
  ///  9. open orders: open_orders() + 1 > max_open_orders ->
  ///                "max_open_orders: open orders after approval <n> exceeds limit <l>".
  /// 10. rate:      n = orders and replaces approved for o.strategy_id with ts_event in
  ///                (o.ts_event - rate_window_ns, o.ts_event], plus this one;
  ///                n > max_orders_per_window -> "max_orders_per_window: <n> orders in
  ///                <window> for strategy <strategy_id or manual>, limit <l>"; the window
  ///                reads "1s", "250ms", "10us" or "7ns" (largest exact unit).
  /// 11. strategy:  when policy().per_strategy has o.strategy_id (S), its own limits,
  ///                on top of the account's and the symbol's: quantity > S.max_order_qty
  ///                -> "max_order_qty: quantity <q> exceeds strategy <id>'s limit <l>";
  ///                notional (as check 4, base currency) > S.max_order_notional ->
  ///                "max_order_notional: notional <n> exceeds strategy <id>'s limit <l>";
  ///                the strategy's own worst case on the order's side (its fills' position
  ///                on the symbol plus its working orders there, as check 7 on its share:
  ///                strategy_exposure) > S.max_position and larger than before ->
  ///                "max_position: strategy <id>'s position [with working orders ]after
  ///                fill <after> exceeds its limit <l>". Orders without a strategy_id are
  ///                the strategy "" (not nameable in the policy: no such limits).
  /// Quantity positivity and limit_price presence are the venue's checks (it rejects).
  /// Positions are from fills; checks 7 and 8 add the working orders (see "Working
  /// orders" above); check 6 (reducing) looks at the position only.
  Decision check(const core::OrderSubmit& o) const;

  /// check(o), and records the outcome: an approval as on_approved(o); a denial
  /// remembers the id (so a resend is recognised) and the denial count behind
  /// Decision::exec_id; a duplicate records nothing. What the service calls per order.
  Decision decide(const core::OrderSubmit& o);

  /// Checks an order.replace (FIX 35=G) without recording anything. N = r.client_order_id
  /// (the new id), O = the order r.orig_client_order_id, T = O's current terms,
  /// L = policy().for_symbol(T.symbol), new quantity q' = r.quantity or T.quantity.
  /// The first rule that applies wins:
  ///  0. N already known: an identical resend (every field equal but ts_event) of a
  ///     decided replace is a duplicate ("resend of <N> ignored: already approved" /
  ///     "... already denied"); other reuses are step 2.
  ///  1. O unknown -> approved (the venue answers cancel_rejected; a denial report
  ///     could not name the order's symbol).
  ///  2. N already known -> "duplicate client_order_id: <N> is already used by another order".
  ///  3. halted -> "trading halted: <state_reason()>" (cancels still always pass).
  ///  4. O terminal or already replaced -> approved (the venue answers cancel_rejected).
  ///  5. quantity (when r.quantity is set): q' > L.max_order_qty -> as check 2.
  ///  6. notional (when r.quantity or r.limit_price is set): q' at the new or kept
  ///     limit price, else the reference price of T's side (none -> "no reference
  ///     price for <symbol>") > L.max_order_notional -> as check 4.
  ///  7. price band (when r.limit_price is set) -> as check 5.
  ///  8. reducing: q' > T.quantity -> "reducing: replace would increase quantity".
  ///  9. position and gross exposure (when q' > T.quantity): as checks 7 and 8 for an
  ///     order of the INCREASE q' - T.quantity on T's side (O's leaves already count as
  ///     working, so the figure is what O's new leaves give). A replace that lowers the
  ///     quantity or only moves a price is never denied by 7 and 8.
  /// 10. rate: the replace counts like an order of T.strategy_id at r.ts_event (check 10).
  /// 11. strategy (T.strategy_id's limits, check 11): quantity and notional as 5 and 6,
  ///     position for the increase as 9.
  /// The open-order count does not change (check 9 is skipped).
  Decision check_replace(const core::OrderReplace& r) const;

  /// check_replace(r), and records the outcome: an approval as on_approved_replace(r);
  /// a denial remembers N and the denial count behind Decision::exec_id.
  Decision decide_replace(const core::OrderReplace& r);

  /// Records an approved order: it counts as open (check 9) and its leaves as working
  /// (checks 7 and 8) until an execution report with a terminal order_status (or a
  /// `replaced` report moving it to a new id) names its client_order_id, and its
  /// ts_event enters the rate window of its strategy_id (check 10). Call it when
  /// replaying approved orders (trading.orders.approved); decide() calls it itself. An
  /// id already known is ignored (idempotent). Ages out rate-window entries older than
  /// the newest ts_event of that strategy minus the window.
  void on_approved(const core::OrderSubmit& o);

  /// Records an approved replace: remembers its new id, and, when the original order
  /// is live (known, not terminal, not replaced), enters r.ts_event in the rate window
  /// of the order's strategy_id. The open order moves to the new id only when the
  /// venue's `replaced` report arrives (on_execution). Idempotent like on_approved.
  void on_approved_replace(const core::OrderReplace& r);

  /// Reference prices per symbol, by the rule of core::TopOfBook (the same one the
  /// paper broker fills by); marks P&L as portfolio::Portfolio does and evaluates the
  /// automatic transitions (see take_transitions).
  void on_quote(const core::Quote& q);
  void on_trade(const core::Trade& t);
  void on_bar(const core::Bar& b);

  /// A corporate action (core::CorporateAction). A split multiplies the symbol's net
  /// position by `ratio` and divides its reference prices and last fill price by it
  /// (the venue cancels the working orders: their reports follow); P&L is adjusted as
  /// portfolio::Portfolio::on_action does (a dividend is realized cash), then the
  /// automatic transitions are evaluated.
  void on_action(const core::CorporateAction& a);

  /// Applies one execution report:
  ///  - risk's own reports (exec_type denied, or cancel_rejected whose exec_id is
  ///    "<client_order_id>-denied[-n]") only remember the id as decided (denied) and
  ///    its denial count; they never change an order;
  ///  - other cancel_rejected reports change nothing;
  ///  - `replaced` (with orig_client_order_id): the order moves to the new id with the
  ///    report's quantity and prices, keeping its open-order slot and its cum_qty (its
  ///    working quantity becomes the new quantity - cum_qty);
  ///  - a fill (last_qty > 0) whose cum_qty is above the cum_qty seen for the order
  ///    moves the net position (buy +last_qty, sell -last_qty) and P&L
  ///    (portfolio::Portfolio::on_fill: net of commissions), then evaluates the
  ///    automatic transitions; a fill with a cum_qty already seen is a repeat: ignored;
  ///  - the order's cum_qty, avg_px and order_status follow reports that do not go back
  ///    in cum_qty; a terminal order_status closes the order for good (open orders);
  ///    its working quantity follows: quantity - cum_qty while open, 0 once closed.
  /// An id never seen before is remembered from the report (not approved here, so it
  /// never counts as open).
  void on_execution(const core::ExecutionReport& r);

  /// Transition to `s` at time `ts` (ns UTC) by a person or at start-up (source
  /// "manual", "startup", ...). Records `reason` as state_reason(). Setting `active`
  /// (even when already active) re-arms both automatic triggers.
  /// @return the RiskStateChanged to publish (previous_state = the old state), or
  ///   nullopt if `s` equals the current state (nothing changes, reason kept).
  std::optional<core::RiskStateChanged> set_state(core::TradingState s, std::string reason,
                                                  std::string source, core::TimestampNs ts);

  /// Replays a recorded risk.state event: sets state() and state_reason() exactly as
  /// recorded (even when the state does not change). `active` re-arms both triggers
  /// (as set_state); an event with source "auto" latches the trigger its reason
  /// names ("daily_loss_limit: ..." or "max_drawdown: ..."). Queues nothing.
  void restore(const core::RiskStateChanged& ev);

  /// While replaying (see "Rebuild"), fills and marks still track equity, its peak and
  /// the day-start equity, but the automatic transitions are neither evaluated into the
  /// state nor queued. set_replaying(false, ts) ends the replay and evaluates them once
  /// at `ts` (as evaluate(ts)), so a fill whose automatic halt was never recorded still
  /// halts; set_replaying(false) alone evaluates at the next fill or mark.
  void set_replaying(bool replaying, std::optional<core::TimestampNs> evaluate_at = std::nullopt);
  bool replaying() const;

  /// Evaluates the automatic transitions now, at event time `ts` (a later UTC day
  /// starts a new day first). No-op while replaying.
  void evaluate(core::TimestampNs ts);

  /// Automatic transitions (crisis mode) made since the last call, oldest first;
  /// the caller publishes each on risk.state and records it. Drains the queue.
  ///
  /// Evaluated after every fill and every mark (market data), at that event's ts_event:
  ///  - daily loss = equity at the start of the UTC day of the event - equity now
  ///    (equity = total P&L since the engine started, portfolio rules, net of
  ///    commissions). When it is >= daily_loss_limit and the state is not halted ->
  ///    halted, reason
  ///    "daily_loss_limit: loss <l> since <day start ISO-8601> reaches limit <limit>".
  ///  - drawdown = peak equity - equity now (portfolio::drawdown; peak since start).
  ///    When it is >= max_drawdown -> drawdown_action, reason
  ///    "max_drawdown: drawdown <d> from peak equity <p> reaches limit <limit>":
  ///     - `reducing` (the default), from active only: the desk may still unwind; a
  ///       further loss that reaches daily_loss_limit halts it;
  ///     - `halted`, from active or reducing (freqtrade's MaxDrawdown stop): every
  ///       new order and replace is denied.
  ///    The daily loss is evaluated first: when both reach their limits at once, its
  ///    halt wins and the drawdown adds nothing.
  /// Every event has source "auto". Automatic transitions only tighten
  /// (active -> reducing -> halted): they never move to active and never fire on a
  /// halted desk, so they never undo a person's halt. A trigger that fired is latched
  /// until a person sets `active`, so a person may loosen an automatic halt to
  /// reducing to unwind (and a drawdown that already moved the desk to reducing does
  /// not halt it when drawdown_action later becomes `halted`). Re-arming resets
  /// no figure: resuming while a figure is still at its limit trips it again on the
  /// next fill or mark; raise the limit (set_policy) or wait for the next UTC day.
  std::vector<core::RiskStateChanged> take_transitions();

  /// Replaces the whole policy (run-time update). Takes effect for the next check and
  /// the next evaluation of the automatic triggers; positions, orders, rate
  /// windows and the state are kept (a longer rate window sees only the approvals
  /// still kept under the old one). Precondition: validate(p) is nullopt.
  void set_policy(RiskPolicy p);
  const RiskPolicy& policy() const;

  core::TradingState state() const;
  const std::string& state_reason() const;
  /// policy().defaults.
  const Limits& limits() const;
  /// Signed net position (+ long, - short) of `symbol` from fills; 0 if never traded.
  core::Quantity position(const std::string& symbol) const;
  /// Every symbol that has had a fill, with its signed net position (flat ones included).
  const std::map<std::string, core::Quantity>& positions() const;
  /// Sum of the leaves (order quantity - cum_qty, >= 0) of the working (open) orders of
  /// `symbol` on `side`, in instrument units; 0 if none. O(log symbols).
  core::Quantity working_qty(const std::string& symbol, core::Side side) const;
  /// Position and working quantities of `symbol` (all 0 if never seen). O(log symbols).
  SymbolExposure exposure(const std::string& symbol) const;
  /// Strategy `strategy_id`'s share of exposure(symbol): the position from fills of its
  /// own orders and the leaves of its working orders (check 11). O(log).
  SymbolExposure strategy_exposure(const std::string& strategy_id, const std::string& symbol) const;
  /// exposure() of every symbol that has had a fill or a working order, by symbol
  /// (flat and idle ones included). O(symbols); for tests and metrics.
  std::map<std::string, SymbolExposure> exposures() const;
  /// The price `check` would use for notional, or nullopt (see check, step 3).
  std::optional<core::Price> reference_price(const core::OrderSubmit& o) const;
  /// Orders approved and not yet terminal (nor replaced: the new id counts instead).
  std::int64_t open_orders() const;
  /// Their client_order_ids, sorted. O(ids seen): for diagnostics and tests.
  std::vector<std::string> open_order_ids() const;
  /// What the engine knows about `client_order_id`, or nullopt if it never saw it or
  /// knows no terms for it (a replace not yet confirmed by a `replaced` report).
  std::optional<OrderState> order(const std::string& client_order_id) const;
  /// Total P&L (realized + unrealized, net of commissions) since start, and its running peak.
  core::Money equity() const;
  core::Money peak_equity() const;
  /// Equity at the start of the current UTC day (of the latest event time).
  core::Money day_start_equity() const;

 private:
  /// One client_order_id.
  struct Entry {
    enum class Kind { submit, replace, reported };  ///< decided order, decided replace, seen on reports only
    Kind kind = Kind::reported;
    bool approved = false;
    std::optional<core::OrderSubmit> submit;    ///< kind submit: as decided (resend check)
    std::optional<core::OrderReplace> replace;  ///< kind replace: as decided (resend check)
    bool replace_known = true;                  ///< false: rebuilt from a denial report (content unknown)
    std::optional<core::OrderSubmit> terms;     ///< the order's terms, when known
    core::Quantity cum_qty;
    core::Price avg_px;
    core::OrderStatus status = core::OrderStatus::new_;
    bool open = false;                          ///< counted in open_count_
    bool done = false;                          ///< terminal or replaced: never reopens
    core::Quantity working;                     ///< leaves counted in working_ (0 unless open)
    std::optional<core::Price> working_px;      ///< terms->limit_price counted in working_ (when working > 0)
    std::optional<std::string> replaced_by;
    std::int64_t denials = 0;                   ///< risk denials naming this id
  };

  Decision evaluate(const core::OrderSubmit& o) const;
  Decision evaluate_replace(const core::OrderReplace& r) const;
  Decision deny(const std::string& id, std::string reason) const;
  std::optional<std::string> band_check(const std::string& symbol, core::Price limit_price, const Limits& lim) const;
  /// |q| x px x the symbol's multiplier, converted into the base currency; an Error
  /// (field = check, "no <CCY> rate to value <symbol> in <BASE>") without a rate.
  core::Result<core::Money> base_notional(std::string_view check, const std::string& symbol, core::Quantity q,
                                         core::Price px) const;
  /// Check 11: the strategy's own limits (RiskPolicy::per_strategy) for an order of
  /// `order_qty` (0: a replace that changes neither quantity nor price: not checked)
  /// adding `added` to its side's working quantity. nullopt or the denial text.
  std::optional<std::string> strategy_check(const std::string& strategy_id, const std::string& symbol,
                                            core::Side side, core::Quantity order_qty, core::Quantity added,
                                            core::Price px) const;
  /// The order-notional check (4, 6): nullopt or the denial text.
  std::optional<std::string> notional_check(const std::string& symbol, core::Quantity q, core::Price px,
                                            const Limits& lim) const;
  std::optional<std::string> exposure_check(const std::string& symbol, core::Side side, core::Quantity qty,
                                            core::Price order_px, const Limits& lim) const;
  std::optional<std::string> rate_check(const std::string& strategy_id, core::TimestampNs ts) const;
  void add_rate(const std::string& strategy_id, core::TimestampNs ts);
  void record_denial(const std::string& id, Entry fresh);
  void close(Entry& e);
  void sync_working(Entry& e);
  void on_replaced(const core::ExecutionReport& r, Entry& n);
  std::optional<core::Price> mid(const std::string& symbol) const;
  std::optional<core::Price> market_mark(const std::string& symbol) const;
  std::optional<core::Price> working_px(const std::string& symbol) const;
  void roll_day(core::TimestampNs ts);
  void revalue(bool changed, core::TimestampNs ts);
  void transition(core::TradingState s, std::string reason, core::TimestampNs ts);

  RiskPolicy policy_;
  core::TradingState state_ = core::TradingState::active;
  std::string state_reason_;
  std::map<std::string, core::TopOfBook> refs_;  ///< by symbol
  std::map<std::string, core::Quantity> positions_;  ///< by symbol, signed
  std::map<std::string, core::Price> last_fill_px_;  ///< by symbol
  /// Working orders of one symbol: sums of leaves per side, and the limit_price of each
  /// working order that has one (the mark of last resort, check 8).
  struct Working {
    core::Quantity buy;
    core::Quantity sell;
    std::multiset<core::Price> limit_px;
  };
  std::map<std::string, Working> working_;  ///< by symbol; every symbol that had a working order
  std::map<std::string, Entry> orders_;  ///< by client_order_id
  std::int64_t open_count_ = 0;
  std::map<std::string, std::multiset<core::TimestampNs>> rate_;  ///< by strategy_id
  /// By (strategy_id, symbol): the strategy's own position from its fills and its
  /// working quantities (check 11); "" = orders without a strategy_id.
  std::map<std::pair<std::string, std::string>, SymbolExposure> strategy_exposure_;
  portfolio::Portfolio pnl_;
  core::Money equity_;
  core::Money peak_;
  core::Money day_start_equity_;
  std::optional<std::int64_t> day_;  ///< UTC day number of the latest event
  bool daily_armed_ = true;
  bool drawdown_armed_ = true;
  bool replaying_ = false;
  std::vector<core::RiskStateChanged> pending_;
};

/// Builds the report the service publishes for a denied order: exec_type and
/// order_status `denied`, text = reason, cum/leaves/avg 0, order fields copied
/// (limit_price, stop_price and expire_time included, so a rebuild can recognise a
/// resend), exec_id "<client_order_id>-denied", ts_event = ts. Pure; never throws.
core::ExecutionReport denied_report(const core::OrderSubmit& o, std::string reason,
                                    core::TimestampNs ts);
/// The same with text = d.reason and exec_id = d.exec_id (from decide; falls back to
/// "<client_order_id>-denied" when empty). Precondition: !d.approved && !d.duplicate.
core::ExecutionReport denied_report(const core::OrderSubmit& o, const Decision& d, core::TimestampNs ts);

/// Builds the report the service publishes for a denied replace, as the venue answers
/// a replace it refuses (FIX 35=9 as an execution report): client_order_id = r's new
/// id, orig_client_order_id = r.orig_client_order_id, exec_type cancel_rejected,
/// order_status = the original order's current status (new / partially_filled),
/// symbol, side, types, quantity, prices, cum_qty, avg_px and strategy_id of the
/// ORIGINAL order (`orig`, from RiskEngine::order(r.orig_client_order_id): every
/// denied replace names a known order), leaves_qty = quantity - cum_qty (0 once
/// terminal), text = reason, exec_id = `exec_id` (Decision::exec_id; "" ->
/// "<client_order_id>-denied"), ts_event = ts. The original order is unchanged.
/// Pure; never throws except std::bad_alloc.
core::ExecutionReport denied_replace_report(const core::OrderReplace& r, std::string reason, core::TimestampNs ts,
                                            const OrderState& orig, std::string exec_id = {});

}  // namespace risk
