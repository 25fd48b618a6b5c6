// Trading states (issue 3): manual transitions, and the automatic ones (crisis mode)
// on a daily loss and a drawdown from peak equity, which never undo a person's halt.
#include "risk/pre_trade.hpp"

#include <optional>
#include <string>

#include "helpers.hpp"

using core::OrderType;
using core::RiskStateChanged;
using core::Side;
using core::TradingState;
using domain_test::dec;
using domain_test::fill;
using domain_test::kDay0;
using domain_test::kSec;
using domain_test::quote;

namespace {

constexpr core::TimestampNs kDay1 = kDay0 + core::kNsPerDay;

core::OrderSubmit market(Side side, std::string_view qty) {
  return core::OrderSubmit{.client_order_id = "c1",
                           .symbol = "AAPL",
                           .side = side,
                           .order_type = OrderType::market,
                           .quantity = dec(qty),
                           .time_in_force = core::TimeInForce::ioc,
                           .ts_event = kDay0};
}

/// AAPL mark at `px` (bid == ask == px).
core::Quote mark(std::string_view px, core::TimestampNs ts) { return quote("AAPL", px, px, ts); }

/// Long 100 AAPL at 100 (equity 0 at the fill price).
risk::RiskEngine long_100(risk::Limits lim) {
  risk::RiskEngine e{lim};
  e.on_execution(fill("f1", "AAPL", Side::buy, "100", "100", kDay0 + 10 * kSec));
  return e;
}

RiskStateChanged auto_event(TradingState to, TradingState from, std::string reason, core::TimestampNs ts) {
  return RiskStateChanged{
      .trading_state = to, .previous_state = from, .reason = std::move(reason), .source = "auto", .ts_event = ts};
}

}  // namespace

TEST_CASE("a person moves between every pair of states and each move carries its reason", "[risk][states]") {
  risk::RiskEngine e{{}};
  const TradingState all[] = {TradingState::active, TradingState::reducing, TradingState::halted};
  core::TimestampNs ts = kDay0;
  for (const auto from : all) {
    for (const auto to : all) {
      if (from == to) continue;
      (void)e.set_state(from, "setup", "manual", ts);
      const auto ev = e.set_state(to, fmt::format("to {}", to), "manual", ++ts);
      REQUIRE(ev.has_value());
      CHECK(*ev == RiskStateChanged{.trading_state = to,
                                    .previous_state = from,
                                    .reason = fmt::format("to {}", to),
                                    .source = "manual",
                                    .ts_event = ts});
      CHECK(e.state() == to);
      CHECK(e.state_reason() == fmt::format("to {}", to));
    }
  }
  CHECK(e.take_transitions().empty());  // manual changes are returned, not queued
}

TEST_CASE("automatic transitions are off by default", "[risk][states]") {
  auto e = long_100({});
  e.on_quote(mark("1", kDay0 + 20 * kSec));  // lose 9900
  e.on_execution(fill("f2", "AAPL", Side::sell, "100", "1", kDay0 + 30 * kSec));
  CHECK(e.equity() == dec("-9900"));
  CHECK(e.take_transitions().empty());
  CHECK(e.state() == TradingState::active);
}

TEST_CASE("a daily loss that reaches the limit halts trading on a mark", "[risk][states]") {
  auto e = long_100({.daily_loss_limit = dec("1000")});
  e.on_quote(mark("90.01", kDay0 + 20 * kSec));  // loss 999: below
  CHECK(e.take_transitions().empty());
  CHECK(e.state() == TradingState::active);
  e.on_quote(mark("90", kDay0 + 21 * kSec));  // loss 1000: at the limit trips
  const auto t = e.take_transitions();
  REQUIRE(t.size() == 1);
  const std::string reason = "daily_loss_limit: loss 1000 since 2014-05-06T00:00:00.000Z reaches limit 1000";
  CHECK(t[0] == auto_event(TradingState::halted, TradingState::active, reason, kDay0 + 21 * kSec));
  CHECK(e.take_transitions().empty());  // drained
  CHECK(e.state() == TradingState::halted);
  CHECK(e.state_reason() == reason);
  CHECK(e.check(market(Side::sell, "1")).reason == "trading halted: " + reason);
  // Further losses raise no new event.
  e.on_quote(mark("50", kDay0 + 22 * kSec));
  CHECK(e.take_transitions().empty());
}

