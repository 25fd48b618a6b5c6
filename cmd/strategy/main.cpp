// strategy: example moving-average crossover that sends order.submit on trading.orders.
#include <fmt/format.h>

#include "workers/recorder.hpp"
#include "workers/strategy.hpp"
#include "workers/manifest.hpp"
#include "workers/worker_main.hpp"

namespace {
strategy::MaCrossConfig strategy_from(const config::Settings& s) {
  strategy::MaCrossConfig c;
  const auto fast = s.get_int("fast");
  const auto slow = s.get_int("slow");
  if (fast < 1 || slow <= fast) throw config::ConfigError("fast/slow: need 1 <= fast < slow");
  c.fast = static_cast<std::size_t>(fast);
  c.slow = static_cast<std::size_t>(slow);
  c.quantity = s.get_decimal("quantity");
  if (!c.quantity.is_positive()) throw config::ConfigError("quantity: must be positive");
  c.strategy_id = s.get("strategy_id");
  return c;
}
}  // namespace

int main(int argc, char** argv) try {
  services::block_termination_signals();
  const auto s = services::load_settings(
      "strategy", "Example strategy: simple moving-average crossover on quote mids (documented in docs/).",
      {{"fast", "STRATEGY_FAST", "20", "fast SMA length (events)"},
       {"slow", "STRATEGY_SLOW", "100", "slow SMA length (events)"},
       {"quantity", "STRATEGY_QUANTITY", "1000", "target position size"},
       {"strategy_id", "STRATEGY_ID", "ma_cross", "strategy_id on its orders; prefix of client_order_id"},
       {"stream", "STRATEGY_STREAM", "EVENTS", "JetStream stream of the event log (its state at start)"}},
      argc, argv, [](const config::Settings& st) { strategy_from(st); });
  if (!s) return 0;
  natsio::Library lib;
  natsio::Connection conn(services::worker_nats(*s, "strategy"));
  core::SystemClock clock;
  services::Runtime rt(conn, "strategy", clock, s->get_int("heartbeat_ms"));
  const auto store = services::open_history_store(*s, "strategy");
  services::wait_for_event_stream(conn, s->get("stream"));
  const services::Announcement announcement(rt, *s);
  services::StrategyService svc(rt, strategy_from(*s), store.get(), s->get("stream"));
  const auto& h = svc.history();
  fmt::print(stderr,
             "strategy: rebuilt from {} events ({} from the store, {} from the stream{}{}); {} orders not final, "
             "{} published now (the log did not hold them)\n",
             h.from_store + h.from_stream, h.from_store, h.from_stream, h.store_problem.empty() ? "" : "; store: ",
             h.store_problem, svc.live_orders(), svc.republished());
  conn.flush();
  rt.start_heartbeat();
  fmt::print(stderr, "strategy: ready ({})\n", services::redact_secrets(s->get("nats_url")));
  services::wait_for_termination();
  return 0;
} catch (const std::exception& e) {
  fmt::print(stderr, "strategy: {}\n", e.what());
  return 1;
}
