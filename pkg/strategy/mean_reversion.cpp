#include "strategy/mean_reversion.hpp"

#include <stdexcept>

#include <fmt/format.h>

namespace strategy {

MeanReversion::MeanReversion(MeanReversionConfig cfg) : cfg_(std::move(cfg)) {
  if (cfg_.window < 2) throw std::invalid_argument("param 'window': must be >= 2");
  if (!cfg_.k.is_positive()) throw std::invalid_argument("param 'k': must be > 0");
  if (!cfg_.quantity.is_positive()) throw std::invalid_argument("param 'quantity': must be > 0");
  if (cfg_.max_bars < 1) throw std::invalid_argument("param 'max_bars': must be >= 1");
  if (!cfg_.tick.is_positive()) throw std::invalid_argument("param 'tick': must be > 0");
}

void MeanReversion::on_bar(const core::Bar& b, Context& ctx) {
  if (b.price_type == core::PriceType::trade || b.price_type == core::PriceType::mid) {
    on_close(b.symbol, b.close, ctx);
    return;
  }
  SymbolState& s = symbols_[b.symbol];
  if (b.price_type == core::PriceType::bid) {
    s.bid_close = b.close;
    s.bid_ts = b.ts_event;
  } else {
    s.ask_close = b.close;
    s.ask_ts = b.ts_event;
  }
  if (!s.bid_close || !s.ask_close || s.bid_ts != b.ts_event || s.ask_ts != b.ts_event || s.fed_ts == b.ts_event)
    return;
  s.fed_ts = b.ts_event;
  on_close(b.symbol, div(*s.bid_close + *s.ask_close, core::Decimal::from_int(2)), ctx);
}

void MeanReversion::on_close(const std::string& symbol, core::Price px, Context& ctx) {
  SymbolState& s = symbols_[symbol];
  s.closes.push_back(px);
  s.sum += px;
  if (s.closes.size() > cfg_.window) {
    s.sum -= s.closes.front();
    s.closes.pop_front();
  }
  if (s.closes.size() < cfg_.window) return;
  const auto n = core::Decimal::from_int(static_cast<std::int64_t>(cfg_.window));
  const core::Price mean = div(s.sum, n);
  core::Money dev;
  for (const auto& c : s.closes) dev += abs(c - mean);
  const core::Price mad = div(dev, n);
  const core::Price lower = floor_to(mean - mul(cfg_.k, mad), cfg_.tick);
  const core::Price exit = ceil_to(mean, cfg_.tick);
  s.bands = Bands{.mean = mean, .mad = mad, .lower = lower};
  const core::Quantity pos = ctx.position(symbol);

  // Entry: one working buy at most.
  const auto entries = ctx.orders_of(symbol, core::Side::buy);
  if (!entries.empty()) {
    const WorkingOrder& e = *entries.front();
    ++s.entry_bars;
    if (!e.busy()) {
      if (s.entry_bars >= cfg_.max_bars || px >= lower) {
        ctx.cancel(e.client_order_id);  // stale, or the close is back inside the band
      } else if (e.limit_price != lower && lower.is_positive()) {
        ctx.replace(e.client_order_id, std::nullopt, lower);  // follow the band
      }
    }
  } else if (pos.is_zero() && px < lower && lower.is_positive()) {
    ctx.submit({.symbol = symbol,
                .side = core::Side::buy,
                .order_type = core::OrderType::limit,
                .quantity = cfg_.quantity,
                .limit_price = lower,
                .time_in_force = core::TimeInForce::gtc});
    s.entry_bars = 0;
  }

  // Exit: sell the position back at the mean.
  if (!pos.is_positive()) return;
  const auto exits = ctx.orders_of(symbol, core::Side::sell);
  if (exits.empty()) {
    ctx.submit({.symbol = symbol,
                .side = core::Side::sell,
                .order_type = core::OrderType::limit,
                .quantity = pos,
                .limit_price = exit,
                .time_in_force = core::TimeInForce::gtc});
    return;
  }
  const WorkingOrder& x = *exits.front();
  if (!x.busy() && (x.limit_price != exit || x.leaves() != pos))
    ctx.replace(x.client_order_id, x.cum_qty + pos, exit);
}

std::optional<MeanReversion::Bands> MeanReversion::bands(const std::string& symbol) const {
  const auto it = symbols_.find(symbol);
  return it == symbols_.end() ? std::nullopt : it->second.bands;
}

Registration mean_reversion_registration() {
  return {.name = "mean_reversion",
          .summary = "buys a close below the lower band (mean - k * mean absolute deviation) with a limit order, "
                     "sells back at the mean (Bollinger bands; Chan, Algorithmic Trading, ch. 3)",
          .params = {{"window", "20", "closes in the moving average, >= 2"},
                     {"k", "2", "band width in mean absolute deviations, > 0"},
                     {"quantity", "100", "entry size, > 0"},
                     {"max_bars", "5", "closes an unfilled entry may rest before it is cancelled, >= 1"},
                     {"tick", "0.01", "price grid of the limit prices, > 0"}},
          .make = [](const Params& p, const std::string&) -> std::unique_ptr<Strategy> {
            return std::make_unique<MeanReversion>(MeanReversionConfig{
                .window = static_cast<std::size_t>(p.integer("window", 2)),
                .k = p.positive("k"),
                .quantity = p.positive("quantity"),
                .max_bars = static_cast<std::size_t>(p.integer("max_bars", 1)),
                .tick = p.positive("tick")});
          }};
}

void MeanReversion::on_corporate_action(const core::CorporateAction& a, Context&) {
  if (a.action != core::ActionKind::split || !a.ratio || !a.ratio->is_positive()) return;
  const auto it = symbols_.find(a.symbol);
  if (it == symbols_.end()) return;
  SymbolState& s = it->second;
  s.sum = core::Money{};
  for (auto& c : s.closes) {
    c = div(c, *a.ratio);
    s.sum += c;
  }
  if (s.bid_close) s.bid_close = div(*s.bid_close, *a.ratio);
  if (s.ask_close) s.ask_close = div(*s.ask_close, *a.ratio);
  s.bands.reset();  // recomputed at the next close, from the restated window
}

}  // namespace strategy
