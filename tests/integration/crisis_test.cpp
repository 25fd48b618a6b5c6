// Crisis mode over the wire: a loss past the daily limit, or a drawdown from peak
// equity with drawdown action halted, halts trading by itself, the transition is
// published on risk.state with its reason, and the next order is denied. A person's
// resume re-arms the automatic stop.
#include <catch2/catch.hpp>

#include <string>
#include <thread>

#include <fmt/format.h>

#include "stack.hpp"

namespace {

/// The first quote (EURUSD 1.38742 / 1.38755, from the feed) and a person's market buy
/// of 1000 with `client_order_id`, typed as JSON; returns once its fill (exec_id
/// "<id>-2") is reported.
void buy_1000_eurusd(natsio::Connection& feed, natsio::Connection& person, itest::Tap& tap,
                     const std::string& client_order_id) {
  feed.publish("market.data.EURUSD",
               R"({"type":"quote","symbol":"EURUSD","bid":"1.38742","ask":"1.38755","ts_event":1399334400158000000})");
  feed.flush();  // the quote reaches every worker before the order (another connection)
  person.publish("trading.orders", fmt::format(R"({{"type":"order.submit","client_order_id":"{}","symbol":"EURUSD",)"
                                               R"("side":"buy","order_type":"market","quantity":1000}})",
                                               client_order_id));
  REQUIRE_FALSE(
      tap.wait_for("trading.executions", {fmt::format(R"("client_order_id":"{0}","exec_id":"{0}-2")", client_order_id)})
          .empty());
}

}  // namespace

TEST_CASE("a loss past the daily limit halts trading by itself and denies the next order",
          "[integration][risk][crisis]") {
  itest::nats_library();
  itest::Stack stack(std::vector<std::pair<std::string, std::string>>{{"RISK_DAILY_LOSS_LIMIT", "50"}});
  itest::Tap tap(stack.nats_url());
  stack.start({"recorder", "ops", "risk-state", "execution"});
  natsio::Connection feed({.url = stack.nats_url("feed"), .name = "feed"});
  natsio::Connection person({.url = stack.nats_url("operator"), .name = "person"});

  buy_1000_eurusd(feed, person, tap, "c-1");

  // The market falls 0.1: long 1000 loses about 100 > 50.
  feed.publish("market.data.EURUSD",
                 R"({"type":"quote","symbol":"EURUSD","bid":"1.28742","ask":"1.28755","ts_event":1399334460000000000})");
  const auto halted = tap.wait_for("risk.state", {R"("source":"auto")"});
  REQUIRE_FALSE(halted.empty());
  CHECK_THAT(halted, Catch::Contains(R"("trading_state":"halted")") && Catch::Contains("daily_loss_limit"));

  person.publish("trading.orders",
                 R"({"type":"order.submit","client_order_id":"c-2","symbol":"EURUSD","side":"buy","order_type":"market","quantity":10})");
  const auto denied = tap.wait_for("trading.executions", {R"("client_order_id":"c-2")"});
  CHECK_THAT(denied, Catch::Contains(R"("exec_type":"denied")") && Catch::Contains("trading halted: daily_loss_limit"));

  // A person resumes; the state change is manual and recorded.
  const auto reply = person.request("risk.management", R"({"type":"resume","reason":"reviewed the loss"})", 3000);
  CHECK_THAT(reply, Catch::Contains(R"("trading_state":"active")") && Catch::Contains(R"("source":"manual")"));
}

TEST_CASE("a drawdown past max_drawdown with action halted halts trading by itself and denies the next order",
          "[integration][risk][crisis]") {
  itest::nats_library();
  itest::Stack stack(std::vector<std::pair<std::string, std::string>>{{"RISK_MAX_DRAWDOWN", "20"},
                                                                      {"RISK_DRAWDOWN_ACTION", "halted"}});
  itest::Tap tap(stack.nats_url());
  stack.start({"recorder", "ops", "risk-state", "execution"});
  natsio::Connection feed({.url = stack.nats_url("feed"), .name = "feed"});
  natsio::Connection person({.url = stack.nats_url("operator"), .name = "person"});
  // The setting is part of the policy risk-state announces at start.
  CHECK_FALSE(tap.wait_for("risk.state", {R"("type":"risk.policy")", R"("drawdown_action":"halted")"}).empty());

  buy_1000_eurusd(feed, person, tap, "d-1");

  // The market rises 0.02: long 1000 at 1.38755 marked at the mid 1.407485, equity (and its peak) 19.935.
  feed.publish("market.data.EURUSD",
                 R"({"type":"quote","symbol":"EURUSD","bid":"1.40742","ask":"1.40755","ts_event":1399334430000000000})");
  // Then falls 0.03 from there: equity -10.065, a drawdown of 30 from the peak, past 20.
  feed.publish("market.data.EURUSD",
                 R"({"type":"quote","symbol":"EURUSD","bid":"1.37742","ask":"1.37755","ts_event":1399334460000000000})");
  const auto halted = tap.wait_for("risk.state", {R"("source":"auto")"});
  REQUIRE_FALSE(halted.empty());
  CHECK_THAT(halted, Catch::Contains(R"("trading_state":"halted")") &&
                         Catch::Contains(R"("previous_state":"active")") &&
                         Catch::Contains("max_drawdown: drawdown 30 from peak equity 19.935 reaches limit 20"));

  // Halted, not reducing: even a sell that would shrink the position is denied.
  person.publish("trading.orders",
                 R"({"type":"order.submit","client_order_id":"d-2","symbol":"EURUSD","side":"sell","order_type":"market","quantity":10})");
  const auto denied = tap.wait_for("trading.executions", {R"("client_order_id":"d-2")"});
  CHECK_THAT(denied, Catch::Contains(R"("exec_type":"denied")") && Catch::Contains("trading halted: max_drawdown"));

  // A person resumes; the state change is manual and recorded.
  const auto reply = person.request("risk.management", R"({"type":"resume","reason":"reviewed the drawdown"})", 3000);
  CHECK_THAT(reply, Catch::Contains(R"("trading_state":"active")") && Catch::Contains(R"("source":"manual")"));
}
