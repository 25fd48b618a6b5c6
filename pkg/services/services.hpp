/// @file services.hpp
/// @brief The bus-facing side of each worker: decode, call the pure domain
/// object, encode and publish what it returns.
///
/// Each service subscribes in its constructor and owns one codec::Decoder and
/// one domain object. All callbacks run on the process's single nats.c
/// delivery thread (natsio.hpp), so domain state has one writer (a LogFollower's
/// gap filling may run on its watchdog thread, under the follower's mutex, never
/// beside the delivery thread's handler). Bad input is
/// answered on ops.dead_letter (and to the reply subject, if any) and counted;
/// the service keeps going. Construction throws natsio::NatsError if a
/// subscription cannot be made.
#pragma once

#include <condition_variable>
#include <map>
#include <set>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "codec/codec.hpp"
#include "core/market_check.hpp"
#include "matching/paper_broker.hpp"
#include "natsio/natsio.hpp"
#include "portfolio/portfolio.hpp"
#include "risk/pre_trade.hpp"
#include "services/event_log.hpp"
#include "services/reply_router.hpp"
#include "services/runtime.hpp"
#include "strategy/ma_cross.hpp"

namespace services {

/// Decodes a market.data.<symbol> message and checks that the payload's
/// symbol matches the subject's last token.
core::Result<core::MarketData> decode_market(codec::Decoder& dec, const natsio::Message& m);

/// True if a market.data message that decode_market refused is a valid
/// instrument_status (workers other than execution take no action on it, and it
/// is not bad input). Called on the error path only, so quotes pay nothing.
bool is_instrument_status(codec::Decoder& dec, const natsio::Message& m);

/// risk-state: pre-trade checks on trading.orders, forwards approved commands
/// to trading.orders.approved, answers denials with an execution_report on
/// trading.executions, applies risk.management commands (trading_state.set,
/// risk.policy.set) and publishes risk.state (state changes and risk.policy).
///
/// Inputs in log order (issue 11): risk-state consumes the event stream (EVENTS)
/// with a LogFollower, like execution, and decides each order and command at its
/// place in the log: after exactly the market data, fills and commands stored before
/// it. So a replay of the log decides the same way, and nothing published while
/// risk-state was disconnected or restarting is missed: it is handled, in order, once
/// it is back (a reconnect resumes the consumer; what the stream no longer holds comes
/// from the store). The stream copy carries no reply subject, so risk-state also
/// subscribes to trading.orders, trading.orders.by.* and risk.management.by.* on
/// core NATS only to learn who waits for an answer (ReplyRouter); a request (`nats req`)
/// gets its answer once its stream copy is decided.
///
/// State from events: at start the live consumer is created first (from the
/// stream's end + 1), then the engine is rebuilt from the recorded history up to that
/// end (store, then stream; read_history): market data (marks), approved orders and
/// replaces (open orders, rate windows, decided ids), execution reports (positions,
/// P&L, closed orders, its own denials), risk.state events (the state and its
/// latches, restored as recorded, not re-derived), risk.policy events and
/// risk.management commands. Orders in the log that no decision follows (in flight
/// when the previous instance died) are decided then, in log order; then the live
/// consumer starts.
///
/// Policy at start: the configured policy, unless the policy recorded by the
/// previous start-up equals it, in which case the policy in force before the
/// restart (run-time updates included) is kept ("restored").
class RiskService {
 public:
  /// `store` may be nullptr (history from the stream alone). Throws
  /// natsio::NatsError if a subscription or the stream read fails.
  /// Precondition: risk::validate(configured) found nothing wrong.
  RiskService(Runtime& rt, risk::RiskPolicy configured, eventstore::EventStore* store, std::string stream);
  const HistoryStats& history() const noexcept { return history_; }
  /// Orders from the log decided at start (no decision had been recorded).
  std::int64_t decided_late() const noexcept { return decided_late_; }

