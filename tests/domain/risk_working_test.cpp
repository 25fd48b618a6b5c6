// Working orders count in max_position and max_gross_exposure (issue 11, "Risk counts
// working orders"): the open quantity per symbol and side follows approvals, fills,
// terminal reports, replaces and a rebuild exactly, and checks 7 and 8 judge the worst
// case of each side, so several orders cannot together breach a limit one could not.
#include "risk/pre_trade.hpp"

#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "helpers.hpp"

using core::ExecType;
using core::OrderStatus;
using core::OrderType;
using core::Side;
using domain_test::dec;
using domain_test::fill;
using domain_test::kDay0;
using domain_test::kSec;
using domain_test::quote;
using risk::SymbolExposure;

namespace Catch {
template <>
struct StringMaker<SymbolExposure> {
  static std::string convert(const SymbolExposure& x) {
    return fmt::format("{{position {}, working_buy {}, working_sell {}}}", x.position, x.working_buy,
                       x.working_sell);
  }
};
}  // namespace Catch

namespace {

struct Ord {
  std::string id;
  std::string symbol = "AAPL";
  Side side = Side::buy;
  std::string_view qty = "900";
  std::optional<std::string_view> limit = "95";  ///< nullopt: a market order
};

core::OrderSubmit order(const Ord& o) {
  return core::OrderSubmit{.client_order_id = o.id,
                           .symbol = o.symbol,
                           .side = o.side,
                           .order_type = o.limit ? OrderType::limit : OrderType::market,
                           .quantity = dec(o.qty),
                           .limit_price = o.limit ? std::optional(dec(*o.limit)) : std::nullopt,
                           .time_in_force = core::TimeInForce::gtc,
                           .strategy_id = "s",
                           .ts_event = kDay0};
}

/// The venue's report on `o`: last_qty `last` at the order's limit price (100 for a
/// market order), cum_qty `cum`.
core::ExecutionReport exec(const core::OrderSubmit& o, ExecType type, OrderStatus status, std::string_view last = "0",
                           std::string_view cum = "0", core::TimestampNs ts = kDay0 + kSec) {
  const auto px = dec(last) == core::Quantity{} ? core::Price{} : o.limit_price.value_or(dec("100"));
  return core::ExecutionReport{.client_order_id = o.client_order_id,
                               .exec_id = fmt::format("{}-{}-{}", o.client_order_id, core::to_string(type), cum),
                               .exec_type = type,
                               .order_status = status,
                               .symbol = o.symbol,
                               .side = o.side,
                               .order_type = o.order_type,
                               .time_in_force = o.time_in_force,
                               .quantity = o.quantity,
                               .limit_price = o.limit_price,
                               .last_qty = dec(last),
                               .last_px = px,
                               .cum_qty = dec(cum),
                               .leaves_qty = core::is_terminal(status) ? core::Quantity{} : o.quantity - dec(cum),
                               .avg_px = dec(cum).is_zero() ? core::Price{} : o.limit_price.value_or(dec("100")),
                               .strategy_id = o.strategy_id,
                               .ts_event = ts};
}

core::OrderReplace replace(std::string id, std::string orig, std::optional<std::string_view> qty,
                           std::optional<std::string_view> limit = std::nullopt) {
  return core::OrderReplace{.client_order_id = std::move(id),
                            .orig_client_order_id = std::move(orig),
                            .quantity = qty ? std::optional(dec(*qty)) : std::nullopt,
                            .limit_price = limit ? std::optional(dec(*limit)) : std::nullopt,
                            .ts_event = kDay0 + kSec};
}

/// The venue's `replaced` report: `o` now lives under r's new id with r's terms, cum_qty `cum`.
core::ExecutionReport replaced(const core::OrderSubmit& o, const core::OrderReplace& r, std::string_view cum = "0") {
  core::OrderSubmit moved = o;
  moved.client_order_id = r.client_order_id;
  if (r.quantity) moved.quantity = *r.quantity;
  if (r.limit_price) moved.limit_price = r.limit_price;
  auto rep = exec(moved, ExecType::replaced, dec(cum).is_zero() ? OrderStatus::new_ : OrderStatus::partially_filled,
                  "0", cum, r.ts_event);
  rep.leaves_qty = max(core::Quantity{}, moved.quantity - dec(cum));
  rep.orig_client_order_id = r.orig_client_order_id;
  return rep;
}

/// AAPL quoted 99.5 / 100.5 (mid 100), MSFT 49.5 / 50.5 (mid 50).
risk::RiskEngine engine(risk::Limits lim) {
  risk::RiskEngine e{lim};
  e.on_quote(quote("AAPL", "99.5", "100.5", kDay0));
  e.on_quote(quote("MSFT", "49.5", "50.5", kDay0));
  return e;
}

}  // namespace

