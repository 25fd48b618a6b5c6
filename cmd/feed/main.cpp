// feed: publishes a recorded market data file on market.data.<symbol>.
#include <atomic>
#include <thread>

#include <fmt/format.h>

#include "workers/feed.hpp"
#include "workers/manifest.hpp"
#include "workers/worker_main.hpp"

int main(int argc, char** argv) {
  std::shared_ptr<obs::Logger> log;  // once the settings are read: every later failure is logged through it
  try {
    services::block_termination_signals();
    std::vector<config::Option> options{{"file", "FEED_FILE", "", "data file (or give it as the argument)"},
                                        {"speed", "FEED_SPEED", "0", "0 = as fast as possible; N = recorded pace x N"},
                                        {"limit", "FEED_LIMIT", "0", "stop after this many messages (0 = all)"},
                                        {"actions", "FEED_ACTIONS", "",
                                         "corporate-actions file (splits, dividends: docs/data-quality.md); \"\" = none"},
                                        {"stream", "FEED_STREAM", "EVENTS",
                                         "JetStream stream that records what it publishes (asked whether it confirms)"}};
    for (auto& o : services::feed_options()) options.push_back(std::move(o));
    const auto s = services::load_settings(
        "feed", "Publishes a recorded data file (quotes, trades, bars; .csv or .csv.gz) on market.data.<symbol>.\n"
                "usage: feed [options] FILE",
        std::move(options), argc, argv, [](const config::Settings& st) {
          if (st.get("file").empty() && st.positional().empty()) throw config::ConfigError("file: a data file is required");
          if (st.get_double("speed") < 0) throw config::ConfigError("speed: must be >= 0");
          st.get_int("limit");
          services::quality_policy_from(st);
        });
    if (!s) return 0;
    services::FeedConfig cfg{.path = s->get("file").empty() ? s->positional().front() : s->get("file"),
                             .speed = s->get_double("speed"),
                             .limit = s->get_int("limit"),
                             .quality = services::quality_policy_from(*s),
                             .actions_path = s->get("actions")};
    log = services::worker_log(*s, "feed");
    natsio::Library lib;
    // Bulk publisher: default (batched) nats.c writes when unpaced give the throughput.
    natsio::Connection conn(services::worker_nats(*s, "feed", cfg.speed > 0, log));
    core::SystemClock clock;
    services::Runtime rt(conn, "feed", clock, s->get_int("heartbeat_ms"), s->get("stream"));
    const auto http = services::serve_http(rt, *s);
    rt.set_exit_status(core::kFinishedStatus);  // a one-shot tool: done is not down
    const services::Announcement announcement(rt, *s, cfg.path);
    rt.start_heartbeat();
    std::atomic<bool> stop{false};
    std::thread signals([&] {
      services::wait_for_termination();
      stop = true;
    });
    services::FeedSummary sum;
    try {
      sum = services::run_feed(rt, cfg, stop);
    } catch (...) {
      services::request_termination();
      signals.join();
      throw;
    }
    services::request_termination();  // wakes the signal thread
    signals.join();
    fmt::print("feed: published {} messages ({} quotes, {} trades, {} bars) from {} [{}] in {:.3f} s ({:.0f} msg/s); "
               "bad rows: {}; data quality: {}\n",
               sum.published, sum.quotes, sum.trades, sum.bars, cfg.path, sum.format, sum.seconds,
               sum.seconds > 0 ? static_cast<double>(sum.published) / sum.seconds : 0.0, sum.bad_rows,
               sum.quality.to_string());
    if (sum.actions > 0) fmt::print("feed: {} corporate actions published from {}\n", sum.actions, cfg.actions_path);
    for (const auto& w : sum.warnings) fmt::print("feed: warning: {}\n", w);
    return 0;
  } catch (const std::exception& e) {
    return services::log_failure("feed", e, log);
  }
}
