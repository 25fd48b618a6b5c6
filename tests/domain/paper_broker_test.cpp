// Paper broker: given market data and orders -> expected execution reports.
#include "matching/paper_broker.hpp"

#include <optional>
#include <string>

#include "helpers.hpp"

using core::ExecType;
using core::OrderStatus;
using core::OrderType;
using core::Side;
using core::TimeInForce;
using domain_test::dec;
using domain_test::kDay0;
using domain_test::kSec;
using domain_test::quote;

namespace {

core::OrderSubmit order(std::string id, Side side, OrderType type, std::string_view qty,
                        std::optional<std::string_view> limit, TimeInForce tif) {
  return core::OrderSubmit{.client_order_id = std::move(id),
                           .symbol = "EURUSD",
                           .side = side,
                           .order_type = type,
                           .quantity = dec(qty),
                           .limit_price = limit ? std::optional(dec(*limit)) : std::nullopt,
                           .time_in_force = tif,
                           .strategy_id = "test"};
}

core::OrderSubmit market(std::string id, Side side, std::string_view qty, TimeInForce tif = TimeInForce::ioc) {
  return order(std::move(id), side, OrderType::market, qty, std::nullopt, tif);
}

core::OrderSubmit limit(std::string id, Side side, std::string_view qty, std::string_view px,
                        TimeInForce tif = TimeInForce::gtc) {
  return order(std::move(id), side, OrderType::limit, qty, px, tif);
}

const auto kAllTifs = {TimeInForce::day, TimeInForce::gtc, TimeInForce::ioc, TimeInForce::fok};

// Every report of a live order satisfies cum + leaves == quantity; terminal ones have leaves 0.
void check_quantities(const core::ExecutionReport& r) {
  CHECK(r.cum_qty <= r.quantity);
  if (core::is_terminal(r.order_status)) {
    CHECK(r.leaves_qty.is_zero());
  } else {
    CHECK(r.cum_qty + r.leaves_qty == r.quantity);
  }
}

}  // namespace

TEST_CASE("market buy fills the full quantity at the ask for every time in force", "[matching]") {
  const auto tif = GENERATE(values(kAllTifs));
  CAPTURE(tif);
  matching::PaperBroker broker;
  REQUIRE(broker.on_quote(quote("EURUSD", "1.38742", "1.38755", kDay0)).empty());

  const auto out = broker.on_submit(market("o1", Side::buy, "1000", tif), kDay0 + kSec);

  REQUIRE(out.size() == 2);
  CHECK(out[0].exec_type == ExecType::new_);
  CHECK(out[0].order_status == OrderStatus::new_);
  CHECK(out[0].exec_id == "o1-1");
  CHECK(out[0].leaves_qty == dec("1000"));
  CHECK(out[0].cum_qty.is_zero());
  CHECK(out[0].ts_event == kDay0 + kSec);
  CHECK(out[1].exec_type == ExecType::fill);
  CHECK(out[1].order_status == OrderStatus::filled);
  CHECK(out[1].exec_id == "o1-2");
  CHECK(out[1].last_qty == dec("1000"));
  CHECK(out[1].last_px == dec("1.38755"));
  CHECK(out[1].cum_qty == dec("1000"));
  CHECK(out[1].leaves_qty.is_zero());
  CHECK(out[1].avg_px == dec("1.38755"));
  CHECK(out[1].symbol == "EURUSD");
  CHECK(out[1].side == Side::buy);
  CHECK(out[1].order_type == OrderType::market);
  CHECK(out[1].time_in_force == tif);
  CHECK(out[1].strategy_id == "test");
  CHECK(out[1].ts_event == kDay0 + kSec);
  for (const auto& r : out) check_quantities(r);
  CHECK(broker.open_orders() == 0);
}

