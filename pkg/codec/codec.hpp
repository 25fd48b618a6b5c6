/// @file codec.hpp
/// @brief JSON encode/decode for every wire message (subjects/README.md is the contract).
///
/// Encoding: every payload is one JSON object whose first key is "type" and
/// second is "v" (core::kSchemaVersion). Decimals are JSON strings ("1.38742"),
/// timestamps JSON integers (int64 ns UTC), std::optional fields are omitted
/// when empty. Strings are JSON-escaped; invalid UTF-8 becomes U+FFFD, so the
/// output is always valid JSON. The `encode` functions are pure and
/// thread-safe; they throw only std::bad_alloc.
///
/// Decoding: `Decoder` reads with simdjson ondemand, one pass over each object.
/// It never throws: every problem with the bytes comes back as a core::Error
/// naming the JSON field ("" = the whole message) and saying what was wrong,
/// e.g. {"quantity", "must be positive, got \"-5\""}. On input:
///  - decimals may be JSON strings or plain JSON numbers (`"quantity": 100`);
///    numbers are parsed from their exact text, never through double, so
///    `1e3` is refused rather than rounded;
///  - every decimal is in the wire range, |x| <= 92233720368.54775807
///    (core::Decimal::in_wire_range), except the accumulated money and quantities of
///    a performance report (P&L, notional traded, positions), which may be wider;
///    prices (quote bid/ask, trade price, bar OHLC, limit_price, stop_price) are
///    > 0, sizes, volumes and report quantities >= 0, order quantities > 0;
///  - timestamps and counters are JSON integers (an integer in a string is accepted);
///    timestamps are 0..4102444800000000000 (2100-01-01T00:00:00Z);
///  - strings have limits (subjects/README.md, "Strings"): identifiers
///    (client_order_id, strategy_id, trade_id <= 64, exec_id <= 128, worker,
///    instance, type) are visible ASCII 0x21-0x7E only; free text (reason, text,
///    status, error, source <= 1024 bytes; paths and settings <= 4096) is UTF-8
///    without control characters (U+0000-U+001F, U+007F-U+009F); a dead letter's
///    payload may hold anything (<= 64 KiB). The error says which limit, e.g.
///    {"client_order_id", "must be at most 64 characters, got 20000"};
///  - "v" may be omitted; if present it must be 1;
///  - unknown fields are ignored (forward compatibility); "type" may be anywhere.
///    Exception: inside the `defaults` and `per_symbol` objects of risk.policy.set
///    and risk.policy every key must be a known limit (a typo must not silently
///    change nothing).
///
/// Risk policies on the wire (`risk.policy.set` on risk.management, `risk.policy`
/// on risk.state) write every limit; JSON `null` means "off" (the only place
/// where an optional field is written as null). Counts (max_open_orders,
/// max_orders_per_window) are integers, 0 = off; rate_window_ns is an integer
/// (risk.policy.set also accepts rate_window_ms). `drawdown_action` is "reducing"
/// or "halted" (what reaching max_drawdown does), never null in output.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/messages.hpp"
#include "core/result.hpp"

