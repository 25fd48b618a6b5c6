/// @file subjects.hpp
/// @brief Every NATS subject string, built in one place (subjects/README.md is the catalogue).
///
/// Never format a subject inline: call these. A test checks that this header,
/// subjects/README.md and the JSON schemas agree. Pure, thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace subjects {

/// Prefix of market data; the full subject is market.data.<symbol>.
constexpr std::string_view kMarketDataPrefix = "market.data.";
constexpr std::string_view kMarketDataAll = "market.data.>";
/// Commands from strategies and people: order.submit, order.cancel, order.replace.
/// A strategy publishes here; a person publishes here too, and the server delivers
/// it as trading.orders.by.<user> (kByToken, pkg/auth).
constexpr std::string_view kTradingOrders = "trading.orders";
/// Orders that passed pre-trade risk, consumed by execution only.
constexpr std::string_view kTradingOrdersApproved = "trading.orders.approved";
/// execution_report from execution (and from risk-state for denials).
constexpr std::string_view kTradingExecutions = "trading.executions";
/// risk.state: trading state transitions.
constexpr std::string_view kRiskState = "risk.state";
/// risk.management: commands (trading_state.set, halt, resume, risk.policy.set). People
/// publish here; the server delivers it as risk.management.by.<user> (pkg/auth).
constexpr std::string_view kRiskManagement = "risk.management";
/// What the server appends to a person's subject: each operator has an account of its
/// own whose imports map trading.orders and risk.management to
/// "<subject>.by.<user>" in the TRADING account (pkg/auth). The user is thus part of
/// the subject that is delivered and recorded, and nobody can write another's.
constexpr std::string_view kByToken = ".by.";
/// Subscriptions for what people send: trading.orders.by.*, risk.management.by.*.
constexpr std::string_view kTradingOrdersByAll = "trading.orders.by.*";
constexpr std::string_view kRiskManagementByAll = "risk.management.by.*";
constexpr std::string_view kPerformanceMetrics = "performance.metrics";
constexpr std::string_view kReportsPerformance = "reports.performance";
/// Request-reply: health of every worker.
constexpr std::string_view kOpsStatus = "ops.status";
/// Request-reply: the reporter answers with a final performance report and publishes it.
constexpr std::string_view kOpsReport = "ops.report";
/// Request-reply: ops answers from the event store, as the Ops API's GET /risk/policy,
/// /sessions, /sessions/{id} and /sessions/{id}/report (workers/ops_http.hpp).
constexpr std::string_view kOpsRiskPolicy = "ops.risk.policy";
constexpr std::string_view kOpsSessions = "ops.sessions";
constexpr std::string_view kOpsSession = "ops.session";
constexpr std::string_view kOpsSessionReport = "ops.session.report";
constexpr std::string_view kOpsHeartbeatPrefix = "ops.heartbeat.";
constexpr std::string_view kOpsHeartbeatAll = "ops.heartbeat.>";
/// Request-reply to one worker: ops.ping.<worker>; the reply is its heartbeat,
/// produced on its delivery thread (after every message it received before).
constexpr std::string_view kOpsPingPrefix = "ops.ping.";
/// Bad inputs, with the reason, from every worker.
constexpr std::string_view kOpsDeadLetter = "ops.dead_letter";
/// Session lifecycle (session.started, session.ended): published by ops for live
/// sessions and by traderctl replay/backtest; recorded.
constexpr std::string_view kSessionLifecycle = "session.lifecycle";
/// Prefix of worker manifests; the full subject is session.workers.<worker>
/// (worker.started, once per worker start; recorded).
constexpr std::string_view kSessionWorkersPrefix = "session.workers.";
constexpr std::string_view kSessionWorkersAll = "session.workers.>";

/// Progress markers: progress.<worker> (docs/architecture.md, "Event time"), published by
/// strategy, risk-state and execution; captured, so each follows the messages it vouches for.
constexpr std::string_view kProgressPrefix = "progress.";
constexpr std::string_view kProgressAll = "progress.>";

