// Pre-trade checks on order.replace (issue 3): risk tracks the orders it approved,
// moves them on `replaced` reports and checks what a replace adds.
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

/// Limit buy 100 AAPL @ 100 of strategy "s" (mid 100, see engine()).
core::OrderSubmit limit_order(std::string id = "o1", std::string_view qty = "100", Side side = Side::buy) {
  return core::OrderSubmit{.client_order_id = std::move(id),
                           .symbol = "AAPL",
                           .side = side,
                           .order_type = OrderType::limit,
                           .quantity = dec(qty),
                           .limit_price = dec("100"),
                           .time_in_force = core::TimeInForce::gtc,
                           .strategy_id = "s",
                           .ts_event = kDay0};
}

core::OrderReplace replace(std::string id, std::optional<std::string_view> qty,
                           std::optional<std::string_view> limit = std::nullopt, std::string orig = "o1",
                           core::TimestampNs ts = kDay0 + 1) {
  return core::OrderReplace{.client_order_id = std::move(id),
                            .orig_client_order_id = std::move(orig),
                            .quantity = qty ? std::optional(dec(*qty)) : std::nullopt,
                            .limit_price = limit ? std::optional(dec(*limit)) : std::nullopt,
                            .ts_event = ts};
}

/// The venue's answer to a replace it did: the new id, carried cum_qty and avg_px.
core::ExecutionReport replaced(const core::OrderSubmit& o, const core::OrderReplace& r, std::string_view cum = "0",
                               std::string_view avg = "0") {
  const auto qty = r.quantity.value_or(o.quantity);
  return core::ExecutionReport{.client_order_id = r.client_order_id,
                               .exec_id = r.client_order_id + "-1",
                               .exec_type = ExecType::replaced,
                               .order_status = dec(cum).is_zero() ? OrderStatus::new_ : OrderStatus::partially_filled,
                               .symbol = o.symbol,
                               .side = o.side,
                               .order_type = o.order_type,
                               .time_in_force = o.time_in_force,
                               .quantity = qty,
                               .limit_price = r.limit_price ? r.limit_price : o.limit_price,
                               .cum_qty = dec(cum),
                               .leaves_qty = qty - dec(cum),
                               .avg_px = dec(avg),
                               .strategy_id = o.strategy_id,
                               .ts_event = r.ts_event,
                               .orig_client_order_id = r.orig_client_order_id};
}

/// A (partial) fill of `o` under `id`: last_qty at px, cum_qty as given.
core::ExecutionReport partial(std::string id, const core::OrderSubmit& o, std::string_view last, std::string_view cum,
                              std::string_view px, core::TimestampNs ts) {
  auto r = fill(std::move(id), o.symbol, o.side, last, px, ts, o.strategy_id);
  r.quantity = o.quantity;
  r.cum_qty = dec(cum);
  r.leaves_qty = o.quantity - dec(cum);
  r.exec_type = r.leaves_qty.is_zero() ? ExecType::fill : ExecType::partial_fill;
  r.order_status = r.leaves_qty.is_zero() ? OrderStatus::filled : OrderStatus::partially_filled;
  return r;
}

risk::RiskEngine engine(risk::Limits lim = {}) {
  risk::RiskEngine e{lim};
  e.on_quote(quote("AAPL", "99.5", "100.5", kDay0));  // mid 100
  REQUIRE(e.decide(limit_order()).approved);
  return e;
}

}  // namespace

TEST_CASE("a replace within every limit is approved and records nothing until the venue confirms",
          "[risk][replace]") {
  auto e = engine();
  const auto r = replace("o1b", "150", "99");
  CHECK(e.check_replace(r).approved);
  const auto d = e.decide_replace(r);
  CHECK(d.approved);
  CHECK(d.reason.empty());
  CHECK(d.exec_id.empty());
  // The order is still o1 until the venue's `replaced` report.
  CHECK(e.open_order_ids() == std::vector<std::string>{"o1"});
  CHECK_FALSE(e.order("o1b").has_value());
  CHECK(e.open_orders() == 1);
}

