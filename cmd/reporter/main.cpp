// reporter: positions and P&L marked to market; performance.metrics and reports.performance.
#include <fmt/format.h>

#include "workers/recorder.hpp"
#include "workers/reporter.hpp"
#include "workers/manifest.hpp"
#include "workers/worker_main.hpp"

int main(int argc, char** argv) try {
  services::block_termination_signals();
  const auto s = services::load_settings(
      "reporter", "Positions and P&L: performance.metrics during the run, reports.performance at the end.",
      {{"metrics_interval_s", "REPORTER_METRICS_INTERVAL_S", "60",
        "publish performance.metrics every this many seconds of EVENT time (0 = never)"},
       {"stream", "REPORTER_STREAM", "EVENTS", "JetStream stream of the event log (its state at start)"}},
      argc, argv);
  if (!s) return 0;
  natsio::Library lib;
  natsio::Connection conn(services::worker_nats(*s, "reporter"));
  core::SystemClock clock;
  services::Runtime rt(conn, "reporter", clock, s->get_int("heartbeat_ms"));
  const auto store = services::open_history_store(*s, "reporter");
  services::wait_for_event_stream(conn, s->get("stream"));
  const services::Announcement announcement(rt, *s);
  services::ReporterService svc(rt, s->get_int("metrics_interval_s") * core::kNsPerSecond, store.get(),
                                s->get("stream"));
  const auto& h = svc.history();
  fmt::print(stderr, "reporter: rebuilt from {} events ({} from the store, {} from the stream{}{})\n",
             h.from_store + h.from_stream, h.from_store, h.from_stream, h.store_problem.empty() ? "" : "; store: ",
             h.store_problem);
  conn.flush();
  rt.start_heartbeat();
  fmt::print(stderr, "reporter: ready ({})\n", services::redact_secrets(s->get("nats_url")));
  services::wait_for_termination();
  svc.publish_final();  // the final report goes out when the reporter stops
  return 0;
} catch (const std::exception& e) {
  fmt::print(stderr, "reporter: {}\n", e.what());
  return 1;
}
