// Paper broker on bars: the OHLC path (open, the nearer of high and low, the other,
// close; NautilusTrader's adaptive ordering), limits filled at their price inside the
// range, stops at their stop price when the path crosses them, at the open on a gap.
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "helpers.hpp"
#include "matching/paper_broker.hpp"

using core::ExecType;
using core::OrderStatus;
using core::OrderType;
using core::PriceType;
using core::Side;
using core::TimeInForce;
using domain_test::types;
using domain_test::dec;
using domain_test::kDay0;
using domain_test::kSec;

namespace {

constexpr core::TimestampNs kMin = 60 * kSec;

core::Bar ohlc(std::string_view o, std::string_view h, std::string_view l, std::string_view c, core::TimestampNs end,
               PriceType type = PriceType::trade, std::string symbol = "SPY") {
  return core::Bar{.symbol = std::move(symbol), .open = dec(o), .high = dec(h), .low = dec(l), .close = dec(c),
                   .price_type = type, .ts_start = end - kMin, .ts_event = end};
}

core::OrderSubmit order(std::string id, Side side, OrderType type, std::optional<std::string_view> limit = std::nullopt,
                        std::optional<std::string_view> stop = std::nullopt, TimeInForce tif = TimeInForce::gtc,
                        std::string symbol = "SPY", std::string_view qty = "1000000") {
  core::OrderSubmit o{.client_order_id = std::move(id), .symbol = std::move(symbol), .side = side, .order_type = type,
                      .quantity = dec(qty), .time_in_force = tif, .strategy_id = "test"};
  if (limit) o.limit_price = dec(*limit);
  if (stop) o.stop_price = dec(*stop);
  return o;
}

std::vector<std::string> ids(const std::vector<core::ExecutionReport>& out) {
  std::vector<std::string> t;
  for (const auto& r : out) t.push_back(r.client_order_id);
  return t;
}

/// A broker whose SPY book stands at 100 (a flat bar: both sides, no quote).
matching::PaperBroker at_100(matching::BrokerConfig cfg = {}) {
  matching::PaperBroker broker(std::move(cfg));
  REQUIRE(broker.on_bar(ohlc("100", "100", "100", "100", kDay0 + kMin)).empty());
  return broker;
}

}  // namespace

TEST_CASE("the bar path visits the extreme nearer the open first, on a tie the high", "[matching][bars]") {
  struct Case {
    std::string_view o, h, l, c;
    std::vector<std::string> order;
  };
  const Case cases[] = {
      {"100", "101", "95", "99", {"sell", "buy"}},  // high nearer: O H L C
      {"100", "105", "99", "101", {"buy", "sell"}},  // low nearer: O L H C
      {"100", "103", "97", "100", {"sell", "buy"}},  // tie: high first
  };
  for (const auto& c : cases) {
    CAPTURE(c.o, c.h, c.l, c.c);
    auto broker = at_100();
    (void)broker.on_submit(order("buy", Side::buy, OrderType::limit, "99.5"), kDay0 + kMin);
    (void)broker.on_submit(order("sell", Side::sell, OrderType::limit, "100.5"), kDay0 + kMin);
    const auto out = broker.on_bar(ohlc(c.o, c.h, c.l, c.c, kDay0 + 2 * kMin));
    CHECK(types(out) == std::vector{ExecType::fill, ExecType::fill});
    CHECK(ids(out) == c.order);
    for (const auto& r : out) {
      CHECK(r.last_px == r.limit_price);  // inside the range: at the limit, not at the extreme
      CHECK(r.ts_event == kDay0 + 2 * kMin);  // the bar's end
    }
  }
}

TEST_CASE("a limit inside the bar's range fills at its limit price with unlimited size, outside it works on",
          "[matching][bars]") {
  auto broker = at_100();
  (void)broker.on_submit(order("in", Side::buy, OrderType::limit, "98.25", std::nullopt, TimeInForce::gtc, "SPY",
                               "123456789"),
                         kDay0 + kMin);
  (void)broker.on_submit(order("out", Side::buy, OrderType::limit, "97.99"), kDay0 + kMin);
  (void)broker.on_submit(order("sell", Side::sell, OrderType::limit, "102.01"), kDay0 + kMin);
  const auto out = broker.on_bar(ohlc("100", "102", "98", "101", kDay0 + 2 * kMin));
  REQUIRE(out.size() == 1);
  CHECK(out[0].client_order_id == "in");
  CHECK(out[0].exec_type == ExecType::fill);
  CHECK(out[0].last_qty == dec("123456789"));
  CHECK(out[0].last_px == dec("98.25"));
  CHECK(broker.open_orders() == 2);
}

