#include "strategy/market_maker.hpp"

#include <stdexcept>

namespace strategy {

MarketMaker::MarketMaker(MarketMakerConfig cfg) : cfg_(std::move(cfg)) {
  if (!cfg_.spread_bps.is_positive()) throw std::invalid_argument("param 'spread_bps': must be > 0");
  if (!cfg_.quantity.is_positive()) throw std::invalid_argument("param 'quantity': must be > 0");
  if (!cfg_.max_position.is_positive()) throw std::invalid_argument("param 'max_position': must be > 0");
  if (!cfg_.tick.is_positive()) throw std::invalid_argument("param 'tick': must be > 0");
  if (cfg_.requote_bps.is_negative()) throw std::invalid_argument("param 'requote_bps': must be >= 0");
}

void MarketMaker::on_quote(const core::Quote& q, Context& ctx) {
  if (!cfg_.symbol.empty() && q.symbol != cfg_.symbol) return;
  if (!(q.bid < q.ask) || !q.bid.is_positive()) return;  // crossed, locked or empty: no mid to quote around
  const core::Price mid = div(q.bid + q.ask, core::Decimal::from_int(2));
  const core::Price half = div(mul(mid, cfg_.spread_bps), core::Decimal::from_int(20'000));
  const core::Price bid_px = min(floor_to(mid - half, cfg_.tick), q.bid);
  const core::Price ask_px = max(ceil_to(mid + half, cfg_.tick), q.ask);
  const core::Quantity pos = ctx.position(q.symbol);
  core::Quantity bid_qty = min(cfg_.quantity, cfg_.max_position - pos);
  core::Quantity ask_qty = min(cfg_.quantity, cfg_.max_position + pos);
  if (q.bid_size) bid_qty = min(bid_qty, *q.bid_size);
  if (q.ask_size) ask_qty = min(ask_qty, *q.ask_size);
  work_side(ctx, q.symbol, core::Side::buy, bid_px, bid_qty.is_positive() && bid_px.is_positive() ? bid_qty : core::Quantity{},
            mid);
  work_side(ctx, q.symbol, core::Side::sell, ask_px, ask_qty.is_positive() ? ask_qty : core::Quantity{}, mid);
}

void MarketMaker::work_side(Context& ctx, const std::string& symbol, core::Side side, core::Price px,
                            core::Quantity qty, core::Price mid) {
  const auto working = ctx.orders_of(symbol, side);
  for (std::size_t i = 1; i < working.size(); ++i) ctx.cancel(working[i]->client_order_id);  // one per side
  if (working.empty()) {
    if (qty.is_positive())
      ctx.submit({.symbol = symbol,
                  .side = side,
                  .order_type = core::OrderType::limit,
                  .quantity = qty,
                  .limit_price = px,
                  .time_in_force = core::TimeInForce::gtc});
    return;
  }
  const WorkingOrder& o = *working.front();
  if (o.busy()) return;
  if (!qty.is_positive()) {
    ctx.cancel(o.client_order_id);
    return;
  }
  // |working - wanted| > requote_bps / 10000 * mid, exactly: |d| * 10000 > requote_bps * mid.
  const core::Price off = o.limit_price ? abs(*o.limit_price - px) : px;
  const bool moved = mul_int(off, 10'000) > mul(cfg_.requote_bps, mid);
  if (moved || o.leaves() != qty) ctx.replace(o.client_order_id, o.cum_qty + qty, px);
}

Registration market_maker_registration() {
  return {.name = "market_maker",
          .summary = "two-sided limit quotes around the mid, capped by displayed size and an inventory limit "
                     "(Avellaneda and Stoikov 2008, without skew; NautilusTrader volatility_market_maker example)",
          .params = {{"spread_bps", "10", "distance between our bid and ask, in basis points of the mid, > 0"},
                     {"quantity", "1", "size of each quote, > 0"},
                     {"max_position", "5", "largest |position| it may reach, > 0"},
                     {"requote_bps", "5", "how far (bps of the mid) a quote may drift before it is replaced, >= 0"},
                     {"tick", "0.01", "price grid of the quotes, > 0"},
                     {"symbol", "*", "the one symbol it quotes (* = every symbol)"}},
          .make = [](const Params& p, const std::string&) -> std::unique_ptr<Strategy> {
            const auto& sym = p.text("symbol");
            return std::make_unique<MarketMaker>(MarketMakerConfig{.spread_bps = p.positive("spread_bps"),
                                                                   .quantity = p.positive("quantity"),
                                                                   .max_position = p.positive("max_position"),
                                                                   .requote_bps = p.decimal("requote_bps"),
                                                                   .tick = p.positive("tick"),
                                                                   .symbol = sym == "*" ? std::string() : sym});
          }};
}

}  // namespace strategy