TEST_CASE("market sell fills the full quantity at the bid for every time in force", "[matching]") {
  const auto tif = GENERATE(values(kAllTifs));
  CAPTURE(tif);
  matching::PaperBroker broker;
  (void)broker.on_quote(quote("EURUSD", "1.38742", "1.38755", kDay0));

  const auto out = broker.on_submit(market("o1", Side::sell, "250000", tif), kDay0 + kSec);

  REQUIRE(out.size() == 2);
  CHECK(out[0].exec_type == ExecType::new_);
  CHECK(out[1].exec_type == ExecType::fill);
  CHECK(out[1].last_px == dec("1.38742"));
  CHECK(out[1].last_qty == dec("250000"));
  CHECK(out[1].avg_px == dec("1.38742"));
}

TEST_CASE("market order with no quote for its symbol is rejected for every time in force", "[matching]") {
  const auto tif = GENERATE(values(kAllTifs));
  const auto side = GENERATE(Side::buy, Side::sell);
  CAPTURE(tif, side);
  matching::PaperBroker broker;
  (void)broker.on_quote(quote("GBPUSD", "1.5", "1.6", kDay0));  // another symbol does not count

  const auto out = broker.on_submit(market("o1", side, "1000", tif), kDay0);

  REQUIRE(out.size() == 1);
  CHECK(out[0].exec_type == ExecType::rejected);
  CHECK(out[0].order_status == OrderStatus::rejected);
  CHECK(out[0].text == "no market data for EURUSD");
  CHECK(out[0].exec_id == "o1-1");
  CHECK(out[0].leaves_qty.is_zero());
  CHECK(out[0].quantity == dec("1000"));
}

TEST_CASE("marketable limit buy fills at the ask with price improvement for every time in force", "[matching]") {
  const auto tif = GENERATE(values(kAllTifs));
  const auto px = GENERATE(as<std::string>{}, "1.38755", "1.40000");  // at and through the ask
  CAPTURE(tif, px);
  matching::PaperBroker broker;
  (void)broker.on_quote(quote("EURUSD", "1.38742", "1.38755", kDay0));

  const auto out = broker.on_submit(limit("o1", Side::buy, "1000", px, tif), kDay0);

  REQUIRE(out.size() == 2);
  CHECK(out[0].exec_type == ExecType::new_);
  CHECK(out[0].limit_price == dec(px));
  CHECK(out[1].exec_type == ExecType::fill);
  CHECK(out[1].last_px == dec("1.38755"));
  CHECK(out[1].limit_price == dec(px));
  CHECK(broker.open_orders() == 0);
}

TEST_CASE("marketable limit sell fills at the bid for every time in force", "[matching]") {
  const auto tif = GENERATE(values(kAllTifs));
  const auto px = GENERATE(as<std::string>{}, "1.38742", "1.30000");
  CAPTURE(tif, px);
  matching::PaperBroker broker;
  (void)broker.on_quote(quote("EURUSD", "1.38742", "1.38755", kDay0));

  const auto out = broker.on_submit(limit("o1", Side::sell, "1000", px, tif), kDay0);

  REQUIRE(out.size() == 2);
  CHECK(out[1].exec_type == ExecType::fill);
  CHECK(out[1].last_px == dec("1.38742"));
}

TEST_CASE("non-marketable ioc and fok limits are canceled at once", "[matching]") {
  const auto tif = GENERATE(TimeInForce::ioc, TimeInForce::fok);
  CAPTURE(tif);
  matching::PaperBroker broker;
  (void)broker.on_quote(quote("EURUSD", "1.38742", "1.38755", kDay0));

  const auto out = broker.on_submit(limit("o1", Side::buy, "1000", "1.38754", tif), kDay0);

  REQUIRE(out.size() == 2);
  CHECK(out[0].exec_type == ExecType::new_);
  CHECK(out[1].exec_type == ExecType::canceled);
  CHECK(out[1].order_status == OrderStatus::canceled);
  CHECK(out[1].text == fmt::format("{}: not immediately marketable", tif));
  CHECK(out[1].leaves_qty.is_zero());
  CHECK(out[1].cum_qty.is_zero());
  CHECK(out[1].exec_id == "o1-2");
  CHECK(broker.open_orders() == 0);
}

