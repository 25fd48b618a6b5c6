// MaCross: given prices and execution reports -> expected orders.
#include "strategy/ma_cross.hpp"

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "helpers.hpp"

using core::Side;
using domain_test::dec;
using domain_test::kDay0;

namespace {

strategy::MaCrossConfig small() {
  return {.fast = 2, .slow = 3, .quantity = dec("1000"), .strategy_id = "mac"};
}

/// Feeds trade prices at kDay0 + i; returns the orders produced, by index.
std::vector<std::optional<core::OrderSubmit>> feed(strategy::MaCross& s,
                                                   const std::vector<std::string>& prices,
                                                   core::TimestampNs t0 = kDay0) {
  std::vector<std::optional<core::OrderSubmit>> out;
  for (std::size_t i = 0; i < prices.size(); ++i) {
    out.push_back(s.on_trade(domain_test::trade("EURUSD", prices[i], t0 + static_cast<core::TimestampNs>(i))));
  }
  return out;
}

core::ExecutionReport filled(const core::OrderSubmit& o, std::string_view px) {
  auto r = domain_test::fill(o.client_order_id, o.symbol, o.side, o.quantity.to_string(), px,
                             o.ts_event, o.strategy_id);
  return r;
}

}  // namespace

TEST_CASE("ma_cross: crossing sequence gives buy from flat, then 2x flips", "[strategy]") {
  strategy::MaCross s{small()};
  // SMA(2) vs SMA(3):
  //  10 10 10 -> equal, no sign yet; 9 -> 9.5 < 9.67 (first sign, no order);
  //  12 -> 10.5 > 10.33 cross up; 8 -> 10 > 9.67 no cross; 5 -> 6.5 < 8.33 cross down.
  auto out = feed(s, {"10", "10", "10", "9", "12"});
  for (std::size_t i = 0; i < 4; ++i) CHECK_FALSE(out[i].has_value());
  REQUIRE(out[4].has_value());
  const auto o1 = *out[4];
  CHECK(o1 == core::OrderSubmit{.client_order_id = "mac-EURUSD-1",
                                .symbol = "EURUSD",
                                .side = Side::buy,
                                .order_type = core::OrderType::market,
                                .quantity = dec("1000"),
                                .limit_price = std::nullopt,
                                .time_in_force = core::TimeInForce::ioc,
                                .strategy_id = "mac",
                                .ts_event = kDay0 + 4});
  CHECK(s.fast_sma("EURUSD") == dec("10.5"));
  CHECK(s.slow_sma("EURUSD") == dec("10.33333333"));
  CHECK(s.in_flight("EURUSD") == "mac-EURUSD-1");
  s.on_execution(filled(o1, "12"));
  CHECK(s.position("EURUSD") == dec("1000"));
  CHECK_FALSE(s.in_flight("EURUSD").has_value());

  out = feed(s, {"8", "5"}, kDay0 + 5);
  CHECK_FALSE(out[0].has_value());
  REQUIRE(out[1].has_value());
  CHECK(out[1]->client_order_id == "mac-EURUSD-2");
  CHECK(out[1]->side == Side::sell);
  CHECK(out[1]->quantity == dec("2000"));
  CHECK(out[1]->ts_event == kDay0 + 6);
  s.on_execution(filled(*out[1], "5"));
  CHECK(s.position("EURUSD") == dec("-1000"));

  // 12 -> up again (8.5 > 8.33): buy 2000 to go +1000; 20 keeps it up.
  out = feed(s, {"12", "20"}, kDay0 + 7);
  CHECK_FALSE(out[1].has_value());
  const auto up = out[0];
  REQUIRE(up.has_value());
  CHECK(up->client_order_id == "mac-EURUSD-3");
  CHECK(up->side == Side::buy);
  CHECK(up->quantity == dec("2000"));
}

TEST_CASE("ma_cross sends nothing while an order is in flight and acts on the current signal after a terminal report", "[strategy]") {
  strategy::MaCross s{small()};
  auto out = feed(s, {"10", "10", "10", "9", "12"});
  REQUIRE(out[4].has_value());
  const auto o1 = *out[4];
  auto accepted = filled(o1, "0");
  accepted.exec_type = core::ExecType::new_;
  accepted.order_status = core::OrderStatus::new_;
  accepted.last_qty = dec("0");
  s.on_execution(accepted);  // not terminal: still in flight
  out = feed(s, {"8", "5"}, kDay0 + 5);  // cross down while in flight: deferred
  CHECK_FALSE(out[0].has_value());
  CHECK_FALSE(out[1].has_value());

  // The IOC is canceled unfilled: position stays flat, next cross goes from flat.
  auto canceled = accepted;
  canceled.exec_type = core::ExecType::canceled;
  canceled.order_status = core::OrderStatus::canceled;
  s.on_execution(canceled);
  CHECK_FALSE(s.in_flight("EURUSD").has_value());
  CHECK(s.position("EURUSD").is_zero());
  out = feed(s, {"12", "20"}, kDay0 + 7);
  const auto up = out[0];
  REQUIRE(up.has_value());
  CHECK(up->client_order_id == "mac-EURUSD-2");
  CHECK(up->quantity == dec("1000"));
}

TEST_CASE("ma_cross ignores reports of other strategies", "[strategy]") {
  strategy::MaCross s{small()};
  s.on_execution(domain_test::fill("x", "EURUSD", Side::buy, "5", "1", kDay0, "other"));
  CHECK(s.position("EURUSD").is_zero());
}

