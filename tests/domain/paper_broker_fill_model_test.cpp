// Paper broker's fill model: slippage in basis points rounded away from the trader,
// the seeded probabilities (prob_slippage, prob_fill_on_limit) and their determinism.
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "helpers.hpp"
#include "matching/fill_model.hpp"
#include "matching/paper_broker.hpp"

using core::ExecType;
using core::OrderStatus;
using core::OrderType;
using core::Side;
using core::TimeInForce;
using domain_test::types;
using domain_test::dec;
using domain_test::kDay0;
using domain_test::kSec;
using domain_test::quote;

namespace {

core::OrderSubmit order(std::string id, Side side, OrderType type, std::string_view qty,
                        std::optional<std::string_view> limit = std::nullopt,
                        std::optional<std::string_view> stop = std::nullopt, TimeInForce tif = TimeInForce::gtc) {
  core::OrderSubmit o{.client_order_id = std::move(id), .symbol = "EURUSD", .side = side, .order_type = type,
                      .quantity = dec(qty), .time_in_force = tif, .strategy_id = "test"};
  if (limit) o.limit_price = dec(*limit);
  if (stop) o.stop_price = dec(*stop);
  return o;
}

matching::BrokerConfig slippage(std::string_view bps, bool tick) {
  matching::BrokerConfig cfg{.slippage_bps = dec(bps)};
  if (tick) cfg.instruments["EURUSD"] = {.tick_size = dec("0.00001")};
  return cfg;
}

}  // namespace

// ---- slippage -------------------------------------------------------------------------------

TEST_CASE("market fills slip slippage_bps worse than the touch, rounded away from the trader",
          "[matching][slippage]") {
  struct Case {
    bool tick;
    Side side;
    std::string_view px;
  };
  // 3 bps of 1.38755 = 0.000416265; of 1.38742 = 0.000416226.
  const Case cases[] = {
      {false, Side::buy, "1.38796627"},   // 1.387966265 up to 8 digits
      {true, Side::buy, "1.38797"},       // up to the tick
      {false, Side::sell, "1.38700377"},  // 1.387003774 down to 8 digits
      {true, Side::sell, "1.387"},        // down to the tick
  };
  for (const auto& c : cases) {
    CAPTURE(c.tick, c.side);
    matching::PaperBroker broker(slippage("3", c.tick));
    (void)broker.on_quote(quote("EURUSD", "1.38742", "1.38755", kDay0));
    const auto out = broker.on_submit(order("m", c.side, OrderType::market, "1000"), kDay0);
    REQUIRE(out.size() == 2);
    CHECK(out[1].exec_type == ExecType::fill);
    CHECK(out[1].last_px == dec(c.px));
    CHECK(out[1].avg_px == dec(c.px));
  }
}

TEST_CASE("triggered stops slip, limit and stop_limit fills never do", "[matching][slippage]") {
  matching::PaperBroker broker(slippage("10", true));
  (void)broker.on_quote(quote("EURUSD", "1.00000", "1.00010", kDay0));
  (void)broker.on_submit(order("stop", Side::buy, OrderType::stop, "1", std::nullopt, "1.00050"), kDay0);
  (void)broker.on_submit(order("sl", Side::buy, OrderType::stop_limit, "1", "1.00100", "1.00050"), kDay0);
  (void)broker.on_submit(order("lim", Side::sell, OrderType::limit, "1", "1.00055"), kDay0);
  const auto marketable = broker.on_submit(order("ml", Side::buy, OrderType::limit, "1", "1.00020"), kDay0);
  REQUIRE(marketable.size() == 2);
  CHECK(marketable[1].last_px == dec("1.0001"));  // a marketable limit takes at the touch, no slippage

  const auto out = broker.on_quote(quote("EURUSD", "1.00060", "1.00070", kDay0 + kSec));
  REQUIRE(out.size() == 3);
  CHECK(out[0].client_order_id == "stop");
  CHECK(out[0].last_px == dec("1.00171"));  // 1.0007 + 10 bps (0.0010007) = 1.0017007, up to the tick
  CHECK(out[1].client_order_id == "sl");
  CHECK(out[1].last_px == dec("1.0007"));
  CHECK(out[2].client_order_id == "lim");
  CHECK(out[2].last_px == dec("1.0006"));
}