TEST_CASE("issue 11: five working buys of 900 cannot together breach max_position 1000", "[risk][working]") {
  auto e = engine({.max_position = dec("1000")});
  const auto b1 = order({.id = "b1"});  // buy 900 @ 95, below the market
  REQUIRE(e.decide(b1).approved);
  CHECK(e.working_qty("AAPL", Side::buy) == dec("900"));
  CHECK(e.working_qty("AAPL", Side::sell).is_zero());
  for (const char* id : {"b2", "b3", "b4", "b5"}) {
    INFO(id);
    const auto d = e.decide(order({.id = id}));
    CHECK_FALSE(d.approved);
    CHECK(d.reason == "max_position: position with working orders after fill 1800 exceeds limit 1000");
  }
  // Denials count nothing; check() is a query.
  CHECK(e.exposure("AAPL") == SymbolExposure{.working_buy = dec("900")});
  CHECK(e.open_order_ids() == std::vector<std::string>{"b1"});
  CHECK(e.check(order({.id = "q1", .qty = "100"})).approved);  // 900 + 100 == limit
  CHECK(e.check(order({.id = "q1", .qty = "100.00000001"})).reason ==
        "max_position: position with working orders after fill 1000.00000001 exceeds limit 1000");
  CHECK(e.exposure("AAPL") == SymbolExposure{.working_buy = dec("900")});

  // b1 is canceled: its 900 no longer works, and another 900 is approved.
  e.on_execution(exec(b1, ExecType::new_, OrderStatus::new_));
  CHECK(e.working_qty("AAPL", Side::buy) == dec("900"));
  e.on_execution(exec(b1, ExecType::canceled, OrderStatus::canceled));
  CHECK(e.exposure("AAPL") == SymbolExposure{});
  CHECK(e.order("b1")->working_qty.is_zero());
  const auto b6 = order({.id = "b6"});
  REQUIRE(e.decide(b6).approved);

  // The market comes down to it: a partial fill moves 300 from working to the position.
  e.on_quote(quote("AAPL", "94.5", "95.5", kDay0 + kSec));
  e.on_execution(exec(b6, ExecType::partial_fill, OrderStatus::partially_filled, "300", "300"));
  CHECK(e.exposure("AAPL") == SymbolExposure{.position = dec("300"), .working_buy = dec("600")});
  CHECK(e.order("b6")->working_qty == dec("600"));
  CHECK(e.decide(order({.id = "b7"})).reason ==
        "max_position: position with working orders after fill 1800 exceeds limit 1000");
  // The rest fills: long 900, nothing working; the figure is the position after the fill.
  e.on_execution(exec(b6, ExecType::fill, OrderStatus::filled, "600", "900"));
  CHECK(e.exposure("AAPL") == SymbolExposure{.position = dec("900")});
  CHECK(e.open_orders() == 0);
  CHECK(e.check(order({.id = "b8", .qty = "100"})).approved);
  CHECK(e.check(order({.id = "b8", .qty = "101"})).reason ==
        "max_position: position after fill 1001 exceeds limit 1000");
}