TEST_CASE("a realized loss on a fill trips the daily loss limit at the fill's time", "[risk][states]") {
  auto e = long_100({.daily_loss_limit = dec("1000")});
  e.on_execution(fill("f2", "AAPL", Side::sell, "100", "89", kDay0 + 40 * kSec));
  const auto t = e.take_transitions();
  REQUIRE(t.size() == 1);
  CHECK(t[0] == auto_event(TradingState::halted, TradingState::active,
                           "daily_loss_limit: loss 1100 since 2014-05-06T00:00:00.000Z reaches limit 1000",
                           kDay0 + 40 * kSec));
}

TEST_CASE("the daily loss counts from the equity at the start of the UTC day", "[risk][states]") {
  auto e = long_100({.daily_loss_limit = dec("1000")});
  e.on_quote(mark("91", kDay0 + 20 * kSec));  // day 0: -900
  CHECK(e.take_transitions().empty());
  e.on_quote(mark("91", kDay1 + kSec));  // day 1 starts at equity -900
  CHECK(e.day_start_equity() == dec("-900"));
  e.on_quote(mark("82", kDay1 + 2 * kSec));  // -1800 in total, 900 today
  CHECK(e.take_transitions().empty());
  e.on_quote(mark("81", kDay1 + 3 * kSec));  // 1000 today
  const auto t = e.take_transitions();
  REQUIRE(t.size() == 1);
  CHECK(t[0].reason == "daily_loss_limit: loss 1000 since 2014-05-07T00:00:00.000Z reaches limit 1000");
  // A gain earlier in the day does not count as a loss: the baseline is the day start.
  auto g = long_100({.daily_loss_limit = dec("1000")});
  g.on_quote(mark("120", kDay0 + 20 * kSec));  // +2000
  g.on_quote(mark("91", kDay0 + 21 * kSec));   // -900 from the day start (0)
  CHECK(g.take_transitions().empty());
}

TEST_CASE("a drawdown from peak equity that reaches the limit moves active to reducing", "[risk][states]") {
  auto e = long_100({.max_drawdown = dec("500")});
  e.on_quote(mark("110", kDay0 + 20 * kSec));  // peak 1000
  e.on_quote(mark("105.01", kDay0 + 21 * kSec));  // drawdown 499
  CHECK(e.take_transitions().empty());
  CHECK(e.peak_equity() == dec("1000"));
  e.on_quote(mark("105", kDay0 + 22 * kSec));  // drawdown 500
  const auto t = e.take_transitions();
  REQUIRE(t.size() == 1);
  CHECK(t[0] == auto_event(TradingState::reducing, TradingState::active,
                           "max_drawdown: drawdown 500 from peak equity 1000 reaches limit 500",
                           kDay0 + 22 * kSec));
  CHECK(e.state() == TradingState::reducing);
  // The desk may unwind but not add.
  e.on_quote(quote("AAPL", "104", "106", kDay0 + 23 * kSec));
  CHECK(e.check(market(Side::sell, "100")).approved);
  CHECK(e.check(market(Side::buy, "1")).reason == "reducing: order would increase position");
  // Auto never moves back to active, even when equity recovers to a new peak.
  e.on_quote(mark("200", kDay0 + 24 * kSec));
  CHECK(e.take_transitions().empty());
  CHECK(e.state() == TradingState::reducing);
}

