// mean_reversion (strategy/mean_reversion.hpp): given bar closes and reports -> its limit
// entry at the lower band, the entry following the band (replace), cancelled when stale or
// when the signal is gone, and the exit at the mean.
#include "strategy/mean_reversion.hpp"

#include "helpers.hpp"

using core::Side;
using domain_test::dec;
using domain_test::kDay0;

namespace {

struct Fixture {
  strategy::MeanReversion* strat = nullptr;
  strategy::Runner run;
  std::uint64_t seq = 0;
  explicit Fixture(strategy::MeanReversionConfig cfg) : run(make(cfg)) {}
  strategy::Runner make(strategy::MeanReversionConfig cfg) {
    auto s = std::make_unique<strategy::MeanReversion>(cfg);
    strat = s.get();
    return strategy::Runner("mr", std::move(s));
  }
  std::vector<core::OrderCommand> close(std::string_view px) {
    ++seq;
    return run.on_market(domain_test::bar("SPY", px, core::PriceType::trade, kDay0 + static_cast<core::TimestampNs>(seq)),
                         seq);
  }
};

strategy::MeanReversionConfig cfg() {
  return {.window = 4, .k = dec("1"), .quantity = dec("10"), .max_bars = 2, .tick = dec("0.01")};
}

}  // namespace

TEST_CASE("mean_reversion buys at the lower band, follows it, and cancels an entry left unfilled for max_bars",
          "[strategy][mean_reversion]") {
  Fixture f(cfg());
  for (const auto* px : {"100", "100", "100"}) CHECK(f.close(px).empty());
  CHECK(f.close("100").empty());  // mean 100, mad 0: 100 is not below the band
  // [100 100 100 90]: mean 97.5, mad (2.5 * 3 + 7.5) / 4 = 3.75, lower 93.75 > 90.
  auto out = f.close("90");
  REQUIRE(out.size() == 1);
  const auto entry = std::get<core::OrderSubmit>(out[0]);
  CHECK(entry.side == Side::buy);
  CHECK(entry.order_type == core::OrderType::limit);
  CHECK(entry.limit_price == dec("93.75"));
  CHECK(entry.quantity == dec("10"));
  CHECK(entry.time_in_force == core::TimeInForce::gtc);
  REQUIRE(f.strat->bands("SPY"));
  CHECK(f.strat->bands("SPY")->mad == dec("3.75"));
  // [100 100 90 89]: mean 94.75, mad (5.25 + 5.25 + 4.75 + 5.75) / 4 = 5.25, lower 89.5: the entry follows.
  out = f.close("89");
  REQUIRE(out.size() == 1);
  const auto moved = std::get<core::OrderReplace>(out[0]);
  CHECK(moved.orig_client_order_id == entry.client_order_id);
  CHECK(moved.limit_price == dec("89.5"));
  CHECK_FALSE(moved.quantity);
  auto rep = domain_test::fill(moved.client_order_id, "SPY", Side::buy, "10", "0", kDay0, "mr");
  rep.exec_type = core::ExecType::replaced;
  rep.order_status = core::OrderStatus::new_;
  rep.last_qty = {};
  rep.cum_qty = {};
  rep.order_type = core::OrderType::limit;
  rep.limit_price = dec("89.5");
  rep.orig_client_order_id = entry.client_order_id;
  f.run.on_execution(rep);
  // Second close since it was sent (max_bars 2): cancelled, still far below the mean.
  out = f.close("88");
  REQUIRE(out.size() == 1);
  CHECK(std::get<core::OrderCancel>(out[0]).client_order_id == moved.client_order_id);
}

TEST_CASE("mean_reversion cancels its entry when the close is back inside the band, and exits at the mean",
          "[strategy][mean_reversion]") {
  Fixture f(cfg());
  for (const auto* px : {"100", "100", "100", "100"}) CHECK(f.close(px).empty());
  auto out = f.close("90");
  REQUIRE(out.size() == 1);
  const auto entry = std::get<core::OrderSubmit>(out[0]);
  // [100 100 90 99]: mean 97.25, mad 3.625, lower 93.625 -> 93.62 <= 99: the signal is gone.
  out = f.close("99");
  REQUIRE(out.size() == 1);
  CHECK(std::get<core::OrderCancel>(out[0]).client_order_id == entry.client_order_id);

  // Another entry, filled: then a sell at the mean for the position, in the same bar as nothing else.
  Fixture g(cfg());
  for (const auto* px : {"100", "100", "100", "100"}) CHECK(g.close(px).empty());
  const auto e2 = std::get<core::OrderSubmit>(g.close("90").at(0));
  g.run.on_execution(domain_test::fill(e2.client_order_id, "SPY", Side::buy, "10", "93.75", kDay0, "mr"));
  // [100 100 90 91]: mean 95.25, exit ceil(95.25) = 95.25.
  out = g.close("91");
  REQUIRE(out.size() == 1);
  const auto exit = std::get<core::OrderSubmit>(out[0]);
  CHECK(exit.side == Side::sell);
  CHECK(exit.quantity == dec("10"));
  CHECK(exit.limit_price == dec("95.25"));
  // The mean moves ([100 90 91 92]: 93.25): the exit follows it (replace), and a new entry
  // is not sent while there is a position.
  out = g.close("92");
  REQUIRE(out.size() == 1);
  const auto follow = std::get<core::OrderReplace>(out[0]);
  CHECK(follow.orig_client_order_id == exit.client_order_id);
  CHECK(follow.limit_price == dec("93.25"));
  CHECK(follow.quantity == dec("10"));
}

TEST_CASE("mean_reversion sends a replace and a new order in one bar when its entry is partly filled",
          "[strategy][mean_reversion]") {
  Fixture f(cfg());
  for (const auto* px : {"100", "100", "100", "100"}) CHECK(f.close(px).empty());
  const auto entry = std::get<core::OrderSubmit>(f.close("90").at(0));
  auto part = domain_test::fill(entry.client_order_id, "SPY", Side::buy, "10", "93.75", kDay0, "mr");
  part.exec_type = core::ExecType::partial_fill;
  part.order_status = core::OrderStatus::partially_filled;
  part.last_qty = dec("4");
  part.cum_qty = dec("4");
  f.run.on_execution(part);
  // [100 100 90 80]: mean 92.5, mad (7.5 + 7.5 + 2.5 + 12.5) / 4 = 7.5, lower 85 > 80 (still a
  // signal): the entry follows the band; position 4 -> the exit for 4 at the mean.
  auto out = f.close("80");
  REQUIRE(out.size() == 2);
  CHECK(std::get<core::OrderReplace>(out[0]).limit_price == dec("85"));
  CHECK(std::get<core::OrderSubmit>(out[1]).quantity == dec("4"));
  CHECK(std::get<core::OrderSubmit>(out[1]).limit_price == dec("92.5"));
}
