// Issue 4: `traderctl replay ID` publishes a recorded session's inputs into a
// private sandbox pipeline, recorded as a new session of kind replay linked to
// its source, and never touches live state; `traderctl backtest FILE` runs the
// whole pipeline over a data file and prints the report. Both are run as a user
// runs them: the traderctl binary with the stack's environment.
#include <catch2/catch.hpp>

#include <simdjson.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include <fmt/format.h>

#include "codec/codec.hpp"
#include "eventstore/event_store.hpp"
#include "stack.hpp"
#include "subjects/subjects.hpp"

namespace {

using itest::session_events;

/// A session's inputs as the test sees them: market data, risk commands, and
/// orders that are not the strategy's (its ids start with "ma_cross-").
std::vector<std::pair<std::string, std::string>> inputs(const std::vector<eventstore::StoredEvent>& events) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& e : events) {
    const bool md = e.subject.starts_with("market.data.");
    // A person's orders and commands are recorded on the subject that names the sender
    // (trading.orders.by.operator); a replay sends them again as desk-replay, so compare base subjects.
    const bool person = (subjects::is_orders(e.subject) && e.subject != "trading.orders") ||
                        subjects::is_risk_management(e.subject);
    if (md || person) out.emplace_back(std::string(subjects::base_of(e.subject)), e.payload);
  }
  return out;
}

/// The session.started and whether a session.ended of this session are among its events.
std::pair<core::SessionStarted, bool> lifecycle(const std::vector<eventstore::StoredEvent>& events) {
  std::pair<core::SessionStarted, bool> out{{}, false};
  codec::Decoder dec;
  for (const auto& e : events) {
    if (e.subject != "session.lifecycle") continue;
    auto l = dec.decode_session_lifecycle(e.payload);
    REQUIRE(l);
    if (auto* st = std::get_if<core::SessionStarted>(&*l)) out.first = *st;
    else out.second = true;
  }
  return out;
}

/// Waits until the live recorder stored everything the live stream EVENTS holds
/// (sandbox events in the same store have their own msg_id prefix).
void wait_live_recorded(const itest::Stack& stack, eventstore::EventStore& store) {
  natsio::Connection conn({.url = stack.nats_url(), .name = "test-js"});
  natsio::JetStream js(conn);
  std::uint64_t last = 0, stored = 0;
  for (int i = 0; i < 600; ++i) {
    last = js.last_sequence("EVENTS");
    const auto id = store.last_msg_id("EVENTS:");
    stored = id ? std::stoull(id->substr(7)) : 0;
    if (stored == last) return;
    usleep(100'000);
  }
  FAIL("live recorder did not catch up: stored " << stored << ", stream " << last);
}

std::string new_session_of(const std::string& output) {
  std::smatch m;
  static const std::regex re(R"(session ((replay|backtest)-[0-9TZ]+-[0-9a-f]{4}) \()");
  return std::regex_search(output, m, re) ? m[1].str() : "";
}

std::int64_t live_reporter_msgs_in(const itest::Stack& stack) {
  std::string out;
  REQUIRE(stack.run({itest::bin("traderctl"), "status", "--json"}, &out) == 0);
  auto st = codec::decode_ops_status(out.substr(0, out.find('\n')));
  REQUIRE(st);
  for (const auto& w : st->workers)
    if (w.worker == "reporter") return w.msgs_in;
  FAIL("no reporter in ops.status");
  return -1;
}

}  // namespace

