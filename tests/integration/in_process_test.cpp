// Issue 12: `traderctl backtest FILE --in-process` needs no servers. Run as a user runs
// it, the traderctl binary, with NATS_URL and DATABASE_URL unset and no stack started:
// it prints the final report and says the session is not recorded. (Its parity with the
// pipeline: determinism_test.cpp; its determinism: tests/tooling/in_process_test.cpp.)
#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "servers.hpp"
#include "stack.hpp"

TEST_CASE("an in-process backtest of real quotes runs with NATS_URL and DATABASE_URL unset and no server",
          "[integration][in_process]") {
  const auto file = testsupport::shared_data_dir() + "/quotes_EURUSD_2014-05-06.csv";
  auto run = [&](std::vector<std::string> extra) {
    std::vector<std::string> argv{"/usr/bin/env", "-u", "NATS_URL", "-u", "DATABASE_URL", "-u",
                                  "TRADER_WRITER_DATABASE_URL", "TRADER_CONFIG=", itest::bin("traderctl"),
                                  "backtest", file, "--in-process"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    testsupport::Process p(argv);
    const auto code = p.wait_for(std::chrono::minutes(2));
    const auto out = p.log();
    INFO(out);
    REQUIRE(code);
    return std::pair{*code, out};
  };
  const auto [code, out] = run({"--limit", "20000"});
  CHECK(code == 0);
  CHECK_THAT(out, Catch::Contains("in-process: 20000 inputs of"));
  CHECK_THAT(out, Catch::Contains("Performance report (final)"));
  CHECK_THAT(out, Catch::Contains("session none (backtest, in-process: not recorded"));
  // The same run twice prints the same report.
  const auto [code2, out2] = run({"--limit", "20000"});
  CHECK(code2 == 0);
  const auto report = [](const std::string& o) { return o.substr(o.find("Performance report")); };
  CHECK(report(out) == report(out2));
  // --record needs a store: without one it fails, saying so, and stores nothing anywhere.
  const auto [code3, out3] = run({"--limit", "100", "--record"});
  CHECK(code3 != 0);
  CHECK_THAT(out3, Catch::Contains("TRADER_WRITER_DATABASE_URL is not set"));
  // Flags that make no sense in process are refused with the reason.
  const auto [code4, out4] = run({"--lockstep"});
  CHECK(code4 == 2);
  CHECK_THAT(out4, Catch::Contains("--in-process needs FILE, and takes neither"));
}
