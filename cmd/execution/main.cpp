// execution: the paper broker. Fills approved orders against the latest quote.
#include <fmt/format.h>

#include "services/services.hpp"
#include "services/worker_main.hpp"

int main(int argc, char** argv) try {
  services::block_termination_signals();
  const auto s = services::load_settings(
      "execution", "Paper broker: fills orders from trading.orders.approved against the market data.",
      {{"commission_per_unit", "EXECUTION_COMMISSION_PER_UNIT", "0", "quote currency per unit filled"},
       {"commission_bps", "EXECUTION_COMMISSION_BPS", "0", "basis points of each fill's notional"},
       {"commission_min_per_order", "EXECUTION_COMMISSION_MIN_PER_ORDER", "0", "minimum per order"}},
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
  services::ExecutionService svc(rt, broker);
  conn.flush();
  rt.start_heartbeat();
  fmt::print(stderr, "execution: ready ({})\n", s->get("nats_url"));
  services::wait_for_termination();
  return 0;
} catch (const std::exception& e) {
  fmt::print(stderr, "execution: {}\n", e.what());
  return 1;
}
