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
constexpr std::string_view kTradingOrders = "trading.orders";
/// Orders that passed pre-trade risk, consumed by execution only.
constexpr std::string_view kTradingOrdersApproved = "trading.orders.approved";
/// execution_report from execution (and from risk-state for denials).
constexpr std::string_view kTradingExecutions = "trading.executions";
/// risk.state: trading state transitions.
constexpr std::string_view kRiskState = "risk.state";
/// risk.management: commands (trading_state.set, halt, resume).
constexpr std::string_view kRiskManagement = "risk.management";
constexpr std::string_view kPerformanceMetrics = "performance.metrics";
constexpr std::string_view kReportsPerformance = "reports.performance";
/// Request-reply: health of every worker.
constexpr std::string_view kOpsStatus = "ops.status";
/// Request-reply: the reporter answers with a final performance report and publishes it.
constexpr std::string_view kOpsReport = "ops.report";
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

/// JetStream stream that the recorder captures into the event store.
constexpr std::string_view kEventStream = "EVENTS";
/// Subjects captured by kEventStream. ops.* is request-reply and health, not events,
/// except ops.dead_letter: what was refused, why, and from whom, is part of the audit
/// log (issue 11).
constexpr std::string_view kCapturedSubjects[] = {"market.data.>", "trading.>",  "risk.>",         "performance.>",
                                                  "reports.>",     "session.>", "ops.dead_letter"};

/// True if `symbol` can be one subject token: non-empty, <= 64 chars, only
/// [A-Za-z0-9_-] (no '.', '*', '>' or whitespace).
bool is_valid_symbol(std::string_view symbol) noexcept;
/// "market.data.<symbol>". Precondition: is_valid_symbol(symbol) (asserted).
std::string market_data(std::string_view symbol);
/// "ops.heartbeat.<worker>".
std::string ops_heartbeat(std::string_view worker);
/// "ops.ping.<worker>".
std::string ops_ping(std::string_view worker);
/// True if `id` is a session id: 1-128 chars, only [A-Za-z0-9_.:-] (so an id made of
/// a time and a host, e.g. "live-20140506T000000Z-trader-1:4187", is fine; no
/// spaces, '/', '*', '>'). A session id is never a subject token. Pure.
bool is_valid_session_id(std::string_view id) noexcept;
/// "session.workers.<worker>". Precondition: is_valid_symbol(worker), i.e. one
/// subject token such as "risk-state" (asserted).
std::string session_worker(std::string_view worker);

}  // namespace subjects
