// What the workers put in their log records (obs/log.hpp): the session that
// session.lifecycle says is open (note_session), and the client_order_id of a refused
// or quarantined order (Runtime::dead_letter, quarantine).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "codec/codec.hpp"
#include "subjects/subjects.hpp"
#include "workers/memory_bus.hpp"
#include "workers/runtime.hpp"

namespace {

struct Lines {
  std::vector<std::string> lines;
  std::shared_ptr<obs::Logger> log;
  explicit Lines(std::string worker)
      : log(std::make_shared<obs::Logger>(obs::LogOptions{.worker = std::move(worker)},
                                          [this](std::string_view l) { lines.emplace_back(l); })) {}
};

std::string started(const std::string& id, const std::string& kind = "live") {
  return codec::encode(core::SessionStarted{
      .session_id = id, .kind = kind, .started_by = "ops", .version = "test", .ts_wall = 1'700'000'000'000'000'000});
}

std::string ended(const std::string& id) {
  return codec::encode(core::SessionEnded{.session_id = id, .ts_wall = 1'700'000'001'000'000'000});
}

}  // namespace

TEST_CASE("note_session follows session.lifecycle: a start sets the session, the end of that session clears it",
          "[workers][log]") {
  Lines l("risk-state");
  auto& log = *l.log;
  const std::string lifecycle(subjects::kSessionLifecycle);
  services::note_session(log, lifecycle, started("live-1"));
  CHECK(log.session() == "live-1");
  services::note_session(log, "trading.orders", started("live-2"));  // another subject: not a session
  services::note_session(log, lifecycle, "{not json");
  services::note_session(log, lifecycle, ended("live-0"));            // another session's end
  services::note_session(log, lifecycle, started("set-1", "inputs"));  // an input set is no running session
  CHECK(log.session() == "live-1");
  services::note_session(log, lifecycle, started("live-2"));  // a new start without an end: the newer one
  CHECK(log.session() == "live-2");
  services::note_session(log, lifecycle, ended("live-2"));
  CHECK(log.session().empty());
}

TEST_CASE("a refused or quarantined order's log record carries its client_order_id", "[workers][log]") {
  Lines l("risk-state");
  services::MemoryBus bus;
  core::SystemClock clock;
  services::Runtime rt(bus, "risk-state", clock, 1000, l.log);
  CHECK(&rt.log() == l.log.get());
  rt.dead_letter("trading.orders.by.alice", core::Error{.field = "quantity", .message = "must be positive"},
                 R"({"type":"order.submit","client_order_id":"o-7","quantity":"-1"})", "", "alice", 12);
  rt.quarantine("trading.orders", "arithmetic overflow", R"({"type":"order.submit","client_order_id":"o-8"})");
  rt.dead_letter("trading.orders", core::Error{.field = "", .message = "not JSON"}, "{{{");
  REQUIRE(l.lines.size() == 3);
  CHECK_THAT(l.lines[0], Catch::StartsWith("{\"ts\":"));
  CHECK_THAT(l.lines[0], Catch::Contains(R"("level":"warn")") && Catch::Contains(R"("client_order_id":"o-7")") &&
                             Catch::Contains(R"("field":"quantity")") && Catch::Contains(R"("sender":"alice")") &&
                             Catch::Contains(R"("seq":"12")") &&
                             Catch::Contains(R"("msg":"rejected message on trading.orders.by.alice from alice: )"));
  CHECK_THAT(l.lines[1], Catch::Contains(R"("level":"error")") && Catch::Contains(R"("client_order_id":"o-8")") &&
                             Catch::Contains("ALARM: quarantined message #1"));
  CHECK_THAT(l.lines[2], !Catch::Contains("client_order_id") && !Catch::Contains(R"("field")"));
}
