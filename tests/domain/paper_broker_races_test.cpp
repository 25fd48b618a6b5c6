// Paper broker: resends and races. An identical resend of an order is answered by
// nothing; cancels and replaces that cross fills, partial fills and each other.
#include <optional>
#include <set>
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
using domain_test::check_quantities;
using domain_test::dec;
using domain_test::kDay0;
using domain_test::kSec;
using domain_test::quote;

namespace {

core::OrderSubmit limit(std::string id, Side side, std::string_view qty, std::string_view px,
                        TimeInForce tif = TimeInForce::gtc) {
  return core::OrderSubmit{.client_order_id = std::move(id), .symbol = "EURUSD", .side = side,
                           .order_type = OrderType::limit, .quantity = dec(qty), .limit_price = dec(px),
                           .time_in_force = tif, .strategy_id = "test", .ts_event = kDay0};
}

core::OrderSubmit market(std::string id, Side side, std::string_view qty, TimeInForce tif = TimeInForce::ioc) {
  return core::OrderSubmit{.client_order_id = std::move(id), .symbol = "EURUSD", .side = side,
                           .order_type = OrderType::market, .quantity = dec(qty), .time_in_force = tif,
                           .strategy_id = "test", .ts_event = kDay0};
}

core::Quote sized(std::string_view bid, std::string_view ask, std::string_view bid_size, std::string_view ask_size,
                  core::TimestampNs ts) {
  auto q = quote("EURUSD", bid, ask, ts);
  q.bid_size = dec(bid_size);
  q.ask_size = dec(ask_size);
  return q;
}

core::OrderReplace replace(std::string id, std::string orig, std::optional<std::string_view> qty,
                           std::optional<std::string_view> px = std::nullopt) {
  core::OrderReplace r{.client_order_id = std::move(id), .orig_client_order_id = std::move(orig)};
  if (qty) r.quantity = dec(*qty);
  if (px) r.limit_price = dec(*px);
  return r;
}

}  // namespace

// ---- idempotent client_order_id -----------------------------------------------------------

TEST_CASE("an identical resend of an order is answered by nothing and changes nothing, in every state",
          "[matching][resend]") {
  matching::PaperBroker broker;
  (void)broker.on_quote(sized("1.00", "1.01", "10", "4", kDay0));
  const auto working = limit("w", Side::buy, "10", "0.99");
  const auto partial = limit("p", Side::buy, "10", "1.01");  // 4 fill, 6 work
  const auto filled = market("f", Side::sell, "2");
  auto bad = limit("bad", Side::buy, "0", "1");  // rejected
  const auto canceled = limit("c", Side::sell, "1", "1.05");
  REQUIRE(types(broker.on_submit(working, kDay0)) == std::vector{ExecType::new_});
  REQUIRE(types(broker.on_submit(partial, kDay0)) == std::vector{ExecType::new_, ExecType::partial_fill});
  REQUIRE(types(broker.on_submit(filled, kDay0)) == std::vector{ExecType::new_, ExecType::fill});
  REQUIRE(types(broker.on_submit(bad, kDay0)) == std::vector{ExecType::rejected});
  REQUIRE(types(broker.on_submit(canceled, kDay0)) == std::vector{ExecType::new_});
  REQUIRE(types(broker.on_cancel({.client_order_id = "c"}, kDay0)) == std::vector{ExecType::canceled});
  REQUIRE(broker.open_orders() == 2);

  for (const auto& o : {working, partial, filled, bad, canceled}) {
    INFO(o.client_order_id);
    const auto status = broker.order_status(o.client_order_id);
    CHECK(broker.on_submit(o, kDay0 + kSec).empty());
    auto later = o;
    later.ts_event = kDay0 + 99 * kSec;  // a resend stamped later is still the same order
    later.cause_seq = 4242;              // and so is one that names another cause
    CHECK(broker.on_submit(later, kDay0 + 2 * kSec).empty());
    CHECK(broker.order_status(o.client_order_id) == status);
  }
  CHECK(broker.open_orders() == 2);
  // Nothing was filled twice, and exec_ids continue where they were.
  const auto next = broker.on_quote(sized("0.98", "0.99", "10", "100", kDay0 + 3 * kSec));
  REQUIRE(next.size() == 2);
  CHECK(next[0].client_order_id == "w");
  CHECK(next[0].exec_id == "w-2");
  CHECK(next[0].last_qty == dec("10"));
  CHECK(next[1].client_order_id == "p");
  CHECK(next[1].exec_id == "p-3");
  CHECK(next[1].last_qty == dec("6"));
  CHECK(next[1].cum_qty == dec("10"));
}

