// Issue 4, determinism: replaying a recorded session's inputs through fresh
// workers in lock-step reproduces every derived event (orders, approvals,
// execution reports, risk state, metrics, reports) byte for byte, also when a
// worker (execution, risk-state) is SIGKILLed and restarted halfway; `traderctl diff` proves it and fails
// on a different configuration. Real data from ../shared/data, the example
// strategy tuned to trade often. Run as a user runs it: the traderctl binary.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "codec/codec.hpp"
#include "tooling/input_sets.hpp"
#include "eventstore/event_store.hpp"
#include "stack.hpp"

namespace {

// The example strategy on short averages trades every few dozen quotes; small
// orders stay inside the default risk limits. Interval metrics every 10 s of
// market time: the reporter's performance.metrics and the strategy's order react
// to the same quote in two processes and reach the stream in either order, which
// diff's per-step canonical order absorbs (tooling/diff.hpp); metrics moved to
// another step would still be caught.
const std::vector<std::pair<std::string, std::string>> kEnv = {
    {"STRATEGY_FAST", "3"}, {"STRATEGY_SLOW", "12"}, {"STRATEGY_QUANTITY", "0.01"},
    {"REPORTER_METRICS_INTERVAL_S", "10"}};

std::string new_session_of(const std::string& output) {
  std::smatch m;
  static const std::regex re(R"(session ((replay|backtest)-[0-9TZ]+-[0-9a-f]{4}) \()");
  return std::regex_search(output, m, re) ? m[1].str() : "";
}

/// Events of session `id` by type, as traderctl reads it (its inputs from its input set included).
std::map<std::string, std::int64_t> types_of(eventstore::EventStore& store, const std::string& id) {
  std::map<std::string, std::int64_t> out;
  services::for_each_session_event(store, id, [&](const eventstore::StoredEvent& e) { ++out[e.type]; });
  return out;
}

/// Runs traderctl with `args` (and `env` in front, through env(1)); returns the new session id.
std::string run_session(const itest::Stack& stack, std::vector<std::string> args,
                        const std::vector<std::string>& env = {}) {
  std::vector<std::string> argv;
  if (!env.empty()) {
    argv.push_back("/usr/bin/env");
    argv.insert(argv.end(), env.begin(), env.end());
  }
  argv.push_back(itest::bin("traderctl"));
  argv.insert(argv.end(), args.begin(), args.end());
  std::string out;
  const auto t0 = std::chrono::steady_clock::now();
  const int rc = stack.run(argv, &out);
  INFO(out);
  REQUIRE(rc == 0);
  if (std::find(args.begin(), args.end(), "--lockstep") != args.end()) CHECK(out.find("lock-step: ") != std::string::npos);
  const auto id = new_session_of(out);
  REQUIRE(!id.empty());
  WARN(fmt::format("traderctl {} -> {} in {:.1f} s", fmt::join(args, " "), id,
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()));
  return id;
}

/// `traderctl diff a b`: its exit code and output.
std::pair<int, std::string> diff(const itest::Stack& stack, const std::string& a, const std::string& b) {
  std::string out;
  const int rc = stack.run({itest::bin("traderctl"), "diff", a, b}, &out);
  return {rc, out};
}

std::int64_t compared(const std::string& diff_output) {
  std::smatch m;
  static const std::regex re(R"(identical: ([0-9]+) events compared)");
  return std::regex_search(diff_output, m, re) ? std::stoll(m[1].str()) : -1;
}

void require_identical(const itest::Stack& stack, const std::string& a, const std::string& b, std::int64_t min_events) {
  const auto [rc, out] = diff(stack, a, b);
  INFO(out);
  CHECK(rc == 0);
  CHECK(compared(out) >= min_events);
}

}  // namespace

