// The in-process engine (tooling/in_process.hpp): the workers' own code on a MemoryBus,
// no servers. Its results do not depend on how the bus interleaves inputs and
// reactions (the batch size), on real data; recorded into a store, `diff` finds two
// runs identical, and finds a run with another fill model different. Parity with the
// NATS pipeline: tests/integration/determinism_test.cpp.
#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "codec/codec.hpp"
#include "eventstore/event_store.hpp"
#include "support/servers.hpp"
#include "tooling/diff.hpp"
#include "tooling/in_process.hpp"
#include "workers/recorder.hpp"

namespace {

services::InProcessConfig test_config(const std::string& file, std::int64_t limit) {
  services::InProcessConfig c;
  c.data_path = testsupport::shared_data_dir() + "/" + file;
  c.limit = limit;
  c.policy.defaults.max_order_qty = core::Decimal::from_int(1'000'000);
  c.policy.defaults.max_order_notional = core::Decimal::from_int(10'000'000);
  c.strategies = {{.name = "ma_cross", .strategy_id = "ma_cross", .params = {{"fast", "3"}, {"slow", "12"}}}};  // trades every few dozen events
  c.metrics_interval_ns = 10 * core::kNsPerSecond;
  c.broker.latency_ns = 2'000'000;  // 2 ms: orders wait for a later quote
  return c;
}

/// Runs `c` recorded into `store` as session `id`; returns the result.
services::InProcessResult record(services::InProcessConfig c, eventstore::EventStore& store, const std::string& id) {
  codec::Decoder dec;
  services::SessionAssigner sessions(std::nullopt);
  std::vector<eventstore::NewEvent> batch;
  c.session = core::SessionStarted{
      .session_id = id, .kind = "backtest", .started_by = "test", .version = "test", .ts_wall = 1, .reason = "test"};
  c.on_logged = [&](std::uint64_t seq, std::string_view subject, std::string_view data) {
    batch.push_back(services::recorded_event(dec, sessions, "INP" + id, seq, subject, data));
  };
  auto res = services::run_in_process(c);
  store.append(batch);
  return res;
}

std::map<std::string, std::int64_t> types(eventstore::EventStore& store, const std::string& id) {
  std::map<std::string, std::int64_t> out;
  for (const auto& [type, n] : store.count_by_type(id)) out[type] = n;
  return out;
}

}  // namespace

TEST_CASE("in-process backtests of real quotes, trades and bars derive the same events whatever the bus's batch",
          "[in_process]") {
  for (const auto* file : {"quotes_EURUSD_2014-05-06.csv", "trades_BTCUSDT_2020-02-22.csv",
                           "bars_1m_GBPUSD_2012-02-01_to_14.csv", "bars_1d_SPY_IBM_BAC_1998-2021.csv"}) {
    INFO(file);
    eventstore::MemoryStore store;
    auto c = test_config(file, 4'000);
    if (std::string(file).find("BTC") != std::string::npos) c.strategies[0].params.set("quantity", "0.01");
    c.batch = 1024;
    const auto a = record(c, store, "backtest-a");
    c.batch = 1;  // every input handled, with all it sets off, before the next is read
    const auto b = record(c, store, "backtest-b");
    c.batch = 7;
    const auto d = record(c, store, "backtest-c");
    CHECK(a.feed.published == 4'000);
    CHECK(a.report.orders > 0);
    CHECK(a.report.fills > 0);
    CHECK(types(store, "backtest-a").at("execution_report") > 0);
    for (const auto* other : {"backtest-b", "backtest-c"}) {
      const auto diff = services::diff_sessions(store, "backtest-a", other);
      INFO(services::format_diff(diff, "backtest-a", other));
      CHECK(diff.identical);
      CHECK(diff.compared >= 4'000);
    }
    CHECK(codec::encode(b.report) == codec::encode(a.report));
    CHECK(codec::encode(d.report) == codec::encode(a.report));
    // The batch changes only how many progress markers the workers exchange.
    CHECK(b.log_events >= a.log_events);
  }
}

TEST_CASE("the in-process diff can fail: another fill model derives other events", "[in_process]") {
  eventstore::MemoryStore store;
  auto c = test_config("quotes_EURUSD_2014-05-06.csv", 4'000);
  record(c, store, "backtest-a");
  c.broker.slippage_bps = core::Decimal::from_int(5);
  record(c, store, "backtest-b");
  const auto diff = services::diff_sessions(store, "backtest-a", "backtest-b");
  CHECK_FALSE(diff.identical);
  CHECK_FALSE(diff.metrics);  // an execution report differs, before any metrics
}

TEST_CASE("an in-process run of a whole real quotes day needs no servers and trades", "[in_process]") {
  const auto res = services::run_in_process(test_config("quotes_EURUSD_2014-05-06.csv", 0));
  CHECK(res.feed.published == 44'864);
  CHECK(res.feed.bad_rows == 0);
  CHECK(res.report.final_report);
  CHECK(res.report.orders == res.report.fills);  // market orders, all filled
  CHECK(res.report.orders > 100);
  CHECK(res.log_events > static_cast<std::uint64_t>(res.feed.published));
  CHECK_THROWS_AS(services::run_in_process([] {
                    auto c = test_config("quotes_EURUSD_2014-05-06.csv", 10);
                    c.batch = 0;
                    return c;
                  }()),
                  std::invalid_argument);
  CHECK_THROWS(services::run_in_process(test_config("no_such_file.csv", 0)));
}