TEST_CASE("prob_slippage adds one tick with that probability, without a tick size it does nothing",
          "[matching][slippage]") {
  matching::BrokerConfig always{.prob_slippage = dec("1")};
  always.instruments["EURUSD"] = {.tick_size = dec("0.00001")};
  matching::PaperBroker broker(always);
  (void)broker.on_quote(quote("EURUSD", "1.38742", "1.38755", kDay0));
  CHECK(broker.on_submit(order("b", Side::buy, OrderType::market, "1"), kDay0).at(1).last_px == dec("1.38756"));
  CHECK(broker.on_submit(order("s", Side::sell, OrderType::market, "1"), kDay0).at(1).last_px == dec("1.38741"));

  matching::PaperBroker no_tick(matching::BrokerConfig{.prob_slippage = dec("1")});
  (void)no_tick.on_quote(quote("EURUSD", "1.38742", "1.38755", kDay0));
  CHECK(no_tick.on_submit(order("b", Side::buy, OrderType::market, "1"), kDay0).at(1).last_px == dec("1.38755"));

  // Half the fills slip, the other half do not (10,000 draws: within 5 sigma of 5000).
  matching::BrokerConfig half{.prob_slippage = dec("0.5"), .random_seed = 42};
  half.instruments["EURUSD"] = {.tick_size = dec("0.00001")};
  matching::PaperBroker coin(half);
  (void)coin.on_quote(quote("EURUSD", "1.38742", "1.38755", kDay0));
  int slipped = 0;
  for (int i = 0; i < 10'000; ++i) {
    const auto out = coin.on_submit(order(fmt::format("m{}", i), Side::buy, OrderType::market, "1"), kDay0);
    slipped += out.at(1).last_px == dec("1.38756") ? 1 : 0;
  }
  CHECK(slipped > 5000 - 250);
  CHECK(slipped < 5000 + 250);
}

TEST_CASE("slippage applies to every fill of a market order working across quotes and shows in avg_px and commission",
          "[matching][slippage][commission]") {
  matching::BrokerConfig cfg = slippage("100", false);  // 1 %
  cfg.commission_bps = dec("10");
  matching::PaperBroker broker(cfg);
  auto q = quote("EURUSD", "9", "10", kDay0);
  q.ask_size = dec("1");
  q.bid_size = dec("1");
  (void)broker.on_quote(q);
  const auto first = broker.on_submit(order("m", Side::buy, OrderType::market, "2", std::nullopt, std::nullopt,
                                            TimeInForce::day),
                                      kDay0);
  REQUIRE(first.size() == 2);
  CHECK(first[1].last_px == dec("10.1"));
  CHECK(first[1].commission == dec("0.0101"));  // 10.1 x 10 bps
  auto q2 = quote("EURUSD", "19", "20", kDay0 + 1);
  q2.ask_size = dec("5");
  const auto second = broker.on_quote(q2);
  REQUIRE(second.size() == 1);
  CHECK(second[0].last_px == dec("20.2"));
  CHECK(second[0].avg_px == dec("15.15"));
}

// ---- prob_fill_on_limit ---------------------------------------------------------------------

TEST_CASE("prob_fill_on_limit 0: a resting limit the market only touches never fills, through it always does",
          "[matching][fill-model]") {
  matching::PaperBroker broker(matching::BrokerConfig{.prob_fill_on_limit = dec("0")});
  (void)broker.on_quote(quote("EURUSD", "1.00", "1.01", kDay0));
  (void)broker.on_submit(order("b", Side::buy, OrderType::limit, "1", "0.99"), kDay0);
  (void)broker.on_submit(order("s", Side::sell, OrderType::limit, "1", "1.03"), kDay0);
  for (int i = 1; i <= 50; ++i) {
    CHECK(broker.on_quote(quote("EURUSD", "0.98", "0.99", kDay0 + i)).empty());  // ask AT the buy limit
    CHECK(broker.on_trade(core::Trade{.symbol = "EURUSD", .price = dec("1.03"), .size = dec("5"),
                                      .ts_event = kDay0 + i})
              .empty());  // print AT the sell limit
  }
  const auto through = broker.on_quote(quote("EURUSD", "0.97", "0.98", kDay0 + 100));
  CHECK(types(through) == std::vector{ExecType::fill});
  CHECK(through[0].last_px == dec("0.98"));
  const auto print = broker.on_trade(core::Trade{.symbol = "EURUSD", .price = dec("1.031"), .size = dec("5"),
                                                 .ts_event = kDay0 + 101});
  CHECK(types(print) == std::vector{ExecType::fill});
  CHECK(print[0].last_px == dec("1.03"));

  // An order arriving at exactly the touch takes liquidity: it fills whatever the model.
  const auto taker = broker.on_submit(order("t", Side::buy, OrderType::limit, "1", "0.98"), kDay0 + 102);
  CHECK(types(taker) == std::vector{ExecType::new_, ExecType::fill});
}

