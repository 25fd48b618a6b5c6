// Risk limits per strategy (issue 14, RiskPolicy::per_strategy, RiskEngine check 11): a
// strategy's own order size, notional and position (its fills and working orders), on
// top of the account's and the symbol's limits; other strategies are not held by them.
#include "risk/pre_trade.hpp"

#include "helpers.hpp"

using core::Side;
using namespace domain_test;

namespace {

core::OrderSubmit order(std::string id, std::string strategy, Side side, std::string_view qty,
                        core::TimestampNs ts = kDay0 + 1) {
  return core::OrderSubmit{.client_order_id = std::move(id), .symbol = "EURUSD", .side = side,
                           .order_type = core::OrderType::limit, .quantity = dec(qty),
                           .limit_price = dec("1.3875"), .strategy_id = std::move(strategy), .ts_event = ts};
}

risk::RiskEngine engine() {
  risk::RiskPolicy p;
  p.per_strategy["mm"] = {.max_order_qty = dec("5000"), .max_order_notional = dec("5000"),
                          .max_position = dec("10000")};
  risk::RiskEngine e(p.defaults);
  e.set_policy(p);
  e.on_quote(quote("EURUSD", "1.3874", "1.3876", kDay0));
  return e;
}

core::ExecutionReport filled(const core::OrderSubmit& o) {
  auto r = fill(o.client_order_id, o.symbol, o.side, o.quantity.to_string(), "1.3875", o.ts_event + 1, o.strategy_id);
  r.cum_qty = o.quantity;
  return r;
}

}  // namespace

TEST_CASE("a strategy's own limits hold its orders, not another strategy's", "[risk][strategy]") {
  auto e = engine();
  // Order size: 6000 is over mm's 5000, not over the account's 1,000,000.
  auto d = e.check(order("mm-1", "mm", Side::buy, "6000"));
  CHECK_FALSE(d.approved);
  CHECK(d.reason == "max_order_qty: quantity 6000 exceeds strategy mm's limit 5000");
  CHECK(e.check(order("ma-1", "ma_cross", Side::buy, "6000")).approved);
  CHECK(e.check(order("x-1", "", Side::buy, "6000")).approved);  // manual: no strategy limits
  // Notional, in the base currency: 4000 x 1.3875 = 5550 > 5000.
  d = e.check(order("mm-2", "mm", Side::buy, "4000"));
  CHECK_FALSE(d.approved);
  CHECK(d.reason == "max_order_notional: notional 5550 exceeds strategy mm's limit 5000");
  CHECK(e.check(order("mm-3", "mm", Side::buy, "3000")).approved);
}

TEST_CASE("a strategy's position limit counts its own fills and working orders only", "[risk][strategy]") {
  auto e = engine();
  // ma_cross holds 50,000 long: the account's position, not mm's.
  const auto big = order("ma-1", "ma_cross", Side::buy, "50000");
  REQUIRE(e.decide(big).approved);
  e.on_execution(filled(big));
  CHECK(e.exposure("EURUSD").position == dec("50000"));
  CHECK(e.strategy_exposure("mm", "EURUSD").position.is_zero());
  // mm buys 3000 three times: filled, working, then the third would make 9000 + 3000 > 10000.
  const auto a = order("mm-1", "mm", Side::buy, "3000", kDay0 + 2);
  REQUIRE(e.decide(a).approved);
  e.on_execution(filled(a));
  CHECK(e.strategy_exposure("mm", "EURUSD").position == dec("3000"));
  REQUIRE(e.decide(order("mm-2", "mm", Side::buy, "3000", kDay0 + 3)).approved);
  REQUIRE(e.decide(order("mm-3", "mm", Side::buy, "3000", kDay0 + 4)).approved);  // worst case 9000
  CHECK(e.strategy_exposure("mm", "EURUSD").working_buy == dec("6000"));
  const auto d = e.check(order("mm-4", "mm", Side::buy, "3000", kDay0 + 5));
  CHECK_FALSE(d.approved);
  CHECK(d.reason == "max_position: strategy mm's position with working orders after fill 12000 exceeds its limit 10000");
  // A sell reduces its worst case on that side: always passes.
  CHECK(e.check(order("mm-5", "mm", Side::sell, "3000", kDay0 + 6)).approved);
  // A replace that grows a working order past the limit is denied by the same rule.
  core::OrderReplace r{.client_order_id = "mm-2b", .orig_client_order_id = "mm-2", .quantity = dec("5000"),
                       .ts_event = kDay0 + 7};
  const auto dr = e.check_replace(r);
  CHECK_FALSE(dr.approved);
  CHECK(dr.reason == "max_order_notional: notional 6937.5 exceeds strategy mm's limit 5000");
  r.quantity = dec("3500");  // 4856.25 notional; worst case 9000 + 500 = 9500: allowed
  CHECK(e.check_replace(r).approved);
}

TEST_CASE("per-strategy limits are validated and name the field", "[risk][strategy]") {
  risk::RiskPolicy p;
  p.per_strategy["mm"] = {.max_position = dec("0")};
  const auto err = risk::validate(p);
  REQUIRE(err);
  CHECK(err->field == "per_strategy.mm.max_position");
}
