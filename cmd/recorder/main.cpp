// recorder: JetStream stream EVENTS -> PostgreSQL event store, ack after commit.
#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include <fmt/format.h>

#include "eventstore/event_store.hpp"
#include "services/recorder.hpp"
#include "services/manifest.hpp"
#include "services/worker_main.hpp"

int main(int argc, char** argv) try {
  services::block_termination_signals();
  const auto s = services::load_settings(
      "recorder", "Records every message on the trading subjects into the PostgreSQL event store.",
      {{"batch", "RECORDER_BATCH", "500", "messages per fetch and per transaction"},
       {"stream", "RECORDER_STREAM", "EVENTS", "JetStream stream name"},
       {"durable", "RECORDER_DURABLE", "recorder", "durable consumer name"}},
      argc, argv, [](const config::Settings& st) {
        if (st.get("database_url").empty()) throw config::ConfigError("database_url: required (DATABASE_URL)");
        if (st.get_int("batch") < 1) throw config::ConfigError("batch: must be >= 1");
      });
  if (!s) return 0;
  services::RecorderConfig cfg;
  cfg.batch = static_cast<int>(s->get_int("batch"));
  cfg.stream = s->get("stream");
  cfg.durable = s->get("durable");
  natsio::Library lib;
  natsio::Connection conn({.url = s->get("nats_url"), .name = "recorder"});
  services::ensure_event_stream(conn, cfg.stream);
  core::SystemClock clock;
  services::Runtime rt(conn, "recorder", clock, s->get_int("heartbeat_ms"));
  const services::Announcement announcement(rt, *s);
  rt.start_heartbeat();
  std::atomic<bool> stop{false};
  std::thread signals([&] {
    services::wait_for_termination();
    stop = true;
  });
  // Start even while PostgreSQL is down: the stream keeps every message, and the
  // store is opened (migrations applied) as soon as it answers.
  std::unique_ptr<eventstore::PgStore> store;
  for (bool said = false; !store && !stop;) {
    try {
      store = std::make_unique<eventstore::PgStore>(s->get("database_url"));
    } catch (const eventstore::StoreUnavailable& e) {
      rt.set_status(fmt::format("degraded: event store unavailable: {}", e.what()));
      if (!said) fmt::print(stderr, "recorder: event store unavailable, retrying: {}\n", e.what());
      said = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(cfg.retry_ms));
    }
  }
  if (!store) {  // stopped before the store ever answered: nothing fetched, nothing lost
    signals.join();
    return 0;
  }
  rt.set_status("ok");
  fmt::print(stderr, "recorder: ready ({} -> event store)\n", cfg.stream);
  int rc = 0;
  try {
    const auto stored = services::run_recorder(rt, *store, cfg, stop);
    fmt::print(stderr, "recorder: stored {} events\n", stored);
  } catch (const std::exception& e) {
    fmt::print(stderr, "recorder: {}\n", e.what());
    rc = 1;
  }
  if (!stop) services::request_termination();
  signals.join();
  return rc;
} catch (const std::exception& e) {
  fmt::print(stderr, "recorder: {}\n", e.what());
  return 1;
}