TEST_CASE("a limit exactly at the bar's extreme is a touch: prob_fill_on_limit decides, through it always fills",
          "[matching][bars][fill-model]") {
  for (const auto* p : {"1", "0"}) {
    CAPTURE(p);
    auto broker = at_100(matching::BrokerConfig{.prob_fill_on_limit = dec(p)});
    (void)broker.on_submit(order("at", Side::buy, OrderType::limit, "98"), kDay0 + kMin);
    (void)broker.on_submit(order("through", Side::buy, OrderType::limit, "98.01"), kDay0 + kMin);
    const auto out = broker.on_bar(ohlc("100", "102", "98", "101", kDay0 + 2 * kMin));
    if (std::string_view(p) == "1") {
      CHECK(ids(out) == std::vector<std::string>{"at", "through"});
    } else {
      CHECK(ids(out) == std::vector<std::string>{"through"});
    }
  }
}

TEST_CASE("a gap at the open: a stop fills at the open (worse), a resting limit at its limit (never better)",
          "[matching][bars]") {
  auto broker = at_100();
  (void)broker.on_submit(order("lim", Side::buy, OrderType::limit, "99"), kDay0 + kMin);
  (void)broker.on_submit(order("stop", Side::sell, OrderType::stop, std::nullopt, "99.5"), kDay0 + kMin);
  const auto out = broker.on_bar(ohlc("97", "98", "96", "97.5", kDay0 + 2 * kMin));
  REQUIRE(out.size() == 2);
  CHECK(out[0].client_order_id == "lim");
  CHECK(out[0].last_px == dec("99"));
  CHECK(out[1].client_order_id == "stop");
  CHECK(out[1].last_px == dec("97"));
  // An order that arrives marketable takes the standing price, as on a quote.
  const auto taker = broker.on_submit(order("t", Side::buy, OrderType::limit, "98"), kDay0 + 2 * kMin);
  REQUIRE(taker.size() == 2);
  CHECK(taker[1].last_px == dec("97.5"));  // the standing close
}

TEST_CASE("a stop the path crosses triggers at the first point that reaches it and fills at its stop price",
          "[matching][bars][stop]") {
  SECTION("buy stop on the way up (low first)") {
    auto broker = at_100(matching::BrokerConfig{.slippage_bps = dec("10")});
    (void)broker.on_submit(order("s", Side::buy, OrderType::stop, std::nullopt, "102"), kDay0 + kMin);
    // O 100, L 99.5, H 103, C 101: crossed between 99.5 and 103, at 102; +10 bps slippage.
    const auto out = broker.on_bar(ohlc("100", "103", "99.5", "101", kDay0 + 2 * kMin));
    REQUIRE(out.size() == 1);
    CHECK(out[0].exec_type == ExecType::fill);
    CHECK(out[0].last_px == dec("102.102"));
  }
  SECTION("sell stop on the way down (high first)") {
    auto broker = at_100();
    (void)broker.on_submit(order("s", Side::sell, OrderType::stop, std::nullopt, "99"), kDay0 + kMin);
    const auto out = broker.on_bar(ohlc("100", "101", "98", "100", kDay0 + 2 * kMin));
    REQUIRE(out.size() == 1);
    CHECK(out[0].last_px == dec("99"));
  }
  SECTION("stop_limit: triggered at the stop, fills there when the limit allows") {
    auto broker = at_100();
    (void)broker.on_submit(order("sl", Side::buy, OrderType::stop_limit, "102.5", "102"), kDay0 + kMin);
    const auto out = broker.on_bar(ohlc("100", "103", "99.5", "101", kDay0 + 2 * kMin));
    REQUIRE(out.size() == 1);
    CHECK(out[0].last_px == dec("102"));
  }
  SECTION("stop_limit with the limit below the stop: triggered going up, filled at the limit coming down") {
    auto broker = at_100();
    (void)broker.on_submit(order("sl", Side::buy, OrderType::stop_limit, "101.5", "102"), kDay0 + kMin);
    // O 100, L 99.5, H 103 (triggered at 102, 102 > 101.5), C 101 (crosses 101.5).
    const auto out = broker.on_bar(ohlc("100", "103", "99.5", "101", kDay0 + 2 * kMin));
    REQUIRE(out.size() == 1);
    CHECK(out[0].last_px == dec("101.5"));
  }
  SECTION("a stop the path does not reach stays untriggered") {
    auto broker = at_100();
    (void)broker.on_submit(order("s", Side::buy, OrderType::stop, std::nullopt, "103.01"), kDay0 + kMin);
    CHECK(broker.on_bar(ohlc("100", "103", "99.5", "101", kDay0 + 2 * kMin)).empty());
    CHECK(broker.open_orders() == 1);
  }
}