TEST_CASE("lock-step replays of a real quotes backtest reproduce every derived event, also across a worker restart",
          "[integration][determinism]") {
  itest::nats_library();
  itest::Stack stack(kEnv);
  stack.start({"recorder", "ops"});  // the store; every run brings its own sandbox pipeline
  eventstore::PgStore store(stack.research_reader_url());  // backtests and replays are research
  const auto file = testsupport::shared_data_dir() + "/quotes_BTCUSDT_2020-02-22.csv";

  // (a) A: a lock-step backtest over 3,000 real quotes.
  const auto a = run_session(stack, {"backtest", file, "--limit", "3000", "--lockstep"});
  const auto types = types_of(store, a);
  CHECK(types.at("quote") == 3000);
  CHECK(types.at("order.submit") >= 40);          // the strategy's orders and risk-state's approvals
  CHECK(types.at("execution_report") >= 80);      // new + fill per order
  CHECK(types.at("performance.report") >= 1);

  // (b) B: a lock-step replay of A; every event equal, in order.
  const auto b = run_session(stack, {"replay", a, "--lockstep"});
  std::int64_t derived = 0;
  for (const auto& [type, n] : types)
    if (type != "quote" && type != "session.started" && type != "session.ended" && type != "worker.started" &&
        type != "progress")
      derived += n;
  // diff also skips risk-state's start-up announcement (risk.state, source "startup"): one in A.
  std::int64_t announcements = 0;
  eventstore::for_each(store, {.session_id = a, .type = "risk.state"}, [&](const eventstore::StoredEvent& e) {
    if (auto r = codec::decode_risk_state(e.payload); r && r->source == "startup") ++announcements;
  });
  CHECK(announcements == 1);
  derived -= announcements;
  // The policy in force at the start (risk.policy "startup") is compared by its content, not counted (diff.hpp).
  CHECK(types.at("risk.policy") == 1);
  derived -= 1;
  require_identical(stack, a, b, 3000 + derived);

  // (c) C: the same with execution SIGKILLed and restarted halfway (it rebuilds from the store and the stream).
  const auto c = run_session(stack, {"replay", a, "--lockstep", "--chaos-restart", "execution"});
  require_identical(stack, a, c, 3000 + derived);

  // (e) The proof can fail: a different fill model (slippage) changes the derived events.
  const auto e = run_session(stack, {"replay", a, "--lockstep"}, {"EXECUTION_SLIPPAGE_BPS=5"});
  const auto [rc, out] = diff(stack, a, e);
  INFO(out);
  CHECK(rc == 1);
  CHECK(out.find("DIFFERENT: first divergence at trading event") != std::string::npos);
  CHECK(out.find("execution_report") != std::string::npos);  // the first fill is where they part
  CHECK(out.find("payload") != std::string::npos);
}

TEST_CASE("lock-step replay of a real trades backtest reproduces every derived event across a risk-state restart",
          "[integration][determinism]") {
  itest::nats_library();
  itest::Stack stack(kEnv);
  stack.start({"recorder", "ops"});
  eventstore::PgStore store(stack.research_reader_url());  // backtests and replays are research
  const auto file = testsupport::shared_data_dir() + "/trades_BTCUSDT_2020-02-22.csv";
  const auto a = run_session(stack, {"backtest", file, "--limit", "3000", "--lockstep"});
  const auto types = types_of(store, a);
  CHECK(types.at("trade") == 3000);
  CHECK(types.at("execution_report") >= 20);
  // risk-state SIGKILLed halfway: it rebuilds its state (positions, orders, P&L, limits) from the store and the
  // stream and announces itself again (risk.state "startup", risk.policy "restored"), which diff skips.
  const auto b = run_session(stack, {"replay", a, "--lockstep", "--chaos-restart", "risk-state"});
  require_identical(stack, a, b, 3000 + types.at("execution_report"));
  const auto announced = types_of(store, b);
  CHECK(announced.at("risk.state") == types.at("risk.state") + 1);  // the restart did happen and announce itself
}

// Issue 12: full speed, no barrier. Every worker handles the log in event-time order
// (docs/architecture.md, "Event time"), so two full-speed backtests of one file derive
// the same events, and so does one with a stateful worker SIGKILLed halfway.
TEST_CASE("full-speed backtests of real quotes, trades and bars derive the same events on every run, also across "
          "a restart of the strategy, risk-state, execution, the reporter or the recorder, and in-process",
          "[integration][determinism][event-time]") {
  itest::nats_library();
  itest::Stack stack(kEnv);
  stack.start({"recorder", "ops"});
  eventstore::PgStore store(stack.research_reader_url());  // backtests and replays are research
  struct Case {
    std::string file, limit;
    std::vector<std::string> restarts;  // each SIGKILLed halfway in a run of its own
  };
  // risk-state, killed with orders in flight, decides them at their place in event time
  // (docs/architecture.md, "State from events"), on quotes, trades and daily bars.
  const std::vector<Case> cases = {
      {"quotes_BTCUSDT_2020-02-22.csv", "3000", {"strategy", "risk-state"}},
      {"trades_BTCUSDT_2020-02-22.csv", "3000", {"execution", "risk-state"}},
      {"bars_1m_GBPUSD_2012-02-01_to_14.csv", "3000", {"reporter"}},
      {"bars_1d_SPY_IBM_BAC_1998-2021.csv", "3000", {"recorder", "risk-state"}}};
  for (const auto& c : cases) {
    INFO(c.file);
    const auto file = testsupport::shared_data_dir() + "/" + c.file;
    const auto a = run_session(stack, {"backtest", file, "--limit", c.limit});
    const auto types = types_of(store, a);
    WARN(fmt::format("{}: {}", c.file, types));
    CHECK(types.count("execution_report") == 1);  // the strategy traded and orders were filled
    CHECK(types.count("progress") == 1);          // the workers said how far they got
    const auto b = run_session(stack, {"backtest", file, "--limit", c.limit});
    require_identical(stack, a, b, 3000 + (types.count("execution_report") ? types.at("execution_report") : 0));
    for (const auto& restart : c.restarts) {
      INFO("--chaos-restart " << restart);
      const auto r = run_session(stack, {"backtest", file, "--limit", c.limit, "--chaos-restart", restart});
      require_identical(stack, a, r, 3000);
    }
    // The in-process engine (the same worker code on an in-memory bus), recorded: the
    // same derived events as the pipeline's (tooling/in_process.hpp).
    const auto p = run_session(stack, {"backtest", file, "--limit", c.limit, "--in-process", "--record"});
    require_identical(stack, a, p, 3000);
    // It says how it was run, as the pipeline's workers do: a manifest per worker.
    const auto in_process_types = types_of(store, p);
    CHECK(in_process_types.count("worker.started") == 1);
    if (in_process_types.count("worker.started")) CHECK(in_process_types.at("worker.started") == 5);
  }
}

