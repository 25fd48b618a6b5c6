// market_maker (strategy/market_maker.hpp): given quotes and reports -> its bid and ask
// orders: submitted, replaced when the quote moves, capped by size and inventory, cancelled.
#include "strategy/market_maker.hpp"

#include "helpers.hpp"

using core::Side;
using domain_test::dec;
using domain_test::kDay0;

namespace {

core::MarketData q(std::string_view bid, std::string_view ask, std::string_view bid_size, std::string_view ask_size,
                   core::TimestampNs dt) {
  auto x = domain_test::quote("BTCUSDT", bid, ask, kDay0 + dt);
  x.bid_size = dec(bid_size);
  x.ask_size = dec(ask_size);
  return x;
}

strategy::Runner maker(strategy::MarketMakerConfig cfg) {
  return strategy::Runner("mm", std::make_unique<strategy::MarketMaker>(std::move(cfg)));
}

}  // namespace

TEST_CASE("market_maker quotes both sides around the mid and replaces both when the quote moves",
          "[strategy][market_maker]") {
  auto run = maker({.spread_bps = dec("10"), .quantity = dec("1"), .max_position = dec("5"), .tick = dec("0.01")});
  // mid 100.01, half = 100.01 * 10 / 20000 = 0.050005: bid floor(99.959995) = 99.95, ask ceil(100.060005) = 100.07.
  auto out = run.on_market(q("100", "100.02", "3", "4", 0), 1);
  REQUIRE(out.size() == 2);
  const auto bid = std::get<core::OrderSubmit>(out[0]);
  const auto ask = std::get<core::OrderSubmit>(out[1]);
  CHECK(bid.side == Side::buy);
  CHECK(bid.order_type == core::OrderType::limit);
  CHECK(bid.limit_price == dec("99.95"));
  CHECK(bid.quantity == dec("1"));
  CHECK(ask.side == Side::sell);
  CHECK(ask.limit_price == dec("100.07"));
  CHECK(run.on_market(q("100", "100.02", "3", "4", 1), 2).empty());  // same quote: nothing

  // mid 101.01, half 0.050505: 100.95 / 101.07; both orders replaced in one event.
  out = run.on_market(q("101", "101.02", "3", "4", 2), 3);
  REQUIRE(out.size() == 2);
  const auto& rb = std::get<core::OrderReplace>(out[0]);
  CHECK(rb.orig_client_order_id == bid.client_order_id);
  CHECK(rb.client_order_id == "mm-3");
  CHECK(rb.limit_price == dec("100.95"));
  CHECK(rb.quantity == dec("1"));
  CHECK(std::get<core::OrderReplace>(out[1]).limit_price == dec("101.07"));
  CHECK(std::get<core::OrderReplace>(out[1]).cause_seq == 3);
  // While the replaces are unanswered, it waits.
  CHECK(run.on_market(q("102", "102.02", "3", "4", 3), 4).empty());
}

TEST_CASE("market_maker caps its sizes by the displayed size and its inventory limit, and cancels an empty side",
          "[strategy][market_maker]") {
  auto run = maker({.spread_bps = dec("10"), .quantity = dec("2"), .max_position = dec("2"), .tick = dec("0.01")});
  auto out = run.on_market(q("100", "100.02", "0.5", "4", 0), 1);
  REQUIRE(out.size() == 2);
  const auto bid = std::get<core::OrderSubmit>(out[0]);
  const auto ask = std::get<core::OrderSubmit>(out[1]);
  CHECK(bid.quantity == dec("0.5"));  // the displayed bid size
  CHECK(ask.quantity == dec("2"));    // quantity
  // The bid fills: position 0.5, so the next bid may be 1.5 at most (max_position 2).
  run.on_execution(domain_test::fill(bid.client_order_id, "BTCUSDT", Side::buy, "0.5", "99.95", kDay0, "mm"));
  out = run.on_market(q("100", "100.02", "9", "9", 1), 2);
  REQUIRE(out.size() == 1);
  const auto bid2 = std::get<core::OrderSubmit>(out[0]);
  CHECK(bid2.side == Side::buy);
  CHECK(bid2.quantity == dec("1.5"));
  // It fills too: at the limit no bid is sent; the ask stays as it is (2 <= 2 + 2).
  run.on_execution(domain_test::fill(bid2.client_order_id, "BTCUSDT", Side::buy, "1.5", "99.95", kDay0, "mm"));
  CHECK(run.context().position("BTCUSDT") == dec("2"));
  CHECK(run.on_market(q("100", "100.02", "9", "9", 2), 3).empty());
  // No displayed ask size: the ask is cancelled.
  out = run.on_market(q("100", "100.02", "9", "0", 3), 4);
  REQUIRE(out.size() == 1);
  CHECK(std::get<core::OrderCancel>(out[0]).client_order_id == ask.client_order_id);
}
