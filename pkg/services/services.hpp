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
#include "services/event_time.hpp"
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

/// A worker's side of the event-time contract (event_time.hpp, docs/architecture.md
/// "Event time"): its EventTimeOrder, and its progress markers on progress.<worker>.
///
/// Progress is published when the floor moved and: the message it waits on changed (it
/// is blocked on something new, or has nothing left), or it caught up with its queue
/// and reached a later root, or it ran 256 roots ahead of the last marker.
/// Thread-safety: the owner's (its delivery thread, or the follower's mutex).
class EventTimeInput {
 public:
  using Handler = std::function<void(std::uint64_t seq, std::string_view subject, std::string_view data)>;
  /// `publishes`: strategy, risk-state and execution publish progress; the reporter
  /// (nobody consumes what it says) does not.
  EventTimeInput(Runtime& rt, std::vector<EventTimeOrder::Upstream> upstream,
                 std::function<std::optional<int>(int)> out_stage, bool publishes);
  /// Takes one message of the log: `handle` runs for it at once if it is not ordered
  /// (LogRole::other), then for every message the order releases. `live`: publish
  /// progress as above (false while rebuilding).
  void on_log(const LogEvent& ev, const Handler& handle, bool live);
  /// Releases what may be released (after a change of relevance, e.g. at the end of a rebuild).
  void drain(const Handler& handle);
  /// Publishes the floor now, whatever the batching says (e.g. at the end of a rebuild).
  void publish_progress();
  /// Says the worker takes no part any more (progress root_seq 0): at an orderly stop.
  void leave();
  EventTimeOrder& order() noexcept { return order_; }

 private:
  void send(std::uint64_t root_seq, int stage);
  Runtime& rt_;
  EventTimeOrder order_;
  bool publishes_;
  Floor published_{};
  std::optional<EventKey> last_head_;
};

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
  ~RiskService();
  const HistoryStats& history() const noexcept { return history_; }
  /// Orders from the log decided at start (no decision had been recorded).
  std::int64_t decided_late() const noexcept { return decided_late_; }

 private:
  /// A core copy of a request: remembers its reply subject (ReplyRouter).
  void on_request(const natsio::Message& m);
  /// One event of the live log, in stream order: into the event-time order.
  void on_log(const LogEvent& ev);
  /// One event released by the event-time order.
  void handle(const LogEvent& ev);
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
  EventTimeInput in_;    ///< upstream: strategy's orders, execution's reports (while an approved order is open)
  std::set<std::uint64_t> from_store_;  ///< buffered inputs read from the store (nobody waits for their answer)
  std::uint64_t cause_ = 0;  ///< stream sequence of the message being handled (cause_seq of transitions)
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
  void emit(std::vector<core::ExecutionReport> reports);
  Runtime& rt_;
  codec::Decoder dec_;
  core::MarketCheck check_;  ///< flagged market data is never filled against
  matching::PaperBroker broker_;
  EventTimeInput in_;            ///< the log in event-time order; upstream: risk-state's approvals
  std::uint64_t cause_ = 0;      ///< stream sequence of the message being handled (the reports' cause_seq)
  core::TimestampNs market_ts_ = 0;  ///< latest market event time (stamps a hand-typed instrument_status)
  Redecide<std::string> redecide_;  ///< its reports, by exec_id, produced again vs in the log
  HistoryStats history_;
  std::int64_t republished_ = 0;
  std::unique_ptr<LogFollower> live_;  ///< last: destroyed (delivery stopped) first
};

/// strategy: the example moving-average crossover; sends order.submit on trading.orders.
///
/// Consumes the event log (market data, risk-state's denials, execution's reports) with a
/// LogFollower, in event-time order (EventTimeInput): it decides on a root input only once
/// every report for its own orders that sorts before that input is in, so its decisions are
/// the same at any speed. It waits for risk-state and execution only while an order of its
/// own is not final. Each order names its cause (cause_seq: the market data it answers;
/// ts_event: that market data's time).
///
/// Restarts are harmless: at start it handles the whole history again (store, then stream)
/// with its orders held back, and publishes only those the log does not hold (the previous
/// instance died between deciding and publishing). Its state is then what it was, order
/// numbers included, so it never sends an id twice.
class StrategyService {
 public:
  /// Throws natsio::NatsError if the stream cannot be read or consumed.
  StrategyService(Runtime& rt, strategy::MaCrossConfig cfg, eventstore::EventStore* store, const std::string& stream);
  ~StrategyService();
  const HistoryStats& history() const noexcept { return history_; }
  /// Orders the rebuild produced that the log did not hold, published at start.
  std::int64_t republished() const noexcept { return republished_; }
  /// Own orders not final after the rebuild.
  std::size_t live_orders() const noexcept { return live_ids_.size(); }

 private:
  void on_event(std::uint64_t seq, std::string_view subject, std::string_view data, bool replay);
  Runtime& rt_;
  codec::Decoder dec_;
  core::MarketCheck check_;
  strategy::MaCross strategy_;
  std::string own_prefix_;  ///< "<strategy_id>-"
  std::set<std::string> live_ids_;  ///< own orders sent and not final (reports are awaited)
  EventTimeInput in_;
  Redecide<std::string> redecide_;  ///< its orders, by client_order_id, produced again vs in the log
  HistoryStats history_;
  std::int64_t republished_ = 0;
  std::unique_ptr<LogFollower> live_;  ///< last: destroyed (delivery stopped) first
};

/// reporter: positions and P&L marked to market. Consumes the event log (market data,
/// execution reports) with a LogFollower in event-time order (EventTimeInput: a root
/// input is handled only once every report that sorts before it is in), so marks and
/// fills interleave the same way at any speed. Publishes performance.metrics every
/// `metrics_interval_ns` of EVENT time (cause_seq: the message that crossed the
/// interval), and the final report on reports.performance when asked on ops.report
/// and when it stops.
///
/// Restarts are harmless: at start it handles the whole history again (store, then
/// stream) with its metrics held back, and publishes only those the log does not hold.
class ReporterService {
 public:
  /// Throws natsio::NatsError if the stream cannot be read or consumed.
  ReporterService(Runtime& rt, core::DurationNs metrics_interval_ns, eventstore::EventStore* store,
                  const std::string& stream);
  ~ReporterService();
  /// Publishes the final report on reports.performance and returns it. Thread-safe.
  core::PerformanceReport publish_final();
  const HistoryStats& history() const noexcept { return history_; }

 private:
  void on_event(std::uint64_t seq, std::string_view subject, std::string_view data, bool replay);
  void on_report_request(const natsio::Message& m);
  void maybe_publish_metrics(core::TimestampNs ts, std::uint64_t cause);
  Runtime& rt_;
  codec::Decoder dec_;
  core::MarketCheck check_;
  std::mutex mu_;  ///< guards portfolio_: delivery thread vs publish_final from main
  portfolio::Portfolio portfolio_;
  core::DurationNs interval_;
  core::TimestampNs last_metrics_ts_ = 0;
  EventTimeInput in_;
  Redecide<std::uint64_t> redecide_;  ///< its metrics, by cause_seq, produced again vs in the log
  HistoryStats history_;
  std::vector<std::unique_ptr<natsio::Subscription>> subs_;
  std::unique_ptr<LogFollower> live_;  ///< last: destroyed (delivery stopped) first
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
