// Pre-trade limits (issue 3): every check at, below and above its limit, per-symbol
// overrides, open-order counting and the order-rate window.
#include "risk/pre_trade.hpp"

#include <optional>
#include <string>
#include <vector>

#include "helpers.hpp"

using core::ExecType;
using core::OrderStatus;
using core::OrderType;
using core::Side;
using core::TradingState;
using domain_test::dec;
using domain_test::fill;
using domain_test::kDay0;
using domain_test::kSec;
using domain_test::quote;

namespace {

struct Ord {
  std::string symbol = "AAPL";
  Side side = Side::buy;
  std::string_view qty = "1";
  std::optional<std::string_view> limit;
  std::string id = "c1";
  std::string strategy;
  core::TimestampNs ts = kDay0;
};

core::OrderSubmit order(const Ord& o) {
  return core::OrderSubmit{.client_order_id = o.id,
                           .symbol = o.symbol,
                           .side = o.side,
                           .order_type = o.limit ? OrderType::limit : OrderType::market,
                           .quantity = dec(o.qty),
                           .limit_price = o.limit ? std::optional(dec(*o.limit)) : std::nullopt,
                           .time_in_force = core::TimeInForce::day,
                           .strategy_id = o.strategy,
                           .ts_event = o.ts};
}

/// A report for `id` with the given status (no fill).
core::ExecutionReport report(std::string id, ExecType type, OrderStatus status) {
  return core::ExecutionReport{.client_order_id = std::move(id),
                               .exec_id = "r",
                               .exec_type = type,
                               .order_status = status,
                               .symbol = "AAPL",
                               .quantity = dec("1"),
                               .ts_event = kDay0};
}

risk::RiskEngine engine(risk::RiskPolicy p) {
  risk::RiskEngine e{{}};
  e.set_policy(std::move(p));
  e.on_quote(quote("AAPL", "99.5", "100.5", kDay0));  // mid 100
  return e;
}

}  // namespace

TEST_CASE("a default policy switches every new limit off", "[risk][limits]") {
  const risk::RiskPolicy p;
  CHECK(p.defaults == risk::Limits{});
  CHECK_FALSE(p.defaults.max_position.has_value());
  CHECK_FALSE(p.defaults.max_gross_exposure.has_value());
  CHECK(p.defaults.max_open_orders == 0);
  CHECK_FALSE(p.defaults.price_band_bps.has_value());
  CHECK(p.defaults.max_orders_per_window == 0);
  CHECK_FALSE(p.defaults.daily_loss_limit.has_value());
  CHECK_FALSE(p.defaults.max_drawdown.has_value());
  CHECK(p.defaults.drawdown_action == TradingState::reducing);

  auto e = engine({});
  for (int i = 0; i < 50; ++i) {
    REQUIRE(e.decide(order({.qty = "10000", .limit = "1", .id = fmt::format("o{}", i)})).approved);
  }
  CHECK(e.open_orders() == 50);
}

TEST_CASE("the Limits constructor sets the policy defaults", "[risk][limits]") {
  const risk::RiskEngine e{{.max_order_qty = dec("7")}};
  CHECK(e.policy().defaults.max_order_qty == dec("7"));
  CHECK(e.policy().per_symbol.empty());
  CHECK(&e.limits() == &e.policy().defaults);
}

TEST_CASE("per-symbol limits override the defaults and other symbols keep the defaults",
          "[risk][limits]") {
  risk::RiskPolicy p{.defaults = {.max_order_qty = dec("100"), .max_position = dec("1000")},
                     .per_symbol = {{"BTCUSDT", {.max_order_qty = dec("2"), .price_band_bps = dec("50")}}}};
  const auto btc = p.for_symbol("BTCUSDT");
  CHECK(btc.max_order_qty == dec("2"));
  CHECK(btc.max_position == dec("1000"));  // not overridden
  CHECK(btc.price_band_bps == dec("50"));
  CHECK(p.for_symbol("AAPL") == p.defaults);

  auto e = engine(p);
  e.on_quote(quote("BTCUSDT", "100", "100", kDay0));
  CHECK(e.check(order({.symbol = "BTCUSDT", .qty = "2"})).approved);
  CHECK(e.check(order({.symbol = "BTCUSDT", .qty = "3"})).reason == "max_order_qty: quantity 3 exceeds limit 2");
  CHECK(e.check(order({.qty = "100"})).approved);
  CHECK(e.check(order({.qty = "101"})).reason == "max_order_qty: quantity 101 exceeds limit 100");
  // A per-symbol limit may also be looser than the default.
  p.per_symbol["MSFT"] = {.max_order_qty = dec("500"), .max_order_notional = dec("10")};
  e.set_policy(p);
  e.on_quote(quote("MSFT", "1", "1", kDay0));
  CHECK(e.check(order({.symbol = "MSFT", .qty = "10"})).approved);
  CHECK(e.check(order({.symbol = "MSFT", .qty = "11"})).reason ==
        "max_order_notional: notional 11 exceeds limit 10");
}

