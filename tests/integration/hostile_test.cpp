// Issue 11, "What we measured": each hostile message that once stopped a worker,
// poisoned its restart or was filled against, sent over the wire to the real stack.
// Every worker must stay up, say what it refused and why, and rebuild after a
// restart with the poison in its log.
#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "codec/codec.hpp"
#include "stack.hpp"

namespace {

/// ops.status through traderctl: the exit code and the table.
int status(itest::Stack& stack, std::string* out) { return stack.run({itest::bin("traderctl"), "status"}, out); }

}  // namespace

TEST_CASE("a poison quote and a poison fill stop no worker, and risk-state rebuilds over them (issue 11)",
          "[integration][hostile]") {
  itest::nats_library();
  itest::Stack stack;
  itest::Tap tap(stack.nats_url());
  stack.start({"recorder", "ops", "risk-state", "execution", "reporter", "strategy"});
  // Stands for execution and the feed (the admin may publish anything in TRADING).
  natsio::Connection feed({.url = stack.nats_url(), .name = "hostile-feed"});

  // A quote of 90 billion: every sum and product of it fits (core::Decimal is 128-bit).
  feed.publish("market.data.EURUSD",
               R"({"type":"quote","symbol":"EURUSD","bid":"90000000000","ask":"90000000001","ts_event":1399334400000000000})");
  // A fill of 90 billion at 90 billion (once published by anybody; see the auth tests).
  feed.publish("trading.executions",
               R"({"type":"execution_report","client_order_id":"poison-1","exec_id":"poison-1-1","exec_type":"fill",)"
               R"("order_status":"filled","symbol":"EURUSD","side":"buy","order_type":"market","quantity":"90000000000",)"
               R"("last_qty":"90000000000","last_px":"90000000000","cum_qty":"90000000000","leaves_qty":"0",)"
               R"("avg_px":"90000000000","ts_event":1399334400000000001})");
  feed.flush();
  // The reporter values it without aborting: 90e9 x 90e9 of notional.
  std::string out;
  REQUIRE(stack.run({itest::bin("traderctl"), "report", "--json"}, &out) == 0);
  CHECK_THAT(out, Catch::Contains(R"("gross_notional_traded":"8100000000000000000000")"));

  // Every worker is still alive.
  for (const auto* w : {"recorder", "ops", "risk-state", "execution", "reporter", "strategy"}) {
    INFO(w);
    CHECK(stack.worker(w).running());
  }
  // risk-state rebuilds over the poison in its log: no crash loop.
  stack.worker("risk-state").kill_hard();
  stack.restart("risk-state");
  CHECK(stack.worker("risk-state").running());
  // The stack is ok: every worker has an instance alive and ok (the killed risk-state stays
  // listed as not alive until ops forgets it; its successor took over its lease).
  const int rc = status(stack, &out);
  INFO(out);
  REQUIRE(rc == 0);
  CHECK_THAT(out, Catch::Contains("stack: ok"));
}

TEST_CASE("impossible quotes are refused or flagged and never filled against (issue 11)", "[integration][hostile]") {
  itest::nats_library();
  itest::Stack stack;
  itest::Tap tap(stack.nats_url());
  stack.start({"recorder", "ops", "risk-state", "execution", "reporter"});
  natsio::Connection feed({.url = stack.nats_url("feed"), .name = "hostile-feed"});
  natsio::Connection person({.url = stack.nats_url("operator"), .name = "hostile-person"});

  // A negative quote is dead-lettered, naming the field.
  feed.publish("market.data.EURUSD",
                 R"({"type":"quote","symbol":"EURUSD","bid":"-5","ask":"-4","ts_event":1399334400000000000})");
  const auto dl = tap.wait_for("ops.dead_letter", {R"("field":"bid")", "must be positive"});
  CHECK_FALSE(dl.empty());

  // A good quote, then a crossed one (bid 20, ask 10), then a stale one (back in time).
  feed.publish("market.data.EURUSD",
                 R"({"type":"quote","symbol":"EURUSD","bid":"1.38742","ask":"1.38755","ts_event":1399334400100000000})");
  feed.publish("market.data.EURUSD",
                 R"({"type":"quote","symbol":"EURUSD","bid":"20","ask":"10","ts_event":1399334400200000000})");
  feed.publish("market.data.EURUSD",
                 R"({"type":"quote","symbol":"EURUSD","bid":"0.5","ask":"0.6","ts_event":1399334400000000001})");
  feed.flush();
  // A market buy fills at the last good ask, not at the crossed 10 nor the stale 0.6:
  // no riskless P&L from a crossed book.
  person.publish("trading.orders",
                 R"({"type":"order.submit","client_order_id":"h-1","symbol":"EURUSD","side":"buy","order_type":"market","quantity":1000})");
  const auto fill = tap.wait_for("trading.executions", {R"("client_order_id":"h-1")", R"("exec_type":"fill")"});
  REQUIRE_FALSE(fill.empty());
  auto er = codec::decode_execution_report(fill);
  REQUIRE(er.ok());
  CHECK(er->last_px.to_string() == "1.38755");

  // Each worker counted the two flagged quotes and says so in ops.status (heartbeats
  // come every 200 ms: ask until each has reported them, for up to 10 s).
  std::string out;
  std::map<std::string, std::int64_t> flagged;
  for (int i = 0; i < 50; ++i) {
    REQUIRE(stack.run({itest::bin("traderctl"), "status", "--json"}, &out) == 0);
    auto st = codec::decode_ops_status(out);
    REQUIRE(st.ok());
    for (const auto& s : st->workers) flagged[s.worker] = s.flagged;
    if (flagged["risk-state"] == 2 && flagged["execution"] == 2 && flagged["reporter"] == 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  INFO(out);
  CHECK(flagged["risk-state"] == 2);
  CHECK(flagged["execution"] == 2);
  CHECK(flagged["reporter"] == 2);
  for (const auto* w : {"recorder", "ops", "risk-state", "execution", "reporter"}) CHECK(stack.worker(w).running());
}