TEST_CASE("ioc limit with no quote yet is canceled, not rejected", "[matching]") {
  matching::PaperBroker broker;
  const auto out = broker.on_submit(limit("o1", Side::buy, "1", "1.3", TimeInForce::ioc), kDay0);
  REQUIRE(out.size() == 2);
  CHECK(out[1].exec_type == ExecType::canceled);
  CHECK(out[1].text == "ioc: not immediately marketable");
}

TEST_CASE("non-marketable day and gtc limits rest and fill on a later quote at the quote price", "[matching]") {
  const auto tif = GENERATE(TimeInForce::day, TimeInForce::gtc);
  CAPTURE(tif);
  matching::PaperBroker broker;
  (void)broker.on_quote(quote("EURUSD", "1.38742", "1.38755", kDay0));

  const auto accepted = broker.on_submit(limit("b1", Side::buy, "1000", "1.38700", tif), kDay0 + 1);
  REQUIRE(accepted.size() == 1);
  CHECK(accepted[0].exec_type == ExecType::new_);
  CHECK(accepted[0].leaves_qty == dec("1000"));
  CHECK(broker.open_orders() == 1);

  // Ask moves down but stays above the limit: nothing.
  CHECK(broker.on_quote(quote("EURUSD", "1.38690", "1.38701", kDay0 + 2)).empty());
  // Ask goes through the limit: fills at the ask (better than the limit).
  const auto filled = broker.on_quote(quote("EURUSD", "1.38680", "1.38690", kDay0 + 3));
  REQUIRE(filled.size() == 1);
  CHECK(filled[0].exec_type == ExecType::fill);
  CHECK(filled[0].order_status == OrderStatus::filled);
  CHECK(filled[0].last_px == dec("1.38690"));
  CHECK(filled[0].last_qty == dec("1000"));
  CHECK(filled[0].avg_px == dec("1.38690"));
  CHECK(filled[0].leaves_qty.is_zero());
  CHECK(filled[0].exec_id == "b1-2");
  CHECK(filled[0].ts_event == kDay0 + 3);
  CHECK(broker.open_orders() == 0);
  // Filled orders do not fill twice.
  CHECK(broker.on_quote(quote("EURUSD", "1.3", "1.3", kDay0 + 4)).empty());
}

TEST_CASE("resting sell limit fills at the bid when the bid reaches it", "[matching]") {
  matching::PaperBroker broker;
  (void)broker.on_quote(quote("EURUSD", "1.38742", "1.38755", kDay0));
  REQUIRE(broker.on_submit(limit("s1", Side::sell, "5", "1.38800"), kDay0).size() == 1);

  const auto out = broker.on_quote(quote("EURUSD", "1.38810", "1.38820", kDay0 + 1));

  REQUIRE(out.size() == 1);
  CHECK(out[0].side == Side::sell);
  CHECK(out[0].last_px == dec("1.38810"));
}

TEST_CASE("resting limits that become marketable together fill in order of arrival", "[matching]") {
  matching::PaperBroker broker;
  (void)broker.on_quote(quote("EURUSD", "1.00", "1.10", kDay0));
  (void)broker.on_submit(limit("c", Side::buy, "1", "1.05"), kDay0);
  (void)broker.on_submit(limit("a", Side::buy, "1", "1.02"), kDay0);
  (void)broker.on_submit(limit("b", Side::buy, "1", "1.08"), kDay0);
  (void)broker.on_submit(limit("z", Side::buy, "1", "0.50"), kDay0);

  const auto out = broker.on_quote(quote("EURUSD", "0.99", "1.01", kDay0 + 1));

  REQUIRE(out.size() == 3);
  CHECK(out[0].client_order_id == "c");
  CHECK(out[1].client_order_id == "a");
  CHECK(out[2].client_order_id == "b");
  CHECK(broker.open_orders() == 1);
}