// Issue 14: a file whose symbol the instruments file does not define trades in a pipeline
// backtest (execution gets the configured instruments plus one derived from the data, in
// the sandbox), and derives what the in-process engine derives. Rows the feed drops are
// dropped alike by traderctl's own reading (the input set), so the session reads back whole.
TEST_CASE("a pipeline backtest of a symbol with no instrument definition trades on a derived instrument, as in-process",
          "[integration][determinism][instruments]") {
  itest::nats_library();
  itest::Stack stack(kEnv);
  stack.start({"recorder", "ops"});
  eventstore::PgStore store(stack.research_reader_url());
  // 3,000 real EURUSD quotes renamed NZDUSD, which deploy/config/instruments.csv lacks.
  const auto file = std::filesystem::temp_directory_path() / fmt::format("nzdusd_{}.csv", ::getpid());
  {
    std::ifstream in(testsupport::shared_data_dir() + "/quotes_EURUSD_2014-05-06.csv");
    std::ofstream out(file);
    std::string line;
    for (int n = 0; n < 3'001 && std::getline(in, line); ++n) {
      if (const auto at = line.find(",EURUSD,"); at != std::string::npos) line.replace(at + 1, 6, "NZDUSD");
      out << line << '\n';
    }
    REQUIRE(out.good());
  }
  const std::vector<std::string> env = {"TRADER_INSTRUMENTS=" + testsupport::source_dir() + "/deploy/config/instruments.csv",
                                        "STRATEGY_QUANTITY=1000"};
  auto run = [&](std::vector<std::string> args) {
    std::vector<std::string> argv{"/usr/bin/env"};
    argv.insert(argv.end(), env.begin(), env.end());
    argv.push_back(itest::bin("traderctl"));
    argv.insert(argv.end(), args.begin(), args.end());
    std::string out;
    const int rc = stack.run(argv, &out);
    INFO(out);
    REQUIRE(rc == 0);
    CHECK(out.find("derived instruments (not in instruments.csv): NZDUSD tick 0.00001, lot none") != std::string::npos);
    CHECK(out.find("rejected 0)") != std::string::npos);
    const auto id = new_session_of(out);
    REQUIRE(!id.empty());
    return id;
  };
  const auto a = run({"backtest", file.string()});
  const auto types = types_of(store, a);
  CHECK(types.count("execution_report") == 1);
  CHECK(types.count("feed.summary") == 1);  // the feed's counts, recorded with the session
  const auto p = run({"backtest", file.string(), "--in-process", "--record"});
  require_identical(stack, a, p, 3000);
  // A backtest of the session's inputs derives the same from them (the file is not read).
  std::filesystem::remove(file);
  const auto s = run({"backtest", "--session", a});
  require_identical(stack, a, s, 3000);
}

// The Strategy API (docs/strategies.md): several strategies at once in one strategy worker,
// one of them working limit orders with replaces and cancels. Their commands are a function
// of the inputs too: a strategy SIGKILLed halfway rebuilds and republishes only what the
// log lacks (submits, cancels and replaces alike), and the in-process engine agrees.
TEST_CASE("full-speed backtests of two strategies at once, with replaces, derive the same events across a restart "
          "of the strategy, and in-process",
          "[integration][determinism][event-time][strategies]") {
  itest::nats_library();
  itest::Stack stack(kEnv);
  stack.start({"recorder", "ops"});
  eventstore::PgStore store(stack.research_reader_url());
  const auto file = testsupport::shared_data_dir() + "/quotes_BTCUSDT_2020-02-22.csv";
  const std::vector<std::string> choice = {
      "--strategy", "market_maker", "--param", "strategy_id=mm", "--param", "spread_bps=1", "--param", "requote_bps=1",
      "--param", "quantity=0.01", "--param", "max_position=0.05", "--strategy", "ma_cross", "--param", "fast=3",
      "--param", "slow=12", "--param", "quantity=0.01"};
  auto args = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = {"backtest", file, "--limit", "3000"};
    a.insert(a.end(), choice.begin(), choice.end());
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  const auto a = run_session(stack, args({}));
  const auto types = types_of(store, a);
  WARN(fmt::format("{}", types));
  CHECK(types.count("order.replace") == 1);
  CHECK(types.count("execution_report") == 1);
  const auto r = run_session(stack, args({"--chaos-restart", "strategy"}));
  require_identical(stack, a, r, 3000);
  const auto p = run_session(stack, args({"--in-process", "--record"}));
  require_identical(stack, a, p, 3000);
}