TEST_CASE("price_band passes a limit price at and inside the band and denies outside", "[risk][limits]") {
  const auto e = engine({.defaults = {.price_band_bps = dec("500")}});  // mid 100
  CHECK(e.check(order({.limit = "104.99"})).approved);
  CHECK(e.check(order({.limit = "105"})).approved);  // exactly 500 bps
  CHECK(e.check(order({.side = Side::sell, .limit = "95"})).approved);
  const auto d = e.check(order({.limit = "105.01"}));
  CHECK_FALSE(d.approved);
  CHECK(d.reason == "price_band: limit_price 105.01 is 501 bps from mid 100, band 500 bps");
  CHECK(e.check(order({.side = Side::sell, .limit = "94.99"})).reason ==
        "price_band: limit_price 94.99 is 501 bps from mid 100, band 500 bps");
  // A hair over the band reads above it (rounded up to 2 decimals for display).
  CHECK(e.check(order({.limit = "105.0000001"})).reason ==
        "price_band: limit_price 105.0000001 is 500.01 bps from mid 100, band 500 bps");
  // Market orders fill at the touch: no band check.
  CHECK(e.check(order({.qty = "1"})).approved);
}

TEST_CASE("price_band measures from the quote mid and needs market data", "[risk][limits]") {
  auto e = engine({.defaults = {.price_band_bps = dec("500")}});
  e.on_quote(quote("EURUSD", "1.38740", "1.38756", kDay0));
  CHECK(e.check(order({.symbol = "EURUSD", .limit = "1.5"})).reason ==
        "price_band: limit_price 1.5 is 810.97 bps from mid 1.38748, band 500 bps");
  CHECK(e.check(order({.symbol = "EURUSD", .limit = "1.4"})).approved);
  CHECK(e.check(order({.symbol = "IBM", .limit = "180"})).reason == "price_band: no reference mid for IBM");
  // With only bid bars seen, the bid is the mid.
  e.on_bar(domain_test::bar("GBPUSD", "2", core::PriceType::bid, kDay0));
  CHECK(e.check(order({.symbol = "GBPUSD", .limit = "2.1"})).approved);
  CHECK_FALSE(e.check(order({.symbol = "GBPUSD", .limit = "2.11"})).approved);
}

TEST_CASE("max_position passes at and below the limit and denies above, per symbol", "[risk][limits]") {
  auto e = engine({.defaults = {.max_position = dec("1000")},
                   .per_symbol = {{"MSFT", {.max_position = dec("10")}}}});
  e.on_execution(fill("f1", "AAPL", Side::buy, "900", "100", kDay0));
  CHECK(e.check(order({.qty = "99"})).approved);
  CHECK(e.check(order({.qty = "100"})).approved);  // 1000 == limit
  const auto d = e.check(order({.qty = "600"}));
  CHECK_FALSE(d.approved);
  CHECK(d.reason == "max_position: position after fill 1500 exceeds limit 1000");
  // Through zero to the other side counts the signed result.
  CHECK(e.check(order({.side = Side::sell, .qty = "1900"})).approved);
  CHECK(e.check(order({.side = Side::sell, .qty = "1901"})).reason ==
        "max_position: position after fill -1001 exceeds limit 1000");
  // The per-symbol limit applies to MSFT only.
  e.on_quote(quote("MSFT", "1", "1", kDay0));
  CHECK(e.check(order({.symbol = "MSFT", .qty = "10"})).approved);
  CHECK(e.check(order({.symbol = "MSFT", .side = Side::sell, .qty = "11"})).reason ==
        "max_position: position after fill -11 exceeds limit 10");
}

TEST_CASE("max_position never denies an order that shrinks a position over the limit", "[risk][limits]") {
  auto e = engine({});
  e.on_execution(fill("f1", "AAPL", Side::buy, "1500", "100", kDay0));
  e.set_policy({.defaults = {.max_position = dec("1000")}});
  CHECK(e.check(order({.side = Side::sell, .qty = "100"})).approved);  // 1400 > 1000 but smaller
  CHECK(e.check(order({.qty = "1"})).reason == "max_position: position after fill 1501 exceeds limit 1000");
}