TEST_CASE("day order expires on the first quote of the next UTC day, gtc stays", "[matching]") {
  matching::PaperBroker broker;
  (void)broker.on_quote(quote("EURUSD", "1.38742", "1.38755", kDay0));
  const core::TimestampNs late = kDay0 + core::kNsPerDay - 1;  // 23:59:59.999999999
  (void)broker.on_submit(limit("d1", Side::buy, "1000", "1.30000", TimeInForce::day), late);
  (void)broker.on_submit(limit("g1", Side::buy, "1000", "1.30000", TimeInForce::gtc), late);

  // Still the same day: nothing happens.
  CHECK(broker.on_quote(quote("EURUSD", "1.38742", "1.38755", late)).empty());
  // Midnight: the day order expires.
  const auto out = broker.on_quote(quote("EURUSD", "1.38742", "1.38755", kDay0 + core::kNsPerDay));
  REQUIRE(out.size() == 1);
  CHECK(out[0].client_order_id == "d1");
  CHECK(out[0].exec_type == ExecType::expired);
  CHECK(out[0].order_status == OrderStatus::expired);
  CHECK(out[0].text == "day order expired at end of day");
  CHECK(out[0].leaves_qty.is_zero());
  CHECK(out[0].ts_event == kDay0 + core::kNsPerDay);
  CHECK(broker.open_orders() == 1);
  CHECK(broker.order_status("g1") == OrderStatus::new_);
}

TEST_CASE("day order expires instead of filling on a marketable quote of the next day", "[matching]") {
  matching::PaperBroker broker;
  (void)broker.on_quote(quote("EURUSD", "1.38742", "1.38755", kDay0));
  (void)broker.on_submit(limit("d1", Side::buy, "1000", "1.30000", TimeInForce::day), kDay0 + 5 * kSec);

  const auto out = broker.on_quote(quote("EURUSD", "1.2", "1.2", kDay0 + core::kNsPerDay + kSec));

  REQUIRE(out.size() == 1);
  CHECK(out[0].exec_type == ExecType::expired);
}

TEST_CASE("another symbol's next-day quote does not expire a day order", "[matching]") {
  matching::PaperBroker broker;
  (void)broker.on_quote(quote("EURUSD", "1.38742", "1.38755", kDay0));
  (void)broker.on_submit(limit("d1", Side::buy, "1000", "1.30000", TimeInForce::day), kDay0);

  CHECK(broker.on_quote(quote("GBPUSD", "1.5", "1.6", kDay0 + 2 * core::kNsPerDay)).empty());
  CHECK(broker.open_orders() == 1);
}

TEST_CASE("cancel of a live order answers canceled with the filled part unchanged", "[matching]") {
  matching::PaperBroker broker;
  (void)broker.on_quote(quote("EURUSD", "1.38742", "1.38755", kDay0));
  (void)broker.on_submit(limit("b1", Side::buy, "1000", "1.30000"), kDay0);

  const auto out = broker.on_cancel({.client_order_id = "b1"}, kDay0 + kSec);

  REQUIRE(out.size() == 1);
  CHECK(out[0].exec_type == ExecType::canceled);
  CHECK(out[0].order_status == OrderStatus::canceled);
  CHECK(out[0].cum_qty.is_zero());
  CHECK(out[0].leaves_qty.is_zero());
  CHECK(out[0].quantity == dec("1000"));
  CHECK(out[0].exec_id == "b1-2");
  CHECK(out[0].ts_event == kDay0 + kSec);
  CHECK(broker.open_orders() == 0);
  // A canceled order no longer fills.
  CHECK(broker.on_quote(quote("EURUSD", "1.2", "1.2", kDay0 + 2 * kSec)).empty());
  // And cannot be canceled again.
  const auto again = broker.on_cancel({.client_order_id = "b1"}, kDay0 + 3 * kSec);
  REQUIRE(again.size() == 1);
  CHECK(again[0].exec_type == ExecType::cancel_rejected);
  CHECK(again[0].order_status == OrderStatus::canceled);
  CHECK(again[0].text == "order is already canceled");
}