TEST_CASE("a sell while long with working buys is judged on the short side only", "[risk][working]") {
  auto e = engine({.max_position = dec("1000")});
  e.on_execution(fill("f1", "AAPL", Side::buy, "600", "100", kDay0));
  REQUIRE(e.decide(order({.id = "buy", .qty = "400"})).approved);  // worst long 1000 == limit
  CHECK(e.check(order({.id = "x", .qty = "0.00000001"})).reason ==
        "max_position: position with working orders after fill 1000.00000001 exceeds limit 1000");
  // Long 600: a sell may go to short 1000 whatever the working buys; none of its side works yet.
  CHECK(e.check(order({.id = "x", .side = Side::sell, .qty = "1600", .limit = "105"})).approved);
  CHECK(e.check(order({.id = "x", .side = Side::sell, .qty = "1600.00000001", .limit = "105"})).reason ==
        "max_position: position after fill -1000.00000001 exceeds limit 1000");
  // A working sell of 1000 makes the short side -400; the next sell counts it.
  REQUIRE(e.decide(order({.id = "sell", .side = Side::sell, .qty = "1000", .limit = "105"})).approved);
  CHECK(e.exposure("AAPL") ==
        SymbolExposure{.position = dec("600"), .working_buy = dec("400"), .working_sell = dec("1000")});
  CHECK(e.exposure("AAPL").worst_long() == dec("1000"));
  CHECK(e.exposure("AAPL").worst_short() == dec("-400"));
  CHECK(e.check(order({.id = "x", .side = Side::sell, .qty = "600", .limit = "105"})).approved);
  CHECK(e.check(order({.id = "x", .side = Side::sell, .qty = "600.00000001", .limit = "105"})).reason ==
        "max_position: position with working orders after fill -1000.00000001 exceeds limit 1000");
  // The limit is lowered under the long side's worst case (1000): a sell that keeps its
  // own side within the limit still passes; a buy, which would make the long side worse, does not.
  e.set_policy({.defaults = {.max_position = dec("500")}});
  CHECK(e.check(order({.id = "x", .side = Side::sell, .qty = "100", .limit = "105"})).approved);  // -500
  CHECK(e.check(order({.id = "x", .side = Side::sell, .qty = "100.00000001", .limit = "105"})).reason ==
        "max_position: position with working orders after fill -500.00000001 exceeds limit 500");
  CHECK(e.check(order({.id = "x", .qty = "1"})).reason ==
        "max_position: position with working orders after fill 1001 exceeds limit 500");
}

TEST_CASE("an order that cannot make its side's worst case larger is never denied by max_position",
          "[risk][working]") {
  // Short 1500, working buys 1000: the long side's worst case is -500.
  auto e = engine({});
  e.on_execution(fill("f1", "AAPL", Side::sell, "1500", "100", kDay0));
  REQUIRE(e.decide(order({.id = "cover", .qty = "1000"})).approved);
  e.set_policy({.defaults = {.max_position = dec("400")}});
  CHECK(e.exposure("AAPL").worst_long() == dec("-500"));
  // A buy of up to 1000 (twice the 500) ends at most as far from zero: it passes although over 400.
  CHECK(e.check(order({.id = "x", .qty = "300"})).approved);   // -200
  CHECK(e.check(order({.id = "x", .qty = "1000"})).approved);  // +500, |500| == |-500|
  CHECK(e.check(order({.id = "x", .qty = "1000.00000001"})).reason ==
        "max_position: position with working orders after fill 500.00000001 exceeds limit 400");
  // The short side (-1500) is over the limit: every sell makes it worse.
  CHECK(e.check(order({.id = "x", .side = Side::sell, .qty = "1", .limit = "105"})).reason ==
        "max_position: position after fill -1501 exceeds limit 400");
}

