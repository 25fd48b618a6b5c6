// TEMPLATE test for your own strategy (docs/strategies.md): copy this file next to it,
// replace "template" by your strategy's name, and write given events -> expected commands.
// A strategy is tested without any server: a strategy::Runner feeds it events and hands
// back its commands as the strategy worker would publish them (ids, ts_event, cause_seq).
#include "strategy/registry.hpp"
#include "strategy/strategy.hpp"

#include "helpers.hpp"

using domain_test::dec;
using domain_test::kDay0;
using domain_test::kSec;

namespace {

/// The strategy as a user chooses it: by name, with params, through the registry.
strategy::Runner make(strategy::Params params) {
  const auto reg = strategy::builtin_registry();
  const strategy::Choice c{.name = "template", .strategy_id = "tpl", .params = std::move(params)};
  return strategy::Runner(c.strategy_id, reg.create(c));
}

core::MarketData quote_at(core::TimestampNs ts) { return domain_test::quote("EURUSD", "1.1000", "1.1002", ts); }

}  // namespace

TEST_CASE("template: buys at the first quote and sells back when its market-time timer fires", "[strategy][template]") {
  auto run = make({{"quantity", "1000"}, {"hold", "60s"}});

  // Given the first quote: one market buy, stamped with that quote.
  auto out = run.on_market(quote_at(kDay0), /*cause_seq=*/1);
  REQUIRE(out.size() == 1);
  const auto& buy = std::get<core::OrderSubmit>(out[0]);
  CHECK(buy.client_order_id == "tpl-1");
  CHECK(buy.side == core::Side::buy);
  CHECK(buy.quantity == dec("1000"));
  CHECK(buy.ts_event == kDay0);
  CHECK(buy.cause_seq == 1);

  // Its fill (as execution would report it) makes the position.
  run.on_execution(domain_test::fill("tpl-1", "EURUSD", core::Side::buy, "1000", "1.1002", kDay0, "tpl"));
  CHECK(run.context().position("EURUSD") == dec("1000"));

  // Nothing until market time reaches the timer, however many events come.
  CHECK(run.on_market(quote_at(kDay0 + 59 * kSec), 2).empty());
  out = run.on_market(quote_at(kDay0 + 61 * kSec), 3);
  REQUIRE(out.size() == 1);
  const auto& sell = std::get<core::OrderSubmit>(out[0]);
  CHECK(sell.side == core::Side::sell);
  CHECK(sell.quantity == dec("1000"));
  CHECK(sell.ts_event == kDay0 + 61 * kSec);
  CHECK(run.on_market(quote_at(kDay0 + 120 * kSec), 4).empty());  // once per symbol
}

TEST_CASE("template: a bad param is an error naming it", "[strategy][template]") {
  CHECK_THROWS_WITH(make({{"quantity", "0"}}), "strategy template: param 'quantity': must be > 0, got 0");
  CHECK_THROWS_WITH(make({{"hold", "soon"}}),
                    "strategy template: param 'hold': not a duration >= 0 (e.g. 90s, 5m): 'soon'");
  CHECK_THROWS_WITH(make({{"qty", "1"}}), "strategy template: unknown param 'qty' (its params: hold, quantity)");
}