TEST_CASE("cancel of a filled order is cancel_rejected with status filled", "[matching]") {
  matching::PaperBroker broker;
  (void)broker.on_quote(quote("EURUSD", "1.38742", "1.38755", kDay0));
  (void)broker.on_submit(market("m1", Side::buy, "1000"), kDay0);

  const auto out = broker.on_cancel({.client_order_id = "m1"}, kDay0 + kSec);

  REQUIRE(out.size() == 1);
  CHECK(out[0].exec_type == ExecType::cancel_rejected);
  CHECK(out[0].order_status == OrderStatus::filled);
  CHECK(out[0].text == "order is already filled");
  CHECK(out[0].cum_qty == dec("1000"));
  CHECK(out[0].leaves_qty.is_zero());
  CHECK(out[0].avg_px == dec("1.38755"));
  CHECK(out[0].last_qty.is_zero());
  CHECK(out[0].exec_id == "m1-3");
}

TEST_CASE("cancel of an unknown order is cancel_rejected", "[matching]") {
  matching::PaperBroker broker;
  const auto out = broker.on_cancel({.client_order_id = "nope"}, kDay0);
  REQUIRE(out.size() == 1);
  CHECK(out[0].exec_type == ExecType::cancel_rejected);
  CHECK(out[0].order_status == OrderStatus::rejected);
  CHECK(out[0].text == "unknown client_order_id");
  CHECK(out[0].client_order_id == "nope");
  CHECK(out[0].ts_event == kDay0);
}

TEST_CASE("duplicate client_order_id is rejected and leaves the first order alone", "[matching]") {
  matching::PaperBroker broker;
  (void)broker.on_quote(quote("EURUSD", "1.38742", "1.38755", kDay0));
  (void)broker.on_submit(limit("b1", Side::buy, "1000", "1.30000"), kDay0);

  const auto out = broker.on_submit(market("b1", Side::sell, "7"), kDay0 + 1);

  REQUIRE(out.size() == 1);
  CHECK(out[0].exec_type == ExecType::rejected);
  CHECK(out[0].order_status == OrderStatus::rejected);
  CHECK(out[0].text == "duplicate client_order_id");
  CHECK(out[0].quantity == dec("7"));  // the duplicate message's fields
  CHECK(out[0].exec_id == "b1-2");      // exec_ids stay unique
  CHECK(broker.open_orders() == 1);
  CHECK(broker.order_status("b1") == OrderStatus::new_);
  const auto filled = broker.on_quote(quote("EURUSD", "1.2", "1.29", kDay0 + 2));
  REQUIRE(filled.size() == 1);
  CHECK(filled[0].exec_id == "b1-3");
  CHECK(filled[0].last_qty == dec("1000"));
}

TEST_CASE("orders with non-positive quantity or a limit without price are rejected", "[matching]") {
  matching::PaperBroker broker;
  (void)broker.on_quote(quote("EURUSD", "1.38742", "1.38755", kDay0));

  auto zero = market("q0", Side::buy, "0");
  auto negative = market("qn", Side::buy, "-5");
  auto no_price = limit("lp", Side::buy, "1", "1");
  no_price.limit_price.reset();
  auto bad_price = limit("lz", Side::buy, "1", "0");

  const auto r0 = broker.on_submit(zero, kDay0);
  const auto r1 = broker.on_submit(negative, kDay0);
  const auto r2 = broker.on_submit(no_price, kDay0);
  const auto r3 = broker.on_submit(bad_price, kDay0);

  REQUIRE(r0.size() == 1);
  REQUIRE(r1.size() == 1);
  REQUIRE(r2.size() == 1);
  REQUIRE(r3.size() == 1);
  CHECK(r0[0].exec_type == ExecType::rejected);
  CHECK(r0[0].text == "quantity must be positive");
  CHECK(r1[0].text == "quantity must be positive");
  CHECK(r2[0].exec_type == ExecType::rejected);
  CHECK(r2[0].text == "limit order without limit_price");
  CHECK(r3[0].text == "limit_price must be positive");
  CHECK(broker.open_orders() == 0);
}