TEST_CASE("traderctl replay records a new replay session from a session's inputs and leaves live state untouched",
          "[integration][replay]") {
  itest::nats_library();
  itest::Stack stack;
  stack.start();
  const auto file = testsupport::shared_data_dir() + "/quotes_BTCUSDT_2020-02-22.csv";
  REQUIRE(stack.run_as("feed", {itest::bin("feed"), "--limit", "3000", file}) == 0);
  // A person's order and a risk command: inputs too.
  REQUIRE(stack.run({itest::bin("traderctl"), "pub", "trading.orders",
                     R"({"type":"order.submit","client_order_id":"me-1","symbol":"BTCUSDT","side":"buy","order_type":"market","quantity":"0.01"})"}) == 0);
  REQUIRE(stack.run({itest::bin("traderctl"), "wait-idle", "--quiet-ms", "800", "--timeout-s", "60"}) == 0);
  REQUIRE(stack.run({itest::bin("traderctl"), "halt", "test halt"}) == 0);
  REQUIRE(stack.run({itest::bin("traderctl"), "wait-idle", "--quiet-ms", "800", "--timeout-s", "60"}) == 0);
  // The desk asks for the report, as a replay does at its end (a report is requested, not derived).
  REQUIRE(stack.run({itest::bin("traderctl"), "report"}) == 0);
  // The reporter counts that request as an input; ops.status shows it with its next heartbeat
  // (up to heartbeat_ms later). Quiet for longer than that: the count below includes it.
  REQUIRE(stack.run({itest::bin("traderctl"), "wait-idle", "--quiet-ms", "1500", "--timeout-s", "60"}) == 0);

  eventstore::PgStore store(stack.reader_url());
  itest::wait_recorded(stack, store);
  const auto live = store.sessions();
  REQUIRE(live.size() == 1);
  const auto id = live[0].session_id;
  const auto source = session_events(store, id);
  const auto source_inputs = inputs(source);
  REQUIRE(source_inputs.size() == 3000 + 2);
  const auto live_count = live[0].events;
  const auto live_msgs_in = live_reporter_msgs_in(stack);

  std::string out;
  REQUIRE(stack.run({itest::bin("traderctl"), "replay", id}, &out) == 0);
  INFO(out);
  const auto replay_id = new_session_of(out);
  REQUIRE(!replay_id.empty());
  CHECK(out.find("replay: published 3002 events") != std::string::npos);
  CHECK(out.find("Performance report (final)") != std::string::npos);

  // Live state untouched: the live session and the live reporter saw nothing.
  wait_live_recorded(stack, store);
  CHECK(session_events(store, id).size() == static_cast<std::size_t>(live_count));
  CHECK(live_reporter_msgs_in(stack) == live_msgs_in);
  // ...and the live store holds nothing of the replay: it is research (tooling/stores.hpp).
  CHECK(session_events(store, replay_id).empty());
  eventstore::PgStore research(stack.research_reader_url());

  // The new session: kind replay, made from `id`, holding exactly the inputs in order, plus derived events.
  const auto replayed = session_events(research, replay_id);
  const auto [started, ended] = lifecycle(replayed);
  CHECK(started.session_id == replay_id);
  CHECK(started.kind == "replay");
  CHECK(started.source_session_id == id);
  CHECK(ended);
  {
    const auto got = inputs(replayed);
    CHECK(got.size() == source_inputs.size());
    for (std::size_t i = 0; i < std::min(got.size(), source_inputs.size()); ++i) {
      if (got[i] == source_inputs[i]) continue;
      INFO("input #" << i << ": replayed " << got[i].first << " " << got[i].second << "; source "
                     << source_inputs[i].first << " " << source_inputs[i].second);
      CHECK(got[i] == source_inputs[i]);
      break;
    }
  }
  std::map<std::string, int> types;
  for (const auto& e : replayed) {
    ++types[e.type];
    CHECK(e.msg_id.starts_with("SBX"));
  }
  CHECK(types["execution_report"] > 0);  // me-1 at least, from the sandbox's execution
  CHECK(types["order.submit"] > 1);       // the sandbox's strategy regenerated its orders
  CHECK(types["worker.started"] >= 6);
  CHECK(types["performance.report"] >= 1);
  CHECK(store.verify().ok);
  CHECK(research.verify().ok);
  // Issue 12: the replay of a recorded live session derives that session's events (the
  // person's order, the halt, the strategy's orders, every fill): traderctl diff exits 0.
  {
    std::string diff_out;
    CHECK(stack.run({itest::bin("traderctl"), "diff", id, replay_id}, &diff_out) == 0);
    INFO(diff_out);
    CHECK(diff_out.find("identical: ") != std::string::npos);
  }

  {  // filters select what they say
    // Market time window: the quotes [1000, 2000) of the source, by ts_event.
    std::vector<core::TimestampNs> ts;
    for (const auto& e : source)
      if (e.type == "quote") ts.push_back(*e.ts_event);
    const auto from = ts[1000], to = ts[2000];
    std::size_t in_window = 0;
    for (const auto t : ts) in_window += t >= from && t < to;
    REQUIRE(stack.run({itest::bin("traderctl"), "replay", id, "--symbol", "BTCUSDT", "--subject", "market.data.>",
                       "--from", std::to_string(from), "--to", std::to_string(to), "--speed", "0"},
                      &out) == 0);
    INFO(out);
    const auto w_id = new_session_of(out);
    REQUIRE(!w_id.empty());
    const auto w_inputs = inputs(session_events(research, w_id));
    CHECK(w_inputs.size() == in_window);
    for (const auto& [subject, payload] : w_inputs) CHECK(subject == "market.data.BTCUSDT");

    REQUIRE(stack.run({itest::bin("traderctl"), "replay", id, "--symbol", "ETHUSDT"}, &out) == 0);
    const auto none_id = new_session_of(out);
    REQUIRE(!none_id.empty());
    const auto n_inputs = inputs(session_events(research, none_id));
    REQUIRE(n_inputs.size() == 1);  // only the risk command: no market data or order on ETHUSDT
    CHECK(n_inputs[0].first == "risk.management");
    CHECK(session_events(store, id).size() == static_cast<std::size_t>(live_count));
  }

  {  // errors say what failed and exit non-zero
    CHECK(stack.run({itest::bin("traderctl"), "replay", "no-such-session"}, &out) == 1);
    CHECK(out.find("unknown session no-such-session") != std::string::npos);
    CHECK(stack.run({itest::bin("traderctl"), "replay", id, "--speed", "fast"}, &out) == 2);
    CHECK(out.find("--speed") != std::string::npos);
    CHECK(stack.run({itest::bin("traderctl"), "replay", id, "--bogus"}, &out) == 2);
    CHECK(out.find("unknown option --bogus") != std::string::npos);
  }
}

