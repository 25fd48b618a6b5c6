// Paper broker, the venue's own refusals: instrument reference data (unknown symbols,
// tick and lot sizes) and instrument halts (on_status).
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "helpers.hpp"
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
                        std::optional<std::string_view> stop = std::nullopt, TimeInForce tif = TimeInForce::gtc,
                        std::string symbol = "EURUSD") {
  core::OrderSubmit o{.client_order_id = std::move(id), .symbol = std::move(symbol), .side = side,
                      .order_type = type, .quantity = dec(qty), .time_in_force = tif, .strategy_id = "test"};
  if (limit) o.limit_price = dec(*limit);
  if (stop) o.stop_price = dec(*stop);
  return o;
}

matching::BrokerConfig with_instruments() {
  matching::BrokerConfig cfg;
  cfg.instruments["EURUSD"] = {.symbol = "EURUSD", .tick_size = dec("0.00001"), .lot_size = dec("1000")};
  cfg.instruments["IBM"] = {.tick_size = dec("0.01")};  // symbol "" = the key; no lot size
  cfg.instruments["BTCUSDT"] = {.symbol = "BTCUSDT"};   // known, nothing checked
  return cfg;
}

core::InstrumentStatus status(std::string symbol, core::InstrumentState st, std::string reason, core::TimestampNs ts) {
  return core::InstrumentStatus{.symbol = std::move(symbol), .status = st, .reason = std::move(reason), .ts_event = ts};
}

}  // namespace

// ---- reference data ------------------------------------------------------------------------

TEST_CASE("with instruments configured an unknown symbol is rejected, without any every symbol is accepted",
          "[matching][instruments]") {
  matching::PaperBroker broker(with_instruments());
  const auto out = broker.on_submit(order("x", Side::buy, OrderType::limit, "1", "10", std::nullopt,
                                          TimeInForce::gtc, "GBPUSD"),
                                    kDay0);
  REQUIRE(out.size() == 1);
  CHECK(out[0].exec_type == ExecType::rejected);
  CHECK(out[0].order_status == OrderStatus::rejected);
  CHECK(out[0].text == "unknown symbol GBPUSD");
  CHECK(out[0].leaves_qty.is_zero());
  CHECK(out[0].ts_event == kDay0);
  CHECK(broker.order_status("x") == OrderStatus::rejected);

  const auto btc = broker.on_submit(order("b", Side::buy, OrderType::limit, "0.0001", "9000.123456", std::nullopt,
                                          TimeInForce::gtc, "BTCUSDT"),
                                    kDay0);
  CHECK(types(btc) == std::vector{ExecType::new_});  // known, no tick or lot size: anything goes

  matching::PaperBroker open_venue;
  const auto any = open_venue.on_submit(order("y", Side::buy, OrderType::limit, "1.5", "1.234567", std::nullopt,
                                              TimeInForce::gtc, "ANYTHING"),
                                        kDay0);
  CHECK(types(any) == std::vector{ExecType::new_});
}

TEST_CASE("prices off the tick size and quantities off the lot size are rejected with the values",
          "[matching][instruments]") {
  matching::PaperBroker broker(with_instruments());
  (void)broker.on_quote(quote("EURUSD", "1.38742", "1.38755", kDay0));
  struct Case {
    core::OrderSubmit o;
    std::string_view text;
  };
  const Case cases[] = {
      {order("a", Side::buy, OrderType::limit, "1000", "1.387425"), "limit_price 1.387425 is not a multiple of tick size 0.00001"},
      {order("b", Side::sell, OrderType::stop, "1000", std::nullopt, "1.3800001"),
       "stop_price 1.3800001 is not a multiple of tick size 0.00001"},
      {order("c", Side::buy, OrderType::stop_limit, "1000", "1.39", "1.389995"),
       "stop_price 1.389995 is not a multiple of tick size 0.00001"},
      {order("d", Side::buy, OrderType::stop_limit, "1000", "1.390005", "1.389"),
       "limit_price 1.390005 is not a multiple of tick size 0.00001"},
      {order("e", Side::buy, OrderType::market, "1500"), "quantity 1500 is not a multiple of lot size 1000"},
      {order("f", Side::buy, OrderType::limit, "0.5", "1.38"), "quantity 0.5 is not a multiple of lot size 1000"},
      {order("g", Side::buy, OrderType::limit, "1", "180.005", std::nullopt, TimeInForce::gtc, "IBM"),
       "limit_price 180.005 is not a multiple of tick size 0.01"},
  };
  for (const auto& c : cases) {
    INFO(c.o.client_order_id);
    const auto out = broker.on_submit(c.o, kDay0 + kSec);
    REQUIRE(out.size() == 1);
    CHECK(out[0].exec_type == ExecType::rejected);
    CHECK(out[0].order_status == OrderStatus::rejected);
    CHECK(out[0].text == c.text);
    CHECK(out[0].quantity == c.o.quantity);
    CHECK(out[0].leaves_qty.is_zero());
  }
  CHECK(broker.open_orders() == 0);

  // On the grid: accepted and matched as usual.
  const auto ok = broker.on_submit(order("ok", Side::buy, OrderType::limit, "3000", "1.38760"), kDay0 + 2 * kSec);
  CHECK(types(ok) == std::vector{ExecType::new_, ExecType::fill});
  const auto ibm = broker.on_submit(order("i", Side::buy, OrderType::limit, "7", "180.01", std::nullopt,
                                          TimeInForce::gtc, "IBM"),
                                    kDay0 + 2 * kSec);
  CHECK(types(ibm) == std::vector{ExecType::new_});  // IBM has no lot size
}

