#include "risk/pre_trade.hpp"

#include <fmt/format.h>

#include <iterator>
#include <utility>

namespace risk {

namespace {

constexpr std::int64_t kRawPerCentiBps = core::Decimal::kOne / 100;  // 0.01 in raw units

/// Rounds a non-negative value up to 2 decimals (for display only).
core::Decimal ceil_2dp(core::Decimal d) {
  const std::int64_t raw = d.raw();
  if (raw <= 0) return d;
  return core::Decimal::from_raw((raw + kRawPerCentiBps - 1) / kRawPerCentiBps * kRawPerCentiBps);
}

/// "1s", "250ms", "10us" or "7ns": the largest unit that divides the duration exactly.
std::string format_window(core::DurationNs ns) {
  if (ns != 0 && ns % core::kNsPerSecond == 0) return fmt::format("{}s", ns / core::kNsPerSecond);
  if (ns != 0 && ns % 1'000'000 == 0) return fmt::format("{}ms", ns / 1'000'000);
  if (ns != 0 && ns % 1'000 == 0) return fmt::format("{}us", ns / 1'000);
  return fmt::format("{}ns", ns);
}

std::int64_t floor_day(core::TimestampNs ts) {
  std::int64_t d = ts / core::kNsPerDay;
  if (ts % core::kNsPerDay < 0) --d;
  return d;
}

std::optional<core::Error> positive(const std::string& path, std::string_view field,
                                    std::optional<core::Decimal> v) {
  if (v && !v->is_positive()) {
    return core::make_error(fmt::format("{}.{}", path, field), fmt::format("must be > 0, got {}", *v));
  }
  return std::nullopt;
}

}  // namespace

// ---------------------------------------------------------------- policy

std::optional<core::Error> validate(const RiskPolicy& p) {
  const Limits& d = p.defaults;
  const std::string def = "defaults";
  for (auto e : {positive(def, "max_order_qty", d.max_order_qty),
                 positive(def, "max_order_notional", d.max_order_notional),
                 positive(def, "max_position", d.max_position),
                 positive(def, "max_gross_exposure", d.max_gross_exposure),
                 positive(def, "price_band_bps", d.price_band_bps),
                 positive(def, "daily_loss_limit", d.daily_loss_limit),
                 positive(def, "max_drawdown", d.max_drawdown)}) {
    if (e) return e;
  }
  if (d.max_open_orders < 0) {
    return core::make_error("defaults.max_open_orders", fmt::format("must be >= 0, got {}", d.max_open_orders));
  }
  if (d.max_orders_per_window < 0) {
    return core::make_error("defaults.max_orders_per_window",
                            fmt::format("must be >= 0, got {}", d.max_orders_per_window));
  }
  if (d.rate_window_ns <= 0) {
    return core::make_error("defaults.rate_window_ns", fmt::format("must be > 0, got {}", d.rate_window_ns));
  }
  for (const auto& [symbol, s] : p.per_symbol) {
    const std::string path = fmt::format("per_symbol.{}", symbol);
    for (auto e : {positive(path, "max_order_qty", s.max_order_qty),
                   positive(path, "max_order_notional", s.max_order_notional),
                   positive(path, "max_position", s.max_position),
                   positive(path, "price_band_bps", s.price_band_bps)}) {
      if (e) return e;
    }
  }
  return std::nullopt;
}

// ---------------------------------------------------------------- checks

RiskEngine::RiskEngine(Limits limits) : policy_{.defaults = limits, .per_symbol = {}} {}

std::optional<core::Price> RiskEngine::reference_price(const core::OrderSubmit& o) const {
  // Limit and stop-limit orders are priced at their limit; market and stop at the touch.
  if (o.limit_price) return o.limit_price;
  const auto it = refs_.find(o.symbol);
  if (it == refs_.end()) return std::nullopt;
  return it->second.touch(o.side);
}

std::optional<core::Price> RiskEngine::mid(const std::string& symbol) const {
  const auto it = refs_.find(symbol);
  if (it == refs_.end()) return std::nullopt;
  const core::TopOfBook& b = it->second;
  if (b.bid && b.ask) return div(*b.bid + *b.ask, core::Decimal::from_int(2));
  if (b.bid) return b.bid;
  return b.ask;
}

std::optional<core::Price> RiskEngine::mark(const std::string& symbol) const {
  if (auto m = mid(symbol)) return m;
  const auto it = last_fill_px_.find(symbol);
  if (it == last_fill_px_.end()) return std::nullopt;
  return it->second;
}

Decision RiskEngine::evaluate(const core::OrderSubmit& o) const {
  const Limits lim = policy_.for_symbol(o.symbol);
  // 1. state
  if (state_ == core::TradingState::halted) {
    return {false, fmt::format("trading halted: {}", state_reason_)};
  }
  // 2. quantity
  if (o.quantity > lim.max_order_qty) {
    return {false, fmt::format("max_order_qty: quantity {} exceeds limit {}", o.quantity, lim.max_order_qty)};
  }
  // 3. reference price
  const auto px = reference_price(o);
  if (!px) return {false, fmt::format("no reference price for {}", o.symbol)};
  // 4. notional
  const core::Money notional = portfolio::notional(o.quantity, *px);
  if (notional > lim.max_order_notional) {
    return {false, fmt::format("max_order_notional: notional {} exceeds limit {}", notional,
                               lim.max_order_notional)};
  }
  // 5. price band (fat finger)
  if (lim.price_band_bps && o.limit_price) {  // limit and stop_limit
    const auto m = mid(o.symbol);
    if (!m || !m->is_positive()) return {false, fmt::format("price_band: no reference mid for {}", o.symbol)};
    const core::Decimal bps = div(mul(abs(*o.limit_price - *m), core::Decimal::from_int(10'000)), *m);
    if (bps > *lim.price_band_bps) {
      return {false, fmt::format("price_band: limit_price {} is {} bps from mid {}, band {} bps", *o.limit_price,
                                 ceil_2dp(bps), *m, *lim.price_band_bps)};
    }
  }
  const core::Quantity pos = position(o.symbol);
  const core::Quantity after = o.side == core::Side::buy ? pos + o.quantity : pos - o.quantity;
  // 6. reducing
  if (state_ == core::TradingState::reducing) {
    const bool opposite = (pos.is_positive() && o.side == core::Side::sell) ||
                          (pos.is_negative() && o.side == core::Side::buy);
    if (!opposite) return {false, "reducing: order would increase position"};
    if (o.quantity > abs(pos)) return {false, "reducing: order would flip position"};
  }
  // 7. position
  if (lim.max_position && abs(after) > *lim.max_position && abs(after) > abs(pos)) {
    return {false, fmt::format("max_position: position after fill {} exceeds limit {}", after, *lim.max_position)};
  }
  // 8. gross exposure
  if (const auto& max_gross = policy_.defaults.max_gross_exposure) {
    core::Money others;
    for (const auto& [symbol, q] : positions_) {
      if (symbol == o.symbol || q.is_zero()) continue;
      if (const auto m = mark(symbol)) others += portfolio::notional(q, *m);
    }
    const core::Price own_px = mark(o.symbol).value_or(*px);
    const core::Money before = others + portfolio::notional(pos, own_px);
    const core::Money gross = others + portfolio::notional(after, own_px);
    if (gross > *max_gross && gross > before) {
      return {false, fmt::format("max_gross_exposure: gross exposure after fill {} exceeds limit {}", gross,
                                 *max_gross)};
    }
  }
  // 9. open orders
  const Limits& acct = policy_.defaults;
  if (acct.max_open_orders > 0 && open_count_ + 1 > acct.max_open_orders) {
    return {false, fmt::format("max_open_orders: open orders after approval {} exceeds limit {}", open_count_ + 1,
                               acct.max_open_orders)};
  }
  // 10. order rate per strategy
  if (acct.max_orders_per_window > 0) {
    std::int64_t n = 1;
    const auto it = rate_.find(o.strategy_id);
    if (it != rate_.end()) {
      const auto& ts = it->second;
      n += std::distance(ts.upper_bound(o.ts_event - acct.rate_window_ns), ts.upper_bound(o.ts_event));
    }
    if (n > acct.max_orders_per_window) {
      return {false, fmt::format("max_orders_per_window: {} orders in {} for strategy {}, limit {}", n,
                                 format_window(acct.rate_window_ns),
                                 o.strategy_id.empty() ? std::string("manual") : o.strategy_id,
                                 acct.max_orders_per_window)};
    }
  }
  return {true, ""};
}

Decision RiskEngine::check(const core::OrderSubmit& o) const { return evaluate(o); }

Decision RiskEngine::decide(const core::OrderSubmit& o) {
  Decision d = evaluate(o);
  if (d.approved) on_approved(o);
  return d;
}

void RiskEngine::on_approved(const core::OrderSubmit& o) {
  ++open_[o.client_order_id];
  ++open_count_;
  auto& ts = rate_[o.strategy_id];
  ts.insert(o.ts_event);
  // Entries at or before (newest - window) can no longer fall in any window that
  // ends at or after the newest order.
  const core::TimestampNs horizon = *ts.rbegin() - policy_.defaults.rate_window_ns;
  ts.erase(ts.begin(), ts.upper_bound(horizon));
}

// ---------------------------------------------------------------- events

void RiskEngine::roll_day(core::TimestampNs ts) {
  const std::int64_t d = floor_day(ts);
  if (!day_ || d > *day_) {
    day_ = d;
    day_start_equity_ = equity_;
  }
}

void RiskEngine::revalue(bool changed, core::TimestampNs ts) {
  if (changed) {
    const auto snap = pnl_.snapshot(false);
    equity_ = snap.total_pnl;
    peak_ = snap.peak_pnl;
  }
  const Limits& l = policy_.defaults;
  if (l.daily_loss_limit && daily_armed_ && state_ != core::TradingState::halted) {
    const core::Money loss = day_start_equity_ - equity_;
    if (loss >= *l.daily_loss_limit) {
      daily_armed_ = false;
      transition(core::TradingState::halted,
                 fmt::format("daily_loss_limit: loss {} since {} reaches limit {}", loss,
                             core::format_iso8601(*day_ * core::kNsPerDay), *l.daily_loss_limit),
                 ts);
    }
  }
  if (l.max_drawdown && drawdown_armed_ && state_ == core::TradingState::active) {
    const core::Money dd = portfolio::drawdown(peak_, equity_);
    if (dd >= *l.max_drawdown) {
      drawdown_armed_ = false;
      transition(core::TradingState::reducing,
                 fmt::format("max_drawdown: drawdown {} from peak equity {} reaches limit {}", dd, peak_,
                             *l.max_drawdown),
                 ts);
    }
  }
}

void RiskEngine::transition(core::TradingState s, std::string reason, core::TimestampNs ts) {
  pending_.push_back(core::RiskStateChanged{
      .trading_state = s, .previous_state = state_, .reason = reason, .source = "auto", .ts_event = ts});
  state_ = s;
  state_reason_ = std::move(reason);
}

void RiskEngine::on_quote(const core::Quote& q) {
  roll_day(q.ts_event);
  refs_[q.symbol].on_quote(q);
  pnl_.on_quote(q);
  revalue(!position(q.symbol).is_zero(), q.ts_event);
}

void RiskEngine::on_trade(const core::Trade& t) {
  roll_day(t.ts_event);
  refs_[t.symbol].on_trade(t);
  pnl_.on_trade(t);
  revalue(!position(t.symbol).is_zero(), t.ts_event);
}

void RiskEngine::on_bar(const core::Bar& b) {
  roll_day(b.ts_event);
  refs_[b.symbol].on_bar(b);
  pnl_.on_bar(b);
  revalue(!position(b.symbol).is_zero(), b.ts_event);
}

void RiskEngine::on_execution(const core::ExecutionReport& r) {
  if (core::is_terminal(r.order_status) && r.exec_type != core::ExecType::denied &&
      r.exec_type != core::ExecType::cancel_rejected) {
    const auto it = open_.find(r.client_order_id);
    if (it != open_.end()) {
      --open_count_;
      if (--it->second == 0) open_.erase(it);
    }
  }
  if (!r.last_qty.is_positive()) return;
  roll_day(r.ts_event);
  auto& pos = positions_[r.symbol];
  if (r.side == core::Side::buy) {
    pos += r.last_qty;
  } else {
    pos -= r.last_qty;
  }
  last_fill_px_[r.symbol] = r.last_px;
  pnl_.on_fill(r);
  revalue(true, r.ts_event);
}

std::vector<core::RiskStateChanged> RiskEngine::take_transitions() {
  std::vector<core::RiskStateChanged> out;
  out.swap(pending_);
  return out;
}

std::optional<core::RiskStateChanged> RiskEngine::set_state(core::TradingState s, std::string reason,
                                                            std::string source, core::TimestampNs ts) {
  if (s == core::TradingState::active) {
    daily_armed_ = true;
    drawdown_armed_ = true;
  }
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

void RiskEngine::set_policy(RiskPolicy p) { policy_ = std::move(p); }
const RiskPolicy& RiskEngine::policy() const { return policy_; }

core::TradingState RiskEngine::state() const { return state_; }
const std::string& RiskEngine::state_reason() const { return state_reason_; }
const Limits& RiskEngine::limits() const { return policy_.defaults; }
std::int64_t RiskEngine::open_orders() const { return open_count_; }
core::Money RiskEngine::equity() const { return equity_; }
core::Money RiskEngine::peak_equity() const { return peak_; }
core::Money RiskEngine::day_start_equity() const { return day_start_equity_; }

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
