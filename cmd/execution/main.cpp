// execution: the paper broker. Fills approved orders against the market data,
// consuming the event log in stream order; rebuilds its state from it at start.
#include <memory>

#include <fmt/format.h>

#include "eventstore/event_store.hpp"
#include "services/recorder.hpp"

#include "services/services.hpp"
#include "services/worker_main.hpp"

int main(int argc, char** argv) try {
  services::block_termination_signals();
  const auto s = services::load_settings(
      "execution", "Paper broker: fills orders from trading.orders.approved against the market data.",
      {{"commission_per_unit", "EXECUTION_COMMISSION_PER_UNIT", "0", "quote currency per unit filled"},
       {"commission_bps", "EXECUTION_COMMISSION_BPS", "0", "basis points of each fill's notional"},
       {"commission_min_per_order", "EXECUTION_COMMISSION_MIN_PER_ORDER", "0", "minimum per order"},
       {"stream", "EXECUTION_STREAM", "EVENTS", "JetStream stream of the event log (input and history)"}},
      argc, argv, [](const config::Settings& st) {
        for (const char* k : {"commission_per_unit", "commission_bps", "commission_min_per_order"})
          if (st.get_decimal(k).is_negative()) throw config::ConfigError(fmt::format("{}: must not be negative", k));
      });
  if (!s) return 0;
  natsio::Library lib;
  natsio::Connection conn({.url = s->get("nats_url"), .name = "execution"});
  core::SystemClock clock;
  services::Runtime rt(conn, "execution", clock, s->get_int("heartbeat_ms"));
  const matching::BrokerConfig broker{.commission_per_unit = s->get_decimal("commission_per_unit"),
                                      .commission_bps = s->get_decimal("commission_bps"),
                                      .commission_min_per_order = s->get_decimal("commission_min_per_order")};
  // History for the rebuild: the event store if configured and reachable, else the stream alone.
  std::unique_ptr<eventstore::PgStore> store;
  if (!s->get("database_url").empty()) {
    try {
      store = std::make_unique<eventstore::PgStore>(s->get("database_url"));
    } catch (const eventstore::StoreUnavailable& e) {
      fmt::print(stderr, "execution: event store unavailable, rebuilding from the stream alone: {}\n", e.what());
    }
  }
  services::ensure_event_stream(conn, s->get("stream"));
  services::ExecutionService svc(rt, broker, store.get(), s->get("stream"));
  const auto& h = svc.history();
  fmt::print(stderr, "execution: rebuilt from {} events ({} from the store, {} from the stream{}{}); {} reports republished\n",
             h.from_store + h.from_stream, h.from_store, h.from_stream, h.store_problem.empty() ? "" : "; store: ",
             h.store_problem, svc.republished());
  conn.flush();
  rt.start_heartbeat();
  fmt::print(stderr, "execution: ready ({}, stream {} from sequence {})\n", s->get("nats_url"), s->get("stream"),
             h.last_seq + 1);
  services::wait_for_termination();
  return 0;
} catch (const std::exception& e) {
  fmt::print(stderr, "execution: {}\n", e.what());
  return 1;
}
