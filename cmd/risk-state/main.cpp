// risk-state: pre-trade checks and the trading state (active | reducing | halted).
#include <fmt/format.h>

#include "services/services.hpp"
#include "services/worker_main.hpp"

namespace {
risk::Limits limits_from(const config::Settings& s) {
  risk::Limits lim;
  lim.max_order_qty = s.get_decimal("max_order_qty");
  lim.max_order_notional = s.get_decimal("max_order_notional");
  if (!lim.max_order_qty.is_positive()) throw config::ConfigError("max_order_qty: must be positive");
  if (!lim.max_order_notional.is_positive()) throw config::ConfigError("max_order_notional: must be positive");
  return lim;
}
}  // namespace

int main(int argc, char** argv) try {
  services::block_termination_signals();
  const auto s = services::load_settings(
      "risk-state", "Checks every order on trading.orders before it reaches the broker.",
      {{"max_order_qty", "RISK_MAX_ORDER_QTY", "1000000", "largest quantity of one order"},
       {"max_order_notional", "RISK_MAX_ORDER_NOTIONAL", "10000000", "largest quantity x price of one order"}},
      argc, argv, [](const config::Settings& st) { limits_from(st); });
  if (!s) return 0;
  natsio::Library lib;
  natsio::Connection conn({.url = s->get("nats_url"), .name = "risk-state"});
  core::SystemClock clock;
  services::Runtime rt(conn, "risk-state", clock, s->get_int("heartbeat_ms"));
  services::RiskService svc(rt, limits_from(*s));
  conn.flush();
  svc.announce();
  rt.start_heartbeat();
  fmt::print(stderr, "risk-state: ready ({})\n", s->get("nats_url"));
  services::wait_for_termination();
  return 0;
} catch (const std::exception& e) {
  fmt::print(stderr, "risk-state: {}\n", e.what());
  return 1;
}
