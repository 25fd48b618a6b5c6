/// @file risk_state.hpp
/// @brief The risk-state worker (cmd/risk-state): pre-trade checks and the trading state.
#pragma once

#include <map>
#include <set>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "codec/codec.hpp"
#include "core/market_check.hpp"
#include "workers/log_input.hpp"
#include "risk/pre_trade.hpp"
#include "workers/reply_router.hpp"

namespace services {

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
  std::vector<std::unique_ptr<BusSubscription>> subs_;
  std::unique_ptr<LogTail> live_;  ///< last: destroyed (delivery stopped) first
};

/// risk-state's settings (RISK_* environment variables, docs/configuration.md), beside
/// the common ones (worker_main.hpp).
std::vector<config::Option> risk_state_options();
/// The policy those settings give. Throws config::ConfigError naming the setting
/// (risk::validate's message for an inconsistent policy).
risk::RiskPolicy risk_policy_from(const config::Settings& s);

}  // namespace services