TEST_CASE("a reuse of a client_order_id with different content is still rejected as a duplicate",
          "[matching][resend]") {
  matching::PaperBroker broker;
  (void)broker.on_quote(quote("EURUSD", "1.00", "1.01", kDay0));
  const auto o = limit("x", Side::buy, "10", "0.99");
  (void)broker.on_submit(o, kDay0);

  auto qty = o;
  qty.quantity = dec("11");
  auto px = o;
  px.limit_price = dec("0.98");
  auto side = o;
  side.side = Side::sell;
  auto tif = o;
  tif.time_in_force = TimeInForce::day;
  auto strategy = o;
  strategy.strategy_id = "other";
  auto symbol = o;
  symbol.symbol = "GBPUSD";
  int n = 0;
  for (const auto& d : {qty, px, side, tif, strategy, symbol}) {
    const auto out = broker.on_submit(d, kDay0 + kSec);
    REQUIRE(out.size() == 1);
    CHECK(out[0].exec_type == ExecType::rejected);
    CHECK(out[0].text == "duplicate client_order_id");
    CHECK(out[0].exec_id == fmt::format("x-{}", 2 + n++));
  }
  CHECK(broker.order_status("x") == OrderStatus::new_);
  CHECK(broker.open_orders() == 1);
}

TEST_CASE("the new id of a replace is not a resend: an order.submit with it is a duplicate", "[matching][resend]") {
  matching::PaperBroker broker;
  (void)broker.on_quote(quote("EURUSD", "1.00", "1.01", kDay0));
  const auto o = limit("a", Side::buy, "10", "0.99");
  (void)broker.on_submit(o, kDay0);
  REQUIRE(types(broker.on_replace(replace("b", "a", "5"), kDay0)) == std::vector{ExecType::replaced});
  auto as_b = o;
  as_b.client_order_id = "b";
  as_b.quantity = dec("5");
  const auto out = broker.on_submit(as_b, kDay0 + 1);
  REQUIRE(out.size() == 1);
  CHECK(out[0].text == "duplicate client_order_id");
  // The original order.submit of the replaced id is a resend: nothing.
  CHECK(broker.on_submit(o, kDay0 + 2).empty());
  CHECK(broker.open_orders() == 1);
}

// ---- partial fills ---------------------------------------------------------------------------

TEST_CASE("a limit fills partly across quotes and trades, avg_px is the exact volume-weighted price",
          "[matching][size][trades]") {
  matching::PaperBroker broker;
  (void)broker.on_quote(sized("0.990", "1.010", "5", "5", kDay0));
  std::vector<core::ExecutionReport> all = broker.on_submit(limit("b", Side::buy, "10", "1.000"), kDay0);
  const auto print = [&](std::string_view px, std::string_view size, core::TimestampNs ts) {
    return broker.on_trade(core::Trade{.symbol = "EURUSD", .price = dec(px), .size = dec(size), .ts_event = ts});
  };
  const auto add = [&](const std::vector<core::ExecutionReport>& v) { all.insert(all.end(), v.begin(), v.end()); };
  add(print("1.001", "50", kDay0 + 1));                             // above the limit: nothing
  add(print("1.000", "3", kDay0 + 2));                              // 3 at the limit
  add(broker.on_quote(sized("0.990", "0.997", "5", "2", kDay0 + 3)));  // 2 at the ask (better)
  add(print("0.950", "1", kDay0 + 4));                              // 1 at the limit (not at the print)
  add(broker.on_quote(sized("0.990", "0.993", "5", "9", kDay0 + 5)));  // the last 4 at 0.993
  CHECK(types(all) == std::vector{ExecType::new_, ExecType::partial_fill, ExecType::partial_fill,
                                  ExecType::partial_fill, ExecType::fill});
  REQUIRE(all.size() == 5);
  CHECK(all[1].last_qty == dec("3"));
  CHECK(all[1].last_px == dec("1"));
  CHECK(all[2].last_qty == dec("2"));
  CHECK(all[2].last_px == dec("0.997"));
  CHECK(all[3].last_qty == dec("1"));
  CHECK(all[3].last_px == dec("1"));
  CHECK(all[4].last_qty == dec("4"));
  // (3 x 1 + 2 x 0.997 + 1 x 1 + 4 x 0.993) / 10 = 9.966 / 10
  CHECK(all[4].avg_px == dec("0.9966"));
  // After 3 then 3+2: (3 + 1.994) / 5 = 0.9988
  CHECK(all[2].avg_px == dec("0.9988"));
  check_quantities(all);
}

