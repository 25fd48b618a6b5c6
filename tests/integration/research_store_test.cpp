// Issue 12, "Research stays out of the audit log", as a user runs it: backtests and
// replays recorded by traderctl go into the research store, the live store gains
// nothing from them, `traderctl sessions` shows both, and `traderctl sessions rm`
// removes a research session whole while the live store stays append-only and
// `traderctl verify` (hash chain and signed checkpoints) keeps passing.
#include <catch2/catch.hpp>

#include <regex>
#include <string>

#include "eventstore/event_store.hpp"
#include "servers.hpp"
#include "stack.hpp"

namespace {

std::string session_of(const std::string& output) {
  std::smatch m;
  static const std::regex re(R"(session ((replay|backtest)-[0-9TZ]+-[0-9a-f]{4}) \()");
  return std::regex_search(output, m, re) ? m[1].str() : "";
}

}  // namespace

TEST_CASE("backtests go into the research store, never the live one, and sessions rm removes only research",
          "[integration][research]") {
  itest::nats_library();
  itest::Stack stack;
  stack.start({"recorder", "ops", "risk-state", "execution", "reporter", "strategy"});
  const auto ctl = itest::bin("traderctl");
  const auto file = testsupport::shared_data_dir() + "/quotes_BTCUSDT_2020-02-22.csv";
  // A live session with real trading in it.
  REQUIRE(stack.run_as("feed", {itest::bin("feed"), "--limit", "1000", file}) == 0);
  REQUIRE(stack.run({ctl, "wait-idle", "--quiet-ms", "800", "--timeout-s", "120"}) == 0);
  eventstore::PgStore live(stack.reader_url());
  itest::wait_recorded(stack, live);
  const auto live_sessions = live.sessions();
  REQUIRE(live_sessions.size() == 1);
  const auto live_id = live_sessions[0].session_id;

  // A pipeline backtest and a recorded in-process one.
  std::string out;
  REQUIRE(stack.run({ctl, "backtest", file, "--limit", "1500"}, &out) == 0);
  INFO(out);
  const auto bt = session_of(out);
  REQUIRE(!bt.empty());
  // Its market data went into an input set keyed by its content (tooling/input_sets.hpp),
  // which the sandbox's recorder did not store again; later runs of the same inputs,
  // in-process or not, share it and store only what they derived.
  std::smatch m;
  REQUIRE(std::regex_search(out, m, std::regex(R"(input set (inputs-[0-9a-f]{32}) \(stored now)")));
  const std::string set = m[1].str();
  REQUIRE(stack.run({ctl, "backtest", file, "--limit", "1500", "--in-process", "--record"}, &out) == 0);
  const auto inp = session_of(out);
  REQUIRE(!inp.empty());
  CHECK(out.find("stored") != std::string::npos);
  CHECK(out.find("input set " + set + " (stored before: shared)") != std::string::npos);
  CHECK(out.find("1500 inputs shared from its input set") != std::string::npos);
  REQUIRE(stack.run({ctl, "backtest", file, "--limit", "1500", "--in-process", "--record"}, &out) == 0);
  const auto inp2 = session_of(out);
  REQUIRE(!inp2.empty());
  CHECK(out.find("input set " + set + " (stored before: shared)") != std::string::npos);
  CHECK(out.find("1500 inputs shared from its input set") != std::string::npos);
  // A replay of the pipeline backtest publishes exactly what the set holds: it shares it.
  REQUIRE(stack.run({ctl, "replay", bt}, &out) == 0);
  const auto rp = session_of(out);
  REQUIRE(!rp.empty());
  CHECK(out.find("input set " + set + " (its source's: shared)") != std::string::npos);

  // The live store gained nothing from them: no event of either session, no sandbox
  // or in-process msg_id; its only session is the live one.
  itest::wait_recorded(stack, live);
  CHECK(live.query({.session_id = bt, .limit = 1}).empty());
  CHECK(live.query({.session_id = inp, .limit = 1}).empty());
  CHECK_FALSE(live.last_msg_id("SBX").has_value());
  CHECK_FALSE(live.last_msg_id("INP").has_value());
  CHECK(live.sessions().size() == 1);
  eventstore::PgStore research(stack.research_reader_url());
  // The 1,500 quotes once, in the set; none of the three sessions stores one.
  CHECK(research.query({.session_id = set, .type = "quote", .limit = 100'000}).size() == 1500);
  CHECK(research.query({.session_id = bt, .type = "quote", .limit = 1}).empty());
  CHECK_FALSE(research.query({.session_id = bt, .type = "execution_report", .limit = 1}).empty());
  CHECK(research.query({.session_id = inp, .type = "quote", .limit = 1}).empty());
  CHECK(research.query({.session_id = inp2, .type = "quote", .limit = 1}).empty());
  CHECK(research.query({.session_id = rp, .type = "quote", .limit = 1}).empty());
  CHECK_FALSE(research.query({.session_id = rp, .type = "execution_report", .limit = 1}).empty());
  CHECK_FALSE(research.query({.session_id = inp, .type = "execution_report", .limit = 1}).empty());

  // Both are listed, each with its store; show and diff find them wherever they are.
  REQUIRE(stack.run({ctl, "sessions"}, &out) == 0);
  INFO(out);
  CHECK(std::regex_search(out, std::regex(live_id + R"( +live +live )")));
  CHECK(std::regex_search(out, std::regex(bt + R"( +research +backtest )")));
  CHECK(std::regex_search(out, std::regex(inp + R"( +research +backtest )")));
  REQUIRE(stack.run({ctl, "sessions", "show", bt}, &out) == 0);
  CHECK(out.find("(in the research store)") != std::string::npos);
  CHECK(stack.run({ctl, "diff", bt, inp}, &out) == 0);  // pipeline and in-process: the same derived events
  CHECK(stack.run({ctl, "diff", bt, rp}, &out) == 0);  // the replay reproduces the backtest
  CHECK(stack.run({ctl, "diff", inp, inp2}, &out) == 0);  // each read with its inputs back in place
  CHECK(out.find("identical") != std::string::npos);
  REQUIRE(stack.run({ctl, "sessions", "show", inp}, &out) == 0);
  CHECK(std::regex_search(out, std::regex(R"(quote\D+1500\b)")));  // its inputs counted in
  CHECK(stack.run({ctl, "diff", live_id, bt}, &out) == 1);  // across stores too: the live run had other inputs

  // A live session cannot be removed; an unknown one is an error; a research one goes whole.
  CHECK(stack.run({ctl, "sessions", "rm", live_id}, &out) == 1);
  CHECK(out.find("the live store is append-only") != std::string::npos);
  CHECK(stack.run({ctl, "sessions", "rm", set}, &out) == 1);
  CHECK(out.find("is the input set of 4 session(s)") != std::string::npos);
  CHECK(stack.run({ctl, "sessions", "rm", "backtest-20260101T000000Z-0000"}, &out) == 1);
  CHECK(out.find("unknown research session") != std::string::npos);
  const auto removed_events = research.query({.session_id = bt, .limit = 1'000'000}).size();
  REQUIRE(stack.run({ctl, "sessions", "rm", bt}, &out) == 0);
  CHECK(out.find("removed research session " + bt + ": " + std::to_string(removed_events) + " events") !=
        std::string::npos);
  CHECK(research.query({.session_id = bt, .limit = 1}).empty());
  CHECK_FALSE(research.query({.session_id = inp, .limit = 1}).empty());  // the other one stays
  // An input set goes only once no session reads its inputs from it.
  CHECK(stack.run({ctl, "sessions", "rm", set}, &out) == 1);
  CHECK(out.find("is the input set of 3 session(s)") != std::string::npos);
  REQUIRE(stack.run({ctl, "sessions", "rm", inp2}, &out) == 0);
  REQUIRE(stack.run({ctl, "sessions", "rm", rp}, &out) == 0);
  REQUIRE(stack.run({ctl, "sessions", "show", inp}, &out) == 0);  // inp still reads its inputs from the set
  CHECK(std::regex_search(out, std::regex(R"(quote\D+1500\b)")));
  CHECK(stack.run({ctl, "sessions", "rm", set}, &out) == 1);
  CHECK(out.find("is the input set of 1 session(s) (" + inp + ")") != std::string::npos);
  CHECK(stack.run({ctl, "sessions", "show", bt}, &out) == 1);
  CHECK(out.find("unknown session " + bt) != std::string::npos);
  CHECK(stack.run({ctl, "sessions", "rm", bt}, &out) == 1);

  // A research store that does not exist: listing goes on with the live store and says how
  // to make it; writing research is refused, and never falls back to the live store.
  {
    auto env = stack.env();
    env.emplace_back("TRADER_RESEARCH_DB", "no_such_research");
    testsupport::ProcessOptions o;
    o.env = env;
    o.log_path = stack.dir() + "/no-research.log";
    testsupport::Process list({ctl, "sessions"}, o);
    REQUIRE(list.wait() == 0);
    CHECK(list.log().find(live_id) != std::string::npos);
    CHECK(list.log().find("the research store (database no_such_research) does not exist") != std::string::npos);
    o.log_path = stack.dir() + "/no-research-record.log";
    testsupport::Process record({ctl, "backtest", file, "--limit", "100", "--in-process", "--record"}, o);
    CHECK(record.wait() == 1);
    CHECK(record.log().find("does not exist: create it with pkg/eventstore/roles.sql") != std::string::npos);
    // TRADER_RESEARCH_DB naming the live database is refused outright.
    o.env.back().second = "trader";
    o.log_path = stack.dir() + "/research-is-live.log";
    testsupport::Process live_as_research({ctl, "backtest", file, "--limit", "100", "--in-process", "--record"}, o);
    CHECK(live_as_research.wait() == 1);
    CHECK(live_as_research.log().find("cannot be the live store's database") != std::string::npos);
  }

  // Once nobody uses it, the set goes like any research session.
  REQUIRE(stack.run({ctl, "sessions", "rm", inp}, &out) == 0);
  REQUIRE(stack.run({ctl, "sessions", "rm", set}, &out) == 0);
  CHECK(research.query({.session_id = set, .limit = 1}).empty());

  // The live store is whole: every live event still there, its hash chain and the
  // recorder's signed checkpoints verify.
  CHECK(live.query({.session_id = live_id, .limit = 1'000'000}).size() >=
        static_cast<std::size_t>(live_sessions[0].events));  // the live session goes on (heartbeats, metrics)
  REQUIRE(stack.run({ctl, "verify"}, &out) == 0);
  INFO(out);
  CHECK(out.find("ok: ") != std::string::npos);
  CHECK(out.find("hash chain intact") != std::string::npos);
}
