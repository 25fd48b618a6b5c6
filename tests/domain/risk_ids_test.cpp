// client_order_id is idempotent (issue 3): a resend is not decided twice, a reuse is
// denied, and denial reports carry unique, deterministic exec_ids that a rebuild recounts.
#include "risk/pre_trade.hpp"

#include <optional>
#include <string>
#include <vector>

#include "helpers.hpp"

using core::ExecType;
using core::OrderStatus;
using core::OrderType;
using core::Side;
using core::TradingState;
using domain_test::dec;
using domain_test::fill;
using domain_test::kDay0;
using domain_test::quote;

namespace {

core::OrderSubmit order(std::string id, std::string_view qty = "10", core::TimestampNs ts = kDay0,
                        std::string strategy = "s") {
  return core::OrderSubmit{.client_order_id = std::move(id),
                           .symbol = "AAPL",
                           .side = Side::buy,
                           .order_type = OrderType::stop_limit,
                           .quantity = dec(qty),
                           .limit_price = dec("101"),
                           .time_in_force = core::TimeInForce::gtd,
                           .strategy_id = std::move(strategy),
                           .ts_event = ts,
                           .stop_price = dec("100.75"),
                           .expire_time = kDay0 + core::kNsPerDay};
}

risk::RiskEngine engine(risk::Limits lim = {}) {
  risk::RiskEngine e{lim};
  e.on_quote(quote("AAPL", "99.5", "100.5", kDay0));
  return e;
}

}  // namespace

TEST_CASE("an identical resend of an approved order is ignored: not approved again, not counted",
          "[risk][ids]") {
  auto e = engine({.max_open_orders = 5, .max_orders_per_window = 1});
  REQUIRE(e.decide(order("a")).approved);
  // The same order again, stamped later (a hand-typed resend is stamped at ingress).
  // It names another cause (a resend is another message in the log): still the same order.
  auto resend = order("a", "10", kDay0 + 5);
  resend.cause_seq = 77;
  const auto d = e.decide(resend);
  CHECK_FALSE(d.approved);
  CHECK(d.duplicate);
  CHECK(d.reason == "resend of a ignored: already approved");
  CHECK(d.exec_id.empty());
  CHECK(e.open_orders() == 1);
  // Not in the rate window either: with limit 1 a second real order is the 2nd.
  CHECK(e.check(order("b")).reason == "max_orders_per_window: 2 orders in 1s for strategy s, limit 1");
  // The resend check comes before every other check: even halted it is a duplicate.
  (void)e.set_state(TradingState::halted, "h", "manual", kDay0);
  CHECK(e.check(order("a")).duplicate);
}

TEST_CASE("an identical resend of a denied order is ignored, and no second report is due", "[risk][ids]") {
  auto e = engine({.max_order_qty = dec("5")});
  const auto d = e.decide(order("a"));
  REQUIRE_FALSE(d.approved);
  CHECK_FALSE(d.duplicate);
  CHECK(d.exec_id == "a-denied");
  const auto again = e.decide(order("a", "10", kDay0 + 1));
  CHECK(again.duplicate);
  CHECK(again.reason == "resend of a ignored: already denied");
  CHECK(again.exec_id.empty());
  // Raising the limit does not turn a resend into a new decision.
  e.set_policy({.defaults = {.max_order_qty = dec("50")}});
  CHECK(e.decide(order("a")).duplicate);
}

TEST_CASE("a client_order_id reused for a different order is denied, each denial with its own exec_id",
          "[risk][ids]") {
  auto e = engine({.max_order_qty = dec("50")});
  REQUIRE(e.decide(order("a")).approved);
  const auto d = e.decide(order("a", "11"));
  CHECK_FALSE(d.approved);
  CHECK_FALSE(d.duplicate);
  CHECK(d.reason == "duplicate client_order_id: a is already used by another order");
  CHECK(d.exec_id == "a-denied");
  CHECK(e.decide(order("a", "12")).exec_id == "a-denied-2");
  // Every field counts: side, type, prices, time in force, strategy, expiry.
  auto sell = order("a");
  sell.side = Side::sell;
  CHECK(e.decide(sell).exec_id == "a-denied-3");
  CHECK(e.check(order("a", "10", kDay0, "t")).reason == "duplicate client_order_id: a is already used by another order");
  auto later = order("a");
  later.expire_time = kDay0 + 2 * core::kNsPerDay;
  CHECK_FALSE(e.check(later).approved);
  // The original is untouched: still open, still the same terms; its resend is still a resend.
  CHECK(e.open_orders() == 1);
  CHECK(e.order("a")->order == order("a"));
  CHECK(e.decide(order("a")).duplicate);
  // A denied id reused: the first denial was "x-denied", the reuse "x-denied-2".
  CHECK(e.decide(order("x", "60")).exec_id == "x-denied");
  CHECK(e.decide(order("x", "1")).exec_id == "x-denied-2");
  // The reports of those denials carry the exec_ids.
  const auto dd = e.decide(order("x", "2"));
  const auto rep = risk::denied_report(order("x", "2"), dd, kDay0 + 9);
  CHECK(rep.exec_id == "x-denied-3");
  CHECK(rep.text == "duplicate client_order_id: x is already used by another order");
  CHECK(rep.stop_price == dec("100.75"));
  CHECK(rep.expire_time == kDay0 + core::kNsPerDay);
}

