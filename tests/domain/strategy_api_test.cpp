// The Strategy API (strategy/strategy.hpp, registry.hpp): Params, choices, the registry's
// errors, and the Runner: ids, stamps, timers in market time, orders and position from
// reports, commands from reports held for the next market event.
#include "strategy/ma_cross.hpp"
#include "strategy/registry.hpp"
#include "strategy/strategy.hpp"

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "helpers.hpp"

using core::Side;
using domain_test::dec;
using domain_test::kDay0;
using domain_test::kSec;

namespace {

/// A strategy whose handlers are the test's lambdas.
struct Scripted : strategy::Strategy {
  std::function<void(const core::Quote&, strategy::Context&)> quote;
  std::function<void(const core::ExecutionReport&, strategy::Context&)> exec;
  std::function<void(const strategy::Timer&, strategy::Context&)> timer;
  std::function<void(const core::CorporateAction&, strategy::Context&)> action;
  std::vector<std::string> calls;  ///< "quote@t" / "timer:tag@t", in call order
  void on_quote(const core::Quote& q, strategy::Context& ctx) override {
    calls.push_back(fmt::format("quote@{}", q.ts_event - kDay0));
    if (quote) quote(q, ctx);
  }
  void on_execution(const core::ExecutionReport& r, strategy::Context& ctx) override {
    if (exec) exec(r, ctx);
  }
  void on_corporate_action(const core::CorporateAction& a, strategy::Context& ctx) override {
    calls.push_back(fmt::format("action:{}@{}", a.symbol, ctx.now() - kDay0));
    if (action) action(a, ctx);
  }
  void on_timer(const strategy::Timer& t, strategy::Context& ctx) override {
    calls.push_back(fmt::format("timer:{}@{}", t.tag, ctx.now() - kDay0));
    if (timer) timer(t, ctx);
  }
};

core::MarketData q_at(core::TimestampNs dt, std::string_view bid = "100", std::string_view ask = "101") {
  return domain_test::quote("BTCUSDT", bid, ask, kDay0 + dt);
}

core::OrderSubmit limit_buy(std::string_view qty, std::string_view px) {
  return {.symbol = "BTCUSDT", .side = Side::buy, .order_type = core::OrderType::limit, .quantity = dec(qty),
          .limit_price = dec(px), .time_in_force = core::TimeInForce::gtc};
}

core::ExecutionReport report(const std::string& id, core::ExecType type, core::OrderStatus status,
                             std::string_view qty = "1") {
  return {.client_order_id = id, .exec_id = id + "-r", .exec_type = type, .order_status = status,
          .symbol = "BTCUSDT", .side = Side::buy, .order_type = core::OrderType::limit, .quantity = dec(qty),
          .limit_price = dec("99"), .strategy_id = "s", .ts_event = kDay0};
}

}  // namespace

TEST_CASE("params: typed getters name the key of a missing or bad value", "[strategy][params]") {
  const strategy::Params p{{"fast", "5"}, {"bad", "x1"}, {"q", "0.5"}, {"zero", "0"}, {"hold", "90s"}, {"h2", "2h"}};
  CHECK(p.integer("fast", 1) == 5);
  CHECK(p.decimal("q") == dec("0.5"));
  CHECK(p.duration("hold") == 90 * kSec);
  CHECK(p.duration("h2") == 7200 * kSec);
  CHECK_THROWS_WITH(p.integer("bad"), "param 'bad': not an integer: 'x1'");
  CHECK_THROWS_WITH(p.integer("fast", 6), "param 'fast': must be >= 6, got 5");
  CHECK_THROWS_WITH(p.text("nope"), "param 'nope': missing");
  CHECK_THROWS_WITH(p.decimal("bad"), "param 'bad': not a decimal number: 'x1'");
  CHECK_THROWS_WITH(p.positive("zero"), "param 'zero': must be > 0, got 0");
  CHECK_THROWS_AS(p.duration("bad"), std::invalid_argument);
  CHECK(p.describe() == "bad=x1 fast=5 h2=2h hold=90s q=0.5 zero=0");
}

