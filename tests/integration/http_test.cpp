// Issue 13, step 1: every worker serves /health/live, /health/ready and /metrics over
// HTTP. Against a real stack (nats-server, PostgreSQL, every worker) and real market
// data: the endpoints answer, the metrics pass `promtool check metrics` and count what
// the session did, and readiness follows the worker's NATS connection.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <httplib.h>

#include "codec/codec.hpp"
#include "eventstore/event_store.hpp"
#include "promtool.hpp"
#include "stack.hpp"
#include "workers/version.hpp"

namespace {

using namespace std::chrono_literals;
const std::vector<std::string> kWorkers = {"recorder", "ops", "risk-state", "execution", "reporter", "strategy"};

int port_of(itest::Stack& stack, const std::string& worker) { return itest::http_port_of(stack, worker); }

struct Got {
  int status = 0;
  std::string body, content_type;
};

Got get(int port, const std::string& path) {
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(5, 0);
  c.set_read_timeout(5, 0);
  auto r = c.Get(path);
  if (!r) return {};
  return {r->status, r->body, r->get_header_value("Content-Type")};
}

int promtool_check(const std::string& text, std::string& said) { return testsupport::promtool_check_metrics(text, said); }

/// The value of the sample `name{worker="<worker>"<more>}` in a scrape, as written
/// ("" if absent). `more`: further labels, e.g. `,kind="total"`.
std::string sample_text(const std::string& text, const std::string& name, const std::string& worker,
                        const std::string& more = "") {
  const auto key = fmt::format("{}{{worker=\"{}\"{}}} ", name, worker, more);
  const auto at = text.find("\n" + key);
  if (at == std::string::npos) return "";
  const auto from = at + 1 + key.size();
  return text.substr(from, text.find('\n', from) - from);
}

/// The same as a number (-1 if absent).
double sample(const std::string& text, const std::string& name, const std::string& worker, const std::string& more = "") {
  const auto v = sample_text(text, name, worker, more);
  return v.empty() ? -1 : std::stod(v);
}

using itest::until;

}  // namespace