TEST_CASE("an id known only from the venue's reports cannot be reused", "[risk][ids]") {
  auto e = engine();
  e.on_execution(fill("venue-1", "AAPL", Side::buy, "5", "100", kDay0));
  const auto d = e.check(order("venue-1"));
  CHECK(d.reason == "duplicate client_order_id: venue-1 is already used by another order");
  CHECK_FALSE(d.duplicate);
}

TEST_CASE("a replace resend is ignored and a replace reusing any known id is denied", "[risk][ids]") {
  auto e = engine();
  REQUIRE(e.decide(order("a")).approved);
  REQUIRE(e.decide(order("b")).approved);
  const core::OrderReplace r{.client_order_id = "a2", .orig_client_order_id = "a", .quantity = dec("8"),
                             .ts_event = kDay0 + 1};
  REQUIRE(e.decide_replace(r).approved);
  auto resend = r;
  resend.ts_event = kDay0 + 7;
  const auto d = e.decide_replace(resend);
  CHECK(d.duplicate);
  CHECK(d.reason == "resend of a2 ignored: already approved");
  // Same new id, different content: denied.
  auto changed = r;
  changed.quantity = dec("9");
  CHECK(e.decide_replace(changed).reason == "duplicate client_order_id: a2 is already used by another order");
  // A new id that is another order's id: denied.
  const core::OrderReplace onto_b{.client_order_id = "b", .orig_client_order_id = "a", .quantity = dec("8")};
  const auto db = e.decide_replace(onto_b);
  CHECK(db.reason == "duplicate client_order_id: b is already used by another order");
  CHECK(db.exec_id == "b-denied");
  // A submit reusing a replace's new id: denied too.
  CHECK(e.check(order("a2")).reason == "duplicate client_order_id: a2 is already used by another order");
  CHECK(e.open_orders() == 2);
}

TEST_CASE("recorded denial reports rebuild which ids were decided and how many times they were denied",
          "[risk][ids]") {
  // The live engine denies, and its reports go to the event store.
  auto live = engine({.max_order_qty = dec("5")});
  std::vector<core::ExecutionReport> recorded;
  for (const auto& o : {order("a"), order("a", "3"), order("c", "7")}) {
    const auto d = live.decide(o);
    REQUIRE_FALSE(d.approved);
    recorded.push_back(risk::denied_report(o, d, o.ts_event));
  }
  REQUIRE(live.decide(order("ok", "5")).approved);
  const core::OrderReplace r{.client_order_id = "ok2", .orig_client_order_id = "ok", .quantity = dec("6")};
  const auto dr = live.decide_replace(r);
  REQUIRE_FALSE(dr.approved);
  recorded.push_back(risk::denied_replace_report(r, dr.reason, kDay0, *live.order("ok"), dr.exec_id));
  CHECK(recorded[0].exec_id == "a-denied");
  CHECK(recorded[1].exec_id == "a-denied-2");
  CHECK(recorded[2].exec_id == "c-denied");
  CHECK(recorded[3].exec_id == "ok2-denied");

  // A fresh engine that replays the approvals and the reports decides the same way.
  auto again = engine({.max_order_qty = dec("5")});
  again.on_approved(order("ok", "5"));
  for (const auto& rep : recorded) again.on_execution(rep);
  CHECK(again.check(order("a", "10", kDay0 + 9)).duplicate);  // resend of the first "a"
  CHECK(again.check(order("a", "10", kDay0 + 9)).reason == "resend of a ignored: already denied");
  CHECK(again.check(order("c", "7", kDay0 + 9)).duplicate);
  const auto reuse = again.check(order("a", "4"));
  CHECK(reuse.reason == "duplicate client_order_id: a is already used by another order");
  CHECK(reuse.exec_id == live.check(order("a", "4")).exec_id);
  CHECK(reuse.exec_id == "a-denied-3");
  CHECK(again.check_replace(r).duplicate);
  CHECK(again.check_replace(r).reason == "resend of ok2 ignored: already denied");
  // Applying the reports to the live engine too (they come back on trading.executions) changes nothing.
  for (const auto& rep : recorded) live.on_execution(rep);
  CHECK(live.check(order("a", "4")).exec_id == "a-denied-3");
  CHECK(live.open_orders() == again.open_orders());
}