TEST_CASE("choices: the strategies setting and --strategy/--param give the same list", "[strategy][params]") {
  const auto a = strategy::parse_choices("ma_cross fast=5 slow=50; market_maker spread_bps=5 strategy_id=mm");
  REQUIRE(a.size() == 2);
  CHECK(a[0].name == "ma_cross");
  CHECK(a[0].strategy_id == "ma_cross");
  CHECK(a[0].params.text("slow") == "50");
  CHECK(a[1].strategy_id == "mm");
  CHECK_FALSE(a[1].params.has("strategy_id"));
  const auto b = strategy::choices_from_args({"--strategy", "ma_cross", "--param", "fast=5", "--param", "slow=50",
                                              "--strategy", "market_maker", "--param", "strategy_id=mm", "--param",
                                              "spread_bps=5"});
  CHECK(a == b);
  CHECK(strategy::parse_choices(strategy::format_choices(a)) == a);
  CHECK(strategy::parse_choices("  ").empty());
  CHECK_THROWS_WITH(strategy::choices_from_args({"--param", "fast=5"}), "--param fast=5 comes before any --strategy");
  CHECK_THROWS_WITH(strategy::parse_choices("ma_cross fast"), "strategy ma_cross: param 'fast': expected key=value");
  CHECK_THROWS_WITH(strategy::parse_choices("ma_cross fast=1 fast=2"), "strategy ma_cross: param 'fast' given twice");
  CHECK_THROWS_AS(strategy::parse_choices("ma_cross;;x"), std::invalid_argument);
}

TEST_CASE("registry: unknown names and params are errors naming them, defaults are filled in", "[strategy][registry]") {
  const auto reg = strategy::builtin_registry();
  for (const auto* name : {"ma_cross", "mean_reversion", "market_maker", "template"}) CHECK(reg.find(name));
  CHECK_THROWS_WITH(reg.create({.name = "ma_crosss", .strategy_id = "x", .params = {}}),
                    "unknown strategy 'ma_crosss' (known: ma_cross, mean_reversion, market_maker, template)");
  CHECK_THROWS_WITH(reg.create({.name = "ma_cross", .strategy_id = "x", .params = {{"fsat", "5"}}}),
                    "strategy ma_cross: unknown param 'fsat' (its params: fast, min_events_between_orders, quantity, slow)");
  CHECK_THROWS_WITH(reg.create({.name = "ma_cross", .strategy_id = "x", .params = {{"fast", "5"}, {"slow", "5"}}}),
                    "strategy ma_cross: param 'slow': must be > fast (5), got 5");
  CHECK_THROWS_WITH(reg.create({.name = "market_maker", .strategy_id = "x", .params = {{"spread_bps", "-1"}}}),
                    "strategy market_maker: param 'spread_bps': must be > 0, got -1");
  const auto resolved = reg.resolve({.name = "ma_cross", .strategy_id = "x", .params = {{"fast", "5"}}});
  CHECK(resolved.describe() == "fast=5 min_events_between_orders=0 quantity=1000 slow=100");

  using C = strategy::Choice;
  CHECK_THROWS_WITH(reg.check({C{"ma_cross", "a", {}}, C{"market_maker", "a", {}}}),
                    "two strategies with strategy_id 'a' (give one --param strategy_id=...)");
  CHECK_THROWS_WITH(reg.check({C{"ma_cross", "a", {}}, C{"market_maker", "a-b", {}}}),
                    "strategy_ids 'a' and 'a-b' overlap (one is the other's client_order_id prefix)");
  CHECK_THROWS_WITH(reg.check({}), "no strategy chosen");
  CHECK(reg.check({C{"ma_cross", "a", {}}, C{"market_maker", "b", {}}}).size() == 2);

  auto mine = strategy::builtin_registry();
  CHECK_THROWS_WITH(mine.add(strategy::ma_cross_registration()), "strategy ma_cross: registered twice");
  CHECK_THROWS_AS(mine.add({"bad name", "", {}, [](const strategy::Params&, const std::string&) {
                              return std::unique_ptr<strategy::Strategy>(std::make_unique<Scripted>());
                            }}),
                  std::invalid_argument);
}

TEST_CASE("runner: several commands per event, stamped with the event, with framework ids", "[strategy][runner]") {
  auto s = std::make_unique<Scripted>();
  s->quote = [](const core::Quote&, strategy::Context& ctx) {
    if (!ctx.orders().empty()) return;
    ctx.submit(limit_buy("1", "99"));
    ctx.submit(limit_buy("2", "98"));
  };
  strategy::Runner run("s", std::move(s));
  const auto out = run.on_market(q_at(5), 42);
  REQUIRE(out.size() == 2);
  const auto& a = std::get<core::OrderSubmit>(out[0]);
  CHECK(a.client_order_id == "s-1");
  CHECK(a.strategy_id == "s");
  CHECK(a.ts_event == kDay0 + 5);
  CHECK(a.cause_seq == 42);
  CHECK(std::get<core::OrderSubmit>(out[1]).client_order_id == "s-2");
  CHECK(run.context().orders().size() == 2);
  CHECK(run.has_open_orders());
  CHECK(strategy::command_key(out[0]) == "order.submit:s-1:42");
}