namespace codec {

// ---- encode ----------------------------------------------------------------------

/// Each returns the whole JSON payload. Thread-safe, pure.
std::string encode(const core::Quote&);
std::string encode(const core::Trade&);
std::string encode(const core::Bar&);
std::string encode(const core::MarketData&);   ///< whichever alternative it holds
std::string encode(const core::OrderSubmit&);
std::string encode(const core::OrderCancel&);
std::string encode(const core::OrderReplace&);
std::string encode(const core::OrderCommand&); ///< whichever alternative it holds
std::string encode(const core::ExecutionReport&);
std::string encode(const core::RiskStateChanged&);
std::string encode(const core::SetTradingState&);   ///< always type "trading_state.set"
/// Type "risk.policy.set": the FULL policy (every default limit, null = off; every
/// per-symbol entry with all four fields, null = no override), reason, ts_event.
/// Decoded against an empty current policy it gives back `policy` exactly.
std::string encode(const core::SetRiskPolicy&);
std::string encode(const core::RiskCommand&);       ///< whichever alternative it holds
/// Type "risk.policy" (published on risk.state): full policy as for
/// SetRiskPolicy, then reason, source, ts_event. decode_risk_event gives it back exactly.
std::string encode(const core::RiskPolicyChanged&);
/// Type "instrument_status" (market.data.<symbol>): symbol, status, reason, ts_event.
std::string encode(const core::InstrumentStatus&);
std::string encode(const core::CorporateAction&);
/// Type "performance.report" when final_report, else "performance.metrics".
std::string encode(const core::PerformanceReport&);
std::string encode(const core::Progress&);
std::string encode(const core::Heartbeat&);
std::string encode(const core::DeadLetter&);
std::string encode(const core::OpsStatus&);
/// Type "session.started" (session.lifecycle): session_id, kind, source_session_id,
/// data_source, started_by, version, ts_wall, reason; the optional strings
/// (source_session_id, data_source, reason) are omitted when "".
std::string encode(const core::SessionStarted&);
/// Type "session.ended" (session.lifecycle): session_id, ts_wall, reason (omitted when "").
std::string encode(const core::SessionEnded&);
std::string encode(const core::SessionLifecycle&);  ///< whichever alternative it holds
/// Type "worker.started" (session.workers.<worker>): worker, instance, version,
/// ts_wall, config (a JSON object of strings, in the vector's order: the caller
/// keeps it sorted by key with unique keys, asserted), config_hash, args (always
/// written, [] when empty), data_source and data_sha256 (omitted when "").
std::string encode(const core::WorkerStarted&);
/// Type "feed.summary" (session.workers.feed): data_source, format, published, quotes,
/// trades, bars, bad_rows, dropped, flagged, by_kind [{kind, count, lines}], policy,
/// ts_event (omitted when 0).
std::string encode(const core::FeedSummaryEvent&);

/// Hot-path forms: clear `out` and write the payload into it, reusing its
/// capacity (no allocation once `out` is large enough). Thread-safe for distinct `out`.
void encode_into(std::string& out, const core::Quote&);
void encode_into(std::string& out, const core::Trade&);
void encode_into(std::string& out, const core::Bar&);
void encode_into(std::string& out, const core::MarketData&);
void encode_into(std::string& out, const core::OrderSubmit&);
void encode_into(std::string& out, const core::OrderCancel&);
void encode_into(std::string& out, const core::OrderReplace&);
void encode_into(std::string& out, const core::OrderCommand&);
void encode_into(std::string& out, const core::ExecutionReport&);
void encode_into(std::string& out, const core::RiskStateChanged&);
void encode_into(std::string& out, const core::SetTradingState&);
void encode_into(std::string& out, const core::SetRiskPolicy&);
void encode_into(std::string& out, const core::RiskCommand&);
void encode_into(std::string& out, const core::RiskPolicyChanged&);
void encode_into(std::string& out, const core::InstrumentStatus&);
void encode_into(std::string& out, const core::CorporateAction&);
void encode_into(std::string& out, const core::PerformanceReport&);
void encode_into(std::string& out, const core::Progress&);
void encode_into(std::string& out, const core::Heartbeat&);
void encode_into(std::string& out, const core::DeadLetter&);
void encode_into(std::string& out, const core::OpsStatus&);
void encode_into(std::string& out, const core::SessionStarted&);
void encode_into(std::string& out, const core::SessionEnded&);
void encode_into(std::string& out, const core::SessionLifecycle&);
void encode_into(std::string& out, const core::WorkerStarted&);
void encode_into(std::string& out, const core::FeedSummaryEvent&);

/// Appends `s` to `out` as a quoted JSON string (escapes '"', '\\' and control
/// characters; invalid UTF-8 bytes become \ufffd). Pure.
void append_json_string(std::string& out, std::string_view s);

// ---- decode ----------------------------------------------------------------------

/// The few fields every captured message may carry, read without knowing its
/// type (the recorder stores any message). Only "type" is required; a
/// ts_event or client_order_id of the wrong kind is reported as absent.
struct Envelope {
  std::string type;
  std::optional<core::TimestampNs> ts_event;
  std::optional<std::string> client_order_id;
  std::uint64_t cause_seq = 0;  ///< 0 = absent (or not a non-negative integer)
  friend bool operator==(const Envelope&, const Envelope&) = default;
};

/// A timer an external strategy asks for (workers/external_strategy.hpp): market time
/// `at` (ns UTC) and its label.
struct StrategyTimer {
  core::TimestampNs at = 0;
  std::string tag;
  friend bool operator==(const StrategyTimer&, const StrategyTimer&) = default;
};

/// What an external strategy answers to a strategy.event or strategy.reset request
/// (docs/strategies.md, "Strategies in any language").
struct StrategyReply {
  std::vector<core::OrderCommand> commands;  ///< in the order given
  std::vector<StrategyTimer> timers;
};

/// What risk.state carries: a trading-state change or the policy now in force.
using RiskEvent = std::variant<core::RiskStateChanged, core::RiskPolicyChanged>;

/// Decodes payloads from one subject each. Owns a simdjson parser and a
/// padded input buffer that grows to the largest message seen and is reused
/// (NATS payloads are not padded, so each input is copied once).
///
/// NOT thread-safe: use one Decoder per thread (per handler). The results own
/// their data (std::string copies), so they stay valid after the next call.
/// No method throws except std::bad_alloc; bad input is a core::Error.
/// A moved-from Decoder may only be destroyed or assigned to.
class Decoder {
 public:
  Decoder();
  ~Decoder();
  Decoder(Decoder&&) noexcept;
  Decoder& operator=(Decoder&&) noexcept;
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  /// market.data.<symbol>: type quote | trade | bar.
  core::Result<core::MarketData> decode_market_data(std::string_view json);
  /// trading.orders / trading.orders.approved: type order.submit | order.cancel | order.replace.
  /// order.submit defaults: time_in_force "day", strategy_id "", ts_event 0.
  /// order.submit rules: limit_price present iff order_type is limit or stop_limit,
  /// stop_price present iff stop or stop_limit, expire_time present iff time_in_force
  /// is gtd; each violation names the field ("stop_price": "is required when order_type
  /// is stop"). order.replace needs client_order_id (the new id, different from
  /// orig_client_order_id) and orig_client_order_id; quantity and prices are optional
  /// and positive.
  core::Result<core::OrderCommand> decode_order_command(std::string_view json);
  /// trading.executions: type execution_report. `symbol` must be a valid symbol,
  /// except "" on a cancel_rejected (the venue's answer to a cancel or replace of an
  /// order it does not know carries no symbol).
  core::Result<core::ExecutionReport> decode_execution_report(std::string_view json);
  /// risk.state: type risk.state.
  core::Result<core::RiskStateChanged> decode_risk_state(std::string_view json);
  /// risk.management: type trading_state.set (trading_state required), or the
  /// shorthands halt (-> halted) and resume (-> active); reason optional.
  core::Result<core::SetTradingState> decode_risk_command(std::string_view json);
  /// risk.management, every command: trading_state.set / halt / resume (as
  /// decode_risk_command) -> SetTradingState, or risk.policy.set -> SetRiskPolicy
  /// whose `policy` is the whole policy that results from applying the command to
  /// `current` (PATCH semantics):
  ///  - `defaults` (object, optional): each limit present replaces the current one;
  ///    `null` switches an optional limit off (max_position, max_gross_exposure,
  ///    price_band_bps, daily_loss_limit, max_drawdown) or sets a count to 0 = off
  ///    (max_open_orders, max_orders_per_window). max_order_qty, max_order_notional
  ///    and the rate window cannot be null. `rate_window_ns` (integer ns) or
  ///    `rate_window_ms` (integer ms), not both. Decimals as strings or numbers.
  ///    `drawdown_action` is "reducing" or "halted" (anything else, "active"
  ///    included, is an error on "defaults.drawdown_action"); null resets it to
  ///    "reducing".
  ///  - `per_symbol` (object, optional): `"IBM": {...}` patches IBM's overrides
  ///    (max_order_qty, max_order_notional, max_position, price_band_bps; null
  ///    removes that override), `"IBM": null` removes all of IBM's overrides; an
  ///    entry left without any override is removed. Symbols not named are kept.
  ///  - at least one of defaults / per_symbol; `reason` and `ts_event` optional.
  /// Unknown or repeated keys inside defaults / per_symbol entries are errors.
  /// Errors name the JSON path, e.g. "defaults.max_position",
  /// "per_symbol.IBM.max_order_qty". Only shape and types are checked here: the
  /// values (> 0 and so on) are for risk::validate, which the caller runs before
  /// installing the policy.
  core::Result<core::RiskCommand> decode_risk_management(std::string_view json, const core::RiskPolicy& current);
  /// risk.state, every event: type risk.state -> RiskStateChanged, or risk.policy
  /// -> RiskPolicyChanged. risk.policy must carry `defaults` with every limit
  /// (null = off) and `per_symbol` (entries replace nothing: the policy is exactly
  /// what is written); reason and source default to "". `defaults.drawdown_action`
  /// ("reducing" | "halted", not null) may be absent: events recorded before it
  /// existed mean "reducing". For rebuilding state from recorded risk.state events.
  core::Result<RiskEvent> decode_risk_event(std::string_view json);
  /// market.data.<symbol>: type instrument_status. status "trading"|"halted";
  /// reason optional (""), ts_event optional (0 = stamp at ingress).
  core::Result<core::InstrumentStatus> decode_instrument_status(std::string_view json);
  /// corporate_action: split needs a positive `ratio` and no `amount`, dividend a
  /// positive `amount` and no `ratio`; `ts_event` is required.
  core::Result<core::CorporateAction> decode_corporate_action(std::string_view json);
  /// performance.metrics / reports.performance: either type; sets final_report.
  /// `commission` (total and per position) is optional on input: absent = 0.
  core::Result<core::PerformanceReport> decode_performance(std::string_view json);
  /// ops.heartbeat.<worker>: type heartbeat.
  core::Result<core::Progress> decode_progress(std::string_view json);
  core::Result<core::Heartbeat> decode_heartbeat(std::string_view json);
  /// ops.dead_letter: type dead_letter.
  core::Result<core::DeadLetter> decode_dead_letter(std::string_view json);
  /// ops.status reply: type ops.status.
  core::Result<core::OpsStatus> decode_ops_status(std::string_view json);
  /// session.lifecycle: type session.started -> SessionStarted, or session.ended ->
  /// SessionEnded. session.started needs session_id (subjects::is_valid_session_id),
  /// kind ("live"|"replay"|"backtest"), started_by and version (non-empty) and
  /// ts_wall; source_session_id (a valid session id when present), data_source and
  /// reason are optional ("" when absent). session.ended needs session_id and
  /// ts_wall; reason optional.
  core::Result<core::SessionLifecycle> decode_session_lifecycle(std::string_view json);
  /// session.workers.<worker>: type worker.started. Needs worker (one subject
  /// token, subjects::is_valid_symbol), instance, version (non-empty), ts_wall,
  /// config (an object whose values are all strings; a bad value is reported as
  /// "config.<key>", a repeated key too; the result is sorted by key) and
  /// config_hash (64 lowercase hex digits). args (array of strings, absent = []),
  /// data_source and data_sha256 (64 lowercase hex digits when present) are optional.
  core::Result<core::WorkerStarted> decode_worker_started(std::string_view json);
  /// session.workers.feed: type feed.summary. Required: data_source, format, published,
  /// by_kind (each: kind, count, lines: an array of at most 64 line numbers >= 1);
  /// counts are integers >= 0; quotes, trades, bars, bad_rows, dropped, flagged (absent = 0),
  /// policy and ts_event optional.
  core::Result<core::FeedSummaryEvent> decode_feed_summary(std::string_view json);
  /// Any message: "type" plus ts_event and client_order_id when present.
  /// Checks that the whole input is one JSON object; ignores "v".
  core::Result<Envelope> peek(std::string_view json);
  /// The reply of an external strategy: {"commands": [...], "timers": [{"at": ns,
  /// "tag": "..."}]}, both optional (absent = none), "type" optional ("strategy.reply"
  /// if present), unknown fields ignored, at most 10,000 items in each list. Each
  /// command is read as decode_order_command reads trading.orders, except that
  /// client_order_id may be absent or "" in order.submit and order.replace (the host
  /// assigns one). A timer's `at` is a timestamp, `tag` free text (optional, "").
  /// Errors name the path: "commands[2].quantity", "commands[0].type", "timers[1].at".
  core::Result<StrategyReply> decode_strategy_reply(std::string_view json);

