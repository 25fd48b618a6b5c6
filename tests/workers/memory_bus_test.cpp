// services::MemoryBus: the in-process bus behaves as the workers expect of the NATS one
// (workers/bus.hpp): one total log order of the captured subjects, core subscribers by
// pattern, what handlers publish delivered after what was queued before it.
#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "core/time.hpp"
#include "workers/memory_bus.hpp"
#include "workers/runtime.hpp"

namespace {
using Seen = std::vector<std::pair<std::uint64_t, std::string>>;  // (seq, subject)
}

TEST_CASE("the log holds the captured subjects only, in publish order, numbered from 1", "[memory_bus]") {
  services::MemoryBus bus(true);
  core::SystemClock clock;
  services::Runtime rt(bus, "test", clock, 0);
  Seen seen;
  auto tail = bus.follow(rt, nullptr, "EVENTS", 0, [&](const services::LogEvent& ev) {
    seen.emplace_back(ev.seq, std::string(ev.subject));
  });
  tail->open(0);
  bus.publish("market.data.EURUSD", R"({"type":"quote"})");
  bus.publish("ops.heartbeat.x", "{}");  // not captured (ops.* but ops.dead_letter)
  bus.publish("trading.orders", "{}");
  bus.publish("ops.dead_letter", "{}");
  bus.publish("progress.strategy", "{}");
  CHECK(seen.empty());  // nothing before run()
  bus.run();
  CHECK(seen == Seen{{1, "market.data.EURUSD"}, {2, "trading.orders"}, {3, "ops.dead_letter"}, {4, "progress.strategy"}});
  CHECK(bus.log_end("anything") == 4);
  CHECK(bus.delivered() == 5);
  REQUIRE(bus.log().size() == 4);
  CHECK(bus.log()[0]->data == R"({"type":"quote"})");
}

TEST_CASE("what a handler publishes is delivered after what was queued before it, to every follower in order",
          "[memory_bus]") {
  services::MemoryBus bus;
  core::SystemClock clock;
  services::Runtime rt(bus, "test", clock, 0);
  Seen a, b;
  auto ta = bus.follow(rt, nullptr, "EVENTS", 0, [&](const services::LogEvent& ev) {
    a.emplace_back(ev.seq, std::string(ev.subject));
    if (ev.subject == "market.data.X") bus.publish("trading.orders", "{}");  // a reaction
  });
  auto tb = bus.follow(rt, nullptr, "EVENTS", 0, [&](const services::LogEvent& ev) {
    b.emplace_back(ev.seq, std::string(ev.subject));
    bus.run();  // not reentrant: returns at once
  });
  ta->open(0);
  tb->open(0);
  bus.publish("market.data.X", "{}");
  bus.publish("market.data.Y", "{}");
  bus.run();
  const Seen want{{1, "market.data.X"}, {2, "market.data.Y"}, {3, "trading.orders"}};
  CHECK(a == want);
  CHECK(b == want);
}

TEST_CASE("a follower gets nothing before open(), then only what follows what it handled", "[memory_bus]") {
  services::MemoryBus bus(true);
  core::SystemClock clock;
  services::Runtime rt(bus, "test", clock, 0);
  bus.publish("market.data.X", "{}");
  bus.publish("market.data.Y", "{}");
  bus.run();
  // A worker starting now: the live tail from the end, then the history up to it.
  Seen live, history;
  auto tail = bus.follow(rt, nullptr, "EVENTS", bus.log_end("EVENTS"), [&](const services::LogEvent& ev) {
    live.emplace_back(ev.seq, std::string(ev.subject));
  });
  bus.publish("market.data.Z", "{}");
  const auto st = bus.read_history(nullptr, "EVENTS", 0, 2, [&](const services::LogEvent& ev) {
    history.emplace_back(ev.seq, std::string(ev.subject));
  });
  CHECK(st.last_seq == 2);
  CHECK(st.from_stream == 2);
  CHECK(history == Seen{{1, "market.data.X"}, {2, "market.data.Y"}});
  tail->open(st.last_seq);
  bus.run();
  CHECK(live == Seen{{3, "market.data.Z"}});
  // Without keep_log the history is not there to read: said, not made up.
  services::MemoryBus forgetful;
  forgetful.publish("market.data.X", "{}");
  forgetful.run();
  CHECK_THROWS_AS(forgetful.read_history(nullptr, "EVENTS", 0, 1, [](const services::LogEvent&) {}), std::logic_error);
}

TEST_CASE("core subscribers get the messages their pattern matches, captured or not, and a destroyed one nothing",
          "[memory_bus]") {
  services::MemoryBus bus;
  std::vector<std::string> got, gone;
  auto s1 = bus.subscribe("trading.orders.by.*", [&](const natsio::Message& m) { got.emplace_back(m.subject); });
  auto s2 = bus.subscribe("ops.>", [&](const natsio::Message& m) { got.emplace_back(m.subject); });
  auto s3 = bus.subscribe(">", [&](const natsio::Message& m) { gone.emplace_back(m.subject); });
  s3.reset();
  bus.publish("trading.orders.by.alice", "{}");
  bus.publish("trading.orders", "{}");
  bus.publish("ops.report", "{}");
  bus.run();
  CHECK(got == std::vector<std::string>{"trading.orders.by.alice", "ops.report"});
  CHECK(gone.empty());
}

TEST_CASE("every logged event reaches the sink, with its sequence", "[memory_bus]") {
  Seen sunk;
  services::MemoryBus bus(false, [&](std::uint64_t seq, std::string_view subject, std::string_view) {
    sunk.emplace_back(seq, std::string(subject));
  });
  bus.publish("risk.state", "{}");
  bus.publish("ops.ping.x", "{}");
  bus.publish("reports.performance", "{}");
  bus.run();
  CHECK(sunk == Seen{{1, "risk.state"}, {2, "reports.performance"}});
  CHECK(bus.log().empty());
}