TEST_CASE("a replace up is checked as an increase of the working quantity, down or a price move never",
          "[risk][working]") {
  auto e = engine({.max_position = dec("1000")});
  const auto o1 = order({.id = "o1", .qty = "400"});
  REQUIRE(e.decide(o1).approved);
  REQUIRE(e.decide(order({.id = "o2", .qty = "300"})).approved);  // working buy 700
  CHECK(e.check_replace(replace("o1b", "o1", "700")).approved);   // +300 -> 1000 == limit
  CHECK(e.check_replace(replace("o1b", "o1", "700.00000001")).reason ==
        "max_position: position with working orders after fill 1000.00000001 exceeds limit 1000");
  // Under a limit the working orders already exceed, lowering or moving the price still passes.
  e.set_policy({.defaults = {.max_position = dec("100")}});
  CHECK(e.check_replace(replace("o1b", "o1", "100")).approved);
  CHECK(e.check_replace(replace("o1b", "o1", std::nullopt, "96")).approved);
  CHECK(e.check_replace(replace("o1b", "o1", "400", "94")).approved);  // same quantity, new price
  CHECK(e.check_replace(replace("o1b", "o1", "400.00000001")).reason ==
        "max_position: position with working orders after fill 700.00000001 exceeds limit 100");
  e.set_policy({.defaults = {.max_position = dec("1000")}});

  // Up: approved, then confirmed by the venue; the working quantity moves with the order.
  const auto up = replace("o1b", "o1", "700");
  REQUIRE(e.decide_replace(up).approved);
  CHECK(e.working_qty("AAPL", Side::buy) == dec("700"));  // nothing changes until the venue confirms
  e.on_execution(replaced(o1, up));
  CHECK(e.working_qty("AAPL", Side::buy) == dec("1000"));
  CHECK(e.order("o1")->working_qty.is_zero());
  CHECK(e.order("o1b")->working_qty == dec("700"));
  CHECK(e.decide(order({.id = "o3", .qty = "0.00000001"})).reason ==
        "max_position: position with working orders after fill 1000.00000001 exceeds limit 1000");
  e.on_execution(replaced(o1, up));  // a repeat changes nothing
  CHECK(e.working_qty("AAPL", Side::buy) == dec("1000"));

  // o1b fills 200; down to 250: 50 left working, plus o2's 300.
  const auto o1b = *e.order("o1b");
  e.on_execution(exec(o1b.order, ExecType::partial_fill, OrderStatus::partially_filled, "200", "200"));
  CHECK(e.exposure("AAPL") == SymbolExposure{.position = dec("200"), .working_buy = dec("800")});
  const auto down = replace("o1c", "o1b", "250");
  REQUIRE(e.decide_replace(down).approved);
  e.on_execution(replaced(o1b.order, down, "200"));
  CHECK(e.exposure("AAPL") == SymbolExposure{.position = dec("200"), .working_buy = dec("350")});
  CHECK(e.order("o1c")->working_qty == dec("50"));
  // A replaced report naming a quantity below cum_qty leaves nothing working (never negative).
  const auto o1c = *e.order("o1c");
  const auto under = replace("o1d", "o1c", "150");
  REQUIRE(e.decide_replace(under).approved);
  e.on_execution(replaced(o1c.order, under, "200"));
  CHECK(e.order("o1d")->working_qty.is_zero());
  CHECK(e.exposure("AAPL") == SymbolExposure{.position = dec("200"), .working_buy = dec("300")});
}

TEST_CASE("gross exposure counts each symbol's larger worst case at its mark, on two symbols", "[risk][working]") {
  auto e = engine({.max_gross_exposure = dec("100000")});
  REQUIRE(e.decide(order({.id = "a1", .qty = "300", .limit = "99"})).approved);  // AAPL: 300 x 100
  e.on_execution(fill("m0", "MSFT", Side::sell, "400", "50", kDay0));
  REQUIRE(e.decide(order({.id = "m1", .symbol = "MSFT", .qty = "1000", .limit = "49"})).approved);
  // MSFT: position -400, worst long +600, worst short -400: 600 x 50 = 30000. Gross 60000.
  CHECK(e.exposures() ==
        std::map<std::string, SymbolExposure>{
            {"AAPL", {.working_buy = dec("300")}},
            {"MSFT", {.position = dec("-400"), .working_buy = dec("1000")}}});
  CHECK(e.check(order({.id = "x", .qty = "400", .limit = "99"})).approved);  // AAPL 700 x 100 + 30000
  CHECK(e.check(order({.id = "x", .qty = "400.00000001", .limit = "99"})).reason ==
        "max_gross_exposure: gross exposure with working orders after fill 100000.000001 exceeds limit 100000");
  // A sell of AAPL up to the working buys leaves its larger side (300) as it is.
  e.set_policy({.defaults = {.max_gross_exposure = dec("1000")}});
  CHECK(e.check(order({.id = "x", .side = Side::sell, .qty = "300", .limit = "101"})).approved);
  CHECK(e.check(order({.id = "x", .side = Side::sell, .qty = "300.00000001", .limit = "101"})).reason ==
        "max_gross_exposure: gross exposure with working orders after fill 60000.000001 exceeds limit 1000");
  // MSFT buys grow the long side; MSFT sells up to 200 more keep the short side (-600) no larger.
  CHECK(e.check(order({.id = "x", .symbol = "MSFT", .side = Side::sell, .qty = "200", .limit = "51"})).approved);
  CHECK_FALSE(e.check(order({.id = "x", .symbol = "MSFT", .side = Side::sell, .qty = "201", .limit = "51"})).approved);
  CHECK_FALSE(e.check(order({.id = "x", .symbol = "MSFT", .qty = "1", .limit = "49"})).approved);
  // The marks move with the market.
  e.set_policy({.defaults = {.max_gross_exposure = dec("100000")}});
  e.on_quote(quote("MSFT", "69", "71", kDay0 + kSec));  // 600 x 70 = 42000: 72000 in all
  CHECK(e.check(order({.id = "x", .qty = "280", .limit = "99"})).approved);
  CHECK(e.check(order({.id = "x", .qty = "281", .limit = "99"})).reason ==
        "max_gross_exposure: gross exposure with working orders after fill 100100 exceeds limit 100000");
  // Without working orders the text names the positions after the fill, as before.
  auto f = engine({.max_gross_exposure = dec("1000")});
  CHECK(f.check(order({.id = "x", .qty = "11", .limit = "99"})).reason ==
        "max_gross_exposure: gross exposure after fill 1100 exceeds limit 1000");
}