TEST_CASE("max_gross_exposure sums every position at its mark with the order filled", "[risk][limits]") {
  auto e = engine({.defaults = {.max_gross_exposure = dec("100000")}});  // AAPL mid 100
  e.on_quote(quote("MSFT", "49", "51", kDay0));                            // mid 50
  e.on_execution(fill("f1", "MSFT", Side::sell, "1000", "50", kDay0));     // |-1000| x 50 = 50000
  e.on_execution(fill("f2", "AAPL", Side::buy, "200", "100", kDay0));      // 200 x 100 = 20000
  CHECK(e.check(order({.qty = "299"})).approved);
  CHECK(e.check(order({.qty = "300"})).approved);  // 50000 + 500 x 100 == limit
  const auto d = e.check(order({.qty = "301"}));
  CHECK_FALSE(d.approved);
  CHECK(d.reason == "max_gross_exposure: gross exposure after fill 100100 exceeds limit 100000");
  // The mark moves with the market.
  e.on_quote(quote("MSFT", "59", "61", kDay0 + 1));  // 60000 now
  CHECK(e.check(order({.qty = "201"})).reason ==
        "max_gross_exposure: gross exposure after fill 100100 exceeds limit 100000");
  // An order that reduces gross exposure passes even above the limit.
  e.set_policy({.defaults = {.max_gross_exposure = dec("1000")}});
  CHECK(e.check(order({.side = Side::sell, .qty = "100"})).approved);
  CHECK(e.check(order({.symbol = "MSFT", .qty = "1000"})).approved);
  CHECK_FALSE(e.check(order({.symbol = "MSFT", .qty = "2001"})).approved);  // flips to +1001
}

TEST_CASE("max_gross_exposure values a symbol without market data at its last fill or the order price",
          "[risk][limits]") {
  risk::RiskEngine e{{.max_gross_exposure = dec("1000")}};
  e.on_execution(fill("f1", "IBM", Side::buy, "5", "100", kDay0));  // 500 at the fill price
  CHECK(e.check(order({.symbol = "XYZ", .qty = "50", .limit = "10"})).approved);  // 500 + 500
  CHECK(e.check(order({.symbol = "XYZ", .qty = "51", .limit = "10"})).reason ==
        "max_gross_exposure: gross exposure after fill 1010 exceeds limit 1000");
  CHECK(e.check(order({.symbol = "IBM", .qty = "5", .limit = "1"})).approved);  // 10 x 100
  CHECK_FALSE(e.check(order({.symbol = "IBM", .qty = "6", .limit = "1"})).approved);
}

TEST_CASE("max_open_orders counts approved orders until a terminal report", "[risk][limits]") {
  auto e = engine({.defaults = {.max_open_orders = 2}});
  CHECK(e.check(order({.id = "a"})).approved);
  CHECK(e.open_orders() == 0);  // check is a query: it records nothing
  REQUIRE(e.decide(order({.id = "a"})).approved);
  REQUIRE(e.decide(order({.id = "b"})).approved);  // 2 == limit
  CHECK(e.open_orders() == 2);
  const auto d = e.decide(order({.id = "c"}));
  CHECK_FALSE(d.approved);
  CHECK(d.reason == "max_open_orders: open orders after approval 3 exceeds limit 2");
  CHECK(e.open_orders() == 2);  // a denied order is not counted
  CHECK(d.exec_id == "c-denied");

  // Live reports keep the order open; risk's own denial and a cancel_rejected do not close it.
  e.on_execution(report("a", ExecType::new_, OrderStatus::new_));
  e.on_execution(report("a", ExecType::partial_fill, OrderStatus::partially_filled));
  e.on_execution(report("a", ExecType::denied, OrderStatus::denied));
  e.on_execution(report("a", ExecType::cancel_rejected, OrderStatus::filled));
  e.on_execution(report("zzz", ExecType::canceled, OrderStatus::canceled));  // unknown id
  CHECK(e.open_orders() == 2);

  e.on_execution(report("a", ExecType::fill, OrderStatus::filled));
  CHECK(e.open_orders() == 1);
  CHECK(e.decide(order({.id = "c"})).duplicate);  // "c" was denied: a resend is not decided again
  CHECK(e.decide(order({.id = "c2"})).approved);
  CHECK(e.open_order_ids() == std::vector<std::string>{"b", "c2"});
  for (auto [type, status] : {std::pair{ExecType::canceled, OrderStatus::canceled},
                              std::pair{ExecType::rejected, OrderStatus::rejected}}) {
    e.on_execution(report(e.open_orders() == 2 ? "b" : "c2", type, status));
  }
  CHECK(e.open_orders() == 0);
  e.on_execution(report("c2", ExecType::expired, OrderStatus::expired));  // already closed: no-op
  CHECK(e.open_orders() == 0);
}