TEST_CASE("avg_px is rounded once, from the exact notional, not fill by fill", "[matching][size]") {
  matching::PaperBroker broker;
  (void)broker.on_quote(sized("1", "1.00000001", "1", "1", kDay0));
  (void)broker.on_submit(market("m", Side::buy, "4", TimeInForce::gtc), kDay0);
  const auto second = broker.on_quote(sized("1", "1.00000002", "1", "1", kDay0 + 1));
  REQUIRE(second.size() == 1);
  CHECK(second[0].avg_px == dec("1.00000002"));  // 1.000000015, half-even
  const auto last = broker.on_quote(sized("1", "1.00000001", "1", "2", kDay0 + 2));
  REQUIRE(last.size() == 1);
  // Exact: 4.00000005 / 4 = 1.0000000125 -> 1.00000001. Fill by fill from the rounded
  // average it would be (2 x 1.00000002 + 2.00000002) / 4 = 1.000000015 -> 1.00000002.
  CHECK(last[0].avg_px == dec("1.00000001"));
  CHECK(last[0].cum_qty == dec("4"));
}

// ---- cancel / replace races ------------------------------------------------------------------

TEST_CASE("cancel after a partial fill cancels the rest and keeps the fill", "[matching][races]") {
  matching::PaperBroker broker;
  (void)broker.on_quote(sized("1.00", "1.01", "5", "4", kDay0));
  const auto first = broker.on_submit(limit("p", Side::buy, "10", "1.01"), kDay0);
  CHECK(types(first) == std::vector{ExecType::new_, ExecType::partial_fill});
  const auto out = broker.on_cancel({.client_order_id = "p"}, kDay0 + kSec);
  REQUIRE(out.size() == 1);
  CHECK(out[0].exec_type == ExecType::canceled);
  CHECK(out[0].order_status == OrderStatus::canceled);
  CHECK(out[0].cum_qty == dec("4"));
  CHECK(out[0].leaves_qty.is_zero());
  CHECK(out[0].avg_px == dec("1.01"));
  CHECK(broker.on_quote(sized("0.9", "0.91", "100", "100", kDay0 + 2 * kSec)).empty());
  const auto again = broker.on_replace(replace("p2", "p", "20"), kDay0 + 3 * kSec);
  CHECK(again.at(0).text == "order is already canceled");
}

