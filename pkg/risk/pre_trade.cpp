#include "risk/pre_trade.hpp"

#include <fmt/format.h>

#include "portfolio/portfolio.hpp"

#include <utility>

namespace risk {

RiskEngine::RiskEngine(Limits limits) : limits_(limits) {}

std::optional<core::Price> RiskEngine::reference_price(const core::OrderSubmit& o) const {
  if (o.order_type == core::OrderType::limit && o.limit_price) return o.limit_price;
  const auto it = refs_.find(o.symbol);
  if (it == refs_.end()) return std::nullopt;
  return it->second.touch(o.side);
}

Decision RiskEngine::check(const core::OrderSubmit& o) const {
  if (state_ == core::TradingState::halted) {
    return {false, fmt::format("trading halted: {}", state_reason_)};
  }
  if (o.quantity > limits_.max_order_qty) {
    return {false, fmt::format("max_order_qty: quantity {} exceeds limit {}", o.quantity,
                               limits_.max_order_qty)};
  }
  const auto px = reference_price(o);
  if (!px) return {false, fmt::format("no reference price for {}", o.symbol)};
  const core::Money notional = portfolio::notional(o.quantity, *px);
  if (notional > limits_.max_order_notional) {
    return {false, fmt::format("max_order_notional: notional {} exceeds limit {}", notional,
                               limits_.max_order_notional)};
  }
  if (state_ == core::TradingState::reducing) {
    const core::Quantity pos = position(o.symbol);
    const bool opposite = (pos.is_positive() && o.side == core::Side::sell) ||
                          (pos.is_negative() && o.side == core::Side::buy);
    if (!opposite) return {false, "reducing: order would increase position"};
    if (o.quantity > abs(pos)) return {false, "reducing: order would flip position"};
  }
  return {true, ""};
}

void RiskEngine::on_quote(const core::Quote& q) { refs_[q.symbol].on_quote(q); }
void RiskEngine::on_trade(const core::Trade& t) { refs_[t.symbol].on_trade(t); }
void RiskEngine::on_bar(const core::Bar& b) { refs_[b.symbol].on_bar(b); }

void RiskEngine::on_execution(const core::ExecutionReport& r) {
  if (!r.last_qty.is_positive()) return;
  auto& pos = positions_[r.symbol];
  if (r.side == core::Side::buy) {
    pos += r.last_qty;
  } else {
    pos -= r.last_qty;
  }
}

std::optional<core::RiskStateChanged> RiskEngine::set_state(core::TradingState s, std::string reason,
                                                            std::string source, core::TimestampNs ts) {
  if (s == state_) return std::nullopt;
  core::RiskStateChanged ev{.trading_state = s,
                            .previous_state = state_,
                            .reason = reason,
                            .source = std::move(source),
                            .ts_event = ts};
  state_ = s;
  state_reason_ = std::move(reason);
  return ev;
}

core::TradingState RiskEngine::state() const { return state_; }
const std::string& RiskEngine::state_reason() const { return state_reason_; }
const Limits& RiskEngine::limits() const { return limits_; }

core::Quantity RiskEngine::position(const std::string& symbol) const {
  const auto it = positions_.find(symbol);
  return it == positions_.end() ? core::Quantity{} : it->second;
}

core::ExecutionReport denied_report(const core::OrderSubmit& o, std::string reason,
                                    core::TimestampNs ts) {
  core::ExecutionReport r;
  r.client_order_id = o.client_order_id;
  r.exec_id = fmt::format("{}-denied", o.client_order_id);
  r.exec_type = core::ExecType::denied;
  r.order_status = core::OrderStatus::denied;
  r.symbol = o.symbol;
  r.side = o.side;
  r.order_type = o.order_type;
  r.time_in_force = o.time_in_force;
  r.quantity = o.quantity;
  r.limit_price = o.limit_price;
  r.text = std::move(reason);
  r.strategy_id = o.strategy_id;
  r.ts_event = ts;
  return r;
}

}  // namespace risk
