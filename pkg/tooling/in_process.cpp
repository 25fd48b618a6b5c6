#include "tooling/in_process.hpp"

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <utility>

#include "codec/codec.hpp"
#include "subjects/subjects.hpp"
#include "tooling/derived_instruments.hpp"
#include "workers/execution.hpp"
#include "workers/instruments_file.hpp"
#include "workers/manifest.hpp"
#include "workers/memory_bus.hpp"
#include "workers/reporter.hpp"
#include "workers/risk_state.hpp"
#include "workers/runtime.hpp"
#include "workers/strategy.hpp"
#include "workers/worker_main.hpp"

namespace services {

namespace {
/// The settings of worker `program`, as its main reads them without flags.
config::Settings settings_of(const std::string& program, std::vector<config::Option> options) {
  std::string arg0 = program;
  char* argv[] = {arg0.data(), nullptr};
  auto s = load_settings(program, "in-process", std::move(options), 1, argv);
  if (!s) throw config::ConfigError(program + ": settings asked to exit (--help or --check-config in TRADER_CONFIG?)");
  return std::move(*s);
}
}  // namespace

InProcessConfig in_process_config_from_environment(std::string data_path, std::int64_t limit) {
  InProcessConfig c;
  c.data_path = std::move(data_path);
  c.limit = limit;
  const auto& risk = c.settings.emplace("risk-state", settings_of("risk-state", risk_state_options())).first->second;
  const auto& exec = c.settings.emplace("execution", settings_of("execution", execution_options())).first->second;
  const auto& strat = c.settings.emplace("strategy", settings_of("strategy", strategy_options())).first->second;
  const auto& rep = c.settings.emplace("reporter", settings_of("reporter", reporter_options())).first->second;
  const auto& feed = c.settings.emplace("feed", settings_of("feed", feed_options())).first->second;
  c.policy = risk_policy_from(risk);
  c.broker = broker_config_from(exec);
  c.strategies = strategy_choices_from(strat, c.registry);
  c.metrics_interval_ns = metrics_interval_from(rep);
  c.valuation = valuation_from(rep, c.broker.instruments);
  c.quality = quality_policy_from(feed);
  return c;
}

portfolio::Valuation valuation_from_environment() {
  const auto rep = settings_of("reporter", reporter_options());
  return valuation_from(rep, instruments_from(rep));
}

InProcessResult run_in_process(const InProcessConfig& cfg) {
  if (cfg.batch < 1) throw std::invalid_argument("batch: must be >= 1");
  (void)cfg.registry.check(cfg.strategies);  // a bad choice fails here, before anything runs
  const auto t0 = std::chrono::steady_clock::now();
  MemoryBus bus(true, cfg.on_logged);  // kept until the workers have read their history
  core::SystemClock clock;  // ops data only (Runtime counters); domain time comes from the events
  const std::string stream = "EVENTS";  // one log: the name is not used
  // In the sandbox's start order (tooling/sandbox.hpp), each on its own Runtime; heartbeats
  // are not started (nobody watches, and the bus is single-threaded).
  Runtime risk_rt(bus, "risk-state", clock, 0), exec_rt(bus, "execution", clock, 0), rep_rt(bus, "reporter", clock, 0),
      strat_rt(bus, "strategy", clock, 0), feed_rt(bus, "feed", clock, 0);
  InProcessResult res;
  auto broker = cfg.broker;
  if (cfg.derive_instruments) res.derived = add_derived_instruments(broker.instruments, cfg.data_path, cfg.limit, cfg.quality);
  // The session opens first (ops does it in the pipeline, before the workers start), then
  // each worker announces itself in it (its manifest, once).
  std::vector<std::unique_ptr<Announcement>> announced;
  if (cfg.session) {
    feed_rt.publish(subjects::kSessionLifecycle, codec::encode(*cfg.session));
    bus.run();
    for (auto* rt : {&risk_rt, &exec_rt, &rep_rt, &strat_rt, &feed_rt})
      if (const auto it = cfg.settings.find(rt->worker()); it != cfg.settings.end())
        announced.push_back(
            std::make_unique<Announcement>(*rt, it->second, rt == &feed_rt ? cfg.data_path : std::string()));
    bus.run();
  }
  {
    // As in the sandbox: each starts on what the log holds so far (the session's start,
    // the manifests, what the workers before it announced) as its history.
    RiskService risk(risk_rt, cfg.policy, nullptr, stream, cfg.valuation);
    bus.run();
    ExecutionService exec(exec_rt, broker, nullptr, stream);
    bus.run();
    ReporterService reporter(rep_rt, cfg.metrics_interval_ns, nullptr, stream, cfg.valuation);
    bus.run();
    StrategyService strat(strat_rt, cfg.strategies, cfg.registry, nullptr, stream);
    bus.run();
    bus.stop_keeping_log();  // from here memory holds one batch and what it sets off

    std::int64_t in_batch = 0;
    const std::atomic<bool> stop{false};
    FeedConfig feed{.path = cfg.data_path, .speed = 0, .limit = cfg.limit, .quality = cfg.quality, .after_each = [&] {
                      if (++in_batch < cfg.batch) return;
                      in_batch = 0;
                      bus.run();
                    }, .actions_path = cfg.actions_path};
    res.feed = run_feed(feed_rt, feed, stop);
    bus.run();  // the last batch, and everything it sets off
    res.report = reporter.publish_final();
    bus.run();
  }  // the workers stop (their last progress markers), as at the end of a pipeline run
  if (cfg.session) {
    feed_rt.publish(subjects::kSessionLifecycle,
                    codec::encode(core::SessionEnded{.session_id = cfg.session->session_id,
                                                     .ts_wall = clock.now(),
                                                     .reason = "in-process backtest done"}));
  }
  bus.run();
  res.log_events = bus.log_end(stream);
  res.feed.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

}  // namespace services