TEST_CASE("a replace off the tick or lot size is cancel_rejected and changes nothing", "[matching][instruments][replace]") {
  matching::PaperBroker broker(with_instruments());
  (void)broker.on_quote(quote("EURUSD", "1.38742", "1.38755", kDay0));
  (void)broker.on_submit(order("r1", Side::buy, OrderType::stop_limit, "2000", "1.39000", "1.38900"), kDay0);
  struct Case {
    core::OrderReplace rq;
    std::string_view text;
  };
  const Case cases[] = {
      {{.client_order_id = "n1", .orig_client_order_id = "r1", .quantity = dec("2500")},
       "quantity 2500 is not a multiple of lot size 1000"},
      {{.client_order_id = "n2", .orig_client_order_id = "r1", .limit_price = dec("1.390001")},
       "limit_price 1.390001 is not a multiple of tick size 0.00001"},
  };
  for (const auto& c : cases) {
    INFO(c.rq.client_order_id);
    const auto out = broker.on_replace(c.rq, kDay0 + kSec);
    REQUIRE(out.size() == 1);
    CHECK(out[0].exec_type == ExecType::cancel_rejected);
    CHECK(out[0].order_status == OrderStatus::new_);
    CHECK(out[0].text == c.text);
    CHECK(out[0].client_order_id == c.rq.client_order_id);
    CHECK(out[0].orig_client_order_id == std::optional<std::string>("r1"));
    CHECK_FALSE(broker.order_status(c.rq.client_order_id).has_value());
  }
  const auto stop = broker.on_replace({.client_order_id = "n4", .orig_client_order_id = "r1",
                                       .stop_price = dec("1.389005")},
                                      kDay0 + kSec);
  REQUIRE(stop.size() == 1);
  CHECK(stop[0].text == "stop_price 1.389005 is not a multiple of tick size 0.00001");
  CHECK_FALSE(broker.replaced_by("r1").has_value());
  const auto ok = broker.on_replace({.client_order_id = "n5", .orig_client_order_id = "r1", .quantity = dec("3000"),
                                     .limit_price = dec("1.39010"), .stop_price = dec("1.38910")},
                                    kDay0 + 2 * kSec);
  CHECK(types(ok) == std::vector{ExecType::replaced});
}

TEST_CASE("invalid broker configurations are refused at construction with the problem", "[matching][instruments]") {
  matching::BrokerConfig neg_tick;
  neg_tick.instruments["X"] = {.tick_size = dec("0")};
  CHECK(matching::validate(neg_tick) == std::optional<std::string>("instruments: X tick_size 0 must be positive"));
  CHECK_THROWS_AS(matching::PaperBroker(neg_tick), std::invalid_argument);

  matching::BrokerConfig mismatch;
  mismatch.instruments["X"] = {.symbol = "Y"};
  CHECK(matching::validate(mismatch) == std::optional<std::string>("instruments: key X holds symbol Y"));

  matching::BrokerConfig neg_lot;
  neg_lot.instruments["X"] = {.lot_size = dec("-1")};
  CHECK(matching::validate(neg_lot).has_value());

  matching::BrokerConfig neg_commission{.commission_bps = dec("-1")};
  CHECK(matching::validate(neg_commission) == std::optional<std::string>("commission_bps must not be negative"));
  CHECK_FALSE(matching::validate(with_instruments()).has_value());
  CHECK_FALSE(matching::validate(matching::BrokerConfig{}).has_value());
}

// ---- halts ---------------------------------------------------------------------------------

