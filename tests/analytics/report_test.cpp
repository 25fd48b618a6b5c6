// The analysis of a whole backtest agrees with the reporter (tooling/report.hpp): from
// the in-process log, from the session as a store holds it, and as `traderctl backtest
// FILE --in-process --json -` prints it. Real data (../shared/data), no servers.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <simdjson.h>

#include "analytics/analytics.hpp"
#include "codec/codec.hpp"
#include "eventstore/event_store.hpp"
#include "support/servers.hpp"
#include "tooling/in_process.hpp"
#include "tooling/report.hpp"
#include "workers/recorder.hpp"

namespace {

const std::string kFile = "quotes_EURUSD_2014-05-06.csv";

/// The run traderctl makes: the settings of the environment (tooling/in_process.hpp).
services::InProcessConfig run_config(const std::string& file = kFile) {
  return services::in_process_config_from_environment(testsupport::shared_data_dir() + "/" + file, 0);
}

void check_totals(const analytics::Stats& s, const core::PerformanceReport& r) {
  CHECK(s.pnl_total == r.total_pnl);
  CHECK(s.pnl_realized == r.realized_pnl);
  CHECK(s.pnl_unrealized == r.unrealized_pnl);
  CHECK(s.max_drawdown == r.max_drawdown);
  CHECK(s.gross_notional_traded == r.gross_notional_traded);
  CHECK(s.commission == r.commission);
  CHECK(s.fills == r.fills);
  CHECK(s.orders == r.orders);
  CHECK(s.orders_denied == r.orders_denied);
  CHECK(s.orders_rejected == r.orders_rejected);
}

/// Runs `cmd` and returns its standard output (its stderr is left alone).
std::string run(const std::string& cmd, int* rc) {
  std::unique_ptr<FILE, int (*)(FILE*)> p(popen(cmd.c_str(), "r"), pclose);
  REQUIRE(p);
  std::string out;
  char buf[1 << 16];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p.get())) > 0) out.append(buf, n);
  *rc = pclose(p.release());
  return out;
}

}  // namespace

TEST_CASE("the analysis of an in-process backtest's log has the reporter's totals, on quotes, trades and bars",
          "[analytics][report]") {
  for (const auto* file : {"quotes_EURUSD_2014-05-06.csv", "trades_BTCUSDT_2020-02-22.csv",
                           "bars_1m_GBPUSD_2012-02-01_to_14.csv", "bars_1d_SPY_IBM_BAC_1998-2021.csv"}) {
    INFO(file);
    auto cfg = run_config(file);
    services::EventTimeLog log;
    cfg.on_logged = [&](std::uint64_t seq, std::string_view subject, std::string_view data) {
      log.add(seq, subject, data);
    };
    const auto res = services::run_in_process(cfg);
    REQUIRE(res.report.fills > 0);
    analytics::Analyzer a;
    log.feed(a);
    const auto an = a.analysis();
    check_totals(an.totals, res.report);
    CHECK_FALSE(an.is_final);  // no session, so no session.ended in the log
    // Per symbol: the reporter's positions; per strategy (one): the totals.
    REQUIRE(an.per_symbol.size() == res.report.positions.size());
    for (std::size_t i = 0; i < an.per_symbol.size(); ++i) {
      CHECK(an.per_symbol[i].symbol == res.report.positions[i].symbol);
      CHECK(an.per_symbol[i].stats.pnl_realized == res.report.positions[i].realized_pnl);
      CHECK(an.per_symbol[i].stats.pnl_unrealized == res.report.positions[i].unrealized_pnl);
    }
    REQUIRE(an.per_strategy.size() == 1);
    CHECK(an.per_strategy[0].stats.pnl_total == res.report.total_pnl);
  }
}

TEST_CASE("with corporate actions (splits and a dividend) the analysis still has the reporter's totals",
          "[analytics][report][corporate_actions]") {
  const auto actions = std::filesystem::temp_directory_path() / "analytics_report_test_actions.csv";
  {
    std::ofstream f(actions);
    f << "date,symbol,action,value\n1999-05-27,IBM,split,2:1\n2004-08-30,BAC,split,2:1\n"
         "2000-03-17,SPY,dividend,0.37\n2010-03-01,BAC,dividend,0.01\n";
  }
  auto cfg = run_config("bars_1d_SPY_IBM_BAC_1998-2021.csv");
  cfg.actions_path = actions.string();
  services::EventTimeLog log;
  cfg.on_logged = [&](std::uint64_t seq, std::string_view subject, std::string_view data) { log.add(seq, subject, data); };
  const auto res = services::run_in_process(cfg);
  std::filesystem::remove(actions);
  REQUIRE(res.feed.actions == 4);
  analytics::Analyzer a;
  log.feed(a);
  const auto an = a.analysis();
  check_totals(an.totals, res.report);
  REQUIRE(an.per_symbol.size() == res.report.positions.size());
  for (std::size_t i = 0; i < an.per_symbol.size(); ++i) {
    INFO(an.per_symbol[i].symbol);
    CHECK(an.per_symbol[i].stats.pnl_realized == res.report.positions[i].realized_pnl);
    CHECK(an.per_symbol[i].stats.pnl_unrealized == res.report.positions[i].unrealized_pnl);
  }
  CHECK_FALSE(an.totals.dividends.is_zero());
}

