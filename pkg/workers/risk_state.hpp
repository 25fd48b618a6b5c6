/// @file risk_state.hpp
/// @brief The risk-state worker (cmd/risk-state): pre-trade checks and the trading state.
#pragma once

#include <map>
#include <set>
#include <cstdint>
#include <functional>
#include <atomic>
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
/// end (store, then stream; read_history), in event-time order (event_time.hpp) and
/// held back at risk-state's own progress markers in the log
/// (EventTimeOrder::hold_at_own_progress): market data (marks), approved orders and
/// replaces (open orders, rate windows, decided ids), execution reports (positions,
/// P&L, closed orders, its own denials), risk.state events (the state and its
/// latches, restored as recorded, not re-derived), risk.policy events. An order or
/// command the log holds no answer to (no decision, denial, transition or dead letter
/// naming it: in flight when the previous instance died) is decided at its place in
/// that order, against the state the uninterrupted run had there, not the state at
/// the end of the history; market data and reports after the last own marker have
/// their transitions evaluated again (those the log holds are not published twice).
/// So a full-speed run with risk-state killed mid-way derives the same events as one
/// left alone (tests/integration/determinism_test.cpp). Then the live consumer starts.
/// Memory: the history after its last own marker is buffered until the whole history is
/// read (a few hundred roots normally; everything recorded during a long outage).
///
/// Policy at start: the configured policy, unless the policy recorded by the
/// previous start-up equals it, in which case the policy in force before the
/// restart (run-time updates included) is kept ("restored").
class RiskService {
 public:
  /// `store` may be nullptr (history from the stream alone). Throws
  /// natsio::NatsError if a subscription or the stream read fails.
  /// Precondition: risk::validate(configured) found nothing wrong.
  /// `valuation`: currencies and multipliers (RiskEngine; services::valuation_from).
  RiskService(Runtime& rt, risk::RiskPolicy configured, eventstore::EventStore* store, std::string stream,
              portfolio::Valuation valuation = {});
  ~RiskService();
  const HistoryStats& history() const noexcept { return history_; }
  /// Orders from the log decided at start (no decision had been recorded).
  std::int64_t decided_late() const noexcept { return decided_late_; }

 private:
  /// A core copy of a request: remembers its reply subject (ReplyRouter).
  void on_request(const natsio::Message& m);
  /// One event of the live log, in stream order: into the event-time order.
  void on_log(const LogEvent& ev);
  /// One event released by the event-time order (or handed at once: LogRole::other).
  void on_released(std::uint64_t seq, std::string_view subject, std::string_view data);
  /// One event to decide or apply live.
  void handle(const LogEvent& ev);
  /// A history event (seq <= end_) as released: applied as recorded; an input without
  /// an answer in the log waits in undecided_.
  void from_history(std::uint64_t seq, std::string_view subject, std::string_view data);
  /// A history event in stream order, before the event-time order: notes which inputs the
  /// log answers (recorded_causes_, recorded_keys_, manual_without_cause_).
  void note_recorded(const LogEvent& ev);
  /// Decides the undecided inputs whose decisions' place, (root, stage 2), lies before
  /// `before` (all of them if nullopt), in key order.
  void settle_undecided(std::optional<EventKey> before);
  void settle_policy(const risk::RiskPolicy& configured);
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

  Runtime& rt_;
  codec::Decoder dec_;
  core::MarketCheck check_;  ///< market data quality (crossed, back in time): flagged data is not used
  risk::RiskEngine engine_;
  core::TimestampNs market_ts_ = 0;  ///< latest market event time seen (stamps hand-typed orders)
  std::uint64_t in_seq_ = 0;         ///< log sequence of the order or command being decided (0 = none)
  std::optional<core::RiskPolicyChanged> last_startup_policy_;  ///< newest recorded risk.policy of source startup
  enum class Phase { holding, tail, live };
  Phase phase_ = Phase::holding;  ///< holding: reading the history; tail: releasing its rest; live
  std::uint64_t end_ = 0;         ///< the history's last stream sequence (read at start)
  /// Inputs of the history the log holds an answer to, by stream sequence (the causes its
  /// decisions, transitions and dead letters name); erased as each input is released.
  std::set<std::uint64_t> recorded_causes_;
  std::set<std::string> recorded_keys_;  ///< the same for decisions recorded before causes existed ("S:<id>", ...)
  std::uint64_t manual_without_cause_ = 0;  ///< a causeless manual decision's seq: commands before it were decided
  /// Inputs of the history with no answer in the log, by key: (seq, (subject, JSON)).
  std::map<EventKey, std::pair<std::uint64_t, std::pair<std::string, std::string>>> undecided_;
  HistoryStats history_;
  std::int64_t decided_late_ = 0;
  ReplyRouter replies_;  ///< delivery thread only
  EventTimeInput in_;    ///< upstream: strategy's orders, execution's reports (while an approved order is open)
  std::set<std::uint64_t> from_store_;  ///< buffered inputs read from the store (nobody waits for their answer)
  std::uint64_t cause_ = 0;  ///< stream sequence of the message being handled (cause_seq of transitions)
  std::vector<std::unique_ptr<BusSubscription>> subs_;
  /// For Prometheus, written on the delivery thread after each message, read by a scrape.
  std::atomic<int> trading_state_{0};        ///< core::TradingState
  std::atomic<std::int64_t> open_orders_{0};  ///< approved and not final
  void note_state() noexcept;
  std::unique_ptr<LogTail> live_;  ///< destroyed (delivery stopped) before what it uses
  std::unique_ptr<Runtime::MetricsRegistration> metrics_;  ///< last: no scrape reads it once it goes
};

/// risk-state's settings (RISK_* environment variables, docs/configuration.md), beside
/// the common ones (worker_main.hpp).
std::vector<config::Option> risk_state_options();
/// The policy those settings give. Throws config::ConfigError naming the setting
/// (risk::validate's message for an inconsistent policy).
risk::RiskPolicy risk_policy_from(const config::Settings& s);

}  // namespace services
