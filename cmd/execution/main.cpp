// execution: the paper broker. Fills approved orders against the latest quote.
#include <fmt/format.h>

#include "services/services.hpp"
#include "services/worker_main.hpp"

int main(int argc, char** argv) try {
  services::block_termination_signals();
  const auto s = services::load_settings(
      "execution", "Paper broker: fills orders from trading.orders.approved against the latest quote.", {}, argc,
      argv);
  if (!s) return 0;
  natsio::Library lib;
  natsio::Connection conn({.url = s->get("nats_url"), .name = "execution"});
  core::SystemClock clock;
  services::Runtime rt(conn, "execution", clock, s->get_int("heartbeat_ms"));
  services::ExecutionService svc(rt, matching::BrokerConfig{});
  conn.flush();
  rt.start_heartbeat();
  fmt::print(stderr, "execution: ready ({})\n", s->get("nats_url"));
  services::wait_for_termination();
  return 0;
} catch (const std::exception& e) {
  fmt::print(stderr, "execution: {}\n", e.what());
  return 1;
}
