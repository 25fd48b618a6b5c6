// Every pre-trade limit just below, at and just above its value (the smallest decimal
// step, 0.00000001, where the value is a decimal), for the defaults and for per-symbol
// overrides; every automatic trigger likewise; and the table of state transitions.
#include "risk/pre_trade.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "helpers.hpp"

using core::OrderType;
using core::Side;
using core::TradingState;
using domain_test::dec;
using domain_test::fill;
using domain_test::kDay0;
using domain_test::kSec;
using domain_test::quote;

namespace {

int g_id = 0;  // every order its own client_order_id

core::OrderSubmit order(std::string symbol, Side side, std::string_view qty,
                        std::optional<std::string_view> limit = std::nullopt, core::TimestampNs ts = kDay0,
                        std::string strategy = "s") {
  return core::OrderSubmit{.client_order_id = fmt::format("e{}", ++g_id),
                           .symbol = std::move(symbol),
                           .side = side,
                           .order_type = limit ? OrderType::limit : OrderType::market,
                           .quantity = dec(qty),
                           .limit_price = limit ? std::optional(dec(*limit)) : std::nullopt,
                           .strategy_id = std::move(strategy),
                           .ts_event = ts};
}

struct Edge {
  std::string name;
  risk::RiskPolicy policy;
  std::function<void(risk::RiskEngine&)> setup;
  core::OrderSubmit below, at, above;
  std::string reason;  ///< the denial of `above`
  /// For the counted limits: called after the `below` check (0) and the `at` check (1).
  std::function<void(risk::RiskEngine&, int)> step = [](risk::RiskEngine&, int) {};
};

/// AAPL quoted 99.5 / 100.5 (mid 100), IBM 180 / 180 (mid 180).
risk::RiskEngine engine(const risk::RiskPolicy& p) {
  risk::RiskEngine e{{}};
  e.set_policy(p);
  e.on_quote(quote("AAPL", "99.5", "100.5", kDay0));
  e.on_quote(quote("IBM", "180", "180", kDay0));
  return e;
}

// GCC 12 warns "may be used uninitialized" on the std::map inside these brace-initialized
// temporaries (a known false positive of -Wmaybe-uninitialized at -O2).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
std::vector<Edge> edges() {
  const auto none = [](risk::RiskEngine&) {};
  const auto long_900 = [](risk::RiskEngine& e) { e.on_execution(fill("f-900", "AAPL", Side::buy, "900", "100", kDay0)); };
  std::vector<Edge> out;
  out.push_back({"max_order_qty", {.defaults = {.max_order_qty = dec("100")}}, none,
                 order("AAPL", Side::buy, "99.99999999"), order("AAPL", Side::buy, "100"),
                 order("AAPL", Side::buy, "100.00000001"), "max_order_qty: quantity 100.00000001 exceeds limit 100"});
  out.push_back({"max_order_qty per symbol", {.per_symbol = {{"IBM", {.max_order_qty = dec("7")}}}}, none,
                 order("IBM", Side::sell, "6.99999999"), order("IBM", Side::sell, "7"),
                 order("IBM", Side::sell, "7.00000001"), "max_order_qty: quantity 7.00000001 exceeds limit 7"});
  out.push_back({"max_order_notional (limit price)", {.defaults = {.max_order_notional = dec("10000")}}, none,
                 order("AAPL", Side::buy, "100", "99.99999999"), order("AAPL", Side::buy, "100", "100"),
                 order("AAPL", Side::buy, "100", "100.00000001"),
                 "max_order_notional: notional 10000.000001 exceeds limit 10000"});
  out.push_back({"max_order_notional (market buy at the ask)", {.defaults = {.max_order_notional = dec("10050")}},
                 none, order("AAPL", Side::buy, "99.99999999"), order("AAPL", Side::buy, "100"),
                 order("AAPL", Side::buy, "100.00000001"),
                 "max_order_notional: notional 10050.000001 exceeds limit 10050"});
  out.push_back({"max_order_notional per symbol", {.per_symbol = {{"IBM", {.max_order_notional = dec("1800")}}}},
                 none, order("IBM", Side::sell, "9.99999999"), order("IBM", Side::sell, "10"),
                 order("IBM", Side::sell, "10.00000001"),
                 "max_order_notional: notional 1800.0000018 exceeds limit 1800"});
  out.push_back({"price_band_bps above the mid", {.defaults = {.price_band_bps = dec("100")}}, none,
                 order("AAPL", Side::buy, "1", "100.99999999"), order("AAPL", Side::buy, "1", "101"),
                 order("AAPL", Side::buy, "1", "101.00000001"),
                 "price_band: limit_price 101.00000001 is 100.01 bps from mid 100, band 100 bps"});
  out.push_back({"price_band_bps below the mid, per symbol", {.per_symbol = {{"IBM", {.price_band_bps = dec("50")}}}},
                 none, order("IBM", Side::sell, "1", "179.10000001"), order("IBM", Side::sell, "1", "179.1"),
                 order("IBM", Side::sell, "1", "179.09999999"),
                 "price_band: limit_price 179.09999999 is 50.01 bps from mid 180, band 50 bps"});
  out.push_back({"max_position long", {.defaults = {.max_position = dec("1000")}}, long_900,
                 order("AAPL", Side::buy, "99.99999999", "100"), order("AAPL", Side::buy, "100", "100"),
                 order("AAPL", Side::buy, "100.00000001", "100"),
                 "max_position: position after fill 1000.00000001 exceeds limit 1000"});
  out.push_back({"max_position short through zero", {.defaults = {.max_position = dec("1000")}}, long_900,
                 order("AAPL", Side::sell, "1899.99999999", "100"), order("AAPL", Side::sell, "1900", "100"),
                 order("AAPL", Side::sell, "1900.00000001", "100"),
                 "max_position: position after fill -1000.00000001 exceeds limit 1000"});
  out.push_back({"max_position per symbol", {.defaults = {.max_position = dec("1000")},
                                             .per_symbol = {{"IBM", {.max_position = dec("5")}}}},
                 none, order("IBM", Side::sell, "4.99999999", "180"), order("IBM", Side::sell, "5", "180"),
                 order("IBM", Side::sell, "5.00000001", "180"),
                 "max_position: position after fill -5.00000001 exceeds limit 5"});
  out.push_back({"max_gross_exposure", {.defaults = {.max_gross_exposure = dec("100000")}}, long_900,  // 90000
                 order("AAPL", Side::buy, "99.99999999", "100"), order("AAPL", Side::buy, "100", "100"),
                 order("AAPL", Side::buy, "100.00000001", "100"),
                 "max_gross_exposure: gross exposure after fill 100000.000001 exceeds limit 100000"});
  out.push_back({"max_gross_exposure over two symbols", {.defaults = {.max_gross_exposure = dec("91800")}},
                 long_900,  // 90000 + 10 IBM x 180 = 91800
                 order("IBM", Side::sell, "9.99999999", "180"), order("IBM", Side::sell, "10", "180"),
                 order("IBM", Side::sell, "10.00000001", "180"),
                 "max_gross_exposure: gross exposure after fill 91800.0000018 exceeds limit 91800"});
  // Counted limits: the same kind of order as the 3rd of 4, the 4th of 4 and the 5th of 4.
  const auto open_one = [](risk::RiskEngine& e, int) {
    e.on_approved({.client_order_id = fmt::format("open-{}", ++g_id), .symbol = "AAPL", .quantity = dec("1"),
                   .strategy_id = "other"});
  };
  out.push_back({"max_open_orders", {.defaults = {.max_open_orders = 4}},
                 [open_one](risk::RiskEngine& e) {
                   open_one(e, 0);
                   open_one(e, 0);
                 },
                 order("AAPL", Side::buy, "1"), order("AAPL", Side::buy, "1"), order("AAPL", Side::buy, "1"),
                 "max_open_orders: open orders after approval 5 exceeds limit 4", open_one});
  // Rate: entries at t - 1s + 1 and t; `below` at t + 1 no longer sees the first (window (t-1s, t]).
  out.push_back({"max_orders_per_window", {.defaults = {.max_orders_per_window = 3, .rate_window_ns = kSec}},
                 [](risk::RiskEngine& e) {
                   e.on_approved(order("AAPL", Side::buy, "1", std::nullopt, kDay0 - kSec + 1));
                   e.on_approved(order("AAPL", Side::buy, "1", std::nullopt, kDay0));
                 },
                 order("AAPL", Side::buy, "1", std::nullopt, kDay0 + 1),  // 2nd of 3
                 order("AAPL", Side::buy, "1", std::nullopt, kDay0),      // 3rd of 3
                 order("AAPL", Side::buy, "1", std::nullopt, kDay0),      // 4th of 3
                 "max_orders_per_window: 4 orders in 1s for strategy s, limit 3",
                 [](risk::RiskEngine& e, int i) {
                   if (i == 1) e.on_approved(order("AAPL", Side::buy, "1", std::nullopt, kDay0));
                 }});
  return out;
}
#pragma GCC diagnostic pop

}  // namespace