TEST_CASE("runner: a timer fires at the first market event at or after its time, before the handler",
          "[strategy][runner][timer]") {
  auto s = std::make_unique<Scripted>();
  auto* script = s.get();
  s->quote = [](const core::Quote& q, strategy::Context& ctx) {
    if (q.ts_event == kDay0) ctx.set_timer(kDay0 + 10, "ten");
  };
  s->timer = [](const strategy::Timer&, strategy::Context& ctx) { ctx.submit(limit_buy("1", "99")); };
  strategy::Runner run("s", std::move(s));
  CHECK(run.on_market(q_at(0), 1).empty());
  CHECK(run.on_market(q_at(9), 2).empty());
  const auto out = run.on_market(q_at(12), 3);
  REQUIRE(out.size() == 1);
  CHECK(std::get<core::OrderSubmit>(out[0]).ts_event == kDay0 + 12);
  CHECK(std::get<core::OrderSubmit>(out[0]).cause_seq == 3);
  CHECK(script->calls == std::vector<std::string>{"quote@0", "quote@9", "timer:ten@12", "quote@12"});
  CHECK(run.context().timers() == 0);
}

TEST_CASE("runner: orders and position follow the reports, and cancel and replace are refused while one is in flight",
          "[strategy][runner]") {
  auto s = std::make_unique<Scripted>();
  strategy::Context* ctx_seen = nullptr;
  s->quote = [&](const core::Quote&, strategy::Context& ctx) { ctx_seen = &ctx; };
  strategy::Runner run("s", std::move(s));
  (void)run.on_market(q_at(0), 1);
  REQUIRE(ctx_seen);
  auto& ctx = *ctx_seen;
  const auto id = ctx.submit(limit_buy("2", "99"));
  run.on_execution(report(id, core::ExecType::new_, core::OrderStatus::new_, "2"));
  CHECK(ctx.order(id)->status == core::OrderStatus::new_);

  auto part = report(id, core::ExecType::partial_fill, core::OrderStatus::partially_filled, "2");
  part.last_qty = dec("0.5");
  part.cum_qty = dec("0.5");
  run.on_execution(part);
  CHECK(ctx.position("BTCUSDT") == dec("0.5"));
  CHECK(ctx.order(id)->leaves() == dec("1.5"));

  const auto new_id = ctx.replace(id, dec("3"), dec("98"));
  REQUIRE(new_id);
  CHECK(*new_id == "s-2");
  CHECK(ctx.order(id)->replace_pending == *new_id);
  CHECK_FALSE(ctx.cancel(id));                        // busy
  CHECK_FALSE(ctx.replace(id, std::nullopt, dec("97")));  // busy
  auto replaced = report(*new_id, core::ExecType::replaced, core::OrderStatus::partially_filled, "3");
  replaced.orig_client_order_id = id;
  replaced.cum_qty = dec("0.5");
  replaced.limit_price = dec("98");
  run.on_execution(replaced);
  CHECK(ctx.order(id) == nullptr);
  REQUIRE(ctx.order(*new_id));
  CHECK(ctx.order(*new_id)->limit_price == dec("98"));
  CHECK(ctx.order(*new_id)->leaves() == dec("2.5"));

  CHECK(ctx.cancel(*new_id));
  auto refused = report(*new_id, core::ExecType::cancel_rejected, core::OrderStatus::partially_filled, "3");
  run.on_execution(refused);
  CHECK_FALSE(ctx.order(*new_id)->cancel_pending);
  CHECK(ctx.cancel(*new_id));
  run.on_execution(report(*new_id, core::ExecType::canceled, core::OrderStatus::canceled, "3"));
  CHECK(ctx.orders().empty());
  CHECK_FALSE(run.has_open_orders());
  CHECK(ctx.position("BTCUSDT") == dec("0.5"));

  // Everything the context was asked comes out at the next market event, in order.
  const auto out = run.on_market(q_at(7), 9);
  REQUIRE(out.size() == 4);
  CHECK(std::holds_alternative<core::OrderSubmit>(out[0]));
  CHECK(std::get<core::OrderReplace>(out[1]).orig_client_order_id == id);
  CHECK(std::get<core::OrderReplace>(out[1]).quantity == dec("3"));
  CHECK(std::get<core::OrderCancel>(out[2]).client_order_id == *new_id);
  CHECK(std::get<core::OrderCancel>(out[3]).ts_event == kDay0 + 7);
}