 private:
  /// A core copy of a request: remembers its reply subject (ReplyRouter).
  void on_request(const natsio::Message& m);
  /// One event of the live log, in stream order.
  void on_log(const LogEvent& ev);
  void replay(const LogEvent& ev);
  void settle_policy(const risk::RiskPolicy& configured);
  void decide_pending();
  void on_order(const natsio::Message& m);
  void on_market(const natsio::Message& m);
  void on_execution(const natsio::Message& m);
  void on_command(const natsio::Message& m);
  void publish_policy(std::string reason, std::string source, core::TimestampNs ts);
  /// Time for an order or command typed without ts_event: the latest market
  /// event time seen, so one typed during a replay of 2014 lives in 2014; 0
  /// before any market data. Never the wall clock: a replay of the same log
  /// stamps the same times (docs/architecture.md, "Determinism").
  core::TimestampNs ingress_time() const;
  void publish_transitions();
  /// Refuses input `m` (dead letter to ops.dead_letter and the requester) naming the
  /// log sequence of the input being decided (in_seq_), so a rebuild knows it was answered.
  void refuse(const natsio::Message& m, const core::Error& err);
  void pending_add(std::string key, std::uint64_t seq, std::string_view subject, std::string_view data);
  void pending_remove(const std::string& key);

  Runtime& rt_;
  codec::Decoder dec_;
  core::MarketCheck check_;  ///< market data quality (crossed, back in time): flagged data is not used
  risk::RiskEngine engine_;
  core::TimestampNs market_ts_ = 0;  ///< latest market event time seen (stamps hand-typed orders)
  std::uint64_t in_seq_ = 0;         ///< log sequence of the order or command being decided (0 = none)
  std::map<std::uint64_t, std::pair<std::string, std::string>> pending_;  ///< undecided orders: seq -> (subject, JSON)
  std::map<std::string, std::vector<std::uint64_t>> pending_by_key_;  ///< "S:<id>" / "C:<id>" / "R:<id>" -> seqs
  std::optional<core::RiskPolicyChanged> last_startup_policy_;  ///< newest recorded risk.policy of source startup
  /// risk.management.by.<user> commands of the log that no manual decision followed:
  /// seq -> (subject, JSON). Sent while risk-state was down; applied after the rebuild.
  std::map<std::uint64_t, std::pair<std::string, std::string>> unanswered_commands_;
  HistoryStats history_;
  std::int64_t decided_late_ = 0;
  ReplyRouter replies_;  ///< delivery thread only
  std::vector<std::unique_ptr<natsio::Subscription>> subs_;
  std::unique_ptr<LogFollower> live_;  ///< last: destroyed (delivery stopped) first
};

/// execution: the paper broker. Consumes the event log (JetStream stream EVENTS)
/// in stream order, so the order in which it sees market data and approved
/// orders is the order every replay sees; publishes every execution_report on
/// trading.executions.
///
/// State from events: at start it rebuilds the broker by feeding it the whole
/// recorded history (store, then stream; read_history) up to the stream's end,
/// publishing nothing. Reports that this replay produces but that the history
/// does not hold (the previous instance died between deciding and publishing)
/// are published then, in order; then it consumes live from the next sequence.
/// So after a SIGKILL no approved order is lost and none is filled twice.
class ExecutionService {
 public:
  /// `store` may be nullptr (history from the stream alone). Throws
  /// natsio::NatsError if the stream cannot be read or consumed.
  ExecutionService(Runtime& rt, matching::BrokerConfig cfg, eventstore::EventStore* store, std::string stream);
  const HistoryStats& history() const noexcept { return history_; }
  /// Reports the rebuild produced that the log did not hold, published at start.
  std::int64_t republished() const noexcept { return republished_; }

 private:
  void on_event(std::uint64_t seq, std::string_view subject, std::string_view data, bool replay);
  void emit(const std::vector<core::ExecutionReport>& reports);
  Runtime& rt_;
  codec::Decoder dec_;
  core::MarketCheck check_;  ///< flagged market data is never filled against
  matching::PaperBroker broker_;
  core::TimestampNs market_ts_ = 0;  ///< latest market event time (stamps a hand-typed instrument_status)
  bool replaying_ = true;
  /// While replaying: reports produced but not (yet) seen in the log, by exec_id,
  /// with their encoding; `pending_order_` keeps production order.
  std::map<std::string, std::string> pending_;
  std::vector<std::string> pending_order_;
  HistoryStats history_;
  std::int64_t republished_ = 0;
  std::unique_ptr<LogFollower> live_;  ///< last: destroyed (delivery stopped) first
};

/// strategy: the example moving-average crossover; sends order.submit on trading.orders.
///
/// Restarts are harmless (issue 11): at start it subscribes (buffering), then rebuilds
/// from the event log (the store, then the stream up to its end): the market data and
/// execution reports it saw go through the strategy again with its orders discarded,
/// and its own orders in the log (trading.orders, client_order_id "<strategy_id>-...")
/// give, per symbol, how many it sent and which one still waits for a final report.
/// So a restarted strategy numbers its next order after the last one it sent (never a
/// duplicate id) and waits for the order in flight instead of sending again. Then the
/// buffered messages are handled, minus those the history held.
class StrategyService {
 public:
  /// `store` may be nullptr and `stream` empty (no rebuild: a fresh strategy). Throws
  /// natsio::NatsError if the stream cannot be read.
  StrategyService(Runtime& rt, strategy::MaCrossConfig cfg, eventstore::EventStore* store = nullptr,
                  const std::string& stream = "");
  const HistoryStats& history() const noexcept { return history_; }
  /// Per symbol after the rebuild: (orders sent, order in flight or "").
  const std::map<std::string, std::pair<std::uint64_t, std::string>>& restored() const noexcept { return restored_; }