TEST_CASE("a halted symbol refuses new orders and replaces with the reason, accepts cancels, fills nothing",
          "[matching][halt]") {
  matching::PaperBroker broker;
  (void)broker.on_quote(quote("EURUSD", "1.00", "1.01", kDay0));
  (void)broker.on_quote(quote("GBPUSD", "1.50", "1.51", kDay0));
  (void)broker.on_submit(order("rest", Side::buy, OrderType::limit, "10", "0.99"), kDay0);
  (void)broker.on_submit(order("stop", Side::sell, OrderType::stop, "10", std::nullopt, "0.95"), kDay0);
  (void)broker.on_submit(order("gone", Side::buy, OrderType::limit, "10", "0.98"), kDay0);

  CHECK(broker.on_status(status("EURUSD", core::InstrumentState::halted, "LULD pause", kDay0 + kSec)).empty());

  for (const auto type : {OrderType::market, OrderType::limit, OrderType::stop, OrderType::stop_limit}) {
    CAPTURE(type);
    auto o = order(fmt::format("new-{}", type), Side::buy, type, "1");
    if (type == OrderType::limit || type == OrderType::stop_limit) o.limit_price = dec("1.02");
    if (type == OrderType::stop || type == OrderType::stop_limit) o.stop_price = dec("1.05");
    const auto out = broker.on_submit(o, kDay0 + 2 * kSec);
    REQUIRE(out.size() == 1);
    CHECK(out[0].exec_type == ExecType::rejected);
    CHECK(out[0].order_status == OrderStatus::rejected);
    CHECK(out[0].text == "symbol EURUSD is halted: LULD pause");
  }
  const auto rp = broker.on_replace({.client_order_id = "rest2", .orig_client_order_id = "rest", .quantity = dec("5")},
                                    kDay0 + 2 * kSec);
  REQUIRE(rp.size() == 1);
  CHECK(rp[0].exec_type == ExecType::cancel_rejected);
  CHECK(rp[0].order_status == OrderStatus::new_);
  CHECK(rp[0].text == "symbol EURUSD is halted: LULD pause");
  CHECK_FALSE(broker.order_status("rest2").has_value());

  const auto cx = broker.on_cancel({.client_order_id = "gone"}, kDay0 + 2 * kSec);
  CHECK(types(cx) == std::vector{ExecType::canceled});

  // The book moves through both working orders, a print crosses the limit: nothing fills.
  CHECK(broker.on_quote(quote("EURUSD", "0.90", "0.91", kDay0 + 3 * kSec)).empty());
  CHECK(broker.on_trade(core::Trade{.symbol = "EURUSD", .price = dec("0.80"), .size = dec("100"),
                                    .ts_event = kDay0 + 4 * kSec})
            .empty());
  CHECK(broker.open_orders() == 2);
  // Other symbols trade on.
  const auto gbp = broker.on_submit(order("g", Side::buy, OrderType::market, "1", std::nullopt, std::nullopt,
                                          TimeInForce::ioc, "GBPUSD"),
                                    kDay0 + 4 * kSec);
  CHECK(types(gbp) == std::vector{ExecType::new_, ExecType::fill});

  // Resume: matched at once against the book the halt left (bid 0.90 / ask 0.91).
  const auto resume = broker.on_status(status("EURUSD", core::InstrumentState::trading, "", kDay0 + 5 * kSec));
  CHECK(types(resume) == std::vector{ExecType::fill, ExecType::fill});
  CHECK(resume[0].client_order_id == "rest");
  CHECK(resume[0].last_px == dec("0.91"));
  CHECK(resume[1].client_order_id == "stop");
  CHECK(resume[1].last_px == dec("0.90"));
  CHECK(resume[0].ts_event == kDay0 + 5 * kSec);
  const auto after = broker.on_submit(order("after", Side::buy, OrderType::market, "1", std::nullopt, std::nullopt,
                                            TimeInForce::ioc),
                                      kDay0 + 6 * kSec);
  CHECK(types(after) == std::vector{ExecType::new_, ExecType::fill});
}