TEST_CASE("runner: commands a strategy sends on a report go out at the next market event", "[strategy][runner]") {
  auto s = std::make_unique<Scripted>();
  s->quote = [](const core::Quote& q, strategy::Context& ctx) {
    if (q.ts_event == kDay0) ctx.submit(limit_buy("1", "99"));
  };
  s->exec = [](const core::ExecutionReport& r, strategy::Context& ctx) {
    if (r.last_qty.is_positive())
      ctx.submit({.symbol = r.symbol, .side = Side::sell, .order_type = core::OrderType::limit, .quantity = r.last_qty,
                  .limit_price = dec("101"), .time_in_force = core::TimeInForce::gtc});
  };
  strategy::Runner run("s", std::move(s));
  REQUIRE(run.on_market(q_at(0), 1).size() == 1);
  auto f = domain_test::fill("s-1", "BTCUSDT", Side::buy, "1", "99", kDay0 + 3, "s");
  run.on_execution(f);
  CHECK(run.context().position("BTCUSDT") == dec("1"));
  REQUIRE(run.context().orders().size() == 1);  // the sell is known at once (no double send)
  const auto out = run.on_market(q_at(8), 5);
  REQUIRE(out.size() == 1);
  const auto& sell = std::get<core::OrderSubmit>(out[0]);
  CHECK(sell.side == Side::sell);
  CHECK(sell.ts_event == kDay0 + 8);
  CHECK(sell.cause_seq == 5);
}

TEST_CASE("runner: a strategy's own client_order_id must carry its prefix and be new", "[strategy][runner]") {
  auto s = std::make_unique<Scripted>();
  std::vector<std::string> errors;
  s->quote = [&](const core::Quote&, strategy::Context& ctx) {
    auto o = limit_buy("1", "99");
    for (const auto* id : {"other-1", "s-7", "s-A-1", "s-A-1"}) {
      o.client_order_id = id;
      try {
        ctx.submit(o);
        errors.push_back("ok");
      } catch (const std::logic_error& e) {
        errors.push_back(e.what());
      }
    }
  };
  strategy::Runner run("s", std::move(s));
  CHECK(run.on_market(q_at(0), 1).size() == 1);
  CHECK(errors == std::vector<std::string>{"strategy s: client_order_id 'other-1' must start with 's-'",
                                           "strategy s: client_order_id 's-7' has the framework's form 's-<n>'", "ok",
                                           "strategy s: client_order_id 's-A-1' used twice"});
}

TEST_CASE("runner: a split multiplies the position before the strategy's handler, whose commands are stamped with it",
          "[strategy][runner][corporate_action]") {
  auto owned = std::make_unique<Scripted>();
  auto* st = owned.get();
  strategy::Runner run("s", std::move(owned));
  (void)run.on_market(q_at(0));
  auto fill = report("s-x", core::ExecType::fill, core::OrderStatus::filled, "3");
  fill.last_qty = dec("3");
  fill.last_px = dec("100");
  fill.cum_qty = dec("3");
  run.on_execution(fill);
  REQUIRE(run.context().position("BTCUSDT") == dec("3"));
  core::Quantity seen;
  st->action = [&](const core::CorporateAction&, strategy::Context& ctx) {
    seen = ctx.position("BTCUSDT");
    auto o = limit_buy("1", "49");
    ctx.submit(o);
  };
  const auto out = run.on_action({.symbol = "BTCUSDT", .action = core::ActionKind::split, .ratio = dec("2"),
                                  .ts_event = kDay0 + 5 * kSec},
                                 42);
  CHECK(seen == dec("6"));
  CHECK(run.context().position("BTCUSDT") == dec("6"));
  REQUIRE(out.size() == 1);
  const auto& o = std::get<core::OrderSubmit>(out[0]);
  CHECK(o.ts_event == kDay0 + 5 * kSec);
  CHECK(o.cause_seq == 42);
  CHECK(o.strategy_id == "s");
  CHECK(st->calls.back() == fmt::format("action:BTCUSDT@{}", 5 * kSec));
  // A dividend leaves the position.
  (void)run.on_action({.symbol = "BTCUSDT", .action = core::ActionKind::dividend, .amount = dec("1"), .ts_event = kDay0 + 6 * kSec});
  CHECK(run.context().position("BTCUSDT") == dec("6"));
}