 private:
  using HandlerFn = void (StrategyService::*)(const natsio::Message&);
  void deliver(const natsio::Message& m, HandlerFn fn);
  void replay(const LogEvent& ev);
  void on_market(const natsio::Message& m);
  void on_execution(const natsio::Message& m);
  Runtime& rt_;
  codec::Decoder dec_;
  core::MarketCheck check_;
  strategy::MaCross strategy_;
  std::string own_prefix_;  ///< "<strategy_id>-"
  std::mutex mu_;           ///< guards the buffer until live_
  bool live_ = false;
  struct Buffered {
    std::string subject, data;
  };
  std::vector<Buffered> buffer_;
  std::uint64_t overlap_after_ = 0;       ///< stream sequence before subscribing
  std::map<std::string, int> overlap_;    ///< history after it, which the buffer may hold too
  struct Own {
    std::uint64_t sent = 0;     ///< highest order number seen
    std::string last;           ///< the latest order's id
  };
  std::map<std::string, Own> own_;        ///< by symbol, from the log
  std::set<std::string> finished_;        ///< own ids with a final report in the log
  std::map<std::string, std::pair<std::uint64_t, std::string>> restored_;
  HistoryStats history_;
  std::vector<std::unique_ptr<natsio::Subscription>> subs_;
};

/// reporter: positions and P&L marked to market. Publishes performance.metrics
/// every `metrics_interval_ns` of EVENT time (deterministic under replay), and
/// the final report on reports.performance when asked on ops.report and when it stops.
class ReporterService {
 public:
  ReporterService(Runtime& rt, core::DurationNs metrics_interval_ns);
  /// Publishes the final report on reports.performance and returns it. Thread-safe.
  core::PerformanceReport publish_final();

 private:
  void on_market(const natsio::Message& m);
  void on_execution(const natsio::Message& m);
  void on_report_request(const natsio::Message& m);
  void maybe_publish_metrics(core::TimestampNs ts);
  Runtime& rt_;
  codec::Decoder dec_;
  core::MarketCheck check_;
  std::mutex mu_;  ///< guards portfolio_: delivery thread vs publish_final from main
  portfolio::Portfolio portfolio_;
  core::DurationNs interval_;
  core::TimestampNs last_metrics_ts_ = 0;
  std::vector<std::unique_ptr<natsio::Subscription>> subs_;
};

/// ops: collects heartbeats and answers ops.status with every worker's health.
class OpsService {
 public:
  /// `heartbeat_ms`: the workers' heartbeat interval; an instance is down once its
  /// latest heartbeat is older than 3 intervals. `expire_ms`: how long an instance that
  /// stopped (its last heartbeat says "stopped") or that was replaced (another instance
  /// of the worker is alive) stays listed before it is forgotten.
  OpsService(Runtime& rt, std::int64_t heartbeat_ms, std::int64_t expire_ms = 60'000);
  /// Every instance heard from, with the whole stack's status (core::OpsStatus::status).
  /// Thread-safe (forgets expired instances as it goes).
  core::OpsStatus status();

 private:
  void on_heartbeat(const natsio::Message& m);
  void on_status(const natsio::Message& m);
  Runtime& rt_;
  codec::Decoder dec_;
  std::int64_t heartbeat_ms_;
  std::int64_t expire_ms_;
  mutable std::mutex mu_;
  struct Seen {
    core::Heartbeat hb;
    core::TimestampNs received = 0;
  };
  std::map<std::pair<std::string, std::string>, Seen> seen_;  ///< (worker, instance)
  std::vector<std::unique_ptr<natsio::Subscription>> subs_;
};

}  // namespace services
