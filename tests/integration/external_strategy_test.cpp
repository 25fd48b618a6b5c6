// Issue 14, "Strategies in any language": the JavaScript example
// (docs/examples/js-strategy/strategy.mjs, nats.js) as a user runs it, `traderctl backtest
// FILE --strategy-cmd "node strategy.mjs"`, in the pipeline sandbox on real quotes. It
// trades (fills > 0), two runs diff identical (`traderctl diff`), and so does a run whose
// strategy worker is SIGKILLed halfway and rebuilds (strategy.reset, the whole log again
// through the program). The program runs from a copy beside tests/js/node_modules (ESM
// resolves `nats` from the script's directory).
#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "codec/codec.hpp"
#include "eventstore/event_store.hpp"
#include "stack.hpp"
#include "tooling/input_sets.hpp"

namespace {

namespace fs = std::filesystem;

std::string new_session_of(const std::string& output) {
  std::smatch m;
  static const std::regex re(R"(session (backtest-[0-9TZ]+-[0-9a-f]{4}) \()");
  return std::regex_search(output, m, re) ? m[1].str() : "";
}

/// `traderctl backtest ...`; returns the new session id.
std::string backtest(const itest::Stack& stack, const std::vector<std::string>& args) {
  std::vector<std::string> argv{itest::bin("traderctl"), "backtest"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string out;
  const auto t0 = std::chrono::steady_clock::now();
  const int rc = stack.run(argv, &out);
  INFO(out);
  REQUIRE(rc == 0);
  const auto id = new_session_of(out);
  REQUIRE(!id.empty());
  WARN(fmt::format("traderctl backtest -> {} in {:.1f} s", id,
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()));
  return id;
}

/// The example, where `import "nats"` resolves: a copy in the build tree beside a link to
/// tests/js/node_modules (tests/run installs it).
std::string example_script() {
  const fs::path src = fs::path(TRADER_SOURCE_DIR) / "docs" / "examples" / "js-strategy" / "strategy.mjs";
  const fs::path modules = fs::path(TRADER_SOURCE_DIR) / "tests" / "js" / "node_modules";
  REQUIRE(fs::exists(modules / "nats"));  // `cd tests/js && npm ci`
  const fs::path dir = fs::path(TRADER_BINARY_DIR) / "test-artifacts" / "js-strategy";
  fs::create_directories(dir);
  fs::copy_file(src, dir / "strategy.mjs", fs::copy_options::overwrite_existing);
  std::error_code ec;
  fs::remove(dir / "node_modules", ec);
  fs::create_directory_symlink(modules, dir / "node_modules");
  return (dir / "strategy.mjs").string();
}

}  // namespace

TEST_CASE("a JavaScript strategy backtests in the pipeline, trades, and diffs identical run to run and across a restart",
          "[integration][external]") {
  itest::nats_library();
  itest::Stack stack;
  stack.start({"recorder", "ops"});  // the store; every backtest brings its own sandbox pipeline
  eventstore::PgStore store(stack.research_reader_url());
  const auto file = testsupport::shared_data_dir() + "/quotes_BTCUSDT_2020-02-22.csv";
  const auto cmd = fmt::format("FAST=5 SLOW=20 QUANTITY=0.01 exec node '{}'", example_script());
  const std::vector<std::string> args{file, "--limit", "3000", "--strategy-cmd", cmd};

  const auto a = backtest(stack, args);
  std::int64_t fills = 0, submits = 0, quotes = 0;
  std::map<std::string, std::int64_t> reports;
  eventstore::for_each(store, {.session_id = a}, [&](const eventstore::StoredEvent& e) {
    if (e.type == "order.submit" && e.subject == "trading.orders") {
      ++submits;
      auto c = codec::decode_order_command(e.payload);
      REQUIRE(c.ok());
      CHECK(std::get<core::OrderSubmit>(*c).strategy_id == "external");  // stamped by the host
    }
    if (e.type == "execution_report")
      if (auto r = codec::decode_execution_report(e.payload)) {
        ++reports[fmt::format("{}{}{}", r->exec_type, r->text.empty() ? "" : ": ", r->text)];
        fills += r->exec_type == core::ExecType::fill;
      }
  });
  services::for_each_session_event(store, a, [&](const eventstore::StoredEvent& e) { quotes += e.type == "quote"; });
  CHECK(quotes == 3000);
  CHECK(submits > 0);
  CHECK(fills > 0);
  WARN(fmt::format("JS strategy on 3,000 BTCUSDT quotes: {} orders, {} fills; reports: {}", submits, fills,
                   fmt::join(reports, ", ")));

  const auto diff = [&](const std::string& x, const std::string& y) {
    std::string out;
    const int rc = stack.run({itest::bin("traderctl"), "diff", x, y}, &out);
    INFO(out);
    CHECK(rc == 0);
    CHECK(out.find("identical") != std::string::npos);
  };
  const auto b = backtest(stack, args);
  diff(a, b);
  // The strategy worker SIGKILLed halfway: it starts again, sends strategy.reset, hands the
  // program the whole log again, and publishes only what the log lacks.
  auto chaos = args;
  chaos.insert(chaos.end(), {"--chaos-restart", "strategy"});
  const auto c = backtest(stack, chaos);
  diff(a, c);
}

TEST_CASE("an external strategy needs NATS: the in-process backtest refuses it with exit status 2",
          "[integration][external]") {
  itest::nats_library();
  itest::Stack stack;
  const auto file = testsupport::shared_data_dir() + "/quotes_BTCUSDT_2020-02-22.csv";
  for (const auto& extra : std::vector<std::vector<std::string>>{{"--strategy-cmd", "node x.mjs"},
                                                                 {"--strategy", "external"}}) {
    std::vector<std::string> argv{itest::bin("traderctl"), "backtest", file, "--in-process"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    std::string out;
    CHECK(stack.run(argv, &out) == 2);
    INFO(out);
    CHECK(out.find("needs NATS") != std::string::npos);
  }
}