TEST_CASE("every limit passes just below and at its value and denies just above", "[risk][edges]") {
  for (auto& edge : edges()) {
    INFO(edge.name);
    auto e = engine(edge.policy);
    edge.setup(e);
    CHECK(e.check(edge.below).approved);
    edge.step(e, 0);
    CHECK(e.check(edge.at).approved);
    edge.step(e, 1);
    const auto d = e.check(edge.above);
    CHECK_FALSE(d.approved);
    CHECK(d.reason == edge.reason);
    // decide() records nothing for the denial: the same order is still denied.
    CHECK(e.decide(edge.above).reason == d.reason);
  }
}

TEST_CASE("the automatic triggers fire at their limit, not a hair before", "[risk][edges][states]") {
  // Long 100000 AAPL at 100: a mark 0.00000001 lower loses 0.001.
  const auto run = [](risk::Limits lim, std::string_view px) {
    risk::RiskEngine e{lim};
    e.on_execution(fill("f1", "AAPL", Side::buy, "100000", "100", kDay0 + kSec));
    e.on_quote(quote("AAPL", px, px, kDay0 + 2 * kSec));
    return e.take_transitions();
  };
  // daily_loss_limit 1000: mark 99.99 loses 1000.
  CHECK(run({.daily_loss_limit = dec("1000")}, "99.99000001").empty());  // 999.999
  auto at = run({.daily_loss_limit = dec("1000")}, "99.99");
  REQUIRE(at.size() == 1);
  CHECK(at[0].reason == "daily_loss_limit: loss 1000 since 2014-05-06T00:00:00.000Z reaches limit 1000");
  auto above = run({.daily_loss_limit = dec("1000")}, "99.98999999");
  REQUIRE(above.size() == 1);
  CHECK(above[0].reason == "daily_loss_limit: loss 1000.001 since 2014-05-06T00:00:00.000Z reaches limit 1000");
  // max_drawdown 1000 from the peak of 0.
  CHECK(run({.max_drawdown = dec("1000")}, "99.99000001").empty());
  auto dd = run({.max_drawdown = dec("1000")}, "99.99");
  REQUIRE(dd.size() == 1);
  CHECK(dd[0].trading_state == TradingState::reducing);
  CHECK(dd[0].reason == "max_drawdown: drawdown 1000 from peak equity 0 reaches limit 1000");
  CHECK(run({.max_drawdown = dec("1000")}, "99.98999999").size() == 1);
}