TEST_CASE("a replaced report moves the open order to the new id with the new terms", "[risk][replace]") {
  auto e = engine({.max_open_orders = 1});
  const auto o = limit_order();
  e.on_execution(partial("o1", o, "40", "40", "100", kDay0 + 1));  // 40 of 100 filled
  CHECK(e.position("AAPL") == dec("40"));
  const auto r = replace("o1b", "200", "99.5");
  REQUIRE(e.decide_replace(r).approved);  // the open-order count does not grow: 1 == limit
  e.on_execution(replaced(o, r, "40", "100"));
  CHECK(e.open_order_ids() == std::vector<std::string>{"o1b"});
  CHECK(e.open_orders() == 1);
  const auto moved = e.order("o1b");
  REQUIRE(moved.has_value());
  CHECK(moved->order.client_order_id == "o1b");
  CHECK(moved->order.quantity == dec("200"));
  CHECK(moved->order.limit_price == dec("99.5"));
  CHECK(moved->order.strategy_id == "s");
  CHECK(moved->cum_qty == dec("40"));  // inherited
  CHECK(moved->status == OrderStatus::partially_filled);
  CHECK(moved->open);
  const auto old = e.order("o1");
  REQUIRE(old.has_value());
  CHECK(old->replaced_by == "o1b");
  CHECK_FALSE(old->open);
  // The next fill of the new id counts once; a repeat of it does not.
  auto f = partial("o1b", moved->order, "60", "100", "99.5", kDay0 + 2);
  e.on_execution(f);
  e.on_execution(f);
  CHECK(e.position("AAPL") == dec("100"));
  // A repeated `replaced` report changes nothing.
  e.on_execution(replaced(o, r, "40", "100"));
  CHECK(e.order("o1b")->cum_qty == dec("100"));
  CHECK(e.open_orders() == 1);
  e.on_execution(partial("o1b", moved->order, "100", "200", "99.5", kDay0 + 3));
  CHECK(e.open_orders() == 0);
  CHECK(e.order("o1b")->status == OrderStatus::filled);
  CHECK(e.position("AAPL") == dec("200"));
}

TEST_CASE("replace when halted is denied, of unknown or finished orders it is approved for the venue to answer",
          "[risk][replace]") {
  auto e = engine();
  REQUIRE(e.set_state(TradingState::halted, "desk halt", "manual", kDay0 + 1));
  const auto d = e.decide_replace(replace("o1b", "50"));  // even a shrink: halted means no changes
  CHECK_FALSE(d.approved);
  CHECK(d.reason == "trading halted: desk halt");
  CHECK(d.exec_id == "o1b-denied");
  // An unknown original: approved (a denial report could not name the symbol); the venue rejects it.
  CHECK(e.decide_replace(replace("x2", "50", std::nullopt, "nope")).approved);
  (void)e.set_state(TradingState::active, "", "manual", kDay0 + 2);
  // A finished original: approved whatever the limits; the venue answers cancel_rejected.
  e.set_policy({.defaults = {.max_order_qty = dec("1")}});
  e.on_execution(partial("o1", limit_order(), "100", "100", "100", kDay0 + 3));
  CHECK(e.check_replace(replace("o1c", "500")).approved);
  // ... and so is a replace of an order already replaced.
  auto f = engine();
  const auto r = replace("o1b", "50");
  REQUIRE(f.decide_replace(r).approved);
  f.on_execution(replaced(limit_order(), r));
  f.set_policy({.defaults = {.max_order_qty = dec("1")}});
  CHECK(f.check_replace(replace("o1c", "500")).approved);
  CHECK_FALSE(f.check_replace(replace("o1d", "500", std::nullopt, "o1b")).approved);
}

TEST_CASE("replace quantity is checked against max_order_qty at, below and above the limit", "[risk][replace]") {
  auto e = engine({.max_order_qty = dec("150")});
  CHECK(e.check_replace(replace("a", "149.99999999")).approved);
  CHECK(e.check_replace(replace("a", "150")).approved);
  const auto d = e.check_replace(replace("a", "150.00000001"));
  CHECK_FALSE(d.approved);
  CHECK(d.reason == "max_order_qty: quantity 150.00000001 exceeds limit 150");
  // A price-only replace does not re-check a quantity approved earlier.
  e.set_policy({.defaults = {.max_order_qty = dec("10")}});
  CHECK(e.check_replace(replace("a", std::nullopt, "99")).approved);
}

