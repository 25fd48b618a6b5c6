// The built-in strategies in the in-process engine (tooling/in_process.hpp) on real data:
// they trade (fills), their commands are a function of the inputs (two runs with other
// bus interleavings derive identical events), and several strategies run at once in one
// strategy worker with each report going to the strategy whose strategy_id it carries.
#include <catch2/catch.hpp>

#include <map>
#include <stdexcept>
#include <string>

#include "codec/codec.hpp"
#include "eventstore/event_store.hpp"
#include "support/servers.hpp"
#include "tooling/diff.hpp"
#include "tooling/in_process.hpp"
#include "workers/recorder.hpp"
#include "workers/strategy.hpp"

namespace {

services::InProcessConfig run_config(const std::string& file, std::int64_t limit, std::vector<strategy::Choice> strategies) {
  services::InProcessConfig c;
  c.data_path = testsupport::shared_data_dir() + "/" + file;
  c.limit = limit;
  c.policy.defaults.max_order_qty = core::Decimal::from_int(1'000'000);
  c.policy.defaults.max_order_notional = core::Decimal::from_int(100'000'000);
  c.metrics_interval_ns = 60 * core::kNsPerSecond;
  c.broker.latency_ns = 2'000'000;  // 2 ms: orders wait for a later quote
  c.strategies = std::move(strategies);
  return c;
}

struct Run {
  services::InProcessResult res;
  std::map<std::string, std::int64_t> commands;            ///< trading.orders by type
  std::map<std::string, std::int64_t> fills_by_strategy;   ///< reports with last_qty > 0, by strategy_id
  std::map<std::string, std::int64_t> reports_by_strategy;
  std::int64_t misattributed = 0;  ///< reports whose client_order_id lacks "<strategy_id>-"
};

/// Runs `c` recorded into `store` as session `id`, and counts what the log holds.
Run record(services::InProcessConfig c, eventstore::EventStore& store, const std::string& id) {
  codec::Decoder dec;
  services::SessionAssigner sessions(std::nullopt);
  std::vector<eventstore::NewEvent> batch;
  Run out;
  c.session = core::SessionStarted{
      .session_id = id, .kind = "backtest", .started_by = "test", .version = "test", .ts_wall = 1, .reason = "test"};
  c.on_logged = [&](std::uint64_t seq, std::string_view subject, std::string_view data) {
    batch.push_back(services::recorded_event(dec, sessions, "INP" + id, seq, subject, data));
    if (subject == "trading.orders") {
      if (auto env = dec.peek(data)) ++out.commands[env->type];
    } else if (subject == "trading.executions") {
      if (auto r = dec.decode_execution_report(data)) {
        ++out.reports_by_strategy[r->strategy_id];
        if (r->last_qty.is_positive()) ++out.fills_by_strategy[r->strategy_id];
        if (!r->strategy_id.empty() && !r->client_order_id.starts_with(r->strategy_id + "-")) ++out.misattributed;
      }
    }
  };
  out.res = services::run_in_process(c);
  store.append(batch);
  return out;
}

void check_same(eventstore::EventStore& store, const Run& a, const Run& b, const char* id_a, const char* id_b) {
  const auto diff = services::diff_sessions(store, id_a, id_b);
  INFO(services::format_diff(diff, id_a, id_b));
  CHECK(diff.identical);
  CHECK(codec::encode(a.res.report) == codec::encode(b.res.report));
  CHECK(a.commands == b.commands);
}

}  // namespace

TEST_CASE("mean_reversion on daily bars works limit orders that fill, the same at any bus interleaving",
          "[in_process][strategies]") {
  eventstore::MemoryStore store;
  auto c = run_config("bars_1d_SPY_IBM_BAC_1998-2021.csv", 6'000,
                  {{.name = "mean_reversion", .strategy_id = "mr", .params = {{"window", "10"}, {"k", "1.5"}}}});
  c.batch = 1024;
  const auto a = record(c, store, "backtest-mr-a");
  c.batch = 3;
  const auto b = record(c, store, "backtest-mr-b");
  CHECK(a.commands.at("order.submit") > 10);
  CHECK(a.commands.at("order.cancel") > 0);
  CHECK(a.commands.at("order.replace") > 0);
  CHECK(a.fills_by_strategy.at("mr") > 10);
  CHECK(a.misattributed == 0);
  check_same(store, a, b, "backtest-mr-a", "backtest-mr-b");
}

