// Input sets (tooling/input_sets.hpp): a session that names one reads back with the set's
// inputs in the gaps of its stream sequences, exactly as if it had stored them.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "codec/codec.hpp"
#include "eventstore/event_store.hpp"
#include "tooling/input_sets.hpp"

namespace {

services::ReplayInput quote(const std::string& bid, core::TimestampNs ts) {
  return {.subject = "market.data.X",
          .payload = codec::encode(core::Quote{.symbol = "X", .bid = *core::Decimal::parse(bid),
                                               .ask = *core::Decimal::parse("200"), .ts_event = ts}),
          .market_ts = ts};
}

eventstore::NewEvent event(const std::string& msg_id, const std::string& subject, const std::string& type,
                           const std::string& payload, const std::string& session) {
  return {.msg_id = msg_id, .subject = subject, .type = type, .payload = payload, .session_id = session};
}

std::string started(const std::string& session, const std::string& set) {
  return codec::encode(core::SessionStarted{.session_id = session, .kind = "backtest", .started_by = "test",
                                            .version = "1", .ts_wall = 1, .input_set = set});
}

/// (msg_id, subject, payload) of every event as open_session reads it.
std::vector<std::string> read(eventstore::EventStore& store, const std::string& session, std::size_t page) {
  std::vector<std::string> out;
  const auto r = services::open_session(store, session, page);
  for (auto p = r->next(); !p.empty(); p = r->next())
    for (const auto& e : p) {
      CHECK(e.session_id == session);
      out.push_back(e.msg_id + " " + e.subject + " " + e.payload);
    }
  return out;
}

}  // namespace

TEST_CASE("an input set is keyed by its inputs' content and stored once", "[input_sets]") {
  const std::vector<services::ReplayInput> in{quote("100", 1), quote("101", 2), quote("102", 3)};
  const auto set = services::input_set_id(in);
  CHECK(set.starts_with("inputs-"));
  CHECK(set.size() == 7 + 32);
  CHECK(services::input_set_id({in[0], in[1]}) != set);  // a prefix is other content
  CHECK(services::input_set_id({in[1], in[0], in[2]}) != set);  // so is another order
  eventstore::MemoryStore store;
  CHECK(services::ensure_input_set(store, store, set, in, "/data/x.csv", "1") == 5);  // started, 3 inputs, ended
  CHECK(services::ensure_input_set(store, store, set, in, "/data/x.csv", "1") == 0);  // complete: nothing again
  CHECK(store.count() == 5);
}

TEST_CASE("a session reads back with its input set's inputs in the gaps of its stream sequences", "[input_sets]") {
  const std::vector<services::ReplayInput> in{quote("100", 1), quote("101", 2), quote("102", 3), quote("103", 4)};
  const auto set = services::input_set_id(in);
  eventstore::MemoryStore store;
  services::ensure_input_set(store, store, set, in, "x.csv", "1");
  // The log of the run: 1 session.started, 2 quote, 3 order, 4 quote, 5 quote, 6 approval,
  // 7 quote, 8 session.ended. The session stores all but the quotes, except the third,
  // stored itself (as a differing input would be): it still takes ordinal 3.
  const std::string s = "backtest-1";
  store.append({event("SBX:1", "session.lifecycle", "session.started", started(s, set), s),
                event("SBX:3", "trading.orders", "order.submit", R"({"type":"order.submit"})", s),
                event("SBX:5", in[2].subject, "quote", in[2].payload, s),
                event("SBX:6", "trading.orders.approved", "order.submit", R"({"type":"order.submit","n":2})", s),
                event("SBX:8", "session.lifecycle", "session.ended", R"({"type":"session.ended"})", s)});
  const std::vector<std::string> want{
      "SBX:1 session.lifecycle " + started(s, set),
      "SBX:2 market.data.X " + in[0].payload,
      R"(SBX:3 trading.orders {"type":"order.submit"})",
      "SBX:4 market.data.X " + in[1].payload,
      "SBX:5 market.data.X " + in[2].payload,
      R"(SBX:6 trading.orders.approved {"type":"order.submit","n":2})",
      "SBX:7 market.data.X " + in[3].payload,
      R"(SBX:8 session.lifecycle {"type":"session.ended"})"};
  CHECK(read(store, s, 10'000) == want);
  CHECK(read(store, s, 3) == want);  // page by page, the same
  CHECK(services::sessions_using_input_set(store, set) == std::vector<std::string>{s});
  CHECK(services::sessions_using_input_set(store, "inputs-other").empty());
}

TEST_CASE("a session whose gaps its input set cannot fill is an error naming both", "[input_sets]") {
  eventstore::MemoryStore store;
  const std::string s = "backtest-2";
  store.append({event("SBX:1", "session.lifecycle", "session.started", started(s, "inputs-missing"), s),
                event("SBX:3", "trading.orders", "order.submit", R"({"type":"order.submit"})", s)});
  try {
    read(store, s, 100);
    FAIL("read a session with a gap and no input set");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find("backtest-2") != std::string::npos);
    CHECK(std::string(e.what()).find("inputs-missing") != std::string::npos);
  }
  // An import of an export stores its inputs itself and names a set this store lacks:
  // it reads as stored (nothing to fill), input for input.
  const auto q = quote("100", 1);
  store.append({event("IMP:1", "session.lifecycle", "session.started", started("imported", "inputs-missing"), "imported"),
                event("IMP:2", q.subject, "quote", q.payload, "imported"),
                event("IMP:3", "trading.orders", "order.submit", R"({"type":"order.submit"})", "imported")});
  CHECK(read(store, "imported", 100).size() == 3);
  // A session that names no set reads as stored, gaps and all.
  store.append({event("SBX:1b", "session.lifecycle", "session.started", started("plain", ""), "plain"),
                event("SBX:7", "trading.orders", "order.submit", R"({"type":"order.submit"})", "plain")});
  CHECK(read(store, "plain", 100).size() == 2);
}