TEST_CASE("replace notional uses the new quantity at the new or kept limit price", "[risk][replace]") {
  auto e = engine({.max_order_notional = dec("15000")});
  CHECK(e.check_replace(replace("a", "150")).approved);                   // 150 x 100 == limit
  CHECK(e.check_replace(replace("a", "149.99")).approved);
  CHECK(e.check_replace(replace("a", "150.01")).reason == "max_order_notional: notional 15001 exceeds limit 15000");
  CHECK(e.check_replace(replace("a", "120", "125")).approved);            // 15000
  CHECK(e.check_replace(replace("a", "120", "125.01")).reason ==
        "max_order_notional: notional 15001.2 exceeds limit 15000");
  CHECK(e.check_replace(replace("a", std::nullopt, "150")).approved);     // 100 x 150
  CHECK(e.check_replace(replace("a", std::nullopt, "150.01")).reason ==
        "max_order_notional: notional 15001 exceeds limit 15000");
  // A market order is priced at the touch (the ask for a buy).
  auto m = limit_order("m1");
  m.order_type = OrderType::market;
  m.limit_price.reset();
  REQUIRE(e.decide(m).approved);
  CHECK(e.check_replace(replace("mb", "149.25", std::nullopt, "m1")).approved);  // x 100.5 = 14999.625
  CHECK(e.check_replace(replace("mb", "149.26", std::nullopt, "m1")).reason ==
        "max_order_notional: notional 15000.63 exceeds limit 15000");
}

TEST_CASE("replace price band applies to a new limit price", "[risk][replace]") {
  auto e = engine({.price_band_bps = dec("500")});
  CHECK(e.check_replace(replace("a", std::nullopt, "105")).approved);
  CHECK(e.check_replace(replace("a", std::nullopt, "104.99")).approved);
  CHECK(e.check_replace(replace("a", std::nullopt, "105.01")).reason ==
        "price_band: limit_price 105.01 is 501 bps from mid 100, band 500 bps");
  CHECK(e.check_replace(replace("a", "50")).approved);  // the kept price is not re-checked
}

TEST_CASE("in reducing state a replace may shrink or move but not add quantity", "[risk][replace]") {
  auto e = engine();
  REQUIRE(e.set_state(TradingState::reducing, "unwind", "manual", kDay0 + 1));
  CHECK(e.check_replace(replace("a", "99")).approved);
  CHECK(e.check_replace(replace("a", "100", "99")).approved);
  CHECK(e.check_replace(replace("a", std::nullopt, "99")).approved);
  const auto d = e.check_replace(replace("a", "100.00000001"));
  CHECK_FALSE(d.approved);
  CHECK(d.reason == "reducing: replace would increase quantity");
}

TEST_CASE("replace position and gross exposure checks add the increase to the working orders", "[risk][replace]") {
  // Long 800 from fills, and o1 (buy 100) working: worst case long 900 (issue 11).
  auto e = engine({.max_position = dec("1000")});
  e.on_execution(fill("f1", "AAPL", Side::buy, "800", "100", kDay0));
  CHECK(e.check_replace(replace("a", "199")).approved);  // +99 -> 999
  CHECK(e.check_replace(replace("a", "200")).approved);  // +100 -> 1000 == limit
  CHECK(e.check_replace(replace("a", "201")).reason ==
        "max_position: position with working orders after fill 1001 exceeds limit 1000");
  CHECK(e.check_replace(replace("a", "50")).approved);  // a shrink adds nothing

  auto g = engine({.max_gross_exposure = dec("100000")});  // mid 100
  g.on_execution(fill("f1", "AAPL", Side::buy, "800", "100", kDay0));  // 80000, + o1 100 x 100 working
  CHECK(g.check_replace(replace("a", "200")).approved);                // +100 -> 100000
  CHECK(g.check_replace(replace("a", "200.01")).reason ==
        "max_gross_exposure: gross exposure with working orders after fill 100001 exceeds limit 100000");
  // A sell order that grows reduces a long: it passes both until it makes the short side too big.
  auto s = engine({.max_position = dec("1000"), .max_gross_exposure = dec("100000")});
  s.on_execution(fill("f1", "AAPL", Side::buy, "900", "100", kDay0));  // + o1: worst long 1000
  REQUIRE(s.decide(limit_order("sell1", "100", Side::sell)).approved);
  CHECK(s.check_replace(replace("sb", "1000", std::nullopt, "sell1")).approved);  // worst short -100
  CHECK(s.check_replace(replace("sb", "1900", std::nullopt, "sell1")).approved);  // -1000
  CHECK(s.check_replace(replace("sb", "1900.00000001", std::nullopt, "sell1")).reason ==
        "max_position: position with working orders after fill -1000.00000001 exceeds limit 1000");
}

