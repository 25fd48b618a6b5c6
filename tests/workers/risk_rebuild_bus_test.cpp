// services::RiskService rebuilding from its own log (on the in-process bus): an order
// that was in flight when risk-state died is decided at its place in event-time order,
// against the state the uninterrupted run had there, not the state at the end of the
// history; an order the log holds a decision for is not decided again.
#include <catch2/catch.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "codec/codec.hpp"
#include "core/time.hpp"
#include "subjects/subjects.hpp"
#include "workers/memory_bus.hpp"
#include "workers/risk_state.hpp"
#include "workers/runtime.hpp"

namespace {

core::Decimal dec(const char* s) { return *core::Decimal::parse(s); }

core::RiskPolicy band_policy() {
  core::RiskPolicy p;
  p.defaults.price_band_bps = dec("100");  // a limit more than 1% from the mid is denied
  return p;
}

/// Publishes a quote of X around `mid` (spread 0.2) at market time `ts`; returns its sequence.
std::uint64_t quote(services::MemoryBus& bus, const char* bid, const char* ask, core::TimestampNs ts) {
  const auto seq = bus.log_end("EVENTS") + 1;  // what risk-state publishes in reaction comes after it
  bus.publish("market.data.X", codec::encode(core::Quote{.symbol = "X", .bid = dec(bid), .ask = dec(ask), .ts_event = ts}));
  bus.run();
  return seq;
}

/// The strategy's progress marker: it will publish nothing more about roots before `root`
/// (the event-time contract: without it risk-state could not know an order may still come).
void strategy_done_before(services::MemoryBus& bus, std::uint64_t root) {
  bus.publish("progress.strategy", codec::encode(core::Progress{.worker = "strategy", .root_seq = root, .stage = 1}));
  bus.run();
}

/// The strategy's limit buy of 1 X at 100.5, reacting to market event `cause`, and its
/// progress past that event.
void order(services::MemoryBus& bus, const std::string& id, std::uint64_t cause, core::TimestampNs ts) {
  bus.publish(subjects::kTradingOrders,
              codec::encode(core::OrderSubmit{.client_order_id = id,
                                              .symbol = "X",
                                              .side = core::Side::buy,
                                              .order_type = core::OrderType::limit,
                                              .quantity = dec("1"),
                                              .limit_price = dec("100.5"),
                                              .strategy_id = "s",
                                              .ts_event = ts,
                                              .cause_seq = cause}));
  bus.run();
  strategy_done_before(bus, cause + 1);
}

/// risk-state's decisions in the log, by client_order_id: "approved" / "denied", in log order.
std::map<std::string, std::vector<std::string>> decisions(const services::MemoryBus& bus) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& ev : bus.log()) {
    const auto& e = *ev;
    if (e.subject == subjects::kTradingOrdersApproved) {
      if (auto r = codec::decode_order_command(e.data))
        out[std::get<core::OrderSubmit>(*r).client_order_id].push_back("approved");
    } else if (e.subject == subjects::kTradingExecutions) {
      if (auto r = codec::decode_execution_report(e.data); r && r->exec_type == core::ExecType::denied)
        out[r->client_order_id].push_back("denied");
    }
  }
  return out;
}

using Decisions = std::map<std::string, std::vector<std::string>>;

/// The session: the strategy's o1 on a mid of 100, its o2 on a mid of 100.2, then the
/// market moves to 200. risk-state (on `rt`) runs from the start through the first
/// `alive` of these three steps, then is gone.
void play(services::MemoryBus& bus, services::Runtime& rt, int alive) {
  strategy_done_before(bus, 1);
  auto risk = std::make_unique<services::RiskService>(rt, band_policy(), nullptr, "EVENTS");
  bus.run();
  const std::function<void()> steps[] = {
      [&] { order(bus, "o1", quote(bus, "99.9", "100.1", 1'000), 1'000); },
      [&] { order(bus, "o2", quote(bus, "100.1", "100.3", 2'000), 2'000); },
      [&] { strategy_done_before(bus, quote(bus, "199.9", "200.1", 3'000) + 1); }};
  for (int i = 0; i < 3; ++i) {
    if (i == alive) risk.reset();
    steps[i]();
  }
}

}  // namespace

TEST_CASE("risk-state decides an order in flight at its crash at the order's place, not at the history's end",
          "[risk_rebuild]") {
  core::SystemClock clock;  // ops counters only
  services::MemoryBus a(true);
  services::Runtime rt_a(a, "risk-state", clock, 0);
  play(a, rt_a, 3);  // the uninterrupted run
  REQUIRE(decisions(a) == Decisions{{"o1", {"approved"}}, {"o2", {"approved"}}});

  // The same with risk-state gone after o1: o2 and the move to 200 wait in the log.
  services::MemoryBus b(true);
  services::Runtime rt_b(b, "risk-state", clock, 0);
  play(b, rt_b, 1);
  CHECK(decisions(b) == Decisions{{"o1", {"approved"}}});
  services::Runtime rt_b2(b, "risk-state", clock, 0);
  std::int64_t late = 0;
  {
    services::RiskService risk(rt_b2, band_policy(), nullptr, "EVENTS");
    b.run();
    late = risk.decided_late();
  }
  // o2 against the mid of 100.2 it was sent on (at the end of the history the mid is 200,
  // 49.75% away: it would be denied); o1 not again.
  CHECK(decisions(b) == Decisions{{"o1", {"approved"}}, {"o2", {"approved"}}});
  CHECK(late == 1);
}

TEST_CASE("risk-state restarted after its decisions were recorded decides nothing again, however often",
          "[risk_rebuild]") {
  core::SystemClock clock;
  services::MemoryBus bus(true);
  services::Runtime rt(bus, "risk-state", clock, 0);
  {
    strategy_done_before(bus, 1);
    services::RiskService risk(rt, band_policy(), nullptr, "EVENTS");
    bus.run();
    order(bus, "o1", quote(bus, "99.9", "100.1", 1'000), 1'000);
    order(bus, "o2", quote(bus, "199.9", "200.1", 2'000), 2'000);  // 100.5 against 200: denied
  }
  const Decisions want{{"o1", {"approved"}}, {"o2", {"denied"}}};
  REQUIRE(decisions(bus) == want);
  for (int restart = 0; restart < 3; ++restart) {
    services::Runtime again(bus, "risk-state", clock, 0);
    services::RiskService risk(again, band_policy(), nullptr, "EVENTS");
    bus.run();
    CHECK(risk.decided_late() == 0);
  }
  CHECK(decisions(bus) == want);
}