 private:
  /// decode_order_command; `host_assigns_ids`: client_order_id may be absent or "" in
  /// order.submit and order.replace (decode_strategy_reply).
  core::Result<core::OrderCommand> order_command(std::string_view json, bool host_assigns_ids);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Same as the Decoder methods, with a temporary Decoder (allocates a parser
/// per call: for tests, tools and cold paths). Thread-safe.
core::Result<core::MarketData> decode_market_data(std::string_view json);
core::Result<core::OrderCommand> decode_order_command(std::string_view json);
core::Result<core::ExecutionReport> decode_execution_report(std::string_view json);
core::Result<core::RiskStateChanged> decode_risk_state(std::string_view json);
core::Result<core::SetTradingState> decode_risk_command(std::string_view json);
core::Result<core::RiskCommand> decode_risk_management(std::string_view json, const core::RiskPolicy& current);
core::Result<RiskEvent> decode_risk_event(std::string_view json);
core::Result<core::InstrumentStatus> decode_instrument_status(std::string_view json);
core::Result<core::CorporateAction> decode_corporate_action(std::string_view json);
core::Result<core::PerformanceReport> decode_performance(std::string_view json);
core::Result<core::Progress> decode_progress(std::string_view json);
core::Result<core::Heartbeat> decode_heartbeat(std::string_view json);
core::Result<core::DeadLetter> decode_dead_letter(std::string_view json);
core::Result<core::OpsStatus> decode_ops_status(std::string_view json);
core::Result<core::SessionLifecycle> decode_session_lifecycle(std::string_view json);
core::Result<core::WorkerStarted> decode_worker_started(std::string_view json);
core::Result<StrategyReply> decode_strategy_reply(std::string_view json);
core::Result<core::FeedSummaryEvent> decode_feed_summary(std::string_view json);
core::Result<Envelope> peek(std::string_view json);

}  // namespace codec
