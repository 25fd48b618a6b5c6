// recorder: JetStream stream EVENTS -> PostgreSQL event store, ack after commit.
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "eventstore/checkpoint.hpp"
#include "eventstore/event_store.hpp"
#include "workers/lease.hpp"
#include "workers/recorder.hpp"
#include "workers/manifest.hpp"
#include "workers/worker_main.hpp"

int main(int argc, char** argv) {
  std::shared_ptr<obs::Logger> log;  // once the settings are read: every later failure is logged through it
  try {
    services::block_termination_signals();
    std::vector<config::Option> options{
        {"batch", "RECORDER_BATCH", "500", "messages per fetch and per transaction"},
        {"stream", "RECORDER_STREAM", "EVENTS", "JetStream stream name"},
        {"durable", "RECORDER_DURABLE", "recorder", "durable consumer name"},
        {"checkpoint_key", "RECORDER_CHECKPOINT_KEY", "",
         "Ed25519 private key (PEM, mode 0600) signing checkpoints of the store's head; empty = no checkpoints"},
        {"checkpoint_file", "RECORDER_CHECKPOINT_FILE", "", "file the signed checkpoints are appended to (JSON lines)"},
        {"checkpoint_every", "RECORDER_CHECKPOINT_EVERY", "10000", "a checkpoint at most every N events stored..."},
        {"checkpoint_interval_ms", "RECORDER_CHECKPOINT_INTERVAL_MS", "10000", "...or every T ms, and at shutdown"},
        {"input_digests", "RECORDER_INPUT_DIGESTS", "",
         "traderctl's sandboxes: digests of the inputs an input set holds, not stored again (\"\" = store all)"},
        {"input_state", "RECORDER_INPUT_STATE", "", "with input_digests: where the count of inputs survives a restart"}};
    for (auto& o : services::lease_options()) options.push_back(std::move(o));  // one writer: standby, lease_ttl_ms
    const auto s = services::load_settings(
        "recorder", "Records every message on the trading subjects into the PostgreSQL event store.", std::move(options),
        argc, argv, [](const config::Settings& st) {
          if (st.get("database_url").empty()) throw config::ConfigError("database_url: required (DATABASE_URL)");
          if (st.get_int("batch") < 1) throw config::ConfigError("batch: must be >= 1");
          if (!st.get("checkpoint_key").empty() && st.get("checkpoint_file").empty())
            throw config::ConfigError("checkpoint_file: required with checkpoint_key (RECORDER_CHECKPOINT_FILE)");
          if (st.get_int("checkpoint_every") < 1 || st.get_int("checkpoint_interval_ms") < 1)
            throw config::ConfigError("checkpoint_every, checkpoint_interval_ms: must be >= 1");
          if (!st.get("input_digests").empty() && st.get("input_state").empty())
            throw config::ConfigError("input_state: required with input_digests (RECORDER_INPUT_STATE)");
          (void)services::standby_mode_from(st);
        });
    if (!s) return 0;
    log = services::worker_log(*s, "recorder");
    services::RecorderConfig cfg;
    cfg.batch = static_cast<int>(s->get_int("batch"));
    cfg.stream = s->get("stream");
    cfg.durable = s->get("durable");
    cfg.input_digests = s->get("input_digests");
    cfg.input_state = s->get("input_state");
    std::optional<eventstore::CheckpointSigner> signer;  // loaded first: a bad key stops us before anything runs
    if (!s->get("checkpoint_key").empty()) signer.emplace(s->get("checkpoint_key"));
    natsio::Library lib;
    natsio::Connection conn(services::worker_nats(*s, "recorder", true, log));
    services::wait_for_event_stream(conn, cfg.stream);
    core::SystemClock clock;
    services::Runtime rt(conn, "recorder", clock, s->get_int("heartbeat_ms"), s->get("stream"));
    const auto http = services::serve_http(rt, *s);
    // One writer per role: a second recorder waits as a standby (or refuses) before it
    // touches the store or the durable consumer; a lost lease ends the process at once.
    const auto lease = services::take_lease(rt, conn, "recorder", services::standby_mode_from(*s),
                                             s->get_int("lease_ttl_ms"));
    if (!lease) return 0;  // SIGTERM while a standby
    const services::Announcement announcement(rt, *s);
    rt.start_heartbeat();
    std::atomic<bool> stop{false};
    std::thread signals([&] {
      services::wait_for_termination();
      stop = true;
    });
    // Start even while PostgreSQL is down: the stream keeps every message, and the
    // store is opened as soon as it answers. A refused login or a schema that needs
    // `traderctl migrate` is no outage: PgStore throws std::runtime_error, we exit 1.
    std::unique_ptr<eventstore::PgStore> store;
    for (bool said = false; !store && !stop;) {
      try {
        store = std::make_unique<eventstore::PgStore>(s->get("database_url"));
      } catch (const eventstore::StoreUnavailable& e) {
        rt.set_status(fmt::format("degraded: event store unavailable: {}", e.what()));
        if (!said) log->warn(fmt::format("event store unavailable, retrying: {}", e.what()));
        said = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(cfg.retry_ms));
      } catch (const std::exception& e) {  // e.g. the schema needs `traderctl migrate`: say so and exit 1
        log->error(e.what());
        services::request_termination();
        signals.join();
        return 1;
      }
    }
    if (!store) {  // stopped before the store ever answered: nothing fetched, nothing lost
      signals.join();
      return 0;
    }
    rt.set_status("ok");
    std::optional<services::RecorderCheckpoints> checkpoints;
    if (signer) {
      checkpoints.emplace([&store] { return store->head(); }, std::move(*signer), s->get("checkpoint_file"),
                          s->get_int("checkpoint_every"), s->get_int("checkpoint_interval_ms"), clock);
      log->info(fmt::format("signing checkpoints with key {} into {}", checkpoints->key_id(), s->get("checkpoint_file")));
    } else {
      log->warn("no checkpoint key (RECORDER_CHECKPOINT_KEY): no signed checkpoints, so traderctl verify cannot "
                "detect a truncated or re-chained log");
    }
    log->info(fmt::format("ready ({} -> event store)", cfg.stream));
    int rc = 0;
    try {
      const auto stored = services::run_recorder(rt, *store, cfg, stop, checkpoints ? &*checkpoints : nullptr);
      log->info(fmt::format("stored {} events", stored));
    } catch (const std::exception& e) {
      log->error(e.what());
      rc = 1;
    }
    if (!stop) services::request_termination();
    signals.join();
    return rc;
  } catch (const std::exception& e) {
    return services::log_failure("recorder", e, log);
  }
}
