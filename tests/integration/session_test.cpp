// Sessions as a person uses them: a live run is one session with a manifest
// (versions, config hashes, the fill model's random seed, the data file and its
// SHA-256); traderctl lists and shows it, exports it and imports it into
// another store, where it is identical event by event.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "codec/codec.hpp"
#include "eventstore/event_store.hpp"
#include "stack.hpp"

namespace {

using itest::session_events;

}  // namespace

TEST_CASE("a live run is a session that traderctl lists, shows, exports and imports", "[integration][sessions]") {
  itest::nats_library();
  itest::Stack stack(std::vector<std::pair<std::string, std::string>>{{"EXECUTION_RANDOM_SEED", "4242"}});
  stack.start();
  const auto file = testsupport::shared_data_dir() + "/quotes_BTCUSDT_2020-02-22.csv";
  REQUIRE(stack.run_as("feed", {itest::bin("feed"), "--limit", "3000", file}) == 0);
  REQUIRE(stack.run({itest::bin("traderctl"), "wait-idle", "--quiet-ms", "1000", "--timeout-s", "120"}) == 0);
  std::string report;
  REQUIRE(stack.run({itest::bin("traderctl"), "report"}, &report) == 0);  // a report inside the session
  CHECK_THAT(report, Catch::Contains("Performance report (interim)"));   // the session is running
  stack.worker("ops").terminate();  // ends the session (session.ended)

  eventstore::PgStore store(stack.reader_url());
  itest::wait_recorded(stack, store);
  const auto sessions = store.sessions();
  REQUIRE(sessions.size() == 1);
  const auto id = sessions[0].session_id;
  CHECK(id.starts_with("live-"));
  const auto events = session_events(store, id);
  REQUIRE(events.size() == static_cast<std::size_t>(sessions[0].events));
  CHECK(events.front().type == "session.started");
  CHECK(events.back().type == "session.ended");
  // Every quote the feed published after the session opened is in it.
  std::int64_t quotes = 0;
  for (const auto& e : events) quotes += e.type == "quote";
  CHECK(quotes == 3000);

  std::string out;
  REQUIRE(stack.run({itest::bin("traderctl"), "sessions", "list"}, &out) == 0);
  INFO(out);
  CHECK(out.find(id) != std::string::npos);
  CHECK(out.find("live") != std::string::npos);

  REQUIRE(stack.run({itest::bin("traderctl"), "sessions", "show", id}, &out) == 0);
  INFO(out);
  CHECK(out.find("kind live, started by ops") != std::string::npos);
  CHECK(out.find("random_seed 4242") != std::string::npos);
  for (const auto* w : {"recorder", "ops", "risk-state", "execution", "reporter", "strategy", "feed"})
    CHECK(out.find(fmt::format("  {:<11} ", w)) != std::string::npos);
  // The feed's data file with its SHA-256 (sha256sum of the same file).
  std::string sha;
  REQUIRE(stack.run({"/usr/bin/sha256sum", file}, &sha) == 0);
  CHECK(out.find(fmt::format("data {} sha256 {}", file, sha.substr(0, 64))) != std::string::npos);
  CHECK(out.find(fmt::format("  {:<24} {:>10}\n", "quote", 3000)) != std::string::npos);
  CHECK(out.find("Performance report (final)") != std::string::npos);

  // Its statistics (docs/statistics.md): final, since it ended.
  REQUIRE(stack.run({itest::bin("traderctl"), "report", id}, &out) == 0);
  INFO(out);
  CHECK_THAT(out, Catch::Contains("Analysis (final) of live session " + id));

  const auto path = stack.dir() + "/session.jsonl.gz";
  REQUIRE(stack.run({itest::bin("traderctl"), "export", id, path}, &out) == 0);
  CHECK(out.find(fmt::format("{} events", events.size())) != std::string::npos);

  // Into another store (a second database on the same server).
  stack.pg().create_database("imported");
  const auto other_url = stack.pg().url_for("imported", testsupport::PgRole::reader);
  auto env = stack.env();
  testsupport::Process import({itest::bin("traderctl"), "import", path}, [&] {
    testsupport::ProcessOptions o;
    o.env = env;
    for (auto& [k, v] : o.env) {
      if (k == "DATABASE_URL") v = other_url;
      if (k == "TRADER_WRITER_DATABASE_URL") v = stack.pg().url_for("imported", testsupport::PgRole::writer);
    }
    o.log_path = stack.dir() + "/import.log";
    return o;
  }());
  REQUIRE(import.wait() == 0);
  CHECK(import.log().find(fmt::format("{} events, {} newly stored", events.size(), events.size())) != std::string::npos);

  // Imports are research: they go into that deployment's research store, never its live log.
  eventstore::PgStore other(stack.pg().url_for("imported_research", testsupport::PgRole::reader));
  eventstore::PgStore other_live(other_url);
  CHECK(session_events(other_live, id).empty());
  const auto copied = session_events(other, id);
  REQUIRE(copied.size() == events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto& a = events[i];
    const auto& b = copied[i];
    INFO("event " << i << ": " << a.msg_id);
    CHECK(b.msg_id == "import:" + a.msg_id);
    CHECK(b.session_id == a.session_id);
    CHECK(b.subject == a.subject);
    CHECK(b.type == a.type);
    CHECK(b.client_order_id == a.client_order_id);
    CHECK(b.ts_event == a.ts_event);
    CHECK(b.payload == a.payload);
  }
  CHECK(other.verify().ok);  // chained in the new store
  CHECK(store.verify().ok);

  // A file that repeats a msg_id (fuzz finding F2, tests/fuzz/regressions/import) is
  // refused: exit 1, the line and the msg_id named, nothing of it stored. The same
  // file without the repeat is imported.
  const auto event = [](std::string_view id, std::string_view coid, int ts) {
    return fmt::format(R"({{"msg_id":"{}","session_id":"f2-repeat","subject":"trading.orders","type":"order.cancel",)"
                       R"("client_order_id":"{}","ts_event":{},"payload":{{"type":"order.cancel","client_order_id":"{}"}}}})",
                       id, coid, ts, coid) + "\n";
  };
  const std::string head = R"({"type":"session.export","v":1,"session_id":"f2-repeat"})" "\n";
  const std::string end = R"({"type":"session.export.end","events":2})" "\n";
  const auto repeated = stack.dir() + "/repeated-msg-id.jsonl";
  std::ofstream(repeated) << head << event("m1", "a", 1) << event("m1", "b", 2) << end;
  REQUIRE(stack.run({itest::bin("traderctl"), "import", repeated}, &out) == 1);
  INFO(out);
  CHECK(out.find(repeated + ":3: msg_id: \"m1\" repeats line 2") != std::string::npos);
  eventstore::PgStore research(stack.research_reader_url());
  CHECK(session_events(research, "f2-repeat").empty());
  const auto distinct = stack.dir() + "/distinct-msg-ids.jsonl";
  std::ofstream(distinct) << head << event("m1", "a", 1) << event("m2", "b", 2) << end;
  REQUIRE(stack.run({itest::bin("traderctl"), "import", distinct}, &out) == 0);
  CHECK(session_events(research, "f2-repeat").size() == 2);
  CHECK(session_events(store, "f2-repeat").empty());
  // A live session is never imported again as research: one id, one history.
  REQUIRE(stack.run({itest::bin("traderctl"), "import", path}, &out) == 1);
  CHECK(out.find("session " + id + " is in the live store already") != std::string::npos);
}