TEST_CASE("replace after a partial fill: down to the filled quantity is refused, just above it works and fills",
          "[matching][races][replace]") {
  matching::PaperBroker broker;
  (void)broker.on_quote(sized("1.00", "1.01", "5", "4", kDay0));
  (void)broker.on_submit(limit("p", Side::buy, "10", "1.01"), kDay0);
  const auto refused = broker.on_replace(replace("p2", "p", "4"), kDay0 + 1);
  CHECK(refused.at(0).text == "quantity 4 is not above the filled quantity 4");
  const auto ok = broker.on_replace(replace("p3", "p", "5"), kDay0 + 2);
  CHECK(types(ok) == std::vector{ExecType::replaced});
  CHECK(ok[0].leaves_qty == dec("1"));
  const auto fill = broker.on_quote(sized("1.00", "1.01", "5", "4", kDay0 + 3));
  CHECK(types(fill) == std::vector{ExecType::fill});
  CHECK(fill[0].client_order_id == "p3");
  CHECK(fill[0].cum_qty == dec("5"));
  // The filled order cannot be replaced or canceled any more, under either id.
  CHECK(broker.on_replace(replace("p4", "p3", "9"), kDay0 + 4).at(0).text == "order is already filled");
  CHECK(broker.on_replace(replace("p5", "p", "9"), kDay0 + 4).at(0).text == "order was replaced by p3");
  CHECK(broker.on_cancel({.client_order_id = "p3"}, kDay0 + 4).at(0).text == "order is already filled");
  CHECK(broker.on_cancel({.client_order_id = "p"}, kDay0 + 4).at(0).text == "order was replaced by p3");
}

TEST_CASE("with latency: two cancels, cancel then replace, replace then cancel of the old id", "[matching][races][latency]") {
  matching::PaperBroker broker(matching::BrokerConfig{.latency_ns = 10});
  (void)broker.on_quote(quote("EURUSD", "1.00", "1.01", kDay0));
  (void)broker.on_submit(limit("a", Side::buy, "10", "0.99"), kDay0);
  (void)broker.on_submit(limit("b", Side::buy, "10", "0.99"), kDay0);
  (void)broker.on_submit(limit("c", Side::buy, "10", "0.99"), kDay0);
  REQUIRE(types(broker.on_quote(quote("EURUSD", "1.00", "1.01", kDay0 + kSec))) ==
          std::vector{ExecType::new_, ExecType::new_, ExecType::new_});

  std::vector<core::ExecutionReport> rx;
  const auto add = [&](const std::vector<core::ExecutionReport>& v) { rx.insert(rx.end(), v.begin(), v.end()); };
  add(broker.on_cancel({.client_order_id = "a"}, kDay0 + 2 * kSec));
  add(broker.on_cancel({.client_order_id = "a"}, kDay0 + 2 * kSec));
  add(broker.on_cancel({.client_order_id = "b"}, kDay0 + 2 * kSec));
  add(broker.on_replace(replace("b2", "b", "20"), kDay0 + 2 * kSec));
  add(broker.on_replace(replace("c2", "c", "20"), kDay0 + 2 * kSec));
  add(broker.on_cancel({.client_order_id = "c"}, kDay0 + 2 * kSec));
  CHECK(types(rx) == std::vector{ExecType::pending_cancel, ExecType::pending_cancel, ExecType::pending_cancel,
                                 ExecType::pending_cancel});
  CHECK(broker.in_flight() == 6);

  const auto out = broker.on_quote(quote("EURUSD", "1.00", "1.01", kDay0 + 3 * kSec));
  REQUIRE(out.size() == 6);
  CHECK(out[0].exec_type == ExecType::canceled);
  CHECK(out[1].exec_type == ExecType::cancel_rejected);
  CHECK(out[1].text == "order is already canceled");
  CHECK(out[2].exec_type == ExecType::canceled);
  CHECK(out[2].client_order_id == "b");
  CHECK(out[3].exec_type == ExecType::cancel_rejected);
  CHECK(out[3].client_order_id == "b2");
  CHECK(out[3].text == "order is already canceled");
  CHECK(out[4].exec_type == ExecType::replaced);
  CHECK(out[4].client_order_id == "c2");
  CHECK(out[5].exec_type == ExecType::cancel_rejected);
  CHECK(out[5].client_order_id == "c");
  CHECK(out[5].text == "order was replaced by c2");
  CHECK(broker.open_orders() == 1);
  CHECK_FALSE(broker.order_status("b2").has_value());
  // exec_ids stay unique across the whole exchange.
  std::set<std::string> seen;
  for (const auto& r : rx) CHECK(seen.insert(r.exec_id).second);
  for (const auto& r : out) CHECK(seen.insert(r.exec_id).second);
}