TEST_CASE("the state transition table: who moves which state where", "[risk][edges][states]") {
  struct Row {
    TradingState start;               ///< set by a person before the loss
    std::string_view mark;            ///< after long 100 at 100: 95 = drawdown 500, 90 = loss 1000
    std::vector<TradingState> autos;  ///< automatic transitions made
    TradingState end;
  };
  const Row rows[] = {
      {TradingState::active, "100", {}, TradingState::active},
      {TradingState::active, "95", {TradingState::reducing}, TradingState::reducing},
      {TradingState::active, "90", {TradingState::halted}, TradingState::halted},  // the halt wins
      {TradingState::reducing, "95", {}, TradingState::reducing},
      {TradingState::reducing, "90", {TradingState::halted}, TradingState::halted},
      {TradingState::halted, "95", {}, TradingState::halted},
      {TradingState::halted, "90", {}, TradingState::halted},
  };
  for (const auto& row : rows) {
    INFO("start " << core::to_string(row.start) << ", mark " << row.mark);
    risk::RiskEngine e{{.daily_loss_limit = dec("1000"), .max_drawdown = dec("500")}};
    e.on_execution(fill("f1", "AAPL", Side::buy, "100", "100", kDay0 + kSec));
    (void)e.set_state(row.start, "person", "manual", kDay0 + kSec);
    e.on_quote(quote("AAPL", row.mark, row.mark, kDay0 + 2 * kSec));
    std::vector<TradingState> got;
    for (const auto& t : e.take_transitions()) {
      CHECK(t.source == "auto");
      CHECK(t.previous_state == (got.empty() ? row.start : got.back()));
      got.push_back(t.trading_state);
    }
    CHECK(got == row.autos);
    CHECK(e.state() == row.end);
    // A person can always move anywhere; only active re-arms the triggers.
    if (row.end != TradingState::active) {
      REQUIRE(e.set_state(TradingState::active, "resume", "manual", kDay0 + 3 * kSec));
      e.on_quote(quote("AAPL", row.mark, row.mark, kDay0 + 4 * kSec));
      CHECK(e.take_transitions().size() == (row.mark == std::string_view("100") ? 0u : 1u));
    }
  }
}

