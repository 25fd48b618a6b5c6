#include <catch2/catch.hpp>

#include "core/market_check.hpp"

using core::Decimal;

namespace {

Decimal d(std::string_view s) { return *Decimal::parse(s); }

core::Quote quote(std::string sym, std::string_view bid, std::string_view ask, core::TimestampNs ts) {
  return {.symbol = std::move(sym), .bid = d(bid), .ask = d(ask), .ts_event = ts};
}

core::Bar bar(std::string_view o, std::string_view h, std::string_view l, std::string_view c, core::TimestampNs ts) {
  return {.symbol = "IBM", .open = d(o), .high = d(h), .low = d(l), .close = d(c), .ts_event = ts};
}

}  // namespace

TEST_CASE("a crossed quote is flagged, a locked one is normal (issue 11)", "[core][market_check]") {
  core::MarketCheck c;
  CHECK_FALSE(c.check(quote("EURUSD", "1.3874", "1.3875", 1)));
  CHECK_FALSE(c.check(quote("EURUSD", "1.3875", "1.3875", 2)));  // locked
  const auto r = c.check(quote("EURUSD", "20", "10", 3));
  REQUIRE(r);
  CHECK(*r == "crossed quote: bid 20 above ask 10");
}

TEST_CASE("market data that steps back in time is flagged, per symbol", "[core][market_check]") {
  core::MarketCheck c;
  CHECK_FALSE(c.check(quote("EURUSD", "1", "2", 100)));
  CHECK_FALSE(c.check(quote("EURUSD", "1", "2", 100)));  // same time: normal
  CHECK_FALSE(c.check(quote("BTCUSDT", "1", "2", 50)));  // another symbol has its own clock
  const auto r = c.check(core::Trade{.symbol = "EURUSD", .price = d("1.5"), .size = d("1"), .ts_event = 99});
  REQUIRE(r);
  CHECK(*r == "ts_event 99 steps back from 100 (EURUSD)");
  // The flagged message does not move the clock back: 100 is still the latest time.
  CHECK(c.check(quote("EURUSD", "1", "2", 99)));
  CHECK_FALSE(c.check(quote("EURUSD", "1", "2", 101)));
  c.reset();
  CHECK_FALSE(c.check(quote("EURUSD", "1", "2", 5)));
}

TEST_CASE("a crossed quote still moves its symbol's time forward", "[core][market_check]") {
  core::MarketCheck c;
  CHECK(c.check(quote("X", "3", "2", 10)));
  const auto r = c.check(quote("X", "1", "2", 9));
  REQUIRE(r);
  CHECK(r->starts_with("ts_event 9 steps back from 10"));
}

TEST_CASE("a bar whose prices contradict each other is flagged", "[core][market_check]") {
  core::MarketCheck c;
  CHECK_FALSE(c.check(bar("10", "12", "9", "11", 1)));
  CHECK_FALSE(c.check(bar("9", "9", "9", "9", 2)));
  CHECK(*c.check(bar("10", "9", "11", "10", 3)) == "inconsistent bar: high 9 below low 11");
  CHECK(*c.check(bar("13", "12", "9", "11", 4)) == "inconsistent bar: open 13 above high 12");
  CHECK(*c.check(bar("8", "12", "9", "11", 5)) == "inconsistent bar: open 8 below low 9");
  CHECK(*c.check(bar("10", "12", "9", "13", 6)) == "inconsistent bar: close 13 above high 12");
  CHECK(*c.check(bar("10", "12", "9", "8", 7)) == "inconsistent bar: close 8 below low 9");
}