TEST_CASE("orders in flight reach the market at the bar's open, market orders fill there", "[matching][bars][latency]") {
  matching::BrokerConfig cfg{.latency_ns = kSec};
  auto broker = at_100(cfg);
  CHECK(broker.on_submit(order("m", Side::buy, OrderType::market, std::nullopt, std::nullopt, TimeInForce::day),
                         kDay0 + kMin)
            .empty());
  CHECK(broker.on_submit(order("l", Side::sell, OrderType::limit, "104"), kDay0 + kMin).empty());
  const auto out = broker.on_bar(ohlc("101", "105", "100.5", "102", kDay0 + 2 * kMin));
  CHECK(types(out) == std::vector{ExecType::new_, ExecType::fill, ExecType::new_, ExecType::fill});
  CHECK(out[1].last_px == dec("101"));  // the open, not the last close (100)
  CHECK(out[3].last_px == dec("104"));  // rested at the open, filled inside the range
}

TEST_CASE("expiry is checked once per bar, before its path", "[matching][bars][expiry]") {
  auto broker = at_100();
  auto gtd = order("gtd", Side::buy, OrderType::limit, "99", std::nullopt, TimeInForce::gtd);
  gtd.expire_time = kDay0 + 2 * kMin - kSec;  // inside the next bar's span
  (void)broker.on_submit(gtd, kDay0 + kMin);
  (void)broker.on_submit(order("day", Side::buy, OrderType::limit, "99", std::nullopt, TimeInForce::day), kDay0 + kMin);
  (void)broker.on_submit(order("gtc", Side::buy, OrderType::limit, "99"), kDay0 + kMin);
  const auto out = broker.on_bar(ohlc("100", "100", "98", "99", kDay0 + 2 * kMin));
  CHECK(types(out) == std::vector{ExecType::expired, ExecType::fill, ExecType::fill});
  CHECK(ids(out) == std::vector<std::string>{"gtd", "day", "gtc"});
  (void)broker.on_submit(order("day2", Side::buy, OrderType::limit, "90", std::nullopt, TimeInForce::day),
                         kDay0 + 2 * kMin);
  const auto next_day = broker.on_bar(ohlc("99", "99", "80", "85", kDay0 + core::kNsPerDay + kMin));
  CHECK(types(next_day) == std::vector{ExecType::expired});
}

TEST_CASE("bid and ask bars move their side along the path, the other side's orders see only the open",
          "[matching][bars]") {
  matching::PaperBroker broker;
  const auto bid = [](std::string_view o, std::string_view h, std::string_view l, std::string_view c,
                      core::TimestampNs end) { return ohlc(o, h, l, c, end, PriceType::bid, "GBPUSD"); };
  const auto ask = [](std::string_view o, std::string_view h, std::string_view l, std::string_view c,
                      core::TimestampNs end) { return ohlc(o, h, l, c, end, PriceType::ask, "GBPUSD"); };
  (void)broker.on_bar(bid("1.57597", "1.57606", "1.57576", "1.57576", kDay0 + kMin));
  (void)broker.on_bar(ask("1.57608", "1.57610", "1.57585", "1.57585", kDay0 + kMin));
  const auto gbp = [](std::string id, Side side, OrderType type, std::optional<std::string_view> limit,
                      std::optional<std::string_view> stop) {
    return order(std::move(id), side, type, limit, stop, TimeInForce::gtc, "GBPUSD", "1000");
  };
  (void)broker.on_submit(gbp("sell", Side::sell, OrderType::limit, "1.57600", std::nullopt), kDay0 + kMin);
  (void)broker.on_submit(gbp("buy", Side::buy, OrderType::limit, "1.57560", std::nullopt), kDay0 + kMin);
  (void)broker.on_submit(gbp("sstop", Side::sell, OrderType::stop, std::nullopt, "1.57550"), kDay0 + kMin);

  // The bid goes 1.57576 -> 1.57601 (high) -> 1.57540 (low) -> 1.57560. The buy limit
  // needs the ask, which this bar does not move.
  const auto b = broker.on_bar(bid("1.57576", "1.57601", "1.57540", "1.57560", kDay0 + 2 * kMin));
  CHECK(ids(b) == std::vector<std::string>{"sell", "sstop"});
  CHECK(b.at(0).last_px == dec("1.576"));    // the sell limit, inside the bid's range
  CHECK(b.at(1).last_px == dec("1.5755"));   // the sell stop at its stop price
  // The ask bar reaches the buy limit.
  const auto a = broker.on_bar(ask("1.57585", "1.57590", "1.57555", "1.57570", kDay0 + 2 * kMin));
  CHECK(ids(a) == std::vector<std::string>{"buy"});
  CHECK(a.at(0).last_px == dec("1.5756"));
}

