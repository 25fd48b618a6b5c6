#include "strategy/ma_cross.hpp"

#include <algorithm>

#include <fmt/format.h>

#include <stdexcept>
#include <utility>

namespace strategy {

MaCross::MaCross(MaCrossConfig cfg) : cfg_(std::move(cfg)) {
  if (cfg_.fast == 0) throw std::invalid_argument("ma_cross: fast must be >= 1");
  if (cfg_.slow <= cfg_.fast) throw std::invalid_argument("ma_cross: slow must be > fast");
  if (!cfg_.quantity.is_positive()) throw std::invalid_argument("ma_cross: quantity must be positive");
}

std::optional<core::OrderSubmit> MaCross::on_quote(const core::Quote& q) {
  return on_price(q.symbol, div(q.bid + q.ask, core::Decimal::from_int(2)), q.ts_event);
}

std::optional<core::OrderSubmit> MaCross::on_trade(const core::Trade& t) {
  return on_price(t.symbol, t.price, t.ts_event);
}

std::optional<core::OrderSubmit> MaCross::on_bar(const core::Bar& b) {
  if (b.price_type == core::PriceType::trade || b.price_type == core::PriceType::mid) {
    return on_price(b.symbol, b.close, b.ts_event);
  }
  SymbolState& s = symbols_[b.symbol];
  if (b.price_type == core::PriceType::bid) {
    s.bid_close = b.close;
    s.bid_ts = b.ts_event;
  } else {
    s.ask_close = b.close;
    s.ask_ts = b.ts_event;
  }
  if (!s.bid_close || !s.ask_close || s.bid_ts != b.ts_event || s.ask_ts != b.ts_event) return std::nullopt;
  if (s.bar_fed_ts == b.ts_event) return std::nullopt;
  s.bar_fed_ts = b.ts_event;
  return on_price(b.symbol, div(*s.bid_close + *s.ask_close, core::Decimal::from_int(2)), b.ts_event);
}

std::optional<core::OrderSubmit> MaCross::on_price(const std::string& symbol, core::Price px,
                                                   core::TimestampNs ts) {
  SymbolState& s = symbols_[symbol];
  s.window.push_back(px);
  s.fast_sum += px;
  s.slow_sum += px;
  if (s.window.size() > cfg_.fast) s.fast_sum -= s.window[s.window.size() - 1 - cfg_.fast];
  if (s.window.size() > cfg_.slow) {
    s.slow_sum -= s.window.front();
    s.window.pop_front();
  }
  if (s.events_since_order != std::numeric_limits<std::size_t>::max()) ++s.events_since_order;
  if (s.window.size() < cfg_.slow) return std::nullopt;

  const core::Price fast = div(s.fast_sum, core::Decimal::from_int(static_cast<std::int64_t>(cfg_.fast)));
  const core::Price slow = div(s.slow_sum, core::Decimal::from_int(static_cast<std::int64_t>(cfg_.slow)));
  const int sign = fast > slow ? 1 : (fast < slow ? -1 : 0);
  if (sign == 0) return std::nullopt;
  const int previous = std::exchange(s.sign, sign);
  if (previous != 0 && previous != sign) s.cross_pending = true;  // a cross: act on it now or later

  // Act on the latest cross once no order is in flight and the spacing rule allows.
  // Deferring (not dropping) a cross makes the position follow the signal however
  // long the bus takes to answer: the result does not depend on latency.
  if (!s.cross_pending || s.in_flight) return std::nullopt;
  if (s.events_since_order < cfg_.min_events_between_orders) return std::nullopt;
  s.cross_pending = false;
  const core::Quantity target = sign > 0 ? cfg_.quantity : -cfg_.quantity;
  const core::Quantity delta = target - s.position;
  if (delta.is_zero()) return std::nullopt;

  core::OrderSubmit o{
      .client_order_id = fmt::format("{}-{}-{}", cfg_.strategy_id, symbol, ++s.orders_sent),
      .symbol = symbol,
      .side = delta.is_positive() ? core::Side::buy : core::Side::sell,
      .order_type = core::OrderType::market,
      .quantity = abs(delta),
      .limit_price = std::nullopt,
      .time_in_force = core::TimeInForce::ioc,
      .strategy_id = cfg_.strategy_id,
      .ts_event = ts,
  };
  s.in_flight = o.client_order_id;
  s.events_since_order = 0;
  return o;
}

void MaCross::on_execution(const core::ExecutionReport& r) {
  if (r.strategy_id != cfg_.strategy_id) return;
  SymbolState& s = symbols_[r.symbol];
  if (r.last_qty.is_positive()) {
    if (r.side == core::Side::buy) {
      s.position += r.last_qty;
    } else {
      s.position -= r.last_qty;
    }
  }
  if (s.in_flight == r.client_order_id && core::is_terminal(r.order_status)) s.in_flight.reset();
}

void MaCross::restore(const std::string& symbol, std::uint64_t orders_sent, std::optional<std::string> in_flight) {
  SymbolState& s = symbols_[symbol];
  s.orders_sent = std::max(s.orders_sent, orders_sent);
  s.in_flight = std::move(in_flight);
}

void MaCross::on_action(const core::CorporateAction& a) {
  if (a.action != core::ActionKind::split || !a.ratio || !a.ratio->is_positive()) return;
  const auto it = symbols_.find(a.symbol);
  if (it == symbols_.end()) return;
  SymbolState& s = it->second;
  const core::Decimal ratio = *a.ratio;
  s.position = mul(s.position, ratio);
  s.fast_sum = core::Money{};
  s.slow_sum = core::Money{};
  for (std::size_t i = 0; i < s.window.size(); ++i) {
    s.window[i] = div(s.window[i], ratio);
    s.slow_sum += s.window[i];
    if (i + cfg_.fast >= s.window.size()) s.fast_sum += s.window[i];
  }
  if (s.bid_close) s.bid_close = div(*s.bid_close, ratio);
  if (s.ask_close) s.ask_close = div(*s.ask_close, ratio);
}

core::Quantity MaCross::position(const std::string& symbol) const {
  const auto it = symbols_.find(symbol);
  return it == symbols_.end() ? core::Quantity{} : it->second.position;
}

std::optional<std::string> MaCross::in_flight(const std::string& symbol) const {
  const auto it = symbols_.find(symbol);
  return it == symbols_.end() ? std::nullopt : it->second.in_flight;
}

std::optional<core::Price> MaCross::fast_sma(const std::string& symbol) const {
  const auto it = symbols_.find(symbol);
  if (it == symbols_.end() || it->second.window.size() < cfg_.slow) return std::nullopt;
  return div(it->second.fast_sum, core::Decimal::from_int(static_cast<std::int64_t>(cfg_.fast)));
}

std::optional<core::Price> MaCross::slow_sma(const std::string& symbol) const {
  const auto it = symbols_.find(symbol);
  if (it == symbols_.end() || it->second.window.size() < cfg_.slow) return std::nullopt;
  return div(it->second.slow_sum, core::Decimal::from_int(static_cast<std::int64_t>(cfg_.slow)));
}

const MaCrossConfig& MaCross::config() const { return cfg_; }

MaCrossConfig ma_cross_config(const Params& p, const std::string& strategy_id) {
  MaCrossConfig c;
  c.fast = static_cast<std::size_t>(p.integer("fast", 1));
  c.slow = static_cast<std::size_t>(p.integer("slow", 1));
  if (c.slow <= c.fast) throw std::invalid_argument(fmt::format("param 'slow': must be > fast ({}), got {}", c.fast, c.slow));
  c.quantity = p.positive("quantity");
  c.min_events_between_orders = static_cast<std::size_t>(p.integer("min_events_between_orders", 0));
  c.strategy_id = strategy_id;
  return c;
}

Registration ma_cross_registration() {
  return {.name = "ma_cross",
          .summary = "simple moving-average crossover, always in the market after the first cross "
                     "(Murphy, Technical Analysis of the Financial Markets, ch. 9)",
          .params = {{"fast", "20", "prices in the fast SMA, >= 1"},
                     {"slow", "100", "prices in the slow SMA, > fast"},
                     {"quantity", "1000", "target |position|, > 0"},
                     {"min_events_between_orders", "0", "prices that must arrive after an order before the next"}},
          .make = [](const Params& p, const std::string& id) -> std::unique_ptr<Strategy> {
            return std::make_unique<MaCrossStrategy>(ma_cross_config(p, id));
          }};
}

}  // namespace strategy