TEST_CASE("a trade sets the reference price and size only while the symbol has no quote", "[matching]") {
  matching::PaperBroker broker;
  (void)broker.on_submit(limit("b1", Side::buy, "10", "100"), kDay0);

  const auto fills = broker.on_trade(domain_test::trade("IBM", "99.5", kDay0 + 1));
  REQUIRE(fills.size() == 0);  // other symbol
  const auto out = broker.on_submit(market("m1", Side::buy, "3"), kDay0 + 2);
  CHECK(out.back().exec_type == ExecType::rejected);  // EURUSD has no data

  // The print (size 1) is the whole book: a 10 lot gets 1 at the print, the rest works.
  auto ibm = limit("i1", Side::buy, "10", "100");
  ibm.symbol = "IBM";
  const auto i1 = broker.on_submit(ibm, kDay0 + 3);
  REQUIRE(i1.size() == 2);
  CHECK(i1[1].exec_type == ExecType::partial_fill);
  CHECK(i1[1].last_px == dec("99.5"));
  CHECK(i1[1].last_qty == dec("1"));
  CHECK(i1[1].leaves_qty == dec("9"));

  (void)broker.on_quote(quote("IBM", "101", "102", kDay0 + 4));
  auto ibm2 = limit("i2", Side::buy, "10", "100");
  ibm2.symbol = "IBM";
  REQUIRE(broker.on_submit(ibm2, kDay0 + 5).size() == 1);  // rests below the ask
  // Trades after a quote do not move the book, but a print through a working limit
  // fills it at the limit, at most the print's size, oldest order first.
  const auto t = broker.on_trade(domain_test::trade("IBM", "99", kDay0 + 6));
  REQUIRE(t.size() == 1);
  CHECK(t[0].client_order_id == "i1");
  CHECK(t[0].last_px == dec("100"));
  CHECK(t[0].last_qty == dec("1"));
  CHECK(t[0].cum_qty == dec("2"));
  CHECK(broker.open_orders() == 3);
}

TEST_CASE("bid and ask bars set their side of the book and fill resting orders", "[matching]") {
  matching::PaperBroker broker;
  auto s = limit("s1", Side::sell, "1", "1.5800", TimeInForce::gtc);
  s.symbol = "GBPUSD";
  (void)broker.on_submit(s, kDay0);
  auto m = market("m1", Side::buy, "1");
  m.symbol = "GBPUSD";

  CHECK(broker.on_bar(domain_test::bar("GBPUSD", "1.5760", core::PriceType::bid, kDay0 + 60 * kSec)).empty());
  CHECK(broker.on_submit(m, kDay0).back().text == "no market data for GBPUSD");  // no ask yet
  CHECK(broker.on_bar(domain_test::bar("GBPUSD", "1.5761", core::PriceType::ask, kDay0 + 60 * kSec)).empty());
  const auto out = broker.on_bar(domain_test::bar("GBPUSD", "1.5801", core::PriceType::bid, kDay0 + 120 * kSec));
  REQUIRE(out.size() == 1);
  CHECK(out[0].last_px == dec("1.58"));  // a resting limit fills at its limit on bars
  CHECK(out[0].ts_event == kDay0 + 120 * kSec);
  // A trade bar does not override bar quotes.
  CHECK(broker.on_bar(domain_test::bar("GBPUSD", "9", core::PriceType::trade, kDay0 + 180 * kSec)).empty());
  auto m2 = market("m2", Side::buy, "1");
  m2.symbol = "GBPUSD";
  CHECK(broker.on_submit(m2, kDay0 + 180 * kSec).back().last_px == dec("1.5761"));
}

TEST_CASE("a trade bar close is the reference when there is no quote", "[matching]") {
  matching::PaperBroker broker;
  (void)broker.on_bar(domain_test::bar("MSFT", "60.625", core::PriceType::trade, kDay0));
  auto m = market("m1", Side::sell, "100", TimeInForce::day);
  m.symbol = "MSFT";
  const auto out = broker.on_submit(m, kDay0 + 1);
  REQUIRE(out.size() == 2);
  CHECK(out[1].last_px == dec("60.625"));
}