TEST_CASE("a trade bar on a quoted symbol leaves the book alone: its points fill limits they reach, stops wait",
          "[matching][bars][trades]") {
  matching::PaperBroker broker;
  (void)broker.on_quote(domain_test::quote("SPY", "100", "100.01", kDay0));
  (void)broker.on_submit(order("lim", Side::buy, OrderType::limit, "99"), kDay0);
  (void)broker.on_submit(order("stop", Side::sell, OrderType::stop, std::nullopt, "98.5"), kDay0);
  const auto out = broker.on_bar(ohlc("100", "100.5", "98", "99.5", kDay0 + kMin));
  REQUIRE(out.size() == 1);
  CHECK(out[0].client_order_id == "lim");
  CHECK(out[0].last_px == dec("99"));
  CHECK(out[0].last_qty == dec("1000000"));  // bars have no size limit
  CHECK(broker.order_status("stop") == OrderStatus::new_);
}

TEST_CASE("a bar during a halt moves the book to its close and fills nothing", "[matching][bars][halt]") {
  auto broker = at_100();
  (void)broker.on_submit(order("lim", Side::buy, OrderType::limit, "99"), kDay0 + kMin);
  (void)broker.on_status({.symbol = "SPY", .status = core::InstrumentState::halted, .ts_event = kDay0 + kMin});
  CHECK(broker.on_bar(ohlc("100", "100", "95", "98", kDay0 + 2 * kMin)).empty());
  const auto resume = broker.on_status({.symbol = "SPY", .status = core::InstrumentState::trading,
                                        .ts_event = kDay0 + 2 * kMin});
  REQUIRE(resume.size() == 1);
  CHECK(resume[0].last_px == dec("98"));  // against the close the halt left
}

TEST_CASE("a year of MSFT daily bars: limits fill at their price inside each bar's range, stops at theirs or the open",
          "[matching][bars][replay]") {
  std::ifstream in(domain_test::shared_data_dir() + "bars_1d_MSFT_2000-09-27_to_2001-09-27.csv");
  std::string line;
  {
    INFO("set TRADER_SHARED_DATA to the shared/data directory");
    REQUIRE(in.is_open());
    std::getline(in, line);
    REQUIRE(line == "date,symbol,open,high,low,close,volume");
  }
  matching::PaperBroker broker;
  core::TimestampNs ts = kDay0;
  std::size_t fills = 0, stop_fills = 0, n = 0;
  while (std::getline(in, line)) {
    const auto f = domain_test::split_csv(line);
    REQUIRE(f.size() == 7);
    ts += core::kNsPerDay;
    auto b = core::Bar{.symbol = "MSFT", .open = dec(f[2]), .high = dec(f[3]), .low = dec(f[4]), .close = dec(f[5]),
                       .ts_event = ts};
    for (const auto& r : broker.on_bar(b)) {
      INFO(line << " " << r.client_order_id);
      REQUIRE((r.exec_type == ExecType::fill || r.exec_type == ExecType::expired));
      if (r.exec_type != ExecType::fill) continue;
      ++fills;
      // Stops fill at a price the bar traded at (inside [low, high]): their stop, or
      // the open on a gap.
      if (r.order_type == OrderType::stop) {
        CHECK(r.last_px >= b.low);
        CHECK(r.last_px <= b.high);
      }
      if (r.order_type == OrderType::limit) {
        CHECK(r.last_px == *r.limit_price);  // resting limits fill at their limit, gap or not
      } else {
        ++stop_fills;
        if (r.last_px != b.open) CHECK(r.last_px == *r.stop_price);
      }
    }
    // After each close: a buy limit 2 % under it and a sell stop 3 % under it, good for
    // the next bar only (gtd: they expire before the path of the bar after).
    const auto id = fmt::format("{}", n++);
    const auto px = [&](std::string_view pct) {
      return matching::round_down_to(mul(b.close, dec(pct)), dec("0.01"));
    };
    auto buy = order("b" + id, Side::buy, OrderType::limit, std::nullopt, std::nullopt, TimeInForce::gtd, "MSFT", "100");
    buy.limit_price = px("0.98");
    buy.expire_time = ts + core::kNsPerDay + 1;
    auto stop = buy;
    stop.client_order_id = "s" + id;
    stop.side = Side::sell;
    stop.order_type = OrderType::stop;
    stop.limit_price.reset();
    stop.stop_price = px("0.97");
    CHECK(types(broker.on_submit(buy, ts)) == std::vector{ExecType::new_});
    CHECK(types(broker.on_submit(stop, ts)) == std::vector{ExecType::new_});
  }
  CHECK(n == 249);
  CHECK(fills > 50);
  CHECK(stop_fills > 20);
}
