// Pre-trade risk: given limits, market data, fills and state -> decision.
#include "risk/pre_trade.hpp"

#include <optional>
#include <string>

#include "helpers.hpp"

using core::OrderType;
using core::Side;
using core::TimeInForce;
using core::TradingState;
using domain_test::dec;
using domain_test::fill;
using domain_test::kDay0;
using domain_test::quote;

namespace {

core::OrderSubmit buy(std::string_view qty, std::optional<std::string_view> limit = std::nullopt,
                      std::string symbol = "AAPL") {
  return core::OrderSubmit{.client_order_id = "c1",
                           .symbol = std::move(symbol),
                           .side = Side::buy,
                           .order_type = limit ? OrderType::limit : OrderType::market,
                           .quantity = dec(qty),
                           .limit_price = limit ? std::optional(dec(*limit)) : std::nullopt,
                           .time_in_force = TimeInForce::day};
}

core::OrderSubmit sell(std::string_view qty, std::optional<std::string_view> limit = std::nullopt,
                       std::string symbol = "AAPL") {
  auto o = buy(qty, limit, std::move(symbol));
  o.side = Side::sell;
  return o;
}

risk::RiskEngine engine(risk::Limits lim = {}) {
  risk::RiskEngine e{lim};
  e.on_quote(quote("AAPL", "149", "150", kDay0));
  return e;
}

}  // namespace

TEST_CASE("risk approves an order below every limit", "[risk]") {
  const auto e = engine();
  const auto d = e.check(buy("100"));
  CHECK(d.approved);
  CHECK(d.reason.empty());
}

TEST_CASE("risk check on max_order_qty passes below and at the limit and denies above", "[risk]") {
  const auto e = engine({.max_order_qty = dec("100")});
  CHECK(e.check(buy("99")).approved);
  CHECK(e.check(buy("100")).approved);
  const auto d = e.check(buy("500"));
  CHECK_FALSE(d.approved);
  CHECK(d.reason == "max_order_qty: quantity 500 exceeds limit 100");
  CHECK(e.check(sell("100.00000001")).reason == "max_order_qty: quantity 100.00000001 exceeds limit 100");
}

TEST_CASE("risk check on max_order_notional uses the limit price of a limit order", "[risk]") {
  const auto e = engine({.max_order_notional = dec("100000")});
  CHECK(e.check(buy("1000", "99.99")).approved);
  CHECK(e.check(buy("1000", "100")).approved);  // 100000 == limit passes
  const auto d = e.check(buy("1000", "150"));
  CHECK_FALSE(d.approved);
  CHECK(d.reason == "max_order_notional: notional 150000 exceeds limit 100000");
  // The limit price counts even when the market is far away.
  CHECK(e.check(sell("1000", "100.01")).reason ==
        "max_order_notional: notional 100010 exceeds limit 100000");
}

TEST_CASE("risk notional of a market order uses the ask for a buy and the bid for a sell", "[risk]") {
  auto e = engine({.max_order_notional = dec("149000")});  // quote 149 / 150
  CHECK(e.check(sell("1000")).approved);                  // 1000 x bid 149 == limit
  const auto d = e.check(buy("1000"));
  CHECK_FALSE(d.approved);
  CHECK(d.reason == "max_order_notional: notional 150000 exceeds limit 149000");
  CHECK(e.reference_price(buy("1")) == dec("150"));
  CHECK(e.reference_price(sell("1")) == dec("149"));
  // A newer quote moves the reference.
  e.on_quote(quote("AAPL", "148", "149", kDay0 + 1));
  CHECK(e.check(buy("1000")).approved);  // 1000 x ask 149 == limit
  CHECK(e.check(sell("1000")).approved);
  CHECK(e.check(sell("1007")).reason == "max_order_notional: notional 149036 exceeds limit 149000");
}

TEST_CASE("risk denies a market order with no reference price but passes a limit order", "[risk]") {
  risk::RiskEngine e{{}};
  const auto d = e.check(buy("1", std::nullopt, "IBM"));
  CHECK_FALSE(d.approved);
  CHECK(d.reason == "no reference price for IBM");
  CHECK(e.check(buy("1", "180", "IBM")).approved);
}

TEST_CASE("risk uses the last trade or bar close as reference while a symbol has no quote", "[risk]") {
  risk::RiskEngine e{{.max_order_notional = dec("18000")}};
  e.on_trade(domain_test::trade("IBM", "180", kDay0));
  CHECK(e.check(buy("100", std::nullopt, "IBM")).approved);
  CHECK_FALSE(e.check(buy("101", std::nullopt, "IBM")).approved);
  e.on_bar(domain_test::bar("IBM", "90", core::PriceType::trade, kDay0 + 1));
  CHECK(e.check(buy("200", std::nullopt, "IBM")).approved);
  e.on_quote(quote("IBM", "179", "181", kDay0 + 2));
  e.on_trade(domain_test::trade("IBM", "1", kDay0 + 3));  // ignored once quoted
  CHECK(e.reference_price(buy("1", std::nullopt, "IBM")) == dec("181"));
  // Bid/ask bars set their side.
  e.on_bar(domain_test::bar("IBM", "170", core::PriceType::ask, kDay0 + 4));
  CHECK(e.reference_price(buy("1", std::nullopt, "IBM")) == dec("170"));
  CHECK(e.reference_price(sell("1", std::nullopt, "IBM")) == dec("179"));
}

