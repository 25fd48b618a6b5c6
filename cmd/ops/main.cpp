// ops: the operational API. Answers `nats req ops.status ''` from worker heartbeats,
// and opens and closes the live session (session.lifecycle) that the recorder
// files every event under. With an HTTP port it also serves the Ops API and the
// dashboard, whose model it rebuilds from the event log.
#include <random>

#include <fmt/format.h>

#include "codec/codec.hpp"
#include "workers/manifest.hpp"
#include "workers/recorder.hpp"
#include "workers/dashboard.hpp"
#include "workers/instruments_file.hpp"
#include "workers/ops.hpp"
#include "workers/ops_http.hpp"
#include "workers/version.hpp"
#include "workers/worker_main.hpp"
#include "subjects/subjects.hpp"

namespace {

/// "live-20261121T093015Z-1a2b" (the kind first): the UTC start time, then 16 random bits so that
/// two stacks started in the same second differ. An id is metadata, never domain
/// data, so the wall clock and an unseeded generator are fine here.
std::string new_session_id(std::string_view kind, core::TimestampNs now) {
  const auto secs = static_cast<std::time_t>(now / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  std::random_device rd;
  return fmt::format("{}-{:04}{:02}{:02}T{:02}{:02}{:02}Z-{:04x}", kind, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, rd() & 0xffff);
}

}  // namespace

int main(int argc, char** argv) {
  std::shared_ptr<obs::Logger> log;  // once the settings are read: every later failure is logged through it
  try {
    services::block_termination_signals();
    const auto s = services::load_settings(
        "ops", "Operational API: ops.status from every worker's heartbeat; opens and ends the live session.",
        {{"session", "TRADER_SESSION", "",
          "id of the session to open (\"\" = a new one, <kind>-<UTC time>-<4 hex>); a restarted ops with the same "
          "id continues that session"},
         {"session_kind", "OPS_SESSION_KIND", "live", "live | replay | backtest (replay and backtest sandboxes set it)"},
         {"session_source", "OPS_SESSION_SOURCE", "", "the session a replay or backtest is made from"},
         {"session_data", "OPS_SESSION_DATA", "", "where the session's market data comes from (a file), if known"},
         {"session_input_set", "OPS_SESSION_INPUT_SET", "",
          "the input set (research store) holding the session's inputs once (traderctl's sandboxes set it)"},
         {"stream", "OPS_STREAM", "EVENTS", "JetStream stream that records the session"},
         {"instance_expire_ms", "OPS_INSTANCE_EXPIRE_MS", "60000",
          "how long ops.status keeps listing an instance that stopped or was replaced by a newer one (a worker "
          "with no instance alive stays listed as down)"}},
        argc, argv, [](const config::Settings& st) {
          if (!st.get("session").empty() && !subjects::is_valid_session_id(st.get("session")))
            throw config::ConfigError("session: 1-128 characters from A-Z a-z 0-9 _ . : -");
          const auto& kind = st.get("session_kind");
          if (kind != "live" && kind != "replay" && kind != "backtest")
            throw config::ConfigError("session_kind: must be live, replay or backtest, got " + kind);
          if (st.get_int("instance_expire_ms") < 0) throw config::ConfigError("instance_expire_ms: must be >= 0");
          if (!st.get("session_source").empty() && !subjects::is_valid_session_id(st.get("session_source")))
            throw config::ConfigError("session_source: 1-128 characters from A-Z a-z 0-9 _ . : -");
          if (!st.get("session_input_set").empty() && !subjects::is_valid_session_id(st.get("session_input_set")))
            throw config::ConfigError("session_input_set: 1-128 characters from A-Z a-z 0-9 _ . : -");
        });
    if (!s) return 0;
    log = services::worker_log(*s, "ops");
    natsio::Library lib;
    natsio::Connection conn(services::worker_nats(*s, "ops", true, log));
    core::SystemClock clock;
    services::Runtime rt(conn, "ops", clock, s->get_int("heartbeat_ms"), s->get("stream"));
    services::OpsHttpApi api(s->get("nats_url"), s->get("database_url"));  // the Ops API over HTTP, beside health and metrics
    services::Dashboard dashboard(api, services::valuation_from(*s, services::instruments_from(*s)));                                     // and the dashboard
    auto routes = api.routes();
    for (auto& r : dashboard.routes()) routes.push_back(std::move(r));
    const auto http = services::serve_http(rt, *s, std::move(routes), {.threads = services::Dashboard::kServerThreads});
    services::wait_for_event_stream(conn, s->get("stream"));  // so the session's start is recorded
    services::OpsService svc(rt, s->get_int("heartbeat_ms"), s->get_int("instance_expire_ms"));
    const services::OpsNatsQueries queries(rt, api);  // the Ops API's store queries over NATS too
    // The dashboard's model, rebuilt from the event log (store, then stream) and followed
    // live; only with an HTTP port (a sandbox's ops serves none, and follows no log).
    const auto store = http ? services::open_history_store(*s, *log) : nullptr;
    const auto feed = http ? std::make_unique<services::DashboardFeed>(dashboard, rt, store.get(), s->get("stream"),
                                                                        [&svc] { return svc.status(); })
                           : nullptr;
    const services::Announcement announcement(rt, *s);

    core::SessionStarted started{.session_id = s->get("session").empty() ? new_session_id(s->get("session_kind"), clock.now()) : s->get("session"),
                                 .kind = s->get("session_kind"),
                                 .source_session_id = s->get("session_source"),
                                 .data_source = s->get("session_data"),
                                 .started_by = "ops",
                                 .version = std::string(services::version()),
                                 .ts_wall = clock.now(),
                                 .reason = "ops started",
                                 .input_set = s->get("session_input_set")};
    log->set_session(started.session_id);
    rt.publish(subjects::kSessionLifecycle, codec::encode(started));
    conn.flush();
    rt.start_heartbeat();
    log->info(fmt::format("ready ({}, session {})", services::redact_secrets(s->get("nats_url")), started.session_id));
    const int sig = services::wait_for_termination();
    const core::SessionEnded ended{.session_id = started.session_id,
                                   .ts_wall = clock.now(),
                                   .reason = fmt::format("ops stopped (signal {})", sig)};
    rt.publish(subjects::kSessionLifecycle, codec::encode(ended));
    conn.flush();
    log->info(fmt::format("session {} ended", started.session_id));
    return 0;
  } catch (const std::exception& e) {
    return services::log_failure("ops", e, log);
  }
}