TEST_CASE("a halt without a reason says so, orders still expire while halted", "[matching][halt][expiry]") {
  matching::PaperBroker broker;
  (void)broker.on_quote(quote("EURUSD", "1.00", "1.01", kDay0));
  (void)broker.on_submit(order("day", Side::buy, OrderType::limit, "1", "0.99", std::nullopt, TimeInForce::day), kDay0);
  CHECK(broker.on_status(status("EURUSD", core::InstrumentState::halted, "", kDay0 + kSec)).empty());
  const auto rej = broker.on_submit(order("x", Side::buy, OrderType::limit, "1", "0.99"), kDay0 + kSec);
  REQUIRE(rej.size() == 1);
  CHECK(rej[0].text == "symbol EURUSD is halted");
  // The next UTC day arrives during the halt: the day order expires (expiry is not a fill).
  const auto exp = broker.on_quote(quote("EURUSD", "0.90", "0.91", kDay0 + core::kNsPerDay));
  CHECK(types(exp) == std::vector{ExecType::expired});
  CHECK(exp[0].text == "day order expired at end of day");
  // A halt on a symbol never seen before is remembered too.
  (void)broker.on_status(status("NEW", core::InstrumentState::halted, "ipo", kDay0));
  const auto ipo = broker.on_submit(order("n", Side::buy, OrderType::limit, "1", "1", std::nullopt,
                                          TimeInForce::gtc, "NEW"),
                                    kDay0);
  CHECK(ipo.at(0).text == "symbol NEW is halted: ipo");
}

TEST_CASE("an order marketable at the resume fills within the displayed size the halt's last quote left",
          "[matching][halt][size]") {
  matching::PaperBroker broker;
  auto q = quote("EURUSD", "1.00", "1.01", kDay0);
  q.bid_size = dec("5");
  q.ask_size = dec("3");
  (void)broker.on_quote(q);
  (void)broker.on_status(status("EURUSD", core::InstrumentState::halted, "news", kDay0 + 1));
  auto q2 = quote("EURUSD", "0.98", "0.99", kDay0 + 2);
  q2.bid_size = dec("5");
  q2.ask_size = dec("4");
  (void)broker.on_submit(order("m", Side::buy, OrderType::limit, "10", "1.00"), kDay0);  // rejected: halted
  (void)broker.on_status(status("EURUSD", core::InstrumentState::trading, "", kDay0 + 2));
  (void)broker.on_submit(order("l", Side::buy, OrderType::limit, "10", "0.99"), kDay0 + 2);  // rests below 1.01
  (void)broker.on_status(status("EURUSD", core::InstrumentState::halted, "news", kDay0 + 3));
  (void)broker.on_quote(q2);
  const auto resume = broker.on_status(status("EURUSD", core::InstrumentState::trading, "", kDay0 + 4));
  CHECK(types(resume) == std::vector{ExecType::partial_fill});
  CHECK(resume.at(0).last_qty == dec("4"));
  CHECK(resume.at(0).last_px == dec("0.99"));
}

TEST_CASE("a split cancels the symbol's working orders and restates its prices, a dividend changes nothing",
          "[matching][corporate_action]") {
  matching::PaperBroker broker;
  (void)broker.on_quote(quote("IBM", "235.00", "235.50", kDay0));
  (void)broker.on_quote(quote("SPY", "130.00", "130.01", kDay0));
  (void)broker.on_submit(order("lim", Side::buy, OrderType::limit, "10", "230", std::nullopt, TimeInForce::gtc, "IBM"), kDay0);
  (void)broker.on_submit(order("stp", Side::sell, OrderType::stop, "10", std::nullopt, "200", TimeInForce::gtc, "IBM"), kDay0);
  (void)broker.on_submit(order("spy", Side::buy, OrderType::limit, "10", "120", std::nullopt, TimeInForce::gtc, "SPY"), kDay0);
  REQUIRE(broker.open_orders() == 3);

  const core::CorporateAction split{.symbol = "IBM", .action = core::ActionKind::split, .ratio = dec("2"),
                                    .ts_event = kDay0 + kSec};
  const auto out = broker.on_action(split);
  CHECK(types(out) == std::vector{ExecType::canceled, ExecType::canceled});
  CHECK(out[0].client_order_id == "lim");
  CHECK(out[0].text == "canceled: IBM split, ratio 2");
  CHECK(out[0].leaves_qty.is_zero());
  CHECK(out[1].client_order_id == "stp");
  CHECK(broker.open_orders() == 1);  // SPY's order stays

  // Until the next market data the last prices are restated in post-split units.
  const auto mkt = broker.on_submit(order("m", Side::buy, OrderType::market, "5", std::nullopt, std::nullopt,
                                          TimeInForce::gtc, "IBM"),
                                    kDay0 + 2 * kSec);
  REQUIRE(types(mkt) == std::vector{ExecType::new_, ExecType::fill});
  CHECK(mkt[1].last_px == dec("117.75"));  // the ask 235.50 / 2

  const core::CorporateAction div{.symbol = "SPY", .action = core::ActionKind::dividend, .amount = dec("1.5"),
                                  .ts_event = kDay0 + 4 * kSec};
  CHECK(broker.on_action(div).empty());
  CHECK(broker.open_orders() == 1);
}
