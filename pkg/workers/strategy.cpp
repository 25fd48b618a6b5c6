#include "workers/strategy.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "subjects/subjects.hpp"

namespace services {

// ---------------------------------------------------------------- strategy

StrategyService::StrategyService(Runtime& rt, strategy::MaCrossConfig cfg, eventstore::EventStore* store,
                                 const std::string& stream)
    : rt_(rt),
      strategy_(cfg),
      own_prefix_(cfg.strategy_id + "-"),
      in_(rt,
          {{"risk-state", {kStageRisk}, [this] { return !live_ids_.empty(); }},
           {"execution", {kStageExecution}, [this] { return !live_ids_.empty(); }}},
          reacts({kStageRoot}, kStageStrategy), true) {
  const auto own_progress = subjects::progress(rt_.worker());
  history_ = follow_log(
      rt_, store, stream, in_, live_, [this](auto seq, auto subject, auto data, bool replay) { on_event(seq, subject, data, replay); },
      [this, &own_progress](const LogEvent& ev) {
        // Its own orders in the log, in stream order (as execution's reports).
        if (ev.subject == subjects::kTradingOrders) {
          const auto env = dec_.peek(ev.data);
          if (env && env->client_order_id && env->client_order_id->starts_with(own_prefix_))
            redecide_.in_log(*env->client_order_id);
        } else if (ev.subject == own_progress) {
          redecide_.own_marker();
        }
      });
  for (const auto& out : redecide_.finish()) {
    rt_.publish(subjects::kTradingOrders, out);
    ++republished_;
  }
  in_.publish_progress();
  live_->open(history_.last_seq);
}

StrategyService::~StrategyService() {
  live_.reset();  // no more deliveries
  in_.leave();
}

void StrategyService::on_event(std::uint64_t seq, std::string_view subject, std::string_view data, bool replay) {
  const natsio::Message m{subject, data, {}};
  if (subject.starts_with(subjects::kMarketDataPrefix)) {
    auto r = take_market(rt_, dec_, check_, m, replay);
    if (!r) return;
    auto order = std::visit(overloaded{[&](const core::Quote& q) { return strategy_.on_quote(q); },
                                       [&](const core::Trade& t) { return strategy_.on_trade(t); },
                                       [&](const core::Bar& b) { return strategy_.on_bar(b); }},
                            *r);
    if (!order) return;
    order->cause_seq = seq;  // ts_event is already that market data's time
    live_ids_.insert(order->client_order_id);
    if (auto out = redecide_.produced(order->client_order_id, [&] { return codec::encode(*order); }))
      rt_.publish(subjects::kTradingOrders, *out);
  } else if (subject == subjects::kTradingExecutions) {
    auto r = take_report(rt_, dec_, m, replay);
    if (!r) return;
    strategy_.on_execution(*r);
    if (core::is_terminal(r->order_status)) live_ids_.erase(r->client_order_id);
  }
}

// ---------------------------------------------------------------- settings

std::vector<config::Option> strategy_options() {
  return {{"fast", "STRATEGY_FAST", "20", "fast SMA length (events)"},
          {"slow", "STRATEGY_SLOW", "100", "slow SMA length (events)"},
          {"quantity", "STRATEGY_QUANTITY", "1000", "target position size"},
          {"strategy_id", "STRATEGY_ID", "ma_cross", "strategy_id on its orders; prefix of client_order_id"},
          {"stream", "STRATEGY_STREAM", "EVENTS", "JetStream stream of the event log (its state at start)"}};
}

strategy::MaCrossConfig strategy_config_from(const config::Settings& s) {
  strategy::MaCrossConfig c;
  const auto fast = s.get_int("fast");
  const auto slow = s.get_int("slow");
  if (fast < 1 || slow <= fast) throw config::ConfigError("fast/slow: need 1 <= fast < slow");
  c.fast = static_cast<std::size_t>(fast);
  c.slow = static_cast<std::size_t>(slow);
  c.quantity = s.get_decimal("quantity");
  if (!c.quantity.is_positive()) throw config::ConfigError("quantity: must be positive");
  c.strategy_id = s.get("strategy_id");
  return c;
}

}  // namespace services