TEST_CASE("ma_cross defers a cross that comes too soon until min_events_between_orders have passed", "[strategy]") {
  auto cfg = small();
  cfg.min_events_between_orders = 3;
  strategy::MaCross s{cfg};
  auto out = feed(s, {"10", "10", "10", "9", "12"});
  REQUIRE(out[4].has_value());
  s.on_execution(filled(*out[4], "12"));
  out = feed(s, {"8", "5"}, kDay0 + 5);  // cross down 1-2 prices after the order: deferred
  CHECK_FALSE(out[0].has_value());
  CHECK_FALSE(out[1].has_value());
  // 4: the third price since the order; the signal is still down -> sell 2000 now.
  out = feed(s, {"4"}, kDay0 + 7);
  REQUIRE(out[0].has_value());
  CHECK(out[0]->client_order_id == "mac-EURUSD-2");
  CHECK(out[0]->side == Side::sell);
  CHECK(out[0]->quantity == dec("2000"));
}

TEST_CASE("ma_cross drops a deferred cross when the signal has come back to the position", "[strategy]") {
  auto cfg = small();
  cfg.min_events_between_orders = 4;
  strategy::MaCross s{cfg};
  auto out = feed(s, {"10", "10", "10", "9", "12"});
  REQUIRE(out[4].has_value());
  s.on_execution(filled(*out[4], "12"));  // long 1000
  // cross down then back up before 4 prices have passed: the long position matches the signal
  out = feed(s, {"8", "5", "20", "30", "40"}, kDay0 + 5);
  for (const auto& o : out) CHECK_FALSE(o.has_value());
  CHECK(s.position("EURUSD") == dec("1000"));
}

TEST_CASE("ma_cross works on quote mids and on bid/ask bar pairs", "[strategy]") {
  strategy::MaCross s{small()};
  const char* mids[][2] = {{"9", "11"}, {"9", "11"}, {"9", "11"}, {"8", "10"}, {"11", "13"}};
  std::optional<core::OrderSubmit> last;
  for (int i = 0; i < 5; ++i) {
    last = s.on_quote(domain_test::quote("IBM", mids[i][0], mids[i][1], kDay0 + i));
  }
  REQUIRE(last.has_value());
  CHECK(last->symbol == "IBM");
  CHECK(last->client_order_id == "mac-IBM-1");

  strategy::MaCross b{small()};
  const char* closes[][2] = {{"9", "11"}, {"9", "11"}, {"9", "11"}, {"8", "10"}, {"11", "13"}};
  std::optional<core::OrderSubmit> from_bars;
  for (int i = 0; i < 5; ++i) {
    const auto end = kDay0 + 60 * (i + 1);
    // Only the second bar of a pair feeds a price (either order).
    const auto first = i % 2 ? core::PriceType::ask : core::PriceType::bid;
    const auto second = i % 2 ? core::PriceType::bid : core::PriceType::ask;
    const auto& fc = first == core::PriceType::bid ? closes[i][0] : closes[i][1];
    const auto& sc = second == core::PriceType::bid ? closes[i][0] : closes[i][1];
    CHECK_FALSE(b.on_bar(domain_test::bar("GBPUSD", fc, first, end)).has_value());
    from_bars = b.on_bar(domain_test::bar("GBPUSD", sc, second, end));
  }
  REQUIRE(from_bars.has_value());
  CHECK(from_bars->side == Side::buy);
  CHECK(from_bars->ts_event == kDay0 + 300);
}

TEST_CASE("ma_cross keeps state per symbol", "[strategy]") {
  strategy::MaCross s{small()};
  (void)feed(s, {"10", "10", "10", "9"});
  CHECK_FALSE(s.on_trade(domain_test::trade("IBM", "12", kDay0)).has_value());  // IBM has 1 price
  CHECK(s.on_trade(domain_test::trade("EURUSD", "12", kDay0)).has_value());
}

TEST_CASE("ma_cross rejects a configuration where slow is not longer than fast", "[strategy]") {
  CHECK_THROWS_AS(strategy::MaCross({.fast = 5, .slow = 5}), std::invalid_argument);
  CHECK_THROWS_AS(strategy::MaCross({.fast = 0, .slow = 5}), std::invalid_argument);
  CHECK_THROWS_AS(strategy::MaCross({.quantity = dec("0")}), std::invalid_argument);
  CHECK_NOTHROW(strategy::MaCross({}));
}

TEST_CASE("ma_cross: a split restates the SMA windows and the position, so it is no cross", "[strategy][corporate_action]") {
  strategy::MaCross s{small()};
  auto out = feed(s, {"200", "210", "220", "230"});  // rising: the sign is up, nothing crossed yet
  for (const auto& o : out) CHECK_FALSE(o.has_value());
  // Long 1000 (as if a cross had filled): the split makes it 2000 shares.
  core::OrderSubmit o{.client_order_id = "mac-EURUSD-1", .symbol = "EURUSD", .side = Side::buy,
                      .quantity = dec("1000"), .strategy_id = "mac"};
  s.on_execution(filled(o, "230"));
  REQUIRE(s.position("EURUSD") == dec("1000"));
  s.on_action({.symbol = "EURUSD", .action = core::ActionKind::split, .ratio = dec("2"), .ts_event = kDay0 + 10});
  CHECK(s.position("EURUSD") == dec("2000"));
  CHECK(s.fast_sma("EURUSD") == dec("112.5"));             // (220 + 230) / 2 restated: (110 + 115) / 2
  CHECK(s.slow_sma("EURUSD") == dec("110"));               // (105 + 110 + 115) / 3
  // The post-split price continues the trend: no cross (unrestated, 116 would cross down).
  CHECK_FALSE(s.on_trade(domain_test::trade("EURUSD", "116", kDay0 + 11)).has_value());
  // A dividend changes nothing in the windows.
  s.on_action({.symbol = "EURUSD", .action = core::ActionKind::dividend, .amount = dec("1"), .ts_event = kDay0 + 12});
  CHECK(s.position("EURUSD") == dec("2000"));
}