TEST_CASE("a drawdown and then a daily loss escalate active to reducing to halted", "[risk][states]") {
  auto e = long_100({.daily_loss_limit = dec("1000"), .max_drawdown = dec("500")});
  e.on_quote(mark("95", kDay0 + 20 * kSec));  // -500: drawdown 500
  e.on_quote(mark("90", kDay0 + 21 * kSec));  // -1000: daily loss 1000
  const auto t = e.take_transitions();
  REQUIRE(t.size() == 2);
  CHECK(t[0] == auto_event(TradingState::reducing, TradingState::active,
                           "max_drawdown: drawdown 500 from peak equity 0 reaches limit 500", kDay0 + 20 * kSec));
  CHECK(t[1] == auto_event(TradingState::halted, TradingState::reducing,
                           "daily_loss_limit: loss 1000 since 2014-05-06T00:00:00.000Z reaches limit 1000",
                           kDay0 + 21 * kSec));
  // Both at once: the halt wins and the drawdown adds nothing.
  auto both = long_100({.daily_loss_limit = dec("1000"), .max_drawdown = dec("500")});
  both.on_quote(mark("80", kDay0 + 20 * kSec));
  const auto b = both.take_transitions();
  REQUIRE(b.size() == 1);
  CHECK(b[0].trading_state == TradingState::halted);
}

TEST_CASE("automatic transitions never undo a person's halt", "[risk][states]") {
  auto e = long_100({.daily_loss_limit = dec("1000"), .max_drawdown = dec("100")});
  REQUIRE(e.set_state(TradingState::halted, "desk closed", "manual", kDay0 + 11 * kSec).has_value());
  e.on_quote(mark("95", kDay0 + 20 * kSec));  // drawdown 500: would be reducing
  e.on_quote(mark("50", kDay0 + 21 * kSec));  // daily loss 5000: would be halted
  CHECK(e.take_transitions().empty());
  CHECK(e.state() == TradingState::halted);
  CHECK(e.state_reason() == "desk closed");
}

TEST_CASE("a daily loss halts a desk a person set to reducing", "[risk][states]") {
  auto e = long_100({.daily_loss_limit = dec("1000"), .max_drawdown = dec("100")});
  REQUIRE(e.set_state(TradingState::reducing, "unwind", "manual", kDay0 + 11 * kSec).has_value());
  e.on_quote(mark("95", kDay0 + 20 * kSec));  // drawdown: already reducing, nothing to do
  CHECK(e.take_transitions().empty());
  e.on_quote(mark("90", kDay0 + 21 * kSec));
  const auto t = e.take_transitions();
  REQUIRE(t.size() == 1);
  CHECK(t[0].previous_state == TradingState::reducing);
  CHECK(t[0].trading_state == TradingState::halted);
}

TEST_CASE("a fired trigger stays latched until a person sets active", "[risk][states]") {
  auto e = long_100({.daily_loss_limit = dec("1000")});
  e.on_quote(mark("90", kDay0 + 20 * kSec));
  REQUIRE(e.take_transitions().size() == 1);
  // A person loosens the automatic halt to reducing to unwind: the loss does not re-halt.
  REQUIRE(e.set_state(TradingState::reducing, "unwinding", "manual", kDay0 + 21 * kSec).has_value());
  e.on_quote(mark("85", kDay0 + 22 * kSec));
  CHECK(e.take_transitions().empty());
  CHECK(e.state() == TradingState::reducing);
  // Setting active re-arms; the loss is still over the limit, so the next mark halts again.
  REQUIRE(e.set_state(TradingState::active, "resume", "manual", kDay0 + 23 * kSec).has_value());
  CHECK(e.state() == TradingState::active);
  e.on_quote(mark("85", kDay0 + 24 * kSec));
  const auto t = e.take_transitions();
  REQUIRE(t.size() == 1);
  CHECK(t[0] == auto_event(TradingState::halted, TradingState::active,
                           "daily_loss_limit: loss 1500 since 2014-05-06T00:00:00.000Z reaches limit 1000",
                           kDay0 + 24 * kSec));
  // Raising the limit lets a person resume for good.
  e.set_policy({.defaults = {.daily_loss_limit = dec("5000")}});
  REQUIRE(e.set_state(TradingState::active, "limit raised", "manual", kDay0 + 25 * kSec).has_value());
  e.on_quote(mark("85", kDay0 + 26 * kSec));
  CHECK(e.take_transitions().empty());
  CHECK(e.state() == TradingState::active);
}

