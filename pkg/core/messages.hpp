/// @file messages.hpp
/// @brief One plain struct per wire message (subjects/README.md is the contract).
///
/// Every struct has a `kType` (the JSON `type` field). Prices, quantities and
/// money are `Decimal` (JSON strings on the wire; plain numbers accepted on
/// input). Times are int64 ns UTC. Optional JSON fields are std::optional.
/// The JSON codec lives in pkg/codec; this header has no JSON dependency so
/// the pure domain libraries can use these types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/decimal.hpp"
#include "core/enums.hpp"
#include "core/risk_policy.hpp"
#include "core/time.hpp"

namespace core {

/// Wire schema version carried as "v" in every payload; bump on breaking change.
constexpr int kSchemaVersion = 1;

// ---- market.data.<symbol> ---------------------------------------------------

/// Top of book. Sizes are absent in FX feeds without depth (EURUSD file).
struct Quote {
  static constexpr std::string_view kType = "quote";
  std::string symbol;
  Price bid;
  Price ask;
  std::optional<Quantity> bid_size;
  std::optional<Quantity> ask_size;
  TimestampNs ts_event = 0;                ///< when the source stamped it
  std::optional<TimestampNs> ts_recv;      ///< when the recorder received it (Tardis files)
  friend bool operator==(const Quote&, const Quote&) = default;
};

/// One print on the tape.
struct Trade {
  static constexpr std::string_view kType = "trade";
  std::string symbol;
  Price price;
  Quantity size;
  AggressorSide aggressor_side = AggressorSide::none;
  std::optional<std::string> trade_id;
  TimestampNs ts_event = 0;
  std::optional<TimestampNs> ts_recv;
  friend bool operator==(const Trade&, const Trade&) = default;
};

/// An OHLC bar; `ts_event` is the bar's END (publishing at the start leaks the future).
struct Bar {
  static constexpr std::string_view kType = "bar";
  std::string symbol;
  Price open, high, low, close;
  std::optional<Quantity> volume;
  PriceType price_type = PriceType::trade;  ///< bid/ask for FX bid-ask bar files
  std::optional<TimestampNs> ts_start;      ///< bar start, when the source has it
  TimestampNs ts_event = 0;                 ///< bar end
  friend bool operator==(const Bar&, const Bar&) = default;
};

using MarketData = std::variant<Quote, Trade, Bar>;

/// The venue's status of one instrument, on market.data.<symbol> like the data
/// it governs (Databento / NautilusTrader call it InstrumentStatus). Recorded and
/// replayed with the market data. Not part of MarketData: only the broker (which
/// rejects orders on a halted symbol and fills nothing there) and risk-state use it.
struct InstrumentStatus {
  static constexpr std::string_view kType = "instrument_status";
  std::string symbol;
  InstrumentState status = InstrumentState::trading;
  std::string reason;                      ///< e.g. "LULD pause"; "" = none given
  TimestampNs ts_event = 0;                ///< 0 = stamped at ingress (hand-typed)
  friend bool operator==(const InstrumentStatus&, const InstrumentStatus&) = default;
};

/// A corporate action of one instrument (LEAN's Split and Dividend, NautilusTrader has
/// none), on market.data.<symbol> like the data it affects, so it is recorded and
/// replayed with it. The feed publishes it from a corporate-actions file (--actions,
/// marketdata/actions.hpp) at its ex-date, before the first record of that date:
///  - `split`: every share becomes `ratio` shares (2 = a 2-for-1 split, 0.1 = a 1-for-10
///    reverse split). Positions are multiplied by `ratio`, their cost is unchanged
///    (the per-share cost divides by it) and the mark divides by it, so P&L is continuous
///    across the split; working orders on the symbol are canceled by the paper venue;
///  - `dividend`: a cash dividend of `amount` per share (quote currency) to holders at
///    the ex-date: a long position receives quantity x amount, a short one pays it,
///    realized at once.
/// Not part of MarketData: only the workers that keep positions or orders use it.
struct CorporateAction {
  static constexpr std::string_view kType = "corporate_action";
  std::string symbol;
  ActionKind action = ActionKind::split;
  std::optional<Decimal> ratio;        ///< split only (required): new shares per old share, > 0
  std::optional<Decimal> amount;       ///< dividend only (required): cash per share, > 0
  TimestampNs ts_event = 0;            ///< the ex-date, 00:00 UTC (ns); required
  friend bool operator==(const CorporateAction&, const CorporateAction&) = default;
};

// ---- trading.orders / trading.orders.approved -------------------------------

struct OrderSubmit {
  static constexpr std::string_view kType = "order.submit";
  std::string client_order_id;
  std::string symbol;
  Side side = Side::buy;
  OrderType order_type = OrderType::market;
  Quantity quantity;
  std::optional<Price> limit_price;          ///< required iff order_type is limit or stop_limit
  TimeInForce time_in_force = TimeInForce::day;
  std::string strategy_id;                   ///< "" for hand-typed orders ("manual")
  TimestampNs ts_event = 0;                  ///< sender's time; 0 = stamped at risk-state ingress
  std::optional<Price> stop_price;           ///< required iff order_type is stop or stop_limit
  std::optional<TimestampNs> expire_time;    ///< required iff time_in_force is gtd (ns UTC)
  /// Stream sequence of the event this message reacts to (docs/architecture.md, "Event
  /// time"); 0 = none (a person's command, a root input). Omitted on the wire when 0.
  std::uint64_t cause_seq = 0;
  friend bool operator==(const OrderSubmit&, const OrderSubmit&) = default;
};

struct OrderCancel {
  static constexpr std::string_view kType = "order.cancel";
  std::string client_order_id;
  TimestampNs ts_event = 0;
  /// Stream sequence of the event this message reacts to (docs/architecture.md, "Event
  /// time"); 0 = none (a person's command, a root input). Omitted on the wire when 0.
  std::uint64_t cause_seq = 0;
  friend bool operator==(const OrderCancel&, const OrderCancel&) = default;
};

/// FIX OrderCancelReplaceRequest (35=G): replaces the live order `orig_client_order_id`
/// by `client_order_id` (a NEW id) with a new quantity and/or price. Fields left out
/// keep the order's value. The filled part carries over; the old id is done.
struct OrderReplace {
  static constexpr std::string_view kType = "order.replace";
  std::string client_order_id;               ///< the new id (FIX 11)
  std::string orig_client_order_id;          ///< the order to replace (FIX 41)
  std::optional<Quantity> quantity;          ///< new total order quantity (includes the filled part)
  std::optional<Price> limit_price;          ///< limit and stop_limit orders only
  std::optional<Price> stop_price;           ///< stop and stop_limit orders only
  TimestampNs ts_event = 0;
  /// Stream sequence of the event this message reacts to (docs/architecture.md, "Event
  /// time"); 0 = none (a person's command, a root input). Omitted on the wire when 0.
  std::uint64_t cause_seq = 0;
  friend bool operator==(const OrderReplace&, const OrderReplace&) = default;
};

using OrderCommand = std::variant<OrderSubmit, OrderCancel, OrderReplace>;

// ---- trading.executions -----------------------------------------------------

/// FIX ExecutionReport (35=8). Invariant: cum_qty + leaves_qty == quantity
/// while the order is live; leaves_qty == 0 once order_status is terminal.
struct ExecutionReport {
  static constexpr std::string_view kType = "execution_report";
  std::string client_order_id;
  std::string exec_id;                 ///< unique per report, e.g. "<client_order_id>-<n>"
  ExecType exec_type = ExecType::new_;
  OrderStatus order_status = OrderStatus::new_;
  std::string symbol;
  Side side = Side::buy;
  OrderType order_type = OrderType::market;
  TimeInForce time_in_force = TimeInForce::day;
  Quantity quantity;                   ///< order quantity (FIX order_qty 38)
  std::optional<Price> limit_price;
  Quantity last_qty;                   ///< this fill (0 if not a fill)
  Price last_px;                       ///< this fill's price (0 if not a fill)
  Quantity cum_qty;
  Quantity leaves_qty;
  Price avg_px;                        ///< volume-weighted over all fills, 0 before the first
  std::string text;                    ///< reason for denied/rejected/canceled/expired
  std::string strategy_id;
  TimestampNs ts_event = 0;
  std::optional<Price> stop_price;     ///< copied from stop / stop_limit orders
  std::optional<TimestampNs> expire_time;  ///< copied from gtd orders
  std::optional<std::string> orig_client_order_id;  ///< on replaced / cancel_rejected answers to a replace
  std::optional<Money> commission;     ///< this fill's commission (quote currency), when the broker charges one
  /// Stream sequence of the event this message reacts to (docs/architecture.md, "Event
  /// time"); 0 = none (a person's command, a root input). Omitted on the wire when 0.
  std::uint64_t cause_seq = 0;
  friend bool operator==(const ExecutionReport&, const ExecutionReport&) = default;
};

// ---- risk.state / risk.management -------------------------------------------

struct RiskStateChanged {
  static constexpr std::string_view kType = "risk.state";
  TradingState trading_state = TradingState::active;
  TradingState previous_state = TradingState::active;
  std::string reason;
  std::string source;                  ///< "manual", "auto" (crisis mode) or "startup"
  TimestampNs ts_event = 0;
  /// Who made a manual change: the authenticated NATS user that sent the command, as
  /// nats-server stamped it (codec::Sender, pkg/auth), never a field the sender
  /// wrote. "" for automatic and start-up events (omitted on the wire).
  std::string sender;
  /// Stream sequence of the event this message reacts to (docs/architecture.md, "Event
  /// time"); 0 = none (a person's command, a root input). Omitted on the wire when 0.
  std::uint64_t cause_seq = 0;
  friend bool operator==(const RiskStateChanged&, const RiskStateChanged&) = default;
};

/// risk.management command `{"type":"trading_state.set","trading_state":"halted","reason":"..."}`.
/// `{"type":"halt"}` and `{"type":"resume"}` are accepted as shorthands (decoded to this).
struct SetTradingState {
  static constexpr std::string_view kType = "trading_state.set";
  TradingState trading_state = TradingState::halted;
  std::string reason;
  TimestampNs ts_event = 0;
  friend bool operator==(const SetTradingState&, const SetTradingState&) = default;
};

/// risk.management command `{"type":"risk.policy.set","defaults":{...},"per_symbol":{...},"reason":"..."}`:
/// on the wire a PATCH of the policy in force (fields present change, null switches a
/// limit off); codec::Decoder::decode_risk_management applies it to the current policy,
/// so `policy` here is the full resulting policy. risk-state validates it
/// (risk::validate); a bad policy is answered with the field and the problem and
/// changes nothing.
struct SetRiskPolicy {
  static constexpr std::string_view kType = "risk.policy.set";
  RiskPolicy policy;
  std::string reason;
  TimestampNs ts_event = 0;                ///< 0 = stamped at ingress
  friend bool operator==(const SetRiskPolicy&, const SetRiskPolicy&) = default;
};

using RiskCommand = std::variant<SetTradingState, SetRiskPolicy>;

/// risk.state event: the policy risk-state enforces from now on. Published at
/// start-up (source "startup": the configured policy, or "restored" when a policy
/// recorded earlier is kept) and after every accepted risk.policy.set ("manual").
struct RiskPolicyChanged {
  static constexpr std::string_view kType = "risk.policy";
  RiskPolicy policy;
  std::string reason;
  std::string source;                      ///< "startup", "restored" or "manual"
  TimestampNs ts_event = 0;
  /// Who set a manual policy (as RiskStateChanged::sender); "" otherwise (omitted).
  std::string sender;
  /// Stream sequence of the event this message reacts to (docs/architecture.md, "Event
  /// time"); 0 = none (a person's command, a root input). Omitted on the wire when 0.
  std::uint64_t cause_seq = 0;
  friend bool operator==(const RiskPolicyChanged&, const RiskPolicyChanged&) = default;
};

// ---- performance.metrics / reports.performance ------------------------------

struct PositionSnapshot {
  std::string symbol;
  Quantity quantity;                   ///< signed: + long, - short
  Price avg_px;                        ///< average entry price of the open quantity
  Price mark_px;                       ///< last mark (quote mid, else last trade/bar close)
  Money realized_pnl;
  Money unrealized_pnl;
  Quantity bought_qty;
  Quantity sold_qty;
  Money commission;                    ///< paid on this symbol's fills (already deducted from realized_pnl)
  /// The quote currency every money figure of this position is in (portfolio/fx.hpp);
  /// "" when the report names no base currency (omitted on the wire).
  std::string currency;
  friend bool operator==(const PositionSnapshot&, const PositionSnapshot&) = default;
};

/// One currency's P&L in a PerformanceReport: the sums over the positions quoted in it,
/// in that currency (exact), and its conversion into the base currency.
struct CurrencyPnl {
  std::string currency;
  Money realized_pnl;
  Money unrealized_pnl;
  Money total_pnl;                     ///< realized + unrealized
  Money commission;
  Money gross_notional_traded;
  std::optional<Decimal> rate;         ///< base-currency value of 1 unit now; nullopt = no rate (not in the totals)
  std::optional<Money> total_pnl_base; ///< total_pnl x rate; nullopt without a rate
  friend bool operator==(const CurrencyPnl&, const CurrencyPnl&) = default;
};

/// Published on performance.metrics during the run (type "performance.metrics")
/// and as the final report on reports.performance (type "performance.report").
struct PerformanceReport {
  static constexpr std::string_view kMetricsType = "performance.metrics";
  static constexpr std::string_view kReportType = "performance.report";
  bool final_report = false;           ///< selects the type string
  std::vector<PositionSnapshot> positions;  ///< sorted by symbol
  Money realized_pnl;
  Money unrealized_pnl;
  Money total_pnl;                     ///< realized + unrealized
  Money peak_pnl;                      ///< highest total_pnl seen
  Money max_drawdown;                  ///< max over time of (peak_pnl - total_pnl)
  Money gross_notional_traded;         ///< sum of |last_qty x last_px|
  std::int64_t fills = 0;
  std::int64_t orders = 0;             ///< distinct client_order_ids seen
  std::int64_t orders_denied = 0;
  std::int64_t orders_rejected = 0;
  TimestampNs ts_event = 0;            ///< event time of the latest input
  Money commission;                    ///< paid in total (already deducted from realized_pnl)
  /// The account currency every total above is in (converted per currency, see
  /// `currencies`); "" = unnamed, one currency, nothing converted (omitted on the wire,
  /// with `currencies`).
  std::string base_currency;
  /// P&L per quote currency, sorted by currency (empty when base_currency is ""). A
  /// currency without a rate is left out of the totals above.
  std::vector<CurrencyPnl> currencies;
  /// Stream sequence of the event this message reacts to (docs/architecture.md, "Event
  /// time"); 0 = none (a person's command, a root input). Omitted on the wire when 0.
  std::uint64_t cause_seq = 0;
  friend bool operator==(const PerformanceReport&, const PerformanceReport&) = default;
};

// ---- progress.<worker> --------------------------------------------------------

/// A worker's progress marker (docs/architecture.md, "Event time"): every message it
/// will still publish in reaction to the log has an ordering key >= (root_seq, stage),
/// i.e. it has handled, and published everything for, the inputs before that key.
/// Published on progress.<worker> (captured by the event stream, so it follows the
/// messages it vouches for), never by hand. Not a domain event: diff skips it.
struct Progress {
  static constexpr std::string_view kType = "progress";
  std::string worker;                  ///< the publishing worker ("strategy", "risk-state", "execution")
  /// Stream sequence of the earliest root input not yet fully handled; 0 = the worker
  /// stopped and takes no part any more (nobody waits for it until it speaks again).
  std::uint64_t root_seq = 0;
  std::int64_t stage = 0;              ///< the worker's stage (1 strategy, 2 risk-state, 3 execution)
  friend bool operator==(const Progress&, const Progress&) = default;
};

// ---- session.lifecycle / session.workers.<worker> -----------------------------
// A session is one run: live trading, or a replay / backtest of recorded data.
// These messages are its manifest (issue 4). Their `ts_wall` is wall-clock
// metadata (when a person or a process did something), NOT domain time: it is
// never compared with ts_event and never drives replayed logic.

/// session.lifecycle: a session begins. Published by ops for live sessions and by
/// `traderctl replay` / `traderctl backtest` for the sessions they run.
struct SessionStarted {
  static constexpr std::string_view kType = "session.started";
  static constexpr std::string_view kKinds[] = {"live", "replay", "backtest", "inputs"};
  std::string session_id;              ///< 1-128 chars from [A-Za-z0-9_.:-] (subjects::is_valid_session_id)
  /// "live" | "replay" | "backtest" | "inputs" (an input set: a research session holding
  /// inputs that backtests share, tooling/input_sets.hpp; never published on the bus)
  std::string kind;
  std::string source_session_id;       ///< the session a replay/backtest was made from; "" = none (omitted on the wire)
  std::string data_source;             ///< where the data comes from, e.g. a file path; "" = not given (omitted)
  std::string started_by;              ///< the worker or tool that started it, e.g. "ops", "traderctl"
  std::string version;                 ///< version of the binaries, e.g. a git describe
  TimestampNs ts_wall = 0;             ///< wall-clock ns UTC when it started (metadata, not domain time)
  std::string reason;                  ///< why, free text; "" = none (omitted)
  /// The input set (an "inputs" session of the research store) holding this session's
  /// inputs, which the session then does not store itself; "" = it stores its own (omitted).
  std::string input_set;
  friend bool operator==(const SessionStarted&, const SessionStarted&) = default;
};

/// session.lifecycle: a session is over (normal end, Ctrl-C, end of the data).
struct SessionEnded {
  static constexpr std::string_view kType = "session.ended";
  std::string session_id;              ///< as in its SessionStarted
  TimestampNs ts_wall = 0;             ///< wall-clock ns UTC when it ended (metadata, not domain time)
  std::string reason;                  ///< why, free text; "" = none (omitted)
  friend bool operator==(const SessionEnded&, const SessionEnded&) = default;
};

/// What session.lifecycle carries.
using SessionLifecycle = std::variant<SessionStarted, SessionEnded>;

/// session.workers.<worker>: a worker's manifest, published once at start: what
/// runs, which build, with which settings and which data. Enough to tell two runs
/// apart and to rerun one.
struct WorkerStarted {
  static constexpr std::string_view kType = "worker.started";
  std::string worker;                  ///< "feed", "risk-state", ...: one subject token (the <worker> of the subject)
  std::string instance;                ///< host:pid, as in the heartbeat
  std::string version;                 ///< version of the binaries
  TimestampNs ts_wall = 0;             ///< wall-clock ns UTC at start (metadata, not domain time)
  /// Every setting as key -> value text, sorted by key, keys unique, secrets already
  /// redacted by the caller. On the wire a JSON object {"key":"value",...} in this order.
  std::vector<std::pair<std::string, std::string>> config;
  std::string config_hash;             ///< lowercase hex SHA-256 (64 chars) of the canonical config text, by the caller
  std::vector<std::string> args;       ///< positional arguments, e.g. the feed's data file; may be empty
  std::string data_source;             ///< e.g. the data file's path; "" = none (omitted on the wire)
  std::string data_sha256;             ///< lowercase hex SHA-256 of the data source's content; "" = not computed (omitted)
  friend bool operator==(const WorkerStarted&, const WorkerStarted&) = default;
};

/// One kind of data-quality finding in a FeedSummaryEvent (marketdata/quality.hpp).
struct FeedFindings {
  std::string kind;                   ///< "non_positive", "crossed", "inconsistent", "backward", "outlier"
  std::int64_t count = 0;             ///< rows of this kind (> 0)
  std::vector<std::int64_t> lines;    ///< the first few (at most 5) file lines, ascending
  friend bool operator==(const FeedFindings&, const FeedFindings&) = default;
};

/// session.workers.feed, once at the feed's end: what it read from its file and what it
/// published, dropped and flagged (services::FeedSummary), so that a stored session
/// keeps the counts. Counts, not domain data: `traderctl diff` skips it (a session
/// whose inputs traderctl published itself has none).
struct FeedSummaryEvent {
  static constexpr std::string_view kType = "feed.summary";
  std::string data_source;            ///< the data file's path
  std::string format;                 ///< marketdata::Format, e.g. "quotes"
  std::int64_t published = 0, quotes = 0, trades = 0, bars = 0;
  std::int64_t bad_rows = 0;          ///< malformed rows (not data quality)
  std::int64_t dropped = 0, flagged = 0;
  std::vector<FeedFindings> by_kind;   ///< per kind with a count, in the order of the checks
  std::string policy;                 ///< the data-quality policy, marketdata::quality::Policy::to_string
  TimestampNs ts_event = 0;           ///< ts_event of the last record published (0 = none: omitted)
  friend bool operator==(const FeedSummaryEvent&, const FeedSummaryEvent&) = default;
};

// ---- ops.* --------------------------------------------------------------------

/// ops.heartbeat.<worker>, once a second (wall clock: ops data, not domain data).
/// Heartbeat::status of a service's last heartbeat, sent as it exits on purpose: it is
/// not running, so ops counts it as down (until it is replaced or forgotten).
constexpr std::string_view kStoppedStatus = "stopped";
/// The last heartbeat of a one-shot tool (the feed) that did its work: not down.
constexpr std::string_view kFinishedStatus = "finished";
/// Heartbeat::status of a hot standby ("standby: <why>", workers/lease.hpp): alive, not
/// degraded, but not the worker's writer either (ops does not count it as the worker up).
constexpr std::string_view kStandbyStatus = "standby";

struct Heartbeat {
  static constexpr std::string_view kType = "heartbeat";
  std::string worker;                  ///< "execution", "risk-state", ...; must match the subject ops.heartbeat.<worker>
  std::string instance;                ///< host:pid
  std::string status;                  ///< "ok" | "degraded: <why>" | "standby: <why>" | "stopped" | "finished" (the last one, at exit)
  std::int64_t msgs_in = 0;
  std::int64_t msgs_out = 0;
  std::int64_t errors = 0;             ///< bad inputs answered on ops.dead_letter
  std::int64_t last_input_ns = 0;      ///< wall time of the latest input (0 = none)
  std::int64_t started_ns = 0;
  TimestampNs ts = 0;                  ///< wall time of this heartbeat
  /// Last JetStream stream sequence the worker processed (execution: every
  /// message of its ordered consumer, including those it ignores); 0 = none or
  /// not a stream consumer (omitted on the wire). The lock-step barrier of
  /// `traderctl replay --lockstep` compares it with the stream's last sequence.
  std::uint64_t log_seq = 0;
  /// Market data not used because core::MarketCheck flagged it (crossed, back in
  /// time, inconsistent bar); omitted on the wire when 0.
  std::int64_t flagged = 0;
  /// Messages the worker accepted but could not apply (an arithmetic error, an event
  /// of its own log it could not replay): each is logged and dead-lettered, and the
  /// status says "degraded". Omitted on the wire when 0.
  std::int64_t quarantined = 0;
  friend bool operator==(const Heartbeat&, const Heartbeat&) = default;
};

/// ops.dead_letter: a message a worker could not accept, with the reason.
struct DeadLetter {
  static constexpr std::string_view kType = "dead_letter";
  std::string worker;
  std::string subject;                 ///< where the bad message arrived
  std::string field;                   ///< offending field ("" = whole message)
  std::string error;                   ///< what was wrong
  std::string payload;                 ///< the original bytes (truncated to 4 KiB)
  TimestampNs ts = 0;
  /// The authenticated NATS identity that sent the refused message, as the server
  /// stamped it ("" = a message from inside the TRADING account, whose publisher is
  /// the subject's owner in subjects/README.md). Omitted on the wire when "".
  std::string sender;
  /// The event log's stream sequence of the message, when the worker read it from the
  /// log (risk-state always: it decides its inputs in log order, and a rebuild uses this
  /// to know which inputs were answered; any worker rebuilding its state); 0 = arrived on
  /// core NATS (omitted on the wire).
  std::uint64_t stream_seq = 0;
  friend bool operator==(const DeadLetter&, const DeadLetter&) = default;
};

/// One worker's health in the ops.status reply.
struct WorkerStatus {
  std::string worker;
  std::string instance;
  /// "ok" | "degraded: <why>" (the worker's own) | "stopped" | "finished" | "down: no heartbeat for <N> ms (...)"
  std::string status;
  bool alive = false;                  ///< a heartbeat arrived within 3 intervals and it was not a last one
  std::int64_t age_ms = 0;             ///< since the latest heartbeat
  std::int64_t msgs_in = 0;
  std::int64_t msgs_out = 0;
  std::int64_t errors = 0;
  std::int64_t flagged = 0;            ///< market data not used (Heartbeat::flagged)
  std::int64_t quarantined = 0;        ///< messages not applied (Heartbeat::quarantined)
  /// The last event-stream sequence it handled (Heartbeat::log_seq): the log followers
  /// (strategy, risk-state, execution, reporter, ops) each read the whole stream, so
  /// at rest they all show its last sequence; 0 = not a log follower (omitted on the wire).
  std::uint64_t log_seq = 0;
  friend bool operator==(const WorkerStatus&, const WorkerStatus&) = default;
};

/// Reply to `nats req ops.status ''`.
struct OpsStatus {
  static constexpr std::string_view kType = "ops.status";
  std::vector<WorkerStatus> workers;   ///< sorted by worker, then instance
  TimestampNs ts = 0;                  ///< wall time of the reply
  /// The whole stack: "down" if a listed worker has no instance alive (overdue or
  /// "stopped"; a "finished" one-shot tool does not count), else "degraded" if an alive
  /// instance's status is not "ok", else "ok". `traderctl status` exits
  /// 2, 1 or 0 accordingly. ("" from an ops of before this field.)
  std::string status;
  friend bool operator==(const OpsStatus&, const OpsStatus&) = default;
};

}  // namespace core
