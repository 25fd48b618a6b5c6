/// @file strategy.hpp
/// @brief The strategy worker (cmd/strategy): runs the chosen strategies (Strategy API,
/// strategy/strategy.hpp) on the event log; by default the moving-average crossover.
#pragma once

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
#include "workers/external_strategy.hpp"
#include "workers/log_input.hpp"
#include "strategy/registry.hpp"
#include "strategy/strategy.hpp"

namespace services {

/// strategy: runs one or more strategies (strategy::Runner each, with its own strategy_id);
/// sends their order.submit / order.cancel / order.replace on trading.orders.
///
/// Every strategy sees every market event, in the order they were chosen; an execution
/// report goes to the strategy whose strategy_id it carries (else the one whose
/// client_order_id prefix "<strategy_id>-" it has; else nobody).
///
/// Consumes the event log (market data, risk-state's denials, execution's reports) with a
/// LogFollower, in event-time order (EventTimeInput): it decides on a root input only once
/// every report for its own orders that sorts before that input is in, so its decisions are
/// the same at any speed. It waits for risk-state and execution only while an order of its
/// own is not final. Each order names its cause (cause_seq: the market data it answers;
/// ts_event: that market data's time).
///
/// Restarts are harmless: at start it handles the whole history again (store, then stream)
/// with its commands held back, and publishes only those the log does not hold (the
/// previous instance died between deciding and publishing): submits, cancels and replaces
/// alike, each matched by strategy::command_key (type, client_order_id, cause_seq). Its
/// state is then what it was, order numbers included, so it never sends an id twice.
///
/// External strategies (workers/external_strategy.hpp): on NATS, "external" in
/// `registry` is replaced by one bound to this worker's connection (with_external), so a
/// caller's registry needs at most the checking-only one (with_external(r, nullptr)).
/// Such a strategy blocks the worker's thread during each request. The destructor stops
/// their waits first (ExternalLink::stop), as does a SIGTERM pending during the rebuild
/// (termination_pending); an event whose wait was stopped is dropped, and so is every
/// later one (the worker is stopping).
class StrategyService {
 public:
  /// `choices`: the strategies to run, made by `registry`. Throws std::invalid_argument
  /// for a bad choice (Registry::check; "external" on a bus that is not NATS, e.g. the
  /// in-process engine's), natsio::NatsError if the stream cannot be read or consumed.
  StrategyService(Runtime& rt, const std::vector<strategy::Choice>& choices, const strategy::Registry& registry,
                  eventstore::EventStore* store, const std::string& stream);
  ~StrategyService();
  const HistoryStats& history() const noexcept { return history_; }
  /// Commands the rebuild produced that the log did not hold, published at start.
  std::int64_t republished() const noexcept { return republished_; }
  /// Own orders not final after the rebuild (all strategies).
  std::size_t live_orders() const noexcept;
  /// The strategies, in the order chosen.
  const std::vector<strategy::Runner>& runners() const noexcept { return runners_; }

 private:
  void on_event(std::uint64_t seq, std::string_view subject, std::string_view data, bool replay);
  void handle(std::uint64_t seq, std::string_view subject, std::string_view data, bool replay);
  bool any_open() const noexcept;
  strategy::Runner* route(const core::ExecutionReport& r);
  Runtime& rt_;
  codec::Decoder dec_;
  core::MarketCheck check_;
  std::shared_ptr<ExternalLink> external_;  ///< the external strategies' link (before runners_)
  bool stopped_ = false;                    ///< an external strategy's wait was stopped: drop events
  std::vector<strategy::Runner> runners_;
  /// Some runner is an external strategy: only then can a handler block (and is a
  /// pending SIGTERM looked for, a system call, at each event).
  bool any_external_ = false;
  EventTimeInput in_;
  Redecide<std::string> redecide_;  ///< its commands, by strategy::command_key, produced again vs in the log
  HistoryStats history_;
  std::int64_t republished_ = 0;
  std::unique_ptr<LogTail> live_;  ///< last: destroyed (delivery stopped) first
};

/// strategy's settings (STRATEGY_* environment variables). `strategies`
/// (STRATEGY_STRATEGIES, `--strategies`): "NAME k=v ...; NAME2 k=v ..."
/// (strategy::parse_choices; cmd/strategy also takes `--strategy NAME --param k=v ...`).
/// Empty: ma_cross with fast, slow, quantity and strategy_id (STRATEGY_FAST, ...), the
/// settings of the single built-in strategy before the Strategy API (they are ignored
/// when `strategies` is given).
std::vector<config::Option> strategy_options();
/// The strategies those settings choose, checked against `registry` and with their
/// defaults filled in. Throws config::ConfigError naming the setting and the problem
/// (unknown strategy, unknown or bad param, two equal strategy_ids).
std::vector<strategy::Choice> strategy_choices_from(const config::Settings& s, const strategy::Registry& registry);

}  // namespace services