TEST_CASE("gross exposure values working orders of a symbol without market data at their highest limit price",
          "[risk][working]") {
  risk::RiskEngine e{{.max_gross_exposure = dec("1000")}};  // no market data at all
  REQUIRE(e.decide(order({.id = "x1", .symbol = "XYZ", .qty = "50", .limit = "10"})).approved);  // 500
  REQUIRE(e.decide(order({.id = "a1", .symbol = "ABC", .qty = "30", .limit = "10"})).approved);  // 300
  // A third symbol sees both: 500 + 300 + 200 == limit.
  CHECK(e.check(order({.id = "d1", .symbol = "DEF", .qty = "20", .limit = "10"})).approved);
  CHECK(e.check(order({.id = "d1", .symbol = "DEF", .qty = "20.00000001", .limit = "10"})).reason ==
        "max_gross_exposure: gross exposure with working orders after fill 1000.0000001 exceeds limit 1000");
  // In XYZ itself, the higher of the order's price and its working orders' prices values the symbol.
  CHECK(e.check(order({.id = "x2", .symbol = "XYZ", .qty = "20", .limit = "5"})).approved);  // 70 x 10 + 300
  CHECK(e.check(order({.id = "x2", .symbol = "XYZ", .qty = "20.00000001", .limit = "5"})).reason ==
        "max_gross_exposure: gross exposure with working orders after fill 1000.0000001 exceeds limit 1000");
  CHECK(e.check(order({.id = "x2", .symbol = "XYZ", .qty = "1", .limit = "20"})).reason ==
        "max_gross_exposure: gross exposure with working orders after fill 1320 exceeds limit 1000");  // 51 x 20
  // Once ABC's order is canceled its price and quantity are gone.
  e.on_execution(exec(order({.id = "a1", .symbol = "ABC", .qty = "30", .limit = "10"}), ExecType::canceled,
                      OrderStatus::canceled));
  CHECK(e.exposure("ABC") == SymbolExposure{});
  CHECK(e.check(order({.id = "d1", .symbol = "DEF", .qty = "50", .limit = "10"})).approved);
}

TEST_CASE("fill reports delivered twice move working quantity to the position once", "[risk][working]") {
  auto e = engine({});
  const auto o = order({.id = "o", .qty = "100"});
  REQUIRE(e.decide(o).approved);
  const auto part = exec(o, ExecType::partial_fill, OrderStatus::partially_filled, "40", "40");
  const auto rest = exec(o, ExecType::fill, OrderStatus::filled, "60", "100");
  e.on_execution(part);
  e.on_execution(part);
  CHECK(e.exposure("AAPL") == SymbolExposure{.position = dec("40"), .working_buy = dec("60")});
  e.on_execution(rest);
  e.on_execution(part);  // late and repeated: goes back in cum_qty
  e.on_execution(rest);
  CHECK(e.exposure("AAPL") == SymbolExposure{.position = dec("100")});
  // A later cancel of the filled order and a venue's cancel_rejected change nothing.
  e.on_execution(exec(o, ExecType::canceled, OrderStatus::canceled));
  e.on_execution(exec(o, ExecType::cancel_rejected, OrderStatus::filled));
  CHECK(e.exposure("AAPL") == SymbolExposure{.position = dec("100")});

  // A sell order: partial, repeated, then expired with the rest unfilled.
  const auto s = order({.id = "s", .side = Side::sell, .qty = "70", .limit = "101"});
  REQUIRE(e.decide(s).approved);
  const auto sp = exec(s, ExecType::partial_fill, OrderStatus::partially_filled, "20", "20");
  e.on_execution(sp);
  e.on_execution(sp);
  CHECK(e.exposure("AAPL") == SymbolExposure{.position = dec("80"), .working_sell = dec("50")});
  e.on_execution(exec(s, ExecType::expired, OrderStatus::expired, "0", "20"));
  e.on_execution(sp);
  CHECK(e.exposure("AAPL") == SymbolExposure{.position = dec("80")});
  CHECK(e.open_orders() == 0);
}