TEST_CASE("market_maker on real BTCUSDT quotes with sizes quotes both sides, fills, and replaces as the quote moves",
          "[in_process][strategies]") {
  eventstore::MemoryStore store;
  auto c = run_config("quotes_BTCUSDT_2020-02-22.csv", 10'000,
                  {{.name = "market_maker",
                    .strategy_id = "mm",
                    .params = {{"spread_bps", "1"}, {"requote_bps", "1"}, {"quantity", "0.01"}, {"max_position", "0.05"}}}});
  c.batch = 1024;
  const auto a = record(c, store, "backtest-mm-a");
  c.batch = 7;
  const auto b = record(c, store, "backtest-mm-b");
  CHECK(a.commands.at("order.submit") > 2);
  CHECK(a.commands.at("order.replace") > 100);
  CHECK(a.fills_by_strategy.at("mm") > 20);
  CHECK(a.misattributed == 0);
  for (const auto& p : a.res.report.positions) CHECK(abs(p.quantity) <= core::Decimal::parse("0.05").value());
  check_same(store, a, b, "backtest-mm-a", "backtest-mm-b");
}

TEST_CASE("two strategies at once in one strategy worker: each gets its own reports, by strategy_id",
          "[in_process][strategies]") {
  eventstore::MemoryStore store;
  auto c = run_config("quotes_BTCUSDT_2020-02-22.csv", 10'000,
                  {{.name = "ma_cross", .strategy_id = "ma_cross", .params = {{"fast", "3"}, {"slow", "12"}, {"quantity", "0.01"}}},
                   {.name = "market_maker",
                    .strategy_id = "mm",
                    .params = {{"spread_bps", "1"}, {"requote_bps", "1"}, {"quantity", "0.01"}, {"max_position", "0.05"}}}});
  const auto a = record(c, store, "backtest-two-a");
  c.batch = 5;
  const auto b = record(c, store, "backtest-two-b");
  CHECK(a.fills_by_strategy.at("ma_cross") > 5);
  CHECK(a.fills_by_strategy.at("mm") > 5);
  CHECK(a.misattributed == 0);
  CHECK(a.reports_by_strategy.size() == 2);  // no report without a strategy_id, none of another
  check_same(store, a, b, "backtest-two-a", "backtest-two-b");
}

TEST_CASE("an in-process backtest refuses an unknown strategy or param before it runs", "[in_process][strategies]") {
  auto c = run_config("quotes_BTCUSDT_2020-02-22.csv", 10, {{.name = "nope", .strategy_id = "nope", .params = {}}});
  CHECK_THROWS_WITH(services::run_in_process(c),
                    "unknown strategy 'nope' (known: ma_cross, mean_reversion, market_maker, template)");
  c.strategies = {{.name = "market_maker", .strategy_id = "mm", .params = {{"spread", "5"}}}};
  CHECK_THROWS_WITH(services::run_in_process(c), Catch::Contains("strategy market_maker: unknown param 'spread'"));
}

TEST_CASE("the strategy worker's settings choose the strategies, and without `strategies` it runs ma_cross from the old ones",
          "[strategies][config]") {
  const auto reg = strategy::builtin_registry();
  auto settings = [](std::vector<std::string> args) {
    config::Settings s("strategy", "test", services::strategy_options());
    args.insert(args.begin(), "strategy");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    s.parse(static_cast<int>(argv.size()), argv.data());
    return s;
  };
  const auto two = services::strategy_choices_from(
      settings({"--strategies", "ma_cross fast=5 slow=10; market_maker strategy_id=mm spread_bps=3"}), reg);
  REQUIRE(two.size() == 2);
  CHECK(two[0].params.describe() == "fast=5 min_events_between_orders=0 quantity=1000 slow=10");
  CHECK(two[1].strategy_id == "mm");
  CHECK(two[1].params.text("spread_bps") == "3");
  const auto old = services::strategy_choices_from(settings({"--fast", "3", "--slow", "12", "--strategy-id", "x"}), reg);
  REQUIRE(old.size() == 1);
  CHECK(old[0].name == "ma_cross");
  CHECK(old[0].strategy_id == "x");
  CHECK(old[0].params.text("fast") == "3");
  CHECK(old[0].params.text("slow") == "12");
  CHECK_THROWS_WITH(services::strategy_choices_from(settings({"--strategies", "ma_cross; ma_cross"}), reg),
                    "strategies: two strategies with strategy_id 'ma_cross' (give one --param strategy_id=...)");
  CHECK_THROWS_WITH(services::strategy_choices_from(settings({"--fast", "12", "--slow", "3"}), reg),
                    "fast/slow/quantity: strategy ma_cross: param 'slow': must be > fast (12), got 3");
}