TEST_CASE("prob_fill_on_limit between 0 and 1: a touched resting limit fills on some touches, seeded",
          "[matching][fill-model]") {
  const auto run = [](std::uint64_t seed) {
    matching::PaperBroker broker(matching::BrokerConfig{.prob_fill_on_limit = dec("0.2"), .random_seed = seed});
    CHECK(broker.random_seed() == seed);
    (void)broker.on_quote(quote("EURUSD", "1.00", "1.01", kDay0));
    std::vector<core::ExecutionReport> all;
    for (int i = 0; i < 200; ++i) {
      const auto id = fmt::format("b{}", i);
      const auto a = broker.on_submit(order(id, Side::buy, OrderType::limit, "1", "0.995"), kDay0 + 2 * i);
      const auto b = broker.on_quote(quote("EURUSD", "0.99", "0.995", kDay0 + 2 * i + 1));  // touches it
      const auto c = broker.on_quote(quote("EURUSD", "1.00", "1.01", kDay0 + 2 * i + 1));
      all.insert(all.end(), a.begin(), a.end());
      all.insert(all.end(), b.begin(), b.end());
      all.insert(all.end(), c.begin(), c.end());
    }
    return all;
  };
  const auto a = run(7);
  const auto again = run(7);
  const auto other = run(8);
  CHECK(a == again);  // same seed, same inputs: identical reports
  CHECK(a != other);
  std::size_t fills = 0;
  for (const auto& r : a) fills += r.exec_type == ExecType::fill ? 1 : 0;
  // Every touch draws for each working order; most orders fill within a few touches.
  CHECK(fills > 150);
  CHECK(fills < 200);
}

TEST_CASE("default probabilities use no randomness: any seed gives the same reports", "[matching][fill-model]") {
  const auto run = [](std::uint64_t seed) {
    matching::PaperBroker broker(matching::BrokerConfig{.random_seed = seed});
    std::vector<core::ExecutionReport> all;
    (void)broker.on_quote(quote("EURUSD", "1.00", "1.01", kDay0));
    for (int i = 0; i < 20; ++i) {
      auto a = broker.on_submit(order(fmt::format("o{}", i), i % 2 ? Side::buy : Side::sell, OrderType::limit, "1",
                                      i % 2 ? "0.99" : "1.02"),
                                kDay0 + i);
      auto b = broker.on_quote(quote("EURUSD", i % 2 ? "0.98" : "1.02", i % 2 ? "0.99" : "1.03", kDay0 + i));
      all.insert(all.end(), a.begin(), a.end());
      all.insert(all.end(), b.begin(), b.end());
    }
    return all;
  };
  CHECK(run(1) == run(123456789));
}

// ---- the generator and configuration --------------------------------------------------------

TEST_CASE("splitmix64 gives the reference sequence", "[matching][fill-model]") {
  // The published test vector of Vigna's splitmix64.c for seed 1234567.
  matching::SplitMix64 g(1234567);
  CHECK(g.next() == 6457827717110365317ULL);
  CHECK(g.next() == 3203168211198807973ULL);
  CHECK(g.next() == 9817491932198370423ULL);
  CHECK(g.next() == 4593380528125082431ULL);
  CHECK(g.next() == 16408922859458223821ULL);
}

TEST_CASE("round_up_to and round_down_to snap to the step", "[matching][fill-model]") {
  CHECK(matching::round_up_to(dec("1.000001"), dec("0.00001")) == dec("1.00001"));
  CHECK(matching::round_up_to(dec("1.00001"), dec("0.00001")) == dec("1.00001"));
  CHECK(matching::round_down_to(dec("1.000019"), dec("0.00001")) == dec("1.00001"));
  CHECK(matching::round_down_to(dec("-1.000001"), dec("0.00001")) == dec("-1.00001"));
  CHECK(matching::round_up_to(dec("-1.000001"), dec("0.00001")) == dec("-1"));
}

TEST_CASE("fill-model settings out of range are refused", "[matching][fill-model]") {
  CHECK(matching::validate(matching::BrokerConfig{.latency_ns = -1}) ==
        std::optional<std::string>("latency_ns -1 must not be negative"));
  CHECK(matching::validate(matching::BrokerConfig{.slippage_bps = dec("-0.1")}) ==
        std::optional<std::string>("slippage_bps -0.1 must be at least 0 and below 10000"));
  CHECK(matching::validate(matching::BrokerConfig{.slippage_bps = dec("10000")}).has_value());
  CHECK(matching::validate(matching::BrokerConfig{.prob_slippage = dec("1.01")}) ==
        std::optional<std::string>("prob_slippage 1.01 must be between 0 and 1"));
  CHECK(matching::validate(matching::BrokerConfig{.prob_fill_on_limit = dec("-1")}) ==
        std::optional<std::string>("prob_fill_on_limit -1 must be between 0 and 1"));
  CHECK_THROWS_AS(matching::PaperBroker(matching::BrokerConfig{.prob_slippage = dec("2")}), std::invalid_argument);
  CHECK_FALSE(matching::validate(matching::BrokerConfig{.slippage_bps = dec("9999.99999999"),
                                                        .prob_slippage = dec("1"), .prob_fill_on_limit = dec("0")})
                  .has_value());
}