TEST_CASE("a rebuild from the recorded events gives the same working quantities", "[risk][working][rebuild]") {
  using Event = std::variant<core::Quote, core::OrderSubmit, core::OrderReplace, core::ExecutionReport>;
  const risk::Limits lim{.max_position = dec("1000"), .max_gross_exposure = dec("150000")};
  auto live = engine(lim);
  std::vector<Event> events{quote("AAPL", "99.5", "100.5", kDay0), quote("MSFT", "49.5", "50.5", kDay0)};
  const auto submit = [&](const core::OrderSubmit& o) {
    const auto d = live.decide(o);
    if (d.approved) {
      events.emplace_back(o);
    } else {
      const auto r = risk::denied_report(o, d, kDay0);
      live.on_execution(r);
      events.emplace_back(r);
    }
    return d.approved;
  };
  const auto report = [&](const core::ExecutionReport& r) {
    live.on_execution(r);
    events.emplace_back(r);
  };
  const auto a1 = order({.id = "a1", .qty = "600"});
  const auto a2 = order({.id = "a2", .side = Side::sell, .qty = "500", .limit = "105"});
  const auto m1 = order({.id = "m1", .symbol = "MSFT", .qty = "800", .limit = "49"});
  REQUIRE(submit(a1));
  REQUIRE(submit(a2));
  REQUIRE(submit(m1));
  REQUIRE_FALSE(submit(order({.id = "a3", .qty = "500"})));  // 1100
  report(exec(a1, ExecType::partial_fill, OrderStatus::partially_filled, "250", "250"));
  report(exec(a2, ExecType::partial_fill, OrderStatus::partially_filled, "100", "100"));
  const auto up = replace("m1b", "m1", "1000");
  REQUIRE(live.decide_replace(up).approved);
  events.emplace_back(up);
  report(replaced(m1, up));
  report(exec(live.order("m1b")->order, ExecType::partial_fill, OrderStatus::partially_filled, "300", "300"));
  report(exec(a2, ExecType::canceled, OrderStatus::canceled, "0", "100"));
  REQUIRE(submit(order({.id = "a4", .side = Side::sell, .qty = "900", .limit = "105"})));
  const auto down = replace("a1b", "a1", "400");
  REQUIRE(live.decide_replace(down).approved);
  events.emplace_back(down);
  report(replaced(a1, down, "250"));

  const std::map<std::string, SymbolExposure> want{
      {"AAPL", {.position = dec("150"), .working_buy = dec("150"), .working_sell = dec("900")}},
      {"MSFT", {.position = dec("300"), .working_buy = dec("700")}}};
  REQUIRE(live.exposures() == want);

  for (const bool twice : {false, true}) {
    INFO("every execution report " << (twice ? "twice" : "once"));
    risk::RiskEngine again{lim};
    again.set_replaying(true);
    for (const auto& ev : events) {
      std::visit(
          [&](const auto& x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, core::Quote>) {
              again.on_quote(x);
            } else if constexpr (std::is_same_v<T, core::OrderSubmit>) {
              again.on_approved(x);
            } else if constexpr (std::is_same_v<T, core::OrderReplace>) {
              again.on_approved_replace(x);
            } else {
              again.on_execution(x);
              if (twice) again.on_execution(x);
            }
          },
          ev);
    }
    again.set_replaying(false, kDay0 + kSec);
    CHECK(again.exposures() == want);
    for (const char* id : {"a1", "a1b", "a2", "a3", "a4", "m1", "m1b"}) {
      INFO(id);
      CHECK(again.order(id) == live.order(id));
    }
    // The same answers: the AAPL buy side has 700 to go to the limit, the sell side 250.
    for (const auto& [qty, side] : {std::pair{"700", Side::buy}, std::pair{"700.00000001", Side::buy},
                                    std::pair{"250", Side::sell}, std::pair{"250.00000001", Side::sell}}) {
      const auto o = order({.id = "probe", .side = side, .qty = qty, .limit = "100"});
      CHECK(again.check(o).reason == live.check(o).reason);
    }
    CHECK(live.check(order({.id = "probe", .qty = "700", .limit = "100"})).approved);
    CHECK(live.check(order({.id = "probe", .side = Side::sell, .qty = "250.00000001", .limit = "100"})).reason ==
          "max_position: position with working orders after fill -1000.00000001 exceeds limit 1000");
  }
}