TEST_CASE("a replace enters the rate window of its order's strategy", "[risk][replace]") {
  auto e = engine({.max_orders_per_window = 2});  // o1 at kDay0 is 1
  REQUIRE(e.decide_replace(replace("a", "90", std::nullopt, "o1", kDay0 + 1)).approved);  // 2 == limit
  const auto d = e.decide_replace(replace("b", "80", std::nullopt, "o1", kDay0 + 2));
  CHECK_FALSE(d.approved);
  CHECK(d.reason == "max_orders_per_window: 3 orders in 1s for strategy s, limit 2");
  // An order of the same strategy sees the replace too.
  auto o = limit_order("o2");
  o.ts_event = kDay0 + 3;
  CHECK(e.check(o).reason == "max_orders_per_window: 3 orders in 1s for strategy s, limit 2");
  // Replaces of unknown orders do not count.
  REQUIRE(e.decide_replace(replace("c", "1", std::nullopt, "unknown", kDay0 + 3)).approved);
  o.ts_event = kDay0 + kSec + 1;  // the window (t - 1s, t] no longer holds o1 (+0) nor the replace (+1)
  CHECK(e.check(o).approved);
}

TEST_CASE("denied_replace_report answers like the venue's cancel_rejected, with the original's state",
          "[risk][replace]") {
  auto e = engine({.max_order_qty = dec("150")});
  const auto o = limit_order();
  e.on_execution(partial("o1", o, "40", "40", "99.75", kDay0 + 1));
  const auto r = replace("o1b", "500", "99");
  const auto d = e.decide_replace(r);
  REQUIRE_FALSE(d.approved);
  const auto orig = e.order("o1");
  REQUIRE(orig.has_value());
  const auto rep = risk::denied_replace_report(r, d.reason, kDay0 + 2, *orig, d.exec_id);
  CHECK(rep.client_order_id == "o1b");
  CHECK(rep.orig_client_order_id == "o1");
  CHECK(rep.exec_id == "o1b-denied");
  CHECK(rep.exec_type == ExecType::cancel_rejected);
  CHECK(rep.order_status == OrderStatus::partially_filled);
  CHECK(rep.symbol == "AAPL");
  CHECK(rep.side == Side::buy);
  CHECK(rep.order_type == OrderType::limit);
  CHECK(rep.time_in_force == core::TimeInForce::gtc);
  CHECK(rep.quantity == dec("100"));  // the original's, unchanged
  CHECK(rep.limit_price == dec("100"));
  CHECK(rep.cum_qty == dec("40"));
  CHECK(rep.leaves_qty == dec("60"));
  CHECK(rep.avg_px == dec("99.75"));
  CHECK(rep.last_qty.is_zero());
  CHECK(rep.text == "max_order_qty: quantity 500 exceeds limit 150");
  CHECK(rep.strategy_id == "s");
  CHECK(rep.ts_event == kDay0 + 2);
  // Applying it changes nothing about o1; the new id now counts as decided (denied).
  e.on_execution(rep);
  CHECK(e.order("o1") == orig);
  CHECK(e.open_order_ids() == std::vector<std::string>{"o1"});
  CHECK(e.position("AAPL") == dec("40"));
  CHECK(e.check_replace(r).duplicate);
  // Default exec_id.
  CHECK(risk::denied_replace_report(r, "x", 1, *orig).exec_id == "o1b-denied");
}