TEST_CASE("halted state denies every order with the state reason", "[risk]") {
  auto e = engine();
  const auto ev = e.set_state(TradingState::halted, "ops drill", "manual", kDay0 + 5);
  REQUIRE(ev.has_value());
  CHECK(*ev == core::RiskStateChanged{.trading_state = TradingState::halted,
                                      .previous_state = TradingState::active,
                                      .reason = "ops drill",
                                      .source = "manual",
                                      .ts_event = kDay0 + 5});
  CHECK(e.state() == TradingState::halted);
  CHECK(e.state_reason() == "ops drill");
  const auto d = e.check(buy("1"));
  CHECK_FALSE(d.approved);
  CHECK(d.reason == "trading halted: ops drill");
  CHECK(e.check(sell("1", "1")).reason == "trading halted: ops drill");
  // The state check comes first, before quantity.
  CHECK(e.check(buy("99999999")).reason == "trading halted: ops drill");
}

TEST_CASE("set_state returns nothing when the state does not change", "[risk]") {
  auto e = engine();
  CHECK_FALSE(e.set_state(TradingState::active, "again", "manual", kDay0).has_value());
  REQUIRE(e.set_state(TradingState::halted, "first", "manual", kDay0).has_value());
  CHECK_FALSE(e.set_state(TradingState::halted, "second", "manual", kDay0).has_value());
  CHECK(e.state_reason() == "first");
  const auto back = e.set_state(TradingState::active, "resume", "manual", kDay0 + 1);
  REQUIRE(back.has_value());
  CHECK(back->previous_state == TradingState::halted);
  CHECK(e.check(buy("1")).approved);
}

TEST_CASE("checks run in order: quantity before reference price before notional", "[risk]") {
  risk::RiskEngine e{{.max_order_qty = dec("10"), .max_order_notional = dec("1")}};
  CHECK(e.check(buy("11", std::nullopt, "X")).reason == "max_order_qty: quantity 11 exceeds limit 10");
  CHECK(e.check(buy("10", std::nullopt, "X")).reason == "no reference price for X");
  CHECK(e.check(buy("10", "1", "X")).reason == "max_order_notional: notional 10 exceeds limit 1");
}

TEST_CASE("reducing state allows orders that shrink a long and denies increases and flips", "[risk]") {
  auto e = engine();
  e.on_execution(fill("f1", "AAPL", Side::buy, "100", "150", kDay0));
  REQUIRE(e.position("AAPL") == dec("100"));
  REQUIRE(e.set_state(TradingState::reducing, "loss limit", "manual", kDay0).has_value());

  CHECK(e.check(sell("50")).approved);
  CHECK(e.check(sell("100")).approved);  // to flat is a reduction
  const auto flip = e.check(sell("150"));
  CHECK_FALSE(flip.approved);
  CHECK(flip.reason == "reducing: order would flip position");
  const auto more = e.check(buy("1"));
  CHECK_FALSE(more.approved);
  CHECK(more.reason == "reducing: order would increase position");
  // Notional is checked before the reducing rule.
  risk::RiskEngine small{{.max_order_notional = dec("10")}};
  small.on_quote(quote("AAPL", "149", "150", kDay0));
  small.on_execution(fill("f1", "AAPL", Side::buy, "100", "150", kDay0));
  (void)small.set_state(TradingState::reducing, "r", "manual", kDay0);
  CHECK(small.check(sell("50")).reason == "max_order_notional: notional 7450 exceeds limit 10");
}

TEST_CASE("reducing state allows buys that shrink a short and denies any order when flat", "[risk]") {
  auto e = engine();
  e.on_execution(fill("f1", "AAPL", Side::sell, "40", "149", kDay0));
  (void)e.set_state(TradingState::reducing, "r", "manual", kDay0);
  CHECK(e.position("AAPL") == dec("-40"));
  CHECK(e.check(buy("40")).approved);
  CHECK(e.check(buy("41")).reason == "reducing: order would flip position");
  CHECK(e.check(sell("1")).reason == "reducing: order would increase position");
  auto flat = buy("1", "10", "MSFT");
  CHECK(e.check(flat).reason == "reducing: order would increase position");
}

TEST_CASE("risk tracks net position from fills only", "[risk]") {
  risk::RiskEngine e{{}};
  e.on_execution(fill("a", "AAPL", Side::buy, "100", "150", kDay0));
  e.on_execution(fill("b", "AAPL", Side::sell, "30", "151", kDay0));
  auto not_a_fill = fill("c", "AAPL", Side::buy, "0", "0", kDay0);
  not_a_fill.exec_type = core::ExecType::new_;
  e.on_execution(not_a_fill);
  CHECK(e.position("AAPL") == dec("70"));
  CHECK(e.position("MSFT").is_zero());
}

TEST_CASE("denied_report carries the reason and the order fields", "[risk]") {
  const auto o = buy("5", "10");
  const auto r = risk::denied_report(o, "trading halted: x", kDay0);
  CHECK(r.exec_type == core::ExecType::denied);
  CHECK(r.order_status == core::OrderStatus::denied);
  CHECK(r.text == "trading halted: x");
  CHECK(r.client_order_id == "c1");
  CHECK(r.exec_id == "c1-denied");
  CHECK(r.quantity == dec("5"));
  CHECK(r.limit_price == dec("10"));
  CHECK(r.leaves_qty.is_zero());
  CHECK(r.ts_event == kDay0);
}
