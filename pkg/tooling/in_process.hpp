/// @file in_process.hpp
/// @brief The in-process engine: `traderctl backtest FILE --in-process`. The same
/// worker code as the NATS pipeline (workers/risk_state, execution, strategy,
/// reporter, and the feed), on a MemoryBus (workers/memory_bus.hpp) in one thread:
/// no NATS server, no PostgreSQL.
///
/// Why it computes what the pipeline computes: every worker handles the event log in
/// event-time order (docs/architecture.md, "Event time"), so what it publishes depends
/// on the causes in the log, not on when messages arrived. The engine is one more
/// arrival order: the feed publishes the file's records in file order, and after every
/// `batch` records the bus delivers everything queued (records, then what the workers
/// publish in reply, progress markers included) until nothing is left, as the NATS
/// pipeline does with a burst. tests/integration/determinism_test.cpp records both runs of
/// the same files and `traderctl diff` finds nothing; tests/tooling/in_process_test.cpp
/// finds the batch size changes nothing; tests/bench/backtest_bench requires the same report.
/// As in the sandbox, the session (if any) opens first, each worker records its manifest,
/// then the workers start one by one on what the log holds so far as their history.
///
/// Thread-safety: run_in_process runs on the calling thread and is reentrant (each call
/// has its own bus and workers), so sweeps may run several at once on several threads.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "core/messages.hpp"
#include "matching/paper_broker.hpp"
#include "portfolio/fx.hpp"
#include "core/risk_policy.hpp"
#include "marketdata/derive.hpp"
#include "marketdata/quality.hpp"
#include "strategy/registry.hpp"
#include "strategy/strategy.hpp"
#include "workers/feed.hpp"

namespace services {

struct InProcessConfig {
  std::string data_path;                 ///< the data file (any format of marketdata::Reader)
  std::int64_t limit = 0;                ///< at most this many records (0 = all)
  std::string actions_path;              ///< corporate actions for the feed (FeedConfig::actions_path; "" = none)
  core::RiskPolicy policy;               ///< risk-state's (risk_policy_from)
  matching::BrokerConfig broker;         ///< execution's (broker_config_from)
  /// The account's base currency, symbols' quote currencies and multipliers, configured
  /// rates (services::valuation_from): risk-state's notional limits and the reporter's
  /// totals are in its base currency. Default: one unnamed currency.
  portfolio::Valuation valuation;
  /// The strategies the strategy worker runs (strategy_choices_from; defaults are filled
  /// in by `registry`), each with its own strategy_id. Default: ma_cross with its defaults.
  std::vector<strategy::Choice> strategies = {{.name = "ma_cross", .strategy_id = "ma_cross", .params = {}}};
  /// Where the strategies' names are looked up (add your own to it: registry.hpp).
  strategy::Registry registry = strategy::builtin_registry();
  marketdata::quality::Policy quality;   ///< the feed's data-quality policy (quality_policy_from)
  /// True: symbols of the data that broker.instruments (when not empty) does not define get
  /// an instrument derived from the data (tooling/derived_instruments.hpp), as the pipeline
  /// backtest does; false: they are rejected "unknown symbol", as in live trading.
  bool derive_instruments = true;
  core::DurationNs metrics_interval_ns = 60 * core::kNsPerSecond;  ///< reporter's (metrics_interval_from)
  /// Records published before the bus delivers (>= 1). Any value gives the same
  /// results (the event-time order); larger batches mean fewer progress markers.
  std::int64_t batch = 1024;
  /// Each worker's settings (by worker name: risk-state, execution, strategy, reporter,
  /// feed), as in_process_config_from_environment read them. With a session, every worker
  /// named here records its manifest in it (worker.started: settings, config_hash, version;
  /// the feed's with the data file's SHA-256), as the pipeline's workers do.
  std::map<std::string, config::Settings> settings;
  /// Set: the run is a session. The engine publishes it on session.lifecycle first (as
  /// ops does in the pipeline) and a session.ended last, so a recorder (on_logged) files
  /// every event of the run under it.
  std::optional<core::SessionStarted> session;
  /// Sees every event of the log as it is appended: sequence from 1, subject, JSON
  /// (e.g. to record the session: tooling/ctl.cpp --record). Unset: nothing is kept.
  std::function<void(std::uint64_t seq, std::string_view subject, std::string_view data)> on_logged;
};

struct InProcessResult {
  FeedSummary feed;                 ///< what the feed read and published (seconds: the whole run)
  core::PerformanceReport report;   ///< the reporter's final report
  std::uint64_t log_events = 0;     ///< events in the log: inputs, derived events, progress markers
  std::vector<marketdata::DerivedInstrument> derived;  ///< instruments derived from the data, by symbol
};

/// The settings each worker of the pipeline would read (environment variables and
/// TRADER_CONFIG, as a sandbox worker inherits them; no command-line flags), for
/// `data_path`. Throws config::ConfigError naming a bad setting.
InProcessConfig in_process_config_from_environment(std::string data_path, std::int64_t limit);

/// The valuation the workers would use (the reporter's settings: instruments,
/// base_currency, fx_rates; services::valuation_from), for `traderctl report`.
/// Throws config::ConfigError naming a bad setting.
portfolio::Valuation valuation_from_environment();

/// Runs the backtest. Throws std::runtime_error if the file cannot be read or is of no
/// known format, std::invalid_argument for batch < 1 or a bad strategy choice (before
/// anything runs); a message a worker cannot handle
/// is dead-lettered and quarantined as in the pipeline (the run goes on).
InProcessResult run_in_process(const InProcessConfig& cfg);

}  // namespace services