TEST_CASE("every worker serves health and Prometheus metrics over HTTP, and readiness follows NATS",
          "[integration][http]") {
  itest::nats_library();
  itest::Stack stack(std::vector<std::pair<std::string, std::string>>{{"HTTP_PORT", "0"}});  // each worker: a free port
  stack.start();
  std::map<std::string, int> port;
  for (const auto& w : kWorkers) port[w] = port_of(stack, w);

  // A real session: 2,000 BTCUSDT quotes through every worker.
  REQUIRE(stack.run_as("feed", {itest::bin("feed"), "--limit", "2000",
                                testsupport::shared_data_dir() + "/quotes_BTCUSDT_2020-02-22.csv"}) == 0);
  REQUIRE(stack.run({itest::bin("traderctl"), "wait-idle", "--quiet-ms", "1000", "--timeout-s", "120"}) == 0);

  for (const auto& w : kWorkers) {
    INFO(w << " on port " << port[w]);
    const auto live = get(port[w], "/health/live");
    CHECK(live.status == 200);
    CHECK(live.body == fmt::format("{{\"status\":\"live\",\"worker\":\"{}\"}}\n", w));
    const auto ready = get(port[w], "/health/ready");
    CHECK(ready.status == 200);
    CHECK(ready.body == fmt::format("{{\"status\":\"ready\",\"worker\":\"{}\",\"reasons\":[]}}\n", w));
    const auto m = get(port[w], "/metrics");
    REQUIRE(m.status == 200);
    CHECK(m.content_type == "text/plain; version=0.0.4; charset=utf-8");
    std::string said;
    INFO(m.body);
    CHECK(promtool_check(m.body, said) == 0);
    CHECK(said.empty());
    CHECK(sample(m.body, "trader_ready", w) == 1);
    // Which build answers: the same version (and commit) as the manifest's.
    CHECK(sample(m.body, "trader_build_info", w, fmt::format(",version=\"{}\"", services::version())) == 1);
    CHECK(get(port[w], "/nothing").status == 404);
  }
  // What the session did: every log follower took every quote as an input, and timed it.
  for (const auto& w : {"risk-state", "execution", "reporter", "strategy"}) {
    INFO(w);
    const auto m = get(port[w], "/metrics").body;
    CHECK(sample(m, "trader_messages_in_total", w) >= 2000);
    CHECK(sample(m, "trader_handling_seconds_count", w) >= 2000);
    CHECK(sample(m, "trader_log_seq", w) >= 2000);
  }
  CHECK(sample(get(port["strategy"], "/metrics").body, "trader_messages_out_total", "strategy") > 0);  // it traded

  // The worker's own figures against the event store and the final report.
  eventstore::PgStore store(stack.reader_url());
  itest::wait_recorded(stack, store);
  std::map<std::string, double> reports_by_exec_type;
  std::map<std::string, std::string> latest_status;  // client_order_id -> order_status of its newest report
  double fills = 0;
  for (const auto& e : itest::read_all(store)) {
    if (e.type != "execution_report") continue;
    const auto r = codec::decode_execution_report(e.payload);
    REQUIRE(r);
    if (r->exec_type != core::ExecType::denied) {
      reports_by_exec_type[std::string(core::to_string(r->exec_type))] += 1;
      latest_status[r->client_order_id] = std::string(core::to_string(r->order_status));
    }
    if (!r->last_qty.is_zero()) fills += 1;
  }
  REQUIRE(fills > 0);
  const auto exec = get(port["execution"], "/metrics").body;
  for (const auto t : {"new", "fill", "partial_fill", "canceled", "rejected", "expired"}) {
    INFO(t);
    CHECK(sample(exec, "trader_execution_reports_total", "execution", fmt::format(",exec_type=\"{}\"", t)) ==
          reports_by_exec_type[t]);
  }
  std::map<std::string, double> orders_by_status;
  for (const auto& [id, st] : latest_status) orders_by_status[st] += 1;
  REQUIRE(!latest_status.empty());
  for (const auto st : {"new", "partially_filled", "filled", "canceled", "rejected", "expired"}) {
    INFO(st);
    CHECK(sample(exec, "trader_orders_by_status", "execution", fmt::format(",order_status=\"{}\"", st)) ==
          orders_by_status[st]);
  }
  const auto rep = get(port["reporter"], "/metrics").body;
  CHECK(sample(rep, "trader_fills", "reporter") == fills);
  std::string report_json;
  REQUIRE(stack.run({itest::bin("traderctl"), "report", "--json"}, &report_json) == 0);
  const auto report = codec::decode_performance(report_json.substr(0, report_json.find('\n')));
  REQUIRE(report);
  CHECK(sample_text(rep, "trader_pnl", "reporter", ",kind=\"total\"") == report->total_pnl.to_string());
  CHECK(sample_text(rep, "trader_pnl", "reporter", ",kind=\"realized\"") == report->realized_pnl.to_string());
  CHECK(sample_text(rep, "trader_max_drawdown", "reporter") == report->max_drawdown.to_string());
  for (const auto& pos : report->positions) {
    INFO(pos.symbol);
    CHECK(sample_text(rep, "trader_position", "reporter", fmt::format(",symbol=\"{}\"", pos.symbol)) ==
          pos.quantity.to_string());
  }
  const auto risk = get(port["risk-state"], "/metrics").body;
  CHECK(sample(risk, "trader_trading_state", "risk-state", ",state=\"active\"") == 1);
  CHECK(sample(risk, "trader_trading_state", "risk-state", ",state=\"halted\"") == 0);
  REQUIRE(stack.run({itest::bin("traderctl"), "halt", "http test"}) == 0);
  CHECK(until(10s, [&] {
    return sample(get(port["risk-state"], "/metrics").body, "trader_trading_state", "risk-state", ",state=\"halted\"") == 1;
  }));
  REQUIRE(stack.run({itest::bin("traderctl"), "resume"}) == 0);
  const auto rec = get(port["recorder"], "/metrics").body;
  CHECK(sample(rec, "trader_recorder_stored_total", "recorder") >= 2000);
  CHECK(sample(rec, "trader_recorder_lag_messages", "recorder") == 0);
  CHECK(sample(rec, "trader_recorder_last_stored_seq", "recorder") >= 2000);

  // NATS gone: alive, not ready, and it says why; NATS back: ready again.
  stack.nats().stop();
  for (const auto& w : {"risk-state", "execution"}) {
    INFO(w);
    CHECK(until(15s, [&] { return get(port[w], "/health/ready").status == 503; }));
    const auto ready = get(port[w], "/health/ready");
    CHECK_THAT(ready.body, Catch::Contains("\"status\":\"not ready\"") && Catch::Contains("not connected to NATS"));
    CHECK(get(port[w], "/health/live").status == 200);
    CHECK(sample(get(port[w], "/metrics").body, "trader_ready", w) == 0);
  }
  stack.nats().start();
  for (const auto& w : kWorkers) {
    INFO(w);
    CHECK(until(60s, [&] { return get(port[w], "/health/ready").status == 200; }));
  }
}

TEST_CASE("a worker refuses a health port it cannot have, and a port outside 0..65535",
          "[integration][http]") {
  itest::nats_library();
  itest::Stack stack;
  httplib::Server squatter;  // holds a port
  const int taken = squatter.bind_to_any_port("127.0.0.1");
  REQUIRE(taken > 0);
  for (const auto& [port, says] : std::vector<std::pair<std::string, std::string>>{
           {std::to_string(taken), "http: cannot bind 127.0.0.1:" + std::to_string(taken)},
           {"70000", "http_port: must be 0..65535"},
           {"eighty", "http_port"}}) {
    INFO(port);
    auto env = stack.env_for("ops");
    env.emplace_back("HTTP_PORT", port);
    testsupport::Process ops({itest::bin("ops")}, env, stack.dir() + "/ops-port-" + port + ".log");
    CHECK(ops.wait() != 0);
    CHECK_THAT(ops.log(), Catch::Contains(says));
  }
}
