#include "strategy/template_strategy.hpp"

namespace strategy {

TemplateStrategy::TemplateStrategy(const Params& p, const std::string& /*strategy_id*/)
    : quantity_(p.positive("quantity")), hold_ns_(p.duration("hold")) {}

void TemplateStrategy::first_seen(const std::string& symbol, Context& ctx) {
  if (!seen_.insert(symbol).second) return;
  ctx.submit({.symbol = symbol,
              .side = core::Side::buy,
              .order_type = core::OrderType::market,
              .quantity = quantity_,
              .time_in_force = core::TimeInForce::ioc});
  ctx.set_timer(ctx.now() + hold_ns_, symbol);  // the tag says which symbol to sell
}

void TemplateStrategy::on_timer(const Timer& t, Context& ctx) {
  const core::Quantity pos = ctx.position(t.tag);
  if (!pos.is_positive()) return;
  ctx.submit({.symbol = t.tag,
              .side = core::Side::sell,
              .order_type = core::OrderType::market,
              .quantity = pos,
              .time_in_force = core::TimeInForce::ioc});
}

Registration template_registration() {
  return {.name = "template",
          .summary = "TEMPLATE: buys once per symbol at market, sells back `hold` later (market time)",
          .params = {{"quantity", "1", "size bought, > 0"}, {"hold", "60s", "how long it holds (market time)"}},
          .make = [](const Params& p, const std::string& id) -> std::unique_ptr<Strategy> {
            return std::make_unique<TemplateStrategy>(p, id);
          }};
}

}  // namespace strategy