TEST_CASE("on_approved is idempotent per client_order_id: the first approval stands", "[risk][limits]") {
  auto e = engine({.defaults = {.max_orders_per_window = 1}});
  e.on_approved(order({.id = "dup", .strategy = "s"}));
  e.on_approved(order({.id = "dup", .strategy = "s"}));  // the same approved order replayed twice
  e.on_approved(order({.qty = "5", .id = "dup", .strategy = "s"}));
  CHECK(e.open_orders() == 1);
  CHECK(e.order("dup")->order.quantity == dec("1"));
  // One rate-window entry: a second order of s in the window is the 2nd, not the 4th.
  CHECK(e.check(order({.id = "n", .strategy = "s"})).reason ==
        "max_orders_per_window: 2 orders in 1s for strategy s, limit 1");
  e.on_execution(report("dup", ExecType::expired, OrderStatus::expired));
  CHECK(e.open_orders() == 0);
}

TEST_CASE("max_orders_per_window limits approvals per strategy in a sliding window", "[risk][limits]") {
  auto e = engine({.defaults = {.max_orders_per_window = 3, .rate_window_ns = kSec}});
  int n = 0;  // every order its own client_order_id
  const auto at = [&n](std::string strategy, core::TimestampNs ts) {
    return order({.id = fmt::format("o{}", ++n), .strategy = std::move(strategy), .ts = ts});
  };
  REQUIRE(e.decide(at("ma_cross", kDay0)).approved);
  REQUIRE(e.decide(at("ma_cross", kDay0 + 100)).approved);
  REQUIRE(e.decide(at("ma_cross", kDay0 + 200)).approved);  // 3 == limit
  const auto d = e.decide(at("ma_cross", kDay0 + 300));
  CHECK_FALSE(d.approved);
  CHECK(d.reason == "max_orders_per_window: 4 orders in 1s for strategy ma_cross, limit 3");
  // Another strategy and hand-typed orders have their own windows.
  CHECK(e.decide(at("other", kDay0 + 300)).approved);
  REQUIRE(e.decide(at("", kDay0)).approved);
  REQUIRE(e.decide(at("", kDay0)).approved);
  REQUIRE(e.decide(at("", kDay0)).approved);
  CHECK(e.check(at("", kDay0)).reason == "max_orders_per_window: 4 orders in 1s for strategy manual, limit 3");
  // The window slides: at kDay0 + 1s the order at kDay0 has left (window is (t - 1s, t]).
  CHECK_FALSE(e.check(at("ma_cross", kDay0 + kSec - 1)).approved);
  CHECK(e.check(at("ma_cross", kDay0 + kSec)).approved);
  REQUIRE(e.decide(at("ma_cross", kDay0 + kSec)).approved);
  CHECK_FALSE(e.check(at("ma_cross", kDay0 + kSec + 99)).approved);  // +100, +200, +1s in window
  CHECK(e.check(at("ma_cross", kDay0 + kSec + 100)).reason.empty());
}