TEST_CASE("an automatic halt stays through the next UTC day until a person resumes", "[risk][states]") {
  auto e = long_100({.daily_loss_limit = dec("1000")});
  e.on_quote(mark("90", kDay0 + 20 * kSec));
  REQUIRE(e.take_transitions().size() == 1);
  e.on_quote(mark("90", kDay1 + kSec));  // new day: loss today 0, but auto never resumes
  CHECK(e.take_transitions().empty());
  CHECK(e.state() == TradingState::halted);
  REQUIRE(e.set_state(TradingState::active, "new day", "manual", kDay1 + 2 * kSec).has_value());
  e.on_quote(mark("89", kDay1 + 3 * kSec));  // 100 today
  CHECK(e.take_transitions().empty());
  CHECK(e.check(market(Side::buy, "1")).approved);
}

TEST_CASE("marks of symbols without a position leave equity and state alone", "[risk][states]") {
  auto e = long_100({.daily_loss_limit = dec("1000")});
  e.on_quote(quote("MSFT", "1", "1", kDay0 + 20 * kSec));
  e.on_trade(domain_test::trade("IBM", "5", kDay0 + 21 * kSec));
  e.on_bar(domain_test::bar("EURUSD", "1.3", core::PriceType::bid, kDay0 + 22 * kSec));
  CHECK(e.equity().is_zero());
  CHECK(e.take_transitions().empty());
  // Trades and bars of a held symbol mark it (portfolio rules) and can trip the limit.
  e.on_trade(domain_test::trade("AAPL", "90", kDay0 + 23 * kSec));
  CHECK(e.equity() == dec("-1000"));
  CHECK(e.take_transitions().size() == 1);
}

// ---- drawdown_action halted (issue 3: "a drawdown that halts trading by itself") -------------

TEST_CASE("the drawdown action defaults to reducing and never halts", "[risk][states]") {
  CHECK(risk::Limits{}.drawdown_action == TradingState::reducing);
  // A desk a person set to reducing stays there: the default action only tightens active.
  auto e = long_100({.max_drawdown = dec("500")});
  REQUIRE(e.set_state(TradingState::reducing, "unwind", "manual", kDay0 + 11 * kSec).has_value());
  e.on_quote(mark("50", kDay0 + 20 * kSec));  // drawdown 5000
  CHECK(e.take_transitions().empty());
  CHECK(e.state() == TradingState::reducing);
}

TEST_CASE("a drawdown with action halted halts an active desk and denies the next order", "[risk][states]") {
  auto e = long_100({.max_drawdown = dec("500"), .drawdown_action = TradingState::halted});
  e.on_quote(mark("110", kDay0 + 20 * kSec));     // peak 1000
  e.on_quote(mark("105.01", kDay0 + 21 * kSec));  // drawdown 499
  CHECK(e.take_transitions().empty());
  CHECK(e.state() == TradingState::active);
  e.on_quote(mark("105", kDay0 + 22 * kSec));  // drawdown 500
  const std::string reason = "max_drawdown: drawdown 500 from peak equity 1000 reaches limit 500";
  const auto t = e.take_transitions();
  REQUIRE(t.size() == 1);
  CHECK(t[0] == auto_event(TradingState::halted, TradingState::active, reason, kDay0 + 22 * kSec));
  CHECK(e.state() == TradingState::halted);
  CHECK(e.state_reason() == reason);
  // Halted, not reducing: even an order that would unwind is denied.
  CHECK(e.check(market(Side::sell, "100")).reason == "trading halted: " + reason);
  // Further falls and a recovery to a new peak raise no event: latched, and auto never resumes.
  e.on_quote(mark("90", kDay0 + 23 * kSec));
  e.on_quote(mark("200", kDay0 + 24 * kSec));
  CHECK(e.take_transitions().empty());
  CHECK(e.state() == TradingState::halted);
}