TEST_CASE("a drawdown with action halted halts at its limit, not a hair before", "[risk][edges][states]") {
  // Long 100000 AAPL at 100: a mark 0.00000001 lower loses 0.001.
  const auto run = [](std::string_view px) {
    risk::RiskEngine e{{.max_drawdown = dec("1000"), .drawdown_action = TradingState::halted}};
    e.on_execution(fill("f1", "AAPL", Side::buy, "100000", "100", kDay0 + kSec));
    e.on_quote(quote("AAPL", px, px, kDay0 + 2 * kSec));
    return e.take_transitions();
  };
  CHECK(run("99.99000001").empty());  // drawdown 999.999
  const auto at = run("99.99");
  REQUIRE(at.size() == 1);
  CHECK(at[0].trading_state == TradingState::halted);
  CHECK(at[0].previous_state == TradingState::active);
  CHECK(at[0].source == "auto");
  CHECK(at[0].reason == "max_drawdown: drawdown 1000 from peak equity 0 reaches limit 1000");
  const auto above = run("99.98999999");
  REQUIRE(above.size() == 1);
  CHECK(above[0].trading_state == TradingState::halted);
  CHECK(above[0].reason == "max_drawdown: drawdown 1000.001 from peak equity 0 reaches limit 1000");
}

TEST_CASE("the state transition table with drawdown action halted", "[risk][edges][states]") {
  struct Row {
    TradingState start;       ///< set by a person before the loss
    std::string_view mark;    ///< after long 100 at 100: 95 = drawdown 500, 90 = loss 1000
    std::string_view reason;  ///< the trigger of the one automatic halt, "" = none
  };
  const Row rows[] = {
      {TradingState::active, "100", ""},
      {TradingState::active, "95", "max_drawdown"},
      {TradingState::active, "90", "daily_loss_limit"},  // both: the daily loss is evaluated first
      {TradingState::reducing, "95", "max_drawdown"},
      {TradingState::reducing, "90", "daily_loss_limit"},
      {TradingState::halted, "95", ""},
      {TradingState::halted, "90", ""},
  };
  for (const auto& row : rows) {
    INFO("start " << core::to_string(row.start) << ", mark " << row.mark);
    risk::RiskEngine e{
        {.daily_loss_limit = dec("1000"), .max_drawdown = dec("500"), .drawdown_action = TradingState::halted}};
    e.on_execution(fill("f1", "AAPL", Side::buy, "100", "100", kDay0 + kSec));
    (void)e.set_state(row.start, "person", "manual", kDay0 + kSec);
    e.on_quote(quote("AAPL", row.mark, row.mark, kDay0 + 2 * kSec));
    const auto t = e.take_transitions();
    if (row.reason.empty()) {
      CHECK(t.empty());
      CHECK(e.state() == row.start);
      continue;
    }
    REQUIRE(t.size() == 1);
    CHECK(t[0].source == "auto");
    CHECK(t[0].previous_state == row.start);
    CHECK(t[0].trading_state == TradingState::halted);
    CHECK(t[0].reason.starts_with(row.reason));
    CHECK(e.state() == TradingState::halted);
  }
}