TEST_CASE("the rate window names its unit exactly", "[risk][limits]") {
  auto e = engine({.defaults = {.max_orders_per_window = 1, .rate_window_ns = 250'000'000}});
  REQUIRE(e.decide(order({.id = "first", .strategy = "s"})).approved);
  CHECK(e.check(order({.strategy = "s"})).reason == "max_orders_per_window: 2 orders in 250ms for strategy s, limit 1");
  e.set_policy({.defaults = {.max_orders_per_window = 1, .rate_window_ns = 1'500}});
  CHECK(e.check(order({.strategy = "s"})).reason == "max_orders_per_window: 2 orders in 1500ns for strategy s, limit 1");
  e.set_policy({.defaults = {.max_orders_per_window = 1, .rate_window_ns = 10'000}});
  CHECK(e.check(order({.strategy = "s"})).reason == "max_orders_per_window: 2 orders in 10us for strategy s, limit 1");
  e.set_policy({.defaults = {.max_orders_per_window = 1, .rate_window_ns = 120 * kSec}});
  CHECK(e.check(order({.strategy = "s"})).reason == "max_orders_per_window: 2 orders in 120s for strategy s, limit 1");
}

TEST_CASE("checks run in the documented order", "[risk][limits]") {
  auto e = engine({.defaults = {.max_order_qty = dec("100"),
                                .max_order_notional = dec("5000"),
                                .max_position = dec("10"),
                                .max_gross_exposure = dec("500"),
                                .max_open_orders = 1,
                                .price_band_bps = dec("100"),
                                .max_orders_per_window = 1}});
  // Fills open orders and the window; its 1 AAPL counts as working in 7 and 8 (issue 11).
  e.on_approved(order({.id = "open", .strategy = "s"}));
  // 2 quantity, then 4 notional, then 5 price band, then 7 position, 8 gross, 9 open, 10 rate.
  CHECK(e.check(order({.qty = "101", .limit = "1000"})).reason == "max_order_qty: quantity 101 exceeds limit 100");
  CHECK(e.check(order({.qty = "100", .limit = "1000"})).reason ==
        "max_order_notional: notional 100000 exceeds limit 5000");
  CHECK(e.check(order({.qty = "11", .limit = "200"})).reason ==
        "price_band: limit_price 200 is 10000 bps from mid 100, band 100 bps");
  CHECK(e.check(order({.qty = "11", .limit = "100"})).reason ==
        "max_position: position with working orders after fill 12 exceeds limit 10");
  CHECK(e.check(order({.qty = "6", .limit = "100"})).reason ==
        "max_gross_exposure: gross exposure with working orders after fill 700 exceeds limit 500");
  CHECK(e.check(order({.qty = "4", .limit = "100"})).reason ==
        "max_open_orders: open orders after approval 2 exceeds limit 1");
  e.on_execution(report("open", ExecType::canceled, OrderStatus::canceled));
  CHECK(e.check(order({.qty = "5", .limit = "100", .strategy = "s"})).reason ==
        "max_orders_per_window: 2 orders in 1s for strategy s, limit 1");
  CHECK(e.check(order({.qty = "5", .limit = "100", .strategy = "t"})).approved);
  // The reducing rule (6) comes after the price band and before max_position.
  (void)e.set_state(TradingState::reducing, "r", "manual", kDay0);
  CHECK(e.check(order({.qty = "11", .limit = "200"})).reason ==
        "price_band: limit_price 200 is 10000 bps from mid 100, band 100 bps");
  CHECK(e.check(order({.qty = "11", .limit = "100"})).reason == "reducing: order would increase position");
}

TEST_CASE("validate accepts the default policy and names the first bad field", "[risk][limits]") {
  CHECK_FALSE(risk::validate({}).has_value());
  CHECK_FALSE(risk::validate({.defaults = {.max_position = dec("1"), .max_open_orders = 5}}).has_value());
  const auto bad = risk::validate({.defaults = {.max_position = dec("0")}});
  REQUIRE(bad.has_value());
  CHECK(bad->to_string() == "defaults.max_position: must be > 0, got 0");
  CHECK(risk::validate({.defaults = {.max_order_qty = dec("-1")}})->field == "defaults.max_order_qty");
  CHECK(risk::validate({.defaults = {.max_open_orders = -1}})->to_string() ==
        "defaults.max_open_orders: must be >= 0, got -1");
  CHECK(risk::validate({.defaults = {.rate_window_ns = 0}})->field == "defaults.rate_window_ns");
  CHECK(risk::validate({.defaults = {.daily_loss_limit = dec("-5")}})->field == "defaults.daily_loss_limit");
  CHECK(risk::validate({.per_symbol = {{"AAPL", {.price_band_bps = dec("0")}}}})->to_string() ==
        "per_symbol.AAPL.price_band_bps: must be > 0, got 0");
}

TEST_CASE("validate accepts drawdown action reducing or halted and refuses active", "[risk][limits]") {
  CHECK_FALSE(risk::validate({.defaults = {.drawdown_action = TradingState::reducing}}).has_value());
  CHECK_FALSE(risk::validate({.defaults = {.max_drawdown = dec("20"), .drawdown_action = TradingState::halted}})
                  .has_value());
  const auto bad = risk::validate({.defaults = {.drawdown_action = TradingState::active}});
  REQUIRE(bad.has_value());
  CHECK(bad->field == "defaults.drawdown_action");
  CHECK(bad->to_string() == R"(defaults.drawdown_action: must be "reducing" or "halted", got "active")");
}

TEST_CASE("set_policy keeps positions, open orders and state", "[risk][limits]") {
  auto e = engine({});
  e.on_execution(fill("f1", "AAPL", Side::buy, "5", "100", kDay0));
  e.on_approved(order({.id = "x"}));
  (void)e.set_state(TradingState::reducing, "r", "manual", kDay0);
  const risk::RiskPolicy p{.defaults = {.max_open_orders = 9}, .per_symbol = {{"AAPL", {.max_position = dec("3")}}}};
  e.set_policy(p);
  CHECK(e.policy() == p);
  CHECK(e.position("AAPL") == dec("5"));
  CHECK(e.open_orders() == 1);
  CHECK(e.state() == TradingState::reducing);
}