TEST_CASE("a drawdown with action halted halts a desk a person set to reducing", "[risk][states]") {
  auto e = long_100({.max_drawdown = dec("500"), .drawdown_action = TradingState::halted});
  REQUIRE(e.set_state(TradingState::reducing, "unwind", "manual", kDay0 + 11 * kSec).has_value());
  e.on_quote(mark("95.01", kDay0 + 20 * kSec));  // drawdown 499
  CHECK(e.take_transitions().empty());
  e.on_quote(mark("95", kDay0 + 21 * kSec));  // drawdown 500
  const auto t = e.take_transitions();
  REQUIRE(t.size() == 1);
  CHECK(t[0] == auto_event(TradingState::halted, TradingState::reducing,
                           "max_drawdown: drawdown 500 from peak equity 0 reaches limit 500", kDay0 + 21 * kSec));
  CHECK(e.state() == TradingState::halted);
}

TEST_CASE("a drawdown halt stays latched until a person sets active", "[risk][states]") {
  auto e = long_100({.max_drawdown = dec("500"), .drawdown_action = TradingState::halted});
  e.on_quote(mark("95", kDay0 + 20 * kSec));
  REQUIRE(e.take_transitions().size() == 1);
  // A person loosens the automatic halt to reducing to unwind: the drawdown does not re-halt.
  REQUIRE(e.set_state(TradingState::reducing, "unwinding", "manual", kDay0 + 21 * kSec).has_value());
  e.on_quote(mark("90", kDay0 + 22 * kSec));
  CHECK(e.take_transitions().empty());
  CHECK(e.state() == TradingState::reducing);
  // Setting active re-arms; the drawdown is still past the limit, so the next mark halts again.
  REQUIRE(e.set_state(TradingState::active, "resume", "manual", kDay0 + 23 * kSec).has_value());
  e.on_quote(mark("90", kDay0 + 24 * kSec));
  const auto t = e.take_transitions();
  REQUIRE(t.size() == 1);
  CHECK(t[0] == auto_event(TradingState::halted, TradingState::active,
                           "max_drawdown: drawdown 1000 from peak equity 0 reaches limit 500", kDay0 + 24 * kSec));
}

TEST_CASE("a drawdown with action halted never undoes a person's halt", "[risk][states]") {
  auto e = long_100({.max_drawdown = dec("100"), .drawdown_action = TradingState::halted});
  REQUIRE(e.set_state(TradingState::halted, "desk closed", "manual", kDay0 + 11 * kSec).has_value());
  e.on_quote(mark("95", kDay0 + 20 * kSec));  // drawdown 500: would halt
  e.on_quote(mark("50", kDay0 + 21 * kSec));
  CHECK(e.take_transitions().empty());
  CHECK(e.state() == TradingState::halted);
  CHECK(e.state_reason() == "desk closed");
}

TEST_CASE("a drawdown that already moved the desk to reducing does not halt when the action becomes halted",
          "[risk][states]") {
  auto e = long_100({.max_drawdown = dec("500")});
  e.on_quote(mark("95", kDay0 + 20 * kSec));
  const auto t = e.take_transitions();
  REQUIRE(t.size() == 1);
  CHECK(t[0].trading_state == TradingState::reducing);
  // The trigger fired and is latched: a stricter action applies from the next re-arm.
  e.set_policy({.defaults = {.max_drawdown = dec("500"), .drawdown_action = TradingState::halted}});
  e.on_quote(mark("90", kDay0 + 21 * kSec));
  CHECK(e.take_transitions().empty());
  CHECK(e.state() == TradingState::reducing);
  REQUIRE(e.set_state(TradingState::active, "resume", "manual", kDay0 + 22 * kSec).has_value());
  e.on_quote(mark("90", kDay0 + 23 * kSec));
  const auto h = e.take_transitions();
  REQUIRE(h.size() == 1);
  CHECK(h[0].trading_state == TradingState::halted);
}