/// Request-reply to an external strategy (a program in any language, docs/strategies.md,
/// "Strategies in any language"): strategy.external.<strategy_id>. The strategy worker
/// requests (strategy.event, strategy.reset), the program answers (commands, timers).
/// Not captured: the commands it answers reach the log on trading.orders.
constexpr std::string_view kStrategyExternalPrefix = "strategy.external.";
constexpr std::string_view kStrategyExternalAll = "strategy.external.>";

/// JetStream stream that the recorder captures into the event store.
constexpr std::string_view kEventStream = "EVENTS";
/// Subjects captured by kEventStream. ops.* is request-reply and health, not events,
/// except ops.dead_letter: what was refused, why, and from whom, is part of the audit
/// log (issue 11).
constexpr std::string_view kCapturedSubjects[] = {"market.data.>", "trading.>",  "risk.>",         "performance.>",
                                                  "reports.>",     "session.>", "ops.dead_letter",
                                                  "progress.>"};

/// How the log is made (docs/scaling.md): what people send is captured by the stream
/// INPUTS, which acknowledges nothing (so `nats req trading.orders` gets risk-state's
/// answer, not a receipt), and EVENTS copies it in (a JetStream source); everything the
/// workers publish goes to EVENTS directly, acknowledged (natsio::LogPublisher), so a
/// stream leader's death loses none of it. Together they are kCapturedSubjects.
constexpr std::string_view kInputStream = "INPUTS";
constexpr std::string_view kInputStreamSubjects[] = {"trading.orders.by.*", "risk.management.by.*",
                                                     "risk.management"};
constexpr std::string_view kEventStreamSubjects[] = {
    "market.data.>", "trading.orders", "trading.orders.approved", "trading.executions", "risk.state",
    "performance.>", "reports.>",      "session.>",               "ops.dead_letter",    "progress.>"};
/// True if `subject` is published to kEventStream directly (kEventStreamSubjects). Pure.
bool published_to_event_stream(std::string_view subject) noexcept;

/// True if `symbol` can be one subject token: non-empty, <= 64 chars, only
/// [A-Za-z0-9_-] (no '.', '*', '>' or whitespace).
bool is_valid_symbol(std::string_view symbol) noexcept;
/// "market.data.<symbol>". Precondition: is_valid_symbol(symbol) (asserted).
std::string market_data(std::string_view symbol);
/// "<base>.by.<user>", e.g. by("risk.management", "alice"). Pure.
std::string by(std::string_view base, std::string_view user);

/// NATS subject matching: whether `subject` matches `pattern`, where `*` stands for one
/// token and a final `>` for one or more. Pure.
bool matches(std::string_view pattern, std::string_view subject) noexcept;
/// The person who sent a message on `subject`: "alice" for "risk.management.by.alice"
/// (the server put it there, pkg/auth), "" for any other subject. Pure.
std::string_view sender_of(std::string_view subject) noexcept;
/// The subject a person published on: "risk.management" for
/// "risk.management.by.alice"; `subject` itself otherwise. Pure.
std::string_view base_of(std::string_view subject) noexcept;
/// True for trading.orders and trading.orders.by.<user> (not trading.orders.approved).
bool is_orders(std::string_view subject) noexcept;
/// True for risk.management and risk.management.by.<user>.
bool is_risk_management(std::string_view subject) noexcept;
/// "ops.heartbeat.<worker>".
std::string ops_heartbeat(std::string_view worker);
/// "progress.<worker>".
std::string progress(std::string_view worker);
/// "ops.ping.<worker>".
std::string ops_ping(std::string_view worker);
/// "strategy.external.<strategy_id>". Precondition: is_valid_symbol(strategy_id) (asserted).
std::string strategy_external(std::string_view strategy_id);
/// True if `id` is a session id: 1-128 chars, only [A-Za-z0-9_.:-] (so an id made of
/// a time and a host, e.g. "live-20140506T000000Z-trader-1:4187", is fine; no
/// spaces, '/', '*', '>'). A session id is never a subject token. Pure.
bool is_valid_session_id(std::string_view id) noexcept;
/// "session.workers.<worker>". Precondition: is_valid_symbol(worker), i.e. one
/// subject token such as "risk-state" (asserted).
std::string session_worker(std::string_view worker);

}  // namespace subjects
