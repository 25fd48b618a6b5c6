/// @file strategy.hpp
/// @brief The strategy worker (cmd/strategy): the built-in moving-average crossover.
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
#include "workers/log_input.hpp"
#include "strategy/ma_cross.hpp"

namespace services {

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
  std::unique_ptr<LogTail> live_;  ///< last: destroyed (delivery stopped) first
};

/// strategy's settings (STRATEGY_* environment variables).
std::vector<config::Option> strategy_options();
/// The crossover's configuration those settings give. Throws config::ConfigError
/// (need 1 <= fast < slow, a positive quantity).
strategy::MaCrossConfig strategy_config_from(const config::Settings& s);

}  // namespace services