TEST_CASE("report SESSION's analysis of a stored session has the reporter's totals and is final once it ended",
          "[analytics][report]") {
  auto cfg = run_config();
  cfg.limit = 20'000;
  eventstore::MemoryStore store;
  codec::Decoder dec;
  services::SessionAssigner sessions(std::nullopt);
  std::vector<eventstore::NewEvent> batch;
  cfg.session = core::SessionStarted{.session_id = "bt-1", .kind = "backtest", .data_source = "/x/" + kFile,
                                     .started_by = "test", .version = "test", .ts_wall = 1};
  cfg.on_logged = [&](std::uint64_t seq, std::string_view subject, std::string_view data) {
    batch.push_back(services::recorded_event(dec, sessions, "INPbt1", seq, subject, data));
  };
  const auto res = services::run_in_process(cfg);
  store.append(batch);
  const auto an = services::analyze_session(store, "bt-1", {});
  check_totals(an.totals, res.report);
  CHECK(an.is_final);
  CHECK(an.title == "backtest of " + kFile);
  CHECK(an.session_id == "bt-1");
  CHECK_THROWS_WITH(services::analyze_session(store, "nope", {}), Catch::Contains("unknown session nope"));

  // Without its session.ended (a session still running): interim.
  eventstore::MemoryStore open;
  std::vector<eventstore::NewEvent> running;
  for (const auto& e : batch)
    if (e.type != core::SessionEnded::kType) running.push_back(e);
  open.append(running);
  CHECK_FALSE(services::analyze_session(open, "bt-1", {}).is_final);
}

TEST_CASE("traderctl backtest FILE --in-process --json - prints the analysis with the reporter's totals",
          "[analytics][report][traderctl]") {
  const auto res = services::run_in_process(run_config());
  int rc = -1;
  const auto page = std::filesystem::temp_directory_path() / "analytics_report_test.html";
  std::filesystem::remove(page);
  const auto out = run("env -u NATS_URL -u DATABASE_URL " + testsupport::build_dir() + "/cmd/traderctl backtest " +
                           testsupport::shared_data_dir() + "/" + kFile + " --in-process --json - --html " +
                           page.string() + " 2>/dev/null",
                       &rc);
  REQUIRE(rc == 0);
  {  // the report page of the same analysis (pkg/reportpage)
    std::ifstream f(page);
    const std::string html((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    CHECK_THAT(html, Catch::StartsWith("<!DOCTYPE html") || Catch::StartsWith("<!doctype html"));
    std::filesystem::remove(page);
  }
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  REQUIRE_FALSE(parser.parse(out).get(e));  // stdout holds the JSON alone
  CHECK(std::string_view(e["type"]) == "analysis");
  CHECK(std::string_view(e["status"]) == "final");
  const auto t = e["totals"];
  CHECK(std::string_view(t["pnl_total"]) == res.report.total_pnl.to_string());
  CHECK(std::string_view(t["max_drawdown"]) == res.report.max_drawdown.to_string());
  CHECK(int64_t(t["fills"]) == res.report.fills);
  CHECK(int64_t(t["orders"]) == res.report.orders);
  CHECK(int64_t(t["orders_rejected"]) == res.report.orders_rejected);
  CHECK(e["round_trips"].get_array().size() == static_cast<std::size_t>(int64_t(t["round_trips"])));
}

TEST_CASE("data_quality comes from a feed.summary, with zero counts otherwise", "[analytics][report]") {
  const auto dq = services::data_quality_of(
      R"({"type":"feed.summary","dropped":2,"flagged":1,"by_kind":[{"kind":"crossed_quote","count":1,"lines":[17]}]})");
  CHECK(dq.dropped == 2);
  CHECK(dq.flagged == 1);
  REQUIRE(dq.by_kind.size() == 1);
  CHECK(dq.by_kind[0].kind == "crossed_quote");
  CHECK(dq.by_kind[0].lines == std::vector<std::int64_t>{17});
  CHECK(services::data_quality_of("not json").dropped == 0);
}
