// ops: the operational API. Answers `nats req ops.status ''` from worker heartbeats.
#include <fmt/format.h>

#include "services/services.hpp"
#include "services/worker_main.hpp"

int main(int argc, char** argv) try {
  services::block_termination_signals();
  const auto s = services::load_settings("ops", "Operational API: ops.status from every worker's heartbeat.", {},
                                         argc, argv);
  if (!s) return 0;
  natsio::Library lib;
  natsio::Connection conn({.url = s->get("nats_url"), .name = "ops"});
  core::SystemClock clock;
  services::Runtime rt(conn, "ops", clock, s->get_int("heartbeat_ms"));
  services::OpsService svc(rt, s->get_int("heartbeat_ms"));
  conn.flush();
  rt.start_heartbeat();
  fmt::print(stderr, "ops: ready ({})\n", s->get("nats_url"));
  services::wait_for_termination();
  return 0;
} catch (const std::exception& e) {
  fmt::print(stderr, "ops: {}\n", e.what());
  return 1;
}
