// Issue 13: `traderctl trace CLIENT_ORDER_ID` prints an order's whole life from the event
// store, across workers: a person's limit order, replaced, then canceled (the chain is
// followed from either id), and an order risk-state denies.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "eventstore/event_store.hpp"
#include "stack.hpp"

namespace {
/// The positions in `text` of each of `parts`, which must appear in this order.
bool in_order(const std::string& text, const std::vector<std::string>& parts) {
  std::size_t at = 0;
  for (const auto& p : parts) {
    at = text.find(p, at);
    if (at == std::string::npos) return false;
    at += p.size();
  }
  return true;
}
}  // namespace

TEST_CASE("traderctl trace prints an order's life from the store: command, decision, reports, replace and cancel",
          "[integration][trace]") {
  itest::nats_library();
  itest::Stack stack;
  stack.start({"recorder", "ops", "risk-state", "execution", "reporter"});
  REQUIRE(stack.run_as("feed", {itest::bin("feed"), "--limit", "200",
                                testsupport::shared_data_dir() + "/quotes_EURUSD_2014-05-06.csv"}) == 0);
  const auto ctl = itest::bin("traderctl");
  auto req = [&](const std::string& json) { REQUIRE(stack.run({ctl, "req", "trading.orders", json}) == 0); };
  req(R"({"type":"order.submit","client_order_id":"t-1","symbol":"EURUSD","side":"buy","order_type":"limit","limit_price":"1.30","quantity":"1000","time_in_force":"gtc"})");
  req(R"({"type":"order.replace","client_order_id":"t-2","orig_client_order_id":"t-1","limit_price":"1.31"})");
  req(R"({"type":"order.cancel","client_order_id":"t-2"})");
  req(R"({"type":"order.submit","client_order_id":"t-9","symbol":"EURUSD","side":"buy","order_type":"market","quantity":"999999999"})");
  REQUIRE(stack.run({ctl, "wait-idle", "--quiet-ms", "800", "--timeout-s", "60"}) == 0);
  eventstore::PgStore store(stack.reader_url());
  itest::wait_recorded(stack, store);  // the store holds everything the stream does

  const std::vector<std::string> life = {
      "Order t-1 (with t-2) in the live store: 9 events",
      "trading.orders.by.operator", "submit buy 1000 EURUSD limit limit_price 1.3 gtc",
      "trading.orders.approved", "risk-state approved: submit buy 1000 EURUSD limit",
      "trading.executions", "new -> new, cum_qty 0 leaves_qty 1000",
      "trading.orders.by.operator", "replace t-1 by t-2, limit_price 1.31",
      "trading.orders.approved", "risk-state approved: replace t-1 by t-2",
      "trading.executions", "replaced -> new, cum_qty 0 leaves_qty 1000 (replaces t-1)",
      "trading.orders.by.operator", "cancel",
      "trading.orders.approved", "risk-state approved: cancel",
      "trading.executions", "canceled -> canceled, cum_qty 0 leaves_qty 0"};
  std::string out;
  REQUIRE(stack.run({ctl, "trace", "t-1"}, &out) == 0);
  INFO(out);
  CHECK(in_order(out, life));
  // From the replacement's id, the same chain.
  REQUIRE(stack.run({ctl, "trace", "t-2"}, &out) == 0);
  CHECK_THAT(out, Catch::Contains("Order t-2 (with t-1) in the live store: 9 events"));
  CHECK(in_order(out, {"submit buy 1000 EURUSD", "replace t-1 by t-2", "canceled -> canceled"}));
  // A denied order: its command and risk-state's denial with the reason.
  REQUIRE(stack.run({ctl, "trace", "t-9"}, &out) == 0);
  CHECK(in_order(out, {"Order t-9 in the live store: 2 events", "submit buy 999999999 EURUSD market day",
                       "risk-state denied: denied -> denied", "max_order_qty"}));
  // An id nobody used: exit 1 and a clear line.
  CHECK(stack.run({ctl, "trace", "t-unknown"}, &out) == 1);
  CHECK_THAT(out, Catch::Contains("no event with client_order_id t-unknown"));
}