TEST_CASE("traderctl backtest runs the pipeline over a data file, prints the report and records a backtest session",
          "[integration][replay]") {
  itest::nats_library();
  itest::Stack stack;
  stack.start({"recorder", "ops"});  // only the store matters; the backtest brings its own pipeline
  const auto file = testsupport::shared_data_dir() + "/quotes_BTCUSDT_2020-02-22.csv";
  std::string out;
  // The sandbox kept (TRADER_SANDBOX_KEEP=1) to read its workers' logs afterwards.
  REQUIRE(stack.run({"/usr/bin/env", "TRADER_SANDBOX_KEEP=1", itest::bin("traderctl"), "backtest", file}, &out) == 0);
  INFO(out);
  CHECK(out.find("Performance report (final)") != std::string::npos);
  const auto id = new_session_of(out);
  REQUIRE(id.starts_with("backtest-"));
  {
    // Every sandbox worker publishes to the sandbox's own stream with confirmation
    // (natsio::LogPublisher): none was refused asking that stream, or fell back to core
    // NATS (they once asked `EVENTS`, which a sandbox identity may not, and each waited
    // 5 s for the answer).
    std::smatch kept;
    REQUIRE(std::regex_search(out, kept, std::regex(R"(sandbox: kept (\S+))")));
    const std::filesystem::path dir = kept[1].str();
    int logs = 0;
    for (const auto& f : std::filesystem::directory_iterator(dir)) {
      const auto name = f.path().filename().string();
      if (f.path().extension() != ".log" || name == "nats-server.log") continue;
      ++logs;
      std::ifstream in(f.path());
      for (std::string line; std::getline(in, line);) {
        INFO(name << ": " << line);
        CHECK(line.find("\"level\":\"error\"") == std::string::npos);
        CHECK(line.find("without confirmation") == std::string::npos);
      }
    }
    CHECK(logs >= 7);  // recorder, ops, risk-state, execution, reporter, strategy, feed
    std::filesystem::remove_all(dir);
  }
  eventstore::PgStore store(stack.research_reader_url());
  const auto events = session_events(store, id);
  const auto [started, ended] = lifecycle(events);
  CHECK(started.kind == "backtest");
  CHECK(started.data_source == file);
  CHECK(ended);
  std::int64_t quotes = 0, reports = 0;
  for (const auto& e : events) {
    quotes += e.type == "quote";
    reports += e.type == "performance.report";
  }
  CHECK(quotes == 9'999);  // every row of the file (10,000 lines with the header)
  CHECK(reports >= 1);
  // The statistics after the report (issue 14), and again from the stored session with
  // traderctl report ID: final (it ended), with the recorded final report's totals.
  CHECK(out.find("Analysis (final) of backtest of quotes_BTCUSDT_2020-02-22.csv") != std::string::npos);
  {
    std::optional<core::PerformanceReport> last;
    for (const auto& e : events)
      if (e.type == "performance.report")
        if (auto r = codec::decode_performance(e.payload)) last = *r;
    REQUIRE(last);
    const auto json = stack.dir() + "/analysis.json";
    REQUIRE(stack.run({itest::bin("traderctl"), "report", id, "--json", json, "--capital", "500000"}, &out) == 0);
    CHECK(out.find("Analysis (final) of backtest of quotes_BTCUSDT_2020-02-22.csv") != std::string::npos);
    simdjson::dom::parser parser;
    simdjson::dom::element a;
    REQUIRE_FALSE(parser.load(json).get(a));
    CHECK(std::string_view(a["session_id"]) == id);
    CHECK(std::string_view(a["status"]) == "final");
    CHECK(std::string_view(a["settings"]["starting_capital"]) == "500000");
    CHECK(std::string_view(a["totals"]["pnl_total"]) == last->total_pnl.to_string());
    CHECK(int64_t(a["totals"]["fills"]) == last->fills);
    CHECK(int64_t(a["totals"]["orders"]) == last->orders);
  }

  // And over a recorded session: the same inputs.
  REQUIRE(stack.run({itest::bin("traderctl"), "backtest", "--session", id}, &out) == 0);
  INFO(out);
  const auto id2 = new_session_of(out);
  REQUIRE(id2.starts_with("backtest-"));
  const auto events2 = session_events(store, id2);
  CHECK(lifecycle(events2).first.kind == "backtest");
  CHECK(lifecycle(events2).first.source_session_id == id);
  CHECK(inputs(events2) == inputs(events));
}

TEST_CASE("Ctrl-C during a backtest stops the sandbox, ends its session and exits non-zero", "[integration][replay]") {
  itest::nats_library();
  itest::Stack stack;
  stack.start({"recorder", "ops"});
  const auto file = testsupport::shared_data_dir() + "/quotes_BTCUSDT_2020-02-22.csv";
  testsupport::ProcessOptions o;
  o.env = stack.env();
  o.log_path = stack.dir() + "/interrupted.log";
  testsupport::Process ctl({itest::bin("traderctl"), "backtest", file, "--speed", "1"}, o);  // paced: minutes long
  std::smatch m;
  static const std::regex ready(R"(sandbox ready \(nats nats://127\.0\.0\.1:([0-9]+), stream (SBX[0-9a-f]+)\), new session (\S+))");
  std::string log;
  for (int i = 0; i < 300 && !std::regex_search(log, m, ready); ++i) {
    usleep(100'000);
    log = ctl.log();
  }
  REQUIRE(std::regex_search(log, m, ready));
  const std::string stream = m[2].str(), id = m[3].str();
  usleep(1'000'000);  // the feed is running
  ctl.signal(SIGINT);
  const auto rc = ctl.wait_for(std::chrono::seconds(30));
  INFO(ctl.log());
  REQUIRE(rc);
  CHECK(*rc == 128 + SIGINT);
  CHECK(ctl.log().find("interrupted; partial session " + id) != std::string::npos);
  // The sandbox's nats-server is gone, and so is every sandbox worker (no process with its stream in its environment).
  CHECK(stack.run({"/bin/sh", "-c", "grep -l " + stream + " /proc/[0-9]*/environ 2>/dev/null | wc -l"}, &log) == 0);
  CHECK(std::stoi(log) <= 1);  // at most the grep's own shell
  CHECK(stack.run({itest::bin("traderctl"), "status"}, &log) == 0);  // the live stack still answers
  eventstore::PgStore store(stack.research_reader_url());
  const auto [started, ended] = lifecycle(session_events(store, id));
  CHECK(started.kind == "backtest");
  CHECK(ended);  // the partial session is closed
}
